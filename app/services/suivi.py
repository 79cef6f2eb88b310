"""Edits of a collectivité on the référentiels: statuts, réponses, précisions.

Each edit is validated, then written with its history entry and the bump of the référentiel's
ScoreState.edit_revision in ONE transaction, committed, and only then is the re-score enqueued:
once the function returns, the edit is saved whatever happens to the queue, the job or the push.
Unchanged values write nothing.
"""
import json
import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from app.extensions import db
from app.markdown import check_markdown
from app.models import Action, ActionStatut, HistoryEntry, Precision, Question, Referentiel, Reponse
from app.policy import can
from app.queue import enqueue_rescore
from app.services import evaluation
from app.persistence import upsert, utcnow

STATUT_VALUES = ("fait", "programme", "pas_fait", "non_renseigne", "non_concerne", "detaille")
PRECISION_MAX_LENGTH = 20_000
REPONSES_BINAIRES = ("OUI", "NON")
# Edits of one item by one person less than an hour apart make one history entry, as in the
# original journal; preuves are additions and deletions of distinct things, never merged.
HISTORY_MERGE_WINDOW = timedelta(hours=1)
HISTORY_MERGED_KINDS = ("statut", "reponse", "precision")


class InvalidEdit(ValueError):
    """The edit is refused; the message (French) can be shown to the user."""


@dataclass(frozen=True)
class StatutValue:
    """A statut as the forms and the history see it; détaillé carries fractions summing to 1."""

    avancement: str
    concerne: bool = True
    fait: float | None = None
    programme: float | None = None
    pas_fait: float | None = None

    @property
    def value(self) -> str:
        return "non_concerne" if not self.concerne else self.avancement

    def as_json(self) -> str:
        return json.dumps(
            {"statut": self.value, "detail": [self.fait, self.programme, self.pas_fait] if self.fait is not None else None}
        )

    @classmethod
    def from_json(cls, text: str) -> "StatutValue":
        """The inverse of as_json (a history entry's value)."""
        data = json.loads(text)
        if data["statut"] == "non_concerne":
            return cls("non_renseigne", concerne=False)
        return cls(data["statut"], True, *(data["detail"] or ()))


def parse_statut(statut_value: str, detail: tuple[float, float, float] | None = None) -> StatutValue:
    """`statut_value` is one of STATUT_VALUES; `detail` the fait/programmé/pas fait percentages of
    a détaillé statut (numbers or numeric strings, each in [0, 100], summing to 100)."""
    if statut_value not in STATUT_VALUES:
        raise InvalidEdit(f"statut inconnu : {statut_value!r}")
    if statut_value == "non_concerne":
        return StatutValue("non_renseigne", concerne=False)
    if statut_value != "detaille":
        return StatutValue(statut_value)
    percentages = _percentages(detail)
    return StatutValue("detaille", True, *(p / 100 for p in percentages))


def _percentages(detail) -> list[float]:
    if detail is None or len(detail) != 3:
        raise InvalidEdit("un statut détaillé demande trois pourcentages : fait, programmé, pas fait")
    try:
        percentages = [float(str(p).replace(",", ".")) for p in detail]
    except ValueError:
        raise InvalidEdit("les pourcentages doivent être des nombres") from None
    if any(not math.isfinite(p) or p < 0 or p > 100 for p in percentages):
        raise InvalidEdit("chaque pourcentage doit être compris entre 0 et 100")
    if not math.isclose(sum(percentages), 100, abs_tol=1e-6):
        raise InvalidEdit(f"les pourcentages doivent totaliser 100 % (total : {sum(percentages):g} %)")
    return percentages


def set_statut(user, collectivite_id: int, action_id: str, statut_value: str, detail=None,
               consequences: dict | None = None) -> StatutValue:
    """Set the statut of a tâche or sous-action; returns the saved value. `consequences`: the
    collectivité's personnalisation consequences when the caller computed them already."""
    require_edit(user, collectivite_id)
    new = parse_statut(statut_value, detail)
    action = _statut_action(collectivite_id, action_id, consequences)
    old = statut_of(collectivite_id, action_id)
    if old == new:
        return new
    upsert(
        ActionStatut,
        {"collectivite_id": collectivite_id, "action_id": action_id},
        {
            "referentiel_id": action.referentiel_id,
            "avancement": new.avancement,
            "concerne": new.concerne,
            "fait": new.fait,
            "programme": new.programme,
            "pas_fait": new.pas_fait,
            "modified_by_id": user.id,
            "modified_at": utcnow(),
        },
    )
    record_history(user, collectivite_id, "statut", action_id, old and old.as_json(), new.as_json())
    _commit_and_rescore(collectivite_id, [action.referentiel_id])
    return new


