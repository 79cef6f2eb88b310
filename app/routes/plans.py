"""Plans d'action and fiches action of a collectivité. Inline field edits of a fiche answer htmx
with the field fragment (a refused value re-rendered with its French message, status 422); the
other writes are plain form posts redirected back (PRG), a refusal flashed."""
from datetime import date
from urllib.parse import parse_qsl

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.fragments import publish_plans_changed, render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.policy import can, require_permission
from app.routes.workspace_page import root_crumbs, workspace_page
from app.services import plans, plans_xlsx
from app.services.suivi import InvalidEdit

bp = Blueprint("plans", __name__, url_prefix="/collectivites/<int:collectivite_id>/plans")
bp.after_request(vary_on_htmx)
PAGE_HEADER = "X-Plans-Page"  # the id static/js/plans.js gives its page


@bp.after_request
def _push_change(response):
    """After a write that went through (not refused with 4xx), the other open pages refresh."""
    if request.method == "POST" and response.status_code < 400 and request.view_args:
        publish_plans_changed(request.view_args["collectivite_id"], request.headers.get(PAGE_HEADER, "")[:64])
    return response


def _plan(collectivite_id: int, plan_id: int):
    return plans.plan_of(collectivite_id, plan_id) or abort(404)


def _fiche(collectivite_id: int, fiche_id: int):
    return plans.fiche_of(collectivite_id, fiche_id) or abort(404)


def _axe(collectivite_id: int, axe_id: int):
    return plans.axe_of(collectivite_id, axe_id) or abort(404)


def _back(endpoint: str, error: str | None = None, **args):
    if error:
        flash(error, "error")
    return redirect(url_for(endpoint, **args), 303)


def _try(write, *args) -> str | None:
    """Run a service write; the French message of a refusal, or None."""
    try:
        write(current_user, *args)
    except InvalidEdit as error:
        return str(error)
    return None


@bp.get("")
@require_permission("read")
def show(collectivite_id: int):
    return workspace_page("pages/workspace/plans.html", plans.plans_page(collectivite_id))


@bp.post("")
@require_permission("edit")
def create_plan(collectivite_id: int):
    try:
        plan = plans.create_plan(current_user, collectivite_id, request.form.get("nom"), request.form.get("type"))
    except InvalidEdit as error:
        return _back(".show", str(error), collectivite_id=collectivite_id)
    return _back(".plan", plan_id=plan.id, collectivite_id=collectivite_id)


@bp.get("/<int:plan_id>")
@require_permission("read")
def plan(collectivite_id: int, plan_id: int):
    return workspace_page("pages/workspace/plan.html", plans.plan_page(collectivite_id, plan_id))


@bp.post("/<int:plan_id>")
@require_permission("edit")
def update_plan(collectivite_id: int, plan_id: int):
    error = _try(plans.update_plan, collectivite_id, _plan(collectivite_id, plan_id), request.form.get("nom"),
                 request.form.get("type"))
    return _back(".plan", error, collectivite_id=collectivite_id, plan_id=plan_id)


@bp.post("/<int:plan_id>/axes")
@require_permission("edit")
def add_axe(collectivite_id: int, plan_id: int):
    parent = request.form.get("parent_id", "")
    error = _try(plans.add_axe, collectivite_id, _plan(collectivite_id, plan_id),
                 int(parent) if parent.isdigit() else None, request.form.get("nom"))
    return _back(".plan", error, collectivite_id=collectivite_id, plan_id=plan_id)


@bp.post("/axes/<int:axe_id>/nom")
@require_permission("edit")
def rename_axe(collectivite_id: int, axe_id: int):
    axe = _axe(collectivite_id, axe_id)
    error = _try(plans.rename_axe, collectivite_id, axe, request.form.get("nom"))
    return _back(".plan", error, collectivite_id=collectivite_id, plan_id=axe.plan_id)


def _confirm(collectivite_id: int, what: str, nom: str, impact: tuple[int, int]):
    return render_template("pages/workspace/plans_confirm_delete.html", what=what, nom=nom, deleted=impact[0],
                           detached=impact[1], collectivite_id=collectivite_id,
                           crumbs=root_crumbs(plans.collectivite_of(collectivite_id)))


