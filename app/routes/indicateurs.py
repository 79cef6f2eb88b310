"""Indicateurs of a collectivité: the list (filters in the query string), an indicateur's page
(chart, values, linked actions) with the yearly values typed inline (htmx gets the values fragment
back, a refusal in it), and the creation of an indicateur personnalisé. Signed-in users read them;
confidential values only members see."""
import base64
import binascii

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import can, require_permission
from app.routes.workspace_page import workspace_page
from app.services import indicateurs
from app.services.suivi import InvalidEdit

bp = Blueprint("indicateurs", __name__, url_prefix="/collectivites/<int:collectivite_id>/indicateurs")
bp.after_request(vary_on_htmx)


@bp.get("")
@login_required
def show(collectivite_id: int):
    context = indicateurs.list_page(collectivite_id, request.args, indicateurs.sees_confidential(current_user, collectivite_id))
    response = workspace_page("pages/workspace/indicateurs.html", context and {
        **context, "can_edit": can(current_user, "edit", collectivite_id), "can_read": can(current_user, "read", collectivite_id)})
    return response, 400 if context["filters"].errors else 200


@bp.get("/<indicateur_id>")
@login_required
def detail(collectivite_id: int, indicateur_id: str):
    return workspace_page("pages/workspace/indicateur.html", _detail(collectivite_id, indicateur_id))


def _detail(collectivite_id: int, indicateur_id: str, **extra) -> dict | None:
    return indicateurs.detail_page(collectivite_id, indicateur_id, indicateurs.sees_confidential(current_user, collectivite_id),
                                   can(current_user, "edit", collectivite_id), **extra)


@bp.post("/<indicateur_id>/valeurs")
@require_permission("edit")
def save_valeur(collectivite_id: int, indicateur_id: str):
    form = request.form
    typed = indicateurs.ValeurInput(**{key: form.get(key, "") for key in (
        "annee", "resultat", "resultat_commentaire", "resultat_source", "objectif", "objectif_commentaire",
        "objectif_source")}, confidentiel=form.get("confidentiel") == "1")
    error = None
    try:
        indicateurs.save_valeur(current_user, collectivite_id, indicateur_id, typed)
    except InvalidEdit as refused:
        error = str(refused)
    if not is_htmx():
        if error:
            flash(error, "error")
        return redirect(url_for("indicateurs.detail", collectivite_id=collectivite_id, indicateur_id=indicateur_id), 303)
    context = _detail(collectivite_id, indicateur_id, error=error, form=typed if error else None) or abort(404)
    return render_fragment("indicateur_valeurs", **context), 422 if error else 200


@bp.post("/nouveau")
@require_permission("edit")
def create_perso(collectivite_id: int):
    form = request.form
    try:
        indicateur_id = indicateurs.create_perso(current_user, collectivite_id, form.get("titre", ""), form.get("unite", ""),
                                                 form.getlist("thematiques"), form.get("description", ""))
    except InvalidEdit as refused:
        flash(f"Indicateur non créé : {refused}", "error")
        return redirect(url_for("indicateurs.show", collectivite_id=collectivite_id), 303)
    return redirect(url_for("indicateurs.detail", collectivite_id=collectivite_id, indicateur_id=indicateur_id), 303)


@bp.get("/export.<any(xlsx, csv):file_format>")
@require_permission("read")
def export(collectivite_id: int, file_format: str):
    grid = indicateurs.export_grid(collectivite_id)
    data = indicateurs.grid_to_xlsx(grid) if file_format == "xlsx" else indicateurs.grid_to_csv(grid)
    mimetype = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if file_format == "xlsx"
                else "text/csv; charset=utf-8")
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="indicateurs-{collectivite_id}.{file_format}"',
        "Cache-Control": "private, no-store"})


@bp.route("/import", methods=["GET", "POST"])
@require_permission("edit")
def import_preview(collectivite_id: int):
    """GET: the upload form; POST: the preview of the file's changes and refused rows, and the
    file carried (base64) to the confirmation."""
    page = {"collectivite": indicateurs.collectivite_of(collectivite_id) or abort(404), "preview": None, "error": None, "contenu": "", "nom": ""}
    if request.method == "POST":
        upload = request.files.get("fichier")
        data = upload.read(indicateurs.MAX_IMPORT_BYTES + 1) if upload else b""
        try:
            if not data:
                raise InvalidEdit("choisissez un fichier CSV ou XLSX")
            grid = indicateurs.read_grid(data, upload.filename or "")
            page.update(preview=indicateurs.preview_import(collectivite_id, grid),
                        contenu=base64.b64encode(data).decode(), nom=upload.filename or "")
        except InvalidEdit as refused:
            page["error"] = str(refused)
    status = 422 if page["error"] or (page["preview"] and page["preview"].errors) else 200
    return workspace_page("pages/workspace/indicateurs_import.html", page), status


@bp.post("/import/confirmer")
@require_permission("edit")
def import_confirm(collectivite_id: int):
    try:
        data = base64.b64decode(request.form.get("contenu", ""), validate=True)
        grid = indicateurs.read_grid(data, request.form.get("nom", ""))
        result = indicateurs.import_values(current_user, collectivite_id, grid)
    except (InvalidEdit, binascii.Error) as refused:
        flash(f"Import refusé : {refused}", "error")
        return redirect(url_for("indicateurs.import_preview", collectivite_id=collectivite_id), 303)
    if result.errors:
        flash(f"Import refusé : {len(result.errors)} ligne(s) en erreur, rien n'a été enregistré.", "error")
    else:
        flash(f"{len(result.changes)} valeur(s) importée(s).", "success")
    return redirect(url_for("indicateurs.show", collectivite_id=collectivite_id), 303)
