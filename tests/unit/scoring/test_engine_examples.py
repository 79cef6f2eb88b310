"""The worked examples E1–E26 of scoring.md, one parametrized test per step/rule of §3.

Each case: statuts, consequences, action level, then the expected (rounded) fields per node.
"""
import pytest

from tests.unit.scoring.helpers import consequence as c
from tests.unit.scoring.helpers import score

MIN_FORMULA = "min(score(eci_1.1), score(eci_1.2))"


def check(table, expected: dict) -> None:
    for action_id, fields in expected.items():
        record = table[action_id]
        for name, value in fields.items():
            actual = getattr(record, name)
            if isinstance(value, float):
                assert actual == pytest.approx(value, abs=1e-9), (action_id, name)
            else:
                assert actual == value and type(actual) is type(value), (action_id, name, actual)


def run(case: dict) -> None:
    table = score(case.get("statuts"), case.get("consequences"), case.get("level", 1))
    check(table, case["expected"])


def cases(*items):
    return pytest.mark.parametrize("case", [pytest.param(case, id=name) for name, case in items])


@cases(
    ("E7", {
        "consequences": {"eci_1": c(potentiel_perso=0.5)},
        "expected": {
            "eci_1": {"point_potentiel": 20.0, "point_potentiel_perso": 20.0, "point_referentiel": 40.0},
            "eci_1.1": {"point_potentiel": 5.0}, "eci_1.1.1": {"point_potentiel": 2.5},
            "eci_1.2": {"point_potentiel": 15.0}, "eci_1.2.3": {"point_potentiel": 5.0},
            "eci": {"point_potentiel": 80.0, "point_potentiel_perso": None},
        },
    }),
    ("E24", {
        "consequences": {"eci_2": c(potentiel_perso=0.5), "eci_2.2": c(potentiel_perso=1.5)},
        "expected": {
            "eci_2": {"point_potentiel": 40.0, "point_potentiel_perso": 30.0},
            "eci_2.1": {"point_potentiel": 13.333},
            "eci_2.2": {"point_potentiel": 40.0, "point_potentiel_perso": 30.0},
            "eci_2.2.1": {"point_potentiel": 20.0}, "eci_2.2.2": {"point_potentiel": 20.0},
            "eci": {"point_potentiel": 80.0},
        },
    }),
)
def test_step0_personalised_points_multiply_down_the_subtree(case):
    run(case)


@cases(
    ("E6", {
        "consequences": {"eci_2.2": c(desactive=True)},
        "expected": {
            "eci_2.2": {"point_potentiel": 0.0, "desactive": True, "concerne": False},
            "eci_2.2.1": {"point_potentiel": 0.0, "desactive": True},
            "eci_2.1": {"point_potentiel": 60.0, "desactive": False},
            "eci_2": {"point_potentiel": 60.0, "desactive": False},
        },
    }),
    ("E21", {
        "statuts": {"eci_1.1.1": "fait"},
        "consequences": {"eci_1.1.1": c(desactive=True)},
        "expected": {"eci_1.1.1": {
            "point_fait": 0.0, "desactive": True, "concerne": False, "completed_taches_count": 1,
            "pas_concerne_taches_avancement": 1.0, "fait_taches_avancement": 0.0,
        }},
    }),
    ("E22", {
        "consequences": {"eci_1.1": c(desactive=True, potentiel_perso=0)},
        # eci_1.2 receives 0 (base 30), so eci_1 sums to 30 != 40 and resizes it to 30/40*30.
        "expected": {
            "eci_1": {"point_potentiel": 30.0}, "eci_1.2": {"point_potentiel": 22.5},
            "eci_1.1": {"point_potentiel_perso": None, "desactive": True},
        },
    }),
)
def test_step1_desactivation(case):
    run(case)


@cases(
    ("E3", {
        "statuts": {"eci_1.1.1": "non_concerne", "eci_1.1.2": "non_concerne"},
        "expected": {"eci_1.1": {
            "concerne": False, "point_potentiel": 0.0, "total_taches_count": 2, "completed_taches_count": 2,
            "pas_concerne_taches_avancement": 2.0,
        }},
    }),
    ("E9", {
        "statuts": {"eci_1.1": "non_renseigne", "eci_1.1.1": "non_concerne", "eci_1.1.2": "non_concerne"},
        "expected": {
            "eci_1.1": {"concerne": False, "point_potentiel": 10.0, "point_fait": 0.0, "point_non_renseigne": 0.0},
            "eci_1": {"point_potentiel": 40.0, "point_non_renseigne": 30.0},
        },
    }),
    ("E13", {
        "consequences": {"eci_1.1": c(desactive=True), "eci_1.2": c(desactive=True)},
        "expected": {
            "eci_1": {
                "concerne": False, "desactive": False, "total_taches_count": 1, "completed_taches_count": 1,
                "pas_concerne_taches_avancement": 1.0, "point_potentiel": 0.0,
            },
            "eci": {"total_taches_count": 5},
        },
    }),
    ("E26", {
        "consequences": {"eci_1.1.1": c(desactive=True), "eci_1.1.2": c(desactive=True)},
        "expected": {
            "eci_1.1": {"concerne": False, "desactive": False, "point_potentiel": 0.0},
            "eci_1.2": {"point_potentiel": 40.0},
        },
    }),
)
def test_step2_non_concerne_propagates_up(case):
    run(case)


