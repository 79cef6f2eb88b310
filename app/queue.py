"""The job queue façade: `enqueue_rescore(collectivite_id, referentiel_id)`.

The transport comes from the configuration (`init_queue(app)` puts it in app.extensions["queue"]):
REDIS_URL set    RQ queue "default", run by `flask worker` (or `rq worker --with-scheduler`);
REDIS_URL unset  InProcessQueue: one background thread of this process runs the same job functions.
Both retry a failing job RESCORE_RETRY_INTERVALS seconds later (1, 2, 5 by default), 3 times at most.

Coalescing of re-scores: each edit counts itself on a pending counter per (collectivité,
référentiel) (a Redis INCR with a TTL set by the first edit only, or an in-process dict) and makes
sure a re-score job is waiting. The job clears the counter when it starts and only then reads the
latest revision (app.jobs.rescore_job), so the edits it did not see have a job of their own: never
a stale final state. A job that finds more than one edit counted is inside a burst: it first waits
for the burst to end (no new edit for RESCORE_COALESCE_SECONDS, 0.05 s) so that the rest of it
lands in its computation: ten edits in 100 ms give one or two re-scores, while a lone edit is
scored at once.

Fault recovery (RQ). Whether an edit enqueues a job is decided by the state of the job itself,
never by a marker: Redis keeps the id of the last job enqueued for the pair, and an edit enqueues a
new job unless that one is still `queued` (it will read the edit's revision when it starts). A job
started by a worker that died, a retry waiting for a scheduler (a dead worker's scheduler keeps its
lock for a minute), a job given up or one lost with Redis's data never blocks the next edit; the
price is an occasional job that finds the scores fresh and stores nothing (two racing edits may
both enqueue, too). The counter only shapes the burst wait: a stale one costs a job at most
RESCORE_COALESCE_MAX_SECONDS, once. What no edit comes to repair is read from the database:
`flask worker` re-enqueues every stale score (app.jobs.enqueue_stale_rescores, the query of `flask
scores rescore --stale`) when it starts and at RQ's registry maintenance, every 5 to 10 s, hence
also on reconnecting to Redis (app.commands.worker). Jobs time out after JOB_TIMEOUT_SECONDS (they
take milliseconds); RQ's maintenance retries the job of a dead worker once its execution expires
(that timeout plus RQ's 60 s margin): a no-op by then.

Redis unreachable at enqueue time: logged, and the job runs in-process (the edit is already saved).
In-process, the counter alone decides (count 1 enqueues): the job runs in this very process.
"""
import heapq
import itertools
import logging
import threading
import time

import redis
from flask import Flask, current_app
from rq import Queue, Retry
from rq.job import Job, JobStatus

from app.live import connect_redis

log = logging.getLogger(__name__)

QUEUE_NAME = "default"
# A pending counter nobody cleared (its job's worker died) expires this long after its first edit.
PENDING_TTL_SECONDS = 60
# The id of the last job enqueued for a pair: kept as long as that job may wait in the queue.
LAST_JOB_TTL_SECONDS = 24 * 3600
# A re-score takes milliseconds (a burst wait adds 0.5 s at most): a job still running after this
# is stuck, and the execution of a dead worker's job expires this much (plus 60 s) after its start.
JOB_TIMEOUT_SECONDS = 10
# A failed job is kept this long for inspection (RQ's default is a year): the stale-score sweep
# enqueues a new one anyway.
FAILED_JOB_TTL_SECONDS = 24 * 3600
DEFAULT_RETRY_INTERVALS = (1, 2, 5)
DEFAULT_COALESCE_SECONDS = 0.05
DEFAULT_COALESCE_MAX_SECONDS = 0.5


def pending_key(collectivite_id: int, referentiel_id: str) -> str:
    return f"tet:rescore-pending:{collectivite_id}:{referentiel_id}"


def last_job_key(key: str) -> str:
    """Where RedisQueue keeps the id of the last job enqueued for pending counter `key`."""
    return f"{key}:last-job"


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

    def enqueue_once(self, key: str, func, *args, count_edit: bool = True) -> None:
        """Count one more edit on pending counter `key` (unless `count_edit` is False); the first
        one enqueues func(*args)."""
        first = self.mark_pending(key) == 1 if count_edit else self.pending_count(key) == 0
        if first:
            self.enqueue(func, *args)

    def mark_pending(self, key: str) -> int:
        """Count one more edit waiting for a re-score; returns the count."""
        with self._lock:
            self._pending[key] = self._pending.get(key, 0) + 1
            return self._pending[key]

    def pending_count(self, key: str) -> int:
        with self._lock:
            return self._pending.get(key, 0)

    def clear_pending(self, key: str) -> None:
        with self._lock:
            self._pending.pop(key, None)

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
    """RQ queue plus Redis pending counters; falls back to an InProcessQueue when Redis is down."""

    def __init__(self, app: Flask, connection: redis.Redis):
        self._app = app
        self._redis = connection
        self.rq = Queue(QUEUE_NAME, connection=connection)
        self.fallback = InProcessQueue(app)

    def enqueue(self, func, *args) -> Job | None:
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
            log.exception("Redis unreachable: job %s%r runs in this process", func.__name__, args)
            self.fallback.enqueue(func, *args)
            return None

    def enqueue_once(self, key: str, func, *args, count_edit: bool = True) -> None:
        """Count one more edit on pending counter `key` (unless `count_edit` is False), and enqueue
        func(*args) unless the last job enqueued for `key` is still queued (whatever the counter says)."""
        try:
            pipeline = self._redis.pipeline()
            if count_edit:
                # SET NX creates the counter with its TTL; INCR keeps the TTL: later edits never extend it.
                pipeline.set(key, 0, ex=PENDING_TTL_SECONDS, nx=True).incr(key)
            last_job_id = pipeline.get(last_job_key(key)).execute()[-1]
            if last_job_id is not None:
                status = self._redis.hget(Job.key_for(last_job_id.decode()), "status")
                if status == JobStatus.QUEUED.value.encode():
                    return
        except redis.RedisError:
            log.exception("Redis unreachable: coalescing in this process only")
            self.fallback.enqueue_once(key, func, *args, count_edit=count_edit)
            return
        job = self.enqueue(func, *args)
        if job is not None:
            try:
                self._redis.set(last_job_key(key), job.id, ex=LAST_JOB_TTL_SECONDS)
            except redis.RedisError:  # the next edit enqueues one more job, which finds fresh scores
                log.warning("Redis unreachable: id of job %s not kept", job.id)

    def pending_count(self, key: str) -> int:
        try:
            return int(self._redis.get(key) or 0) + self.fallback.pending_count(key)
        except redis.RedisError:
            return self.fallback.pending_count(key)

    def clear_pending(self, key: str) -> None:
        """A counter Redis kept (unreachable) only makes the next job wait for a burst, once."""
        self.fallback.clear_pending(key)
        try:
            self._redis.delete(key)
        except redis.RedisError:
            log.warning("Redis unreachable: pending counter %s not cleared", key)

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


def enqueue_rescore(collectivite_id: int, referentiel_id: str, count_edit: bool = True) -> None:
    """Enqueue a re-score unless one is already waiting for this collectivité and référentiel;
    `count_edit`: False when no edit asks for it (a sweep of stale scores: no burst to wait for)."""
    from app.jobs import rescore_job  # app.jobs imports the services, which import this module

    current_queue().enqueue_once(pending_key(collectivite_id, referentiel_id), rescore_job, collectivite_id, referentiel_id,
                                 count_edit=count_edit)
