"""A tiny référentiel for the suivi, job and live tests, and the `tiny_content` fixture (import it).

The running example of scoring.md §3, action level 1: depth 2 = sous-actions, 3 = tâches.
    eci (100) ─ eci_1 (40) ─ eci_1.1 (10): eci_1.1.1 (5), eci_1.1.2 (5)
                           └ eci_1.2 (30): eci_1.2.1, eci_1.2.2, eci_1.2.3 (10 each)
              └ eci_2 (60) ─ eci_2.0 (0), eci_2.1 (20)
                           └ eci_2.2 (40): eci_2.2.1, eci_2.2.2 (20 each)
eci_2.2 is désactivée when the binaire question `compost` is answered NON.
"""
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from app.extensions import db
from app.models import Action, ContentVersion, PersonnalisationRegle, Question, Referentiel
from app.persistence import utcnow
from app.rls import act_as
from tests.factories import add_member, make_collectivite, make_user

# A fixed id: the scoring content is cached per ContentVersion id, keep ours apart from others'.
CONTENT_VERSION_ID = 424242
POINTS = {
    "eci": 100, "eci_1": 40, "eci_1.1": 10, "eci_1.1.1": 5, "eci_1.1.2": 5, "eci_1.2": 30, "eci_1.2.1": 10,
    "eci_1.2.2": 10, "eci_1.2.3": 10, "eci_2": 60, "eci_2.0": 0, "eci_2.1": 20, "eci_2.2": 40, "eci_2.2.1": 20,
    "eci_2.2.2": 20,
}


def load_tiny_content() -> None:
    db.session.add(Referentiel(id="eci", nom="Économie circulaire (test)", action_level=1, points=100))
    db.session.flush()
    for position, (action_id, points) in enumerate(POINTS.items()):
        identifiant = action_id.partition("_")[2]
        db.session.add(
            Action(
                id=action_id,
                referentiel_id="eci",
                parent_id=_parent(action_id),
                identifiant=identifiant,
                nom=f"Action {identifiant or 'racine'}",
                depth=len(identifiant.split(".")) if identifiant else 0,
                position=position,
                points=points,
            )
        )
    db.session.add(Question(id="compost", type="binaire", formulation="Compostage collectif ?", thematique_id="dechets"))
    db.session.add(PersonnalisationRegle(action_id="eci_2.2", kind="desactivation", formule="reponse(compost, NON)"))
    db.session.add(ContentVersion(id=CONTENT_VERSION_ID, content_hash="tiny", source="tests", loaded_at=utcnow()))
    db.session.commit()


def _parent(action_id: str) -> str | None:
    if "." in action_id:
        return action_id.rsplit(".", 1)[0]
    return action_id.partition("_")[0] if "_" in action_id else None


def make_editor(role: str = "edition"):
    """A collectivité and a member with `role` on it, for whom the database checks this app
    context's later writes (the signed-in user does that in a request)."""
    collectivite = make_collectivite()
    user = make_user()
    add_member(user, collectivite, role)
    act_as(user)
    return user, collectivite


@contextmanager
def jobs_held():
    """No job runs inside the block: the in-process queue's thread is kept busy by another job (RQ
    jobs wait for run_jobs anyway). The edits saved meanwhile find their job waiting."""
    from app.queue import RedisQueue, current_queue

    queue = current_queue()
    if isinstance(queue, RedisQueue):
        yield
        return
    with thread_busy(queue):
        yield


@contextmanager
def thread_busy(queue):
    """The thread of the InProcessQueue `queue` runs a job that ends with the block."""
    started, release = threading.Event(), threading.Event()
    queue.enqueue(lambda: (started.set(), release.wait(10)))
    started.wait(10)
    try:
        yield
    finally:
        release.set()


def fresh_score_table(collectivite_id: int, referentiel_id: str = "eci"):
    """The engine run in the test on the statuts as stored now (what the stored scores must equal)."""
    from sqlalchemy import select

    from app.models import ActionStatut
    from app.scoring import Statut, score_referentiel
    from app.scoring.avancement import avancement_fractions
    from app.services.personnalisation import consequences_for
    from app.services.scoring_content import scoring_content_from_db

    statuts = [
        Statut(s.action_id, avancement_fractions(s.avancement, s.concerne, s.fait, s.programme, s.pas_fait), s.concerne)
        for s in db.session.scalars(
            select(ActionStatut).where(ActionStatut.collectivite_id == collectivite_id, ActionStatut.referentiel_id == referentiel_id)
        )
    ]
    tree = scoring_content_from_db(db.session).trees[referentiel_id]
    return score_referentiel(tree, statuts, consequences_for(collectivite_id))


PHASES = {"eci_1.1": "bases", "eci_1.2": "mise en œuvre", "eci_2.1": "effets", "eci_2.2": "bases", "eci_2.0": "bases"}


def phased_collectivite(statuts_set: dict[str, str]):
    """The tiny référentiel's sous-actions given phases (PHASES); a collectivité with a reader and an
    editor (users by role), the editor having set `statuts_set` (action id -> statut) and acting
    still. Returns (collectivité, users)."""
    from app.services import statuts

    for action_id, categorie in PHASES.items():
        db.session.get(Action, action_id).categorie = categorie
    db.session.commit()
    collectivite = make_collectivite()
    users = {}
    for role in ("lecture", "edition"):
        users[role] = make_user()
        add_member(users[role], collectivite, role)
    act_as(users["edition"])
    for action_id, statut in statuts_set.items():
        statuts.set_statut(users["edition"], collectivite.id, action_id, statut)
    return collectivite, users


class FrozenClock:
    """What `utcnow` returns in the modules given to frozen_clock; `advance(hours=1)` moves it."""

    def __init__(self, now: datetime):
        self.now = now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def frozen_clock(monkeypatch, start: datetime, *modules) -> FrozenClock:
    """A clock frozen at `start` (naive UTC) standing for `utcnow` in each of `modules`."""
    clock = FrozenClock(start)
    for module in modules:
        monkeypatch.setattr(module, "utcnow", lambda: clock.now)
    return clock


def run_jobs() -> None:
    """Run the queued jobs to the end: drain the in-process queue, or an RQ burst worker."""
    from rq import SimpleWorker

    from app.queue import RedisQueue, current_queue

    queue = current_queue()
    queue.drain()
    if isinstance(queue, RedisQueue):
        SimpleWorker([queue.rq], connection=queue.rq.connection).work(burst=True)


@pytest.fixture
def tiny_content(app_context):
    """The tiny content loaded, no queued job (nor id of one) at the start, and every job
    finished at the end (before the tables are emptied under them)."""
    from app.queue import RedisQueue, current_queue, rescore_key

    load_tiny_content()
    queue = current_queue()
    queue.drain()
    if isinstance(queue, RedisQueue):
        queue.rq.empty()
        for key in queue.rq.connection.scan_iter(rescore_key("*", "*")):
            queue.rq.connection.delete(key)
    yield
    run_jobs()
