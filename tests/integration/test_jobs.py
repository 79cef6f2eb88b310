"""The re-score job end to end (in-process queue on SQLite, RQ burst worker on PostgreSQL + Redis):
stored scores and history, compare-and-set, retries, coalescing, Redis down, `flask scores rescore --stale`."""
import contextlib
import threading
import time

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.live import RedisHub
from app.models import ActionStatut, ScoreHistory, ScoreState
from app.queue import RedisQueue, current_queue, rescore_key
from app.redis_connection import connect_redis
from app.scoring import SCORE_FIELDS
from app.services import evaluation, scores, statuts, suivi
from app.persistence import utcnow
from app.rls import act_as, system_work
from tests.suivi_content import (  # noqa: F401 (fixture)
    CONTENT_VERSION_ID,
    fresh_score_table,
    jobs_held,
    make_editor,
    run_jobs,
    tiny_content,
)


@pytest.fixture
def editor(tiny_content):
    return make_editor()


@pytest.fixture
def computations(monkeypatch):
    """Counts the engine runs (a job that finds the scores fresh does not run it)."""
    runs = []

    def counting(*args):
        runs.append(args)
        return real(*args)

    real = evaluation.score_referentiel
    monkeypatch.setattr(evaluation, "score_referentiel", counting)
    return runs


def _state(collectivite_id) -> ScoreState:
    db.session.expire_all()
    return db.session.get(ScoreState, (collectivite_id, "eci"))


def _expected_scores(collectivite_id) -> dict:
    return {record.action_id: record for record in fresh_score_table(collectivite_id).records()}


def test_an_edit_is_scored_by_the_job_with_a_history_row_per_day(editor, computations):
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    statuts.set_statut(user, collectivite.id, "eci_1.2.2", "programme")
    run_jobs()
    state = _state(collectivite.id)
    assert (state.edit_revision, state.scored_revision, state.content_version_id) == (2, 2, CONTENT_VERSION_ID)
    assert scores.scores_for(collectivite.id, "eci")["eci_1.2"]["point_fait"] == 10.0
    (history,) = db.session.scalars(select(ScoreHistory)).all()
    assert (history.day, history.point_fait, history.point_programme, history.point_potentiel) == (utcnow().date(), 10.0, 10.0, 100.0)
    assert len(computations) == 2


def test_a_fresh_state_is_not_recomputed(editor, computations):
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    assert evaluation.rescore(collectivite.id, "eci") is None
    assert len(computations) == 1


def test_a_slow_computation_never_overwrites_fresher_scores(editor):
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    # As if a newer job (revision 5) had stored its scores while this one computed revision 1.
    state = _state(collectivite.id)
    state.scored_revision, state.content_version_id = 5, None
    db.session.commit()
    assert evaluation.rescore(collectivite.id, "eci") is None
    db.session.commit()
    assert _state(collectivite.id).scored_revision == 5


def test_scores_computed_on_older_content_never_overwrite_scores_of_newer_content(editor):
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    # As if the content had been reloaded and a job had scored the same revision on it while this
    # one was computing on the content it read before the reload.
    state = _state(collectivite.id)
    state.content_version_id, state.scores = CONTENT_VERSION_ID + 1, {"eci": "newer"}
    db.session.commit()
    assert evaluation.rescore(collectivite.id, "eci") is None
    db.session.commit()
    state = _state(collectivite.id)
    assert (state.scored_revision, state.content_version_id, state.scores) == (1, CONTENT_VERSION_ID + 1, {"eci": "newer"})


def test_the_update_lists_only_changed_nodes_and_always_the_totals(editor, monkeypatch):
    # The re-score is called by hand here: the queue's own job must not run it first.
    monkeypatch.setattr(suivi, "enqueue_rescore", lambda *ids: None)
    user, collectivite = editor
    evaluation.rescore(collectivite.id, "eci")  # first computation, nothing filled in
    db.session.commit()
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
    db.session.commit()
    update = evaluation.rescore(collectivite.id, "eci")
    db.session.commit()
    assert set(update.changed) == {"eci_1.1.1", "eci_1.1", "eci_1", "eci"}
    assert update.totals["point_fait"] == 5.0 and update.changed["eci"] == update.totals


