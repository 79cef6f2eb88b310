"""Access policy: THE one place deciding who may read a collectivité's non-public data and who may write.

Permissions and the roles that grant them:
    "read"   lecture, edition, admin   (pages, fragments, websocket, preuve files of the collectivité)
    "edit"   edition, admin            (statuts, précisions, preuves, réponses)
    "admin"  admin                     (members, join requests, invitations)
An auditeur of the collectivité (named by a platform administrator, app.services.audits) may
"read" it too, whatever their role; their audit's writes are checked by that service.

Routes use `@require_permission("edit")` (it reads `collectivite_id` from the view args) or, when
the collectivité comes from another object, `check_permission("read", collectivite_id)`.
Refusals: signed-in user -> 403 (NotMember when they have no role at all: its page offers to
request access); anonymous -> 401 for htmx and websocket requests, otherwise a redirect to the
login page.

A role is read once per database session (a request, a job, one websocket rights check) and
cached in the session's `info`; any flush writing a Membership drops the cache.

A member removed, or given another role, loses their open websockets on that collectivité as
soon as the change is committed (a revocation published through the live hub, see app/live.py).
On PostgreSQL the database checks every write a second time, on its own (app/rls.py).
"""
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import Forbidden

from app.extensions import db
from app.live import current_hub
from app.models import Auditeur, Membership

ROLES_GRANTING = {
    "read": frozenset({"lecture", "edition", "admin"}),
    "edit": frozenset({"edition", "admin"}),
    "admin": frozenset({"admin"}),
}


ROLE_CACHE = "policy_roles"
# (user id, collectivité id) whose role this transaction changed or removed; revoked at commit.
ROLES_CHANGED = "policy_roles_changed"


class NotMember(Forbidden):
    """403 for a signed-in user who is not a member of the collectivité."""

    def __init__(self, collectivite_id: int):
        super().__init__()
        self.collectivite_id = collectivite_id


def stored_user_id(user) -> int | None:
    """The id of a stored user, None for anonymous users. From the identity key, not user.id:
    reading an attribute would reload a user expired by a commit."""
    state = inspect(user, raiseerr=False) if user is not None else None
    return None if state is None or state.identity is None else state.identity[0]


def role_of(user, collectivite_id: int) -> str | None:
    """The user's role in the collectivité, None for anonymous users and non-members."""
    user_id = stored_user_id(user)
    if user_id is None:
        return None
    key = (user_id, collectivite_id)
    roles = db.session.info.setdefault(ROLE_CACHE, {})
    if key not in roles:
        roles[key] = db.session.scalar(
            select(Membership.role).where(Membership.user_id == key[0], Membership.collectivite_id == collectivite_id)
        ) if user.is_authenticated else None
    return roles[key]


@event.listens_for(Session, "after_flush")
def _track_membership_changes(session, _flush_context) -> None:
    if any(isinstance(row, Membership) for row in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(ROLE_CACHE, None)
    changed = {
        (row.user_id, row.collectivite_id)
        for row in (*session.dirty, *session.deleted)
        if isinstance(row, Membership) and (row in session.deleted or inspect(row).attrs.role.history.has_changes())
    }
    if changed:
        session.info.setdefault(ROLES_CHANGED, set()).update(changed)


@event.listens_for(Session, "after_commit")
def _revoke_open_sockets(session) -> None:
    for user_id, collectivite_id in session.info.pop(ROLES_CHANGED, ()):
        current_hub().revoke(collectivite_id, user_id)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_changes(session) -> None:
    session.info.pop(ROLES_CHANGED, None)


def can(user, permission: str, collectivite_id: int) -> bool:
    """True when `user` holds `permission` ("read", "edit", "admin") on the collectivité."""
    granting = ROLES_GRANTING[permission]  # an unknown permission fails before any query
    role = role_of(user, collectivite_id)
    return role in granting or (permission == "read" and role is None and audits(user, collectivite_id))


def audits(user, collectivite_id: int, referentiel_id: str | None = None) -> bool:
    """True when `user` is an auditeur of the collectivité (on `referentiel_id`, or on any)."""
    user_id = stored_user_id(user)
    if user_id is None or not user.is_authenticated:
        return False
    query = select(Auditeur.id).where(Auditeur.user_id == user_id, Auditeur.collectivite_id == collectivite_id)
    if referentiel_id is not None:
        query = query.where(Auditeur.referentiel_id == referentiel_id)
    return db.session.scalar(query.limit(1)) is not None


def wants_status_code() -> bool:
    """htmx and websocket requests get a bare 401 instead of a redirect they could not follow."""
    return request.headers.get("HX-Request") == "true" or request.headers.get("Upgrade", "").lower() == "websocket"


def refuse_anonymous():
    if wants_status_code():
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def check_permission(permission: str, collectivite_id: int) -> None:
    """Abort the request unless the current user holds `permission` on the collectivité."""
    if can(current_user, permission, collectivite_id):
        return
    if not current_user.is_authenticated:
        abort(refuse_anonymous())
    if role_of(current_user, collectivite_id) is None:
        raise NotMember(collectivite_id)
    abort(403)


def require_permission(permission: str):
    """View decorator: `collectivite_id` comes from the URL, see check_permission."""
    if permission not in ROLES_GRANTING:
        raise ValueError(f"permission inconnue : {permission}")

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            check_permission(permission, kwargs["collectivite_id"])
            return view(*args, **kwargs)

        return wrapper

    return decorator


def require_auditeur(view):
    """View decorator: the signed-in user must be an auditeur of the collectivité on the référentiel
    of the URL (`collectivite_id`, `referentiel_id`)."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            abort(refuse_anonymous())
        if not audits(current_user, kwargs["collectivite_id"], kwargs["referentiel_id"]):
            abort(403, "Action réservée à l'auditeur de cette collectivité sur ce référentiel.")
        return view(*args, **kwargs)

    return wrapper


def require_platform_admin(view):
    """View decorator: the signed-in user must be a platform administrator."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            abort(refuse_anonymous())
        if not current_user.is_platform_admin:
            abort(403, "Page réservée aux administrateurs de la plateforme.")
        return view(*args, **kwargs)

    return wrapper
