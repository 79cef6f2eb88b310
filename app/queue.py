"""The job queue façade: `enqueue_rescore(collectivite_id, referentiel_id)`.

Jobs are named by their dotted path (RESCORE_JOB, "app.jobs.rescore_job"): this module imports no
job, so that the job modules may import the services, which enqueue through this one.

The transport comes from the configuration (`init_queue(app)`, called by create_app, puts it in
app.extensions["queue"]):
REDIS_URL set    RQ queue "default", run by `flask worker` (or `rq worker --with-scheduler`);
REDIS_URL unset  InProcessQueue: one background thread of this process runs the same job functions.
Both retry a failing job RESCORE_RETRY_INTERVALS seconds later (1, 2, 5 by default), 3 times at most.

Coalescing of re-scores: an edit enqueues a re-score unless one is still waiting in the queue,
for ANY pair: a job re-scores its own (collectivité, référentiel) and then every pair the
database shows edited since its last score (app.jobs.rescore_job), reading each pair's latest
revision when it gets to it, so it scores every edit saved before it started; an edit saved once
it started enqueues a job of its own: never a stale final state. Under load the edits of K
collectivités saved while the workers are busy share one job (one dequeue, not K), and nothing
waits for a burst to end (no sleeping job holds up the queue). Several workers may run the
queue: the re-scores of one pair run one at a time (`exclusive`, a Redis lock), so that a push
never overtakes a later one; the compare-and-set of app.services.evaluation keeps the stored
scores in order anyway.

Fault recovery (RQ). Whether an edit enqueues a job is decided by the state of the job itself,
never by a marker: Redis keeps the id of the last job enqueued for its coalescing key, and an edit enqueues a
new job unless that one is still `queued`. A job started by a worker that died, a retry waiting for
a scheduler (a dead worker's scheduler keeps its lock for a minute), a job given up or one lost with
Redis's data never blocks the next edit; the price is an occasional job that finds the scores fresh
and stores nothing (two racing edits may both enqueue, too). What no edit comes to repair is read
from the database: `flask worker` re-enqueues every stale score (app.jobs.enqueue_stale_rescores,
the query of `flask scores rescore --stale`) when it starts and at RQ's registry maintenance, every
5 to 10 s, hence also on reconnecting to Redis (app.commands.worker). Jobs time out after
JOB_TIMEOUT_SECONDS (they take milliseconds); RQ's maintenance retries the job of a dead worker once
its execution expires (that timeout plus RQ's 60 s margin): a no-op by then.

Redis unreachable at enqueue time: logged, and the job runs in-process (the edit is already saved).
In-process, the queue itself knows which keys have a job waiting.
"""
import contextlib
import heapq
import importlib
import itertools
import logging
import threading
import time
from collections.abc import Callable

import redis
from flask import Flask, current_app
from redis.exceptions import LockError
from rq import Queue, Retry
from rq.job import Job, JobStatus

from app.redis_connection import connect_redis

log = logging.getLogger(__name__)

QUEUE_NAME = "default"
RESCORE_JOB = "app.jobs.rescore_job"
# The id of the last job enqueued for a coalescing key: kept as long as that job may wait in the queue.
LAST_JOB_TTL_SECONDS = 24 * 3600
# A re-score takes milliseconds: a job still running after this is stuck, and the execution of a
# dead worker's job expires this much (plus 60 s) after its start.
JOB_TIMEOUT_SECONDS = 10
# A failed job is kept this long for inspection (RQ's default is a year): the stale-score sweep
# enqueues a new one anyway.
FAILED_JOB_TTL_SECONDS = 24 * 3600
DEFAULT_RETRY_INTERVALS = (1, 2, 5)
# A job holds the lock of its key for milliseconds: one its holder never released (killed) expires
# after LOCK_TTL_SECONDS. The next job of the key waits for it that long at most (a bit more),
# polling every LOCK_POLL_SECONDS.
LOCK_TTL_SECONDS = 2
LOCK_WAIT_SECONDS = LOCK_TTL_SECONDS + 1
LOCK_POLL_SECONDS = 0.005