POINT_FAIT = SCORE_FIELDS.index("point_fait")


def test_a_job_re_scores_every_edited_pair_coalesced_into_it(tiny_content, monkeypatch):
    """Edits of two collectivités while one job waits: that job scores both."""
    import app.jobs as jobs

    monkeypatch.setattr(suivi, "enqueue_rescore", lambda *ids: None)  # the one waiting job, run below
    ids = []
    for _ in range(2):
        user, collectivite = make_editor()
        statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
        db.session.commit()
        ids.append(collectivite.id)
    jobs.rescore_job(ids[0], "eci")
    for collectivite_id in ids:
        state = _state(collectivite_id)
        assert state.scored_revision == state.edit_revision == 1 and state.scores["eci_1.1.1"][POINT_FAIT] == 5.0


def test_a_job_failing_once_is_retried_and_no_edit_is_lost(app, editor, monkeypatch):
    import app.jobs as jobs

    monkeypatch.setitem(app.config, "RESCORE_RETRY_INTERVALS", (0, 0, 0))
    attempts = []

    def fails_once(*args):
        attempts.append(args)
        if len(attempts) == 1:
            raise ConnectionError("base indisponible")
        return evaluation.rescore(*args)

    monkeypatch.setattr(jobs, "rescore", fails_once)
    monkeypatch.setattr(jobs, "rescore_pairs", lambda pairs: (_ for _ in ()).throw(ConnectionError("base indisponible")))
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    assert len(attempts) == 2
    state = _state(collectivite.id)
    assert state.scored_revision == state.edit_revision == 1
    assert scores.scores_for(collectivite.id, "eci")["eci_1.2.1"]["point_fait"] == 10.0


@pytest.mark.parametrize("held", [True, False], ids=["worker busy", "worker idle"])
def test_quick_edits_give_fresh_final_scores_and_share_a_waiting_job(editor, computations, held, monkeypatch):
    """Edits saved while their job waits share it, which does not sleep (other collectivités'
    jobs wait behind it); on an idle worker each edit may get its own job, racing with the next
    edits: the final scores are fresh all the same."""
    sleepers, sleep = [], time.sleep
    monkeypatch.setattr(time, "sleep", lambda seconds: (sleepers.append(threading.current_thread().name), sleep(seconds)))
    user, collectivite = editor
    values = ["fait", "programme", "pas_fait", "non_concerne", "fait"]
    with jobs_held() if held else contextlib.nullcontext():
        for n in range(10):
            statuts.set_statut(user, collectivite.id, f"eci_1.2.{1 + n % 3}", values[n % 5])
    run_jobs()
    state = _state(collectivite.id)
    assert state.scored_revision == state.edit_revision == 10  # never a stale final state
    stored = scores.scores_for(collectivite.id, "eci")
    for action_id, record in _expected_scores(collectivite.id).items():
        assert stored[action_id] == {name: getattr(record, name) for name in stored[action_id]}
    assert (len(computations) == 1) if held else (1 <= len(computations) <= 10)
    assert "in-process-jobs" not in sleepers


