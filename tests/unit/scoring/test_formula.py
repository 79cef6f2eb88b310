"""The formula language (personnalisation.md §2): lexing, right associativity, lazy evaluation."""
import pytest

from app.scoring import FormulaError, FormulaSyntaxError, ReponseMissing, evaluate, parse
from app.scoring.formula import Empty, Environment

ENV = Environment(
    {"type": frozenset({"EPCI"}), "population": frozenset({"moins_de_50000"}), "localisation": frozenset()},
    {"q_bin": "OUI", "q_prop": 0.7, "q_text_number": "0.25", "q_choix": "q_choix_b", "q_low": 0.05},
)


@pytest.mark.parametrize("formule, expected", [
    ("10 - 4 - 3", 9.0),
    ("1 - 2 + 3", -4.0),
    ("2/4/8", 4.0),
    ("reponse(q_prop) * 10/8", 0.7 * (10 / 8)),
    ("2/12", 0.16666666666666666),
    ("1e-3", 0.001),
    ("-0.5", -0.5),
    ("10 -4", 6.0),
    ("2 * -3", -6.0),
    ("max(reponse(q_low), 2/10) + 1/10", 0.30000000000000004),
    ("1 + 1 et 3", 3.0),
    ("0 ou 0.7", 0.7),
    ("reponse(q_bin, OUI) ou 0.5", True),
    ("FAUX et 2", False),
    ("VRAI et 2", 2.0),
    ("vrai", True),
    ("faux", False),
    ("EPCI", "EPCI"),
    ("si FAUX alors 1", None),
    ("si VRAI alors si FAUX alors 1 sinon 2", 2.0),
    ("si FAUX alors 1 sinon si VRAI alors 3", 3.0),
    ("si reponse (q_bin, OUI)\n  alors 0.5\nsinon 1", 0.5),
    ("min(score(cae_1.2.3), score(cae_3.3.5))", "min(score(cae_1.2.3), score(cae_3.3.5))"),
    ("max(score(eci_1), 0.5)", "max(score(eci_1), 0.5)"),
    ("min(2, 0.5)", 0.5),
    ("score(cae_1.2)", "score(cae_1.2)"),
    ("identite(type, EPCI)", True),
    ("identite(type, commune)", False),
    ("identite(type, 1)", False),
    ("identite(localisation, DOM)", False),
    ("reponse(q_bin, oui)", False),
    ("reponse(q_prop, OUI)", False),
    ("reponse(q_choix, q_choix_b)", True),
    ("reponse(q_absent, OUI)", False),
    ("reponse(q_text_number)", 0.25),
])
def test_evaluation(formule, expected):
    result = evaluate(formule, ENV)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("formule", ["(1+2)*3", "1 2", "si VRAI 1", "reponse(q.x, a.b)", "identite(type EPCI)", "§"])
def test_syntax_errors(formule):
    with pytest.raises(FormulaSyntaxError):
        parse(formule)


def test_syntax_error_gives_the_line_within_the_formula():
    with pytest.raises(FormulaSyntaxError) as error:
        parse("si VRAI\nalors 1\nsinon )")
    assert error.value.line == 3


@pytest.mark.parametrize("formule", ["", "2 *", "min(, 2)"])
def test_empty_atom_parses_but_fails_to_evaluate(formule):
    parse(formule)
    with pytest.raises(FormulaError):
        evaluate(formule, ENV)


def test_empty_formula_is_an_empty_atom():
    assert isinstance(parse(" \n"), Empty)


@pytest.mark.parametrize("formule, error", [
    ("reponse(q_absent)", ReponseMissing),
    ("reponse(q_bin)", FormulaError),
    ("identite(taille, grande)", FormulaError),
    ("1 / 0", FormulaError),
    ("score(a) + 1", FormulaError),
])
def test_evaluation_errors(formule, error):
    with pytest.raises(error):
        evaluate(formule, ENV)


def test_evaluation_is_lazy():
    assert evaluate("reponse(q_bin, OUI) ou reponse(q_absent)", ENV) is True
    assert evaluate("si FAUX alors reponse(q_absent) sinon 1", ENV) == 1.0
    with pytest.raises(ReponseMissing):
        evaluate("si VRAI alors reponse(q_absent)", ENV)


def test_identite_and_reponse_are_unavailable_without_environment():
    assert evaluate("min(0.25, 0.5)") == 0.25
    with pytest.raises(FormulaError):
        evaluate("identite(type, EPCI)")
