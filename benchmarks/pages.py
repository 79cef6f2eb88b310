"""`flask bench pages`: server time of the steering pages (p50, p95 against a target) on SQLite
and on PostgreSQL, each in a throw-away database holding the full 2025 référentiels and one
collectivité with the benchmark statuts.

The statuts of shared/benchmark (271, all on ECI: 258 tâches and 13 sous-actions of a real
collectivité) are laid over the CAE, the référentiel measured: the i-th tâche statut goes to a
CAE tâche spread evenly over the CAE's tâches (the same for the sous-actions), keeping the
benchmark's avancements. Each statut has one history entry, the entries spread over the last
SPREAD_DAYS days, so that a past date is rebuilt from the history (half of the statuts are then
older, half newer).

Times are those of the Flask test client (a member signed in, no network), after warm-up
requests. A page not in the app (built by another issue) prints "absent". The rows come from
SECTIONS: a later area (indicateurs, plans, directory…) appends its function, which receives the
Bench and returns its rows.
"""
import json
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from app import create_app
from app.auth import hash_password
from app.config import PROJECT_ROOT, normalise_database_url
from app.extensions import db
from app.models import Action, ActionStatut, Collectivite, HistoryEntry, Membership, Referentiel, ScoreHistory, User
from app.persistence import utcnow
from app.services import evaluation, snapshots
from app.services.collectivites import normalise_search
from app.services.statuts import StatutValue
from benchmarks.support import BenchError, temporary_database

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SHARED_DIR = PROJECT_ROOT.parent / "shared"
REFERENTIEL = "cae"
PASSWORD = "bench-mot-de-passe-2025"
SPREAD_DAYS = 30
PAST_DAYS = 15  # the past date of the snapshot row: half of the history before it
WARM_UP = 3
HISTORY_DAYS = 365  # days of score history behind the évolution page


@dataclass
class Bench:
    """What a section measures with: the app, a client signed in as an editor of the collectivité."""

    app: Flask
    client: FlaskClient
    collectivite_id: int
    iterations: int
    max_seconds: float

    def base(self) -> str:
        return f"/collectivites/{self.collectivite_id}/referentiels/{REFERENTIEL}"

    def has_route(self, path: str, method: str = "GET") -> bool:
        try:
            self.app.url_map.bind("localhost").match(path, method)
        except (NotFound, MethodNotAllowed):
            return False
        return True

    def timings(self, call: Callable[[int], object]) -> tuple[list[float], list[float]]:
        """Elapsed and CPU milliseconds of `call(n)` (n: the call's number), after WARM_UP calls;
        at most `iterations` calls or `max_seconds`. The CPU time of the thread leaves out the
        waits for a free core (a busy machine's) and for the database server."""
        for n in range(WARM_UP):
            call(-1 - n)
        timings: list[float] = []
        cpu: list[float] = []
        deadline = time.perf_counter() + self.max_seconds
        while len(timings) < self.iterations and (not timings or time.perf_counter() < deadline):
            cpu_start, start = time.thread_time(), time.perf_counter()
            call(len(timings))
            timings.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - cpu_start) * 1000)
        return timings, cpu

    def page_row(self, label: str, path: str, target_ms: float) -> "Row":
        if not self.has_route(path):
            return Row(label, target_ms, None)

        def get(_n):
            response = self.client.get(path)
            if response.status_code != 200:
                raise BenchError(f"{path} : réponse {response.status_code}")

        return Row(label, target_ms, *self.timings(get))


@dataclass(frozen=True)
class Row:
    label: str
    target_ms: float
    timings: list[float] | None  # None: the page is absent from the app
    cpu: list[float] | None = None  # CPU time of each request, when measured

    def figures(self) -> tuple[float, float] | None:
        if not self.timings:
            return None
        ordered = sorted(self.timings)
        return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


# Sections ----------------------------------------------------------------------------------------


def pilotage_section(bench: Bench) -> list[Row]:
    base = bench.base()
    return [
        bench.page_row("Tableau de bord", f"{base}/tableau-de-bord", 30),
        bench.page_row("Aide à la priorisation", f"{base}/priorisation", 40),
        bench.page_row("Tableau des mesures (complet)", f"{base}/mesures", 60),
        bench.page_row("Export XLSX du référentiel", f"{base}/export.xlsx", 1000),
    ]


