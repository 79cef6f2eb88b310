"""Cible and seuil expressions of indicateurs: checked at load (path:line), evaluated for a
collectivité's identity, answers and référentiels."""
from pathlib import Path

import pytest

from app.indicateur_defs import read_definitions
from app.indicateur_defs.reference import Context, reads, reference_value
from app.scoring.personnalisation import identite_for

from tests.unit.indicateur_defs.test_loader import HEADER

DOM_EPCI = Context(identite_for("EPCI", 60000, True), 60000, {}, frozenset({"cae", "eci"}))
METROPOLE_COMMUNE = Context(identite_for("commune", 2500, False), 2500, {"potentiel_eolien_ou_hydro": "OUI"},
                            frozenset({"te"}))


@pytest.mark.parametrize("text, context, expected", [
    ("100", DOM_EPCI, 100.0),
    ("si identite(localisation, DOM) alors 75 sinon si identite(type, EPCI) alors 40 sinon 32", DOM_EPCI, 75.0),
    ("si identite(localisation, DOM) alors 75 sinon si identite(type, EPCI) alors 40 sinon 32", METROPOLE_COMMUNE, 32.0),
    ("si identite(population, plus_de_50000) alors 10 sinon si identite(population, moins_de_3000) alors 2", DOM_EPCI, 10.0),
    ("si identite(population, plus_de_50000) alors 10 sinon si identite(population, moins_de_3000) alors 2", METROPOLE_COMMUNE, 2.0),
    ("si referentiel(te) alors 20\n sinon 10", DOM_EPCI, 10.0),
    ("si referentiel(te) alors 20\n sinon 10", METROPOLE_COMMUNE, 20.0),
    ("si reponse(potentiel_eolien_ou_hydro, OUI) alors 40 sinon 16", METROPOLE_COMMUNE, 40.0),
    ("si identite(localisation, Metropole) alors 0", DOM_EPCI, None),  # no sinon: no value
    ("si identite(dans_aire_urbaine, oui) alors 40 sinon 50", DOM_EPCI, 50.0),  # unknown property: false
    ("", DOM_EPCI, None),
])
def test_reference_values(text, context, expected):
    assert reference_value(text, context) == expected


@pytest.mark.parametrize("text, expected", [
    ("si identite(localisation, DOM) alors 75 sinon 32", set()),
    ("si referentiel(te) alors 20\n sinon 10", {"referentiels"}),
    ("max(1, reponse(surface))", {"reponses"}),  # inside a call too
    ("si reponse(q, OUI) et referentiel(te) alors 1", {"reponses", "referentiels"}),
    ("si alors", set()),  # invalid: no value, nothing to read
    (None, set()),
])
def test_an_expression_tells_what_it_reads(text, expected):
    assert reads(text) == expected


def test_bad_expressions_are_errors_at_the_definition_line(tmp_path: Path):
    rows = [
        "a,A,%,,,,cae,,,,FALSE,FALSE,,,2,d,40,10,\n",
        'b,B,%,,,,cae,,,,FALSE,FALSE,,,2,d,"si identite(localisation, DOM alors 3",,\n',
        'c,C,%,,,,cae,,,,FALSE,FALSE,,,2,d,,"si identite(population, beaucoup) alors 2",\n',
        'd,D,%,,,,cae,,,,FALSE,FALSE,,,2,d,"si identite(type, EPCI) alors EPCI",,\n',
    ]
    path = tmp_path / "defs.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    _definitions, problems = read_definitions(path, set(), set())
    assert [str(p).replace(str(path), "defs.csv") for p in problems] == [
        "defs.csv:3: b : valeur cible : erreur de syntaxe ligne 1, colonne 31 : « ) » attendu, trouvé « alors »",
        "defs.csv:4: c : valeur limite : ligne 1 : beaucoup n'est pas une population (plus_de_N ou moins_de_N)",
        "defs.csv:5: d : valeur cible : ligne 1 : un nombre est attendu",
    ]
