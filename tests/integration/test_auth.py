"""Sign-up, login (real form), rate limit, logout, password reset, CSRF and cookie flags."""
import re
import smtplib
import threading
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from flask import has_request_context, render_template
from flask_login import login_user
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from app import create_app, mail
from app.auth import hash_password, make_reset_token, open_session, token_hash
from app.extensions import db
from app.models import RateLimitedAttempt, User, UserSession
from app.services import accounts
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
    assert db.session.scalar(select(db.func.count()).select_from(RateLimitedAttempt)) == 5
    blocked = _login_form(client, user.email, DEFAULT_PASSWORD)
    assert blocked.status_code == 429
    assert "Trop de tentatives de connexion" in blocked.get_data(as_text=True)
    other_ip = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_ip.status_code == 302


def _reset_link(caplog, client, email):
    with caplog.at_level("WARNING"):
        client.post("/mot-de-passe/oublie", data={"email": email})
    links = re.findall(r"http://127\.0\.0\.1:5000(/mot-de-passe/reinitialiser/\S+)", caplog.text)
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
        open_session(user)
        login_user(user)
        html = render_template("components/_header_tools.html")
    assert "Mon compte" in html and "Se déconnecter" in html and 'name="csrf_token"' in html


# Review fixes ------------------------------------------------------------------------------------


def test_a_forged_host_never_reaches_the_reset_link(client, caplog, app):
    make_user(email="hote@exemple.fr")
    with caplog.at_level("WARNING"):
        client.post("/mot-de-passe/oublie", data={"email": "hote@exemple.fr"}, headers={"Host": "evil.example"})
    assert "evil.example" not in caplog.text
    assert f"{app.config['BASE_URL']}/mot-de-passe/reinitialiser/" in caplog.text


def test_trusted_hosts_refuse_other_hosts(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["tet.exemple.fr"])
    assert client.get("/connexion", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/connexion", headers={"Host": "tet.exemple.fr"}).status_code == 200


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.com", "/\r/evil.com", "/\n/evil.com", "/\x0b/evil.com", "/ /evil.com", "///evil.com",
     "/\\evil.com", "//evil.com", "https://evil.com/", "javascript:alert(1)", "evil.com"],
)
def test_next_must_be_a_local_path(client, target):
    user = make_user()
    response = _login_form(client, user.email, DEFAULT_PASSWORD, next=target)
    assert response.status_code == 302 and response.headers["Location"] == "/mes-collectivites"


def test_csrf_token_lasts_as_long_as_the_session(client, app, monkeypatch, csrf_enabled):
    from itsdangerous import TimestampSigner

    user = make_user()
    login(client, user)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/mon-compte").get_data(as_text=True))[1]
    later = TimestampSigner.get_timestamp(TimestampSigner("x")) + 6 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None
    assert client.post("/deconnexion", headers={"HX-Request": "true", "X-CSRFToken": token}).status_code == 302


@pytest.mark.usefixtures("csrf_enabled")
def test_refused_csrf_token_is_explained_in_french(client):
    login(client, make_user())
    htmx = client.post("/deconnexion", headers={"HX-Request": "true"})
    assert htmx.status_code == 400 and htmx.headers["HX-Refresh"] == "true"
    assert "Rechargez la page" in htmx.get_data(as_text=True)
    form = client.post("/deconnexion", headers={"Referer": "http://localhost/mon-compte"})
    html = form.get_data(as_text=True)
    assert form.status_code == 400 and "Action non enregistrée" in html and 'href="/mon-compte"' in html
    elsewhere = client.post("/deconnexion", headers={"Referer": "http://evil.example/piege"})
    assert 'href="/"' in elsewhere.get_data(as_text=True) and "evil.example" not in elsewhere.get_data(as_text=True)


