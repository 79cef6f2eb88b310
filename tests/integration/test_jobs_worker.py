"""The production shape on the PostgreSQL + Redis run: a `flask worker` process runs the jobs on the
real CAE référentiel, its pushes reach this process through Redis pub/sub."""
import os
import signal
import subprocess
import sys
import time

import pytest
from rq import Worker
from sqlalchemy import select

from app.content_loader import load_dir
from app.extensions import db
from app.live import collectivite_topic, current_hub
from app.models import Action, ScoreState
from app.queue import current_queue
from app.services import evaluation, statuts
from app.services.scores import scores_for
from tests.suivi_content import make_editor

pytestmark = pytest.mark.postgres
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def worker_process(app, tmp_path):
    env = dict(os.environ, FLASK_APP="wsgi", SECRET_KEY=app.config["SECRET_KEY"], REDIS_URL=app.config["REDIS_URL"],
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    with open(tmp_path / "worker.log", "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "flask", "worker"], cwd=PROJECT_ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    connection = current_queue().rq.connection
    deadline = time.monotonic() + 30
    while not any(worker.pid == process.pid for worker in Worker.all(connection=connection)):
        assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
        time.sleep(0.1)
    yield process
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def cae(app_context, shared_dir):
    report = load_dir(shared_dir / "referentiels" / "2025" / "markdown", db.session)
    assert report.ok, report.errors[:3]
    return db.session.scalars(
        select(Action.id).where(Action.referentiel_id == "cae", Action.depth == 5, ~Action.archived).order_by(Action.id).limit(10)
    ).all()


def test_edits_saved_while_the_worker_is_busy_are_scored_and_pushed_once(cae, worker_process):
    user, collectivite = make_editor()
    evaluation.rescore(collectivite.id, "cae")  # the page's first scores
    db.session.commit()
    hub = current_hub()
    subscription = hub.subscribe([collectivite_topic(collectivite.id)])
    try:
        os.kill(worker_process.pid, signal.SIGSTOP)  # busy elsewhere: the first edit's job stays queued
        try:
            for n, tache in enumerate(cae):
                statuts.set_statut(user, collectivite.id, tache, ("fait", "programme")[n % 2])
        finally:
            os.kill(worker_process.pid, signal.SIGCONT)
        deadline = time.monotonic() + 30
        while True:
            db.session.expire_all()
            state = db.session.get(ScoreState, (collectivite.id, "cae"))
            if state.scored_revision == state.edit_revision == 10 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        pushes = []
        while (message := subscription.get(timeout=2)) is not None:  # the job's push may still be on its way
            pushes.append(message)
    finally:
        hub.unsubscribe(subscription)
    assert state.scored_revision == state.edit_revision == 10  # never a stale final state
    assert len(pushes) == 1
    fait = sum(score["point_fait"] for tache, score in scores_for(collectivite.id, "cae").items() if tache in cae)
    assert fait > 0 and 'id="score-cae"' in pushes[-1]
