"""The job queue façade: `enqueue_rescore(collectivite_id, referentiel_id)`.

The transport comes from the configuration (`init_queue(app)` puts it in app.extensions["queue"]):
REDIS_URL set    RQ queue "default", run by `flask worker` (or `rq worker --with-scheduler`);
REDIS_URL unset  InProcessQueue: one background thread of this process runs the same job functions.
Both retry a failing job RESCORE_RETRY_INTERVALS seconds later (1, 2, 5 by default), 3 times at most.

Coalescing of re-scores: one pending counter per (collectivité, référentiel), a Redis INCR with a
TTL set by the first edit only (a marker nobody clears expires PENDING_TTL_SECONDS after the edit
that created it, however many edits follow) or an in-process dict. The edit that brings it to 1 enqueues the job; the others only count.
The job clears it when it starts and only then reads the latest revision (app.jobs.rescore_job),
so an edit made during a computation enqueues a new job: never a stale final state. A job that
finds more than one edit counted is inside a burst: it first waits for the burst to end (no new
edit for RESCORE_COALESCE_SECONDS, 0.05 s) so that the rest of it lands in its computation: ten
edits in 100 ms give one or two re-scores, while a lone edit is scored at once.

Redis unreachable at enqueue time: logged, and the job runs in-process (the edit is already saved).
"""
import heapq
import itertools
import logging
import threading
import time

import redis
from flask import Flask, current_app
from rq import Queue, Retry

from app.live import connect_redis

log = logging.getLogger(__name__)

QUEUE_NAME = "default"
# A pending counter whose job never cleared it (worker gone, Redis blip) stops blocking new jobs
# this long after the first edit it counted.
PENDING_TTL_SECONDS = 60
JOB_TIMEOUT_SECONDS = 120
DEFAULT_RETRY_INTERVALS = (1, 2, 5)
DEFAULT_COALESCE_SECONDS = 0.05
DEFAULT_COALESCE_MAX_SECONDS = 0.5


def pending_key(collectivite_id: int, referentiel_id: str) -> str:
    return f"tet:rescore-pending:{collectivite_id}:{referentiel_id}"


class InProcessQueue:
    """Jobs run one at a time by a daemon thread of this process, inside the app's context."""

    def __init__(self, app: Flask):
        self._app = app
        self._lock = threading.Condition()
        self._due: list[tuple[float, int, object, tuple, int]] = []  # heap of (due time, seq, func, args, attempt)
        self._sequence = itertools.count()
        self._unfinished = 0
        self._pending: dict[str, int] = {}
        self._thread: threading.Thread | None = None

    def enqueue(self, func, *args) -> None:
        with self._lock:
            self._unfinished += 1
        self._schedule(0, func, args, attempt=0)

    def mark_pending(self, key: str) -> int:
        """Count one more edit waiting for a re-score; returns the count (1: enqueue the job)."""
        with self._lock:
            self._pending[key] = self._pending.get(key, 0) + 1
            return self._pending[key]

    def pending_count(self, key: str) -> int:
        with self._lock:
            return self._pending.get(key, 0)

    def clear_pending(self, key: str) -> bool:
        with self._lock:
            self._pending.pop(key, None)
        return True

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every enqueued job (retries included) has finished; for tests and commands."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._unfinished:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self._unfinished} job(s) still running after {timeout} s")
                self._lock.wait(remaining)

    def _schedule(self, delay: float, func, args: tuple, attempt: int) -> None:
        with self._lock:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._sequence), func, args, attempt))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="in-process-jobs", daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def _next_job(self):
        with self._lock:
            while not self._due or self._due[0][0] > time.monotonic():
                self._lock.wait(None if not self._due else self._due[0][0] - time.monotonic())
            return heapq.heappop(self._due)[2:]

    def _work(self) -> None:
        while True:
            func, args, attempt = self._next_job()
            try:
                with self._app.app_context():
                    func(*args)
            except Exception:
                intervals = retry_intervals(self._app)
                if attempt < len(intervals):
                    log.exception("job %s%r failed; retry %d in %s s", func.__name__, args, attempt + 1, intervals[attempt])
                    self._schedule(intervals[attempt], func, args, attempt + 1)
                    continue
                log.exception("job %s%r failed after %d retries", func.__name__, args, attempt)
            with self._lock:
                self._unfinished -= 1
                self._lock.notify_all()


