"""Job functions: plain module-level functions of ids, run by an RQ worker or the in-process queue.

No app is created at import. Each job runs in an app context from `app_context()`: the current
app when there is one (the in-process queue and `flask worker` push theirs), otherwise, under a
bare `rq worker`, an app created once per worker process from the environment (DATABASE_URL,
REDIS_URL, ... as for the web process).
"""
from contextlib import contextmanager

from flask import current_app, has_app_context

from app.extensions import db
from app.fragments import publish_score_update
from app.queue import current_queue, enqueue_rescore, rescore_key
from app.services.evaluation import rescore, stale_score_keys

_worker_app = None


@contextmanager
def app_context():
    """A fresh app context (and so a fresh database session) for one job."""
    global _worker_app
    if has_app_context():
        app = current_app._get_current_object()
    else:
        if _worker_app is None:
            from app import create_app

            _worker_app = create_app()
        app = _worker_app
    with app.app_context():
        yield


def rescore_job(collectivite_id: int, referentiel_id: str) -> None:
    """Re-score, store, and push the changed score fragments to the open pages; one job of the
    pair at a time (several workers): a push never overtakes a later one."""
    with app_context(), current_queue().exclusive(rescore_key(collectivite_id, referentiel_id)):
        update = rescore(collectivite_id, referentiel_id)
        db.session.commit()
        if update is not None:
            publish_score_update(update)


def enqueue_stale_rescores() -> int:
    """Enqueue a re-score of every stale score (those `flask scores rescore --stale` computes):
    what a dead worker, a lost job or a job given up left behind. Returns how many."""
    with app_context():
        keys = stale_score_keys()
        for collectivite_id, referentiel_id in keys:
            enqueue_rescore(collectivite_id, referentiel_id)
    return len(keys)
