"""Sign up, log in / out, password reset, account page."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import user_for_reset_token
from app.services import accounts
from app.services.accounts import FormErrors

bp = Blueprint("auth", __name__)


@bp.before_app_request
def _reload_current_user():
    # flask-login caches the user on `g`, which outlives a request when tests share one app context.
    g.pop("_login_user", None)


def _next_url() -> str:
    """The `next` target if it is a path on this site, else "Mes collectivités" (no open redirect)."""
    target = request.values.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("collectivites.mine")


def _rejected(template: str, error: FormErrors, **context):
    return render_template(template, errors=error.errors, form=request.form, **context), 422


@bp.route("/inscription", methods=["GET", "POST"])
def signup():
    if request.method == "GET":
        return render_template("pages/auth/signup.html", errors={}, form={})
    try:
        form = request.form
        user = accounts.register_user(form.get("email", ""), form.get("password", ""), form.get("name", ""))
    except FormErrors as error:
        return _rejected("pages/auth/signup.html", error)
    login_user(user)
    flash("Votre compte est créé. Rejoignez maintenant votre collectivité.", "success")
    return redirect(url_for("collectivites.directory"))


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("pages/auth/login.html", errors={}, form={"next": request.args.get("next", "")})
    try:
        form = request.form
        user = accounts.authenticate(form.get("email", ""), form.get("password", ""), request.remote_addr or "")
    except FormErrors as error:
        return _rejected("pages/auth/login.html", error)
    login_user(user, remember=request.form.get("remember") == "on")
    return redirect(_next_url())


@bp.post("/deconnexion")
def logout():
    logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("main.home"))


@bp.route("/mot-de-passe/oublie", methods=["GET", "POST"])
def forgot_password():
    if request.method == "GET":
        return render_template("pages/auth/forgot_password.html", sent=False, form={})
    accounts.send_password_reset(
        request.form.get("email", ""), lambda token: url_for("auth.reset_password", token=token, _external=True)
    )
    return render_template("pages/auth/forgot_password.html", sent=True, form={})


@bp.route("/mot-de-passe/reinitialiser/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if request.method == "GET":
        errors = {} if user_for_reset_token(token) else {"form": accounts.INVALID_RESET_LINK}
        return render_template("pages/auth/reset_password.html", token=token, errors=errors)
    try:
        accounts.reset_password(token, request.form.get("password", ""))
    except FormErrors as error:
        return _rejected("pages/auth/reset_password.html", error, token=token)
    flash("Votre mot de passe est modifié. Vous pouvez vous connecter.", "success")
    return redirect(url_for("auth.login"))


@bp.get("/mon-compte")
@login_required
def account():
    return render_template("pages/auth/account.html", user=current_user)