def test_redis_down_the_edit_is_saved_and_scored_in_process(app, editor, monkeypatch):
    closed = connect_redis("redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.extensions, "queue", RedisQueue(app, closed))
    monkeypatch.setitem(app.extensions, "hub", RedisHub(closed))
    user, collectivite = editor
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    app.extensions["queue"].drain()
    state = _state(collectivite.id)
    assert state.scored_revision == state.edit_revision == 1


def test_a_redis_blip_at_enqueue_does_not_block_the_next_edit(app, editor, monkeypatch):
    """Redis blips during the enqueue: the job runs in this process and scores the edit, and the
    next edit enqueues an RQ job."""
    import fakeredis
    import redis

    queue = RedisQueue(app, fakeredis.FakeRedis())
    monkeypatch.setitem(app.extensions, "queue", queue)
    with monkeypatch.context() as outage:
        outage.setattr(queue.rq, "enqueue", lambda *args, **kwargs: (_ for _ in ()).throw(redis.ConnectionError("blip")))
        user, collectivite = editor
        statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
        queue.drain()
    state = _state(collectivite.id)
    assert state.scored_revision == state.edit_revision == 1
    statuts.set_statut(user, collectivite.id, "eci_1.2.2", "fait")  # Redis is back
    assert [job.args for job in queue.rq.jobs] == [(collectivite.id, "eci")]


@pytest.mark.postgres
def test_jobs_of_one_pair_run_one_at_a_time_whichever_worker_takes_them(app_context):
    """Two workers may start two jobs of one pair: the second waits for the first, so that its push
    cannot overtake the first one's; other pairs' jobs do not wait."""
    queue, order = current_queue(), []
    entered, release = threading.Event(), threading.Event()

    def first():
        with queue.exclusive(rescore_key(1, "eci")):
            order.append("first in")
            entered.set()
            release.wait(5)
            order.append("first out")

    def second():
        with queue.exclusive(rescore_key(1, "eci")):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    entered.wait(5)
    threads[1].start()
    with queue.exclusive(rescore_key(2, "eci")):
        order.append("other pair")
    release.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first in", "other pair", "first out", "second in"]


def test_the_stale_scores_sweep_enqueues_what_no_job_will_score(editor, monkeypatch):
    """An edit saved whose job was lost (Redis restarted, the web process died): the sweep
    `flask worker` runs at start and at each maintenance finds it."""
    from app.jobs import enqueue_stale_rescores

    user, collectivite = editor
    with monkeypatch.context() as lost:
        lost.setattr(suivi, "enqueue_rescore", lambda *ids: None)
        statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    assert enqueue_stale_rescores() == 1
    run_jobs()
    state = _state(collectivite.id)
    assert state.scored_revision == state.edit_revision == 1
    assert evaluation.stale_score_keys() == [] and enqueue_stale_rescores() == 0


def test_rescore_stale_command_rescores_edited_outdated_and_unscored(runner, editor):
    user, collectivite = editor
    other_user, other = make_editor()
    act_as(user)
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "fait")
    run_jobs()
    state = _state(collectivite.id)
    with system_work():
        state.content_version_id = None  # computed on an older content edition
        db.session.add(
            ActionStatut(collectivite_id=other.id, referentiel_id="eci", action_id="eci_1.1.1", avancement="fait",
                         concerne=True, modified_at=utcnow())  # e.g. imported data, never scored
        )
        db.session.commit()
    result = runner.invoke(args=["scores", "rescore", "--stale"])
    assert result.exit_code == 0, result.output
    assert "2 score(s) recalculé(s)" in result.output
    assert evaluation.stale_score_keys() == []
    assert scores.scores_for(other.id, "eci")["eci_1.1.1"]["point_fait"] == 5.0
    assert "0 score(s)" in runner.invoke(args=["scores", "rescore", "--stale"]).output


def test_the_scoring_content_cache_is_safe_when_threads_see_different_versions(monkeypatch):
    """Web threads and the in-process job thread share the cache; a reload makes them disagree
    for a moment: each must get the content of the version it read, never a KeyError."""
    import sys
    import threading

    from app.services import scoring_content

    class VersionSession:
        def __init__(self, version):
            self.version = version

        def execute(self, _statement):
            return self

        def first(self):
            return self.version

    monkeypatch.setattr(scoring_content, "_build_from_db", lambda session: session.version)
    outcomes = []

    def read(version):
        for _ in range(500):
            try:
                outcomes.append(scoring_content.scoring_content_from_db(VersionSession(version)) == version)
            except Exception as error:  # noqa: BLE001 (the failure this test is about)
                outcomes.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=read, args=((n, "hash", None),)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert outcomes.count(True) == len(outcomes) == 2000


