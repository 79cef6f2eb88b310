"""`flask bench content`: time to check and load the 2025 corpus, and server time of two pages.

For SQLite (a temporary file) and PostgreSQL (a temporary database on BENCH_DATABASE_URL's server,
default postgresql+psycopg://postgres@127.0.0.1:5432/test, dropped afterwards): migrate an empty
database, store the checked corpus, then time GET /referentiels/cae and the largest CAE action
page through the Flask test client (warm-up first, bounded loops). Targets: load <= 2 s,
pages <= 30 ms p50.
"""
import os
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import click
import flask_migrate
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from app.content_loader import check_dir
from app.content_loader.store import store
from app.extensions import db
from app.models.content import Action, Referentiel
from benchmarks.support import temporary_database

WARM_UP = 5
MAX_REQUESTS = 200
MAX_SECONDS_PER_PAGE = 3.0
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LOAD_TARGET_MS = 2000.0  # check + store of the corpus
PAGE_TARGET_MS = 30.0
SECTION_COLUMNS = (Action.description, Action.contexte, Action.exemples, Action.ressources,
                   Action.preuve, Action.perimetre_evaluation, Action.reduction_potentiel)


@click.command("content")
@with_appcontext
@click.option("--requests", "max_requests", default=MAX_REQUESTS, show_default=True, help="Requêtes mesurées par page (au plus).")
def bench_content_command(max_requests: int) -> None:
    """Chargement du corpus 2025 et temps serveur des pages référentiel (SQLite et PostgreSQL)."""
    corpus = Path(current_app.root_path).parent.parent / "shared" / "referentiels" / "2025" / "markdown"
    started = time.perf_counter()
    content, errors = check_dir(corpus)
    check_seconds = time.perf_counter() - started
    if errors:
        raise click.ClickException(f"{len(errors)} erreur(s) dans {corpus}, premier : {errors[0]}")
    click.echo(f"Corpus {corpus} : {', '.join(f'{n} {kind}' for kind, n in content.counts().items())}")
    click.echo(f"Vérification (lecture + validation) : {check_seconds:.2f} s\n")

    rows = []
    for backend, database in (("SQLite", sqlite_database), ("PostgreSQL", postgres_database)):
        with database() as url:
            rows.append((backend, *_measure(url, content, str(corpus), max_requests)))

    header = f"{'base':<11} {'mesure':<40} {'p50':>9} {'p95':>9} {'n':>4} {'cible p50':>10}"
    click.echo(header)
    click.echo("-" * len(header))
    for backend, store_seconds, pages in rows:
        load_seconds = check_seconds + store_seconds
        lines = [(f"chargement (stockage {store_seconds:.2f} s)", 1000 * load_seconds, None, 1, LOAD_TARGET_MS)]
        lines += [(f"page {label}", p50, p95, count, PAGE_TARGET_MS) for label, p50, p95, count in pages]
        for label, p50, p95, count, target in lines:
            shown_p95 = "" if p95 is None else f"{p95:6.1f} ms"
            missed = "  MANQUÉE" if p50 > target else ""
            click.echo(f"{backend:<11} {label:<40} {p50:>6.1f} ms {shown_p95:>9} {count:>4} {target:>7.0f} ms{missed}")


def _measure(url: str, content, source: str, max_requests: int):
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        flask_migrate.upgrade()
        started = time.perf_counter()
        store(db.session, content, source)
        store_seconds = time.perf_counter() - started
        large_action = _largest_action("cae")
        db.session.remove()
        db.engine.dispose()
    client = app.test_client()
    pages = [("/referentiels/cae", "/referentiels/cae"),
             (f"action {large_action}", f"/referentiels/cae/actions/{large_action}")]
    results = [(label, *timings(client, path, max_requests)) for label, path in pages]
    with app.app_context():
        db.engine.dispose()
    return store_seconds, results


def _largest_action(referentiel_id: str) -> str:
    """The action (at the référentiel's action level) with the most section text."""
    size = sum((func.length(column) for column in SECTION_COLUMNS[1:]), func.length(SECTION_COLUMNS[0]))
    return db.session.scalar(
        select(Action.id)
        .join(Referentiel, Referentiel.id == Action.referentiel_id)
        .where(Action.referentiel_id == referentiel_id, Action.depth == Referentiel.action_level)
        .order_by(size.desc(), Action.id)
        .limit(1)
    )


def timings(client, path: str, max_requests: int) -> tuple[float, float, int]:
    """p50 and p95 in milliseconds, and how many requests were measured."""
    for _ in range(WARM_UP):
        assert client.get(path).status_code == 200, path
    timings, deadline = [], time.perf_counter() + MAX_SECONDS_PER_PAGE
    while len(timings) < max_requests and time.perf_counter() < deadline:
        started = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), statistics.quantiles(timings, n=20)[-1], len(timings)


@contextmanager
def sqlite_database():
    with tempfile.TemporaryDirectory(prefix="tet-bench-") as folder:
        yield f"sqlite:///{folder}/bench.db"


def postgres_database():
    return temporary_database(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_POSTGRES_URL)
