"""Error pages: French DSFR pages for every HTTP error, and the page a signed-in non-member gets on
a collectivité's pages (what it is, a "Demander à rejoindre" button, the public référentiel).

A description given with the error (`abort(429, "Trop de tentatives…")`) is French text meant for
the user and is shown; werkzeug's default descriptions are English and are not. htmx requests get
the French message alone as plain text: htmx swaps no error response, its events can read it.
"""
from flask import Blueprint, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException, NotFound, SecurityError, ServiceUnavailable

from app.htmx import is_htmx
from app.policy import NotMember, wants_status_code
from app.services import accounts, labellisation

bp = Blueprint("errors", __name__)
PLAIN_TEXT = ("Content-Type", "text/plain; charset=utf-8")

TITLES = {
    400: "Requête incorrecte",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page non trouvée",
    405: "Action non autorisée",
    413: "Requête trop volumineuse",
    429: "Trop de requêtes",
    503: "Service indisponible",
}


def _title(code: int) -> str:
    return TITLES.get(code) or ("Erreur inattendue" if code >= 500 else "Requête impossible")


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    message = error.description if error.description != type(error).description else None
    # Retry-After (429), Allow (405)... but not werkzeug's HTML content type.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    if isinstance(error, SecurityError):  # a host TRUSTED_HOSTS refuses: no link of a page can be built
        return _title(error.code), error.code, [PLAIN_TEXT]
    if is_htmx():
        return message or _title(error.code), error.code, [*headers, PLAIN_TEXT]
    templates = [f"errors/{error.code}.html", "errors/error.html"]
    return render_template(templates, code=error.code, title=_title(error.code), message=message), error.code, headers


@bp.app_errorhandler(labellisation.RulesMissing)
def labellisation_rules_missing(error: labellisation.RulesMissing):
    return http_error(ServiceUnavailable(str(error)))


@bp.app_errorhandler(NotMember)
def not_member(error: NotMember):
    if request.method != "GET" or wants_status_code():
        return http_error(error)
    state = accounts.join_state(current_user, error.collectivite_id)
    if state is None:
        return http_error(NotFound())
    return render_template("pages/collectivites/not_member.html", **state, public_url=_public_referentiel_url()), 403


def _public_referentiel_url() -> str:
    """The public page of the référentiel content the refused page was about."""
    args = request.view_args or {}
    if "action_id" in args:
        return url_for("referentiels.show_action", referentiel_id=args["referentiel_id"], action_id=args["action_id"])
    if "referentiel_id" in args:
        return url_for("referentiels.show_tree", referentiel_id=args["referentiel_id"])
    return url_for("referentiels.list_referentiels")
