"""/preview (signed-in users): experts paste or pick a content file and see it rendered with its
validation errors."""
from flask import Blueprint, abort, current_app, render_template, request
from flask_login import login_required

from app.fragments import render_fragment
from app.htmx import is_htmx, vary_on_htmx
from app.services import preview as service

bp = Blueprint("preview", __name__, url_prefix="/preview")
bp.after_request(vary_on_htmx)


@bp.get("")
@login_required
def show_preview():
    page = service.open_file(current_app.config["CONTENT_DIR"], request.args.get("fichier", "")) or abort(404)
    return render_template("pages/preview/index.html", page=page)


@bp.post("")
@login_required
def render_preview():
    page = service.edited_file(current_app.config["CONTENT_DIR"], request.form.get("chemin", ""), request.form.get("texte", ""))
    if is_htmx():
        return render_fragment("preview", preview=page.preview)
    return render_template("pages/preview/index.html", page=page)