def snapshot_section(bench: Bench) -> list[Row]:
    """Freezing the state of a past date through the form (a replay of the history)."""
    path = f"{bench.base()}/etats-des-lieux"
    if not bench.has_route(path, "POST"):
        return [Row("Figer l'état d'une date passée", 200, None)]
    past_day = snapshots.paris_day_of(utcnow() - timedelta(days=PAST_DAYS)).isoformat()

    def freeze(n):
        response = bench.client.post(path, data={"nom": f"Mesure {n}", "quand": "date", "date": past_day})
        if response.status_code != 303:
            raise BenchError(f"figer l'état du {past_day} : réponse {response.status_code}")

    return [Row("Figer l'état d'une date passée", 200, *bench.timings(freeze))]


def tableau_de_bord_section(bench: Bench) -> list[Row]:
    """The collectivité's home page, and the score over time on its default period (a year) with a
    history row on each of its days (copies of today's: as heavy to read as real ones)."""
    with bench.app.app_context():
        today = db.session.scalars(select(ScoreHistory).where(
            ScoreHistory.collectivite_id == bench.collectivite_id, ScoreHistory.referentiel_id == REFERENTIEL)).one()
        columns = {name: getattr(today, name) for name in (
            "point_fait", "point_programme", "point_pas_fait", "point_non_renseigne", "point_potentiel", "point_referentiel")}
        db.session.add_all(ScoreHistory(collectivite_id=bench.collectivite_id, referentiel_id=REFERENTIEL,
                                        day=today.day - timedelta(days=n), scores=today.scores, **columns)
                           for n in range(1, HISTORY_DAYS))
        db.session.commit()
    return [
        bench.page_row("Accueil de la collectivité", f"/collectivites/{bench.collectivite_id}", 30),
        bench.page_row(f"Évolution du score ({HISTORY_DAYS} jours)", f"{bench.base()}/evolution", 100),
    ]


SECTIONS: list[Callable[[Bench], list[Row]]] = [pilotage_section, snapshot_section, tableau_de_bord_section]


# Data --------------------------------------------------------------------------------------------


def _spread(items: list, count: int) -> list:
    """`count` items taken evenly over `items`."""
    return [items[i * len(items) // count] for i in range(count)] if count else []


def lay_benchmark_statuts(user_id: int, collectivite_id: int) -> int:
    """The benchmark statuts laid over the CAE (module docstring), each with its history entry;
    returns how many."""
    benchmark = json.loads((SHARED_DIR / "benchmark" / "action_statut.json").read_text(encoding="utf-8"))
    action_level = db.session.scalar(select(Referentiel.action_level).where(Referentiel.id == REFERENTIEL))
    depths: dict[int, list[str]] = {}
    for action_id, depth in db.session.execute(
        select(Action.id, Action.depth).where(Action.referentiel_id == REFERENTIEL, ~Action.archived,
                                              Action.depth > action_level).order_by(Action.id)
    ):
        depths.setdefault(depth - action_level, []).append(action_id)
    # Relative depth of a benchmark statut under its ECI action (level 2): 1 sous-action, 2 tâche.
    by_level: dict[int, list[dict]] = {}
    for statut in benchmark:
        by_level.setdefault(statut["action_id"].count(".") - 1, []).append(statut)
    now = utcnow()
    start = now - timedelta(days=SPREAD_DAYS)
    laid = [(target, statut) for level, statuts in sorted(by_level.items())
            for target, statut in zip(_spread(depths.get(level, []), len(statuts)), statuts)]
    for n, (action_id, statut) in enumerate(laid):
        value = StatutValue(statut["avancement"], bool(statut["concerne"]))
        at = start + (now - start) * (n + 1) / (len(laid) + 1)
        db.session.add(ActionStatut(collectivite_id=collectivite_id, referentiel_id=REFERENTIEL, action_id=action_id,
                                    avancement=value.avancement, concerne=value.concerne, modified_by_id=user_id,
                                    modified_at=at))
        db.session.add(HistoryEntry(collectivite_id=collectivite_id, user_id=user_id, at=at, kind="statut",
                                    key=action_id, old_value=None, new_value=value.as_json()))
    db.session.commit()
    return len(laid)


def prepare(app: Flask) -> tuple[int, str, int]:
    """Migrations, the 2025 content, the collectivité and its editor: (collectivité id, email,
    statuts laid)."""
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["content", "load", str(SHARED_DIR / "referentiels" / "2025" / "markdown")]):
        result = runner.invoke(args=args)
        if result.exit_code != 0:
            raise BenchError(f"`flask {' '.join(args[:2])}` a échoué :\n{result.output}")
    with app.app_context():
        nom = "Commune de mesure"
        collectivite = Collectivite(kind="commune", code="BENCHP", nom=nom, nom_recherche=normalise_search(nom),
                                    population=12_000, drom=False)
        user = User(email="editeur@bench.local", name="Éditeur mesure", password_hash=hash_password(PASSWORD),
                    created_at=utcnow() - timedelta(days=SPREAD_DAYS + 1), is_active=True)
        db.session.add_all([collectivite, user])
        db.session.flush()
        db.session.add(Membership(user_id=user.id, collectivite_id=collectivite.id, role="edition", created_at=utcnow()))
        db.session.commit()
        laid = lay_benchmark_statuts(user.id, collectivite.id)
        evaluation.rescore(collectivite.id, REFERENTIEL)
        db.session.commit()
        return collectivite.id, user.email, laid


def run_backend(database_url: str, iterations: int, max_seconds: float) -> tuple[list[Row], int]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url), "REDIS_URL": None,
                      "SECRET_KEY": secrets.token_hex(32), "WTF_CSRF_ENABLED": False})
    try:
        collectivite_id, email, laid = prepare(app)
        client = app.test_client()
        if client.post("/connexion", data={"email": email, "password": PASSWORD}).status_code != 302:
            raise BenchError("connexion du membre impossible")
        bench = Bench(app, client, collectivite_id, iterations, max_seconds)
        return [row for section in SECTIONS for row in section(bench)], laid
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# Report ------------------------------------------------------------------------------------------