@cases(
    ("E2", {
        "statuts": {"eci_1.2.1": "non_concerne"},
        "expected": {
            "eci_1.2.1": {"point_potentiel": 0.0}, "eci_1.2.2": {"point_potentiel": 15.0},
            "eci_1.2.3": {"point_potentiel": 15.0}, "eci_1.2": {"point_potentiel": 30.0},
            "eci_1": {"point_potentiel": 40.0},
        },
    }),
    ("E3", {
        "statuts": {"eci_1.1.1": "non_concerne", "eci_1.1.2": "non_concerne"},
        "expected": {
            "eci_1.1.1": {"point_potentiel": 0.0}, "eci_1.1": {"point_potentiel": 0.0},
            "eci_1.2": {"point_potentiel": 40.0}, "eci_1": {"point_potentiel": 40.0},
        },
    }),
    ("E18", {
        "statuts": {"eci_2.1": "non_concerne", "eci_2.2": "non_concerne"},
        "expected": {
            "eci_2.0": {"point_potentiel": 0.0}, "eci_2": {"point_potentiel": 0.0, "concerne": True},
            "eci": {"point_potentiel": 40.0},
        },
    }),
    ("E25", {
        "statuts": {"eci_2.1": "non_concerne"},
        "expected": {"eci_2.2": {"point_potentiel": 60.0}, "eci_2.0": {"point_potentiel": 0.0}},
    }),
    ("E5 no redistribution at the action level", {
        "statuts": {"eci_2": "non_concerne", "eci_2.2.1": "fait"},
        "expected": {"eci_2": {"point_potentiel": 0.0}, "eci_1": {"point_potentiel": 40.0},
                     "eci": {"point_potentiel": 40.0}},
    }),
)
def test_step3_potentials_and_redistribution(case):
    run(case)


@cases(
    ("E3", {
        "statuts": {"eci_1.1.1": "non_concerne", "eci_1.1.2": "non_concerne"},
        "expected": {"eci_1.2.1": {"point_potentiel": 13.333, "point_non_renseigne": 13.333}},
    }),
    ("E15", {
        "statuts": {"eci_1.2": "non_concerne", "eci_1.2.1": "fait", "eci_1.2.2": [0.5, 0.25, 0.25]},
        "expected": {
            "eci_1.1": {"point_potentiel": 40.0}, "eci_1.1.1": {"point_potentiel": 20.0},
            "eci_1.2.1": {"point_potentiel": 0.0, "point_fait": 0.0, "concerne": True, "renseigne": True},
            "eci_1.2.2": {"point_potentiel": 0.0, "point_fait": 0.0, "concerne": True},
            "eci": {"point_potentiel": 100.0},
        },
    }),
    ("E11", {
        "level": 2,
        "statuts": {"eci_1": "non_concerne", "eci_1.1.1": "fait"},
        "expected": {
            "eci_1": {"point_potentiel": 0.0, "total_taches_count": 1},
            "eci_1.1": {"point_potentiel": 10.0, "point_fait": 5.0}, "eci_1.2": {"point_potentiel": 30.0},
            "eci": {"point_potentiel": 60.0, "point_fait": 0.0},
        },
    }),
    ("E5", {
        "statuts": {"eci_2": "non_concerne", "eci_2.2.1": "fait"},
        "expected": {"eci_2.2.1": {
            "point_potentiel": 0.0, "point_fait": 0.0, "completed_taches_count": 1, "fait_taches_avancement": 1.0,
        }},
    }),
)
def test_step4_resizing(case):
    run(case)


