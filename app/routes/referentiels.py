"""Référentiel browsing: list, lazy tree, action page, search."""
from flask import Blueprint, abort, redirect, render_template, request, url_for

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.services import referentiels as service

bp = Blueprint("referentiels", __name__, url_prefix="/referentiels")
bp.after_request(vary_on_htmx)


@bp.get("")
def list_referentiels():
    return render_template("pages/referentiels/list.html", summaries=service.list_referentiels())


@bp.get("/<referentiel_id>")
def show_tree(referentiel_id):
    level = service.referentiel_tree(referentiel_id) or abort(404)
    return render_template("pages/referentiels/tree.html", level=level, root_crumbs=service.public_root_crumbs())


@bp.get("/<referentiel_id>/actions/<action_id>/enfants")
def show_children(referentiel_id, action_id):
    if not is_htmx():
        return redirect(url_for(".show_action", referentiel_id=referentiel_id, action_id=action_id))
    level = service.tree_level(referentiel_id, action_id) or abort(404)
    return render_fragment("children", level=level)


@bp.get("/<referentiel_id>/actions/<action_id>")
def show_action(referentiel_id, action_id):
    detail = service.action_detail(referentiel_id, action_id) or abort(404)
    return render_template("pages/referentiels/action.html", detail=detail, root_crumbs=service.public_root_crumbs(),
                           crumbs=service.action_crumbs(detail))


@bp.get("/<referentiel_id>/recherche")
def search(referentiel_id):
    results = service.search_actions(referentiel_id, request.args.get("q", "")) or abort(404)
    if is_htmx():
        return render_fragment("search_results", results=results)
    return render_template("pages/referentiels/search.html", results=results)
