"""Authentication plumbing: the flask-login user loader, argon2 password hashes, password-reset tokens.

A reset token is signed with SECRET_KEY and salted with the user's current password hash, so it
stops working as soon as the password changes (single use) or after PASSWORD_RESET_MAX_AGE seconds (config).
"""
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.extensions import db, login_manager
from app.models import User
from app.policy import refuse_anonymous

_hasher = PasswordHasher()  # argon2-cffi's recommended parameters
# Test runs hash with the cheapest parameters (as Django's test settings do); verification reads
# the parameters from the stored hash, so either kind of hash verifies anywhere.
_test_hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
_RESET_SALT = "reinitialisation-mot-de-passe:"



@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active else None


def hash_password(password: str) -> str:
    return (_test_hasher if current_app.testing else _hasher).hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _serializer(password_hash: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_RESET_SALT + password_hash)


def make_reset_token(user: User) -> str:
    return _serializer(user.password_hash).dumps(user.id)


def user_for_reset_token(token: str) -> User | None:
    """The user a valid, unexpired, unused token was issued for; None otherwise."""
    # The payload (user id) is read unverified only to find whose hash salts the real check.
    _, user_id = _serializer("").loads_unsafe(token)
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active:
        return None
    try:
        _serializer(user.password_hash).loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except BadSignature:
        return None
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    return refuse_anonymous()
