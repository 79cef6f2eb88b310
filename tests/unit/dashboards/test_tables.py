"""Aide à la priorisation (rows, matrix) and tableau des mesures."""
from datetime import date

import pytest

from app.dashboards import (
    MesuresFilters,
    PriorisationFilters,
    Suivi,
    mesures,
    priorisation,
    priorisation_matrix,
    priorisation_rows,
)
from tests.unit.dashboards.helpers import SCORES, TREE


def ids(rows):
    return [row.node.id for row in rows]


def test_priorisation_rows_of_sous_actions_with_points_restants_net_of_programme():
    rows = {row.node.id: row for row in priorisation_rows(TREE, SCORES, PriorisationFilters())}
    plan = rows["eci_1.1.2"]  # potentiel 6, fait 1, programmé 3
    assert (plan.restants, plan.pct_fait, plan.pct_programme) == (2, 16.7, 50)
    assert (plan.axe.identifiant, plan.phase, plan.thematique) == ("1", "mise_en_oeuvre", "strategie")
    assert (plan.realise_bin, plan.programme_bin, plan.restants_bin) == ("1", "50", "2-5")
    sans_phase = rows["eci_2.1.2"]  # désactivée: potentiel 0
    assert (sans_phase.restants, sans_phase.pct_fait, sans_phase.pct_programme) == (0, None, None)
    assert (sans_phase.realise_bin, sans_phase.phase, sans_phase.thematique) == (None, "non_classe", "dechets")


@pytest.mark.parametrize(("tri", "expected"), [
    ("restants", ["eci_1.1.1", "eci_1.1.2", "eci_2.1.1", "eci_2.1.2"]),  # 2, 2, 0, 0: ties in référentiel order
    ("realise", ["eci_1.1.2", "eci_1.1.1", "eci_2.1.1", "eci_2.1.2"]),  # 16.7, 50, 100, then no potentiel
    ("programme", ["eci_1.1.1", "eci_2.1.1", "eci_1.1.2", "eci_2.1.2"]),  # 0, 0, 50, then no potentiel
    ("referentiel", ["eci_1.1.1", "eci_1.1.2", "eci_2.1.1", "eci_2.1.2"]),
])
def test_priorisation_sorts(tri, expected):
    assert ids(priorisation_rows(TREE, SCORES, PriorisationFilters(tri=tri))) == expected


@pytest.mark.parametrize(("filters", "expected"), [
    (PriorisationFilters(niveau="action"), ["eci_1.1", "eci_2.1"]),
    (PriorisationFilters(realise=frozenset({"0", "1"})), ["eci_1.1.2"]),
    (PriorisationFilters(realise=frozenset({"50", "75"})), ["eci_1.1.1", "eci_2.1.1"]),  # not the potentiel 0 one
    (PriorisationFilters(programme=frozenset({"0"})), ["eci_1.1.1", "eci_2.1.1"]),
    (PriorisationFilters(phase=frozenset({"bases", "effets"})), ["eci_1.1.1", "eci_2.1.1"]),
    (PriorisationFilters(phase=frozenset({"non_classe"})), ["eci_2.1.2"]),
    (PriorisationFilters(restants=frozenset({"0"})), ["eci_2.1.1", "eci_2.1.2"]),
    (PriorisationFilters(axe=frozenset({"2"})), ["eci_2.1.1", "eci_2.1.2"]),
    (PriorisationFilters(thematique=frozenset({"strategie"})), ["eci_1.1.1", "eci_1.1.2"]),
    (PriorisationFilters(axe=frozenset({"1"}), phase=frozenset({"effets"})), []),
])
def test_priorisation_filters(filters, expected):
    assert sorted(ids(priorisation_rows(TREE, SCORES, filters))) == expected


def test_matrix_cells_count_and_sum_points_restants_and_link_to_their_rows():
    matrix = priorisation_matrix(TREE, SCORES, PriorisationFilters())
    assert matrix.phases == ("bases", "mise_en_oeuvre", "effets", "non_classe")
    assert matrix.restants_bins == ("10+", "5-10", "2-5", "1-2", "0-1", "0")
    filled = {key: (cell.count, cell.restants) for key, cell in matrix.cells.items() if cell.count}
    assert filled == {("2-5", "bases"): (1, 2), ("2-5", "mise_en_oeuvre"): (1, 2), ("0", "effets"): (1, 0),
                      ("0", "non_classe"): (1, 0)}
    cell = matrix.cell("2-5", "bases")
    assert cell.filters.query_args() == {"phase": "bases", "restants": "2-5"}
    assert ids(priorisation_rows(TREE, SCORES, cell.filters)) == ["eci_1.1.1"]


def test_matrix_keeps_the_other_filters_and_replaces_phase_and_restants():
    filters = PriorisationFilters(niveau="action", axe=frozenset({"1"}), phase=frozenset({"effets"}), tri="realise")
    matrix = priorisation_matrix(TREE, SCORES, filters)
    assert sum(cell.count for cell in matrix.cells.values()) == 2  # the sous-actions of axe 1, every phase
    assert matrix.cell("2-5", "mise_en_oeuvre").filters.query_args() == {
        "axe": "1", "phase": "mise_en_oeuvre", "restants": "2-5", "tri": "realise"}



