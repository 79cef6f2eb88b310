"""`flask worker`: an RQ worker running the jobs of app.jobs inside this app's context.

It is a SimpleWorker (no fork per job): the scoring content and the database connections stay
warm from one job to the next. With the scheduler on, as the retries of failed jobs need it.
Ops may run `rq worker --with-scheduler -u $REDIS_URL` instead: app.jobs then creates the app
from the environment once per worker process.
"""
import click
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker

from app.queue import RedisQueue, current_queue


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
    SimpleWorker([queue.rq], connection=queue.rq.connection).work(burst=burst, with_scheduler=True)