def _edited_pairs(count: int, monkeypatch) -> list[tuple[int, str]]:
    """`count` collectivités, each scored once (by a job) then edited again, their scores left
    stale (no job enqueued for that edit)."""
    editors = [make_editor() for _ in range(count)]
    for user, collectivite in editors:
        act_as(user)
        statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
    run_jobs()
    with monkeypatch.context() as held:
        held.setattr(suivi, "enqueue_rescore", lambda *ids: None)
        for n, (user, collectivite) in enumerate(editors):
            act_as(user)
            statuts.set_statut(user, collectivite.id, f"eci_1.2.{1 + n % 3}", ("programme", "non_concerne")[n % 2])
    return [(collectivite.id, "eci") for _user, collectivite in editors]


@pytest.mark.parametrize("remembered", [True, False], ids=["records remembered", "records read back"])
def test_a_batch_stores_and_pushes_what_each_pair_alone_would(tiny_content, remembered, monkeypatch):
    pairs = _edited_pairs(3, monkeypatch)
    if not remembered:  # another worker stored the records before: they are read from the database
        monkeypatch.setattr(evaluation, "_recent_records", type(evaluation._recent_records)())
    before = {pair: dict(scores.scores_for(*pair)) for pair in pairs}
    updates, left = evaluation.rescore_pairs(pairs)
    db.session.commit()
    assert left == [] and [(u.collectivite_id, u.referentiel_id) for u in updates] == pairs
    for update in updates:
        state = _state(update.collectivite_id)
        assert state.scored_revision == state.edit_revision == update.revision == 2
        expected = {r.action_id: {name: getattr(r, name) for name in SCORE_FIELDS} for r in
                    fresh_score_table(update.collectivite_id).records()}
        assert dict(scores.scores_for(update.collectivite_id, "eci")) == expected
        old = before[(update.collectivite_id, "eci")]
        assert update.changed == {a: record for a, record in expected.items() if old[a] != record or a == "eci"}
        history = db.session.scalars(select(ScoreHistory).where(ScoreHistory.collectivite_id == update.collectivite_id)).one()
        assert history.scores == state.scores and history.point_fait == update.totals["point_fait"]
    assert evaluation.rescore_pairs(pairs) == ([], [])  # fresh now


def test_a_batch_raced_by_another_computation_leaves_every_pair_to_be_scored_alone(tiny_content, monkeypatch):
    pairs = _edited_pairs(2, monkeypatch)
    read = evaluation.read_statuts_of_pairs

    def raced(batch):  # another worker stores the first pair's scores while this batch computes
        db.session.execute(update(ScoreState).where(ScoreState.collectivite_id == pairs[0][0])
                           .values(computed_at=utcnow()))
        return read(batch)

    monkeypatch.setattr(evaluation, "read_statuts_of_pairs", raced)
    assert evaluation.rescore_pairs(pairs) == ([], pairs)
    db.session.commit()
    assert all(_state(collectivite_id).scored_revision == 1 for collectivite_id, _ in pairs)


def test_a_job_scores_the_pairs_coalesced_into_it_together(tiny_content, monkeypatch):
    import app.jobs as jobs

    pairs = _edited_pairs(4, monkeypatch)
    batches = []
    monkeypatch.setattr(jobs, "rescore_pairs", lambda batch: batches.append(batch) or evaluation.rescore_pairs(batch))
    jobs.rescore_job(*pairs[0])
    assert batches == [pairs]  # its own pair first
    assert all(_state(collectivite_id).scored_revision == 2 for collectivite_id, _ in pairs)
