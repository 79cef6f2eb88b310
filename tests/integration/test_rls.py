"""PostgreSQL's own check of writes (migration 0004_rls, app/rls.py): a write that gets past
app/policy.py, or goes around it, is still refused unless the transaction's user has the role."""
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import ActionStatut, Invitation, Membership, ScoreHistory
from app.persistence import utcnow
from app.policy import ROLES_GRANTING
from app.rls import act_as, present_invitation_token, system_work
from app.services import accounts
from tests.factories import add_member, login, make_collectivite, make_user
from tests.suivi_content import tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.postgres
REFUSED = "row-level security"
INSERT_STATUT = text(
    "INSERT INTO action_statut (collectivite_id, referentiel_id, action_id, avancement, concerne, modified_at) "
    "VALUES (:collectivite_id, 'eci', :action_id, 'fait', true, now())"
)


@pytest.fixture
def commune(app_context):
    """A collectivité with one member per role, and a user who is not a member."""
    commune = make_collectivite()
    users = {"outsider": make_user()}
    for role in ("lecture", "edition", "admin"):
        users[role] = make_user()
        add_member(users[role], commune, role)
    return commune, users


def _insert_statut(commune, action_id: str = "eci_1.1.1", commit: bool = True) -> None:
    db.session.execute(INSERT_STATUT, {"collectivite_id": commune.id, "action_id": action_id})
    if commit:
        db.session.commit()


def _statuts(commune) -> list[str]:
    return db.session.scalars(
        select(ActionStatut.avancement).where(ActionStatut.collectivite_id == commune.id).order_by(ActionStatut.action_id)
    ).all()


def test_the_app_connects_as_a_role_subject_to_row_level_security(app_context):
    role = db.session.execute(
        text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).scalar_one()
    owner = db.session.scalar(text("SELECT pg_has_role(tableowner, 'MEMBER') FROM pg_tables WHERE tablename = 'action_statut'"))
    assert role is False and owner is False


@pytest.mark.parametrize("who", ["lecture", "outsider", None])
def test_a_raw_insert_is_refused_unless_the_user_may_edit(commune, who):
    commune, users = commune
    act_as(users[who] if who else None)
    with pytest.raises(ProgrammingError, match=REFUSED):
        _insert_statut(commune)
    db.session.rollback()
    assert _statuts(commune) == []


@pytest.mark.parametrize("who", ["edition", "admin"])
def test_the_same_insert_by_an_editor_is_saved(commune, who):
    commune, users = commune
    act_as(users[who])
    _insert_statut(commune)
    assert _statuts(commune) == ["fait"]


def test_an_editor_of_another_collectivite_is_refused(commune):
    commune, users = commune
    elsewhere = make_collectivite()
    add_member(users["outsider"], elsewhere, "edition")
    act_as(users["outsider"])
    with pytest.raises(ProgrammingError, match=REFUSED):
        _insert_statut(commune)


def test_system_work_may_write_anywhere(commune):
    commune, _ = commune
    with system_work():
        _insert_statut(commune)
    assert _statuts(commune) == ["fait"]
    with pytest.raises(ProgrammingError, match=REFUSED):  # over with the block, within the session
        _insert_statut(commune, "eci_1.1.2")


def test_updates_and_deletes_of_a_reader_change_nothing(commune):
    commune, users = commune
    act_as(users["edition"])
    _insert_statut(commune)
    act_as(users["lecture"])
    assert _statuts(commune) == ["fait"]  # reads stay open: app/policy.py checks them
    updated = db.session.execute(text("UPDATE action_statut SET avancement = 'pas_fait' WHERE collectivite_id = :id"),
                                 {"id": commune.id})
    deleted = db.session.execute(text("DELETE FROM action_statut WHERE collectivite_id = :id"), {"id": commune.id})
    db.session.commit()
    assert (updated.rowcount, deleted.rowcount) == (0, 0)
    statut = db.session.scalar(select(ActionStatut))
    statut.avancement = "pas_fait"
    with pytest.raises(StaleDataError):  # the ORM says so: 0 rows matched
        db.session.commit()
    db.session.rollback()
    assert _statuts(commune) == ["fait"]


