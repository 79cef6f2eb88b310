"""`flask bench push`: edit → pushed fragment latency on the production shape of this machine.

A fresh PostgreSQL database (dropped at the end) and a dedicated Redis db (flushed), the demo
content, then gunicorn gthread (1 process, 64 threads) and --workers `flask worker` processes (1)
as subprocesses, warmed up by a few unmeasured edits. For each K, K collectivités each get an editor (édition) and a
viewer (lecture) who log in through the real form and open the tree page; the viewer's websocket
is connected; the editor sets statuts of tâches by the page's htmx POST, one at a time, thinking
--think-ms (±50 %) between two edits. Latency: from sending the POST to the viewer receiving the
score fragment of THAT tâche with its new value. Each edit changes the tâche's score (fait, then
pas fait on a second round), so the fragment is recognised by its "réalisé" figure.

Then the check: every edited tâche's last statut is stored and the stored scores equal a fresh
computation of the stored statuts (else the edit counts as lost). The breakdown says where the
time goes: the POST, queue + job up to the Redis publish, delivery to the websocket, the job's
own work alone, and the CPU each process used (the rest of the machine included: the figures
only mean something on an otherwise idle machine).
"""
import os
import random
import secrets
import statistics
import threading
import time
import urllib.parse
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import click
import redis
from flask import Flask, url_for
from simple_websocket import Client, ConnectionClosed
from sqlalchemy import select

from app import create_app
from app.auth import hash_password
from app.config import PROJECT_ROOT, normalise_database_url
from app.extensions import db
from app.filters import dom_id, format_percent
from app.fragments import score_update_html
from app.live import channel_prefix, collectivite_topic
from app.models import Action, ActionStatut, Collectivite, Membership, Referentiel, ScoreState, User
from app.scoring import SCORE_FIELDS, Statut, score_referentiel
from app.scoring.avancement import AVANCEMENT_FRACTIONS
from app.scoring.desactivation import desactivation_source, desactivees
from app.services import evaluation
from app.persistence import utcnow
from app.services.collectivites import normalise_search
from app.services.personnalisation import consequences_for
from app.services.scores import scores_for
from app.services.scoring_content import scoring_content_from_db
from app.services.suivi import bump_edit_revision
from benchmarks.support import (
    BenchError,
    HttpSession,
    Servers,
    app_env,
    flushed_redis,
    machine_busy_seconds,
    production_servers,
    run_flask,
    temporary_database,
)

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
TARGETS_MS = {1: 50.0, 50: 150.0}
# `flask worker` processes. A second one helps when the machine is busy (one job's round trips
# overlap the other's; the jobs of one collectivité still run one at a time, see app.queue) but
# costs CPU when it is not.
DEFAULT_WORKERS = 1
PASSWORD = "bench-mot-de-passe-2025"
PUSH_TIMEOUT_SECONDS = 5.0
SETTLE_TIMEOUT_SECONDS = 15.0
WARM_UP_EDITS = 5
LOGIN_THREADS = 4  # argon2 verification is CPU- and memory-heavy on purpose
# The statuts the bench writes, as the engine reads them (fait, programmé, pas fait).


@dataclass(frozen=True)
class Account:
    collectivite_id: int
    editor_email: str
    viewer_email: str


@dataclass(frozen=True)
class PlannedEdit:
    action_id: str
    statut: str
    shown: str  # the "réalisé" figure of the tâche once the edit is scored


@dataclass
class EditTiming:
    collectivite_id: int
    edit: PlannedEdit
    sent: float
    answered: float
    pushed: float
    published: float | None = None


@dataclass
class RunResult:
    editors: int
    timings: list[EditTiming] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lost: int = 0
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # who -> CPU used during the edits
    seconds: float = 0.0  # duration of the edits
    load_average: float = 0.0  # the machine's over the last minute, at the end of the edits


# Data --------------------------------------------------------------------------------------------


