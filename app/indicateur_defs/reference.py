"""Cible (target) and seuil (threshold) expressions of indicateurs, in the personnalisation formula
language (app/scoring/formula.py): one number for a collectivité, e.g.
`si identite(localisation, DOM) alors 75 sinon 40`. Pure.

`problems(text)` -> (errors, warnings) for the loader; `reference_value(text, context)` -> the
number, or None when the expression gives none for this collectivité (a `si` without `sinon`).
Population tags are compared with the population itself (`plus_de_50000` is population > 50000),
whatever the threshold; an identity property the language does not know (`dans_aire_urbaine`) is
a warning at load and a false condition at evaluation.
"""
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from app.scoring.formula import (
    IDENTITE_PROPERTIES,
    BinaryOp,
    Boolean,
    Conditional,
    Environment,
    FormulaError,
    FormulaSyntaxError,
    Identite,
    Node,
    Number,
    Referentiel,
    Reponse,
    Word,
    compile_node,
    parse,
)
from app.scoring.personnalisation import Identite as IdentiteTags

POPULATION_TAG = re.compile(r"(plus|moins)_de_(\d+)")
LOCALISATIONS = ("DOM", "Metropole")


@dataclass(frozen=True)
class Context:
    """What the expressions read of a collectivité."""

    identite: IdentiteTags  # type and localisation tags (its population tags are not used)
    population: int | None
    reponses: Mapping[str, object]
    referentiels: frozenset[str]  # what `referentiel(x)` is true for


def problems(text: str) -> tuple[list[str], list[str]]:
    """French messages: errors (the expression is refused) and warnings."""
    try:
        tree = parse(text)
    except FormulaSyntaxError as error:
        return [f"erreur de syntaxe {error}"], []
    errors: list[str] = []
    warnings: list[str] = []
    _check_value(tree, errors, warnings)
    return errors, warnings


def _check_value(node: Node, errors: list[str], warnings: list[str]) -> None:
    match node:
        case Number():
            return
        case Conditional(condition=condition, then=then, otherwise=otherwise):
            _check_condition(condition, errors, warnings)
            _check_value(then, errors, warnings)
            if otherwise is not None:
                _check_value(otherwise, errors, warnings)
        case BinaryOp(operator=("+" | "-" | "*" | "/"), left=left, right=right):
            _check_value(left, errors, warnings)
            _check_value(right, errors, warnings)
        case _:
            errors.append(f"ligne {node.line} : un nombre est attendu")


def _check_condition(node: Node, errors: list[str], warnings: list[str]) -> None:
    match node:
        case BinaryOp(operator=("et" | "ou"), left=left, right=right):
            _check_condition(left, errors, warnings)
            _check_condition(right, errors, warnings)
        case Identite(property=prop) if prop not in IDENTITE_PROPERTIES:
            warnings.append(f"propriété d'identité inconnue : {prop} (la condition sera toujours fausse)")
        case Identite(property=prop, value=Word(text=value)):
            if prop == "population" and not POPULATION_TAG.fullmatch(value):
                errors.append(f"ligne {node.line} : {value} n'est pas une population (plus_de_N ou moins_de_N)")
            elif prop == "localisation" and value not in LOCALISATIONS:
                errors.append(f"ligne {node.line} : {value} n'est pas une localisation ({', '.join(LOCALISATIONS)})")
        case Reponse(value=Word()) | Referentiel() | Boolean():
            return
        case _:
            errors.append(f"ligne {node.line} : une condition est attendue (identite, reponse, referentiel)")


def _nodes(node: Node):
    yield node
    for value in vars(node).values():
        if isinstance(value, Node):
            yield from _nodes(value)


@lru_cache(maxsize=512)
def _compiled(text: str):
    """The evaluator, the population tags the expression reads and what else of the Context it
    reads ("reponses", "referentiels")."""
    tags: set[str] = set()

    def known(node):
        # Unknown identity properties become false; population tags are collected.
        if isinstance(node, Identite):
            if node.property not in IDENTITE_PROPERTIES:
                return Boolean(node.line, False)
            if node.property == "population" and isinstance(node.value, Word):
                tags.add(node.value.text)
            return node
        if isinstance(node, Conditional):
            return replace(node, condition=known(node.condition), then=known(node.then),
                           otherwise=None if node.otherwise is None else known(node.otherwise))
        if isinstance(node, BinaryOp):
            return replace(node, left=known(node.left), right=known(node.right))
        return node

    tree = parse(text)
    kinds = {type(node) for node in _nodes(tree)}
    reads = frozenset(name for name, kind in (("reponses", Reponse), ("referentiels", Referentiel)) if kind in kinds)
    return compile_node(known(tree)), frozenset(tags), reads


def _population_tags(tags: frozenset[str], population: int | None) -> frozenset[str]:
    if population is None:
        return frozenset()
    held = set()
    for tag in tags:
        match = POPULATION_TAG.fullmatch(tag)
        if match and (population > int(match[2]) if match[1] == "plus" else population < int(match[2])):
            held.add(tag)
    return frozenset(held)


def reads(text: str | None) -> frozenset[str]:
    """What the expression reads of a Context besides the identity: "reponses", "referentiels"
    (a page loads only these); nothing for an invalid expression (it has no value)."""
    try:
        return _compiled(text)[2] if text else frozenset()
    except FormulaError:
        return frozenset()


def reference_value(text: str | None, context: Context) -> float | None:
    if not text:
        return None
    try:
        evaluator, tags, _reads = _compiled(text)
        result = evaluator(Environment(
            {"type": context.identite.type, "localisation": context.identite.localisation,
             "population": _population_tags(tags, context.population)},
            context.reponses, context.referentiels))
    except FormulaError:
        return None
    return float(result) if isinstance(result, int | float) and not isinstance(result, bool) else None