@cases(
    ("E4", {
        "statuts": {"eci_1.2": [0.2, 0.3, 0.5], "eci_1.2.1": "fait", "eci_1.2.2": "fait"},
        "expected": {
            "eci_1.2": {
                "point_fait": 6.0, "point_programme": 9.0, "point_pas_fait": 15.0, "point_non_renseigne": 0.0,
                "total_taches_count": 3, "completed_taches_count": 3, "fait_taches_avancement": 0.6000000000000001,
                "programme_taches_avancement": 0.8999999999999999, "pas_fait_taches_avancement": 1.5,
            },
            "eci_1.2.1": {"point_fait": 10.0},
            "eci_1": {"point_fait": 6.0, "point_programme": 9.0, "point_pas_fait": 15.0},
            "eci": {"point_fait": 6.0, "point_programme": 9.0, "point_pas_fait": 15.0},
        },
    }),
    ("E12", {
        "statuts": {"eci_1": "fait"},
        "expected": {
            "eci_1": {"point_fait": 40.0, "total_taches_count": 1, "completed_taches_count": 1,
                      "fait_taches_avancement": 1.0},
            "eci": {"total_taches_count": 5},
        },
    }),
    ("E5", {
        "statuts": {"eci_2": "non_concerne", "eci_2.2.1": "fait"},
        "expected": {
            "eci_2": {"total_taches_count": 2, "completed_taches_count": 2, "pas_concerne_taches_avancement": 2.0},
            "eci": {"total_taches_count": 7},
        },
    }),
    ("E16", {
        "statuts": {"eci_1.1": "programme", "eci_1.1.1": "non_concerne", "eci_1.1.2": "non_concerne"},
        "expected": {
            "eci_1.1": {"point_programme": 10.0, "total_taches_count": 2, "programme_taches_avancement": 2.0},
            "eci_1.1.1": {"point_potentiel": 0.0},
        },
    }),
    ("E20", {
        "statuts": {"eci_1.1.1": [0.5, 0.5, 0.5]},
        "expected": {"eci_1.1.1": {"point_fait": 2.5, "point_programme": 2.5, "point_pas_fait": 2.5,
                                   "point_non_renseigne": 0.0}},
    }),
    ("A3 leaf without statut", {
        "expected": {"eci_1.1.1": {
            "point_fait": 0.0, "point_non_renseigne": 5.0, "total_taches_count": 1, "completed_taches_count": 0,
            "concerne": True, "point_potentiel_perso": None,
        }},
    }),
)
def test_step5_rule_a_own_state(case):
    run(case)


@cases(
    ("E1", {
        "statuts": {"eci_1.1.1": "fait", "eci_1.1.2": [0.5, 0.25, 0.25], "eci_1.2.1": "programme",
                    "eci_2.1": "pas_fait"},
        "expected": {
            "eci_1.1.2": {"point_fait": 2.5, "point_programme": 1.25, "point_pas_fait": 1.25,
                          "fait_taches_avancement": 0.5, "programme_taches_avancement": 0.25},
            "eci_1.1": {"point_fait": 7.5, "point_programme": 1.25, "point_pas_fait": 1.25,
                        "point_non_renseigne": 0.0, "total_taches_count": 2, "completed_taches_count": 2},
            "eci_1": {"point_fait": 7.5, "point_programme": 11.25, "point_pas_fait": 1.25,
                      "point_non_renseigne": 20.0, "total_taches_count": 5, "completed_taches_count": 3,
                      "fait_taches_avancement": 1.5},
            "eci": {"point_fait": 7.5, "point_programme": 11.25, "point_pas_fait": 21.25,
                    "point_non_renseigne": 60.0, "total_taches_count": 9, "completed_taches_count": 4},
        },
    }),
    ("E9 concerne from the children", {
        "statuts": {"eci_1.1": "non_renseigne", "eci_1.1.1": "non_concerne", "eci_1.1.2": "non_concerne"},
        "expected": {"eci_1.1": {"concerne": False, "total_taches_count": 2, "completed_taches_count": 2}},
    }),
)
def test_step5_rule_b_sums_of_children(case):
    run(case)


