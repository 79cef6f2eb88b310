"""Accounts and memberships: sign-up, login, password reset (each rate-limited), join requests,
roles, invitations. Access checks are not made here: routes call app.policy first.

Failures raise FormErrors with French messages keyed by form field ("form" for the whole form).
"""
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, distinct, func, select, text, update
from sqlalchemy.exc import IntegrityError

from app.auth import hash_password, make_reset_token, token_hash, user_for_reset_token, verify_password
from app.extensions import db
from app.mail import send_mail_after_response
from app.models import Collectivite, Invitation, JoinRequest, Membership, RateLimitedAttempt, User, UserSession
from app.models.accounts import ROLES
from app.persistence import utcnow
from app.rls import present_invitation_token

PASSWORD_MIN_LENGTH = 12
# The longest values the forms accept (their inputs' maxlength): the columns that store them.
MAX_LENGTHS = {"email": User.__table__.c.email.type.length, "name": User.__table__.c.name.type.length}
_FIELD_LABELS = {"email": "L'adresse e-mail", "name": "Le nom"}
_IP_MAX_LENGTH = RateLimitedAttempt.__table__.c.ip.type.length
INVITATION_LIFETIME = timedelta(days=7)
INVALID_RESET_LINK = "Ce lien n'est plus valide. Demandez un nouveau lien de réinitialisation."
INVALID_INVITATION = "Cette invitation n'est plus valide (déjà utilisée ou expirée)."
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class FormErrors(Exception):
    """`status`: the HTTP status of the form shown again: 422 a value to correct, 400 input the form
    itself cannot send (longer than its maxlength), 429 too many attempts."""

    def __init__(self, errors: dict[str, str], status: int = 422):
        super().__init__(errors)
        self.errors = errors
        self.status = status


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _refuse_too_long(**values: str) -> None:
    errors = {
        field: f"{_FIELD_LABELS[field]} ne doit pas dépasser {MAX_LENGTHS[field]} caractères."
        for field, value in values.items()
        if len(value) > MAX_LENGTHS[field]
    }
    if errors:
        raise FormErrors(errors, status=400)


def _password_error(password: str) -> str | None:
    if len(password or "") < PASSWORD_MIN_LENGTH:
        return f"Le mot de passe doit contenir au moins {PASSWORD_MIN_LENGTH} caractères."
    return None


# Rate limits ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Limit:
    """At most config[config_name] = (attempts, window) attempts of one action sharing the columns
    `same`; with `distinct_emails`, attempts over at most that many distinct e-mails."""

    config_name: str
    same: tuple[str, ...]
    message: str  # French; {minutes} is the window
    distinct_emails: bool = False


_LOGIN_LIMITS = (
    _Limit("LOGIN_LIMIT", ("email", "ip"), "Trop de tentatives de connexion. Réessayez dans {minutes} minutes."),
    _Limit("LOGIN_SPRAY_LIMIT", ("ip",), "Trop de tentatives de connexion depuis votre réseau. "
           "Réessayez dans {minutes} minutes.", distinct_emails=True),
)
_TOO_MANY_RESETS = "Trop de demandes de réinitialisation. Réessayez dans {minutes} minutes."
_RESET_LIMITS = (
    _Limit("RESET_EMAIL_LIMIT", ("email",), _TOO_MANY_RESETS),
    _Limit("RESET_IP_LIMIT", ("ip",), _TOO_MANY_RESETS),
)
_SIGNUP_LIMITS = (
    _Limit("SIGNUP_IP_LIMIT", ("ip",), "Trop de comptes créés depuis votre réseau. Réessayez dans {minutes} minutes."),
)


