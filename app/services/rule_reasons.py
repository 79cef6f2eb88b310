"""What the personnalisation rules do to an action, in words for agents (never a formula).

"Potentiel réduit de 4 à 2 points car la collectivité a répondu « Non » à « … ? »": the reason
names what the rule read to decide for this collectivité. Evaluation is lazy (personnalisation.md
§2.3), so the answers and identity properties a rule reads are those of the branches that decided.
"""
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.filters import format_points, points_text
from app.models import Collectivite, PersonnalisationRegle, Question, Reponse
from app.scoring.formula import Call, Environment, FormulaError, Node, Score, evaluate, parse
from app.scoring.personnalisation import Identite
from app.services.reponses import reponse_label

TYPE_PHRASES = {
    "commune": "est une commune",
    "EPCI": "est un EPCI",
    "syndicat": "est un syndicat",
    "departement": "est un département",
    "region": "est une région",
}


class _Recording(Mapping):
    """A mapping that remembers which keys a formula looked up, in order."""

    def __init__(self, data: Mapping):
        self._data = data
        self.read: dict = {}  # an ordered set

    def __getitem__(self, key):
        self.read[key] = None
        return self._data[key]

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True)
class _Facts:
    """The collectivité as the rules see it, read once (plain values: usable after a commit)."""

    rules: dict[tuple[str, str], str]  # (action id, kind) -> formula
    reponses: dict[str, str]
    questions: dict[str, tuple[str, str | None]]  # id -> (formulation, answer in words or None)


class RuleReasons:
    """The reasons of one collectivité's personnalisation, for one request; rules, questions and
    answers are read once, on the first reason asked (many controls have none to give)."""

    def __init__(self, collectivite: Collectivite, identite: Identite):
        self.collectivite_id = collectivite.id
        self.identite = identite
        self.identity_phrases = {
            "type": TYPE_PHRASES.get(collectivite.kind, f"est de type {collectivite.kind}"),
            "population": "n'a pas de population renseignée" if collectivite.population is None
            else f"compte {collectivite.population:,} habitants".replace(",", "\u202f"),
            "localisation": {True: "est située en outre-mer", False: "est située en métropole"}.get(
                collectivite.drom, "n'a pas de localisation renseignée"),
        }
        self._facts: _Facts | None = None

    def desactivation(self, action_id: str) -> str:
        """Why the action's own rule switches it off."""
        return f"Désactivée {self._because(action_id, 'desactivation')}."

    def reduction(self, action_id: str, points: float, personnalise: float, potentiel: float) -> str:
        """Why the action's points went from the référentiel's `points` to `personnalise`; its
        final `potentiel` may differ still (points shared again among siblings, scoring.md §3.4)."""
        change = "réduit" if personnalise < points else "augmenté"
        reason = (f"Potentiel {change} de {format_points(points)} à {points_text(personnalise)} "
                  f"{self._because(action_id, 'reduction')}.")
        if not math.isclose(potentiel, personnalise, abs_tol=5e-4):
            reason += f" Compte tenu des autres éléments du référentiel, son potentiel est de {points_text(potentiel)}."
        return reason

    def score(self, action_id: str) -> str | None:
        """What the action's score rule does, or None when it has none."""
        formule = self._load().rules.get((action_id, "score"))
        if formule is None:
            return None
        try:
            node = parse(formule)
        except FormulaError:
            return None
        others = [identifiant_of(a) for a in _score_references(node) if a != action_id]
        if not others:
            return "Le score réalisé est recalculé par une règle de la personnalisation."
        names = " et de ".join(others)
        if isinstance(node, Call) and node.function == "min":
            return f"Le score réalisé ne peut pas dépasser celui de {names} (règle de la personnalisation)."
        return f"Le score réalisé dépend de celui de {names} (règle de la personnalisation)."

    def answer(self, question_id: str) -> str | None:
        """The collectivité's answer to a question, in words (None when unanswered)."""
        return self._load().questions.get(question_id, (None, None))[1]

    def _because(self, action_id: str, kind: str) -> str:
        facts = self._load()
        formule = facts.rules.get((action_id, kind))
        if formule is None:
            return "par la personnalisation"
        identite = _Recording({"type": self.identite.type, "population": self.identite.population,
                               "localisation": self.identite.localisation})
        reponses = _Recording(facts.reponses)
        try:
            evaluate(formule, Environment(identite, reponses))
        except FormulaError:
            pass  # what was read until then still explains the outcome
        parts = [self.identity_phrases[prop] for prop in identite.read if prop in self.identity_phrases]
        answered, unanswered = [], []
        for question_id in reponses.read:
            formulation, label = facts.questions.get(question_id, (question_id, None))
            if label is None:
                unanswered.append(f"« {formulation} »")
            else:
                answered.append(f"« {label} » à « {formulation} »")
        if unanswered:
            parts.append("n'a pas répondu à " + " ni à ".join(unanswered))
        if answered:
            parts.append("a répondu " + " et ".join(answered))
        if not parts:
            return "pour toutes les collectivités (règle du référentiel)"
        return "car la collectivité " + _join(parts)

    def _load(self) -> _Facts:
        if self._facts is None:
            rules = {
                (row.action_id, row.kind): row.formule
                for row in db.session.execute(
                    select(PersonnalisationRegle.action_id, PersonnalisationRegle.kind, PersonnalisationRegle.formule)
                )
            }
            reponses = dict(db.session.execute(
                select(Reponse.question_id, Reponse.value).where(Reponse.collectivite_id == self.collectivite_id)
            ).all())
            questions = {
                question.id: (question.formulation, reponse_label(question, reponses.get(question.id)))
                for question in db.session.scalars(select(Question).options(selectinload(Question.choix)))
            }
            self._facts = _Facts(rules, reponses, questions)
        return self._facts


def identifiant_of(action_id: str) -> str:
    """The identifiant agents know ("2.1") from an action id ("eci_2.1")."""
    return action_id.partition("_")[2] or action_id


def _score_references(node) -> list[str]:
    """The action ids of the `score(…)` calls of a parsed formula, in order."""
    if isinstance(node, Score):
        return [node.action_id]
    found = []
    for value in vars(node).values():
        if isinstance(value, Node):
            found += [a for a in _score_references(value) if a not in found]
    return found


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]