def test_password_reset_ends_every_other_session_and_remember_me(client, app):
    user = make_user(email="vole@exemple.fr")
    attacker, remembered = app.test_client(), app.test_client()
    _login_form(attacker, user.email, DEFAULT_PASSWORD)
    _login_form(remembered, user.email, DEFAULT_PASSWORD, remember="on")
    remembered.delete_cookie("session")  # only the remember-me cookie is left
    assert remembered.get("/mon-compte").status_code == 200
    assert attacker.get("/mon-compte").status_code == 200
    link = f"/mot-de-passe/reinitialiser/{make_reset_token(user)}"
    assert client.post(link, data={"password": "nouveau-mot-de-passe"}).status_code == 302
    remembered.delete_cookie("session")
    assert attacker.get("/mon-compte").status_code == 302
    assert remembered.get("/mon-compte").status_code == 302
    assert _login_form(client, user.email, "nouveau-mot-de-passe").status_code == 302
    assert client.get("/mon-compte").status_code == 200


def test_the_login_try_is_recorded_before_the_password_is_checked(client, monkeypatch):
    user = make_user()
    seen = []

    def spying_verify(password_hash, password):
        seen.append(db.session.scalar(select(db.func.count()).select_from(RateLimitedAttempt)))
        return False

    monkeypatch.setattr(accounts, "verify_password", spying_verify)
    _login_form(client, user.email, "mauvais-mot-de-passe")
    assert seen == [1]


def test_concurrent_guesses_cannot_pass_the_rate_limit(app):
    allowed, _ = app.config["LOGIN_LIMIT"]
    with app.app_context():
        email = make_user().email
    checked = []

    def guess(n):
        response = app.test_client().post("/connexion", data={"email": email, "password": f"essai-{n}-xxxxxxxx"},
                                          environ_base={"REMOTE_ADDR": "10.9.9.9"})
        checked.append("Trop de tentatives" not in response.get_data(as_text=True))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checked) == 16 and checked.count(True) <= allowed


def test_unknown_email_costs_one_argon2_check_like_a_known_one(client, monkeypatch):
    make_user(email="connu@exemple.fr")
    calls = []
    real_verify = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, *args: calls.append(1) or real_verify(self, *args))
    for email in ("connu@exemple.fr", "inconnu@exemple.fr"):
        response = _login_form(client, email, "mauvais-mot-de-passe")
        assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)
    assert calls == [1, 1]


def test_reset_request_answers_the_same_and_mails_after_the_response(client, monkeypatch):
    make_user(email="connu@exemple.fr")
    sent = []
    monkeypatch.setattr(mail, "send_mail", lambda to, *_: sent.append((to, has_request_context())))
    answers = [client.post("/mot-de-passe/oublie", data={"email": email}) for email in ("connu@exemple.fr",
                                                                                      "inconnu@exemple.fr")]
    assert answers[0].get_data() == answers[1].get_data() and answers[0].status_code == answers[1].status_code
    assert sent == [("connu@exemple.fr", False)]  # sent once the request was over


@pytest.mark.usefixtures("csrf_enabled")
def test_login_starts_a_new_session(client):
    user = make_user()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/connexion").get_data(as_text=True))[1]
    with client.session_transaction() as session:
        session["laisse-avant"] = "x"
    assert _login_form(client, user.email, DEFAULT_PASSWORD, csrf_token=token).status_code == 302
    with client.session_transaction() as session:
        assert "laisse-avant" not in session and "csrf_token" not in session
    assert client.post("/deconnexion", data={"csrf_token": token}).status_code == 400  # pre-login token


def test_logout_clears_the_session(client):
    login(client, make_user())
    with client.session_transaction() as session:
        session["laisse-avant"] = "x"
    client.post("/deconnexion")
    with client.session_transaction() as session:
        assert "laisse-avant" not in session and "_user_id" not in session


def test_security_headers(client):
    headers = client.get("/connexion").headers
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_proxy_fix_is_opt_in(app, database_url):
    assert not isinstance(app.wsgi_app, ProxyFix)
    behind_proxy = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "TRUSTED_PROXIES": 1})
    assert isinstance(behind_proxy.wsgi_app, ProxyFix)


