"""A collectivité's workspace: référentiel tree and action pages with statuts, scores, précisions
and preuves; the personnalisation page; the history page.

Readers (lecture and up) see every page; édition and admin members write. htmx posts get the
re-rendered fragment back (a refused statut or answer comes back in it with its French message
and status 422, which base.html's htmx configuration swaps); plain form posts redirect to the
page, the message flashed.
"""
from flask import (
    Blueprint,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import RequestEntityTooLarge

from app.htmx import is_htmx, vary_on_htmx
from app.policy import require_permission
from app.services import history as history_service, preuves, workspace
from app.services.suivi import InvalidEdit

bp = Blueprint("suivi", __name__, url_prefix="/collectivites/<int:collectivite_id>")
bp.after_request(vary_on_htmx)
ACTION_URL = "/referentiels/<referentiel_id>/actions/<action_id>"


def _page(template: str, context: dict | None):
    if context is None:
        abort(404)
    collectivite = context.get("collectivite")
    root_crumbs = collectivite and [
        ("Accueil", url_for("main.home")),
        ("Mes collectivités", url_for("collectivites.mine")),
        (collectivite.nom, url_for("collectivites.members", collectivite_id=collectivite.id)),
    ]
    return render_template(template, **context, root_crumbs=root_crumbs, csrf_value=generate_csrf(),
                           messages=get_flashed_messages(with_categories=True))


def _to_action(collectivite_id: int, referentiel_id: str, action_id: str, error: str | None = None):
    """Plain form posts: back to the action page (PRG), the refusal flashed."""
    if error:
        flash(error, "error")
    return redirect(url_for(".show_action", collectivite_id=collectivite_id, referentiel_id=referentiel_id,
                            action_id=action_id), 303)


# Référentiel pages ---------------------------------------------------------------------------------


@bp.get("")
@require_permission("read")
def home(collectivite_id: int):
    """The workspace's entry point: the first référentiel (personnalisation when none is loaded)."""
    links = workspace.referentiel_links()
    if not links:
        return redirect(url_for(".personnalisation", collectivite_id=collectivite_id))
    return redirect(url_for(".show_tree", collectivite_id=collectivite_id, referentiel_id=links[0][0]))


@bp.get("/referentiels/<referentiel_id>")
@require_permission("read")
def show_tree(collectivite_id: int, referentiel_id: str):
    return _page("pages/referentiels/tree.html", workspace.tree_page(current_user, collectivite_id, referentiel_id))


@bp.get(ACTION_URL + "/enfants")
@require_permission("read")
def show_children(collectivite_id: int, referentiel_id: str, action_id: str):
    if not is_htmx():
        return redirect(url_for(".show_action", collectivite_id=collectivite_id, referentiel_id=referentiel_id,
                                action_id=action_id))
    context = workspace.children_fragment(current_user, collectivite_id, referentiel_id, action_id) or abort(404)
    return render_template("fragments/referentiels/_children.html", **context, csrf_value=generate_csrf())


@bp.get(ACTION_URL)
@require_permission("read")
def show_action(collectivite_id: int, referentiel_id: str, action_id: str):
    context = workspace.action_page(current_user, collectivite_id, referentiel_id, action_id)
    return _page("pages/referentiels/action.html", context)


@bp.get("/referentiels/<referentiel_id>/recherche")
@require_permission("read")
def search(collectivite_id: int, referentiel_id: str):
    context = workspace.search_results(collectivite_id, referentiel_id, request.args.get("q", "")) or abort(404)
    template = "fragments/referentiels/_search_results.html" if is_htmx() else "pages/referentiels/search.html"
    return render_template(template, **context)


# Statut, précision ---------------------------------------------------------------------------------


@bp.post(ACTION_URL + "/statut")
@require_permission("edit")
def set_statut(collectivite_id: int, referentiel_id: str, action_id: str):
    detail = tuple(request.form.get(name, "") for name in ("fait", "programme", "pas_fait"))
    context = workspace.save_statut(
        current_user, collectivite_id, referentiel_id, action_id, request.form.get("statut", ""), detail
    ) or abort(404)
    state = context["statut_state"]
    if not is_htmx():
        return _to_action(collectivite_id, referentiel_id, action_id, state.error)
    # The control, and the controls of the sous-action's tâches swapped out of band (whether
    # their statuts count depends on the sous-action's).
    token = generate_csrf()
    html = render_template("fragments/statuts/_action_statut.html", statut_state=state, csrf_value=token)
    for tache in context["taches"]:
        html += render_template("fragments/statuts/_action_statut.html", statut_state=tache, oob=True, csrf_value=token)
    return html, 422 if state.error else 200


@bp.post(ACTION_URL + "/precision")
@require_permission("edit")
def set_precision(collectivite_id: int, referentiel_id: str, action_id: str):
    state = workspace.save_precision(current_user, collectivite_id, action_id, request.form.get("texte", ""))
    if not is_htmx():
        return _to_action(collectivite_id, referentiel_id, action_id, state.error)
    return render_template("fragments/suivi/_precision.html", precision=state, referentiel_id=referentiel_id,
                           csrf_value=generate_csrf())


# Preuves -------------------------------------------------------------------------------------------


def _preuves_response(collectivite_id: int, referentiel_id: str, action_id: str, error: str | None = None, **extra):
    if not is_htmx():
        return _to_action(collectivite_id, referentiel_id, action_id, error)
    state = preuves.preuves_state(collectivite_id, action_id, True, error=error, **extra)
    return render_template("fragments/suivi/_preuves.html", preuves=state, referentiel_id=referentiel_id,
                           csrf_value=generate_csrf())


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
        return _page("pages/suivi/confirm_delete.html", {"collectivite_id": collectivite_id,
                                                         "referentiel_id": referentiel_id, "kind": kind, "row": row})
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


# Personnalisation, history -------------------------------------------------------------------------


@bp.get("/personnalisation")
@require_permission("read")
def personnalisation(collectivite_id: int):
    return _page("pages/suivi/personnalisation.html", workspace.personnalisation_page(current_user, collectivite_id))


@bp.post("/personnalisation/<question_id>")
@require_permission("edit")
def set_reponse(collectivite_id: int, question_id: str):
    valeur = request.form.get("valeur")
    context = workspace.save_reponse(current_user, collectivite_id, question_id, valeur) or abort(404)
    if not is_htmx():
        if context["state"].error:
            flash(context["state"].error, "error")
        return redirect(url_for(".personnalisation", collectivite_id=collectivite_id), 303)
    # The answer's control, and the thématique's completion swapped out of band.
    html = render_template("fragments/personnalisation/_question.html", **context, csrf_value=generate_csrf()) + \
        render_template("fragments/personnalisation/_completion.html", **context, oob=True)
    return html, 422 if context["state"].error else 200


@bp.get("/historique")
@require_permission("read")
def history(collectivite_id: int):
    return _page("pages/suivi/history.html", history_service.history_page(collectivite_id, request.args))