JobRef = Callable | str  # a job function, or its dotted path


# The key every re-score job is coalesced on.
RESCORE_QUEUED_KEY = "tet:rescore:queued"


def rescore_key(collectivite_id: int, referentiel_id: str) -> str:
    """The key the re-scores of a pair run one at a time under."""
    return f"tet:rescore:{collectivite_id}:{referentiel_id}"


def last_job_key(key: str) -> str:
    """Where RedisQueue keeps the id of the last job enqueued for coalescing key `key`."""
    return f"{key}:last-job"


def job_function(func: JobRef) -> Callable:
    """The function itself, looked up when given by its dotted path."""
    if callable(func):
        return func
    module, _, name = func.rpartition(".")
    return getattr(importlib.import_module(module), name)


def job_name(func: JobRef) -> str:
    return func if isinstance(func, str) else func.__name__


class InProcessQueue:
    """Jobs run one at a time by a daemon thread of this process, inside the app's context."""

    def __init__(self, app: Flask):
        self._app = app
        self._lock = threading.Condition()
        # heap of (due time, seq, func, args, attempt, coalescing key or None)
        self._due: list[tuple[float, int, JobRef, tuple, int, str | None]] = []
        self._sequence = itertools.count()
        self._unfinished = 0
        self._waiting: set[str] = set()  # coalescing keys whose job has not started yet
        self._thread: threading.Thread | None = None

    def enqueue(self, func: JobRef, *args) -> None:
        self._enqueue(func, args, key=None)

    def enqueue_once(self, key: str, func: JobRef, *args) -> None:
        """Enqueue func(*args) unless the job enqueued for `key` has not started yet."""
        with self._lock:
            if key in self._waiting:
                return
            self._waiting.add(key)
        self._enqueue(func, args, key)

    def exclusive(self, key: str):
        """Its jobs run one at a time already."""
        return contextlib.nullcontext()

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every enqueued job (retries included) has finished; for tests and commands."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._unfinished:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self._unfinished} job(s) still running after {timeout} s")
                self._lock.wait(remaining)

    def _enqueue(self, func: JobRef, args: tuple, key: str | None) -> None:
        with self._lock:
            self._unfinished += 1
        self._schedule(0, func, args, attempt=0, key=key)

    def _schedule(self, delay: float, func: JobRef, args: tuple, attempt: int, key: str | None = None) -> None:
        with self._lock:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._sequence), func, args, attempt, key))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="in-process-jobs", daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def _next_job(self):
        with self._lock:
            while not self._due or self._due[0][0] > time.monotonic():
                self._lock.wait(None if not self._due else self._due[0][0] - time.monotonic())
            func, args, attempt, key = heapq.heappop(self._due)[2:]
            self._waiting.discard(key)  # started: the next edit needs a job of its own
            return func, args, attempt

    def _work(self) -> None:
        while True:
            func, args, attempt = self._next_job()
            try:
                with self._app.app_context():
                    job_function(func)(*args)
            except Exception:
                intervals = retry_intervals(self._app)
                if attempt < len(intervals):
                    log.exception("job %s%r failed; retry %d in %s s", job_name(func), args, attempt + 1, intervals[attempt])
                    self._schedule(intervals[attempt], func, args, attempt + 1)
                    continue
                log.exception("job %s%r failed after %d retries", job_name(func), args, attempt)
            with self._lock:
                self._unfinished -= 1
                self._lock.notify_all()


