"""The demandes de labellisation and the labellisations of a collectivité as recorded: the reads
other areas need (the statut lock during an audit, the public page, the open data) without the
audit's writes (app.services.audits)."""
from sqlalchemy import select

from app.extensions import db
from app.models import Labellisation, LabellisationDemande
from app.services.suivi import InvalidEdit

NON_DEMANDEE = "non_demandee"
DEMANDE_ENVOYEE = "demande_envoyee"
AUDIT_EN_COURS = "audit_en_cours"
AUDIT_VALIDE = "audit_valide"
STATUT_LABELS = {
    NON_DEMANDEE: "Non demandée",
    DEMANDE_ENVOYEE: "Demande envoyée",
    AUDIT_EN_COURS: "Audit en cours",
    AUDIT_VALIDE: "Audit validé",
}
AUDIT_LOCK_MESSAGE = ("Audit en cours : les statuts de ce référentiel sont verrouillés jusqu'à la validation de "
                      "l'audit ; l'auditeur consigne son avis mesure par mesure.")


def current_demande(collectivite_id: int, referentiel_id: str) -> LabellisationDemande | None:
    """The latest demande of the collectivité on the référentiel (None: never asked)."""
    return db.session.scalars(
        select(LabellisationDemande)
        .where(LabellisationDemande.collectivite_id == collectivite_id,
               LabellisationDemande.referentiel_id == referentiel_id)
        .order_by(LabellisationDemande.id.desc()).limit(1)
    ).first()


def statut_of(demande: LabellisationDemande | None) -> str:
    return NON_DEMANDEE if demande is None else demande.statut


class AuditLocked(InvalidEdit):
    """A statut edit refused while an audit of the référentiel runs."""


def audit_running(collectivite_id: int, referentiel_id: str) -> bool:
    """Whether an audit of the référentiel runs (the members' statuts are locked meanwhile)."""
    return db.session.scalar(
        select(LabellisationDemande.id).where(
            LabellisationDemande.collectivite_id == collectivite_id,
            LabellisationDemande.referentiel_id == referentiel_id,
            LabellisationDemande.statut == AUDIT_EN_COURS).limit(1)) is not None


def check_audit_lock(collectivite_id: int, referentiel_id: str) -> None:
    """AuditLocked while an audit of the référentiel runs."""
    if audit_running(collectivite_id, referentiel_id):
        raise AuditLocked(AUDIT_LOCK_MESSAGE)


def labellisations_of(collectivite_id: int, referentiel_id: str | None = None) -> list[Labellisation]:
    """The labellisations obtained, latest first (all référentiels when `referentiel_id` is None)."""
    query = select(Labellisation).where(Labellisation.collectivite_id == collectivite_id)
    if referentiel_id is not None:
        query = query.where(Labellisation.referentiel_id == referentiel_id)
    return list(db.session.scalars(query.order_by(Labellisation.obtenue_le.desc(), Labellisation.id.desc())))


def obtained_etoiles(collectivite_id: int, referentiel_id: str) -> int | None:
    """The highest star obtained on the référentiel, None when none."""
    return max((lab.etoiles for lab in labellisations_of(collectivite_id, referentiel_id)), default=None)
