"""The queue façade without the project's app: in-process worker, retries, RQ via fakeredis, Redis down."""
import threading

import fakeredis
import pytest
from flask import Flask
from rq.job import JobStatus

from app.live import connect_redis
from app.queue import JOB_TIMEOUT_SECONDS, PENDING_TTL_SECONDS, InProcessQueue, RedisQueue, enqueue_rescore, pending_key

calls: list[tuple] = []
failures_left = {"count": 0}


def record(*args) -> None:
    calls.append((threading.current_thread().name, *args))


def flaky(*args) -> None:
    if failures_left["count"]:
        failures_left["count"] -= 1
        raise RuntimeError("panne passagère")
    calls.append(args)


@pytest.fixture
def flask_app():
    calls.clear()
    app = Flask(__name__)
    app.config["RESCORE_RETRY_INTERVALS"] = (0, 0, 0)
    return app


def test_in_process_jobs_run_in_the_background_thread_and_drain_waits_for_them(flask_app):
    queue = InProcessQueue(flask_app)
    for n in range(5):
        queue.enqueue(record, n)
    queue.drain()
    assert [call[1] for call in calls] == [0, 1, 2, 3, 4]
    assert {call[0] for call in calls} == {"in-process-jobs"}


def test_a_job_failing_once_is_retried_and_succeeds(flask_app):
    failures_left["count"] = 1
    queue = InProcessQueue(flask_app)
    queue.enqueue(flaky, "a")
    queue.drain()
    assert calls == [("a",)]


def test_a_job_failing_every_time_is_given_up_after_three_retries(flask_app):
    failures_left["count"] = 10
    queue = InProcessQueue(flask_app)
    queue.enqueue(flaky, "a")
    queue.drain()
    assert calls == [] and failures_left["count"] == 10 - 4


def test_retries_wait_without_blocking_other_jobs(flask_app):
    flask_app.config["RESCORE_RETRY_INTERVALS"] = (0.3,)
    failures_left["count"] = 1
    queue = InProcessQueue(flask_app)
    queue.enqueue(flaky, "late")
    queue.enqueue(flaky, "early")
    queue.drain()
    assert calls == [("early",), ("late",)]


@pytest.mark.parametrize("transport", ["in-process", "redis"])
def test_pending_counters_count_edits_until_the_job_clears_them(flask_app, transport):
    queue = InProcessQueue(flask_app) if transport == "in-process" else RedisQueue(flask_app, fakeredis.FakeRedis())
    for _ in range(3):
        queue.enqueue_once("k", record, "x")
    assert queue.pending_count("k") == 3 and queue.pending_count("other") == 0
    queue.clear_pending("k")
    assert queue.pending_count("k") == 0
    queue.enqueue_once("k", record, "x")
    assert queue.pending_count("k") == 1


def _started_by_a_worker(queue: RedisQueue, job) -> None:
    """What a worker does when it takes the job (then dies, or runs it)."""
    queue.rq.remove(job)
    job.set_status(JobStatus.STARTED)


def test_enqueue_rescore_enqueues_once_until_the_job_starts(flask_app):
    queue = RedisQueue(flask_app, fakeredis.FakeRedis())
    flask_app.extensions["queue"] = queue
    with flask_app.app_context():
        for _ in range(10):
            enqueue_rescore(3, "eci")
        assert [job.func_name for job in queue.rq.jobs] == ["app.jobs.rescore_job"]
        job = queue.rq.jobs[0]
        assert job.args == (3, "eci") and job.retries_left == 3 and job.timeout == JOB_TIMEOUT_SECONDS
        _started_by_a_worker(queue, job)
        enqueue_rescore(3, "eci")  # the running job may have read the revision already
        enqueue_rescore(3, "eci")
        enqueue_rescore(4, "eci")
    assert [job.args for job in queue.rq.jobs] == [(3, "eci"), (4, "eci")]


@pytest.mark.parametrize("fate", ["worker killed", "given up", "lost with Redis's data"])
def test_a_counter_left_by_a_job_that_will_never_run_does_not_block_the_next_edit(flask_app, fate):
    """The worker died mid-burst (its job never cleared the counter), the job failed for good, or
    Redis restarted without it: the next edit enqueues a job all the same."""
    queue = RedisQueue(flask_app, fakeredis.FakeRedis())
    flask_app.extensions["queue"] = queue
    with flask_app.app_context():
        enqueue_rescore(3, "eci")
        enqueue_rescore(3, "eci")
        (job,) = queue.rq.jobs
        _started_by_a_worker(queue, job)
        if fate == "given up":
            job.set_status(JobStatus.FAILED)
        elif fate == "lost with Redis's data":
            job.delete()
        assert queue.pending_count(pending_key(3, "eci")) == 2  # never cleared
        enqueue_rescore(3, "eci")
    assert [job.args for job in queue.rq.jobs] == [(3, "eci")]


@pytest.mark.parametrize("transport", ["in-process", "redis"])
def test_a_sweep_enqueues_like_an_edit_without_counting_one(flask_app, transport):
    queue = InProcessQueue(flask_app) if transport == "in-process" else RedisQueue(flask_app, fakeredis.FakeRedis())
    flask_app.extensions["queue"] = queue
    enqueued = []
    queue.enqueue = lambda func, *args: enqueued.append(args)
    with flask_app.app_context():
        enqueue_rescore(3, "eci", count_edit=False)
        assert enqueued == [(3, "eci")] and queue.pending_count(pending_key(3, "eci")) == 0


def test_redis_down_runs_the_job_in_process(flask_app):
    queue = RedisQueue(flask_app, connect_redis("redis://127.0.0.1:1/0"))
    queue.enqueue_once("k", record, "x")
    queue.enqueue_once("k", record, "x")  # counted in this process: coalesced
    queue.drain()
    assert [call[1:] for call in calls] == [("x",)] and queue.pending_count("k") == 2
    queue.clear_pending("k")  # logs, does not raise
    queue.enqueue(record, "y")
    queue.drain()
    assert [call[1:] for call in calls] == [("x",), ("y",)]


def test_later_edits_never_extend_the_pending_counter_ttl(flask_app):
    connection = fakeredis.FakeRedis()
    queue = RedisQueue(flask_app, connection)
    queue.enqueue_once("k", record, "x")
    assert 0 < connection.ttl("k") <= PENDING_TTL_SECONDS
    connection.expire("k", 5)  # time passes
    for _ in range(3):
        queue.enqueue_once("k", record, "x")
    assert queue.pending_count("k") == 4 and connection.ttl("k") <= 5  # a counter nobody clears expires as planned
    queue.clear_pending("k")
    queue.enqueue_once("k", record, "x")
    assert connection.ttl("k") > 5
