"""Filters of the priorisation and mesures tables: read from a query string without ever raising
(French messages for what is not understood), written back as a shareable query string."""
from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from app.dashboards import (
    PERCENT_BINS,
    RESTANTS_BINS,
    MesuresFilters,
    PriorisationFilters,
    parse_mesures_filters,
    parse_priorisation_filters,
)
from app.dashboards.filters import bin_of
from tests.unit.dashboards.helpers import TREE


@pytest.mark.parametrize(("ratio", "key"), [
    (0.0, "0"), (0.0001, "1"), (0.10, "1"), (0.3499, "1"), (0.35, "35"), (0.4999, "35"), (0.5, "50"),
    (0.65, "65"), (0.7499, "65"), (0.75, "75"), (1.0, "75"),
])
def test_percent_bins_lower_bound_included_and_100_in_the_last(ratio, key):
    assert bin_of(ratio, PERCENT_BINS) == key


@pytest.mark.parametrize(("points", "key"), [
    (0.0, "0"), (0.01, "0-1"), (0.99, "0-1"), (1.0, "1-2"), (2.0, "2-5"), (4.99, "2-5"), (5.0, "5-10"),
    (10.0, "10+"), (250.0, "10+"),
])
def test_restants_bins(points, key):
    assert bin_of(points, RESTANTS_BINS) == key


def test_no_query_string_means_no_filter():
    assert parse_priorisation_filters({}, TREE) == (PriorisationFilters(), [])
    assert parse_mesures_filters({}, TREE) == (MesuresFilters(), [])
    assert not MesuresFilters().active


def test_priorisation_filters_read_commas_and_repeated_keys_alike():
    expected = PriorisationFilters(niveau="action", realise=frozenset({"0", "1"}), phase=frozenset({"bases", "effets"}),
                                   axe=frozenset({"2"}), thematique=frozenset({"dechets"}), tri="realise",
                                   restants=frozenset({"2-5"}), programme=frozenset({"75"}))
    typed = {"niveau": "action", "realise": "0,1", "phase": "bases, effets", "axe": "2", "thematique": "dechets",
             "tri": "realise", "restants": "2-5", "programme": "75"}
    assert parse_priorisation_filters(typed, TREE) == (expected, [])
    form = MultiDict({**typed, "realise": ["0", "1"], "phase": ["bases", "effets"]})  # a form of checkboxes
    assert parse_priorisation_filters(form, TREE) == (expected, [])


def test_filters_go_back_to_the_same_query_string():
    filters, _ = parse_priorisation_filters({"phase": "effets,bases", "axe": "1", "tri": "restants"}, TREE)
    assert filters.query_args() == {"phase": "bases,effets", "axe": "1"}  # sorted; defaults left out
    assert parse_priorisation_filters(filters.query_args(), TREE)[0] == filters
    mesures, _ = parse_mesures_filters({"statut": "fait", "non_renseigne": "1", "depuis": "2025-03-01"}, TREE)
    assert mesures.query_args() == {"statut": "fait", "non_renseigne": "1", "depuis": "2025-03-01"}
    assert parse_mesures_filters(mesures.query_args(), TREE)[0] == mesures


@pytest.mark.parametrize(("args", "kept", "message"), [
    ({"couleur": "bleu"}, PriorisationFilters(), "Filtre inconnu « couleur » : il est ignoré."),
    ({"realise": "0,12"}, PriorisationFilters(realise=frozenset({"0"})),
     "% réalisé : « 12 » inconnue(s), ignorée(s). Valeurs possibles : 0, 1, 35, 50, 65, 75."),
    ({"phase": "depart"}, PriorisationFilters(), "Phase : « depart » inconnue(s), ignorée(s). "
     "Valeurs possibles : bases, mise_en_oeuvre, effets, non_classe."),
    ({"axe": "9"}, PriorisationFilters(), "Axe : « 9 » inconnue(s), ignorée(s). Valeurs possibles : 1, 2."),
    ({"thematique": "eau"}, PriorisationFilters(),
     "Thématique : « eau » inconnue(s), ignorée(s). Valeurs possibles : dechets, strategie."),
    ({"niveau": "tache"}, PriorisationFilters(), "Niveau : « tache » non reconnue(s), « Sous-actions » est utilisé. "
     "Valeurs possibles : sous_action, action."),
    ({"tri": "restants,realise"}, PriorisationFilters(),
     "Tri : « restants », « realise » non reconnue(s), « Points restants (décroissant) » est utilisé. "
     "Valeurs possibles : restants, realise, programme, referentiel."),
    ({"restants": "x" * 60}, PriorisationFilters(), f"Points restants : « {'x' * 40}… » inconnue(s), ignorée(s). "
     "Valeurs possibles : 10+, 5-10, 2-5, 1-2, 0-1, 0."),
])
def test_priorisation_filters_explain_what_they_leave_out(args, kept, message):
    assert parse_priorisation_filters(args, TREE) == (kept, [message])


@pytest.mark.parametrize(("args", "kept", "message"), [
    ({"depuis": "2025-13-01"}, MesuresFilters(),
     "Date « 2025-13-01 » invalide pour « modifié depuis » : format attendu AAAA-MM-JJ (par exemple 2025-03-31)."),
    ({"depuis": "hier"}, MesuresFilters(),
     "Date « hier » invalide pour « modifié depuis » : format attendu AAAA-MM-JJ (par exemple 2025-03-31)."),
    ({"non_renseigne": "oui"}, MesuresFilters(), "Non renseigné : « oui » non reconnue(s) : écrivez 1 pour filtrer."),
    ({"statut": "fait,termine"}, MesuresFilters(statut=frozenset({"fait"})),
     "Statut : « termine » inconnue(s), ignorée(s). "
     "Valeurs possibles : non_renseigne, fait, programme, pas_fait, detaille, non_concerne."),
    ({"tri": "restants"}, MesuresFilters(), "Filtre inconnu « tri » : il est ignoré."),
])
def test_mesures_filters_explain_what_they_leave_out(args, kept, message):
    assert parse_mesures_filters(args, TREE) == (kept, [message])


def test_mesures_filters_understood():
    filters, errors = parse_mesures_filters(
        {"statut": "non_renseigne,fait", "axe": "1", "phase": "bases", "thematique": "strategie",
         "non_renseigne": "1", "depuis": "2025-03-31"}, TREE)
    assert errors == []
    assert filters == MesuresFilters(statut=frozenset({"non_renseigne", "fait"}), axe=frozenset({"1"}),
                                     phase=frozenset({"bases"}), thematique=frozenset({"strategie"}),
                                     non_renseigne=True, depuis=date(2025, 3, 31))
    assert filters.active


def test_every_error_of_one_query_string_is_reported():
    _filters, errors = parse_mesures_filters({"statut": "x", "axe": "y", "depuis": "z", "w": "1"}, TREE)
    assert len(errors) == 4


def test_empty_values_are_no_filter():
    assert parse_priorisation_filters({"phase": "", "realise": " , ", "tri": ""}, TREE) == (PriorisationFilters(), [])
