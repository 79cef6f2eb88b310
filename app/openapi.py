"""The OpenAPI 3.1 description of the open-data API (/api/v1, app.routes.open_data), served at
/api/v1/openapi.json; tests/integration/test_open_data.py validates it and checks that it lists
exactly the API's routes."""

_FILTERS = [
    ("q", "Nom (sans accents ni casse)"),
    ("type", "region, departement, commune, METRO, CU, CA, CC, EPT ou syndicat"),
    ("region", "Code INSEE de la région"),
    ("departement", "Code du département"),
    ("population", "Tranche : 0-20000, 20000-50000, 50000-100000, 100000-200000, 200000+"),
    ("referentiel", "Référentiel des filtres etoiles et realise (cae par défaut)"),
    ("etoiles", "Étoiles (indicatives) de 1 à 5"),
    ("realise", "Tranche de % réalisé : 0-35, 35-50, 50-65, 65-75, 75-100"),
    ("actif", "1 : seulement les collectivités ayant au moins un membre"),
]
_PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
]
_FILTER_PARAMETERS = [{"name": name, "in": "query", "description": text, "schema": {"type": "string"}}
                      for name, text in _FILTERS]
_ERRORS = {
    "400": {"description": "Paramètre invalide", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "429": {"description": "Trop de requêtes", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
}


def _json(schema_ref: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _page_of(item_ref: str) -> dict:
    return {"type": "object", "required": ["page", "limit", "has_next", "items"], "properties": {
        "page": {"type": "integer"}, "limit": {"type": "integer"}, "has_next": {"type": "boolean"},
        "referentiel": {"type": "string"},
        "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item_ref}"}}}}


_NUMBER = {"type": "number"}
_IDENTITY = {
    "id": {"type": "integer"}, "nom": {"type": "string"}, "type": {"type": "string"}, "code": {"type": "string"},
    "population": {"type": ["integer", "null"]}, "departement": {"type": ["string", "null"]},
    "region": {"type": ["string", "null"]},
}

OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "Territoires en Transitions – données ouvertes", "version": "1.0.0",
             "description": "Données publiques des collectivités : identité, étoiles (indicatives, d'après le % réalisé) "
                            "et scores par axe. Lecture seule, sans authentification, limitée en nombre d'appels par "
                            "adresse IP. Réponses cachables (ETag, Cache-Control public).",
             "license": {"name": "Licence Ouverte 2.0", "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence"}},
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/collectivites": {"get": {
            "summary": "Collectivités, avec leurs scores par référentiel", "operationId": "listCollectivites",
            "parameters": _FILTER_PARAMETERS + _PAGING,
            "responses": {"200": _json("CollectivitePage", "Une page de collectivités, par identifiant"), **_ERRORS}}},
        "/collectivites.csv": {"get": {
            "summary": "Les mêmes données en CSV (toutes les pages)", "operationId": "collectivitesCsv",
            "parameters": _FILTER_PARAMETERS,
            "responses": {"200": {"description": "Une ligne par collectivité et référentiel",
                                  "content": {"text/csv": {"schema": {"type": "string"}}}}, **_ERRORS}}},
        "/collectivites/{collectivite_id}": {"get": {
            "summary": "Une collectivité, avec ses scores par axe", "operationId": "getCollectivite",
            "parameters": [{"name": "collectivite_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": _json("CollectiviteDetail", "La collectivité"),
                          "404": _json("Error", "Collectivité inconnue"), "429": _ERRORS["429"]}}},
        "/labellisations": {"get": {
            "summary": "Labellisations obtenues (étoiles attribuées après un audit validé), les plus récentes d'abord",
            "operationId": "listLabellisations", "parameters": _PAGING,
            "responses": {"200": _json("LabellisationPage", "Une page de labellisations"), **_ERRORS}}},
        "/referentiels/{referentiel_id}/scores": {"get": {
            "summary": "Scores par axe des collectivités ayant un état des lieux", "operationId": "listScores",
            "parameters": [{"name": "referentiel_id", "in": "path", "required": True, "schema": {"type": "string"}}] + _PAGING,
            "responses": {"200": _json("ScorePage", "Une page de scores, par identifiant de collectivité"), **_ERRORS}}},
    },
    "components": {"schemas": {
        "Error": {"type": "object", "required": ["error", "detail"],
                  "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}},
        "Scores": {"type": "object", "properties": {
            "realise": _NUMBER, "programme": _NUMBER, "etoiles": {"type": ["integer", "null"]},
            "axes": {"type": "object", "additionalProperties": {
                "type": "object", "properties": {"realise": _NUMBER, "programme": _NUMBER}}}}},
        "Collectivite": {"type": "object", "properties": {
            **_IDENTITY, "referentiels": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Scores"}}}},
        "Labellisation": {"type": "object", "properties": {
            "referentiel": {"type": "string"}, "etoiles": {"type": "integer"},
            "obtenue_le": {"type": "string", "format": "date"}, "score_realise": _NUMBER, "score_programme": _NUMBER}},
        "CollectiviteDetail": {"allOf": [{"$ref": "#/components/schemas/Collectivite"}, {"type": "object", "properties": {
            "labellisations": {"type": "array", "items": {"$ref": "#/components/schemas/Labellisation"}}}}]},
        "LabellisationItem": {"type": "object", "properties": {
            **_IDENTITY, "labellisation": {"$ref": "#/components/schemas/Labellisation"}}},
        "LabellisationPage": _page_of("LabellisationItem"),
        "ScoreItem": {"type": "object", "properties": {**_IDENTITY, "scores": {"$ref": "#/components/schemas/Scores"}}},
        "CollectivitePage": _page_of("Collectivite"),
        "ScorePage": _page_of("ScoreItem"),
    }},
}
