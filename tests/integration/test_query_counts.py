"""How many SQL statements the hot paths run: the statut POST and the re-score job read each thing
once (role, personnalisation, content version, stored scores). Counts, not timings."""
import threading
from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db
from app.models import Membership
from app.policy import can
from app.rls import system_work
from app.services import evaluation, statuts, suivi
from tests.factories import add_member, login
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

# + the history merge lookup (same item, same person, last hour), + whether an audit of the
# référentiel runs (statuts locked meanwhile, app.services.labellisation_history.audit_lock)
STATUT_POST_MAX_STATEMENTS = 11
RESCORE_MAX_STATEMENTS = 6  # + the directory's score summary upsert (services.partage)


@contextmanager
def statements_of_this_thread():
    """The SQL statements run by the current thread meanwhile (the in-process job thread's left out)."""
    statements, thread = [], threading.current_thread()

    def record(_connection, _cursor, statement, *_args):
        if threading.current_thread() is thread:
            statements.append(" ".join(statement.split()).lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _data_statements(statements) -> list[str]:
    """The statements but PostgreSQL's set_config naming whom row-level security checks the
    writes for (app/rls.py): one at most, before the first write of the transaction."""
    identity = [s for s in statements if s.startswith("select set_config(")]
    assert len(identity) <= 1, "\n".join(statements)
    return [s for s in statements if s not in identity]


def _reading(statements, table: str) -> list[str]:
    return [s for s in statements if s.startswith("select") and (f"from {table} " in s + " " or f"join {table} " in s)]


def test_the_statut_post_reads_role_personnalisation_and_content_version_once(client, tiny_content):
    user, collectivite = make_editor()
    cid = collectivite.id
    login(client, user)
    client.get(f"/collectivites/{cid}/referentiels/eci")  # scores computed once for all
    run_jobs()
    with statements_of_this_thread() as statements:
        response = client.post(f"/collectivites/{cid}/referentiels/eci/actions/eci_1.1.1/statut",
                               data={"statut": "fait"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and '<option value="fait" selected>' in response.get_data(as_text=True)
    assert len(_reading(statements, "membership")) == 1
    assert len(_reading(statements, "reponse")) == 1
    assert len(_reading(statements, "content_version")) == 1
    assert len(_reading(statements, "action_statut")) == 1  # the control's statuts and the edit's old value together
    assert len(_data_statements(statements)) <= STATUT_POST_MAX_STATEMENTS, "\n".join(statements)


def test_a_rescore_reads_the_content_version_once_and_writes_the_scores_in_one_update(app_context, tiny_content):
    user, collectivite = make_editor()
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
    run_jobs()
    statuts.set_statut(user, collectivite.id, "eci_1.1.2", "programme")
    run_jobs()
    suivi.bump_edit_revision(collectivite.id, "eci")
    db.session.commit()
    cid = collectivite.id  # reloads the expired object: not the re-score's statement
    with statements_of_this_thread() as statements:
        update = evaluation.rescore(cid, "eci")
        db.session.commit()
    assert update is not None and update.totals["point_programme"] == 5
    assert len(_reading(statements, "content_version")) == 1
    assert len([s for s in statements if s.startswith("update score_state")]) == 1
    assert len(_data_statements(statements)) <= RESCORE_MAX_STATEMENTS, "\n".join(statements)


def test_the_role_is_read_once_per_session_and_forgotten_when_a_membership_changes(app_context, tiny_content):
    user, collectivite = make_editor()
    with statements_of_this_thread() as statements:
        assert can(user, "edit", collectivite.id) and can(user, "read", collectivite.id)
        assert can(user, "edit", collectivite.id)
    assert len(_reading(statements, "membership")) == 1
    with system_work():  # an admin's changes, in short
        db.session.get(Membership, (user.id, collectivite.id)).role = "lecture"
        db.session.commit()
        assert not can(user, "edit", collectivite.id)
        db.session.delete(db.session.get(Membership, (user.id, collectivite.id)))
        db.session.commit()
    assert not can(user, "read", collectivite.id)
    add_member(user, collectivite, "admin")
    assert can(user, "admin", collectivite.id)
