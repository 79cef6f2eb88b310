"""`flask bench push`: edit → pushed fragment latency on the production shape of this machine.

A fresh PostgreSQL database (dropped at the end) and a dedicated Redis db (flushed), the demo
content, then gunicorn gthread (1 process, 64 threads) and ONE RQ worker as subprocesses. For
each K, K collectivités each get an editor (édition) and a viewer (lecture) who log in through
the real form; the viewer opens the collectivité's websocket; the editor sets statuts of tâches
by the htmx POST of the tree page, one at a time with a think time between two edits. Latency:
from sending the POST to the viewer receiving the score fragment of THAT tâche with its new
value. Each edit changes the tâche's score (fait, then pas fait on a second round), so the
fragment is recognised by its "réalisé" figure.

Then the check: every edited tâche's last statut is stored and the stored scores equal a fresh
computation of the stored statuts (else the edit counts as lost). The breakdown (POST, queue +
job up to the Redis publish, delivery to the websocket, the job's computation alone) says where
the time goes.
"""
import random
import secrets
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import click
import redis
from flask import Flask, url_for
from simple_websocket import Client, ConnectionClosed
from sqlalchemy import select

from app import create_app
from app.auth import hash_password
from app.bench_support import (
    BenchError,
    HttpSession,
    Servers,
    app_env,
    flushed_redis,
    production_servers,
    run_flask,
    temporary_database,
)
from app.commands import bench_cli
from app.config import PROJECT_ROOT, normalise_database_url
from app.extensions import db
from app.filters import dom_id, format_percent
from app.fragments import score_update_html
from app.live import CHANNEL_PREFIX, collectivite_topic
from app.models import Action, ActionStatut, Collectivite, Membership, Referentiel, ScoreState, User
from app.scoring import SCORE_FIELDS, Statut, score_referentiel
from app.services import evaluation
from app.services.accounts import utcnow
from app.services.collectivites import normalise_search
from app.services.scoring_content import scoring_content_from_db

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
TARGETS_MS = {1: 50.0, 50: 150.0}
PASSWORD = "bench-mot-de-passe-2025"
PUSH_TIMEOUT_SECONDS = 5.0
SETTLE_TIMEOUT_SECONDS = 15.0
LOGIN_THREADS = 4  # argon2 verification is CPU- and memory-heavy on purpose
# The statuts the bench writes, as the engine reads them (fait, programmé, pas fait).
AVANCEMENTS = {"fait": (1.0, 0.0, 0.0), "pas_fait": (0.0, 0.0, 1.0)}


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


# Data --------------------------------------------------------------------------------------------


def create_accounts(count: int) -> list[Account]:
    """`count` communes, each with one editor (édition) and one viewer (lecture)."""
    password_hash = hash_password(PASSWORD)  # once: argon2 is slow on purpose
    users, accounts = [], []
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
        users.append(collectivite.id)
        accounts.append(Account(collectivite.id, editor.email, viewer.email))
    db.session.commit()
    for collectivite_id in users:
        evaluation.scores_for(collectivite_id, "cae")  # first scores, as a first page view would
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
    scores = evaluation.scores_for(collectivite_id, referentiel_id)
    taches = [
        (action.id, scores[action.id]["point_potentiel"]) for action in actions
        if action.id not in parents and scores.get(action.id, {}).get("point_potentiel")
        and not evaluation.is_desactive(collectivite_id, action.id)
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
        statuts = [Statut(action_id, AVANCEMENTS.get(avancement), True) for action_id, avancement in stored.items()]
        table = score_referentiel(content.trees[referentiel_id], statuts, evaluation.consequences_for(collectivite_id))
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
        self._pubsub.psubscribe(CHANNEL_PREFIX + collectivite_topic("*"))
        self._stopped = threading.Event()
        self.messages: list[tuple[float, str, str]] = []  # (time, channel, html)
        self._thread = threading.Thread(target=self._listen, name="bench-publish-monitor", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stopped.is_set():
            message = self._pubsub.get_message(timeout=0.1)
            if message is not None:
                self.messages.append((time.perf_counter(), message["channel"].decode(), message["data"].decode()))

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
        self._pubsub.close()

    def published(self, timing: EditTiming) -> float | None:
        """When the fragment of this edit was published (None if the monitor missed it)."""
        channel = CHANNEL_PREFIX + collectivite_topic(timing.collectivite_id)
        return next((at for at, name, html in self.messages if name == channel and at >= timing.sent
                     and shown_realise(html, timing.edit.action_id) == timing.edit.shown), None)
