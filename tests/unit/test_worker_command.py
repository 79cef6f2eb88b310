"""`flask worker` outlives Redis: it waits for Redis to answer, and starts a new RQ worker whenever
RQ's loop quits without a stop request (fakeredis, RQ's loop replaced)."""
import signal

import fakeredis
import pytest
import redis
from flask import Flask
from rq.exceptions import StopRequested

from app.commands import worker as worker_module
from app.commands.worker import RescoreWorker, wait_for_redis, worker_command
from app.queue import RedisQueue


@pytest.fixture
def no_sleep(monkeypatch):
    pauses = []
    monkeypatch.setattr(worker_module.time, "sleep", pauses.append)
    return pauses


def test_waits_for_redis_with_a_capped_backoff(no_sleep):
    class RedisBackAfterSixTries:
        tries = 0

        def ping(self):
            self.tries += 1
            if self.tries <= 6:
                raise redis.ConnectionError("Connection refused")
            return True

    wait_for_redis(RedisBackAfterSixTries())
    assert no_sleep == [1, 2, 4, 5, 5, 5]


@pytest.fixture
def signal_handlers():
    """The command and RQ install handlers: give pytest its own back."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_a_new_rq_worker_starts_until_one_is_asked_to_stop(monkeypatch, no_sleep, signal_handlers):
    app = Flask(__name__)
    app.config["REDIS_URL"] = "redis://fake"
    app.extensions["queue"] = RedisQueue(app, fakeredis.FakeRedis())
    loops = []

    def work(self, burst, with_scheduler):
        loops.append(self)
        if len(loops) == 1:
            raise redis.ConnectionError("Redis gone during a job")
        if len(loops) == 2:
            return  # RQ's loop quit on its own (it logged why)
        try:
            self.request_stop(signal.SIGTERM, None)  # SIGTERM while idle...
        except StopRequested:  # ...ends RQ's loop
            pass

    monkeypatch.setattr(RescoreWorker, "work", work)
    result = app.test_cli_runner().invoke(worker_command)
    assert result.exit_code == 0, result.output
    assert len(loops) == 3 and len({id(loop) for loop in loops}) == 3
