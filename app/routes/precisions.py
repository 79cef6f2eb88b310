"""The précision of a collectivité on an action: htmx gets the fragment back (a refused text in it,
as typed, with its French message); a plain form post is redirected to the action page."""
from flask import Blueprint, request
from flask_login import current_user

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import require_permission
from app.routes.workspace_page import back_to_action
from app.services import precisions

bp = Blueprint("precisions", __name__, url_prefix="/collectivites/<int:collectivite_id>")
bp.after_request(vary_on_htmx)


@bp.post("/referentiels/<referentiel_id>/actions/<action_id>/precision")
@require_permission("edit")
def set_precision(collectivite_id: int, referentiel_id: str, action_id: str):
    state = precisions.save_precision(current_user, collectivite_id, action_id, request.form.get("texte", ""))
    if not is_htmx():
        return back_to_action(collectivite_id, referentiel_id, action_id, state.error)
    return render_fragment("precision", precision=state, referentiel_id=referentiel_id)
