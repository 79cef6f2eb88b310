"""A collectivité's référentiel pages: the tree (its levels loaded by htmx), the action pages with
statuts, scores, précision and preuves, the search. Readers (lecture and up) see every page."""
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import require_permission
from app.routes.workspace_page import workspace_page
from app.services import workspace

bp = Blueprint("workspace", __name__, url_prefix="/collectivites/<int:collectivite_id>")
bp.after_request(vary_on_htmx)
ACTION_URL = "/referentiels/<referentiel_id>/actions/<action_id>"


@bp.get("/referentiels/<referentiel_id>")
@require_permission("read")
def show_tree(collectivite_id: int, referentiel_id: str):
    return workspace_page("pages/workspace/tree.html", workspace.tree_page(current_user, collectivite_id, referentiel_id))


@bp.get(ACTION_URL + "/enfants")
@require_permission("read")
def show_children(collectivite_id: int, referentiel_id: str, action_id: str):
    if not is_htmx():
        return redirect(url_for(".show_action", collectivite_id=collectivite_id, referentiel_id=referentiel_id,
                                action_id=action_id))
    context = workspace.children_fragment(current_user, collectivite_id, referentiel_id, action_id) or abort(404)
    return render_fragment("children", **context)


@bp.get(ACTION_URL)
@require_permission("read")
def show_action(collectivite_id: int, referentiel_id: str, action_id: str):
    context = workspace.action_page(current_user, collectivite_id, referentiel_id, action_id)
    return workspace_page("pages/workspace/action.html", context)


@bp.get("/referentiels/<referentiel_id>/recherche")
@require_permission("read")
def search(collectivite_id: int, referentiel_id: str):
    context = workspace.search_results(collectivite_id, referentiel_id, request.args.get("q", "")) or abort(404)
    if is_htmx():
        return render_fragment("search_results", **context)
    return render_template("pages/referentiels/search.html", **context)
