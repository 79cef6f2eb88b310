"""The personnalisation formula language: lexer, parser and lazy interpreter (personnalisation.md §2).

Pure: imports only the standard library and app.scoring.*.

A formula is parsed once into a small tree of frozen dataclasses (`Node`), then compiled into
nested closures for evaluation. Quirks kept on purpose: every binary operator is
right-associative (`10 - 4 - 3` is 9), `+`/`-` share one level, `*`/`/` another, parentheses
exist only in calls, `et`/`ou` return an operand (Python style), `si … alors` without `sinon`
yields None, `min`/`max` of non-numbers return the text of the call, and an atom may be empty
(it parses, but evaluating it fails). `referentiel(x)`, used by the cible / seuil expressions of
indicateurs (app/indicateur_defs/reference.py), is true when the environment names référentiel x.
"""
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

IDENTITE_PROPERTIES = ("type", "population", "localisation")


class FormulaError(Exception):
    """A formula cannot be parsed or evaluated."""


class FormulaSyntaxError(FormulaError):
    def __init__(self, message: str, line: int, column: int):
        super().__init__(f"ligne {line}, colonne {column} : {message}")
        self.line = line
        self.column = column


class ReponseMissing(FormulaError):
    """`reponse(q)` (value form) was evaluated while q has no answer."""


# --- tree -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    line: int


@dataclass(frozen=True)
class Number(Node):
    value: float


@dataclass(frozen=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True)
class Word(Node):
    """A bare word (`EPCI`, `OUI`, `voirie_1_c`): evaluates to its text."""

    text: str


@dataclass(frozen=True)
class Empty(Node):
    """The empty atom the grammar tolerates (`2 *`, `min(, 2)`)."""


@dataclass(frozen=True)
class Identite(Node):
    property: str
    value: Node


@dataclass(frozen=True)
class Reponse(Node):
    question: str
    value: Node | None  # None: value form `reponse(q)`


@dataclass(frozen=True)
class Score(Node):
    action_id: str


@dataclass(frozen=True)
class Referentiel(Node):
    """`referentiel(te)`: true when the formula is read for that référentiel (indicateur cibles)."""

    referentiel_id: str


@dataclass(frozen=True)
class Call(Node):
    """`min(a, b)` or `max(a, b)`."""

    function: str
    left: Node
    right: Node


@dataclass(frozen=True)
class BinaryOp(Node):
    """Arithmetic `+ - * /` or logic `et` / `ou`."""

    operator: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Conditional(Node):
    condition: Node
    then: Node
    otherwise: Node | None


# --- lexer ----------------------------------------------------------------------------------

CALLS = ("identite", "reponse", "score", "referentiel", "min", "max")
KEYWORDS = {"si", "alors", "sinon", "et", "ou", *CALLS}
BOOLEANS = {"VRAI": True, "vrai": True, "FAUX": False, "faux": False}
_NUMBER = r"\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?"
_TOKEN = re.compile(
    rf"(?P<space>\s+)|(?P<number>{_NUMBER})|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<symbol>[-+*/(),])"
)
_SIGNED_NUMBER = re.compile(rf"[-+](?:{_NUMBER})")
# Tokens after which an operand may start: there a sign glued to digits belongs to the number.
_OPERAND_FOLLOWS = {None, "+", "-", "*", "/", "(", ",", "si", "alors", "sinon", "et", "ou"}


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", "keyword", "symbol", "end"
    text: str
    line: int
    column: int


def tokenize(formule: str) -> list[Token]:
    tokens: list[Token] = []
    position, line, line_start = 0, 1, 0
    previous: str | None = None
    while position < len(formule):
        column = position - line_start + 1
        signed = _SIGNED_NUMBER.match(formule, position) if previous in _OPERAND_FOLLOWS else None
        match = signed or _TOKEN.match(formule, position)
        if match is None:
            raise FormulaSyntaxError(f"caractère inattendu « {formule[position]} »", line, column)
        text = match.group()
        if signed:
            kind = "number"
        else:
            kind = match.lastgroup
        if kind == "space":
            newlines = text.count("\n")
            if newlines:
                line += newlines
                line_start = position + text.rindex("\n") + 1
        else:
            if kind == "name" and text in KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, text, line, column))
            previous = text if kind in ("keyword", "symbol") else kind
        position = match.end()
    tokens.append(Token("end", "", line, position - line_start + 1))
    return tokens


