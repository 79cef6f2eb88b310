"""Authentication plumbing: the flask-login user loader, argon2 password hashes, password-reset tokens.

A session (and a remember-me cookie) holds User.get_id(), "<id>:<stamp of the password hash>": the
loader refuses it once the password has changed, which ends every other session.
A reset token is signed with SECRET_KEY and salted with the user's current password hash, so it
stops working as soon as the password changes (single use) or after PASSWORD_RESET_MAX_AGE seconds (config).
"""
import hmac
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.extensions import db, login_manager
from app.models import User
from app.policy import refuse_anonymous

_RESET_SALT = "reinitialisation-mot-de-passe:"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, _ = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.is_active or not hmac.compare_digest(user.get_id(), session_id):
        return None
    return user


@cache
def _hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def _configured_hasher() -> PasswordHasher:
    """Cost from ARGON2_TIME_COST / ARGON2_MEMORY_COST (tests use cheap values); verifying reads the
    parameters stored in the hash, so hashes made with other costs still verify."""
    return _hasher(current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return _configured_hasher().hash(password)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("compte-inexistant")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work: without a stored hash (unknown account) a dummy hash is checked, so the answer
    takes as long as for a real account."""
    hasher = _configured_hasher()
    try:
        return hasher.verify(password_hash or _dummy_hash(hasher), password) and password_hash is not None
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
