"""Members of a collectivité: the members page, join requests, roles, invitations.

Member-management actions are plain forms (POST, then redirect to the members page) guarded by
app.policy; a refused action comes back as a French flash message.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.mail import external_url
from app.models.accounts import ROLE_LABELS
from app.policy import can, require_permission
from app.services import accounts
from app.services.accounts import FormErrors

bp = Blueprint("membres", __name__, url_prefix="/collectivites/<int:collectivite_id>")


@bp.get("/membres")
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


@bp.post("/demandes/<int:request_id>/accepter")
@require_permission("admin")
def accept_request(collectivite_id: int, request_id: int):
    role = request.form.get("role", "lecture")
    return _back_to_members(
        collectivite_id,
        lambda: accounts.decide_join_request(collectivite_id, request_id, current_user, accept=True, role=role),
        "Demande acceptée.",
    )


@bp.post("/demandes/<int:request_id>/refuser")
@require_permission("admin")
def refuse_request(collectivite_id: int, request_id: int):
    return _back_to_members(
        collectivite_id,
        lambda: accounts.decide_join_request(collectivite_id, request_id, current_user, accept=False),
        "Demande refusée.",
    )


@bp.post("/membres/<int:user_id>/role")
@require_permission("admin")
def change_role(collectivite_id: int, user_id: int):
    role = request.form.get("role", "")
    return _back_to_members(
        collectivite_id, lambda: accounts.change_role(collectivite_id, user_id, role), "Rôle modifié."
    )


@bp.post("/membres/<int:user_id>/retirer")
@require_permission("admin")
def remove_member(collectivite_id: int, user_id: int):
    return _back_to_members(
        collectivite_id, lambda: accounts.remove_member(collectivite_id, user_id), "Membre retiré."
    )


@bp.post("/invitations")
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
