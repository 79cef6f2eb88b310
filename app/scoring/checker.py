"""Load-time checks of personnalisation rules against the questions (personnalisation.md §4).

Pure: imports only the standard library and app.scoring.*.

Types are computed bottom-up with the spec's simplified rules (a `si` has the type of its `alors`
branch, `ou` the type of its left operand, `et` of its right one). The first problem found in a
rule is reported, as one French message carrying the line (1-based, within the formula) of the
construct at fault. Unlike the 2025 converter, score rules are checked too (syntax, questions,
identity values, a number or text result), with texts allowed on both sides of min/max.
"""
from collections.abc import Mapping
from dataclasses import dataclass

from app.scoring.formula import (
    IDENTITE_PROPERTIES,
    BinaryOp,
    Boolean,
    Call,
    Conditional,
    Empty,
    FormulaSyntaxError,
    Identite,
    Node,
    Number,
    Referentiel,
    Reponse,
    Score,
    Word,
    parse,
)

IDENTITE_VALUES = {
    "type": ("commune", "EPCI", "syndicat", "syndicat_traitement"),
    "population": (
        "moins_de_5000",
        "moins_de_10000",
        "moins_de_20000",
        "moins_de_50000",
        "moins_de_100000",
        "plus_de_20000",
        "plus_de_100000",
    ),
    "localisation": ("DOM", "Metropole"),
}
RULE_KINDS = ("desactivation", "reduction", "score")
NUMBER, BOOLEAN, TEXT = "nombre", "booléen", "texte"


@dataclass(frozen=True)
class QuestionSpec:
    id: str
    type: str  # binaire, choix, proportion
    choix: tuple[str, ...] = ()


class RuleMessage(str):
    """A problem message; `line` is the line of the formula (1-based) where it was found."""

    line: int

    def __new__(cls, text: str, line: int):
        message = super().__new__(cls, text)
        message.line = line
        return message


class _Problem(Exception):
    def __init__(self, reason: str, line: int):
        super().__init__(reason)
        self.reason = reason
        self.line = line


def check_rule(formule: str, kind: str, questions: Mapping[str, QuestionSpec]) -> list[str]:
    """Messages (RuleMessage) for a rule of `kind` (desactivation, reduction, score); [] if fine."""
    if kind not in RULE_KINDS:
        return [RuleMessage(f"Type de règle inconnu : {kind}.", 1)]
    try:
        tree = parse(formule)
        output = _Typer(questions, kind == "score").type_of(tree)
        _check_output(kind, output, tree.line)
    except FormulaSyntaxError as error:
        return [_message(formule, f"erreur de syntaxe {error}", error.line)]
    except _Problem as problem:
        return [_message(formule, problem.reason, problem.line)]
    return []


def _message(formule: str, reason: str, line: int) -> RuleMessage:
    return RuleMessage(f"Erreur dans la règle formulée {formule.strip()} : {reason}", line)


def _check_output(kind: str, output: str, line: int) -> None:
    if kind == "desactivation" and output != BOOLEAN:
        raise _Problem(f"la formule n'a pas le bon type de sortie : {output} au lieu de {BOOLEAN}.", line)
    if kind in ("reduction", "score") and output not in (NUMBER, TEXT):
        raise _Problem(f"la formule n'a pas la bonne sortie : {output} au lieu de {NUMBER}.", line)


class _Typer:
    """Bottom-up types. In a score rule `score(...)` texts may sit on both sides of min/max and
    arithmetic (that is how `min(score(a), score(b))` works); elsewhere the right one must be
    a number."""

    def __init__(self, questions: Mapping[str, QuestionSpec], score_rule: bool):
        self.questions = questions
        self.right_operand_types = (NUMBER, TEXT) if score_rule else (NUMBER,)

    def type_of(self, node: Node) -> str:
        match node:
            case Number():
                return NUMBER
            case Boolean() | Referentiel():
                return BOOLEAN
            case Word() | Score():
                return TEXT
            case Empty():
                raise _Problem("expression manquante.", node.line)
            case Identite(property=prop, value=value):
                _check_identite(prop, value, node.line)
                return BOOLEAN
            case Reponse():
                return _check_reponse(node, self.questions)
            case Call(function=operator, left=left, right=right) | BinaryOp(
                operator=("+" | "-" | "*" | "/") as operator, left=left, right=right
            ):
                left_type, right_type = self.type_of(left), self.type_of(right)
                if left_type not in (NUMBER, TEXT) or right_type not in self.right_operand_types:
                    raise _Problem(f"{operator} ne prend que des arguments de type nombre.", node.line)
                return NUMBER
            case BinaryOp(operator="ou", left=left, right=right):
                left_type = self.type_of(left)
                self.type_of(right)
                return left_type
            case BinaryOp(operator="et", left=left, right=right):
                self.type_of(left)
                return self.type_of(right)
            case Conditional(condition=condition, then=then, otherwise=otherwise):
                self.type_of(condition)
                then_type = self.type_of(then)
                if otherwise is not None:
                    self.type_of(otherwise)
                return then_type
        raise TypeError(f"unknown formula node {node!r}")


def _check_identite(prop: str, value: Node, line: int) -> None:
    if prop not in IDENTITE_PROPERTIES:
        raise _Problem(
            f"{prop} n'est pas une propriété d'identité valide ({', '.join(IDENTITE_PROPERTIES)}).", line
        )
    if not isinstance(value, Word) or value.text not in IDENTITE_VALUES[prop]:
        raise _Problem(f"{_shown(value)} n'est pas une valeur valide pour '{prop}'.", line)


def _shown(node: Node) -> str:
    match node:
        case Word(text=text):
            return text
        case Number(value=value) | Boolean(value=value):
            return str(value)
    return "(vide)"


def _check_reponse(node: Reponse, questions: Mapping[str, QuestionSpec]) -> str:
    question = questions.get(node.question)
    if question is None:
        raise _Problem(f"Id de question inconnue: {node.question}.", node.line)
    if node.value is None:
        if question.type != "proportion":
            raise _Problem(
                f"La question {question.id} est de type {question.type}, "
                "donc la fonction réponse attend deux arguments.",
                node.line,
            )
        return NUMBER
    if question.type == "proportion":
        raise _Problem(
            f"La question {question.id} est de type proportion, "
            "donc la fonction réponse n'attend qu'un argument.",
            node.line,
        )
    allowed = ("OUI", "NON") if question.type == "binaire" else question.choix
    if not isinstance(node.value, Word) or node.value.text not in allowed:
        raise _Problem(
            f"L'id de choix {_shown(node.value)} est inconnu pour la question {question.id}. "
            f"Choix possibles : {', '.join(allowed)}.",
            node.line,
        )
    return BOOLEAN
