"""Test data factories (call them inside an app context, e.g. with the `app_context` fixture).

    user = make_user(); commune = make_collectivite(); add_member(user, commune, "edition")
    login(client, user)   # fast: opens a session row and writes flask-login's key, no form round trip
"""
import secrets
from functools import cache
from itertools import count

from sqlalchemy import insert

from app.auth import hash_password, token_hash
from app.extensions import db
from app.models import Collectivite, Membership, User, UserSession
from app.persistence import utcnow
from app.rls import system_work
from app.services.collectivites import normalise_search

DEFAULT_PASSWORD = "mot-de-passe-de-test"
_sequence = count(1)


@cache
def _hash(password: str) -> str:
    # argon2 is deliberately slow: hash each distinct test password once per run.
    return hash_password(password)


def make_user(password: str = DEFAULT_PASSWORD, **overrides) -> User:
    n = next(_sequence)
    fields = {"email": f"personne{n}@exemple.fr", "name": f"Personne {n}", "created_at": utcnow(), "is_active": True}
    fields.update(overrides)
    user = User(password_hash=_hash(password), **fields)
    db.session.add(user)
    db.session.commit()
    return user


def make_collectivite(**overrides) -> Collectivite:
    n = next(_sequence)
    fields = {"kind": "commune", "code": f"T{n:05d}", "nom": f"Commune test {n}", "population": 12_000,
              "departement_code": "01", "region_code": "84", "drom": False}
    fields.update(overrides)
    collectivite = Collectivite(nom_recherche=normalise_search(fields["nom"]), **fields)
    db.session.add(collectivite)
    db.session.commit()
    return collectivite


def add_member(user: User, collectivite: Collectivite, role: str) -> Membership:
    membership = Membership(user_id=user.id, collectivite_id=collectivite.id, role=role, created_at=utcnow())
    with system_work():  # test set-up, not a user's action
        db.session.add(membership)
        db.session.commit()
    return membership


def login(client, user: User) -> None:
    # The session row goes in through its own connection: committing the test's session would expire
    # the objects the test holds (app.auth.open_session does the same for a real login).
    token = secrets.token_urlsafe(32)
    with db.engine.begin() as connection:
        connection.execute(insert(UserSession).values(user_id=user.id, token_hash=token_hash(token), created_at=utcnow()))
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