def print_table(title: str, rows: list[Row], echo=click.echo) -> None:
    echo(f"\n{title}")
    echo(f"{'Mesure':<36} {'n':>4} {'p50 (ms)':>10} {'p95 (ms)':>10} {'CPU p50':>10} {'cible p50':>10}  ")
    for row in rows:
        figures = row.figures()
        if figures is None:
            echo(f"{row.label:<36} {'':>4} {'absent':>10} {'':>10} {'':>10} {row.target_ms:>10.0f}")
            continue
        p50, p95 = figures
        cpu = f"{statistics.median(row.cpu):10.1f}" if row.cpu else ""
        miss = "  MANQUÉ" if p50 > row.target_ms else ""
        echo(f"{row.label:<36} {len(row.timings):>4} {p50:>10.1f} {p95:>10.1f} {cpu:>10} {row.target_ms:>10.0f}{miss}")
    echo(f"(charge moyenne de la machine sur 1 min : {os.getloadavg()[0]:.1f} pour {os.cpu_count()} CPU ; « CPU » : "
         "temps CPU du fil, sans l'attente d'un cœur libre ni de la base)")


@click.command("pages")
@click.option("--backend", type=click.Choice(["sqlite", "postgres", "both"]), default="both", show_default=True)
@click.option("--iterations", type=click.IntRange(1), default=50, show_default=True, help="Requêtes mesurées par ligne.")
@click.option("--max-seconds", type=click.FloatRange(0.1), default=20.0, show_default=True, help="Durée maximale par ligne.")
def bench_pages_command(backend: str, iterations: int, max_seconds: float) -> None:
    """Temps serveur des pages de pilotage (p50, p95, cible) sur SQLite et PostgreSQL.

    PostgreSQL : BENCH_DATABASE_URL (défaut postgresql+psycopg://postgres@127.0.0.1:5432/test, une
    base temporaire y est créée puis supprimée) ; SQLite : un fichier temporaire.
    """
    try:
        if backend in ("sqlite", "both"):
            with tempfile.TemporaryDirectory(prefix="tet-bench-pages-") as folder:
                rows, laid = run_backend(f"sqlite:///{Path(folder) / 'bench.db'}", iterations, max_seconds)
            print_table(f"SQLite — CAE 2025, {laid} statuts du jeu de mesure", rows)
        if backend in ("postgres", "both"):
            with temporary_database(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL) as url:
                rows, laid = run_backend(url, iterations, max_seconds)
            print_table(f"PostgreSQL — CAE 2025, {laid} statuts du jeu de mesure", rows)
    except BenchError as error:
        raise click.ClickException(str(error)) from error
