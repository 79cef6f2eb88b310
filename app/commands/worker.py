"""`flask worker`: an RQ worker running the jobs of app.jobs inside this app's context.

It is a SimpleWorker (no fork per job): the scoring content and the database connections stay
warm from one job to the next. With the scheduler on, as the retries of failed jobs need it.

Fault recovery (see app.queue): RQ's registry maintenance (abandoned jobs, its scheduler...) runs
at start, then every MAINTENANCE_SECONDS, checked whenever the wait for a job ends (every 5 s with
WORKER_TTL_SECONDS); here it also re-enqueues the stale scores found in the database. While Redis
is unreachable RQ retries with a backoff capped at REDIS_RETRY_MAX_SECONDS; whatever else makes
RQ's loop quit short of a stop request (SIGTERM, SIGINT), a new worker starts once Redis answers
again: the command ends only when asked to.

Ops may run `rq worker --with-scheduler -u $REDIS_URL` instead (app.jobs then creates the app from
the environment), without these sweeps: `flask scores rescore --stale` repairs by hand.
"""
import logging
import signal
import time

import click
import redis
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker
from sqlalchemy.exc import SQLAlchemyError

from app.jobs import enqueue_stale_rescores
from app.queue import RedisQueue, current_queue

log = logging.getLogger(__name__)

MAINTENANCE_SECONDS = 5
# The worker's registration lives this long without a heartbeat; RQ wakes the worker from its
# wait for jobs 15 s before (here every 5 s) to send one, and to run the maintenance when due.
WORKER_TTL_SECONDS = 20
REDIS_RETRY_MAX_SECONDS = 5


class RescoreWorker(SimpleWorker):
    """SimpleWorker that re-enqueues stale scores at each maintenance and knows whether it was
    asked to stop."""

    max_connection_wait_time = REDIS_RETRY_MAX_SECONDS  # RQ's backoff cap (60 s by default)
    stop_requested = False

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        try:
            count = enqueue_stale_rescores()
        except SQLAlchemyError:
            log.exception("worker: database unreachable, stale scores not looked for")
            return
        if count:
            log.warning("worker: %d stale score(s) found, their re-scores are queued", count)

    def request_stop(self, signum, frame):
        self.stop_requested = True
        super().request_stop(signum, frame)


def wait_for_redis(connection: redis.Redis) -> None:
    delay = 1
    while True:
        try:
            connection.ping()
            return
        except (redis.ConnectionError, redis.TimeoutError) as error:
            log.error("worker: Redis unreachable (%s), next attempt in %d s", error, delay)
            time.sleep(delay)
            delay = min(2 * delay, REDIS_RETRY_MAX_SECONDS)


@click.command("worker")
@click.option("--burst", is_flag=True, help="S'arrête quand la file est vide.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Lance un worker RQ (tâches de recalcul des scores) ; REDIS_URL doit être défini."""
    queue = current_queue()
    if not isinstance(queue, RedisQueue):
        raise click.ClickException(
            "REDIS_URL n'est pas défini : sans Redis, les tâches s'exécutent dans le processus web."
        )
    click.echo(f"Worker RQ sur {current_app.config['REDIS_URL']} (file {queue.rq.name}).")
    connection = queue.rq.connection
    while True:
        wait_for_redis(connection)
        worker = None
        try:
            worker = RescoreWorker([queue.rq], connection=connection, maintenance_interval=MAINTENANCE_SECONDS,
                                   worker_ttl=WORKER_TTL_SECONDS)
            worker.work(burst=burst, with_scheduler=True)
        except (redis.ConnectionError, redis.TimeoutError):
            log.exception("worker: Redis connection lost")
        if burst or (worker is not None and worker.stop_requested):
            return
        log.error("worker: RQ's loop quit (Redis unreachable?); a new worker starts once Redis answers")
        # RQ's handlers belong to the worker that quit: a stop request now simply ends the process.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        time.sleep(1)