# --- parser ---------------------------------------------------------------------------------


def parse(formule: str) -> Node:
    """Parse a formula; raises FormulaSyntaxError (with the 1-based line in the formula)."""
    return _Parser(tokenize(formule)).formula()


class _Parser:
    """Recursive descent; each binary level is `operand [op level]`, hence right-associative."""

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.position = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def at(self, text: str) -> bool:
        token = self.current
        return token.kind in ("keyword", "symbol") and token.text == text

    def expect(self, text: str) -> Token:
        if not self.at(text):
            self.fail(f"« {text} » attendu")
        return self.advance()

    def fail(self, expected: str):
        token = self.current
        found = "la fin de la formule" if token.kind == "end" else f"« {token.text} »"
        raise FormulaSyntaxError(f"{expected}, trouvé {found}", token.line, token.column)

    def formula(self) -> Node:
        node = self.statement()
        if self.current.kind != "end":
            self.fail("fin de la formule attendue")
        return node

    def statement(self) -> Node:
        if not self.at("si"):
            return self.disjunction()
        line = self.advance().line
        condition = self.disjunction()
        self.expect("alors")
        then = self.statement()
        otherwise = None
        if self.at("sinon"):
            self.advance()
            otherwise = self.statement()
        return Conditional(line, condition, then, otherwise)

    def _binary(self, operators: tuple[str, ...], operand, same_level) -> Node:
        left = operand()
        if any(self.at(operator) for operator in operators):
            token = self.advance()
            return BinaryOp(token.line, token.text, left, same_level())
        return left

    def disjunction(self) -> Node:
        return self._binary(("ou",), self.conjunction, self.disjunction)

    def conjunction(self) -> Node:
        return self._binary(("et",), self.sum, self.conjunction)

    def sum(self) -> Node:
        return self._binary(("+", "-"), self.product, self.sum)

    def product(self) -> Node:
        return self._binary(("*", "/"), self.operand, self.product)

    def operand(self) -> Node:
        if self.current.kind == "keyword" and self.current.text in CALLS:
            return self.call()
        return self.atom()

    def atom(self) -> Node:
        """A number, a boolean, a bare word or nothing (the grammar's empty atom)."""
        token = self.current
        if token.kind == "number":
            self.advance()
            return Number(token.line, float(token.text))
        if token.kind == "name":
            if token.text in BOOLEANS:
                self.advance()
                return Boolean(token.line, BOOLEANS[token.text])
            if "." in token.text:
                self.fail("un mot sans point est attendu ici")
            self.advance()
            return Word(token.line, token.text)
        return Empty(token.line)

    def call(self) -> Node:
        token = self.advance()
        self.expect("(")
        if token.text in ("min", "max"):
            left = self.sum()
            self.expect(",")
            node = Call(token.line, token.text, left, self.sum())
        else:
            name = self.name()
            if token.text == "score":
                node = Score(token.line, name)
            elif token.text == "referentiel":
                node = Referentiel(token.line, name)
            elif token.text == "identite":
                self.expect(",")
                node = Identite(token.line, name, self.atom())
            else:
                value = None
                if self.at(","):
                    self.advance()
                    value = self.atom()
                node = Reponse(token.line, name, value)
        self.expect(")")
        return node

    def name(self) -> str:
        token = self.current
        if token.kind != "name" or token.text in BOOLEANS:
            self.fail("un identifiant est attendu")
        return self.advance().text


# --- interpreter ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Environment:
    """What `identite` and `reponse` read; `identite` maps a property to the collectivité's set."""

    identite: Mapping[str, frozenset[str]]
    reponses: Mapping[str, object]
    referentiels: frozenset[str] = frozenset()  # what `referentiel(x)` is true for