class RedisQueue:
    """RQ queue plus the id of the last job of each coalescing key; falls back to an InProcessQueue
    when Redis is down."""

    def __init__(self, app: Flask, connection: redis.Redis):
        self._app = app
        self._redis = connection
        self.rq = Queue(QUEUE_NAME, connection=connection)
        self.fallback = InProcessQueue(app)

    def enqueue(self, func: JobRef, *args) -> Job | None:
        """The RQ job, or None when Redis was unreachable and the job runs in this process."""
        intervals = retry_intervals(self._app)
        try:
            return self.rq.enqueue(
                func,
                *args,
                retry=Retry(max=len(intervals), interval=list(intervals)),
                job_timeout=JOB_TIMEOUT_SECONDS,
                result_ttl=0,
                failure_ttl=FAILED_JOB_TTL_SECONDS,
            )
        except redis.RedisError:
            log.exception("Redis unreachable: job %s%r runs in this process", job_name(func), args)
            self.fallback.enqueue(func, *args)
            return None

    def enqueue_once(self, key: str, func: JobRef, *args) -> None:
        """Enqueue func(*args) unless the last job enqueued for `key` is still queued."""
        try:
            last_job_id = self._redis.get(last_job_key(key))
            if last_job_id is not None:
                status = self._redis.hget(Job.key_for(last_job_id.decode()), "status")
                if status == JobStatus.QUEUED.value.encode():
                    return
        except redis.RedisError:
            log.exception("Redis unreachable: coalescing in this process only")
            self.fallback.enqueue_once(key, func, *args)
            return
        job = self.enqueue(func, *args)
        if job is not None:
            try:
                self._redis.set(last_job_key(key), job.id, ex=LAST_JOB_TTL_SECONDS)
            except redis.RedisError:  # the next edit enqueues one more job, which finds fresh scores
                log.warning("Redis unreachable: id of job %s not kept", job.id)

    @contextlib.contextmanager
    def exclusive(self, key: str):
        """Held by one job of `key` at a time, whichever worker runs it (jobs of different keys
        run side by side): their pushes leave in the order their scores were stored. A job
        stalled beyond LOCK_TTL_SECONDS (its database hangs) may see the next one run alongside:
        their scores are still stored in order (compare-and-set), only their pushes may cross.
        Redis unreachable: not held (the job runs in this process's fallback, or fails on Redis
        anyway)."""
        lock = self._redis.lock(f"{key}:lock", timeout=LOCK_TTL_SECONDS, sleep=LOCK_POLL_SECONDS,
                                blocking_timeout=LOCK_WAIT_SECONDS)
        try:
            acquired = lock.acquire()
        except redis.RedisError:
            log.warning("Redis unreachable: %s runs unlocked", key)
            yield
            return
        if not acquired:
            raise TimeoutError(f"{key} still locked after {LOCK_WAIT_SECONDS} s")  # RQ retries the job
        try:
            yield
        finally:
            try:
                lock.release()
            except (redis.RedisError, LockError):  # it expires anyway
                log.warning("lock %s not released", key)

    def drain(self, timeout: float = 10.0) -> None:
        """Only the in-process fallback can be drained here; RQ jobs are run by workers."""
        self.fallback.drain(timeout)


def retry_intervals(app: Flask) -> tuple[int, ...]:
    return tuple(app.config.get("RESCORE_RETRY_INTERVALS", DEFAULT_RETRY_INTERVALS))


def init_queue(app: Flask) -> None:
    redis_url = app.config.get("REDIS_URL")
    app.extensions["queue"] = RedisQueue(app, connect_redis(redis_url)) if redis_url else InProcessQueue(app)


def current_queue() -> InProcessQueue | RedisQueue:
    return current_app.extensions["queue"]


def enqueue_rescore(collectivite_id: int, referentiel_id: str) -> None:
    """Enqueue a re-score of the pair unless a re-score job (of any pair) is still waiting: that
    one re-scores every edited pair when it starts."""
    current_queue().enqueue_once(RESCORE_QUEUED_KEY, RESCORE_JOB, collectivite_id, referentiel_id)


def enqueue_pair_rescore(collectivite_id: int, referentiel_id: str) -> None:
    """Enqueue a re-score of the pair unless one of the same pair is still waiting: for a pair
    without a score row (a first page view, statuts imported), which a job enqueued for another
    pair would not find (app.services.evaluation.stale_score_rows)."""
    current_queue().enqueue_once(rescore_key(collectivite_id, referentiel_id), RESCORE_JOB, collectivite_id, referentiel_id)
