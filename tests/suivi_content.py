"""A tiny référentiel for the suivi, job and live tests, and the `tiny_content` fixture (import it).

The running example of scoring.md §3, action level 1: depth 2 = sous-actions, 3 = tâches.
    eci (100) ─ eci_1 (40) ─ eci_1.1 (10): eci_1.1.1 (5), eci_1.1.2 (5)
                           └ eci_1.2 (30): eci_1.2.1, eci_1.2.2, eci_1.2.3 (10 each)
              └ eci_2 (60) ─ eci_2.0 (0), eci_2.1 (20)
                           └ eci_2.2 (40): eci_2.2.1, eci_2.2.2 (20 each)
eci_2.2 is désactivée when the binaire question `compost` is answered NON.
"""
import time
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


# The coalescing promise: "ten edits in 100 ms give one or two re-scores, never a stale final state".
BURST_WINDOW_SECONDS = 0.1


def timed_burst(edits) -> list[float]:
    """Run the edits (callables) one after the other; the time.monotonic() at which each was saved."""
    saved_at = []
    for edit in edits:
        edit()
        saved_at.append(time.monotonic())
    return saved_at


def burst_within_window(saved_at: list[float]) -> bool:
    """True when the edits came as the promise has them: all within BURST_WINDOW_SECONDS, and none
    after a pause long enough for a job to take it for the end of the burst. A loaded machine may
    spread them out: the tests then check the weaker promise (see enqueued_jobs)."""
    from flask import current_app

    from app.queue import DEFAULT_COALESCE_SECONDS

    quiet = float(current_app.config.get("RESCORE_COALESCE_SECONDS", DEFAULT_COALESCE_SECONDS))
    gaps = [later - earlier for earlier, later in zip(saved_at, saved_at[1:])]
    return saved_at[-1] - saved_at[0] <= BURST_WINDOW_SECONDS and max(gaps, default=0) < quiet


def enqueued_jobs(monkeypatch) -> list[tuple]:
    """Records the jobs the edits enqueue from now on (one per burst the coalescing saw)."""
    from app.queue import current_queue

    queue, jobs = current_queue(), []
    enqueue = queue.enqueue

    def recording(func, *args):
        jobs.append(args)
        return enqueue(func, *args)

    monkeypatch.setattr(queue, "enqueue", recording)
    return jobs


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
    """The tiny content loaded, no pending marker or queued job at the start, and every job
    finished at the end (before the tables are emptied under them)."""
    from app.queue import RedisQueue, current_queue, pending_key

    load_tiny_content()
    queue = current_queue()
    queue.drain()
    if isinstance(queue, RedisQueue):
        queue.rq.empty()
        for key in queue.rq.connection.scan_iter(pending_key("*", "*")):
            queue.rq.connection.delete(key)
    yield
    run_jobs()
