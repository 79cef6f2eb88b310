"""Job functions: plain module-level functions of ids, run by an RQ worker or the in-process queue.

No app is created at import. Each job runs in an app context from `app_context()`: the current
app when there is one (the in-process queue and `flask worker` push theirs), otherwise, under a
bare `rq worker`, an app created once per worker process from the environment (DATABASE_URL,
REDIS_URL, ... as for the web process).
"""
import contextlib
import logging
import time

from flask import current_app, has_app_context

from app.extensions import db
from app.fragments import publish_score_update
from app.queue import current_queue, enqueue_pair_rescore, enqueue_rescore, rescore_key
from app.services.evaluation import rescore, rescore_pairs, stale_score_keys, stale_score_rows

log = logging.getLogger(__name__)

# A job re-scores other pairs this long at most (well within JOB_TIMEOUT_SECONDS, e.g. after a
# content reload made every pair stale), then leaves the rest to a job of its own.
BATCH_SECONDS = 2.0
# Pairs re-scored together in one transaction: a batch stays well within the locks' life (LOCK_TTL_SECONDS).
BATCH_PAIRS = 20

_worker_app = None


@contextlib.contextmanager
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
    """Re-score the pair and every other stale score row: the edits saved while this job waited
    in the queue, whatever their collectivité, coalesced into it (app.queue), BATCH_PAIRS at a
    time in one transaction each, its own pair first (that edit waited longest). A pair that
    fails does not hold up the others; the first error is raised at the end (RQ retries the job,
    which finds the failed pairs still stale)."""
    started = time.monotonic()
    pair = (collectivite_id, referentiel_id)
    with app_context():
        pending = [pair, *(key for key in stale_score_rows() if key != pair)]
    errors = []
    while pending:
        if time.monotonic() - started > BATCH_SECONDS:
            with app_context():
                enqueue_rescore(*pending[0])  # this job has started: a new one, which finds the rest
            break
        batch, pending = pending[:BATCH_PAIRS], pending[BATCH_PAIRS:]
        for left in _rescore_batch_logged(batch):
            errors += _rescore_logged(left)
    if errors:
        raise errors[0]


def _rescore_batch_logged(pairs: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Re-score, store and push the pairs together (app.services.evaluation.rescore_pairs), each
    under its lock as in rescore_pair (taken in order: two batches never wait for each other in
    a circle); returns the pairs left to re-score alone (all of them if the batch failed)."""
    queue = current_queue()
    try:
        with app_context(), contextlib.ExitStack() as locks:
            for pair in sorted(pairs):
                locks.enter_context(queue.exclusive(rescore_key(*pair)))
            updates, left = rescore_pairs(pairs)
            db.session.commit()
            for update in updates:
                publish_score_update(update)
    except Exception:
        log.exception("re-score of the batch %r failed: each pair alone", pairs)
        return pairs
    return left


def _rescore_logged(pair: tuple[int, str]) -> list[Exception]:
    """[] once re-scored, else [the error] (logged)."""
    try:
        rescore_pair(*pair)
    except Exception as error:
        log.exception("re-score of %r failed", pair)
        return [error]
    return []


def rescore_pair(collectivite_id: int, referentiel_id: str) -> None:
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
        rows = set(stale_score_rows())
        for collectivite_id, referentiel_id in keys:  # a job finds the stale rows by itself
            (enqueue_rescore if (collectivite_id, referentiel_id) in rows else enqueue_pair_rescore)(collectivite_id, referentiel_id)
    return len(keys)
