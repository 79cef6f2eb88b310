"""Bad input is a 400 with a clear French message (a 404 for an id no row can have), never a 500:
NUL characters anywhere in a request, values longer than their columns. Both passes run these; in
the PostgreSQL one they reach PostgreSQL, which refuses NUL in text and over-long values."""
import io
import os

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import RateLimitedAttempt, User
from tests.factories import login
from tests.integration.test_preuves import world  # noqa: F401 (fixture)
from tests.suivi_content import tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("app_context")
GOOD_PASSWORD = "une-phrase-assez-longue"
ACTION = "/collectivites/{cid}/referentiels/eci/actions/eci_1.1"


def test_the_pass_runs_on_the_database_it_claims():
    expected = {"sqlite": "sqlite", "postgres": "postgresql"}[os.environ.get("TEST_BACKEND", "sqlite")]
    assert db.engine.dialect.name == expected


# NUL characters ------------------------------------------------------------------------------------

NUL_REQUESTS = {
    "path": ("GET", "/collectivites/{cid}/referentiels/ec%00i", {}),
    "query": ("GET", "/collectivites?q=Lyon%00", {}),
    "query name": ("GET", "/collectivites?q%00=Lyon", {}),
    "login form": ("POST", "/connexion", {"data": {"email": "a\x00@exemple.fr", "password": "x"}}),
    "sign-up form": ("POST", "/inscription", {"data": {"email": "b@exemple.fr", "password": GOOD_PASSWORD,
                                                       "name": "Ali\x00ce"}}),
    "reset form": ("POST", "/mot-de-passe/oublie", {"data": {"email": "\x00@exemple.fr"}}),
    "field name": ("POST", "/connexion", {"data": {"email": "a@exemple.fr", "pass\x00word": "x"}}),
    "précision": ("POST", ACTION + "/precision", {"data": {"texte": "fait\x00"}}),
    "link title": ("POST", ACTION + "/preuves/liens", {"data": {"titre": "\x00", "url": "https://exemple.fr"}}),
    "file name": ("POST", ACTION + "/preuves/fichiers",
                  {"data": {"fichier": (io.BytesIO(b"texte"), "note\x00.txt")}, "content_type": "multipart/form-data"}),
    "header": ("GET", "/collectivites", {"headers": {"X-Requested-With": "a\x00b"}}),
    "invitation token": ("GET", "/invitations/abc%00def", {}),
}


@pytest.mark.parametrize("where", NUL_REQUESTS)
def test_a_nul_character_anywhere_is_a_400_with_a_french_message(client, world, where):
    cid, _, users = world
    login(client, users["edition"])
    method, url, kwargs = NUL_REQUESTS[where]
    response = client.open(url.format(cid=cid), method=method, **kwargs)
    assert response.status_code == 400
    assert "Votre demande contient un caractère nul" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(RateLimitedAttempt)) == 0


# Lengths -------------------------------------------------------------------------------------------


def _email(length: int) -> str:
    return "a" * (length - len("@exemple.fr")) + "@exemple.fr"


def test_sign_up_refuses_a_name_or_email_longer_than_its_column_and_keeps_the_form(client):
    response = client.post("/inscription", data={"email": _email(255), "password": GOOD_PASSWORD, "name": "N" * 201})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Le nom ne doit pas dépasser 200 caractères." in html
    assert "adresse e-mail ne doit pas dépasser 254 caractères." in html
    assert f'value="{"N" * 201}"' in html and GOOD_PASSWORD not in html
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_sign_up_accepts_values_exactly_as_long_as_their_columns(client):
    response = client.post("/inscription", data={"email": _email(254), "password": GOOD_PASSWORD, "name": "N" * 200})
    assert response.status_code == 302
    assert db.session.scalar(select(User.name).where(User.email == _email(254))) == "N" * 200


@pytest.mark.parametrize("url", ["/connexion", "/mot-de-passe/oublie"])
def test_login_and_reset_refuse_an_email_longer_than_its_column(client, url):
    response = client.post(url, data={"email": _email(255), "password": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "adresse e-mail ne doit pas dépasser 254 caractères." in html
    assert f'value="{_email(255)}"' in html


def test_forms_say_how_long_a_value_may_be(client, world):
    cid, _, users = world
    signup = client.get("/inscription").get_data(as_text=True)
    assert 'maxlength="200"' in signup and 'maxlength="254"' in signup
    for url in ("/connexion", "/mot-de-passe/oublie"):
        assert 'maxlength="254"' in client.get(url).get_data(as_text=True)
    login(client, users["edition"])
    action_page = client.get(ACTION.format(cid=cid)).get_data(as_text=True)
    assert 'maxlength="20000"' in action_page  # précision
    assert 'maxlength="300"' in action_page and 'maxlength="2000"' in action_page  # link title and URL


def test_a_link_longer_than_allowed_is_refused_and_kept_in_the_form(client, world):
    cid, _, users = world
    login(client, users["edition"])
    response = client.post(ACTION.format(cid=cid) + "/preuves/liens", headers={"HX-Request": "true"},
                           data={"titre": "T" * 301, "url": "https://exemple.fr/"})
    html = response.get_data(as_text=True)
    assert "le titre dépasse 300 caractères" in html and f'value="{"T" * 301}"' in html


# Ids in paths --------------------------------------------------------------------------------------


@pytest.mark.parametrize("collectivite_id", ["2147483648", "99999999999999999999", "9" * 5000])
def test_an_id_beyond_the_integer_columns_is_a_404(client, world, collectivite_id):
    _, _, users = world
    login(client, users["edition"])
    assert client.get(f"/collectivites/{collectivite_id}/membres").status_code == 404
    assert client.post(f"/collectivites/{collectivite_id}/rejoindre").status_code == 404
