"""Test data factories (call them inside an app context, e.g. with the `app_context` fixture).

    user = make_user(); commune = make_collectivite(); add_member(user, commune, "edition")
    login(client, user)   # fast: writes flask-login's session key, no form round trip
"""
from functools import cache
from itertools import count

from app.auth import hash_password
from app.extensions import db
from app.models import Collectivite, Membership, User
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
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
