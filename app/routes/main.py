"""Home page and error pages."""
from flask import Blueprint, render_template

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    return render_template("pages/main/home.html")


@bp.app_errorhandler(404)
def not_found(_error):
    return render_template("errors/404.html"), 404


@bp.app_errorhandler(500)
def server_error(_error):
    return render_template("errors/500.html"), 500
