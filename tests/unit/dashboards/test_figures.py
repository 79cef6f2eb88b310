"""Tableau de bord figures: répartition by statut, progression per axe, réalisé per phase."""
import pytest

from app.dashboards import build_tree, largest_remainder, progression_par_axe, realise_par_phase, repartition
from app.dashboards.tree import Node
from tests.unit.dashboards.helpers import SCORES, TREE, score


@pytest.mark.parametrize(("values", "expected"), [
    ([1, 1, 1], [33.4, 33.3, 33.3]),  # a tie: the first remainder wins
    ([2, 1], [66.7, 33.3]),
    ([1, 0, 0, 0], [100.0, 0.0, 0.0, 0.0]),
    ([0, 0, 0], [0.0, 0.0, 0.0]),  # nothing: no percentage to make up
    ([], []),
    ([67.359, 31.981, 30.909, 318.497], [15.0, 7.1, 6.9, 71.0]),
    ([0.0004, 999.9996], [0.0, 100.0]),
    ([1, 1, 1, 1, 1, 1, 1], [14.3, 14.3, 14.3, 14.3, 14.3, 14.3, 14.2]),
])
def test_largest_remainder_adds_up_to_100(values, expected):
    assert largest_remainder(values) == expected
    if any(values):
        assert round(sum(largest_remainder(values)), 6) == 100


@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_largest_remainder_at_any_precision(decimals):
    shares = largest_remainder([1, 2, 3, 4, 5, 6, 7], decimals)
    assert round(sum(shares), 6) == 100
    assert all(round(share, decimals) == share for share in shares)


def test_repartition_of_the_root():
    root = repartition(SCORES["eci"])
    assert [(p.key, p.label, p.points, p.percent) for p in root.parts] == [
        ("fait", "Réalisé", 11, 61.1), ("programme", "Programmé", 3, 16.7),
        ("pas_fait", "Pas fait", 2, 11.1), ("non_renseigne", "Non renseigné", 2, 11.1),
    ]
    assert (root.referentiel, root.potentiel) == (23, 18)  # personnalisation took 5 points off
    assert root.points("programme") == 3
    assert not root.empty


@pytest.mark.parametrize(("node_score", "empty"), [
    (score(10), True),  # nothing filled in: an empty state, not a grey donut
    (score(0, referentiel=5, desactive=True, renseigne=True), True),  # désactivé: potentiel 0
    (score(10, pas_fait=1), False),
])
def test_repartition_is_empty_until_something_is_filled_in(node_score, empty):
    result = repartition(node_score)
    assert result.empty is empty
    assert sum(p.percent for p in result.parts) in (0, 100)


def test_repartition_counts_taches():
    result = repartition(score(10, taches_total=12, taches_renseignees=5))
    assert (result.taches_renseignees, result.taches_total) == (5, 12)


def test_progression_per_axe_ends_with_a_total_of_sums():
    rows = progression_par_axe(TREE, SCORES)
    assert [row.label for row in rows] == ["1 Stratégie", "2 Déchets", "Total"]
    total = rows[-1].repartition
    assert rows[-1].node is None
    assert [p.points for p in total.parts] == [11, 3, 2, 2]
    assert (total.potentiel, total.referentiel) == (18, 23)
    # From the sums, not the mean of the axes' percentages (30 % and 100 %).
    assert total.parts[0].percent == 61.1


def test_progression_down_to_the_sous_axes_keeps_the_display_order():
    rows = progression_par_axe(TREE, SCORES, depth=2)
    assert [row.node.id if row.node else "Total" for row in rows] == ["eci_1", "eci_1.1", "eci_2", "eci_2.1", "Total"]


def test_realise_per_phase_sums_the_sous_actions_and_reports_those_without_phase():
    result = realise_par_phase(TREE, SCORES)
    assert [(p.key, p.points, p.percent) for p in result.parts] == [
        ("bases", 2, 18.2), ("mise_en_oeuvre", 1, 9.1), ("effets", 8, 72.7), ("non_classe", 0, 0),
    ]
    assert result.total == 11
    assert result.sans_phase == ("eci_2.1.2",)


def test_realise_per_phase_has_no_non_classe_part_when_every_sous_action_has_a_phase():
    tree = build_tree([n for n in TREE.nodes if n.id != "eci_2.1.2"], 2)
    assert [p.key for p in realise_par_phase(tree, SCORES).parts] == ["bases", "mise_en_oeuvre", "effets"]


def test_empty_referentiel():
    tree = build_tree([Node("cae", None, 0, "", "Climat")], 3)
    scores = {"cae": score(0)}
    assert tree.axes == []
    assert [row.label for row in progression_par_axe(tree, scores)] == ["Total"]
    assert progression_par_axe(tree, scores)[0].repartition.empty
    phases = realise_par_phase(tree, scores)
    assert (phases.total, phases.sans_phase) == (0, ())
    assert repartition(scores["cae"]).empty