def statut_of(collectivite_id: int, action_id: str) -> StatutValue | None:
    row = db.session.execute(
        select(ActionStatut.avancement, ActionStatut.concerne, ActionStatut.fait, ActionStatut.programme, ActionStatut.pas_fait)
        .where(ActionStatut.collectivite_id == collectivite_id, ActionStatut.action_id == action_id)
    ).one_or_none()
    return None if row is None else StatutValue(*row)


def set_reponse(user, collectivite_id: int, question_id: str, value: str | float | None) -> str | None:
    """Answer a personnalisation question (None or "" clears the answer); returns the stored value.

    binaire: OUI / NON; choix: the id of one of its choix; proportion: a number in [0, 1].
    Every live référentiel is re-scored: rules of any référentiel may read any answer.
    """
    require_edit(user, collectivite_id)
    question = db.session.get(Question, question_id)
    if question is None or question.archived:
        raise InvalidEdit(f"question inconnue : {question_id}")
    new = _reponse_value(question, value)
    old = db.session.scalar(
        select(Reponse.value).where(Reponse.collectivite_id == collectivite_id, Reponse.question_id == question_id)
    )
    if old == new:
        return new
    key = {"collectivite_id": collectivite_id, "question_id": question_id}
    if new is None:
        db.session.execute(delete(Reponse).filter_by(**key))
    else:
        upsert(Reponse, key, {"value": new, "modified_by_id": user.id, "modified_at": utcnow()})
    record_history(user, collectivite_id, "reponse", question_id, json.dumps(old), json.dumps(new))
    _commit_and_rescore(collectivite_id, db.session.scalars(select(Referentiel.id).where(~Referentiel.archived)).all())
    return new


def _reponse_value(question: Question, value) -> str | None:
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if question.type == "binaire":
        if text.upper() not in REPONSES_BINAIRES:
            raise InvalidEdit("réponse attendue : OUI ou NON")
        return text.upper()
    if question.type == "choix":
        if text not in {choix.id for choix in question.choix}:
            raise InvalidEdit(f"choix inconnu pour cette question : {text}")
        return text
    try:
        proportion = float(text.replace(",", "."))
    except ValueError:
        raise InvalidEdit("la proportion doit être un nombre entre 0 et 1") from None
    if not 0 <= proportion <= 1:
        raise InvalidEdit("la proportion doit être comprise entre 0 et 1")
    return repr(proportion)


def set_precision(user, collectivite_id: int, action_id: str, texte: str | None) -> str | None:
    """Set the précision (markdown) of an action; empty text removes it. Does not change scores."""
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
    record_history(user, collectivite_id, "precision", action_id, json.dumps(old), json.dumps(new))
    db.session.commit()
    return new


def require_edit(user, collectivite_id: int) -> None:
    """Raise PermissionError unless the user may edit the collectivité (every edit service checks)."""
    if not can(user, "edit", collectivite_id):
        raise PermissionError("droit d'édition requis sur cette collectivité")


def live_action(action_id: str) -> Action:
    """The action, unless unknown or archived, itself or its référentiel (InvalidEdit)."""
    action = db.session.get(Action, action_id)
    if action is None or action.archived or _referentiel(action).archived:
        raise InvalidEdit(f"action inconnue : {action_id}")
    return action


def _referentiel(action: Action) -> Referentiel:
    return db.session.get(Referentiel, action.referentiel_id)  # mostly from the session's identity map


def _statut_action(collectivite_id: int, action_id: str, consequences: dict | None) -> Action:
    """The action, if a statut may be set on it: a tâche or sous-action that is not désactivée."""
    action = live_action(action_id)
    if action.depth <= _referentiel(action).action_level:
        raise InvalidEdit("le statut se renseigne sur les sous-actions et les tâches")
    if evaluation.is_desactive(collectivite_id, action_id, consequences):
        raise InvalidEdit("cette action est désactivée par la personnalisation")
    return action


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


def _commit_and_rescore(collectivite_id: int, referentiel_ids: list[str]) -> None:
    for referentiel_id in referentiel_ids:
        evaluation.bump_edit_revision(collectivite_id, referentiel_id)
    db.session.commit()
    for referentiel_id in referentiel_ids:
        enqueue_rescore(collectivite_id, referentiel_id)
