"""Account tables: users, their signed-in sessions, memberships in collectivités, join requests,
invitations, rate-limited attempts."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

ROLES = ("admin", "edition", "lecture")
ROLE_LABELS = {"admin": "Administration", "edition": "Édition", "lecture": "Lecture"}


class User(UserMixin, db.Model):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lower-cased: the unique index then also means case-insensitive uniqueness.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A platform administrator names the auditeurs (app.services.audits); not a collectivité role.
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # Not a column: the token of the signed-in session this object was loaded for (app.auth).
    session_token = None
    # Identity, as for any mapped object (UserMixin compares get_id(), which is per session here).
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def get_id(self) -> str:
        """What flask-login keeps in the session and the remember-me cookie: the session's token."""
        if self.session_token is None:
            raise RuntimeError("app.auth.open_session() must run before flask-login's login_user()")
        return self.session_token


class UserSession(db.Model):
    """One signed-in browser. Its cookies carry a random token, only the token's SHA-256 is stored:
    logging out deletes the row, so a replayed session or remember-me cookie signs in no more."""

    __tablename__ = "user_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Membership(db.Model):
    """A user's role in one collectivité."""

    __tablename__ = "membership"
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(
        ForeignKey("collectivite.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    user: Mapped[User] = relationship(back_populates="memberships")
    collectivite: Mapped["Collectivite"] = relationship()  # noqa: F821 (app.models.collectivites)


class JoinRequest(db.Model):
    """A "Demander à rejoindre" request: pending until an admin accepts or refuses it."""

    __tablename__ = "join_request"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | accepted | refused
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Invitation(db.Model):
    """Single-use, expiring link; only the SHA-256 of its token is stored."""

    __tablename__ = "invitation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    collectivite: Mapped["Collectivite"] = relationship()  # noqa: F821


class RateLimitedAttempt(db.Model):
    """One attempt counted by a rate limit (a failed login, a reset mail, a sign-up): counted in the
    database so that the limits hold across processes (app.services.accounts)."""

    __tablename__ = "rate_limited_attempt"
    __table_args__ = (
        Index("ix_rate_limited_attempt_action_email_at", "action", "email", "created_at"),
        Index("ix_rate_limited_attempt_action_ip_at", "action", "ip", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(16))  # login | reset | signup
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
