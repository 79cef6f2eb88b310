"""Consequences from identity + answers (personnalisation.md §1.3 and §3)."""
import pytest

from app.scoring import Consequence, FormulaError, Identite, RuleSet, compile_rules, identite_for, personnalise


@pytest.mark.parametrize("population, tags", [
    (15_000, {"moins_de_20000", "moins_de_50000", "moins_de_100000"}),
    (45_000, {"moins_de_50000", "moins_de_100000", "plus_de_20000"}),
    (250_000, {"plus_de_20000", "plus_de_100000"}),
    (4_000, {"moins_de_5000", "moins_de_10000", "moins_de_20000", "moins_de_50000", "moins_de_100000"}),
    (20_000, {"moins_de_50000", "moins_de_100000"}),  # thresholds are strict on both sides
    (None, set()),
])
def test_population_threshold_tags(population, tags):
    assert identite_for("commune", population, False).population == frozenset(tags)


@pytest.mark.parametrize("type_, tags", [
    ("commune", {"commune"}), ("EPCI", {"EPCI"}), ("syndicat", {"EPCI", "syndicat"}), (None, set()),
    ("region", set()),
])
def test_type_tags(type_, tags):
    assert identite_for(type_, None, None).type == frozenset(tags)


@pytest.mark.parametrize("drom, tags", [(True, {"DOM"}), (False, {"Metropole"}), (None, set())])
def test_localisation_tags(drom, tags):
    assert identite_for(None, None, drom).localisation == frozenset(tags)


RULES = compile_rules([
    RuleSet("a_3", score="min(score(a_1), score(a_3))"),
    RuleSet("a_1", desactivation="reponse(dechets, NON)"),
    RuleSet("a_2", reduction="max(reponse(part), 0.5)"),
    RuleSet("a_4", desactivation="si identite(type, syndicat) alors FAUX sinon VRAI"),
    RuleSet("a_5", desactivation="si identite(type, commune) alors VRAI\n"
                                 "sinon si identite(type, EPCI) et identite(population, moins_de_20000) alors VRAI"),
    RuleSet("a_6", reduction="si reponse(eau, NON) alors 0/6"),
    RuleSet("a_7"),
    RuleSet("a_8", reduction="si reponse(eau, NON) alors reponse(part)"),
])


def test_one_entry_per_action_with_rules_in_sorted_order():
    consequences = personnalise(RULES, Identite(), {})
    assert list(consequences) == [f"a_{i}" for i in range(1, 9)]
    assert consequences["a_7"] == Consequence(None, None, None)


@pytest.mark.parametrize("reponses, expected", [
    ({"dechets": "NON"}, True), ({"dechets": "OUI"}, False), ({}, False),
])
def test_desactivation(reponses, expected):
    assert personnalise(RULES, Identite(), reponses)["a_1"].desactive is expected


@pytest.mark.parametrize("reponses, expected", [
    ({"part": 0.3}, 0.5), ({"part": 0.8}, 0.8), ({"part": "0.8"}, 0.8), ({}, None),
])
def test_reduction_missing_answer_means_no_reduction(reponses, expected):
    assert personnalise(RULES, Identite(), reponses)["a_2"].potentiel_perso == expected


def test_missing_answer_only_matters_when_reached():
    assert personnalise(RULES, Identite(), {"eau": "OUI"})["a_8"].potentiel_perso is None
    assert personnalise(RULES, Identite(), {"eau": "NON", "part": 0.2})["a_8"].potentiel_perso == 0.2


def test_reduction_to_zero_is_not_null():
    assert personnalise(RULES, Identite(), {"eau": "NON"})["a_6"].potentiel_perso == 0.0


def test_identity_rules():
    empty = personnalise(RULES, Identite(), {})
    assert empty["a_4"].desactive is True and empty["a_5"].desactive is None
    epci_30000 = personnalise(RULES, identite_for("EPCI", 30_000, False), {})
    assert epci_30000["a_5"].desactive is None
    syndicat = personnalise(RULES, identite_for("syndicat", 30_000, False), {})
    assert syndicat["a_4"].desactive is False


def test_score_rule_keeps_the_formula_text():
    assert personnalise(RULES, Identite(), {})["a_3"].score_formule == "min(score(a_1), score(a_3))"


def test_non_numeric_proportion_answer_fails():
    with pytest.raises(FormulaError):
        personnalise(RULES, Identite(), {"part": "OUI"})


def test_missing_answer_in_a_score_rule_fails():
    rules = compile_rules([RuleSet("a_1", score="min(reponse(part), score(a_1))")])
    with pytest.raises(FormulaError):
        personnalise(rules, Identite(), {})
