"""Sharing: the public directory of collectivités (/annuaire), each one's public page, and the
settings page where its admins choose what that page shows."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import require_permission
from app.routes.workspace_page import workspace_page
from app.services import partage

bp = Blueprint("partage", __name__)
bp.after_request(vary_on_htmx)


@bp.get("/annuaire")
def directory():
    context = partage.directory_page(request.args)
    status = 422 if context["filters"].errors else 200  # 422: htmx swaps it (base.html's htmx-config)
    if is_htmx():
        return render_fragment("partage_resultats", **context), status
    return render_template("pages/partage/directory.html", **context), status


@bp.get("/annuaire/<int:collectivite_id>")
def public_page(collectivite_id: int):
    context = partage.public_page(collectivite_id)
    if context is None:
        abort(404)
    return render_template("pages/partage/public.html", **context)


@bp.route("/collectivites/<int:collectivite_id>/partage", methods=["GET", "POST"])
@require_permission("admin")
def settings(collectivite_id: int):
    if request.method == "POST":
        partage.save_preferences(current_user, collectivite_id, request.form)
        flash("Vos choix de partage sont enregistrés.", "success")
        return redirect(url_for(".settings", collectivite_id=collectivite_id), 303)
    return workspace_page("pages/workspace/partage.html", partage.settings_page(collectivite_id))


@bp.get("/collectivites/<int:collectivite_id>/comparaison")
@require_permission("read")
def comparison(collectivite_id: int):
    return workspace_page("pages/workspace/comparaison.html", partage.comparison_page(collectivite_id, request.args))


@bp.get("/statistiques")
def statistics():
    return render_template("pages/partage/statistics.html", **partage.statistics_page())