def create_accounts(count: int, referentiel_id: str) -> list[Account]:
    """`count` communes, each with one editor (édition) and one viewer (lecture)."""
    password_hash = hash_password(PASSWORD)  # once: argon2 is slow on purpose
    accounts = []
    for n in range(1, count + 1):
        nom = f"Commune de mesure {n}"
        collectivite = Collectivite(kind="commune", code=f"BENCH{n:04d}", nom=nom, nom_recherche=normalise_search(nom),
                                    population=12_000, drom=False)
        editor, viewer = (User(email=f"{role}{n}@bench.local", name=f"{role.capitalize()} {n}", password_hash=password_hash,
                               created_at=utcnow(), is_active=True) for role in ("editeur", "lecteur"))
        db.session.add_all([collectivite, editor, viewer])
        db.session.flush()
        db.session.add_all([
            Membership(user_id=editor.id, collectivite_id=collectivite.id, role="edition", created_at=utcnow()),
            Membership(user_id=viewer.id, collectivite_id=collectivite.id, role="lecture", created_at=utcnow()),
        ])
        accounts.append(Account(collectivite.id, editor.email, viewer.email))
    db.session.commit()
    for account in accounts:
        evaluation.rescore(account.collectivite_id, referentiel_id)  # first scores, as the job a first page view enqueues
        db.session.commit()
    return accounts


