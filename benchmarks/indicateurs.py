"""`flask bench indicateurs`: loading the 730 catalogue definitions, then the server time of the
indicateur list and of an indicateur page with its chart, for a collectivité holding 10 years of
values of every typed indicateur (computed ones recomputed), on SQLite (a temporary file) and
PostgreSQL (a temporary database on BENCH_DATABASE_URL's server, dropped afterwards).
Targets: load <= 2 s; list <= 30 ms p50; indicateur page <= 20 ms p50.
"""
import os
import secrets
import time
from pathlib import Path

import click
import flask_migrate
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import insert

from app.auth import token_hash
from app.extensions import db
from app.models import Collectivite, IndicateurValeur, Membership, User, UserSession
from app.persistence import utcnow
from app.services import indicateurs
from benchmarks.content import DEFAULT_POSTGRES_URL, MAX_REQUESTS, WARM_UP, postgres_database, sqlite_database, timings

YEARS = range(2014, 2024)
TARGETS = {"chargement": 2000.0, "liste": 30.0, "page": 20.0}  # ms
PAGE_INDICATEUR = "cae_1.a"  # computed from 7 inputs, with children
PAGE_REFERENCES = "cae_35"  # a cible and a seuil by population


@click.command("indicateurs")
@with_appcontext
@click.option("--requests", "max_requests", default=MAX_REQUESTS, show_default=True, help="Requêtes mesurées par page (au plus).")
def bench_indicateurs_command(max_requests: int) -> None:
    """Chargement des 730 définitions, liste et page d'un indicateur (SQLite et PostgreSQL)."""
    catalogue = Path(current_app.root_path).parent.parent / "shared" / "indicateurs" / "definitions.csv"
    header = f"{'base':<11} {'mesure':<40} {'p50':>9} {'p95':>9} {'CPU':>9} {'n':>4} {'cible':>8}"
    click.echo(header)
    click.echo("-" * len(header))
    for backend, database in (("SQLite", sqlite_database), ("PostgreSQL", postgres_database)):
        with database() as url:
            for key, label, p50, p95, cpu, count in _measure(url, catalogue, max_requests):
                missed = "  MANQUÉE" if p50 > TARGETS[key] else ""
                click.echo(f"{backend:<11} {label:<40} {p50:>6.1f} ms {p95:>6.1f} ms {cpu:>6.1f} ms {count:>4} {TARGETS[key]:>5.0f} ms{missed}")
    click.echo(f"\nCPU : temps CPU moyen du fil par requête (échauffement compris). Charge : {os.getloadavg()[0]:.2f}.")
    click.echo(f"Base PostgreSQL : {os.environ.get('BENCH_DATABASE_URL') or DEFAULT_POSTGRES_URL} (base temporaire).")


def _measure(url: str, catalogue: Path, max_requests: int):
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        flask_migrate.upgrade()
        started, cpu_started = time.perf_counter(), time.thread_time()
        count, problems = indicateurs.load_definitions(catalogue)
        load_ms, load_cpu = (time.perf_counter() - started) * 1000, (time.thread_time() - cpu_started) * 1000
        if count != 730:
            raise click.ClickException(f"{count} définitions chargées : {[str(p) for p in problems if not p.warning][:3]}")
        collectivite_id, token = _world()
        db.session.remove()
        db.engine.dispose()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = token, True
    base = f"/collectivites/{collectivite_id}/indicateurs"
    rows = [("chargement", "chargement des 730 définitions", load_ms, load_ms, load_cpu, 1),
            ("liste", "liste des indicateurs", *_timed(client, base, max_requests)),
            ("page", f"page {PAGE_INDICATEUR} (graphique)", *_timed(client, f"{base}/{PAGE_INDICATEUR}", max_requests)),
            ("page", f"page {PAGE_REFERENCES} (cible et seuil)", *_timed(client, f"{base}/{PAGE_REFERENCES}", max_requests))]
    with app.app_context():
        db.engine.dispose()
    return rows


def _timed(client, path: str, max_requests: int) -> tuple[float, float, float, int]:
    """`timings` and the mean thread CPU time per request (the machine may be busy: wall time
    includes waiting for a core, CPU time does not)."""
    started = time.thread_time()
    p50, p95, count = timings(client, path, max_requests)
    return p50, p95, (time.thread_time() - started) * 1000 / (count + WARM_UP), count


def _world() -> tuple[int, str]:
    """A collectivité, its admin signed in (session token), 10 years of every typed indicateur and
    the computed ones (written as the service would: one recompute per input and year)."""
    now = utcnow()
    user = User(email="bench@exemple.fr", name="Bench", password_hash="-", created_at=now, is_active=True)
    collectivite = Collectivite(kind="commune", code="B0001", nom="Bench-Ville", nom_recherche="bench-ville",
                                population=50_000, departement_code="01", region_code="84", drom=False)
    db.session.add_all([user, collectivite])
    db.session.flush()
    db.session.add(Membership(user_id=user.id, collectivite_id=collectivite.id, role="admin", created_at=now))
    typed = [i for i in indicateurs.all_indicateurs(collectivite.id) if i.editable]
    db.session.execute(insert(IndicateurValeur), [
        {"collectivite_id": collectivite.id, "indicateur_id": i.id, "annee": annee, "resultat": 100.0 + annee % 7,
         "objectif": 90.0, "resultat_commentaire": "", "resultat_source": "", "objectif_commentaire": "",
         "objectif_source": "", "confidentiel": False, "calcul_auto": False}
        for i in typed for annee in YEARS
    ])
    for annee in YEARS:
        indicateurs.recompute_year(collectivite.id, annee)
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=token_hash(token), created_at=now))
    db.session.commit()
    return collectivite.id, token