@cases(
    ("E8", {
        "statuts": {"eci_1.1.1": "fait", "eci_1.2.1": "fait", "eci_1.2.2": "fait", "eci_1.2.3": "fait"},
        "consequences": {"eci_1.2": c(score_formule=MIN_FORMULA)},
        "expected": {
            "eci_1.2.1": {"point_fait": 5.0}, "eci_1.2": {"point_fait": 15.0, "point_potentiel_perso": 30.0},
            "eci_1": {"point_fait": 20.0, "point_potentiel_perso": 40.0},
            "eci": {"point_fait": 20.0, "point_potentiel_perso": 100.0},
        },
    }),
    ("E14", {
        "statuts": {"eci_1.1.1": "non_concerne", "eci_1.1.2": "non_concerne", "eci_1.2.1": "fait"},
        "consequences": {"eci_1.2": c(score_formule=MIN_FORMULA)},
        "expected": {"eci_1.2.1": {"point_fait": 0.0}, "eci_1.2": {"point_fait": 0.0},
                     "eci_1": {"point_fait": 0.0}},
    }),
    ("E19", {
        "statuts": {"eci_1.2": "fait", "eci_1.2.1": "pas_fait", "eci_1.1.1": "fait"},
        "consequences": {"eci_1.2": c(score_formule=MIN_FORMULA)},
        "expected": {"eci_1.2": {
            "point_fait": 0.0, "point_pas_fait": 10.0, "point_non_renseigne": 20.0, "completed_taches_count": 3,
            "fait_taches_avancement": 3.0,
        }},
    }),
    ("no fait: nothing happens", {
        "statuts": {"eci_1.1.1": "fait"},
        "consequences": {"eci_1.2": c(score_formule=MIN_FORMULA)},
        "expected": {"eci_1": {"point_potentiel_perso": None}, "eci": {"point_potentiel_perso": None},
                     "eci_1.2": {"point_potentiel_perso": 30.0}},
    }),
    ("unknown action in the formula: nothing happens", {
        "statuts": {"eci_1.2.1": "fait"},
        "consequences": {"eci_1.2": c(score_formule="min(score(eci_9), score(eci_1.2))")},
        "expected": {"eci_1.2": {"point_fait": 10.0}, "eci_1": {"point_potentiel_perso": None}},
    }),
)
def test_step6_score_formula_override(case):
    run(case)


@cases(
    ("E11", {
        "level": 2,
        "statuts": {"eci_1": "non_concerne", "eci_1.1.1": "fait"},
        "expected": {"eci_1.1": {"point_non_renseigne": 5.0, "renseigne": True},
                     "eci_1.1.2": {"renseigne": False}, "eci_1": {"renseigne": True}},
    }),
    ("no statut", {
        "expected": {"eci": {"renseigne": False}, "eci_2.0": {"renseigne": True},
                     "eci_2.1": {"renseigne": False}},
    }),
    ("désactivé", {
        "consequences": {"eci_2.2": c(desactive=True)},
        "expected": {"eci_2.2": {"renseigne": True}, "eci_2.2.1": {"renseigne": True}},
    }),
)
def test_step7_renseigne(case):
    run(case)


@cases(
    ("E10 tie to even", {
        "statuts": {"r_1": [0.25, 0.5, 0.25]},
        "expected": {"r_1": {"point_fait": 0.062, "point_programme": 0.125, "point_pas_fait": 0.062}},
    }),
    ("E10 0.1875 and 0.3125", {
        "statuts": {"r_1": [0.75, 1.25, 0.0]},
        "expected": {"r_1": {"point_fait": 0.188, "point_programme": 0.312}},
    }),
)
def test_step8_rounding_is_pythons_round(case):
    table = score(case["statuts"], level=1, spec={"r": (0.25, ["r_1"]), "r_1": (0.25, [])})
    check(table, case["expected"])


def test_rounding_keeps_avancement_sums_unrounded():
    table = score({"eci_1.2": [0.2, 0.3, 0.5]})
    assert table["eci_1.2"].fait_taches_avancement == 0.6000000000000001


@cases(
    ("E23 personalised without effective rule", {
        "consequences": {"eci_1.1": c()},
        "expected": {"eci_1.1": {"point_potentiel_perso": 10.0}, "eci_1": {"point_potentiel_perso": None}},
    }),
    ("E22 désactivé personalised", {
        "consequences": {"eci_1.1": c(desactive=True)},
        "expected": {"eci_1.1": {"point_potentiel_perso": None}},
    }),
    ("reduced to zero", {
        "consequences": {"eci_1.1": c(potentiel_perso=0)},
        "expected": {"eci_1.1": {"point_potentiel_perso": 0.0, "point_potentiel": 0.0}},
    }),
)
def test_point_potentiel_perso(case):
    run(case)


def test_inputs_off_the_tree_are_ignored():
    reference = score({"eci_1.1.1": "fait"})
    table = score(
        {"eci_1.1.1": "fait", "cae_1.1": "fait"},
        {"cae_1": c(desactive=True, potentiel_perso=0.5, score_formule="min(score(cae_1), 1)")},
    )
    assert list(table.records()) == list(reference.records())


def test_table_is_a_mapping_of_every_node():
    table = score()
    assert len(table) == 15 and set(table) == set(table.tree.ids)
    assert [record.action_id for record in table.records()][-1] == "eci"
    assert "eci_9" not in table
