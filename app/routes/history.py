"""The history page of a collectivité: its changes, filtered by a GET form, cut into pages."""
from flask import Blueprint, request

from app.htmx import vary_on_htmx
from app.policy import require_permission
from app.routes.workspace_page import workspace_page
from app.services import history

bp = Blueprint("history", __name__, url_prefix="/collectivites/<int:collectivite_id>/historique")
bp.after_request(vary_on_htmx)


@bp.get("")
@require_permission("read")
def show(collectivite_id: int):
    return workspace_page("pages/workspace/history.html", history.history_page(collectivite_id, request.args))