def test_signup_keeps_the_invitation_it_came_from(client):
    login_page = client.get("/connexion?next=/invitations/abc").get_data(as_text=True)
    assert 'href="/inscription?next=/invitations/abc"' in login_page
    signup_page = client.get("/inscription?next=/invitations/abc").get_data(as_text=True)
    assert 'name="next" value="/invitations/abc"' in signup_page
    response = client.post("/inscription", data={"email": "invitee@exemple.fr", "password": GOOD_PASSWORD,
                                                 "name": "Invitée", "next": "/invitations/abc"})
    assert response.headers["Location"] == "/invitations/abc"


def test_signup_ignores_a_foreign_next(client):
    response = client.post("/inscription", data={"email": "x@exemple.fr", "password": GOOD_PASSWORD, "name": "X",
                                                 "next": "/\t/evil.com"})
    assert response.headers["Location"] == "/collectivites"


def test_argon2_cost_comes_from_the_config(app):
    assert hash_password("peu-importe").startswith(
        f"$argon2id$v=19$m={app.config['ARGON2_MEMORY_COST']},t={app.config['ARGON2_TIME_COST']},"
    )


# Server-side sessions ----------------------------------------------------------------------------


def _replay(client, app, cookies: dict):
    """A fresh browser holding only `cookies`, copied from `client` before it logged out."""
    replayed = app.test_client()
    for name, value in cookies.items():
        replayed.set_cookie(name, value)
    return replayed


def test_a_session_cookie_replayed_after_logout_gets_the_login_page(client, app):
    user = make_user()
    _login_form(client, user.email, DEFAULT_PASSWORD)
    stolen = {"session": client.get_cookie("session").value}
    assert client.post("/deconnexion").status_code == 302
    response = _replay(client, app, stolen).get("/mon-compte")
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")


def test_a_remember_me_cookie_replayed_after_logout_gets_the_login_page(client, app):
    user = make_user()
    _login_form(client, user.email, DEFAULT_PASSWORD, remember="on")
    stolen = {"remember_token": client.get_cookie("remember_token").value}
    assert _replay(client, app, stolen).get("/mon-compte").status_code == 200  # the cookie alone signs in
    client.post("/deconnexion")
    response = _replay(client, app, stolen).get("/mon-compte")
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")


def test_logout_ends_this_browser_only(client, app):
    user = make_user()
    other_browser = app.test_client()
    for browser in (client, other_browser):
        _login_form(browser, user.email, DEFAULT_PASSWORD)
    client.post("/deconnexion")
    assert client.get("/mon-compte").status_code == 302
    assert other_browser.get("/mon-compte").status_code == 200


def test_signing_in_again_ends_the_previous_session_of_that_browser(client, app):
    first, second = make_user(), make_user()
    _login_form(client, first.email, DEFAULT_PASSWORD)
    earlier = {"session": client.get_cookie("session").value}
    _login_form(client, second.email, DEFAULT_PASSWORD)
    assert _replay(client, app, earlier).get("/mon-compte").status_code == 302
    assert second.name in client.get("/mon-compte").get_data(as_text=True)


def test_sessions_older_than_the_remember_me_duration_sign_in_no_more(client, app, monkeypatch):
    login(client, make_user())
    assert client.get("/mon-compte").status_code == 200
    monkeypatch.setitem(app.config, "REMEMBER_COOKIE_DURATION", timedelta(seconds=0))
    assert client.get("/mon-compte").status_code == 302


def test_only_a_hash_of_the_session_token_is_stored(client):
    user = make_user()
    _login_form(client, user.email, DEFAULT_PASSWORD)
    with client.session_transaction() as session:
        token = session["_user_id"]
    stored = db.session.scalars(select(UserSession.token_hash).where(UserSession.user_id == user.id)).all()
    assert stored == [token_hash(token)] and token not in stored