def plan_edits(collectivite_id: int, referentiel_id: str, count: int) -> list[PlannedEdit]:
    """`count` edits on the scored tâches (leaves below the action level): each tâche set to fait,
    then, when there are more edits than tâches, back to pas fait, and so on."""
    level = db.session.scalar(select(Referentiel.action_level).where(Referentiel.id == referentiel_id))
    actions = db.session.scalars(
        select(Action).where(Action.referentiel_id == referentiel_id, Action.archived.is_(False), Action.depth > level)
        .order_by(Action.id)
    ).all()
    parents = {action.parent_id for action in actions}
    scores = scores_for(collectivite_id, referentiel_id)
    switched_off = desactivees(consequences_for(collectivite_id))
    taches = [
        (action.id, scores[action.id]["point_potentiel"]) for action in actions
        if action.id not in parents and scores.get(action.id, {}).get("point_potentiel")
        and desactivation_source(action.id, switched_off) is None
    ]
    if not taches:
        raise BenchError(f"aucune tâche notée dans le référentiel {referentiel_id}")
    edits = []
    for n in range(count):
        action_id, potentiel = taches[n % len(taches)]
        fait = (n // len(taches)) % 2 == 0
        edits.append(PlannedEdit(action_id, "fait" if fait else "pas_fait",
                                 format_percent(potentiel if fait else 0.0, potentiel)))
    return edits


def count_lost_edits(accounts: list[Account], plan: list[PlannedEdit], done: dict[int, int], referentiel_id: str) -> int:
    """Edited tâches whose last statut is not stored, or whose stored score differs from a fresh
    computation of the stored statuts (+1 per collectivité with another wrong record)."""
    ids = [account.collectivite_id for account in accounts]
    _wait_scores_settled(ids, referentiel_id)
    content = scoring_content_from_db(db.session)
    lost = 0
    for collectivite_id in ids:
        stored = dict(db.session.execute(
            select(ActionStatut.action_id, ActionStatut.avancement).where(ActionStatut.collectivite_id == collectivite_id)
        ).all())
        statuts = [Statut(action_id, AVANCEMENT_FRACTIONS.get(avancement), True) for action_id, avancement in stored.items()]
        table = score_referentiel(content.trees[referentiel_id], statuts, consequences_for(collectivite_id))
        expected = {record.action_id: [getattr(record, name) for name in SCORE_FIELDS] for record in table.records()}
        scores = db.session.get(ScoreState, (collectivite_id, referentiel_id)).scores or {}
        last = {edit.action_id: edit.statut for edit in plan[: done.get(collectivite_id, 0)]}
        wrong = [a for a, statut in last.items() if stored.get(a) != statut or scores.get(a) != expected.get(a)]
        lost += len(wrong) or int(scores != expected)
    return lost


def _wait_scores_settled(collectivite_ids: list[int], referentiel_id: str) -> None:
    """Until the worker has scored every edit (bounded: a stale state then counts as lost)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        db.session.expire_all()
        stale = db.session.scalar(
            select(ScoreState.collectivite_id).where(
                ScoreState.collectivite_id.in_(collectivite_ids), ScoreState.referentiel_id == referentiel_id,
                ScoreState.scored_revision < ScoreState.edit_revision,
            ).limit(1)
        )
        if stale is None:
            return
        time.sleep(0.1)
    db.session.rollback()


# Load --------------------------------------------------------------------------------------------


def shown_realise(html: str, action_id: str) -> str | None:
    """The "réalisé" figure of the action's score slot in pushed HTML (None: slot not in it)."""
    start = html.find(f'id="score-{dom_id(action_id)}"')
    if start < 0:
        return None
    end = html.find('id="score-', start + 1)
    slot = html[start:] if end < 0 else html[start:end]
    marker = 'title="réalisé">'
    figure = slot.find(marker)
    return None if figure < 0 else slot[figure + len(marker): slot.find("<", figure + len(marker))]


class PublishMonitor:
    """Listens to the Redis channels of the pages and timestamps each publish (for the breakdown)."""

    def __init__(self, redis_url: str):
        self._pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
        self._prefix = channel_prefix(redis_url)  # the web processes' channels (same Redis database)
        self._pubsub.psubscribe(self._prefix + collectivite_topic("*"))
        self._stopped = threading.Event()
        self.messages: dict[str, list[tuple[float, str]]] = defaultdict(list)  # channel -> (time, html)
        self._thread = threading.Thread(target=self._listen, name="bench-publish-monitor", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stopped.is_set():
            message = self._pubsub.get_message(timeout=0.1)
            if message is not None:
                self.messages[message["channel"].decode()].append((time.perf_counter(), message["data"].decode()))

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
        self._pubsub.close()

    def published(self, timing: EditTiming) -> float | None:
        """When the fragment of this edit was published (None if the monitor missed it)."""
        channel = self._prefix + collectivite_topic(timing.collectivite_id)
        return next((at for at, html in self.messages[channel]
                     if at >= timing.sent and shown_realise(html, timing.edit.action_id) == timing.edit.shown), None)


@dataclass
class Participant:
    """One collectivité under load: its editor's browser and its viewer's open websocket."""

    account: Account
    editor: HttpSession
    csrf_token: str
    viewer: Client
    statut_paths: dict[str, str]


def _connect(base_url: str, account: Account, tree_path: str, statut_paths: dict[str, str]) -> Participant:
    """Both log in through the form and open the tree page; the viewer's page opens its websocket."""
    editor, viewer = HttpSession(base_url), HttpSession(base_url)
    editor.login(account.editor_email, PASSWORD)
    viewer.login(account.viewer_email, PASSWORD)
    csrf_token = editor.csrf_token_of(tree_path)
    viewer.csrf_token_of(tree_path)  # the viewer's page too, loaded before it opens the websocket
    socket_url = base_url.replace("http://", "ws://") + f"/ws/collectivites/{account.collectivite_id}"
    try:
        # The server wants the Origin of one of its pages: that of the Host this client sends (no port).
        origin = f"http://{urllib.parse.urlsplit(base_url).hostname}"
        socket = Client.connect(socket_url, headers={"Cookie": viewer.cookie_header, "Origin": origin})
    except (ConnectionError, OSError) as error:
        raise BenchError(f"websocket de la collectivité {account.collectivite_id} refusée : {error}") from error
    return Participant(account, editor, csrf_token, socket, statut_paths)


def _wait_for_push(socket: Client, edit: PlannedEdit, deadline: float) -> float | None:
    """When the viewer received the tâche's score showing this edit (None: not before deadline)."""
    while (remaining := deadline - time.perf_counter()) > 0:
        html = socket.receive(timeout=remaining)
        if html is not None and shown_realise(html, edit.action_id) == edit.shown:
            return time.perf_counter()
    return None


def _edit_loop(participant: Participant, plan: list[PlannedEdit], think_seconds: float, deadline: float,
               result: RunResult) -> int:
    """The editor's session: one edit at a time, waiting for its push, then thinking; returns the
    number of edits sent."""
    collectivite_id = participant.account.collectivite_id
    rng = random.Random(collectivite_id)
    time.sleep(rng.uniform(0, think_seconds))  # editors do not all start on the same millisecond
    sent_count = 0
    for edit in plan:
        if time.monotonic() > deadline:
            break
        sent = time.perf_counter()
        try:
            response = participant.editor.post(participant.statut_paths[edit.action_id], {"statut": edit.statut},
                                               {"HX-Request": "true", "X-CSRFToken": participant.csrf_token})
            sent_count += 1
            answered = time.perf_counter()
            if response.status != 200:
                result.errors.append(f"collectivité {collectivite_id}, {edit.action_id} : HTTP {response.status}")
                continue
            pushed = _wait_for_push(participant.viewer, edit, sent + PUSH_TIMEOUT_SECONDS)
        except (OSError, ConnectionClosed) as error:
            result.errors.append(f"collectivité {collectivite_id}, {edit.action_id} : {error!r}")
            break
        if pushed is None:
            result.errors.append(f"collectivité {collectivite_id}, {edit.action_id} : "
                                 f"aucun fragment poussé en {PUSH_TIMEOUT_SECONDS:g} s")
        else:
            result.timings.append(EditTiming(collectivite_id, edit, sent, answered, pushed))
        time.sleep(think_seconds * rng.uniform(0.5, 1.5))
    return sent_count


def run_editors(servers: Servers, app: Flask, accounts: list[Account], referentiel_id: str, edits: int,
                think_seconds: float, max_seconds: float, redis_url: str) -> RunResult:
    """K = len(accounts) editors editing concurrently, each watched by its viewer's websocket."""
    result = RunResult(len(accounts))
    with app.app_context():
        plan = plan_edits(accounts[0].collectivite_id, referentiel_id, edits)
        with app.test_request_context():
            paths = {
                account.collectivite_id: (
                    url_for("workspace.show_tree", collectivite_id=account.collectivite_id, referentiel_id=referentiel_id),
                    {edit.action_id: url_for("statuts.set_statut", collectivite_id=account.collectivite_id,
                                             referentiel_id=referentiel_id, action_id=edit.action_id) for edit in plan},
                )
                for account in accounts
            }
    with ThreadPoolExecutor(LOGIN_THREADS) as pool:
        participants = list(pool.map(lambda a: _connect(servers.base_url, a, *paths[a.collectivite_id]), accounts))
    monitor = PublishMonitor(redis_url)
    try:
        time.sleep(0.5)  # the server subscribes each socket just after the handshake
        deadline = time.monotonic() + max_seconds
        cpu_before, started = _cpu_seconds(servers), time.monotonic()
        with ThreadPoolExecutor(len(participants)) as pool:
            sent = pool.map(lambda p: _edit_loop(p, plan, think_seconds, deadline, result), participants)
            done = dict(zip((p.account.collectivite_id for p in participants), sent))
        result.cpu_seconds = {name: used - cpu_before[name] for name, used in _cpu_seconds(servers).items()}
        result.seconds = time.monotonic() - started
        result.load_average = os.getloadavg()[0]
    finally:
        for participant in participants:
            participant.viewer.close()
        monitor.stop()
    for timing in result.timings:
        timing.published = monitor.published(timing)
    with app.app_context():
        result.lost = count_lost_edits(accounts, plan, done, referentiel_id)
        db.session.remove()
    return result


def _cpu_seconds(servers: Servers) -> dict[str, float]:
    """CPU used so far by each process of the bench, then by the rest of the machine (PostgreSQL,
    Redis and whatever else runs there: other load skews the figures)."""
    ours = {"gunicorn": servers.web.cpu_seconds(), "workers RQ": sum(w.cpu_seconds() for w in servers.workers),
            "client du bench": time.process_time()}
    return {**ours, "reste de la machine": machine_busy_seconds() - sum(ours.values())}


def time_job_computation(account: Account, referentiel_id: str, runs: int = 30) -> list[float]:
    """Milliseconds of the job's own work (re-score, store, render the fragments), in this process,
    on a statut toggled between fait and pas fait: the job minus the queue and the transport."""
    (edit,) = plan_edits(account.collectivite_id, referentiel_id, 1)
    statut = ActionStatut(collectivite_id=account.collectivite_id, referentiel_id=referentiel_id,
                          action_id=edit.action_id, avancement="fait", concerne=True, modified_at=utcnow())
    db.session.add(statut)
    timings = []
    for n in range(runs):
        statut.avancement = "fait" if n % 2 == 0 else "pas_fait"
        bump_edit_revision(account.collectivite_id, referentiel_id)
        db.session.commit()
        start = time.perf_counter()
        update = evaluation.rescore(account.collectivite_id, referentiel_id)
        db.session.commit()
        score_update_html(update)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def run_push_bench(editor_counts: list[int], edits: int, think_seconds: float, max_seconds: float,
                   referentiel_id: str = "cae", database_server_url: str = DEFAULT_DATABASE_URL,
                   redis_url: str = DEFAULT_REDIS_URL, threads: int = 64, workers: int = DEFAULT_WORKERS,
                   echo=click.echo) -> tuple[list[RunResult], list[float]]:
    """The whole bench; returns one RunResult per K and the job computation timings (ms)."""
    secret_key = secrets.token_hex(32)
    with temporary_database(database_server_url) as database_url, flushed_redis(redis_url) as connection:
        env = app_env(database_url, redis_url, secret_key)
        echo(f"Base temporaire {database_url.rsplit('/', 1)[-1]}, Redis {redis_url} : migrations, contenu de démonstration…")
        run_flask(["db", "upgrade"], env)
        run_flask(["content", "load", str(PROJECT_ROOT / "content")], env)
        app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url), "REDIS_URL": None,
                          "SECRET_KEY": secret_key})
        try:
            with app.app_context():
                warm_up, job_account, *accounts = create_accounts(sum(editor_counts) + 2, referentiel_id)
                job_timings = time_job_computation(job_account, referentiel_id)
            echo(f"gunicorn -k gthread --threads {threads} -w 1 et {workers} worker(s) RQ : démarrage…")
            results = []
            with production_servers(env, connection, threads, workers) as servers:
                # Long-running processes in production: their first requests (templates, caches) are not measured.
                warm = run_editors(servers, app, [warm_up], referentiel_id, WARM_UP_EDITS, 0.05, max_seconds, redis_url)
                if warm.errors or warm.lost:
                    raise BenchError(f"échauffement en échec : {(warm.errors or ['éditions perdues'])[0]}")
                for k in editor_counts:
                    echo(f"K={k} : connexion de {2 * k} comptes, puis {edits} éditions par éditeur…")
                    results.append(run_editors(servers, app, accounts[:k], referentiel_id, edits, think_seconds,
                                               max_seconds, redis_url))
                    accounts = accounts[k:]
            return results, job_timings
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