def _throttle(action: str, email: str, ip: str, limits: tuple[_Limit, ...]) -> None:
    """Record an attempt of `action`, then refuse it (FormErrors, status 429) if it goes over a limit.

    The attempt is written (and committed) BEFORE it is counted: of N concurrent attempts each sees at
    least every attempt committed before its own, so no more than a limit get through. A refused
    attempt is removed: it need not lengthen the wait.
    """
    now, windows = utcnow(), {limit: current_app.config[limit.config_name] for limit in limits}
    expired = RateLimitedAttempt.created_at <= now - max(window for _, window in windows.values())
    db.session.execute(delete(RateLimitedAttempt).where(RateLimitedAttempt.action == action, expired))
    attempt = RateLimitedAttempt(action=action, email=email, ip=ip, created_at=now)
    db.session.add(attempt)
    if db.session.get_bind().dialect.name == "postgresql":
        # Visible to the other attempts at commit all the same, without waiting for the disk (each
        # open-data call commits one): a crash may lose the last attempts, which only loosens
        # the limit for that moment.
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    db.session.commit()
    values = {"email": email, "ip": ip}
    for limit, (allowed, window) in windows.items():
        counted = func.count(distinct(RateLimitedAttempt.email)) if limit.distinct_emails else func.count()
        query = select(counted).where(RateLimitedAttempt.action == action, RateLimitedAttempt.created_at > now - window)
        for column in limit.same:
            query = query.where(getattr(RateLimitedAttempt, column) == values[column])
        if db.session.scalar(query) > allowed:
            db.session.delete(attempt)
            db.session.commit()
            raise FormErrors({"form": limit.message.format(minutes=int(window.total_seconds() // 60))}, status=429)


def throttle_ip(action: str, ip: str | None, config_name: str, message: str) -> None:
    """The same database-backed limit for other areas: at most config[config_name] (count,
    window) calls of `action` per IP; FormErrors (429) beyond."""
    _throttle(action, "", _client_ip(ip), (_Limit(config_name, ("ip",), message),))


def _client_ip(ip: str | None) -> str:
    return (ip or "")[:_IP_MAX_LENGTH]


# Sign-up, login, password reset --------------------------------------------------------------------


def register_user(email: str, password: str, name: str, ip: str | None) -> User:
    """At most SIGNUP_IP_LIMIT accounts created per IP."""
    email, name = normalise_email(email), (name or "").strip()
    _refuse_too_long(email=email, name=name)
    errors = {}
    if not _EMAIL.match(email):
        errors["email"] = "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr."
    elif db.session.scalar(select(User.id).where(User.email == email)) is not None:
        errors["email"] = "Un compte existe déjà avec cette adresse e-mail."
    if not name:
        errors["name"] = "Indiquez votre nom."
    if error := _password_error(password):
        errors["password"] = error
    if errors:
        raise FormErrors(errors)
    _throttle("signup", email, _client_ip(ip), _SIGNUP_LIMITS)
    user = User(email=email, name=name, password_hash=hash_password(password), created_at=utcnow(), is_active=True)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # the same e-mail signed up concurrently
        db.session.rollback()
        raise FormErrors({"email": "Un compte existe déjà avec cette adresse e-mail."}) from None
    return user


def authenticate(email: str, password: str, ip: str | None) -> User:
    """The user for these credentials. At most LOGIN_LIMIT tries per e-mail + IP, and tries over at
    most LOGIN_SPRAY_LIMIT distinct e-mails per IP (password spraying). A successful login clears
    the tries of that e-mail + IP: what is counted are failures."""
    email, ip = normalise_email(email), _client_ip(ip)
    _refuse_too_long(email=email)
    _throttle("login", email, ip, _LOGIN_LIMITS)
    user = db.session.scalar(select(User).where(User.email == email))
    # Unknown accounts are checked against a dummy hash: same time as a wrong password.
    valid = verify_password(user.password_hash if user is not None else None, password or "")
    if not valid or not user.is_active:
        raise FormErrors({"form": "Adresse e-mail ou mot de passe incorrect."})
    db.session.execute(delete(RateLimitedAttempt).where(
        RateLimitedAttempt.action == "login", RateLimitedAttempt.email == email, RateLimitedAttempt.ip == ip
    ))
    db.session.commit()
    return user


def send_password_reset(email: str, ip: str | None, reset_url: Callable[[str], str]) -> None:
    """Mail a reset link if the account exists; says nothing either way (no account probing): the mail
    leaves after the response, so neither the answer nor its timing depends on the account. At most
    RESET_EMAIL_LIMIT requests per e-mail typed (whether an account has it or not) and RESET_IP_LIMIT per IP."""
    email = normalise_email(email)
    _refuse_too_long(email=email)
    _throttle("reset", email, _client_ip(ip), _RESET_LIMITS)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        return
    send_mail_after_response(
        user.email,
        "Réinitialisation de votre mot de passe",
        f"Bonjour {user.name},\n\nPour choisir un nouveau mot de passe, ouvrez ce lien (valable une heure, "
        f"une seule fois) :\n{reset_url(make_reset_token(user))}\n\n"
        "Si vous n'avez rien demandé, ignorez ce message.\n",
    )


def reset_password(token: str, password: str) -> User:
    """Also ends every signed-in session of the account (someone else may hold one)."""
    user = user_for_reset_token(token)
    if user is None:
        raise FormErrors({"form": INVALID_RESET_LINK})
    if error := _password_error(password):
        raise FormErrors({"password": error})
    user.password_hash = hash_password(password)
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.session.execute(delete(RateLimitedAttempt).where(
        RateLimitedAttempt.action == "login", RateLimitedAttempt.email == user.email
    ))
    db.session.commit()
    return user


# Memberships -------------------------------------------------------------------------------------


def _locked_collectivite(collectivite_id: int) -> Collectivite:
    """Row lock (PostgreSQL) so that "first member" and "last admin" checks don't race."""
    return db.get_or_404(Collectivite, collectivite_id, with_for_update=True)


def _admin_count(collectivite_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(Membership.collectivite_id == collectivite_id, Membership.role == "admin")
    )


def _membership(collectivite_id: int, user_id: int) -> Membership | None:
    return db.session.get(Membership, (user_id, collectivite_id))


def _add_member(user_id: int, collectivite_id: int, role: str) -> Membership:
    membership = Membership(user_id=user_id, collectivite_id=collectivite_id, role=role, created_at=utcnow())
    db.session.add(membership)
    return membership


def request_to_join(user: User, collectivite_id: int) -> str:
    """Returns "admin" for the first member (admin at once), "member" if already one, else "pending"."""
    _locked_collectivite(collectivite_id)
    if _membership(collectivite_id, user.id) is not None:
        return "member"
    if db.session.scalar(select(func.count()).where(Membership.collectivite_id == collectivite_id)) == 0:
        _add_member(user.id, collectivite_id, "admin")
        db.session.commit()
        return "admin"
    if not _has_pending_request(user.id, collectivite_id):
        db.session.add(
            JoinRequest(user_id=user.id, collectivite_id=collectivite_id, status="pending", created_at=utcnow())
        )
    db.session.commit()
    return "pending"


def _has_pending_request(user_id: int, collectivite_id: int) -> bool:
    return db.session.scalar(
        select(JoinRequest.id).where(
            JoinRequest.user_id == user_id,
            JoinRequest.collectivite_id == collectivite_id,
            JoinRequest.status == "pending",
        )
    ) is not None


def join_state(user: User, collectivite_id: int) -> dict | None:
    """For a non-member's "not a member" page: the collectivité and whether their request to join is
    pending; None when there is no such collectivité."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        return None
    return {"collectivite": collectivite, "pending": _has_pending_request(user.id, collectivite_id)}


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise FormErrors({"role": "Choisissez un rôle : administration, édition ou lecture."})


def decide_join_request(
    collectivite_id: int, request_id: int, decided_by: User, accept: bool, role: str = "lecture"
) -> None:
    _check_role(role)
    # Conditional update: of two admins deciding at once, only one changes the row.
    decided = db.session.execute(
        update(JoinRequest)
        .where(JoinRequest.id == request_id, JoinRequest.collectivite_id == collectivite_id,
               JoinRequest.status == "pending")
        .values(status="accepted" if accept else "refused", decided_at=utcnow(), decided_by_id=decided_by.id)
        .returning(JoinRequest.user_id)
    ).scalar_one_or_none()
    if decided is None:
        db.session.rollback()
        raise FormErrors({"form": "Cette demande a déjà été traitée."})
    if accept and _membership(collectivite_id, decided) is None:
        _add_member(decided, collectivite_id, role)
    _commit_membership()


def _commit_membership() -> None:
    try:
        db.session.commit()
    except IntegrityError:  # the same membership was created concurrently
        db.session.rollback()
        raise FormErrors({"form": "Cette personne est déjà membre de la collectivité."}) from None


def _member_or_error(collectivite_id: int, user_id: int) -> Membership:
    _locked_collectivite(collectivite_id)
    membership = _membership(collectivite_id, user_id)
    if membership is None:
        raise FormErrors({"form": "Cette personne n'est pas membre de la collectivité."})
    return membership


def _keep_one_admin(membership: Membership) -> None:
    if membership.role == "admin" and _admin_count(membership.collectivite_id) <= 1:
        raise FormErrors({"form": "La collectivité doit garder au moins un administrateur."})


def change_role(collectivite_id: int, user_id: int, role: str) -> None:
    _check_role(role)
    membership = _member_or_error(collectivite_id, user_id)
    if role != "admin":
        _keep_one_admin(membership)
    membership.role = role
    db.session.commit()


def remove_member(collectivite_id: int, user_id: int) -> None:
    membership = _member_or_error(collectivite_id, user_id)
    _keep_one_admin(membership)
    db.session.delete(membership)
    db.session.commit()


def create_invitation(collectivite_id: int, role: str, created_by: User) -> str:
    """A new single-use invitation; returns the token (only its hash is stored)."""
    _check_role(role)
    token, now = secrets.token_urlsafe(32), utcnow()
    db.session.add(
        Invitation(
            collectivite_id=collectivite_id,
            role=role,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
            created_by_id=created_by.id,
        )
    )
    db.session.commit()
    return token


def valid_invitation(token: str) -> Invitation | None:
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= utcnow():
        return None
    return invitation


def accept_invitation(token: str, user: User) -> int:
    """Make `user` a member with the invitation's role; returns the collectivité id."""
    invitation = valid_invitation(token)
    if invitation is None:
        raise FormErrors({"form": INVALID_INVITATION})
    collectivite_id, role = invitation.collectivite_id, invitation.role
    present_invitation_token(token)  # PostgreSQL's own check of the membership (row-level security)
    _locked_collectivite(collectivite_id)
    if _membership(collectivite_id, user.id) is not None:
        raise FormErrors({"form": "Vous êtes déjà membre de cette collectivité."})
    # Conditional update: a link used concurrently (or since it was read) changes no row.
    now = utcnow()
    used = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None), Invitation.expires_at > now)
        .values(used_at=now, used_by_id=user.id)
    ).rowcount
    if used != 1:
        db.session.rollback()
        raise FormErrors({"form": INVALID_INVITATION})
    _add_member(user.id, collectivite_id, role)
    _commit_membership()
    return collectivite_id


def members_overview(collectivite_id: int, for_admin: bool) -> dict:
    """What the members page shows: the collectivité and its members; for an admin also the pending
    requests and open invitations (other members never get them, not even hidden)."""
    collectivite = db.get_or_404(Collectivite, collectivite_id)
    members = db.session.execute(
        select(Membership, User).join(User, User.id == Membership.user_id)
        .where(Membership.collectivite_id == collectivite_id).order_by(User.name)
    ).all()
    if not for_admin:
        return {"collectivite": collectivite, "members": members, "requests": [], "invitations": []}
    requests = db.session.execute(
        select(JoinRequest, User).join(User, User.id == JoinRequest.user_id)
        .where(JoinRequest.collectivite_id == collectivite_id, JoinRequest.status == "pending")
        .order_by(JoinRequest.created_at)
    ).all()
    invitations = db.session.scalars(
        select(Invitation).where(
            Invitation.collectivite_id == collectivite_id,
            Invitation.used_at.is_(None),
            Invitation.expires_at > utcnow(),
        ).order_by(Invitation.created_at)
    ).all()
    return {
        "collectivite": collectivite,
        "members": members,
        "requests": requests,
        "invitations": invitations,
    }


def user_collectivites(user: User) -> dict:
    """For "Mes collectivités": memberships with roles, and requests still pending."""
    memberships = db.session.execute(
        select(Collectivite, Membership.role).join(Membership, Membership.collectivite_id == Collectivite.id)
        .where(Membership.user_id == user.id).order_by(Collectivite.nom)
    ).all()
    pending = db.session.scalars(
        select(Collectivite).join(JoinRequest, JoinRequest.collectivite_id == Collectivite.id)
        .where(JoinRequest.user_id == user.id, JoinRequest.status == "pending").order_by(Collectivite.nom)
    ).all()
    return {"memberships": memberships, "pending": pending}
