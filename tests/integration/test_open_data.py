"""Open data (/api/v1): the OpenAPI description is valid and lists exactly the API's routes; pages,
filters and CSV carry the public figures only; bad parameters give a JSON French message; answers
are cacheable (ETag, 304) and rate-limited per IP."""
import csv
import io
from datetime import timedelta

import pytest
from openapi_spec_validator import validate

from app.openapi import OPENAPI
from tests.factories import make_collectivite
from tests.integration.test_partage import PRIVATE_PRECISION, scored  # noqa: F401 (fixture)
from tests.suivi_content import tiny_content  # noqa: F401 (fixture)


def test_the_openapi_document_is_valid_and_lists_every_api_route(app, client):
    validate(OPENAPI)
    assert client.get("/api/v1/openapi.json").json == OPENAPI
    routes = {rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<", "{").replace(">", "}")
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/") and not rule.rule.endswith("openapi.json")}
    assert routes == set(OPENAPI["paths"])


def test_pages_filters_and_details(client, scored):
    commune, editor, admin = scored
    others = [make_collectivite(nom=f"Autre {n}", population=100_000 + n) for n in range(3)]
    first = client.get("/api/v1/collectivites?limit=2&referentiel=eci")
    assert first.status_code == 200 and first.json["has_next"] is True
    assert [item["id"] for item in first.json["items"]] == [commune.id, others[0].id]
    assert first.json["items"][0]["referentiels"] == {"eci": {"realise": 50.0, "programme": 0.0, "etoiles": 3}}
    last = client.get("/api/v1/collectivites?limit=2&page=2").json
    assert [item["nom"] for item in last["items"]] == ["Autre 1", "Autre 2"] and last["has_next"] is False
    assert client.get("/api/v1/collectivites?population=100000-200000").json["items"][0]["nom"] == "Autre 0"
    assert [i["id"] for i in client.get("/api/v1/collectivites?etoiles=3&referentiel=eci").json["items"]] == [commune.id]

    detail = client.get(f"/api/v1/collectivites/{commune.id}").json
    assert detail["referentiels"]["eci"]["axes"]["eci_2"] == {"realise": 66.7, "programme": 0.0}
    scores = client.get("/api/v1/referentiels/eci/scores?limit=100").json
    assert [item["id"] for item in scores["items"]] == [commune.id]

    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/collectivites.csv").text)))
    assert len(rows) == 4 and rows[0]["realise"] == "50.0" and rows[0]["etoiles"] == "3" and rows[1]["realise"] == ""


def test_nothing_private_is_published_even_when_opted_in(client, scored):
    commune, editor, admin = scored
    from tests.factories import login

    login(client, admin)
    client.post(f"/collectivites/{commune.id}/partage", data={"precisions_publiques": "1", "statuts_publics": "1"})
    for path in ("/api/v1/collectivites", f"/api/v1/collectivites/{commune.id}", "/api/v1/referentiels/eci/scores",
                 "/api/v1/collectivites.csv"):
        text = client.get(path).text
        for private in (PRIVATE_PRECISION, editor.email, admin.email, editor.name, "fait"):
            assert private not in text, (path, private)


@pytest.mark.parametrize("path, detail", [
    ("/api/v1/collectivites?limit=1000", "limit : un entier de 1 à 100"),
    ("/api/v1/collectivites?page=0", "page : un entier à partir de 1"),
    ("/api/v1/collectivites?type=martien", "type : Type inconnu"),
    ("/api/v1/collectivites.csv?realise=tout", "realise : Tranche de % réalisé inconnue."),
    ("/api/v1/referentiels/zzz/scores", "référentiel inconnu : zzz"),
])
def test_bad_parameters_get_a_json_message(client, app_context, path, detail):
    response = client.get(path)
    assert response.status_code == 400
    assert response.json["error"] == "parametre_invalide" and detail in response.json["detail"]


def test_unknown_collectivite_is_a_json_404(client, app_context):
    response = client.get("/api/v1/collectivites/999999")
    assert response.status_code == 404 and response.json["error"] == "introuvable"


def test_answers_are_cacheable(client, app_context):
    make_collectivite()
    response = client.get("/api/v1/collectivites")
    assert response.headers["Cache-Control"] == "public, max-age=300" and response.headers["ETag"]
    again = client.get("/api/v1/collectivites", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_calls_are_rate_limited_per_ip(app, client, app_context):
    app.config["OPEN_DATA_IP_LIMIT"] = (3, timedelta(minutes=1))
    try:
        statuses = [client.get("/api/v1/openapi.json").status_code for _ in range(4)]
        other_ip = client.get("/api/v1/openapi.json", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    finally:
        app.config["OPEN_DATA_IP_LIMIT"] = (120, timedelta(minutes=1))
    assert statuses == [200, 200, 200, 429] and other_ip.status_code == 200
    assert client.get("/donnees-ouvertes").status_code == 200  # the documentation page is not counted