# Report ------------------------------------------------------------------------------------------


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _figures(values: list[float]) -> str:
    if not values:
        return f"{'-':>8} {'-':>8} {'-':>8}"
    return f"{statistics.median(values):>8.1f} {_percentile(values, 0.95):>8.1f} {max(values):>8.1f}"


def print_report(results: list[RunResult], job_timings: list[float]) -> None:
    click.echo(f"\n{'édition → fragment poussé':<34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
               f"{'cible p95':>10} {'erreurs':>8} {'perdues':>8}")
    for result in results:
        latencies = [(t.pushed - t.sent) * 1000 for t in result.timings]
        target = TARGETS_MS.get(result.editors)
        missed = target is not None and latencies and _percentile(latencies, 0.95) > target
        shown_target = f"{target:g}{' MANQUÉE' if missed else ''}" if target else "-"
        click.echo(f"{f'K={result.editors}':<34} {len(latencies):>5} {_figures(latencies)} {shown_target:>10} "
                   f"{len(result.errors):>8} {result.lost:>8}")
    click.echo(f"\n{'où va le temps (ms)':<34} {'':>5} {'p50':>8} {'p95':>8} {'max':>8}")
    for result in results:
        published = [t for t in result.timings if t.published is not None]
        rows = (
            ("POST : enregistrement + mise en file", [(t.answered - t.sent) * 1000 for t in result.timings]),
            ("réponse POST → publication Redis", [(t.published - t.answered) * 1000 for t in published]),
            ("publication → websocket du lecteur", [(t.pushed - t.published) * 1000 for t in published]),
        )
        for label, values in rows:
            click.echo(f"{f'K={result.editors} {label}':<40} {_figures(values)}")
    click.echo(f"{'calcul du job seul (rescore + rendu)':<40} {_figures(job_timings)}")
    click.echo(f"\nCPU occupés en moyenne pendant les éditions (sur {os.cpu_count()}), et ms de CPU par édition :")
    for result in results:
        edits = max(1, len(result.timings))
        usage = ", ".join(f"{name} {seconds / max(result.seconds, 1e-9):.2f} ({1000 * seconds / edits:.1f} ms)"
                          for name, seconds in result.cpu_seconds.items())
        click.echo(f"K={result.editors} ({len(result.timings) / max(result.seconds, 1e-9):.0f} éditions/s, "
                   f"charge moyenne 1 min {result.load_average:.1f}) : {usage}")
    for result in results:
        for error in result.errors[:10]:
            click.echo(f"erreur (K={result.editors}) : {error}")


