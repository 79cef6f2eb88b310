"""États des lieux of a référentiel: the snapshots ("figer l'état des lieux"), one snapshot's
figures, the comparison of two of them (or of one with now) and their downloads. Freezing and
deleting are plain form posts (PRG); a refused freeze re-renders the page with its message."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from app.htmx import vary_on_htmx
from app.policy import require_permission
from app.routes.exports import download
from app.routes.workspace_page import workspace_page
from app.services import etats_des_lieux
from app.services.suivi import InvalidEdit

bp = Blueprint("etats_des_lieux", __name__,
               url_prefix="/collectivites/<int:collectivite_id>/referentiels/<referentiel_id>/etats-des-lieux")
bp.after_request(vary_on_htmx)
PAGE = "pages/workspace/etats_des_lieux.html"


def _index_url(collectivite_id: int, referentiel_id: str) -> str:
    return url_for("etats_des_lieux.index", collectivite_id=collectivite_id, referentiel_id=referentiel_id)


@bp.get("")
@require_permission("read")
def index(collectivite_id: int, referentiel_id: str):
    return workspace_page(PAGE, etats_des_lieux.index_page(current_user, collectivite_id, referentiel_id))


@bp.post("")
@require_permission("edit")
def freeze(collectivite_id: int, referentiel_id: str):
    form = {name: request.form.get(name, "") for name in ("nom", "quand", "date")}
    try:
        snapshot = etats_des_lieux.freeze_from_form(current_user, collectivite_id, referentiel_id, form)
    except InvalidEdit as error:
        page = etats_des_lieux.index_page(current_user, collectivite_id, referentiel_id, form, str(error))
        return workspace_page(PAGE, page), 422
    flash(f"État des lieux « {snapshot.nom} » figé.", "success")
    return redirect(_index_url(collectivite_id, referentiel_id), 303)


@bp.get("/comparer")
@require_permission("read")
def compare(collectivite_id: int, referentiel_id: str):
    page = etats_des_lieux.compare_page(current_user, collectivite_id, referentiel_id, request.args)
    response = workspace_page("pages/workspace/etats_des_lieux_compare.html", page)
    return (response, 400) if page["error"] else response


@bp.get("/<int:snapshot_id>")
@require_permission("read")
def show(collectivite_id: int, referentiel_id: str, snapshot_id: int):
    page = etats_des_lieux.snapshot_page(current_user, collectivite_id, referentiel_id, snapshot_id)
    return workspace_page("pages/workspace/etats_des_lieux_snapshot.html", page)


@bp.post("/<int:snapshot_id>/supprimer")
@require_permission("edit")
def delete(collectivite_id: int, referentiel_id: str, snapshot_id: int):
    try:
        etats_des_lieux.delete(current_user, collectivite_id, referentiel_id, snapshot_id)
    except InvalidEdit as error:
        flash(str(error), "error")
    else:
        flash("Sauvegarde supprimée.", "success")
    return redirect(_index_url(collectivite_id, referentiel_id), 303)


@bp.get("/<int:snapshot_id>/export.<any(xlsx, csv):file_format>")
@require_permission("read")
def export(collectivite_id: int, referentiel_id: str, snapshot_id: int, file_format: str):
    return download(etats_des_lieux.snapshot_export(collectivite_id, referentiel_id, snapshot_id, file_format) or abort(404))
