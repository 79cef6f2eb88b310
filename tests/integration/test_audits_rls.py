"""PostgreSQL's own check of the labellisation's writes (migration 0011_audits): auditeurs are named
by platform administrators only; the auditeur's work is written by an auditeur of the collectivité
only, and an auditeur who is no member may add the audit's snapshots, report and history there."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from app.extensions import db
from app.rls import act_as, system_work
from app.services import audits
from tests.factories import add_member, make_collectivite, make_user

pytestmark = pytest.mark.postgres
REFUSED = "row-level security"
INSERT_AUDITEUR = text("INSERT INTO auditeur (user_id, collectivite_id, referentiel_id, created_at) "
                       "VALUES (:user_id, :collectivite_id, 'eci', now())")
INSERT_HISTORY = text("INSERT INTO history_entry (collectivite_id, user_id, at, kind, key) "
                      "VALUES (:collectivite_id, :user_id, now(), 'labellisation', 'eci')")
INSERT_DEMANDE = text("INSERT INTO labellisation_demande (collectivite_id, referentiel_id, sujet, statut, envoyee_le) "
                      "VALUES (:collectivite_id, 'eci', 'cot', 'demande_envoyee', now()) RETURNING id")
INSERT_MESURE = text("INSERT INTO audit_mesure (collectivite_id, demande_id, action_id, statut, avis, a_discuter, modified_at) "
                     "VALUES (:collectivite_id, :demande_id, 'eci_1', 'audite', '', false, now())")


@pytest.fixture
def world(app_context):
    commune = make_collectivite()
    admin, auditeur = make_user(), make_user()
    add_member(admin, commune, "admin")
    with system_work():
        db.session.execute(INSERT_AUDITEUR, {"user_id": auditeur.id, "collectivite_id": commune.id})
        db.session.commit()
    return commune, admin, auditeur


def _refused(statement, values) -> None:
    with pytest.raises(ProgrammingError, match=REFUSED):
        db.session.execute(statement, values)
        db.session.commit()
    db.session.rollback()


def test_only_a_platform_administrator_names_auditeurs(world):
    commune, admin, _ = world
    act_as(admin)  # the collectivité's own admin is not enough
    _refused(INSERT_AUDITEUR, {"user_id": admin.id, "collectivite_id": commune.id})
    with system_work():
        audits.set_platform_admin(admin.email, True)
    act_as(admin)
    db.session.execute(INSERT_AUDITEUR, {"user_id": admin.id, "collectivite_id": commune.id})
    db.session.commit()


def test_the_auditeurs_work_is_written_by_an_auditeur_of_the_collectivite(world):
    commune, admin, auditeur = world
    act_as(admin)
    demande_id = db.session.execute(INSERT_DEMANDE, {"collectivite_id": commune.id}).scalar_one()
    db.session.commit()
    values = {"collectivite_id": commune.id, "demande_id": demande_id}
    _refused(INSERT_MESURE, values)  # a member, not an auditeur
    act_as(auditeur)
    db.session.execute(INSERT_MESURE, values)
    db.session.execute(INSERT_HISTORY, {"collectivite_id": commune.id, "user_id": auditeur.id})
    db.session.commit()
    elsewhere = make_collectivite()
    _refused(INSERT_HISTORY, {"collectivite_id": elsewhere.id, "user_id": auditeur.id})
    _refused(INSERT_DEMANDE, {"collectivite_id": commune.id})  # sending a demande is the members' part


def test_a_member_cannot_move_the_demande_along(world):
    commune, admin, auditeur = world
    act_as(admin)
    demande_id = db.session.execute(INSERT_DEMANDE, {"collectivite_id": commune.id}).scalar_one()
    db.session.commit()
    moved = db.session.execute(text("UPDATE labellisation_demande SET statut = 'audit_valide' WHERE id = :id"),
                               {"id": demande_id})
    db.session.commit()
    assert moved.rowcount == 0
    act_as(auditeur)
    moved = db.session.execute(text("UPDATE labellisation_demande SET statut = 'audit_en_cours' WHERE id = :id"),
                               {"id": demande_id})
    db.session.commit()
    assert moved.rowcount == 1