@click.command("push")
@click.option("--editors", "editor_counts", type=click.IntRange(1), multiple=True, default=(1, 50), show_default=True,
              help="Nombre K d'éditeurs simultanés (répétable).")
@click.option("--edits", type=click.IntRange(1), default=20, show_default=True, help="Éditions par éditeur.")
@click.option("--think-ms", type=click.FloatRange(0), default=1000, show_default=True,
              help="Temps de réflexion moyen entre deux éditions d'un éditeur (±50 %).")
@click.option("--max-seconds", type=click.FloatRange(1), default=120, show_default=True, help="Durée maximale par valeur de K.")
@click.option("--referentiel", "referentiel_id", default="cae", show_default=True)
@click.option("--threads", type=click.IntRange(2), default=64, show_default=True, help="Threads de gunicorn.")
@click.option("--workers", type=click.IntRange(1), default=DEFAULT_WORKERS, show_default=True,
              help="Processus `flask worker`.")
def bench_push_command(editor_counts, edits, think_ms, max_seconds, referentiel_id, threads, workers) -> None:
    """Latence édition → fragment poussé (PostgreSQL, Redis, gunicorn gthread, workers RQ).

    Base : BENCH_DATABASE_URL (défaut postgresql+psycopg://postgres@127.0.0.1:5432/test, une base
    temporaire y est créée puis supprimée) ; Redis : BENCH_REDIS_URL (défaut db 14, vidée).
    """
    try:
        results, job_timings = run_push_bench(
            list(editor_counts), edits, think_ms / 1000, max_seconds, referentiel_id,
            os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL,
            os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL, threads, workers,
        )
    except BenchError as error:
        raise click.ClickException(str(error)) from error
    print_report(results, job_timings)
    if any(result.errors or result.lost for result in results):
        raise click.ClickException("des éditions ont échoué ou ont été perdues")
