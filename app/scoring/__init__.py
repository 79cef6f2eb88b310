"""Pure scoring package: personnalisation formulas, consequences and the score engine.

Pure: imports only the standard library and app.scoring.* (checked by tests/unit/scoring/test_purity.py).
References: shared/spec/scoring.md and shared/spec/personnalisation.md (2025 rules).
"""
from app.scoring.checker import QuestionSpec, RuleMessage, check_rule
from app.scoring.content import ReferentielTree, ScoringContent, build_scoring_content
from app.scoring.engine import SCORE_FIELDS, ActionScore, ScoreTable, Statut, score_referentiel
from app.scoring.formula import FormulaError, FormulaSyntaxError, ReponseMissing, evaluate, parse
from app.scoring.personnalisation import (
    CompiledRules,
    Consequence,
    Identite,
    RuleSet,
    compile_rules,
    identite_for,
    personnalise,
)
from app.scoring.tree import PreparedTree, prepare_tree

__all__ = [
    "SCORE_FIELDS",
    "ActionScore",
    "CompiledRules",
    "Consequence",
    "FormulaError",
    "FormulaSyntaxError",
    "Identite",
    "PreparedTree",
    "QuestionSpec",
    "ReferentielTree",
    "ReponseMissing",
    "RuleMessage",
    "RuleSet",
    "ScoreTable",
    "ScoringContent",
    "Statut",
    "build_scoring_content",
    "check_rule",
    "compile_rules",
    "evaluate",
    "identite_for",
    "parse",
    "personnalise",
    "prepare_tree",
    "score_referentiel",
]