@bp.route("/axes/<int:axe_id>/supprimer", methods=["GET", "POST"])
@require_permission("edit")
def delete_axe(collectivite_id: int, axe_id: int):
    """GET: the confirmation, with how many fiches are deleted and detached; POST: delete."""
    axe = _axe(collectivite_id, axe_id)
    if request.method == "GET":
        return _confirm(collectivite_id, "l'axe", axe.nom, plans.axe_deletion_impact(axe))
    plans.delete_axe(current_user, collectivite_id, axe)
    flash("Axe supprimé.", "success")
    return _back(".plan", collectivite_id=collectivite_id, plan_id=axe.plan_id)


@bp.route("/<int:plan_id>/supprimer", methods=["GET", "POST"])
@require_permission("edit")
def delete_plan(collectivite_id: int, plan_id: int):
    plan = _plan(collectivite_id, plan_id)
    if request.method == "GET":
        return _confirm(collectivite_id, "le plan", plan.nom, plans.plan_deletion_impact(plan))
    plans.delete_plan(current_user, collectivite_id, plan)
    flash("Plan supprimé.", "success")
    return _back(".show", collectivite_id=collectivite_id)


@bp.post("/fiches")
@require_permission("edit")
def create_fiche(collectivite_id: int):
    axe_id = request.form.get("axe_id", "")
    axe = _axe(collectivite_id, int(axe_id)) if axe_id.isdigit() else None
    try:
        fiche = plans.create_fiche(current_user, collectivite_id, request.form.get("titre"), axe)
    except InvalidEdit as error:
        if axe is None:
            return _back(".fiches", str(error), collectivite_id=collectivite_id)
        return _back(".plan", str(error), collectivite_id=collectivite_id, plan_id=axe.plan_id)
    return _back(".fiche", collectivite_id=collectivite_id, fiche_id=fiche.id)


@bp.get("/fiches")
@require_permission("read")
def fiches(collectivite_id: int):
    context = plans.fiches_page(collectivite_id, request.args)
    status = 400 if context and context["errors"] else 200
    return workspace_page("pages/workspace/fiches.html", context), status


@bp.get("/kanban")
@require_permission("read")
def kanban(collectivite_id: int):
    context = plans.kanban_page(collectivite_id, request.args)
    if context is not None:
        context["can_edit"] = can(current_user, "edit", collectivite_id)
    status = 400 if context and context["errors"] else 200
    return workspace_page("pages/workspace/kanban.html", context), status


@bp.get("/fiches/<int:fiche_id>")
@require_permission("read")
def fiche(collectivite_id: int, fiche_id: int):
    return workspace_page("pages/workspace/fiche.html",
                          plans.fiche_page(collectivite_id, fiche_id, can(current_user, "edit", collectivite_id)))


@bp.post("/fiches/<int:fiche_id>/champs/<name>")
@require_permission("edit")
def set_field(collectivite_id: int, fiche_id: int, name: str):
    fiche = _fiche(collectivite_id, fiche_id)
    if name not in plans.FIELDS:
        abort(404)
    raw = request.form.getlist("valeur") if plans.FIELDS[name][1] == "multi" else request.form.get("valeur", "")
    error = _try(plans.set_field, collectivite_id, fiche, name, raw)
    if not is_htmx():
        return _back(".fiche", error, collectivite_id=collectivite_id, fiche_id=fiche_id)
    extra = {"error": error, "typed": raw if isinstance(raw, str) else None} if error else {}
    state = plans.field_state(fiche, name, True, **extra)
    return render_fragment("plan_field", state=state, collectivite_id=collectivite_id), 422 if error else 200


@bp.post("/fiches/<int:fiche_id>/deplacer")
@require_permission("edit")
def move(collectivite_id: int, fiche_id: int):
    """A kanban move: the new statut, then back to the kanban with its filters."""
    error = _try(plans.set_field, collectivite_id, _fiche(collectivite_id, fiche_id), "statut",
                 request.form.get("statut", ""))
    if error:
        flash(error, "error")
    # The kanban's filters, as its URL had them: only the known keys go back into the redirect.
    filters = {k: v for k, v in parse_qsl(request.form.get("filtres", "")) if k in plans.FILTER_KEYS}
    return redirect(url_for(".kanban", collectivite_id=collectivite_id, **filters), 303)


