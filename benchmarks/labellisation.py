"""`flask bench labellisation`: the what-if sandbox and the shortest path to the next étoile on
the full 2025 CAE, in a throw-away SQLite database holding the 2025 référentiels and one
collectivité with the statuts of shared/benchmark laid over the CAE (as `flask bench pages`).

A what-if session: each measure has one more tâche changed than the one before (up to the
number of iterations), as an agent changes statuts one after the other in the sandbox. Rows:
- engine alone: simulate() from the stored statuts' draft with all the session's changes, and
  the étoiles of the result (what any change costs without the sandbox's cache);
- sandbox recompute: what the sandbox computes for a change (the session's previous simulation,
  one more change along its ancestors; the étoiles);
- htmx request: the whole POST of the sandbox form (Flask test client, a member signed in):
  parsing, rights, reads, recompute and the result fragment;
- shortest path: chemin_le_plus_court() from the draft, and the GET of its page.
Each row twice: elapsed time, and the CPU time of the thread (without the waits for a free core,
which make the elapsed p95 of a busy machine).
"""
import random
import secrets
import tempfile
from pathlib import Path

import click
from flask import Flask

from app import create_app
from app.config import normalise_database_url
from app.extensions import db
from app.scoring import Statut
from app.scoring.whatif import chemin_le_plus_court, parcours_of, simulate
from app.services import labellisation
from benchmarks.pages import PASSWORD, REFERENTIEL, Bench, BenchError, Row, prepare, print_table

WHATIF_TARGET_MS = 5.0
CHEMIN_TARGET_MS = 1000.0
REQUEST_TARGET_MS = 30.0  # the whole request (rights, reads, fragment): the pages' own scale
CHOICES = ("fait", "programme", "pas_fait", "non_renseigne")


def _tache_changes(app: Flask, collectivite_id: int, count: int) -> list[tuple[str, str]]:
    """`count` (tâche, statut) pairs drawn with a fixed seed among the CAE's tâches."""
    with app.app_context():
        tree = labellisation.sandbox_of(collectivite_id, REFERENTIEL).draft.tree
    draw = random.Random(2025)
    taches = [node for i, node in enumerate(tree.ids) if not tree.children[i] and tree.depth[i] > tree.action_level]
    return [(tache, draw.choice(CHOICES)) for tache in draw.sample(taches, min(count, len(taches)))]


def _measured(bench: Bench, label: str, target_ms: float, call) -> Row:
    """Elapsed and CPU milliseconds of `call(n)`, as Bench.timings counts calls."""
    return Row(label, target_ms, *bench.timings(call))


def _rows(bench: Bench) -> list[Row]:
    app, collectivite_id = bench.app, bench.collectivite_id
    changes = _tache_changes(app, collectivite_id, bench.iterations + 10)
    with app.app_context():
        sandbox = labellisation.sandbox_of(collectivite_id, REFERENTIEL)

        def engine(n):
            simulated = {tache: labellisation.engine_statut(tache, value) for tache, value in changes[:n % len(changes) + 1]}
            parcours_of(sandbox.regles, simulate(sandbox.draft, simulated))

        def recompute(n):
            labellisation.simulation(sandbox, dict(changes[:n % len(changes) + 1]))

        rows = [_measured(bench, "What-if, moteur seul", WHATIF_TARGET_MS, engine),
                _measured(bench, "What-if, bac à sable", WHATIF_TARGET_MS, recompute)]
        chemin_row = _measured(bench, "Chemin, moteur", CHEMIN_TARGET_MS,
                               lambda _n: chemin_le_plus_court(sandbox.draft, sandbox.regles))
    url = f"{bench.base()}/etoiles/simulation"

    def post(n):
        form = {labellisation.FIELD_PREFIX + tache: value for tache, value in changes[:n % len(changes) + 1]}
        response = bench.client.post(url, data=form, headers={"HX-Request": "true"})
        if response.status_code != 200:
            raise BenchError(f"{url} : réponse {response.status_code}")

    def get(_n):
        response = bench.client.get(f"{bench.base()}/etoiles/chemin")
        if response.status_code != 200:
            raise BenchError(f"chemin : réponse {response.status_code}")

    return [*rows, _measured(bench, "What-if, requête htmx", REQUEST_TARGET_MS, post),
            chemin_row, _measured(bench, "Chemin, page", CHEMIN_TARGET_MS, get)]


@click.command("labellisation")
@click.option("--iterations", type=click.IntRange(1), default=200, show_default=True, help="Mesures par ligne.")
@click.option("--max-seconds", type=click.FloatRange(0.1), default=20.0, show_default=True, help="Durée maximale par ligne.")
def bench_labellisation_command(iterations: int, max_seconds: float) -> None:
    """What-if (par changement) et chemin le plus court sur le CAE 2025 complet (p50, p95, cible)."""
    try:
        with tempfile.TemporaryDirectory(prefix="tet-bench-labellisation-") as folder:
            app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(f"sqlite:///{Path(folder) / 'bench.db'}"),
                              "REDIS_URL": None, "SECRET_KEY": secrets.token_hex(32), "WTF_CSRF_ENABLED": False})
            try:
                collectivite_id, email, laid = prepare(app)
                client = app.test_client()
                if client.post("/connexion", data={"email": email, "password": PASSWORD}).status_code != 302:
                    raise BenchError("connexion du membre impossible")
                rows = _rows(Bench(app, client, collectivite_id, iterations, max_seconds))
            finally:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
        print_table(f"SQLite — CAE 2025, {laid} statuts du jeu de mesure ; what-if par changement, un de plus à chaque mesure", rows)
    except BenchError as error:
        raise click.ClickException(str(error)) from error
