"""Étoiles of the labellisation, per référentiel: the étoile reached and the criteria of the next
one, the what-if sandbox (statuts changed in memory, scored by the engine: nothing is written) and
the shortest path to the next étoile. Readers (lecture and up) see every page and may simulate."""
from flask import Blueprint, abort, request

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import require_permission
from app.routes.workspace_page import workspace_page
from app.services import labellisation

bp = Blueprint("labellisation", __name__, url_prefix="/collectivites/<int:collectivite_id>")
bp.after_request(vary_on_htmx)
PAGE_URL = "/referentiels/<referentiel_id>/etoiles"


@bp.get("/etoiles")
@require_permission("read")
def overview(collectivite_id: int):
    return workspace_page("pages/workspace/etoiles_overview.html", labellisation.overview_page(collectivite_id))


@bp.get(PAGE_URL)
@require_permission("read")
def show(collectivite_id: int, referentiel_id: str):
    return workspace_page("pages/workspace/etoiles.html", labellisation.etoiles_page(collectivite_id, referentiel_id))


@bp.route(PAGE_URL + "/simulation", methods=["GET", "POST"])
@require_permission("read")
def simulation(collectivite_id: int, referentiel_id: str):
    """GET: the sandbox (`chemin=1`: with the shortest path's tâches done); POST: the simulated
    result of the posted statuts (the fragment for htmx, else the page with them)."""
    if request.method == "POST" and is_htmx():
        context = labellisation.simulation_result(collectivite_id, referentiel_id, request.form) or abort(404)
        return render_fragment("labellisation_resultat", **context)
    context = labellisation.simulation_page(collectivite_id, referentiel_id, request.form if request.method == "POST" else None,
                                            with_chemin=request.args.get("chemin") == "1")
    return workspace_page("pages/workspace/etoiles_simulation.html", context)


@bp.get(PAGE_URL + "/chemin")
@require_permission("read")
def chemin(collectivite_id: int, referentiel_id: str):
    return workspace_page("pages/workspace/etoiles_chemin.html", labellisation.chemin_page(collectivite_id, referentiel_id))
