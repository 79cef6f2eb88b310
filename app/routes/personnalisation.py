"""The personnalisation page of a collectivité: its identity card and its answers to the questions,
each saved by htmx (the question comes back, a refused answer in it with its French message and
status 422, and the thématique's completion out of band) or by a plain form post (redirected)."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import require_permission
from app.routes.workspace_page import workspace_page
from app.services import personnalisation

bp = Blueprint("personnalisation", __name__, url_prefix="/collectivites/<int:collectivite_id>/personnalisation")
bp.after_request(vary_on_htmx)


@bp.get("")
@require_permission("read")
def show(collectivite_id: int):
    return workspace_page("pages/workspace/personnalisation.html",
                          personnalisation.personnalisation_page(current_user, collectivite_id))


@bp.post("/<question_id>")
@require_permission("edit")
def set_reponse(collectivite_id: int, question_id: str):
    valeur = request.form.get("valeur")
    context = personnalisation.save_reponse(current_user, collectivite_id, question_id, valeur) or abort(404)
    if not is_htmx():
        if context["state"].error:
            flash(context["state"].error, "error")
        return redirect(url_for(".show", collectivite_id=collectivite_id), 303)
    html = render_fragment("question", **context) + render_fragment("completion", **context, oob=True)
    return html, 422 if context["state"].error else 200