@bp.post("/fiches/<int:fiche_id>/supprimer")
@require_permission("edit")
def delete_fiche(collectivite_id: int, fiche_id: int):
    plans.delete_fiche(current_user, collectivite_id, _fiche(collectivite_id, fiche_id))
    flash("Fiche supprimée.", "success")
    return _back(".fiches", collectivite_id=collectivite_id)


@bp.post("/fiches/<int:fiche_id>/axes")
@require_permission("edit")
def attach(collectivite_id: int, fiche_id: int):
    axe_id = request.form.get("axe_id", "")
    if not axe_id.isdigit():
        return _back(".fiche", "choisissez un axe", collectivite_id=collectivite_id, fiche_id=fiche_id)
    plans.attach(current_user, collectivite_id, _fiche(collectivite_id, fiche_id), _axe(collectivite_id, int(axe_id)))
    return _back(".fiche", collectivite_id=collectivite_id, fiche_id=fiche_id)


@bp.post("/fiches/<int:fiche_id>/axes/<int:axe_id>/retirer")
@require_permission("edit")
def detach(collectivite_id: int, fiche_id: int, axe_id: int):
    plans.detach(current_user, collectivite_id, _fiche(collectivite_id, fiche_id), _axe(collectivite_id, axe_id))
    return _back(".fiche", collectivite_id=collectivite_id, fiche_id=fiche_id)


@bp.post("/fiches/<int:fiche_id>/actions")
@require_permission("edit")
def link_action(collectivite_id: int, fiche_id: int):
    error = _try(plans.link_action, collectivite_id, _fiche(collectivite_id, fiche_id), request.form.get("action_id"))
    return _back(".fiche", error, collectivite_id=collectivite_id, fiche_id=fiche_id)


@bp.post("/fiches/<int:fiche_id>/actions/<action_id>/retirer")
@require_permission("edit")
def unlink_action(collectivite_id: int, fiche_id: int, action_id: str):
    plans.unlink_action(current_user, collectivite_id, _fiche(collectivite_id, fiche_id), action_id)
    return _back(".fiche", collectivite_id=collectivite_id, fiche_id=fiche_id)


@bp.post("/fiches/<int:fiche_id>/indicateurs")
@require_permission("edit")
def link_indicateur(collectivite_id: int, fiche_id: int):
    error = _try(plans.link_indicateur, collectivite_id, _fiche(collectivite_id, fiche_id),
                 request.form.get("indicateur_id"))
    return _back(".fiche", error, collectivite_id=collectivite_id, fiche_id=fiche_id)


@bp.post("/fiches/<int:fiche_id>/indicateurs/<indicateur_id>/retirer")
@require_permission("edit")
def unlink_indicateur(collectivite_id: int, fiche_id: int, indicateur_id: str):
    plans.unlink_indicateur(current_user, collectivite_id, _fiche(collectivite_id, fiche_id), indicateur_id)
    return _back(".fiche", collectivite_id=collectivite_id, fiche_id=fiche_id)


def _etapes_answer(collectivite_id: int, fiche_id: int, error: str | None):
    """htmx: the étapes fragment (a refusal in it, 422); else back to the fiche."""
    if not is_htmx():
        return _back(".fiche", error, collectivite_id=collectivite_id, fiche_id=fiche_id)
    state = plans.etapes_state(collectivite_id, fiche_id, True, error)
    return render_fragment("plan_etapes", state=state), 422 if error else 200


def _etape(collectivite_id: int, fiche_id: int, etape_id: int):
    return plans.etape_of(_fiche(collectivite_id, fiche_id), etape_id) or abort(404)


