"""The open-data API (/api/v1, read-only JSON and CSV, described by app.openapi) and its
documentation page. Public, cacheable (ETag + Cache-Control public: the app's default is
no-store), rate-limited per IP by the database-backed limiter (OPEN_DATA_IP_LIMIT)."""
from flask import Blueprint, Response, current_app, jsonify, render_template, request, stream_with_context

from app.openapi import OPENAPI
from app.services import open_data
from app.services.accounts import FormErrors, throttle_ip

bp = Blueprint("open_data", __name__)
CACHE_CONTROL = "public, max-age=300"
TOO_MANY = "Trop de requêtes depuis votre adresse : réessayez dans {minutes} minutes."


def _error(status: int, error: str, detail: str):
    response = jsonify(error=error, detail=detail)
    response.status_code = status
    return response


@bp.before_request
def _limit():
    if request.endpoint == "open_data.documentation":
        return None
    try:
        throttle_ip("open_data", request.remote_addr, "OPEN_DATA_IP_LIMIT", TOO_MANY)
    except FormErrors as refused:
        return _error(429, "trop_de_requetes", refused.errors["form"])
    return None


@bp.errorhandler(open_data.BadParameter)
def _bad_parameter(error):
    return _error(400, "parametre_invalide", str(error))


def _cacheable(response: Response) -> Response:
    response.headers["Cache-Control"] = CACHE_CONTROL
    if not response.is_streamed:
        response.add_etag()
        response.make_conditional(request)
    return response


@bp.get("/api/v1/openapi.json")
def openapi():
    return _cacheable(jsonify(OPENAPI))


@bp.get("/api/v1/collectivites")
def collectivites():
    return _cacheable(jsonify(open_data.collectivites_page(request.args)))


@bp.get("/api/v1/collectivites/<int:collectivite_id>")
def collectivite(collectivite_id: int):
    found = open_data.collectivite(collectivite_id)
    if found is None:
        return _error(404, "introuvable", f"aucune collectivité n'a l'identifiant {collectivite_id}")
    return _cacheable(jsonify(found))


@bp.get("/api/v1/referentiels/<referentiel_id>/scores")
def scores(referentiel_id: str):
    return _cacheable(jsonify(open_data.scores_page(referentiel_id, request.args)))


@bp.get("/api/v1/labellisations")
def labellisations():
    return _cacheable(jsonify(open_data.labellisations_page(request.args)))


@bp.get("/api/v1/collectivites.csv")
def collectivites_csv():
    lines = open_data.scores_csv(request.args)
    first = next(lines)  # a bad filter fails here, before the response starts
    body = stream_with_context(_chain(first, lines))
    return _cacheable(Response(body, mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=collectivites.csv"}))


def _chain(first: str, rest):
    yield first
    yield from rest


@bp.get("/donnees-ouvertes")
def documentation():
    return render_template("pages/partage/open_data.html", limit=current_app.config["OPEN_DATA_IP_LIMIT"])
