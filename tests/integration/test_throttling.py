"""Rate limits beyond login per e-mail + IP: password spraying, reset mails per account and per IP,
sign-ups per IP. Over a limit: HTTP 429, a French message, the form kept (never the password), and
nothing that tells whether an account exists."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app import mail
from app.extensions import db
from app.models import RateLimitedAttempt, User
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.usefixtures("app_context")
HOUR = timedelta(hours=1)
GOOD_PASSWORD = "une-phrase-assez-longue"


def _from(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


@pytest.fixture
def sent(monkeypatch):
    mails = []
    monkeypatch.setattr(mail, "send_mail", lambda to, *_: mails.append(to))
    return mails


@pytest.fixture
def limits(app, monkeypatch):
    """Small limits, so that the tests say what they count."""
    def set_limit(name: str, allowed: int, window: timedelta = HOUR):
        monkeypatch.setitem(app.config, name, (allowed, window))
    return set_limit


def _without_csrf(html: str) -> str:
    """The CSRF token is signed with the time: two pages a second apart differ there only."""
    return re.sub(r"[\w.-]{40,}", "<csrf>", html)


def _login(client, email, password="mauvais-mot-de-passe", ip="10.1.1.1"):
    return client.post("/connexion", data={"email": email, "password": password}, **_from(ip))


def test_the_limits_are_named_in_the_config(app):
    for name in ("LOGIN_LIMIT", "LOGIN_SPRAY_LIMIT", "RESET_EMAIL_LIMIT", "RESET_IP_LIMIT", "SIGNUP_IP_LIMIT"):
        allowed, window = app.config[name]
        assert allowed > 0 and window >= timedelta(minutes=15)


def test_password_spraying_from_one_ip_is_stopped(client, limits):
    limits("LOGIN_SPRAY_LIMIT", 3)
    victim = make_user(email="victime@exemple.fr")
    for n in range(3):
        assert _login(client, f"agent{n}@exemple.fr").status_code == 422
    # A 4th e-mail from that IP is refused before any check, even with the right password.
    refused = _login(client, victim.email, DEFAULT_PASSWORD)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "Trop de tentatives de connexion depuis votre réseau. Réessayez dans 60 minutes." in html
    assert 'value="victime@exemple.fr"' in html and DEFAULT_PASSWORD not in html
    # Retrying an e-mail already counted is not a new one; another IP is not concerned.
    assert _login(client, "agent0@exemple.fr").status_code == 422
    assert _login(client, victim.email, DEFAULT_PASSWORD, ip="10.2.2.2").status_code == 302


def test_failed_logins_later_followed_by_success_do_not_count_as_spraying(client, limits):
    limits("LOGIN_SPRAY_LIMIT", 2)
    agents = [make_user() for _ in range(4)]
    for agent in agents:  # a shared office IP: everyone mistypes once, then gets in
        assert _login(client, agent.email).status_code == 422
        assert _login(client, agent.email, DEFAULT_PASSWORD).status_code == 302


def test_reset_mails_are_limited_per_account_whether_it_exists_or_not(client, limits, sent):
    limits("RESET_EMAIL_LIMIT", 2)
    make_user(email="connu@exemple.fr")
    answers = {}
    for email in ("connu@exemple.fr", "inconnu@exemple.fr"):
        answers[email] = [
            client.post("/mot-de-passe/oublie", data={"email": email}, **_from(f"10.3.3.{n}")) for n in range(3)
        ]
    assert [r.status_code for r in answers["connu@exemple.fr"]] == [200, 200, 429]
    assert [r.status_code for r in answers["inconnu@exemple.fr"]] == [200, 200, 429]
    known, unknown = (_without_csrf(answers[email][2].get_data(as_text=True))
                      for email in ("connu@exemple.fr", "inconnu@exemple.fr"))
    assert known == unknown.replace("inconnu@", "connu@")
    refused = answers["connu@exemple.fr"][2].get_data(as_text=True)
    assert "Trop de demandes de réinitialisation. Réessayez dans 60 minutes." in refused
    assert 'value="connu@exemple.fr"' in refused
    assert sent == ["connu@exemple.fr", "connu@exemple.fr"]


def test_reset_requests_are_limited_per_ip(client, limits, sent):
    limits("RESET_IP_LIMIT", 3)
    statuses = [client.post("/mot-de-passe/oublie", data={"email": f"x{n}@exemple.fr"}, **_from("10.4.4.4")).status_code
                for n in range(4)]
    assert statuses == [200, 200, 200, 429]
    other_ip = client.post("/mot-de-passe/oublie", data={"email": "x9@exemple.fr"}, **_from("10.5.5.5"))
    assert other_ip.status_code == 200


def test_sign_ups_are_limited_per_ip(client, limits):
    limits("SIGNUP_IP_LIMIT", 2)

    def sign_up(n, ip="10.6.6.6"):
        form = {"email": f"nouveau{n}@exemple.fr", "password": GOOD_PASSWORD, "name": f"Agent {n}"}
        return client.post("/inscription", data=form, **_from(ip))

    assert [sign_up(n).status_code for n in range(2)] == [302, 302]
    refused = sign_up(2)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "Trop de comptes créés depuis votre réseau. Réessayez dans 60 minutes." in html
    assert 'value="nouveau2@exemple.fr"' in html and 'value="Agent 2"' in html and GOOD_PASSWORD not in html
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    assert sign_up(3, ip="10.7.7.7").status_code == 302


def test_refused_sign_up_forms_are_not_counted(client, limits):
    limits("SIGNUP_IP_LIMIT", 1)
    for _ in range(3):  # mistakes to correct: not accounts created
        assert client.post("/inscription", data={"email": "x", "password": "court", "name": ""}).status_code == 422
    assert client.post("/inscription", data={"email": "ok@exemple.fr", "password": GOOD_PASSWORD,
                                             "name": "Ok"}).status_code == 302


def test_attempts_older_than_the_window_no_longer_count(client, limits, sent):
    limits("RESET_EMAIL_LIMIT", 1)
    make_user(email="patient@exemple.fr")
    assert client.post("/mot-de-passe/oublie", data={"email": "patient@exemple.fr"}).status_code == 200
    assert client.post("/mot-de-passe/oublie", data={"email": "patient@exemple.fr"}).status_code == 429
    db.session.execute(update(RateLimitedAttempt).values(created_at=RateLimitedAttempt.created_at - HOUR))
    db.session.commit()
    assert client.post("/mot-de-passe/oublie", data={"email": "patient@exemple.fr"}).status_code == 200
    assert len(sent) == 2
    # The expired attempt was purged on the way.
    assert db.session.scalar(select(func.count()).select_from(RateLimitedAttempt)) == 1


def test_a_refused_attempt_does_not_lengthen_the_wait(client, limits):
    limits("SIGNUP_IP_LIMIT", 1)
    form = {"password": GOOD_PASSWORD, "name": "X"}
    client.post("/inscription", data={**form, "email": "a@exemple.fr"})
    for n in range(3):
        assert client.post("/inscription", data={**form, "email": f"b{n}@exemple.fr"}).status_code == 429
    assert db.session.scalar(select(func.count()).select_from(RateLimitedAttempt)) == 1
