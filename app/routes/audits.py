"""Labellisation of a collectivité on a référentiel: the demande (conditions, documents, sending),
the audit (started, recorded mesure by mesure, report, validated by the auditeur), the history
of labellisations; an overview tab; the platform administrators' page naming auditeurs.

Plain form posts (PRG); a refused one re-renders its page with the French message (422). The
audit's mesure rows also answer htmx with the row. Audit actions need an auditeur
(`require_auditeur`: 403 with a French message otherwise)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import require_auditeur, require_permission, require_platform_admin
from app.routes.workspace_page import workspace_page
from app.services import audits
from app.services.suivi import InvalidEdit

bp = Blueprint("audits", __name__)
bp.after_request(vary_on_htmx)
URL = "/collectivites/<int:collectivite_id>/referentiels/<referentiel_id>/labellisation"
PAGE = "pages/workspace/labellisation.html"
AUDIT_PAGE = "pages/workspace/audit.html"


def _page_url(collectivite_id: int, referentiel_id: str, endpoint: str = "audits.show") -> str:
    return url_for(endpoint, collectivite_id=collectivite_id, referentiel_id=referentiel_id)


def _refused(collectivite_id: int, referentiel_id: str, error: InvalidEdit, template: str = PAGE):
    page = (audits.audit_page if template == AUDIT_PAGE else audits.labellisation_page)(
        current_user, collectivite_id, referentiel_id)
    return workspace_page(template, page and page | {"error": str(error)}), 422


def _uploaded_file() -> tuple:
    """(stream, filename) of the form's file, (None, None) without one."""
    upload = request.files.get("fichier")
    return (upload.stream, upload.filename) if upload else (None, None)


def _done(collectivite_id: int, referentiel_id: str, message: str, endpoint: str = "audits.show"):
    flash(message, "success")
    return redirect(_page_url(collectivite_id, referentiel_id, endpoint), 303)


@bp.get("/collectivites/<int:collectivite_id>/labellisation")
@require_permission("read")
def overview(collectivite_id: int):
    return workspace_page("pages/workspace/labellisation_overview.html", audits.overview_page(collectivite_id))


@bp.get(URL)
@require_permission("read")
def show(collectivite_id: int, referentiel_id: str):
    return workspace_page(PAGE, audits.labellisation_page(current_user, collectivite_id, referentiel_id))


@bp.post(URL + "/documents")
@require_permission("edit")
def add_document(collectivite_id: int, referentiel_id: str):
    try:
        audits.add_document(current_user, collectivite_id, referentiel_id, *_uploaded_file())
    except InvalidEdit as error:
        return _refused(collectivite_id, referentiel_id, error)
    return _done(collectivite_id, referentiel_id, "Document déposé.")


@bp.post(URL + "/demande")
@require_permission("edit")
def send_demande(collectivite_id: int, referentiel_id: str):
    try:
        audits.send_demande(current_user, collectivite_id, referentiel_id, request.form.get("sujet", ""),
                            request.form.get("etoiles"))
    except InvalidEdit as error:
        return _refused(collectivite_id, referentiel_id, error)
    return _done(collectivite_id, referentiel_id, "Demande envoyée : l'auditeur peut maintenant démarrer l'audit.")


@bp.post(URL + "/audit/demarrer")
@require_auditeur
def start_audit(collectivite_id: int, referentiel_id: str):
    try:
        audits.start_audit(current_user, collectivite_id, referentiel_id)
    except InvalidEdit as error:
        return _refused(collectivite_id, referentiel_id, error)
    return _done(collectivite_id, referentiel_id, "Audit démarré : les scores avant audit sont figés.",
                 "audits.audit")


@bp.get(URL + "/audit")
@require_permission("read")
def audit(collectivite_id: int, referentiel_id: str):
    page = audits.audit_page(current_user, collectivite_id, referentiel_id, request.args)
    return workspace_page(AUDIT_PAGE, page), 400 if page and page["filter_error"] else 200


@bp.post(URL + "/audit/mesures/<action_id>")
@require_auditeur
def save_mesure(collectivite_id: int, referentiel_id: str, action_id: str):
    form = request.form
    try:
        row = audits.save_mesure(current_user, collectivite_id, referentiel_id, action_id, form.get("statut", ""),
                                 form.get("avis", ""), form.get("a_discuter") == "1")
    except InvalidEdit as error:
        if not is_htmx():
            return _refused(collectivite_id, referentiel_id, error, AUDIT_PAGE)
        row = audits.mesure_row(current_user, collectivite_id, referentiel_id, action_id) or abort(404)
        return render_fragment("audits_mesure", row=row, error=str(error)), 422
    if not is_htmx():
        return _done(collectivite_id, referentiel_id, f"Mesure {row.identifiant} enregistrée.", "audits.audit")
    return render_fragment("audits_mesure", row=row, saved=True)


@bp.post(URL + "/audit/rapport")
@require_auditeur
def add_rapport(collectivite_id: int, referentiel_id: str):
    try:
        audits.add_rapport(current_user, collectivite_id, referentiel_id, *_uploaded_file())
    except InvalidEdit as error:
        return _refused(collectivite_id, referentiel_id, error, AUDIT_PAGE)
    return _done(collectivite_id, referentiel_id, "Rapport d'audit déposé.", "audits.audit")


@bp.post(URL + "/audit/valider")
@require_auditeur
def validate_audit(collectivite_id: int, referentiel_id: str):
    try:
        audits.validate_audit(current_user, collectivite_id, referentiel_id)
    except InvalidEdit as error:
        return _refused(collectivite_id, referentiel_id, error, AUDIT_PAGE)
    return _done(collectivite_id, referentiel_id, "Audit validé : la labellisation est enregistrée dans l'historique.")


# Platform administrators -------------------------------------------------------------------------


@bp.get("/admin/auditeurs")
@require_platform_admin
def auditeurs():
    return render_template("pages/admin/auditeurs.html", **audits.auditeurs_page(), form={}, error=None)


@bp.post("/admin/auditeurs")
@require_platform_admin
def name_auditeur():
    form = {name: request.form.get(name, "") for name in ("email", "collectivite", "referentiel")}
    try:
        audits.name_auditeur(current_user, form["email"], form["collectivite"], form["referentiel"])
    except InvalidEdit as error:
        return render_template("pages/admin/auditeurs.html", **audits.auditeurs_page(), form=form,
                               error=str(error)), 422
    flash("Auditeur nommé.", "success")
    return redirect(url_for("audits.auditeurs"), 303)


@bp.post("/admin/auditeurs/<int:auditeur_id>/retirer")
@require_platform_admin
def remove_auditeur(auditeur_id: int):
    try:
        audits.remove_auditeur(current_user, auditeur_id)
    except InvalidEdit as error:
        flash(str(error), "error")
    else:
        flash("Auditeur retiré.", "success")
    return redirect(url_for("audits.auditeurs"), 303)
