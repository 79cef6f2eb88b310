"""The tableau des mesures of a collectivité's référentiel: a GET form of filters (in the URL,
shareable); htmx swaps the table and pushes the URL. Statuts are edited in the table with the
statut control (routes/statuts.py)."""
from flask import Blueprint, abort, request
from flask_login import current_user

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import require_permission
from app.routes.workspace_page import workspace_page
from app.services import pilotage

bp = Blueprint("mesures", __name__,
               url_prefix="/collectivites/<int:collectivite_id>/referentiels/<referentiel_id>/mesures")
bp.after_request(vary_on_htmx)


@bp.get("")
@require_permission("read")
def show(collectivite_id: int, referentiel_id: str):
    context = pilotage.mesures_page(current_user, collectivite_id, referentiel_id, request.args)
    if is_htmx():
        return render_fragment("mesures_table", **(context or abort(404)))
    return workspace_page("pages/workspace/mesures.html", context)
