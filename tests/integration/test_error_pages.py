"""Error pages are French DSFR pages; a signed-in non-member opening a collectivité's page is told so
and offered to request access; htmx requests get the French message as plain text."""
import pytest
from flask import abort
from werkzeug.exceptions import BadRequest, TooManyRequests

from app.routes import errors
from app.services import accounts
from app.rls import act_as
from tests.factories import add_member, login, make_collectivite, make_user
from tests.suivi_content import tiny_content  # noqa: F401 (fixture)

HTMX = {"HX-Request": "true"}


def assert_french_error_page(response, code: int, title: str):
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert '<html lang="fr"' in html and "fr-header" in html and 'class="fr-btn"' in html
    assert f"<h1>{title}</h1>" in html and f"Erreur {code}" in html
    for english in ("Forbidden", "Not Found", "Internal Server Error", "Method Not Allowed", "Bad Request"):
        assert english not in html
    return html


@pytest.fixture
def outsider(tiny_content):
    """A collectivité with an admin, and a signed-in user who is not a member of it."""
    collectivite = make_collectivite(nom="Villeneuve-test")
    add_member(make_user(), collectivite, "admin")
    return make_user(), collectivite


# Generic pages -------------------------------------------------------------------------------------


def test_404_page(client):
    assert_french_error_page(client.get("/nulle-part"), 404, "Page non trouvée")


def test_403_page_for_a_member_without_the_right(client, app_context):
    user, collectivite = make_user(), make_collectivite()
    add_member(user, collectivite, "lecture")
    login(client, user)
    response = client.post(f"/collectivites/{collectivite.id}/membres/{user.id}/role", data={"role": "admin"})
    html = assert_french_error_page(response, 403, "Accès refusé")
    assert "Vous n’avez pas les droits nécessaires" in html


def test_405_page_keeps_the_allow_header(client, app_context):
    response = client.get(f"/collectivites/{make_collectivite().id}/rejoindre")
    assert_french_error_page(response, 405, "Action non autorisée")
    assert "POST" in response.headers["Allow"]


