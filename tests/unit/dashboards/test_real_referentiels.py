"""The dashboards on the real 2025 CAE and ECI (tests/unit/dashboards/real_referentiels.py): the
figures agree with the engine's records and with each other."""
import math

import pytest

from app.dashboards import (
    MesuresFilters,
    PriorisationFilters,
    mesures,
    priorisation_matrix,
    priorisation_rows,
    progression_par_axe,
    realise_par_phase,
    repartition,
)
from tests.unit.dashboards.real_referentiels import load_real

SOUS_ACTIONS = {"cae": 325, "eci": 80}


@pytest.fixture(scope="module", params=["cae", "eci"])
def real(request, shared_dir):
    return load_real(shared_dir, request.param)


def test_root_repartition_and_total_of_the_axes_agree(real):
    root = repartition(real.scores[real.tree.root.id])
    total = progression_par_axe(real.tree, real.scores)[-1].repartition
    for mine, engine in zip(total.parts, root.parts):
        assert math.isclose(mine.points, engine.points, abs_tol=0.01), mine.key
    assert sum(part.percent for part in root.parts) == pytest.approx(100)
    assert not root.empty


def test_realise_per_phase_is_the_sum_of_the_sous_actions(real):
    phases = realise_par_phase(real.tree, real.scores)
    sous_actions = [n.id for n in real.tree.nodes if real.tree.kind[n.id] == "sous_action"]
    assert len(sous_actions) == SOUS_ACTIONS[real.tree.root.id]
    assert phases.total == pytest.approx(sum(real.scores[i].fait for i in sous_actions), abs=1e-6)
    assert phases.total == pytest.approx(real.scores[real.tree.root.id].fait, abs=0.01)
    assert phases.sans_phase == ()  # every 2025 sous-action has its categorie
    assert sum(part.percent for part in phases.parts) == pytest.approx(100)


def test_priorisation_rows_and_matrix_agree(real):
    rows = priorisation_rows(real.tree, real.scores, PriorisationFilters())
    assert len(rows) == SOUS_ACTIONS[real.tree.root.id]
    for row in rows:
        expected = row.score.potentiel - row.score.fait - row.score.programme
        assert row.restants == pytest.approx(max(0.0, expected), abs=0.006)
    assert [row.restants for row in rows] == sorted((row.restants for row in rows), reverse=True)
    matrix = priorisation_matrix(real.tree, real.scores, PriorisationFilters())
    assert sum(cell.count for cell in matrix.cells.values()) == len(rows)
    assert sum(cell.restants for cell in matrix.cells.values()) == pytest.approx(sum(r.restants for r in rows))
    for cell in matrix.cells.values():
        assert len(priorisation_rows(real.tree, real.scores, cell.filters)) == cell.count


def test_mesures_list_every_node_and_filter_by_statut(real):
    everything = mesures(real.tree, real.scores, real.suivis, MesuresFilters())
    assert len(everything.rows) == len(real.tree.nodes) - 1
    fait = mesures(real.tree, real.scores, real.suivis, MesuresFilters(statut=frozenset({"fait"})))
    assert sum(row.matches for row in fait.rows) == sum(s.statut == "fait" for s in real.suivis.values())


def test_eci_of_the_benchmark_collectivite(shared_dir):
    eci = load_real(shared_dir, "eci")
    root = repartition(eci.scores["eci"])
    assert [(part.points, part.percent) for part in root.parts] == [
        (309.723, 68.1), (37.035, 8.1), (104.309, 22.9), (3.933, 0.9)]
    assert (root.referentiel, root.potentiel) == (500, 455)  # its personnalisation désactive some actions
    rows = priorisation_rows(eci.tree, eci.scores, PriorisationFilters(axe=frozenset({"2"})))
    desactivees = [row.node.identifiant for row in rows if row.score.desactive]
    assert desactivees and all(r.pct_fait is None for r in rows if r.node.identifiant in desactivees)
