"""Statut controls of a collectivité's actions: the edit (htmx gets the control back, a refused
statut in it with its French message and status 422; a plain form post is redirected to the
action page, the message flashed) and the control as stored (what a page re-fetches when a push
says the action's personnalisation changed)."""
from flask import Blueprint, abort, request
from flask_login import current_user

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import require_permission
from app.routes.workspace_page import back_to_action
from app.services import statuts

bp = Blueprint("statuts", __name__, url_prefix="/collectivites/<int:collectivite_id>")
bp.after_request(vary_on_htmx)
STATUT_URL = "/referentiels/<referentiel_id>/actions/<action_id>/statut"


@bp.post(STATUT_URL)
@require_permission("edit")
def set_statut(collectivite_id: int, referentiel_id: str, action_id: str):
    detail = tuple(request.form.get(name, "") for name in ("fait", "programme", "pas_fait"))
    context = statuts.save_statut(
        current_user, collectivite_id, referentiel_id, action_id, request.form.get("statut", ""), detail
    ) or abort(404)
    state = context["statut_state"]
    if not is_htmx():
        return back_to_action(collectivite_id, referentiel_id, action_id, state.error)
    # The control, and the controls of the sous-action's tâches swapped out of band (whether
    # their statuts count depends on the sous-action's).
    html = render_fragment("action_statut", statut_state=state)
    for tache in context["taches"]:
        html += render_fragment("action_statut", statut_state=tache, oob=True)
    return html, 422 if state.error else 200


@bp.get(STATUT_URL)
@require_permission("read")
def statut_control(collectivite_id: int, referentiel_id: str, action_id: str):
    context = statuts.statut_control(current_user, collectivite_id, referentiel_id, action_id) or abort(404)
    return render_fragment("action_statut", **context)
