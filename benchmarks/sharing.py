"""`flask bench sharing`: server time of the sharing pages on PostgreSQL with the 45,000
collectivités of shared/collectivites imported and 1,000 of them scored.

A throw-away database (BENCH_DATABASE_URL's server) gets the migrations, the demo content and the
directory; the scores are synthetic summaries (ScoreSummary rows, as a re-score writes them, with
seeded random % per axe and per action) rather than real re-scores: the pages read only these.
Requests go through the Flask test client (server time, no network), as a member of a scored
commune for the comparison page. Prints p50 / p95 per page against the targets of issue 11.
"""
import contextvars
import os
import random
import secrets
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import click
from sqlalchemy import insert, select

from app import create_app
from app.auth import token_hash
from app.config import PROJECT_ROOT, normalise_database_url
from app.extensions import db
from app.models import Action, Collectivite, Membership, Referentiel, ScoreSummary, User, UserSession
from app.persistence import utcnow
from app.services.labellisation import etoile_du_score
from benchmarks.support import BenchError, app_env, run_flask, temporary_database

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REFERENTIEL = "cae"
SCORED = 1000
RUNS = 60
# SHARED_DIR: the reference data when the checkout is not beside it (a git worktree elsewhere).
SHARED_DIR = Path(os.environ.get("SHARED_DIR") or PROJECT_ROOT.parent / "shared")
DIRECTORY_QUERIES = (
    "type=commune&region=84&tri=score&page=2",
    "population=20000-50000&realise=35-50&referentiel=cae",
    "actif=1&tri=score",
    "q=saint&departement=69&page=3",
    "type=CC&etoiles=2&tri=population",
    "tri=nom&page=150",
)


