"""What-if: a simulated change scores exactly like a full re-score (incremental or not), and the
shortest path reaches the next étoile with as few tâches as any other set (checked by brute force)."""
import itertools
import random
from pathlib import Path

import pytest

from app.scoring import Statut, score_referentiel
from app.scoring.engine import draft_referentiel
from app.scoring.labellisation import CritereAction, Etoile, Regles, parse_bareme
from app.scoring.whatif import FAIT, chemin_le_plus_court, parcours_of, simulate
from benchmarks.scoring import benchmark_inputs
from tests.unit.scoring.helpers import SMALL_TREE, build_tree, consequence, statut

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
ETOILES = tuple(Etoile(n, f"étoile {n}", pct) for n, pct in ((1, 0), (2, 35), (3, 50), (4, 65), (5, 75)))
CHOICES = ["fait", "programme", "pas_fait", "non_renseigne", "non_concerne", (0.2, 0.3, 0.5)]


@pytest.fixture(scope="module")
def real():
    bareme = parse_bareme((SHARED / "labellisation" / "etoiles.csv").read_text(encoding="utf-8"),
                          (SHARED / "labellisation" / "criteres_action.csv").read_text(encoding="utf-8"))
    return {ref: (inputs, bareme.regles(ref)) for ref, inputs in benchmark_inputs(SHARED / "benchmark").items()}


def _full(base, changes):
    return score_referentiel(base.tree, list({**base.statuts, **changes}.values()), base.consequences)


@pytest.mark.parametrize("referentiel", ["cae", "eci"])
def test_a_simulated_change_equals_a_full_rescore_on_real_data(real, referentiel):
    (tree, statuts, consequences), _ = real[referentiel]
    base = draft_referentiel(tree, statuts, consequences)
    settable = [node for i, node in enumerate(tree.ids) if tree.depth[i] > tree.action_level]
    draw = random.Random(11)
    for _ in range(40):
        changes = {node: statut(node, draw.choice(CHOICES)) for node in draw.sample(settable, draw.randint(1, 6))}
        assert simulate(base, changes).rows() == _full(base, changes).rows()
    tache = next(node for i, node in enumerate(tree.ids) if not tree.children[i] and node not in base.statuts)
    assert base.with_avancements({tache: statut(tache, "fait")}) is not None  # the incremental path was taken


def test_a_simulated_change_equals_a_full_rescore_with_a_score_formula_and_a_desactivation():
    tree = build_tree(SMALL_TREE, 1)
    consequences = {"eci_2": consequence(score_formule="min(score(eci_1), score(eci_2.2))"),
                    "eci_1.1": consequence(desactive=True)}
    base = draft_referentiel(tree, [statut("eci_1.2.1", "fait"), statut("eci_2.2.1", "programme")], consequences)
    for changes in ({"eci_2.2.2": "fait"}, {"eci_1.2.2": "fait", "eci_2.2.1": "non_renseigne"}, {"eci_1.1.1": "fait"},
                    {"eci_1.2": "fait"}, {"eci_2.1": "non_concerne"}):
        changes = {node: statut(node, value) for node, value in changes.items()}
        assert simulate(base, changes).rows() == _full(base, changes).rows()


@pytest.mark.parametrize("referentiel", ["cae", "eci"])
def test_the_shortest_path_reaches_the_next_etoile_by_a_fresh_score(real, referentiel):
    (tree, statuts, consequences), regles = real[referentiel]
    base = draft_referentiel(tree, statuts, consequences)
    if referentiel == "eci":  # its SPASER criterion is non concerné: the path says so
        chemin = chemin_le_plus_court(base, regles)
        assert [c.action_id for c in chemin.bloquants] == ["eci_3.2.0"] and not chemin.atteint
        statuts = [s for s in statuts if s.action_id != "eci_3.2.0"]
        base = draft_referentiel(tree, statuts, consequences)
    for _ in range(3):  # étoile after étoile
        chemin = chemin_le_plus_court(base, regles)
        if chemin.etoile is None:
            break
        done = [Statut(etape.action_id, FAIT) for etape in chemin.etapes]
        fresh = parcours_of(regles, score_referentiel(tree, [*statuts, *done], consequences))
        assert chemin.atteint and not chemin.bloquants and fresh.atteinte >= chemin.etoile
        statuts = [*statuts, *done]
        base = draft_referentiel(tree, statuts, consequences)


def test_after_the_last_etoile_there_is_no_path():
    tree = build_tree(SMALL_TREE, 1)
    base = draft_referentiel(tree, [statut(leaf, "fait") for leaf in ("eci_1.1", "eci_1.2", "eci_2.1", "eci_2.2")], {})
    chemin = chemin_le_plus_court(base, Regles(ETOILES, ()))
    assert (chemin.etoile, chemin.etapes, chemin.atteint) == (None, (), True)


LEAVES = ["eci_1.1.1", "eci_1.1.2", "eci_1.2.1", "eci_1.2.2", "eci_1.2.3", "eci_2.0", "eci_2.1", "eci_2.2.1", "eci_2.2.2"]


@pytest.mark.parametrize("seed", range(30))
def test_no_smaller_set_of_taches_reaches_the_etoile(seed):
    """Brute force on the small tree: random statuts of tâches and random criteria."""
    draw = random.Random(seed)
    tree = build_tree(SMALL_TREE, 1)
    statuts = [statut(leaf, draw.choice(["fait", "programme", "pas_fait", (0.5, 0.25, 0.25)]))
               for leaf in draw.sample(LEAVES, 4)]
    criteres = tuple(CritereAction(draw.choice([1, 1, 2, 3]), n, node, node, *draw.choice([(100, None), (100, 100), (20, None), (50, None)]))
                     for n, node in enumerate(draw.sample(["eci_1.1", "eci_1.2", "eci_1.2.2", "eci_2", "eci_2.2", "eci_2.0"], 3)))
    regles = Regles(ETOILES, criteres)
    base = draft_referentiel(tree, statuts, {})
    chemin = chemin_le_plus_court(base, regles)
    if chemin.etoile is None:
        return
    assert chemin.atteint or chemin.bloquants
    open_leaves = [leaf for leaf in LEAVES if base.statuts.get(leaf) is None or base.statuts[leaf].avancement != FAIT]
    for size in range(len(chemin.etapes)):
        for subset in itertools.combinations(open_leaves, size):
            reached = parcours_of(regles, _full(base, {leaf: Statut(leaf, FAIT) for leaf in subset})).atteinte or 0
            assert reached < chemin.etoile, f"{subset} reaches étoile {chemin.etoile} with fewer tâches than {chemin.etapes}"


def test_among_the_fewest_taches_the_path_gains_the_fewest_points():
    """5 points done, the second étoile wants 35: two tâches are needed, 20 + 10 rather than 20 + 20."""
    base = draft_referentiel(build_tree(SMALL_TREE, 1), [statut("eci_1.1.1", "fait")], {})
    chemin = chemin_le_plus_court(base, Regles(ETOILES, ()))
    assert (chemin.etoile, len(chemin.etapes), chemin.points, chemin.resultat.atteinte) == (2, 2, 30.0, 2)
