"""Everything the engine needs from one content version, prepared once and reused.

Pure: imports only the standard library and app.scoring.*.
"""
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.scoring.checker import QuestionSpec
from app.scoring.engine import ScoreTable, Statut, score_referentiel
from app.scoring.personnalisation import (
    CompiledRules,
    Consequence,
    Identite,
    RuleSet,
    compile_rules,
    personnalise,
)
from app.scoring.tree import PreparedTree, prepare_tree


@dataclass(frozen=True)
class ReferentielTree:
    """Plain description of one référentiel's tree (children lists in scoring order)."""

    id: str
    children: Mapping[str, Sequence[str]]
    points: Mapping[str, float]
    action_level: int


@dataclass(frozen=True, eq=False)
class ScoringContent:
    trees: Mapping[str, PreparedTree]  # by référentiel id
    rules: CompiledRules
    questions: Mapping[str, QuestionSpec]

    def consequences(self, identite: Identite, reponses: Mapping[str, str | float]) -> dict[str, Consequence]:
        return personnalise(self.rules, identite, reponses)

    def scores(
        self, identite: Identite, reponses: Mapping[str, str | float], statuts: Iterable[Statut]
    ) -> dict[str, ScoreTable]:
        """Score every référentiel of the content for one collectivité."""
        consequences = self.consequences(identite, reponses)
        statuts = list(statuts)
        return {ref: score_referentiel(tree, statuts, consequences) for ref, tree in self.trees.items()}


def build_scoring_content(
    referentiels: Iterable[ReferentielTree], rule_sets: Iterable[RuleSet], questions: Iterable[QuestionSpec]
) -> ScoringContent:
    return ScoringContent(
        trees={r.id: prepare_tree(r.children, r.points, r.action_level) for r in referentiels},
        rules=compile_rules(rule_sets),
        questions={question.id: question for question in questions},
    )
