"""Directory of collectivités, "Mes collectivités", members page, join requests, roles, invitations.

Member-management actions are plain forms (POST, then redirect to the members page) guarded by
app.policy; a refused action comes back as a French flash message.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from app.htmx import is_htmx
from app.mail import external_url
from app.models.accounts import ROLE_LABELS
from app.models.collectivites import KINDS
from app.policy import can, require_permission
from app.services import accounts
from app.services.accounts import FormErrors
from app.services.collectivites import search_collectivites

bp = Blueprint("collectivites", __name__)


@bp.get("/collectivites")
def directory():
    query = request.args.get("q", "").strip()
    context = {
        "query": query,
        "results": search_collectivites(query),
        "signed_in": current_user.is_authenticated,
        "csrf_value": generate_csrf(),
        "kind_labels": KINDS,
    }
    template = "fragments/collectivites/_resultats.html" if is_htmx() else "pages/collectivites/directory.html"
    return render_template(template, **context), {"Vary": "HX-Request"}


@bp.get("/mes-collectivites")
@login_required
def mine():
    context = accounts.user_collectivites(current_user)
    return render_template("pages/collectivites/mine.html", **context, role_labels=ROLE_LABELS)


@bp.post("/collectivites/<int:collectivite_id>/rejoindre")
@login_required
def request_join(collectivite_id: int):
    outcome = accounts.request_to_join(current_user, collectivite_id)
    messages = {
        "admin": "Vous êtes le premier membre : vous administrez cette collectivité.",
        "member": "Vous êtes déjà membre de cette collectivité.",
        "pending": "Votre demande est envoyée aux administrateurs de la collectivité.",
    }
    flash(messages[outcome], "success" if outcome != "member" else "info")
    return redirect(url_for(".mine"))


@bp.get("/collectivites/<int:collectivite_id>/membres")
@require_permission("read")
def members(collectivite_id: int):
    is_admin = can(current_user, "admin", collectivite_id)
    return render_template(
        "pages/collectivites/members.html",
        **accounts.members_overview(collectivite_id, for_admin=is_admin),
        is_admin=is_admin,
        current_user_id=current_user.id,
        role_labels=ROLE_LABELS,
    )


def _back_to_members(collectivite_id: int, action, success: str):
    """Run a member-management action; flash its outcome; back to the members page."""
    try:
        action()
    except FormErrors as error:
        flash(" ".join(error.errors.values()), "error")
    else:
        flash(success, "success")
    return redirect(url_for(".members", collectivite_id=collectivite_id))


@bp.post("/collectivites/<int:collectivite_id>/demandes/<int:request_id>/accepter")
@require_permission("admin")
def accept_request(collectivite_id: int, request_id: int):
    role = request.form.get("role", "lecture")
    return _back_to_members(
        collectivite_id,
        lambda: accounts.decide_join_request(collectivite_id, request_id, current_user, accept=True, role=role),
        "Demande acceptée.",
    )


@bp.post("/collectivites/<int:collectivite_id>/demandes/<int:request_id>/refuser")
@require_permission("admin")
def refuse_request(collectivite_id: int, request_id: int):
    return _back_to_members(
        collectivite_id,
        lambda: accounts.decide_join_request(collectivite_id, request_id, current_user, accept=False),
        "Demande refusée.",
    )


@bp.post("/collectivites/<int:collectivite_id>/membres/<int:user_id>/role")
@require_permission("admin")
def change_role(collectivite_id: int, user_id: int):
    role = request.form.get("role", "")
    return _back_to_members(
        collectivite_id, lambda: accounts.change_role(collectivite_id, user_id, role), "Rôle modifié."
    )


@bp.post("/collectivites/<int:collectivite_id>/membres/<int:user_id>/retirer")
@require_permission("admin")
def remove_member(collectivite_id: int, user_id: int):
    return _back_to_members(
        collectivite_id, lambda: accounts.remove_member(collectivite_id, user_id), "Membre retiré."
    )


@bp.post("/collectivites/<int:collectivite_id>/invitations")
@require_permission("admin")
def create_invitation(collectivite_id: int):
    try:
        token = accounts.create_invitation(collectivite_id, request.form.get("role", ""), current_user)
    except FormErrors as error:
        flash(" ".join(error.errors.values()), "error")
    else:
        # Shown once: only the token's hash is stored.
        flash(external_url("collectivites.invitation", token=token), "invitation")
    return redirect(url_for(".members", collectivite_id=collectivite_id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def invitation(token: str):
    if request.method == "GET":
        return render_template("pages/collectivites/invitation.html", invitation=accounts.valid_invitation(token),
                               token=token, role_labels=ROLE_LABELS)
    try:
        collectivite_id = accounts.accept_invitation(token, current_user)
    except FormErrors as error:
        flash(" ".join(error.errors.values()), "error")
        return redirect(url_for(".mine"))
    flash("Invitation acceptée : bienvenue !", "success")
    return redirect(url_for(".members", collectivite_id=collectivite_id))
