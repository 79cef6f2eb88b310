"""The aide à la priorisation of a collectivité's référentiel: a GET form of filters (in the URL,
shareable); htmx swaps the table and the matrix and pushes the URL."""
from flask import Blueprint, abort, request

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import require_permission
from app.routes.workspace_page import workspace_page
from app.services import pilotage

bp = Blueprint("priorisation", __name__,
               url_prefix="/collectivites/<int:collectivite_id>/referentiels/<referentiel_id>/priorisation")
bp.after_request(vary_on_htmx)


@bp.get("")
@require_permission("read")
def show(collectivite_id: int, referentiel_id: str):
    context = pilotage.priorisation_page(collectivite_id, referentiel_id, request.args)
    if is_htmx():
        return render_fragment("priorisation_results", **(context or abort(404)))
    return workspace_page("pages/workspace/priorisation.html", context)
