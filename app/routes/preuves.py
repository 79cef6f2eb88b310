"""Preuves of a collectivité on an action: files (upload, download) and links, added and deleted by
editors. htmx gets the preuves fragment back (a refusal in it with its French message); plain
form posts are redirected to the action page; deleting without JavaScript asks on a page first."""
from flask import Blueprint, abort, flash, render_template, request, send_file
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import require_permission
from app.routes.workspace_page import back_to_action
from app.services import preuves
from app.services.suivi import InvalidEdit

bp = Blueprint("preuves", __name__, url_prefix="/collectivites/<int:collectivite_id>")
bp.after_request(vary_on_htmx)
ACTION_URL = "/referentiels/<referentiel_id>/actions/<action_id>"


def _preuves_response(collectivite_id: int, referentiel_id: str, action_id: str, error: str | None = None, **extra):
    if not is_htmx():
        return back_to_action(collectivite_id, referentiel_id, action_id, error)
    state = preuves.preuves_state(collectivite_id, action_id, True, error=error, **extra)
    return render_fragment("preuves", preuves=state, referentiel_id=referentiel_id)


@bp.post(ACTION_URL + "/preuves/fichiers")
@require_permission("edit")
def upload_fichier(collectivite_id: int, referentiel_id: str, action_id: str):
    upload = request.files.get("fichier")
    try:
        preuves.add_fichier(current_user, collectivite_id, action_id, upload and upload.stream,
                            upload and upload.filename)
    except InvalidEdit as error:
        return _preuves_response(collectivite_id, referentiel_id, action_id, str(error))
    return _preuves_response(collectivite_id, referentiel_id, action_id)


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(_error):
    args = request.view_args or {}
    if "action_id" not in args:
        return "Requête trop volumineuse", 413
    message = f"le fichier dépasse la taille maximale de {preuves.MAX_FILE_SIZE // (1024 * 1024)} Mo"
    return _preuves_response(args["collectivite_id"], args["referentiel_id"], args["action_id"], message)


@bp.post(ACTION_URL + "/preuves/liens")
@require_permission("edit")
def add_lien(collectivite_id: int, referentiel_id: str, action_id: str):
    titre, url = request.form.get("titre", ""), request.form.get("url", "")
    try:
        preuves.add_lien(current_user, collectivite_id, action_id, titre, url)
    except InvalidEdit as error:
        return _preuves_response(collectivite_id, referentiel_id, action_id, str(error),
                                 lien_form={"titre": titre, "url": url})
    return _preuves_response(collectivite_id, referentiel_id, action_id)


@bp.get("/preuves/fichiers/<int:fichier_id>")
@require_permission("read")
def download_fichier(collectivite_id: int, fichier_id: int):
    fichier = preuves.fichier_of(collectivite_id, fichier_id) or abort(404)
    path = preuves.stored_path(fichier)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=fichier.content_type, as_attachment=True, download_name=fichier.filename,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _delete(collectivite_id: int, referentiel_id: str, kind: str, row, delete):
    """GET: the confirmation page (without JavaScript); POST: delete, then the list or the page."""
    if row is None:
        abort(404)
    if request.method == "GET":
        return render_template("pages/workspace/confirm_delete.html", collectivite_id=collectivite_id,
                               referentiel_id=referentiel_id, kind=kind, row=row)
    action_id = delete(current_user, collectivite_id, row.id)
    if not is_htmx():
        flash("Preuve supprimée.", "success")
    return _preuves_response(collectivite_id, referentiel_id, action_id)


@bp.route("/referentiels/<referentiel_id>/preuves/fichiers/<int:fichier_id>/supprimer", methods=["GET", "POST"])
@require_permission("edit")
def delete_fichier(collectivite_id: int, referentiel_id: str, fichier_id: int):
    return _delete(collectivite_id, referentiel_id, "fichier", preuves.fichier_of(collectivite_id, fichier_id),
                   preuves.delete_fichier)


@bp.route("/referentiels/<referentiel_id>/preuves/liens/<int:lien_id>/supprimer", methods=["GET", "POST"])
@require_permission("edit")
def delete_lien(collectivite_id: int, referentiel_id: str, lien_id: int):
    return _delete(collectivite_id, referentiel_id, "lien", preuves.lien_of(collectivite_id, lien_id),
                   preuves.delete_lien)
