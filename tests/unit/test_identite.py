"""Identity of a collectivité (personnalisation.md §1.3): type, population threshold tags, DOM."""
import pytest

from app.models import Collectivite
from app.services.collectivites import kind_for_nature, identite_of


@pytest.mark.parametrize(
    ("population", "tags"),
    [
        (15_000, {"moins_de_20000", "moins_de_50000", "moins_de_100000"}),
        (45_000, {"moins_de_50000", "moins_de_100000", "plus_de_20000"}),
        (250_000, {"plus_de_20000", "plus_de_100000"}),
        (4_999, {"moins_de_5000", "moins_de_10000", "moins_de_20000", "moins_de_50000", "moins_de_100000"}),
        (20_000, {"moins_de_50000", "moins_de_100000"}),  # thresholds are strict on both sides
        (100_000, {"plus_de_20000"}),
        (None, set()),
    ],
)
def test_population_tags(population, tags):
    assert identite_of(Collectivite(kind="commune", population=population, drom=False)).population == tags


@pytest.mark.parametrize(
    ("nature", "types"),
    [
        *[(nature, {"EPCI"}) for nature in ("CC", "CA", "CU", "METRO", "EPT")],
        *[(nature, {"EPCI", "syndicat"}) for nature in ("SIVU", "SIVOM", "SMF", "SMO", "PETR", "POLEM")],
    ],
)
def test_groupement_types(nature, types):
    collectivite = Collectivite(kind=kind_for_nature(nature), nature=nature, population=1000, drom=False)
    assert identite_of(collectivite).type == types


@pytest.mark.parametrize(("kind", "types"), [("commune", {"commune"}), ("departement", set()), ("region", set())])
def test_other_kinds(kind, types):
    assert identite_of(Collectivite(kind=kind, population=1000, drom=False)).type == types


@pytest.mark.parametrize(("drom", "localisation"), [(True, {"DOM"}), (False, {"Metropole"})])
def test_localisation_from_drom_flag(drom, localisation):
    assert identite_of(Collectivite(kind="commune", population=1000, drom=drom)).localisation == localisation