@bp.post("/fiches/<int:fiche_id>/etapes")
@require_permission("edit")
def add_etape(collectivite_id: int, fiche_id: int):
    error = _try(plans.add_etape, collectivite_id, _fiche(collectivite_id, fiche_id), request.form.get("titre"))
    return _etapes_answer(collectivite_id, fiche_id, error)


@bp.post("/fiches/<int:fiche_id>/etapes/<int:etape_id>")
@require_permission("edit")
def update_etape(collectivite_id: int, fiche_id: int, etape_id: int):
    error = _try(plans.update_etape, collectivite_id, _etape(collectivite_id, fiche_id, etape_id),
                 request.form.get("titre"), request.form.get("realise") == "on")
    return _etapes_answer(collectivite_id, fiche_id, error)


@bp.post("/fiches/<int:fiche_id>/etapes/<int:etape_id>/deplacer")
@require_permission("edit")
def move_etape(collectivite_id: int, fiche_id: int, etape_id: int):
    error = _try(plans.move_etape, collectivite_id, _etape(collectivite_id, fiche_id, etape_id),
                 request.form.get("sens", ""))
    return _etapes_answer(collectivite_id, fiche_id, error)


@bp.post("/fiches/<int:fiche_id>/etapes/<int:etape_id>/supprimer")
@require_permission("edit")
def delete_etape(collectivite_id: int, fiche_id: int, etape_id: int):
    plans.delete_etape(current_user, collectivite_id, _etape(collectivite_id, fiche_id, etape_id))
    return _etapes_answer(collectivite_id, fiche_id, None)


@bp.post("/fiches/<int:fiche_id>/budget")
@require_permission("edit")
def set_budget(collectivite_id: int, fiche_id: int):
    form = request.form
    error = _try(plans.set_budget, collectivite_id, _fiche(collectivite_id, fiche_id), form.get("type", ""),
                 form.get("annee", ""), form.get("montant", ""))
    return _back(".fiche", error, collectivite_id=collectivite_id, fiche_id=fiche_id)


@bp.post("/fiches/<int:fiche_id>/notes")
@require_permission("edit")
def add_note(collectivite_id: int, fiche_id: int):
    error = _try(plans.add_note, collectivite_id, _fiche(collectivite_id, fiche_id), request.form.get("date", ""),
                 request.form.get("texte", ""))
    return _back(".fiche", error, collectivite_id=collectivite_id, fiche_id=fiche_id)


@bp.get("/<int:plan_id>/export.xlsx")
@require_permission("read")
def export_plan(collectivite_id: int, plan_id: int):
    plan = _plan(collectivite_id, plan_id)
    data = plans_xlsx.export_plan(collectivite_id, plan)
    return send_file(data, as_attachment=True, download_name=f"Export_{plan.nom}_{date.today().isoformat()}.xlsx",
                     mimetype=plans_xlsx.XLSX_TYPE, max_age=0)


@bp.get("/modele.xlsx")
@require_permission("read")
def import_template(collectivite_id: int):
    return send_file(plans_xlsx.blank_template(), as_attachment=True, download_name="Modele_plan_d_action.xlsx",
                     mimetype=plans_xlsx.XLSX_TYPE, max_age=0)


@bp.route("/import", methods=["GET", "POST"])
@require_permission("edit")
def import_plan(collectivite_id: int):
    """GET: the form; POST with a file: the preview (or the row errors); POST confirmed: the import."""
    context = plans.plans_page(collectivite_id)
    if request.method == "POST":
        upload = request.files.get("fichier")
        content = upload.read() if upload else plans_xlsx.from_token(request.form.get("contenu", ""))
        preview = plans_xlsx.parse_plan(collectivite_id, content)
        if request.form.get("confirmer") and not preview.errors:
            plan = plans_xlsx.import_plan(current_user, collectivite_id, preview)
            flash(f"Plan importé : {len(preview.fiches)} fiches.", "success")
            return _back(".plan", collectivite_id=collectivite_id, plan_id=plan.id)
        context.update(preview=preview, contenu=plans_xlsx.to_token(content))
        return workspace_page("pages/workspace/plans_import.html", context), 422 if preview.errors else 200
    return workspace_page("pages/workspace/plans_import.html", context)
