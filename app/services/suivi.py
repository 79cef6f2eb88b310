"""The edit kernel every area's writes go through (statuts, personnalisation, précisions, preuves).

An edit is validated by its area, which checks the right once (require_edit) and writes its rows;
then commit_edit adds the history entry and, when the edit changes scores, the bump of the
référentiels' ScoreState.edit_revision, in the SAME transaction, commits, and only then enqueues
the re-scores: once it returns, the edit is saved whatever happens to the queue, the job or the push.
"""
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Action, HistoryEntry, Referentiel, ScoreState
from app.persistence import upsert, utcnow
from app.policy import can
from app.queue import enqueue_rescore

# Edits of one item by one person less than an hour apart make one history entry, as in the
# original journal; preuves are additions and deletions of distinct things, never merged.
HISTORY_MERGE_WINDOW = timedelta(hours=1)
HISTORY_MERGED_KINDS = ("statut", "reponse", "precision")


class InvalidEdit(ValueError):
    """The edit is refused; the message (French) can be shown to the user."""


def require_edit(user, collectivite_id: int) -> None:
    """Raise PermissionError unless the user may edit the collectivité (every edit checks, once)."""
    if not can(user, "edit", collectivite_id):
        raise PermissionError("droit d'édition requis sur cette collectivité")


def live_action(action_id: str) -> Action:
    """The action, unless unknown or archived, itself or its référentiel (InvalidEdit)."""
    action = db.session.get(Action, action_id)
    if action is None or action.archived or referentiel_of(action).archived:
        raise InvalidEdit(f"action inconnue : {action_id}")
    return action


def referentiel_of(action: Action) -> Referentiel:
    return db.session.get(Referentiel, action.referentiel_id)  # mostly from the session's identity map


def commit_edit(user, collectivite_id: int, kind: str, key: str, old: str | None, new: str | None,
                rescore: Iterable[str] = ()) -> None:
    """Commit the rows the area wrote with their history entry (`old` and `new`: JSON values) and,
    for each référentiel of `rescore`, the scores marked stale; then enqueue their re-scores."""
    record_history(user, collectivite_id, kind, key, old, new)
    referentiel_ids = list(rescore)
    for referentiel_id in referentiel_ids:
        bump_edit_revision(collectivite_id, referentiel_id)
    db.session.commit()
    for referentiel_id in referentiel_ids:
        enqueue_rescore(collectivite_id, referentiel_id)


def bump_edit_revision(collectivite_id: int, referentiel_id: str) -> None:
    """Mark the scores stale (in the edit's transaction)."""
    upsert(
        ScoreState,
        {"collectivite_id": collectivite_id, "referentiel_id": referentiel_id},
        {"edit_revision": 1},
        on_update={"edit_revision": ScoreState.edit_revision + 1},
    )


def record_history(user, collectivite_id: int, kind: str, key: str, old: str | None, new: str | None) -> None:
    """Add a history entry to the session; the caller commits it with the change it describes.

    Merged at write time, like the original journal: when the item's latest entry is the same
    person's, less than HISTORY_MERGE_WINDOW old, it takes the new value and time and keeps the
    value from before the burst (an entry back to that value is deleted: nothing changed). One row
    is then one line of the history page, so its filters and pages are plain SQL.
    """
    now = utcnow()
    if kind in HISTORY_MERGED_KINDS:
        latest = db.session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.collectivite_id == collectivite_id, HistoryEntry.kind == kind, HistoryEntry.key == key)
            .order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())
            .limit(1)
        ).first()
        if latest is not None and latest.user_id == user.id and now - latest.at < HISTORY_MERGE_WINDOW:
            if latest.old_value == new:
                db.session.delete(latest)
            else:
                latest.new_value, latest.at = new, now
            return
    db.session.add(
        HistoryEntry(collectivite_id=collectivite_id, user_id=user.id, at=now, kind=kind, key=key, old_value=old,
                     new_value=new)
    )
