"""The definitions loader without a database: the shared catalogue and the 2022 markdown load
cleanly; injected problems are reported at their path:line."""
from pathlib import Path

import pytest

from app.indicateur_defs import read_definitions
from app.indicateur_defs.formula import FormulaError, evaluate, parse

HEADER = ("identifiantReferentiel,titre,unite,titreCourt,titreLong,parents,categories,thematiques,actionIds,"
          "valeurCalcule,participationScore,sansValeurUtilisateur,borneMin,borneMax,precision,description,"
          "exprCible,exprSeuil,libelleCibleSeuil\n")


def row(identifiant, formule="", parents="", description="d"):
    return f"{identifiant},Titre {identifiant},t,,,{parents},cae,,,{formule},FALSE,FALSE,,,2,{description},,,\n"


def errors_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "defs.csv"
    path.write_text(HEADER + text, encoding="utf-8")
    _definitions, problems = read_definitions(path, set(), set())
    return [str(p).replace(str(path), "defs.csv") for p in problems if not p.warning]


def test_the_shared_catalogue_loads_without_errors(shared_dir):
    definitions, problems = read_definitions(shared_dir / "indicateurs" / "definitions.csv", set(), set())
    assert len(definitions) == 730
    assert [p for p in problems if not p.warning] == []
    computed = [d for d in definitions if d.formule]
    assert len(computed) == 77


def test_the_2022_markdown_loads_without_errors(shared_dir):
    definitions, problems = read_definitions(shared_dir / "referentiels/2022/markdown/indicateurs", set(), set())
    assert len(definitions) == 180
    assert [p for p in problems if not p.warning] == []
    alias = next(d for d in definitions if d.id == "crte_1.1")
    assert alias.formule.startswith("val(cae_")


def test_unknown_actions_are_warnings(shared_dir):
    _definitions, problems = read_definitions(shared_dir / "indicateurs" / "definitions.csv", set(), {"cae_1.1.1"})
    assert problems and all(p.warning for p in problems)


def test_a_formula_cycle_is_reported_at_its_line(tmp_path):
    # a (line 2) -> b (line 3) -> a
    assert errors_of(tmp_path, row("a", "val(b)") + row("b", "val(a)*2")) == [
        "defs.csv:3: cycle de formules : a → b → a"]


def test_a_parent_cycle_is_reported(tmp_path):
    assert errors_of(tmp_path, row("a", parents="b") + row("b", parents="a")) == [
        "defs.csv:3: cycle de parents : a → b → a"]


def test_an_unknown_input_is_reported_at_its_line(tmp_path):
    text = row("a") + row("b", '"val(a)+opt_val(zz)"', description='"deux\nlignes"') + row("c", "val(nope)")
    assert errors_of(tmp_path, text) == [
        "defs.csv:3: b : la formule utilise un indicateur inconnu zz",
        "defs.csv:5: c : la formule utilise un indicateur inconnu nope",
    ]


def test_a_bad_formula_is_reported_at_its_line(tmp_path):
    assert errors_of(tmp_path, row("a") + row("b", "val(a)+*2")) == ["defs.csv:3: b : formule invalide : « * » inattendu"]


def test_duplicates_and_unknown_parents(tmp_path):
    assert errors_of(tmp_path, row("a") + row("a") + row("c", parents="x")) == [
        "defs.csv:3: identifiant en double : a (déjà défini en defs.csv:2)",
        "defs.csv:4: c : parent inconnu x",
    ]


@pytest.mark.parametrize("text, values, expected", [
    ("val(a)/val(b)*1000", {"a": 3.0, "b": 2.0}, (1500.0, [])),
    ("val(a)+opt_val(b)", {"a": 1.0}, (1.0, [])),
    ("val(a)+val(b)", {"a": 1.0}, (None, ["b"])),
    ("-(val(a)-2)*3", {"a": 1.0}, (3.0, [])),
    ("val(a)/val(b)", {"a": 1.0, "b": 0.0}, (None, [])),
])
def test_formulas_evaluate(text, values, expected):
    assert evaluate(parse(text), values) == expected


@pytest.mark.parametrize("text", ["val(a", "val(a) +", "(val(a)", "val(a) val(b)", "foo(a)"])
def test_bad_formulas_raise(text):
    with pytest.raises(FormulaError):
        parse(text)
