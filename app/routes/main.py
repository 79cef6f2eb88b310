"""Home page (error pages: app.routes.errors)."""
from flask import Blueprint, render_template

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    return render_template("pages/main/home.html")
