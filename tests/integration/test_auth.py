"""Sign-up, login (real form), rate limit, logout, password reset, CSRF and cookie flags."""
import re
import smtplib

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import select

from app.extensions import db
from app.models import LoginFailure, User
from tests.factories import DEFAULT_PASSWORD, login, make_user

pytestmark = pytest.mark.usefixtures("app_context")
GOOD_PASSWORD = "une-phrase-assez-longue"


def _login_form(client, email, password, **extra):
    return client.post("/connexion", data={"email": email, "password": password, **extra})


def test_signup_creates_an_argon2_account_and_signs_in(client):
    response = client.post("/inscription", data={"email": " Alice@Exemple.FR ", "password": GOOD_PASSWORD, "name": "Alice"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "alice@exemple.fr"))
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/mon-compte").status_code == 200


def test_rejected_signup_keeps_input_but_never_the_password(client):
    make_user(email="pris@exemple.fr")
    response = client.post("/inscription", data={"email": "PRIS@exemple.fr", "password": "court", "name": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Un compte existe déjà avec cette adresse e-mail." in html
    assert "au moins 12 caractères" in html and "Indiquez votre nom." in html
    assert 'value="PRIS@exemple.fr"' in html and "fr-input-group--error" in html
    assert 'value="court"' not in html


def test_login_through_the_form_and_logout(client):
    user = make_user(email="bob@exemple.fr")
    response = _login_form(client, "BOB@exemple.fr", DEFAULT_PASSWORD, next="/mon-compte")
    assert response.status_code == 302 and response.headers["Location"] == "/mon-compte"
    assert user.name in client.get("/mon-compte").get_data(as_text=True)
    assert client.post("/deconnexion").status_code == 302
    assert client.get("/mon-compte").status_code == 302


def test_wrong_password_is_refused_in_french(client):
    make_user(email="bob@exemple.fr")
    response = _login_form(client, "bob@exemple.fr", "mauvais-mot-de-passe")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Adresse e-mail ou mot de passe incorrect." in html
    assert 'value="bob@exemple.fr"' in html and "mauvais-mot-de-passe" not in html


def test_next_cannot_leave_the_site(client):
    user = make_user()
    response = _login_form(client, user.email, DEFAULT_PASSWORD, next="//evil.example/")
    assert response.headers["Location"] == "/mes-collectivites"


def test_login_rate_limit_per_email_and_ip(client):
    user = make_user(email="cible@exemple.fr")
    for _ in range(5):
        assert _login_form(client, user.email, "mauvais-mot-de-passe").status_code == 422
    # Counted in the database, so every web process sees the same count.
    assert db.session.scalar(select(db.func.count()).select_from(LoginFailure)) == 5
    blocked = _login_form(client, user.email, DEFAULT_PASSWORD)
    assert blocked.status_code == 422
    assert "Trop de tentatives de connexion" in blocked.get_data(as_text=True)
    other_ip = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_ip.status_code == 302


def _reset_link(caplog, client, email):
    with caplog.at_level("WARNING"):
        client.post("/mot-de-passe/oublie", data={"email": email})
    links = re.findall(r"http://localhost(/mot-de-passe/reinitialiser/\S+)", caplog.text)
    assert len(links) == 1
    return links[0]


def test_password_reset_link_is_single_use(client, caplog):
    user = make_user(email="oubli@exemple.fr")
    link = _reset_link(caplog, client, "Oubli@exemple.fr")
    assert client.get(link).status_code == 200
    assert client.post(link, data={"password": "nouveau-mot-de-passe"}).status_code == 302
    assert _login_form(client, user.email, "nouveau-mot-de-passe").status_code == 302
    again = client.post(link, data={"password": "encore-un-autre-mot"})
    assert again.status_code == 422 and "plus valide" in again.get_data(as_text=True)


def test_password_reset_link_expires(client, caplog, app, monkeypatch):
    make_user(email="oubli@exemple.fr")
    link = _reset_link(caplog, client, "oubli@exemple.fr")
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
    assert "plus valide" in client.get(link).get_data(as_text=True)


def test_password_reset_for_unknown_email_sends_nothing(client, caplog):
    with caplog.at_level("WARNING"):
        response = client.post("/mot-de-passe/oublie", data={"email": "personne@exemple.fr"})
    assert "Si un compte existe" in response.get_data(as_text=True)
    assert "reinitialiser" not in caplog.text


def test_reset_mail_goes_through_smtp_when_configured(client, app, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append((host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            sent.append("starttls")

        def login(self, username, password):
            sent.append(("login", username))

        def send_message(self, message):
            sent.append(message)

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    for key, value in {"MAIL_SERVER": "smtp.exemple.fr", "MAIL_PORT": 2525, "MAIL_USERNAME": "app"}.items():
        monkeypatch.setitem(app.config, key, value)
    make_user(email="smtp@exemple.fr")
    client.post("/mot-de-passe/oublie", data={"email": "smtp@exemple.fr"})
    assert sent[:3] == [("smtp.exemple.fr", 2525), "starttls", ("login", "app")]
    assert sent[3]["To"] == "smtp@exemple.fr" and "/mot-de-passe/reinitialiser/" in sent[3].get_content()


def test_anonymous_gets_login_redirect_on_pages_and_401_on_htmx(client):
    response = client.get("/mon-compte")
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion?next=")
    assert client.get("/mon-compte", headers={"HX-Request": "true"}).status_code == 401


def test_session_cookie_flags(client):
    user = make_user()
    response = _login_form(client, user.email, DEFAULT_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.usefixtures("csrf_enabled")
def test_post_without_csrf_token_is_rejected(client):
    user = make_user()
    assert _login_form(client, user.email, DEFAULT_PASSWORD).status_code == 400
    login(client, user)
    assert client.post("/deconnexion", headers={"HX-Request": "true"}).status_code == 400


@pytest.mark.usefixtures("csrf_enabled")
def test_form_token_and_htmx_header_token_are_accepted(client):
    user = make_user()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/connexion").get_data(as_text=True))[1]
    response = _login_form(client, user.email, DEFAULT_PASSWORD, csrf_token=token)
    assert response.status_code == 302
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/mon-compte").get_data(as_text=True))[1]
    assert client.post("/deconnexion", headers={"HX-Request": "true", "X-CSRFToken": header_token}).status_code == 302


def test_header_tools_partial(app):
    user = make_user()
    with app.test_request_context():
        assert "Se connecter" in render_template("components/_header_tools.html")
        login_user(user)
        html = render_template("components/_header_tools.html")
    assert "Mon compte" in html and "Se déconnecter" in html and 'name="csrf_token"' in html
