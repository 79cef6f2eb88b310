"""Row-level security (PostgreSQL): whom the database checks a transaction's writes for.

Migration 0004_rls makes PostgreSQL refuse a write on a collectivité's data unless the transaction
names a user with the right role there (`app.user_id`) or declares system work (`app.system`).
This module sets both with set_config(..., true) (as SET LOCAL: they end with the transaction):
  - in a request, the user is flask-login's signed-in user, and nobody else;
  - outside a request, nobody, unless code acting for a user says so with `act_as(user)`
    (tests, scripts);
  - `system_work()` marks work done for no user: re-scores, CLI commands.
They are sent just before a transaction's first write (again if they change within it): reads
need none (they are checked by app/policy.py), so read-only transactions cost no extra statement.
SQLite has no row-level security: the application check stands alone there.
"""
from contextlib import contextmanager

from flask import g, has_request_context
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app.extensions import db
from app.policy import stored_user_id

_ACTING_USER = "rls_acting_user_id"
_SYSTEM = "rls_system"
_APPLIED = "rls_applied"  # (user id, system) the open transaction carries; None: unknown
_NOTHING = (None, False)
_SET = text("SELECT set_config('app.user_id', :user_id, true), set_config('app.system', :system, true)")


def act_as(user) -> None:
    """Outside a request: this session's later writes are checked for `user` (None: for nobody)."""
    if has_request_context():
        raise RuntimeError("in a request, the database checks writes for the signed-in user only")
    db.session.info[_ACTING_USER] = stored_user_id(user)


@contextmanager
def system_work():
    """Writes inside are system work, allowed on every collectivité: use it only for work that no
    user's input steers (re-scores from stored data, operators' CLI commands)."""
    info = db.session.info
    previous = info.get(_SYSTEM, False)
    info[_SYSTEM] = True
    try:
        yield
    finally:
        info[_SYSTEM] = previous  # a later write in the same transaction switches it off again


def present_invitation_token(token: str) -> None:
    """The invitation this transaction accepts: the policies check its hash against the stored one."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT set_config('app.invitation_token', :token, true)"), {"token": token})


def _wanted(session: Session) -> tuple[int | None, bool]:
    if has_request_context():
        user_id = stored_user_id(g.get("_login_user"))  # flask-login's user, once loaded
    else:
        user_id = session.info.get(_ACTING_USER)
    return user_id, session.info.get(_SYSTEM, False)


def _sync(session: Session) -> None:
    connection = session.connection()  # begins the transaction if needed (after_begin runs first)
    if connection.dialect.name != "postgresql":
        return
    wanted = _wanted(session)
    if session.info.get(_APPLIED) != wanted:
        user_id, system = wanted
        connection.execute(_SET, {"user_id": "" if user_id is None else str(user_id), "system": "on" if system else "off"})
        session.info[_APPLIED] = wanted


@event.listens_for(Session, "after_begin")
def _transaction_begun(session, _transaction, _connection) -> None:
    session.info[_APPLIED] = _NOTHING


@event.listens_for(Session, "after_transaction_end")
def _savepoint_ended(session, transaction) -> None:
    if transaction.nested:  # a savepoint rolled back takes its set_config with it
        session.info[_APPLIED] = None


@event.listens_for(Session, "before_flush")
def _before_flush(session, _flush_context, _instances) -> None:
    _sync(session)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(execute_state) -> None:
    if not execute_state.is_select:
        _sync(execute_state.session)
