"""Personnalisation: identity + answers + rules -> consequences per action (personnalisation.md §1, §3).

Pure: imports only the standard library and app.scoring.*.
"""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.scoring.formula import Environment, Evaluator, ReponseMissing, compile_node, parse

POPULATION_BELOW = (5000, 10000, 20000, 50000, 100000)  # moins_de_X when population < X
POPULATION_ABOVE = (20000, 100000)  # plus_de_Y when population > Y
TYPE_TAGS = {"commune": ("commune",), "EPCI": ("EPCI",), "syndicat": ("EPCI", "syndicat")}


@dataclass(frozen=True)
class Identite:
    type: frozenset[str] = frozenset()
    population: frozenset[str] = frozenset()
    localisation: frozenset[str] = frozenset()


def identite_for(type_: str | None, population: int | None, drom: bool | None) -> Identite:
    """Identity tags of a collectivité: syndicats are sent as EPCI + syndicat, population as
    threshold tags (several at once), DOM or Metropole (nothing when unknown)."""
    population_tags: set[str] = set()
    if population is not None:
        population_tags.update(f"moins_de_{limit}" for limit in POPULATION_BELOW if population < limit)
        population_tags.update(f"plus_de_{limit}" for limit in POPULATION_ABOVE if population > limit)
    localisation = frozenset() if drom is None else frozenset({"DOM" if drom else "Metropole"})
    return Identite(frozenset(TYPE_TAGS.get(type_, ())), frozenset(population_tags), localisation)


@dataclass(frozen=True)
class RuleSet:
    """The rules of one action (each formula text or None)."""

    action_id: str
    desactivation: str | None = None
    reduction: str | None = None
    score: str | None = None


@dataclass(frozen=True)
class Consequence:
    """What the rules of an action gave: désactivé (truthiness counts), factor, score formula."""

    desactive: object = None
    potentiel_perso: float | str | None = None
    score_formule: object = None


@dataclass(frozen=True)
class CompiledRuleSet:
    action_id: str
    desactivation: Evaluator | None
    reduction: Evaluator | None
    score: Evaluator | None


@dataclass(frozen=True)
class CompiledRules:
    """Rule sets parsed once per content version, sorted by action id."""

    rule_sets: tuple[CompiledRuleSet, ...]


def compile_rules(rule_sets: Iterable[RuleSet]) -> CompiledRules:
    """Parse every formula (FormulaSyntaxError on a bad one: check them first with check_rule)."""

    def compiled(formule: str | None) -> Evaluator | None:
        return None if formule is None else compile_node(parse(formule))

    ordered = sorted(rule_sets, key=lambda rule_set: rule_set.action_id)
    return CompiledRules(
        tuple(
            CompiledRuleSet(rs.action_id, compiled(rs.desactivation), compiled(rs.reduction), compiled(rs.score))
            for rs in ordered
        )
    )


def _unless_missing(evaluator: Evaluator | None, env: Environment) -> object:
    """Désactivation and réduction rules: a missing proportion answer means "no effect"."""
    if evaluator is None:
        return None
    try:
        return evaluator(env)
    except ReponseMissing:
        return None


def personnalise(
    compiled: CompiledRules, identite: Identite, reponses: Mapping[str, str | float]
) -> dict[str, Consequence]:
    """One Consequence per action having rules, in sorted action id order.

    Raises FormulaError when a rule cannot be evaluated (e.g. a non-numeric answer read as a
    proportion, or a missing answer inside a score rule), as the reference service fails then.
    """
    env = Environment(
        {"type": identite.type, "population": identite.population, "localisation": identite.localisation},
        reponses,
    )
    consequences = {}
    for rule_set in compiled.rule_sets:
        consequences[rule_set.action_id] = Consequence(
            desactive=_unless_missing(rule_set.desactivation, env),
            potentiel_perso=_unless_missing(rule_set.reduction, env),
            score_formule=None if rule_set.score is None else rule_set.score(env),
        )
    return consequences