@dataclass(frozen=True)
class Measure:
    label: str
    target_ms: float
    timings: list[float]
    cpu: list[float]  # CPU time of the request's thread: without the waits for a free core or the database

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.timings)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def seed_scores(count: int, seed: int = 11) -> int:
    """`count` collectivités spread over the directory get a summary (and a member: they count as
    active); returns the id of a scored commune whose member is the bench's user."""
    rng = random.Random(seed)
    axes = list(db.session.scalars(select(Action.id).where(Action.referentiel_id == REFERENTIEL, Action.depth == 1)))
    level = db.session.scalar(select(Referentiel.action_level).where(Referentiel.id == REFERENTIEL))
    actions = list(db.session.scalars(select(Action.id).where(Action.referentiel_id == REFERENTIEL, Action.depth == level)))
    ids = db.session.scalars(select(Collectivite.id).order_by(Collectivite.id)).all()
    chosen = ids[:: max(1, len(ids) // count)][:count]
    now = utcnow()
    rows = []
    for collectivite_id in chosen:
        realise = round(rng.uniform(0, 90), 1)
        rows.append({"collectivite_id": collectivite_id, "referentiel_id": REFERENTIEL, "realise": realise,
                     "programme": round(rng.uniform(0, 100 - realise), 1), "etoiles": etoile_du_score(REFERENTIEL, realise),
                     "axes": {axe: [round(rng.uniform(0, 100), 1), round(rng.uniform(0, 30), 1)] for axe in axes},
                     "actions": {action: round(rng.uniform(0, 100), 1) for action in actions}, "updated_at": now})
    db.session.execute(insert(ScoreSummary), rows)
    user_id = db.session.execute(insert(User).values(email="bench@exemple.fr", name="Bench", password_hash="-",
                                                     created_at=now, is_active=True).returning(User.id)).scalar_one()
    db.session.execute(insert(Membership), [{"user_id": user_id, "collectivite_id": cid, "role": "admin", "created_at": now}
                                            for cid in chosen])
    db.session.commit()
    return db.session.scalar(select(Collectivite.id).where(Collectivite.id.in_(chosen), Collectivite.kind == "commune",
                                                           Collectivite.population < 20_000).order_by(Collectivite.id))


def _signed_in_client(app):
    client = app.test_client()
    token = secrets.token_urlsafe(32)
    user_id = db.session.scalar(select(User.id).where(User.email == "bench@exemple.fr"))
    db.session.execute(insert(UserSession).values(user_id=user_id, token_hash=token_hash(token), created_at=utcnow()))
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return client


def _time(client, paths: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Elapsed and CPU milliseconds of each request."""
    timings, cpu = [], []
    for run in range(runs):
        path = paths[run % len(paths)]
        cpu_start, start = time.thread_time(), time.perf_counter()
        # A context of its own, as a server request: flask-login's user cached in `g` must not
        # leak from one client's request into another's (the bench holds an app context).
        response = contextvars.Context().run(client.get, path)
        elapsed = (time.perf_counter() - start) * 1000
        cpu.append((time.thread_time() - cpu_start) * 1000)
        if response.status_code != 200:
            raise BenchError(f"{path} : statut {response.status_code}")
        timings.append(elapsed)
    return timings, cpu


def run_sharing_bench(database_server_url: str, runs: int = RUNS, echo=click.echo) -> list[Measure]:
    with temporary_database(database_server_url) as database_url:
        env = app_env(database_url, "", secrets.token_hex(16))
        env.pop("REDIS_URL")
        echo(f"Base temporaire {database_url.rsplit('/', 1)[-1]} : migrations, contenu, annuaire…")
        run_flask(["db", "upgrade"], env)
        run_flask(["content", "load", str(PROJECT_ROOT / "content")], env)
        run_flask(["collectivites", "import", str(SHARED_DIR / "collectivites")], env)
        app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url), "REDIS_URL": None,
                          "SECRET_KEY": secrets.token_hex(16)})
        app.config["OPEN_DATA_IP_LIMIT"] = (10**9, timedelta(minutes=1))  # one client asks for everything
        try:
            with app.app_context():
                total = db.session.scalar(select(db.func.count()).select_from(Collectivite))
                commune_id = seed_scores(SCORED)
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
                echo(f"{total} collectivités, {SCORED} avec des scores ; {runs} requêtes par page…")
                visitor, member = app.test_client(), _signed_in_client(app)
                comparison = [f"/collectivites/{commune_id}/comparaison?referentiel={REFERENTIEL}",
                              f"/collectivites/{commune_id}/comparaison?referentiel={REFERENTIEL}&region=1"]
                open_data = [f"/api/v1/referentiels/{REFERENTIEL}/scores?limit=100&page={n}" for n in range(1, 11)]
                open_data += [f"/api/v1/collectivites?limit=100&page={n}&referentiel={REFERENTIEL}" for n in (1, 50, 400)]
                for client, paths in ((visitor, [f"/annuaire?{q}" for q in DIRECTORY_QUERIES]), (member, comparison),
                                      (visitor, open_data)):
                    _time(client, paths, len(paths))  # warm-up: templates compiled, caches filled
                return [
                    Measure("annuaire filtré, paginé (/annuaire)", 50,
                            *_time(visitor, [f"/annuaire?{q}" for q in DIRECTORY_QUERIES], runs)),
                    Measure("htmx : résultats de l'annuaire seuls", 50, *_time(
                        _htmx(app), [f"/annuaire?{q}" for q in DIRECTORY_QUERIES], runs)),
                    Measure("collectivités comme moi (comparaison)", 100, *_time(member, comparison, runs)),
                    Measure("données ouvertes, page de 100", 50, *_time(visitor, open_data, runs)),
                ]
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _htmx(app):
    client = app.test_client()
    client.environ_base["HTTP_HX_REQUEST"] = "true"
    return client


def print_report(measures: list[Measure]) -> None:
    # The box is shared: a busy machine stretches every figure, the load says how much.
    click.echo(f"\ncharge moyenne de la machine (1 min) : {os.getloadavg()[0]:.1f} pour {os.cpu_count()} CPU")
    click.echo(f"{'page (temps serveur, ms)':<42} {'n':>4} {'p50':>8} {'p95':>8} {'CPU p50':>8} {'cible p95':>10}")
    for measure in measures:
        p95 = measure.percentile(0.95)
        missed = "  MANQUÉE" if p95 > measure.target_ms else ""
        click.echo(f"{measure.label:<42} {len(measure.timings):>4} {statistics.median(measure.timings):>8.1f} "
                   f"{p95:>8.1f} {statistics.median(measure.cpu):>8.1f} {measure.target_ms:>10.0f}{missed}")
    click.echo("« CPU » : temps CPU du fil de la requête, sans l'attente d'un cœur libre ni de la base.")


@click.command("sharing")
@click.option("--runs", type=click.IntRange(1), default=RUNS, show_default=True, help="Requêtes mesurées par page.")
def bench_sharing_command(runs: int) -> None:
    """Annuaire, comparaison et données ouvertes sur PostgreSQL (45 000 collectivités, 1 000 avec scores).

    Base : BENCH_DATABASE_URL (défaut postgresql+psycopg://postgres@127.0.0.1:5432/test, une base
    temporaire y est créée puis supprimée).
    """
    try:
        measures = run_sharing_bench(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL, runs)
    except BenchError as error:
        raise click.ClickException(str(error)) from error
    print_report(measures)
