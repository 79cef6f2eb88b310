"""Formulas of computed indicateurs: arithmetic (+ - * / parentheses, numbers) over `val(id)` (a
required input: missing means no value) and `opt_val(id)` (an optional input: missing counts as 0).

`parse(text)` returns a tree or raises FormulaError (with the column); `inputs(tree)` the ids it
reads; `evaluate(tree, values)` a number, or None with the missing required ids. Pure.
"""
import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<call>opt_val|val)\s*\(\s*(?P<id>[\w.\-]+)\s*\)|(?P<op>[-+*/()]))")


class FormulaError(ValueError):
    pass


@dataclass(frozen=True)
class Input:
    id: str
    optional: bool


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Negative:
    operand: object


def _tokens(text: str) -> list:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if not match:
            raise FormulaError(f"formule invalide à la colonne {position + 1} : « {text[position:].strip()[:20]} »")
        if match["number"]:
            tokens.append(float(match["number"]))
        elif match["call"]:
            tokens.append(Input(match["id"], match["call"] == "opt_val"))
        else:
            tokens.append(match["op"])
        position = match.end()
    return tokens


def parse(text: str):
    tokens = _tokens(text)
    tree, rest = _sum(tokens)
    if rest:
        raise FormulaError(f"formule invalide : « {rest[0]} » inattendu")
    return tree


def _sum(tokens):
    return _left_to_right(tokens, ("+", "-"), _product)


def _product(tokens):
    return _left_to_right(tokens, ("*", "/"), _factor)


def _left_to_right(tokens, operators, operand):
    tree, tokens = operand(tokens)
    while tokens and tokens[0] in operators:
        right, rest = operand(tokens[1:])
        tree, tokens = Binary(tokens[0], tree, right), rest
    return tree, tokens


def _factor(tokens):
    if not tokens:
        raise FormulaError("formule invalide : elle se termine trop tôt")
    head, rest = tokens[0], tokens[1:]
    if head == "-":
        operand, rest = _factor(rest)
        return Negative(operand), rest
    if head == "(":
        tree, rest = _sum(rest)
        if not rest or rest[0] != ")":
            raise FormulaError("formule invalide : parenthèse non fermée")
        return tree, rest[1:]
    if isinstance(head, (float, Input)):
        return head, rest
    raise FormulaError(f"formule invalide : « {head} » inattendu")


def inputs(tree) -> list[Input]:
    if isinstance(tree, Input):
        return [tree]
    if isinstance(tree, Binary):
        return inputs(tree.left) + inputs(tree.right)
    if isinstance(tree, Negative):
        return inputs(tree.operand)
    return []


def evaluate(tree, values: dict[str, float]) -> tuple[float | None, list[str]]:
    """The value, or None with the missing required inputs (or [] after a division by zero)."""
    missing = [i.id for i in inputs(tree) if not i.optional and values.get(i.id) is None]
    if missing:
        return None, sorted(set(missing))
    try:
        return _value(tree, values), []
    except ZeroDivisionError:
        return None, []


def _value(tree, values: dict[str, float]) -> float:
    if isinstance(tree, float):
        return tree
    if isinstance(tree, Input):
        value = values.get(tree.id)
        return 0.0 if value is None else value
    if isinstance(tree, Negative):
        return -_value(tree.operand, values)
    left, right = _value(tree.left, values), _value(tree.right, values)
    if tree.op == "+":
        return left + right
    if tree.op == "-":
        return left - right
    return left * right if tree.op == "*" else left / right
