"""Sign up, log in / out, password reset, account page, and the answer to a refused CSRF token."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError

from app.auth import close_session, open_session, user_for_reset_token
from app.htmx import is_htmx
from app.mail import external_url
from app.services import accounts
from app.services.accounts import FormErrors

bp = Blueprint("auth", __name__)
CSRF_REFUSED = ("Votre session a expiré ou la page était trop ancienne : l'action n'a pas été enregistrée. "
                "Rechargez la page puis recommencez.")


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site ("/..."), else None: no open redirect.

    Browsers drop tabs and newlines inside URLs and read "\\" as "/", so "/\\t/evil.example" would
    become "//evil.example": any control character, space or backslash refuses the target.
    """
    if not target or any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _next_url(default: str = "collectivites.mine") -> str:
    return local_path(request.values.get("next")) or url_for(default)


@bp.context_processor
def _max_lengths():
    return {"max_lengths": accounts.MAX_LENGTHS}


def _start_session(user, remember: bool = False) -> None:
    if current_user.is_authenticated:  # signing in again replaces this browser's session
        close_session(current_user)
    # A fresh session at login: nothing (CSRF token included) carries over from before.
    session.clear()
    open_session(user)
    login_user(user, remember=remember)


def _rejected(template: str, error: FormErrors, **context):
    """The form again with its messages and what was typed (password fields are never filled back)."""
    return render_template(template, errors=error.errors, form=request.form, **context), error.status


@bp.route("/inscription", methods=["GET", "POST"])
def signup():
    if request.method == "GET":
        return render_template("pages/auth/signup.html", errors={}, form={"next": request.args.get("next", "")})
    try:
        form = request.form
        user = accounts.register_user(form.get("email", ""), form.get("password", ""), form.get("name", ""),
                                      request.remote_addr)
    except FormErrors as error:
        return _rejected("pages/auth/signup.html", error)
    _start_session(user)
    flash("Votre compte est créé. Rejoignez maintenant votre collectivité.", "success")
    return redirect(_next_url(default="collectivites.directory"))


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("pages/auth/login.html", errors={}, form={"next": request.args.get("next", "")})
    try:
        form = request.form
        user = accounts.authenticate(form.get("email", ""), form.get("password", ""), request.remote_addr)
    except FormErrors as error:
        return _rejected("pages/auth/login.html", error)
    _start_session(user, remember=request.form.get("remember") == "on")
    return redirect(_next_url())


@bp.post("/deconnexion")
def logout():
    """Ends this browser's session server-side: its session and remember-me cookies, even replayed,
    sign in no more. The account's sessions in other browsers go on."""
    if current_user.is_authenticated:
        close_session(current_user)
    session.clear()
    logout_user()  # after clear: it leaves the mark that deletes the remember-me cookie
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("main.home"))


@bp.route("/mot-de-passe/oublie", methods=["GET", "POST"])
def forgot_password():
    if request.method == "GET":
        return render_template("pages/auth/forgot_password.html", sent=False, errors={}, form={})
    try:
        accounts.send_password_reset(
            request.form.get("email", ""), request.remote_addr,
            lambda token: external_url("auth.reset_password", token=token),
        )
    except FormErrors as error:
        return _rejected("pages/auth/forgot_password.html", error, sent=False)
    return render_template("pages/auth/forgot_password.html", sent=True, errors={}, form={})


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


@bp.app_errorhandler(CSRFError)
def csrf_refused(_error):
    """htmx: reload the page (it then carries a valid token); a form: a French page leading back."""
    if is_htmx():
        flash(CSRF_REFUSED, "error")
        return CSRF_REFUSED, 400, {"HX-Refresh": "true"}
    referrer = urlsplit(request.referrer or "")
    back = local_path(referrer.path) if referrer.netloc == request.host else None
    return render_template("errors/csrf.html", message=CSRF_REFUSED, back=back or url_for("main.home")), 400
