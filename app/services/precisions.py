"""Précisions of a collectivité on the actions: markdown texts, read rendered and sanitised,
written by editors. They do not change scores."""
import json
from dataclasses import dataclass

from sqlalchemy import delete, select

from app.extensions import db
from app.markdown import check_markdown, render_markdown
from app.models import Precision
from app.persistence import upsert, utcnow
from app.services.suivi import InvalidEdit, commit_edit, live_action, require_edit

PRECISION_MAX_LENGTH = 20_000


@dataclass(frozen=True)
class PrecisionState:
    """What fragments/suivi/_precision.html shows."""

    collectivite_id: int
    action_id: str
    texte: str
    html: str
    can_edit: bool
    error: str | None = None


def precision_state(collectivite_id: int, action_id: str, can_edit: bool, texte: str | None = None,
                    error: str | None = None) -> PrecisionState:
    if texte is None:
        texte = db.session.scalar(
            select(Precision.texte)
            .where(Precision.collectivite_id == collectivite_id, Precision.action_id == action_id)
        ) or ""
    return PrecisionState(collectivite_id, action_id, texte, render_precision(texte), can_edit, error)


def render_precision(texte: str | None) -> str:
    """A précision as HTML, below its section's h2 (fragments/suivi/_precision.html), tables included."""
    return render_markdown(texte or "", top_heading=3, gfm=True)


def set_precision(user, collectivite_id: int, action_id: str, texte: str | None) -> str | None:
    """Set the précision (markdown) of an action; empty text removes it."""
    require_edit(user, collectivite_id)
    live_action(action_id)
    new = (texte or "").strip() or None
    if new is not None and len(new) > PRECISION_MAX_LENGTH:
        raise InvalidEdit(f"la précision dépasse {PRECISION_MAX_LENGTH} caractères")
    refusal = new and check_markdown(new)
    if refusal:
        raise InvalidEdit(refusal)
    old = db.session.scalar(
        select(Precision.texte).where(Precision.collectivite_id == collectivite_id, Precision.action_id == action_id)
    )
    if old == new:
        return new
    key = {"collectivite_id": collectivite_id, "action_id": action_id}
    if new is None:
        db.session.execute(delete(Precision).filter_by(**key))
    else:
        upsert(Precision, key, {"texte": new, "modified_by_id": user.id, "modified_at": utcnow()})
    commit_edit(user, collectivite_id, "precision", action_id, json.dumps(old), json.dumps(new))
    return new


def save_precision(user, collectivite_id: int, action_id: str, texte: str) -> PrecisionState:
    """Save the précision; returns its fragment state (with the message and the text as typed
    when refused)."""
    try:
        set_precision(user, collectivite_id, action_id, texte)
    except InvalidEdit as error:
        return precision_state(collectivite_id, action_id, True, texte, str(error))
    return precision_state(collectivite_id, action_id, True)
