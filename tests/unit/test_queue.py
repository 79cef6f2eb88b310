"""The queue façade without the project's app: in-process worker, retries, RQ via fakeredis, Redis down."""
import threading

import fakeredis
import pytest
from flask import Flask

from app.live import connect_redis
from app.queue import PENDING_TTL_SECONDS, InProcessQueue, RedisQueue, enqueue_rescore, pending_key

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
    assert [queue.mark_pending("k") for _ in range(3)] == [1, 2, 3]
    assert queue.pending_count("k") == 3 and queue.pending_count("other") == 0
    queue.clear_pending("k")
    assert queue.pending_count("k") == 0 and queue.mark_pending("k") == 1


def test_enqueue_rescore_enqueues_once_until_the_job_starts(flask_app):
    queue = RedisQueue(flask_app, fakeredis.FakeRedis())
    flask_app.extensions["queue"] = queue
    with flask_app.app_context():
        for _ in range(10):
            enqueue_rescore(3, "eci")
        assert [job.func_name for job in queue.rq.jobs] == ["app.jobs.rescore_job"]
        assert queue.rq.jobs[0].args == (3, "eci")
        assert queue.rq.jobs[0].retries_left == 3
        queue.clear_pending(pending_key(3, "eci"))  # what the job does when it starts
        enqueue_rescore(3, "eci")
        enqueue_rescore(4, "eci")
    assert len(queue.rq.jobs) == 3


def test_redis_down_runs_the_job_in_process(flask_app):
    queue = RedisQueue(flask_app, connect_redis("redis://127.0.0.1:1/0"))
    assert [queue.mark_pending("k") for _ in range(2)] == [1, 2]  # in-process counters instead
    queue.enqueue(record, "x")
    queue.drain()
    assert [call[1:] for call in calls] == [("x",)]
    queue.clear_pending("k")  # logs, does not raise
    assert queue.mark_pending("k") == 1


def test_later_edits_never_extend_the_pending_marker_ttl(flask_app):
    connection = fakeredis.FakeRedis()
    queue = RedisQueue(flask_app, connection)
    assert queue.mark_pending("k") == 1 and 0 < connection.ttl("k") <= PENDING_TTL_SECONDS
    connection.expire("k", 5)  # time passes
    assert [queue.mark_pending("k") for _ in range(3)] == [2, 3, 4]
    assert connection.ttl("k") <= 5  # a marker nobody clears expires as planned
    queue.clear_pending("k")
    assert queue.mark_pending("k") == 1 and connection.ttl("k") > 5
