"""Directory of collectivités, "Mes collectivités", join requests and accepting an invitation (the
members of one collectivité are app.routes.membres)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.fragments import render_fragment
from app.htmx import is_htmx
from app.models.accounts import ROLE_LABELS
from app.models.collectivites import KINDS
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
        "kind_labels": KINDS,
    }
    if is_htmx():
        return render_fragment("collectivites", **context), {"Vary": "HX-Request"}
    return render_template("pages/collectivites/directory.html", **context), {"Vary": "HX-Request"}


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
    return redirect(url_for("membres.members", collectivite_id=collectivite_id))