@pytest.mark.parametrize("filters", [PriorisationFilters(), PriorisationFilters(niveau="action", tri="realise"),
                                     PriorisationFilters(axe=frozenset({"1"}), phase=frozenset({"bases"}))])
def test_priorisation_gives_the_rows_and_the_matrix_of_its_filters(filters):
    assert priorisation(TREE, SCORES, filters) == (priorisation_rows(TREE, SCORES, filters),
                                                   priorisation_matrix(TREE, SCORES, filters))

SUIVIS = {
    "eci_1.1.1.1": Suivi("fait", precision=True, preuves=2, modified_on=date(2025, 3, 2)),
    "eci_1.1.2": Suivi("detaille", modified_on=date(2025, 1, 10)),
    "eci_2.1.1": Suivi("fait", preuves=1, modified_on=date(2025, 3, 31)),
}


def test_mesures_without_filter_lists_every_node_below_the_root():
    result = mesures(TREE, SCORES, SUIVIS, MesuresFilters())
    assert ids(result.rows) == [node.id for node in TREE.nodes[1:]]
    assert all(row.matches for row in result.rows)
    by_id = {row.node.id: row for row in result.rows}
    assert (by_id["eci_1.1"].statut, by_id["eci_1.1"].kind) == (None, "action")  # an action takes no statut
    assert by_id["eci_1.1.1.2"].statut == "non_renseigne"  # no statut row
    tache = by_id["eci_1.1.1.1"]
    assert (tache.statut, tache.suivi.precision, tache.suivi.preuves, tache.pct_fait) == ("fait", True, 2, 100)
    assert by_id["eci_2.1.2"].pct_fait is None  # désactivée
    assert result.counts == {"axe": (2, 2), "action": (2, 2), "sous_action": (4, 4), "tache": (2, 2)}


@pytest.mark.parametrize(("filters", "matching"), [
    (MesuresFilters(statut=frozenset({"fait"})), ["eci_1.1.1.1", "eci_2.1.1"]),
    (MesuresFilters(statut=frozenset({"non_renseigne"})), ["eci_1.1.1", "eci_1.1.1.2", "eci_2.1.2"]),
    (MesuresFilters(statut=frozenset({"fait"}), axe=frozenset({"2"})), ["eci_2.1.1"]),
    (MesuresFilters(phase=frozenset({"bases"})), ["eci_1.1.1", "eci_1.1.1.1", "eci_1.1.1.2"]),
    (MesuresFilters(thematique=frozenset({"dechets"})), ["eci_2.1", "eci_2.1.1", "eci_2.1.2"]),
    (MesuresFilters(non_renseigne=True), ["eci_1", "eci_1.1", "eci_1.1.1", "eci_1.1.1.2"]),
    (MesuresFilters(depuis=date(2025, 3, 2)), ["eci_1.1.1.1", "eci_2.1.1"]),
    (MesuresFilters(depuis=date(2025, 4, 1)), []),
])
def test_mesures_filters_keep_the_matching_nodes_and_their_path(filters, matching):
    result = mesures(TREE, SCORES, SUIVIS, filters)
    assert [row.node.id for row in result.rows if row.matches] == matching
    shown = set(ids(result.rows))
    for node_id in matching:  # every ancestor up to the axe is shown too
        parent = TREE.by_id[node_id].parent_id
        while parent != TREE.root.id:
            assert parent in shown
            parent = TREE.by_id[parent].parent_id
    assert len(shown) == len(result.rows)


def test_mesures_counts_what_matches_per_kind():
    result = mesures(TREE, SCORES, SUIVIS, MesuresFilters(statut=frozenset({"non_renseigne"})))
    assert result.counts == {"axe": (0, 2), "action": (0, 2), "sous_action": (2, 4), "tache": (1, 2)}
    assert ids(result.rows) == ["eci_1", "eci_1.1", "eci_1.1.1", "eci_1.1.1.2", "eci_2", "eci_2.1", "eci_2.1.2"]


def test_nodes_without_a_score_record_are_left_out():
    scores = {key: value for key, value in SCORES.items() if key != "eci_1.1.2"}
    assert "eci_1.1.2" not in ids(priorisation_rows(TREE, scores, PriorisationFilters()))
    assert "eci_1.1.2" not in ids(mesures(TREE, scores, {}, MesuresFilters()).rows)


def test_before_any_score_the_mesures_list_every_node():
    rows = mesures(TREE, {}, {}, MesuresFilters()).rows
    assert len(rows) == len(TREE.nodes) - 1 and all(row.score is None and row.pct_fait is None for row in rows)


def test_a_score_of_rounded_records_leaves_no_crumb_of_points_restants():
    scores = {**SCORES, "eci_1.1.2": SCORES["eci_1.1.2"]._replace(fait=2.667, programme=3.332)}
    row = next(r for r in priorisation_rows(TREE, scores, PriorisationFilters()) if r.node.id == "eci_1.1.2")
    assert (row.restants, row.restants_bin) == (0, "0")