class RedisQueue:
    """RQ queue plus Redis pending markers; falls back to an InProcessQueue when Redis is down."""

    def __init__(self, app: Flask, connection: redis.Redis):
        self._app = app
        self._redis = connection
        self.rq = Queue(QUEUE_NAME, connection=connection)
        self.fallback = InProcessQueue(app)

    def enqueue(self, func, *args) -> None:
        intervals = retry_intervals(self._app)
        try:
            self.rq.enqueue(
                func,
                *args,
                retry=Retry(max=len(intervals), interval=list(intervals)),
                job_timeout=JOB_TIMEOUT_SECONDS,
                result_ttl=0,
            )
        except redis.RedisError:
            log.exception("Redis unreachable: job %s%r runs in this process", func.__name__, args)
            self.fallback.enqueue(func, *args)

    def mark_pending(self, key: str) -> int:
        try:
            # SET NX creates the marker with its TTL; INCR keeps the TTL: later edits never extend it.
            _, count = self._redis.pipeline().set(key, 0, ex=PENDING_TTL_SECONDS, nx=True).incr(key).execute()
            return count
        except redis.RedisError:
            log.exception("Redis unreachable: coalescing in this process only")
            return self.fallback.mark_pending(key)

    def pending_count(self, key: str) -> int:
        try:
            return int(self._redis.get(key) or 0) + self.fallback.pending_count(key)
        except redis.RedisError:
            return self.fallback.pending_count(key)

    def clear_pending(self, key: str) -> bool:
        """False when Redis could not be reached: the marker stays (until its TTL) and blocks new jobs."""
        self.fallback.clear_pending(key)
        try:
            self._redis.delete(key)
            return True
        except redis.RedisError:
            log.warning("Redis unreachable: pending marker %s not cleared", key)
            return False

    def drain(self, timeout: float = 10.0) -> None:
        """Only the in-process fallback can be drained here; RQ jobs are run by workers."""
        self.fallback.drain(timeout)


def retry_intervals(app: Flask) -> tuple[int, ...]:
    return tuple(app.config.get("RESCORE_RETRY_INTERVALS", DEFAULT_RETRY_INTERVALS))


def wait_for_burst_end(key: str) -> None:
    """When more than one edit is counted, wait until none came for RESCORE_COALESCE_SECONDS
    (RESCORE_COALESCE_MAX_SECONDS at most): the whole burst then lands in one computation."""
    queue, config = current_queue(), current_app.config
    quiet = float(config.get("RESCORE_COALESCE_SECONDS", DEFAULT_COALESCE_SECONDS))
    deadline = time.monotonic() + float(config.get("RESCORE_COALESCE_MAX_SECONDS", DEFAULT_COALESCE_MAX_SECONDS))
    count = queue.pending_count(key)
    while count > 1 and time.monotonic() < deadline:
        time.sleep(quiet)
        count, previous = queue.pending_count(key), count
        if count == previous:
            return


def init_queue(app: Flask) -> None:
    redis_url = app.config.get("REDIS_URL")
    app.extensions["queue"] = RedisQueue(app, connect_redis(redis_url)) if redis_url else InProcessQueue(app)


def current_queue() -> InProcessQueue | RedisQueue:
    return current_app.extensions["queue"]


def enqueue_rescore(collectivite_id: int, referentiel_id: str) -> None:
    """Enqueue a re-score unless one is already waiting for this collectivité and référentiel."""
    from app.jobs import rescore_job  # app.jobs imports the services, which import this module

    queue = current_queue()
    if queue.mark_pending(pending_key(collectivite_id, referentiel_id)) == 1:
        queue.enqueue(rescore_job, collectivite_id, referentiel_id)