def test_500_page(client, app, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("panne")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # the test config re-raises
    monkeypatch.setattr("app.routes.main.render_template", broken)
    html = assert_french_error_page(client.get("/"), 500, "Erreur inattendue")
    assert "Rien de ce que vous aviez enregistré n’est perdu" in html
    assert "panne" not in html


@pytest.mark.parametrize(
    ("error", "code", "title", "shown"),
    [
        (BadRequest("Le pourcentage doit être un nombre entre 0 et 100."), 400, "Requête incorrecte",
         "Le pourcentage doit être un nombre entre 0 et 100."),
        (BadRequest(), 400, "Requête incorrecte", "La demande envoyée est incomplète ou mal formée."),
        (TooManyRequests("Trop de tentatives : réessayez dans 5 minutes.", retry_after=300), 429,
         "Trop de requêtes", "Trop de tentatives : réessayez dans 5 minutes."),
        (TooManyRequests(), 429, "Trop de requêtes", "Vous avez fait trop de demandes en peu de temps."),
    ],
)
def test_400_and_429_pages_show_the_french_description(app, error, code, title, shown):
    with app.test_request_context("/"):
        response = app.make_response(errors.http_error(error))
    html = assert_french_error_page(response, code, title)
    assert f'<p class="fr-text--lead fr-mb-3w">{shown}</p>' in html
    if code == 429 and error.retry_after:
        assert response.headers["Retry-After"] == "300"


def test_an_aborted_request_renders_its_page(app):
    with app.test_request_context("/"):
        with pytest.raises(TooManyRequests) as raised:
            abort(429, "Réessayez dans une minute.")
        response = app.make_response(app.handle_user_exception(raised.value))
    assert "Réessayez dans une minute." in assert_french_error_page(response, 429, "Trop de requêtes")


def test_a_refused_host_gets_a_plain_400(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["tet.exemple.fr"])
    response = client.get("/connexion", headers={"Host": "evil.example"})
    assert (response.status_code, response.get_data(as_text=True)) == (400, "Requête incorrecte")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_htmx_requests_get_the_message_as_plain_text(client, app_context):
    user, collectivite = make_user(), make_collectivite()
    add_member(user, collectivite, "lecture")
    anonymous = client.get(f"/collectivites/{collectivite.id}/referentiels/eci/actions/eci_1/enfants", headers=HTMX)
    assert (anonymous.status_code, anonymous.get_data(as_text=True)) == (401, "Connexion requise")
    login(client, user)
    refused = client.post(f"/collectivites/{collectivite.id}/referentiels/eci/actions/eci_1/statut", headers=HTMX)
    assert (refused.status_code, refused.get_data(as_text=True)) == (403, "Accès refusé")
    assert refused.headers["Content-Type"] == "text/plain; charset=utf-8"


# A non-member on a collectivité's pages ------------------------------------------------------------


def test_non_member_is_told_and_offered_to_request_access(client, outsider):
    user, collectivite = outsider
    login(client, user)
    response = client.get(f"/collectivites/{collectivite.id}/referentiels/eci/actions/eci_1.1")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Villeneuve-test : accès réservé aux membres" in html
    assert "Vous n’êtes pas membre de cette collectivité" in html
    assert f'action="/collectivites/{collectivite.id}/rejoindre"' in html and "Demander à rejoindre" in html
    assert 'href="/referentiels/eci/actions/eci_1.1"' in html  # the public page of the same action
    assert "Forbidden" not in html


@pytest.mark.parametrize(
    ("path", "public"),
    [("/referentiels/eci", "/referentiels/eci"), ("/personnalisation", "/referentiels"), ("/membres", "/referentiels")],
)
def test_non_member_page_links_to_the_public_referentiel(client, outsider, path, public):
    user, collectivite = outsider
    login(client, user)
    html = client.get(f"/collectivites/{collectivite.id}{path}").get_data(as_text=True)
    assert f'<a class="fr-btn fr-btn--secondary" href="{public}">Consulter le référentiel</a>' in html


def test_non_member_with_a_pending_request_is_told_it_waits(client, outsider):
    user, collectivite = outsider
    act_as(user)
    assert accounts.request_to_join(user, collectivite.id) == "pending"
    login(client, user)
    html = client.get(f"/collectivites/{collectivite.id}/referentiels/eci").get_data(as_text=True)
    assert "Votre demande pour rejoindre Villeneuve-test est envoyée" in html
    assert "/rejoindre" not in html


def test_the_request_sent_from_the_page_reaches_the_admins(client, outsider):
    user, collectivite = outsider
    login(client, user)
    response = client.post(f"/collectivites/{collectivite.id}/rejoindre")
    assert response.status_code == 302
    assert accounts.join_state(user, collectivite.id)["pending"] is True


def test_non_member_posting_or_using_htmx_gets_a_plain_403(client, outsider):
    user, collectivite = outsider
    login(client, user)
    base = f"/collectivites/{collectivite.id}/referentiels/eci/actions/eci_1.1.1"
    assert_french_error_page(client.post(f"{base}/statut", data={"statut": "fait"}), 403, "Accès refusé")
    fragment = client.get(f"{base}/statut", headers=HTMX)
    assert (fragment.status_code, fragment.get_data(as_text=True)) == (403, "Accès refusé")


def test_unknown_collectivite_is_404_for_a_signed_in_user(client, app_context):
    login(client, make_user())
    assert_french_error_page(client.get("/collectivites/987654/referentiels/eci"), 404, "Page non trouvée")


def test_anonymous_user_is_sent_to_login(client, outsider):
    _user, collectivite = outsider
    response = client.get(f"/collectivites/{collectivite.id}/referentiels/eci")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=")
