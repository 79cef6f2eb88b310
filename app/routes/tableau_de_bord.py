"""The tableau de bord: the collectivité's home page (each référentiel's score), a référentiel's
tableau de bord and its score over time. Live: the score push carries a marker per référentiel
(fragments/tableau_de_bord/_changed.html), on which static/js/tableau_de_bord.js has htmx re-fetch
the page's charts; these requests (htmx) get the charts' fragment only."""
from flask import Blueprint, abort, request

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import require_permission
from app.routes.workspace_page import workspace_page
from app.services import tableau_de_bord

bp = Blueprint("tableau_de_bord", __name__, url_prefix="/collectivites/<int:collectivite_id>")
bp.after_request(vary_on_htmx)


@bp.get("")
@require_permission("read")
def home(collectivite_id: int):
    context = tableau_de_bord.home_page(collectivite_id)
    if is_htmx():
        return render_fragment("tableau_de_bord_cards", **(context or abort(404)))
    return workspace_page("pages/workspace/accueil.html", context)


@bp.get("/referentiels/<referentiel_id>/tableau-de-bord")
@require_permission("read")
def show(collectivite_id: int, referentiel_id: str):
    context = tableau_de_bord.dashboard_page(collectivite_id, referentiel_id)
    if is_htmx():
        return render_fragment("tableau_de_bord_charts", **(context or abort(404)))
    return workspace_page("pages/workspace/tableau_de_bord.html", context)


@bp.get("/referentiels/<referentiel_id>/evolution")
@require_permission("read")
def evolution(collectivite_id: int, referentiel_id: str):
    context = tableau_de_bord.evolution_page(collectivite_id, referentiel_id, request.args)
    if is_htmx():
        return render_fragment("tableau_de_bord_evolution", **(context or abort(404)))
    return workspace_page("pages/workspace/evolution.html", context)