def test_a_bug_in_the_policy_still_meets_postgresql(client, commune, tiny_content, monkeypatch):
    """app/policy.py wrongly lets readers edit: the statut POST goes through the app and is
    refused by PostgreSQL, for the signed-in user of the request."""
    commune, users = commune
    monkeypatch.setitem(ROLES_GRANTING, "edit", frozenset({"lecture", "edition", "admin"}))
    login(client, users["lecture"])
    with pytest.raises(ProgrammingError, match=REFUSED):
        client.post(f"/collectivites/{commune.id}/referentiels/eci/actions/eci_1.1.1/statut", data={"statut": "fait"},
                    headers={"HX-Request": "true"})
    login(client, users["edition"])
    response = client.post(f"/collectivites/{commune.id}/referentiels/eci/actions/eci_1.1.1/statut",
                           data={"statut": "fait"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and _statuts(commune) == ["fait"]


def test_scores_history_is_written_by_re_scores_only(commune):
    commune, users = commune
    row = {"collectivite_id": commune.id, "referentiel_id": "eci", "day": utcnow().date(), "point_fait": 1.0,
           "point_programme": 0.0, "point_pas_fait": 0.0, "point_non_renseigne": 0.0, "point_potentiel": 1.0,
           "point_referentiel": 1.0}
    act_as(users["admin"])
    with pytest.raises(ProgrammingError, match=REFUSED):
        db.session.execute(insert(ScoreHistory).values(row))
    db.session.rollback()
    with system_work():
        db.session.execute(insert(ScoreHistory).values(row))
        db.session.commit()


def _add_membership(user, collectivite, role: str) -> None:
    db.session.add(Membership(user_id=user.id, collectivite_id=collectivite.id, role=role, created_at=utcnow()))
    db.session.commit()


def test_nobody_makes_himself_a_member_but_the_first_one(commune):
    commune, users = commune
    act_as(users["outsider"])
    with pytest.raises(ProgrammingError, match=REFUSED):
        _add_membership(users["outsider"], commune, "admin")
    db.session.rollback()
    act_as(users["edition"])
    with pytest.raises(ProgrammingError, match=REFUSED):  # only admins add members
        _add_membership(users["outsider"], commune, "lecture")
    db.session.rollback()
    empty = make_collectivite()
    act_as(users["outsider"])
    _add_membership(users["outsider"], empty, "admin")  # "the first member becomes admin"
    act_as(users["admin"])
    _add_membership(users["outsider"], commune, "lecture")


def test_joining_by_invitation_needs_its_token_and_keeps_its_role(commune):
    commune, users = commune
    act_as(users["admin"])
    token = accounts.create_invitation(commune.id, "lecture", users["admin"])
    guest = make_user()
    guest_id = guest.id
    act_as(guest)
    invitation = db.session.scalar(select(Invitation))
    invitation.used_at, invitation.used_by_id = utcnow(), guest_id
    with pytest.raises(StaleDataError):  # without the token the invitation is not his to use
        db.session.commit()
    db.session.rollback()
    present_invitation_token(token)
    invitation.role = "admin"
    invitation.used_at, invitation.used_by_id = utcnow(), guest_id
    with pytest.raises(ProgrammingError, match="only changes by being used"):
        db.session.commit()
    db.session.rollback()
    assert accounts.accept_invitation(token, guest) == commune.id
    assert db.session.get(Membership, (guest.id, commune.id)).role == "lecture"


def test_a_savepoint_rolled_back_does_not_bring_system_work_back(commune):
    commune, users = commune
    elsewhere = make_collectivite()
    act_as(users["edition"])
    with system_work():
        _insert_statut(elsewhere, commit=False)  # system work: allowed anywhere
        savepoint = db.session.begin_nested()
    _insert_statut(commune, commit=False)  # as the editor: system work switched off in the savepoint
    savepoint.rollback()  # PostgreSQL undoes that switch: system work is on again there
    with pytest.raises(ProgrammingError, match=REFUSED):
        _insert_statut(elsewhere, "eci_1.1.2")
