"""Personnalisation of a collectivité: its answers to the questions (reads and writes), the page
that asks them, and the consequences of its identity and answers on the référentiels' actions.

Answers: binaire OUI / NON; choix: the id of one of its choix; proportion: a number in [0, 1],
typed and shown as a percentage (app.services.reponses).
"""
import json
from dataclasses import dataclass, replace

from sqlalchemy import delete, select

from app.extensions import db
from app.models import Collectivite, Question, Referentiel, Reponse, Thematique
from app.models.collectivites import KINDS
from app.persistence import upsert, utcnow
from app.policy import can
from app.scoring import Consequence, ScoringContent
from app.services.collectivites import identite_of
from app.services.reponses import percent_text, proportion_from_percent
from app.services.scoring_content import latest_scoring_content
from app.services.suivi import InvalidEdit, commit_edit, require_edit

REPONSES_BINAIRES = ("OUI", "NON")


def consequences_for(collectivite_id: int, content: ScoringContent | None = None) -> dict[str, Consequence]:
    """The personnalisation consequences of the collectivité (identity + réponses); `content`:
    the scoring content when the caller holds it already. Computed once per request or job by
    its caller, which passes them on."""
    if content is None:
        latest = latest_scoring_content(db.session)
        if latest is None:
            raise LookupError("aucun contenu chargé : lancer `flask content load`")
        content = latest[1]
    return consequences_of([collectivite_id], content)[collectivite_id]


def consequences_of(collectivite_ids, content: ScoringContent) -> dict[int, dict[str, Consequence]]:
    """collectivité id -> its consequences (as consequences_for), for several collectivités in
    one statement (a batch of re-scores)."""
    rows = db.session.execute(  # the identity columns, repeated on each réponse's row
        select(Collectivite.id, Collectivite.kind, Collectivite.population, Collectivite.drom, Reponse.question_id,
               Reponse.value)
        .outerjoin(Reponse, Reponse.collectivite_id == Collectivite.id)
        .where(Collectivite.id.in_(set(collectivite_ids)))
    ).all()
    identites, reponses = {}, {}
    for row in rows:
        identites.setdefault(row.id, identite_of(row))
        if row.question_id is not None:
            reponses.setdefault(row.id, {})[row.question_id] = row.value
    return {collectivite_id: content.consequences(identite, reponses.get(collectivite_id, {}))
            for collectivite_id, identite in identites.items()}


def reponses_of(collectivite_id: int) -> dict[str, str]:
    """question id -> stored answer."""
    return dict(db.session.execute(
        select(Reponse.question_id, Reponse.value).where(Reponse.collectivite_id == collectivite_id)
    ).all())


# Writes --------------------------------------------------------------------------------------------


def set_reponse(user, collectivite_id: int, question_id: str, value: str | float | None) -> str | None:
    """Answer a personnalisation question (None or "" clears the answer); returns the stored value.

    Every live référentiel is re-scored: rules of any référentiel may read any answer.
    """
    require_edit(user, collectivite_id)
    return _write_reponse(user, collectivite_id, question_id, value)


def _write_reponse(user, collectivite_id: int, question_id: str, value) -> str | None:
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
    commit_edit(user, collectivite_id, "reponse", question_id, json.dumps(old), json.dumps(new),
                rescore=db.session.scalars(select(Referentiel.id).where(~Referentiel.archived)).all())
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


# The page ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionState:
    """What fragments/personnalisation/_question.html shows: plain values."""

    collectivite_id: int
    question: Question
    value: str | None  # as stored: OUI / NON, a choix id, a proportion in [0, 1]
    can_edit: bool
    options: tuple[tuple[str, str], ...]  # (value, label) of the radios of a binaire or choix question
    percent: str  # a proportion as a percentage for the input field (as typed when refused)
    error: str | None = None


@dataclass(frozen=True)
class ThematiqueGroup:
    id: str
    nom: str
    questions: list[QuestionState]
    answered: int
    complete: bool


def _question_state(collectivite_id: int, question: Question, value: str | None, can_edit: bool) -> QuestionState:
    if question.type == "binaire":
        options = (("OUI", "Oui"), ("NON", "Non"))
    else:
        options = tuple((choix.id, choix.formulation) for choix in question.choix)
    return QuestionState(collectivite_id, question, value, can_edit, options, percent_text(value))


def _group(thematique_id: str, nom: str, questions: list[QuestionState]) -> ThematiqueGroup:
    answered = sum(1 for q in questions if q.value is not None)
    return ThematiqueGroup(thematique_id, nom, questions, answered, answered == len(questions))


def identity_card(collectivite: Collectivite) -> dict:
    identite = identite_of(collectivite)
    return {
        "type": KINDS.get(collectivite.kind, collectivite.kind),
        "nature": collectivite.nature,
        "population": "inconnue" if collectivite.population is None
        else f"{collectivite.population:,} habitants".replace(",", "\u202f"),
        "localisation": "Outre-mer (DROM)" if collectivite.drom else "Métropole",
        "tags": sorted(identite.type) + sorted(identite.population) + sorted(identite.localisation),
    }


def personnalisation_page(user, collectivite_id: int, can_edit: bool | None = None) -> dict | None:
    """Identity card and the questions that concern the collectivité, grouped by thématique.
    `can_edit`: the user's right when the caller checked it already."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        return None
    if can_edit is None:
        can_edit = can(user, "edit", collectivite_id)
    reponses = reponses_of(collectivite_id)
    questions = db.session.scalars(
        select(Question)
        .where(~Question.archived)
        .order_by(Question.thematique_id, Question.ordonnancement, Question.id)
    )
    noms = dict(db.session.execute(select(Thematique.id, Thematique.nom)).all())
    groups: dict[str, list[QuestionState]] = {}
    for question in questions:
        if not _concerns(question, collectivite):
            continue
        groups.setdefault(question.thematique_id, []).append(
            _question_state(collectivite_id, question, reponses.get(question.id), can_edit))
    return {
        "collectivite": collectivite,
        "identity": identity_card(collectivite),
        "groups": [_group(t, noms.get(t, t.replace("_", " ").capitalize()), qs) for t, qs in groups.items()],
    }


def save_reponse(user, collectivite_id: int, question_id: str, value: str | None) -> dict | None:
    """Save an answer (proportions arrive as percentages); returns the question fragment's context
    and its thématique group (for the completion counter). A refused answer comes back with the
    French message, a refused percentage as typed. None for a question the page doesn't show."""
    require_edit(user, collectivite_id)
    question = db.session.get(Question, question_id)
    collectivite = db.session.get(Collectivite, collectivite_id)
    if question is None or question.archived or collectivite is None or not _concerns(question, collectivite):
        return None
    typed, error = None, None
    try:
        stored = proportion_from_percent(value) if question.type == "proportion" else value
        _write_reponse(user, collectivite_id, question_id, stored)
    except InvalidEdit as refused:
        typed, error = value, str(refused)
    page = personnalisation_page(user, collectivite_id, can_edit=True)
    group = next(g for g in page["groups"] if g.id == question.thematique_id)
    state = next(q for q in group.questions if q.question.id == question_id)
    if error:
        typed_percent = question.type == "proportion" and typed is not None
        state = replace(state, error=error, percent=typed if typed_percent else state.percent)
    return {"state": state, "group": group}


def _concerns(question: Question, collectivite: Collectivite) -> bool:
    """Whether the question is asked to the collectivité (its type among the question's types)."""
    return not question.types_concernes or bool(identite_of(collectivite).type & set(question.types_concernes))
