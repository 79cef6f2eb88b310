"""The étoiles rules (shared/spec/labellisation.md §2–§6): thresholds in exact decimals, criteria at
their edge values, cumulative criteria, skipped ones, and the pgTAP scenarios of §9."""
from pathlib import Path

import pytest

from app.scoring.labellisation import (
    CritereAction,
    Etoile,
    Proportion,
    Regles,
    critere_rempli,
    etoile_du_score,
    parcours,
    parse_bareme,
    proportion,
)

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "labellisation"
ETOILES = tuple(Etoile(n, f"étoile {n}", pct) for n, pct in ((1, 0), (2, 35), (3, 50), (4, 65), (5, 75)))


def critere(etoile: int, action_id: str, min_realise, min_programme=None) -> CritereAction:
    return CritereAction(etoile, 1, action_id, f"Critère {action_id}", min_realise, min_programme)


def test_the_shared_files_parse():
    bareme = parse_bareme((SHARED / "etoiles.csv").read_text(encoding="utf-8"),
                          (SHARED / "criteres_action.csv").read_text(encoding="utf-8"))
    assert [(e.numero, e.nom, e.min_realise_percentage) for e in bareme.etoiles] == [
        (1, "première étoile", 0), (2, "deuxième étoile", 35), (3, "troisième étoile", 50), (4, "quatrième étoile", 65),
        (5, "cinquième étoile", 75)]
    assert (len(bareme.criteres["eci"]), len(bareme.criteres["cae"])) == (17, 9)
    diagnostic = bareme.regles("cae").criteres[3]
    assert (diagnostic.action_id, diagnostic.min_realise, diagnostic.min_programme) == ("cae_1.1.2", 20, None)
    assert bareme.regles("autre").criteres == ()


@pytest.mark.parametrize("etoiles_csv", ["etoile,long_nom\n1,x\n", "etoile,long_nom,min_realise_percentage\n2,x,35\n",
                                         "etoile,long_nom,min_realise_percentage\nun,x,0\n", ""])
def test_a_malformed_file_is_refused_in_french(etoiles_csv):
    with pytest.raises(ValueError, match="fichier de labellisation invalide"):
        parse_bareme(etoiles_csv, "etoile,priorite,referentiel,action_id,formulation,min_realise_percentage,min_programme_percentage\n")


def test_thresholds_are_exact_decimals():
    assert [etoile.seuil for etoile in ETOILES] == [0.0, 0.35, 0.5, 0.65, 0.75]


@pytest.mark.parametrize("realise, etoile", [
    (-0.1, None), (0.0, 1), (0.3499999999, 1), (0.35, 2), (35 / 100, 2), (0.7 / 2, 2), (0.4999, 2), (0.5, 3),
    (0.6499999, 3), (0.65, 4), (0.7499, 4), (0.75, 5), (1.0, 5)])
def test_the_etoile_of_a_score_follows_the_thresholds(realise, etoile):
    assert etoile_du_score(Regles(ETOILES, ()), realise) == etoile


@pytest.mark.parametrize("rule, fait, programme, met", [
    ((100, None), 1.0, 0.0, True), ((100, None), 0.999, 0.0, False), ((100, None), 0.0, 1.0, False),
    ((100, 100), 0.0, 1.0, True), ((100, 100), 0.5, 0.5, True), ((100, 100), 0.5, 0.49, False),
    ((20, None), 0.2, 0.0, True), ((20, None), 0.19999, 0.8, False), ((20, None), 1 / 5, 0.0, True),
    ((None, 50), 0.0, 0.5, True), ((None, 50), 0.9, 0.0, True), ((None, None), 1.0, 0.0, False),
])
def test_a_criterion_at_its_edges(rule, fait, programme, met):
    assert critere_rempli(critere(1, "a", *rule), Proportion(fait, programme)) is met


def test_proportions_over_points_or_over_taches_when_the_potentiel_is_zero():
    assert proportion(3.0, 1.0, 4.0, 0.0, 0.0, 2) == Proportion(0.75, 0.25)
    assert proportion(0.0, 0.0, 0.0, 1.0, 1.0, 4, True) == Proportion(0.25, 0.25, True)
    assert proportion(0.0, 0.0, 0.0, 0.0, 0.0, 0) == Proportion(0.0, 0.0)


REGLES = Regles(ETOILES, (critere(1, "a", 100), critere(1, "b", 20), critere(2, "c", 100, 100), critere(4, "d", 100)))


def test_criteria_are_cumulative_and_the_next_etoile_lists_them_all():
    met = {"a": Proportion(1.0, 0.0), "b": Proportion(0.2, 0.0), "c": Proportion(0.0, 1.0), "d": Proportion(0.0, 0.0)}
    found = parcours(REGLES, 0.7, met)  # 4 by the score; d, a criterion of the 4th, is not met
    assert (found.atteinte, found.suivante, found.seuil_suivante) == (3, 4, 0.65)
    assert [(e.critere.action_id, e.rempli) for e in found.criteres] == [("a", True), ("b", True), ("c", True), ("d", False)]
    found = parcours(REGLES, 0.7, {**met, "a": Proportion(0.5, 0.5)})  # a first-étoile criterion fails: none
    assert (found.atteinte, found.suivante, [e.critere.action_id for e in found.criteres]) == (None, 1, ["a", "b"])
    found = parcours(REGLES, 0.8, {**met, "d": Proportion(1.0, 0.0)})
    assert (found.atteinte, found.suivante, found.seuil_suivante, len(found.criteres)) == (5, None, None, 4)


def test_desactivated_or_unscored_criteria_are_skipped():
    found = parcours(REGLES, 0.36, {"a": Proportion(1.0, 0.0), "b": Proportion(0.0, 0.0, desactive=True)})
    assert (found.atteinte, [e.critere.action_id for e in found.criteres]) == (2, ["a"])


def test_the_scenarios_of_the_spec():
    zeros = {key: Proportion(0.0, 0.0) for key in "abcd"}
    assert (parcours(REGLES, 0.0, zeros).atteinte, parcours(REGLES, 0.0, zeros).suivante) == (None, 1)
    everything = {key: Proportion(1.0, 0.0) for key in "abcd"}
    assert parcours(REGLES, 1.0, everything).atteinte == 5
    star_2 = {**everything, "d": Proportion(0.0, 0.0)}
    assert parcours(REGLES, 0.35, star_2).atteinte == 2
    assert parcours(REGLES, 0.5, star_2).atteinte == 3  # no criterion of its own for the 3rd
