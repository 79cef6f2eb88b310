"""Authentication plumbing: server-side sessions and the flask-login user loader, argon2 password
hashes, password-reset tokens.

Signing in opens a UserSession row; the session (and the remember-me cookie) holds its random token
(User.get_id()). The loader accepts a token only while its row exists and is younger than
REMEMBER_COOKIE_DURATION: logging out deletes the row (that browser only), a password reset deletes
them all, so a replayed cookie no longer signs in.
A reset token is signed with SECRET_KEY and salted with the user's current password hash, so it
stops working as soon as the password changes (single use) or after PASSWORD_RESET_MAX_AGE seconds (config).
"""
import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select

from app.extensions import db, login_manager
from app.models import User, UserSession
from app.persistence import utcnow
from app.policy import refuse_anonymous

_RESET_SALT = "reinitialisation-mot-de-passe:"


def token_hash(token: str) -> str:
    """What is stored of a secret token (sessions, invitations): a database read reveals no token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _oldest_session_start():
    return utcnow() - current_app.config["REMEMBER_COOKIE_DURATION"]


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    user = db.session.scalar(
        select(User).join(UserSession, UserSession.user_id == User.id).where(
            UserSession.token_hash == token_hash(session_token), UserSession.created_at > _oldest_session_start()
        )
    )
    if user is None or not user.is_active:
        return None
    user.session_token = session_token
    return user


def open_session(user: User) -> None:
    """A new signed-in session for `user` (call before login_user, which stores user.get_id())."""
    token = secrets.token_urlsafe(32)
    # This user's expired rows can no longer sign in: they go now.
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.created_at <= _oldest_session_start())
    )
    db.session.add(UserSession(user_id=user.id, token_hash=token_hash(token), created_at=utcnow()))
    db.session.commit()
    user.session_token = token


def close_session(user: User) -> None:
    """End the session `user` was loaded for: its cookies, replayed or not, sign in no more."""
    db.session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(user.get_id())))
    db.session.commit()


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
