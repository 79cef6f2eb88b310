"""The queue façade without the project's app: in-process worker, retries, RQ via fakeredis, Redis down."""
import threading

import fakeredis
import pytest
from flask import Flask
from rq.job import JobStatus

from app.queue import (JOB_TIMEOUT_SECONDS, LAST_JOB_TTL_SECONDS, InProcessQueue, RedisQueue, enqueue_pair_rescore,
                       enqueue_rescore, last_job_key)
from app.redis_connection import connect_redis
from tests.suivi_content import thread_busy

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


def test_a_job_given_by_its_dotted_path_runs_in_process(flask_app):
    queue = InProcessQueue(flask_app)
    queue.enqueue(f"{__name__}.record", "by path")
    queue.enqueue_once("k", f"{__name__}.record", "once")
    queue.drain()
    assert [call[1:] for call in calls] == [("by path",), ("once",)]


def test_in_process_an_edit_joins_the_job_waiting_for_its_key_until_it_starts(flask_app):
    queue = InProcessQueue(flask_app)
    with thread_busy(queue):
        for n in range(3):  # all three wait in one job
            queue.enqueue_once("k", record, n)
        queue.enqueue_once("other", record, "other")
    queue.drain()
    assert [call[1:] for call in calls] == [(0,), ("other",)]
    queue.enqueue_once("k", record, 3)  # that job started (and ended): a new one
    queue.drain()
    assert [call[1:] for call in calls][-1] == (3,)


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
        enqueue_rescore(4, "eci")  # the waiting job re-scores every edited pair
        enqueue_pair_rescore(5, "eci")  # never scored: the database does not show it edited
        enqueue_pair_rescore(5, "eci")
    assert [job.args for job in queue.rq.jobs] == [(3, "eci"), (5, "eci")]


@pytest.mark.parametrize("fate", ["worker killed", "given up", "lost with Redis's data"])
def test_a_job_that_will_never_end_or_run_does_not_block_the_next_edit(flask_app, fate):
    """The worker died running the job, the job failed for good, or Redis restarted without it:
    the next edit enqueues a job all the same."""
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
        enqueue_rescore(3, "eci")
    assert [job.args for job in queue.rq.jobs] == [(3, "eci")]


def test_redis_down_runs_the_job_in_process(flask_app):
    queue = RedisQueue(flask_app, connect_redis("redis://127.0.0.1:1/0"))
    with thread_busy(queue.fallback):
        queue.enqueue_once("k", record, "x")
        queue.enqueue_once("k", record, "x")  # waiting in this process: coalesced
    queue.drain()
    assert [call[1:] for call in calls] == [("x",)]
    queue.enqueue(record, "y")
    queue.drain()
    assert [call[1:] for call in calls] == [("x",), ("y",)]


def test_the_id_of_the_last_job_expires(flask_app):
    connection = fakeredis.FakeRedis()
    queue = RedisQueue(flask_app, connection)
    queue.enqueue_once("k", record, "x")
    assert connection.get(last_job_key("k")) == queue.rq.jobs[0].id.encode()
    assert 0 < connection.ttl(last_job_key("k")) <= LAST_JOB_TTL_SECONDS