# Evaluators take an Environment, or None after scoring (score formulas), where `identite` and
# `reponse` are unavailable.
Evaluator = Callable[[Environment | None], object]


def _environment(env: Environment | None, function: str) -> Environment:
    if env is None:
        raise FormulaError(f"{function} n'est pas disponible dans une formule de score")
    return env


def text_of(value: object) -> str:
    """Textual form of a value inside a `min`/`max` text (Python's str)."""
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float))


def _arithmetic(operator: str, left: object, right: object) -> float:
    try:
        a, b = float(left), float(right)
    except (TypeError, ValueError):
        raise FormulaError(f"{operator} ne prend que des nombres ({text_of(left)}, {text_of(right)})") from None
    if operator == "+":
        return a + b
    if operator == "-":
        return a - b
    if operator == "*":
        return a * b
    if b == 0:
        raise FormulaError("division par zéro")
    return a / b


def compile_node(node: Node) -> Evaluator:
    """Turn a parsed formula into a function of an Environment (lazy where the spec is lazy)."""
    match node:
        case Number(value=value) | Boolean(value=value):
            return lambda env: value
        case Word(text=text):
            return lambda env: text
        case Empty():
            def empty(env):
                raise FormulaError("expression manquante")
            return empty
        case Score(action_id=action_id):
            text = f"score({action_id})"
            return lambda env: text
        case Referentiel(referentiel_id=referentiel_id):
            return lambda env: referentiel_id in _environment(env, "referentiel").referentiels
        case Identite(property=prop, value=value_node):
            value_of = compile_node(value_node)

            def identite(env):
                env = _environment(env, "identite")
                if prop not in IDENTITE_PROPERTIES:
                    raise FormulaError(f"propriété d'identité inconnue : {prop}")
                value = value_of(env)
                return isinstance(value, str) and value in env.identite.get(prop, ())
            return identite
        case Reponse(question=question, value=None):
            def reponse_value(env):
                env = _environment(env, "reponse")
                if question not in env.reponses:
                    raise ReponseMissing(question)
                try:
                    return float(env.reponses[question])
                except (TypeError, ValueError):
                    raise FormulaError(f"la réponse à {question} n'est pas un nombre") from None
            return reponse_value
        case Reponse(question=question, value=value_node):
            value_of = compile_node(value_node)

            def reponse_equals(env):
                env = _environment(env, "reponse")
                expected = value_of(env)
                return question in env.reponses and env.reponses[question] == expected
            return reponse_equals
        case Call(function=function, left=left, right=right):
            left_of, right_of = compile_node(left), compile_node(right)
            pick = min if function == "min" else max

            def call(env):
                a, b = left_of(env), right_of(env)
                if _is_number(a) and _is_number(b):
                    return pick(a, b)
                return f"{function}({text_of(a)}, {text_of(b)})"
            return call
        case BinaryOp(operator="ou", left=left, right=right):
            left_of, right_of = compile_node(left), compile_node(right)
            return lambda env: left_of(env) or right_of(env)
        case BinaryOp(operator="et", left=left, right=right):
            left_of, right_of = compile_node(left), compile_node(right)
            return lambda env: left_of(env) and right_of(env)
        case BinaryOp(operator=operator, left=left, right=right):
            left_of, right_of = compile_node(left), compile_node(right)
            return lambda env: _arithmetic(operator, left_of(env), right_of(env))
        case Conditional(condition=condition, then=then, otherwise=otherwise):
            condition_of, then_of = compile_node(condition), compile_node(then)
            otherwise_of = compile_node(otherwise) if otherwise is not None else None

            def conditional(env):
                if condition_of(env):
                    return then_of(env)
                return otherwise_of(env) if otherwise_of is not None else None
            return conditional
    raise TypeError(f"unknown formula node {node!r}")


def evaluate(formule: str, env: Environment | None = None) -> object:
    """Parse and evaluate a formula text (without env: a score formula after scoring)."""
    return compile_node(parse(formule))(env)
