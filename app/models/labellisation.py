"""Labellisation tables: the auditeurs a platform administrator names (per collectivité and
référentiel), the demandes and their audits (one row: a demande runs through demande_envoyee →
audit_en_cours → audit_valide), the auditeur's work per mesure, and the labellisations obtained.

Every row carries collectivite_id, so the row-level security rules of 0011_audits key on it.
"""
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


def _collectivite_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)


def _user_fk() -> Mapped[int | None]:
    return mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class Auditeur(db.Model):
    """A user named auditeur of a collectivité on one référentiel by a platform administrator."""

    __tablename__ = "auditeur"
    __table_args__ = (UniqueConstraint("user_id", "collectivite_id", "referentiel_id", name="uq_auditeur"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    referentiel_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class LabellisationDemande(db.Model):
    """A demande sent by the collectivité and the audit that follows it. statut: demande_envoyee,
    audit_en_cours (from audit_debut), audit_valide (from audit_fin). The snapshots are the scores
    frozen when the audit started and when it was validated; the rapport is a preuve file."""

    __tablename__ = "labellisation_demande"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    referentiel_id: Mapped[str] = mapped_column(String(16))
    sujet: Mapped[str] = mapped_column(String(32))  # labellisation | cot | premiere_etoile
    etoiles: Mapped[int | None] = mapped_column(Integer)
    statut: Mapped[str] = mapped_column(String(32))
    envoyee_le: Mapped[datetime] = mapped_column(DateTime)
    demandeur_id: Mapped[int | None] = _user_fk()
    audit_debut: Mapped[datetime | None] = mapped_column(DateTime)
    audit_fin: Mapped[datetime | None] = mapped_column(DateTime)
    pre_audit_id: Mapped[int | None] = mapped_column(ForeignKey("score_snapshot.id", ondelete="SET NULL"))
    post_audit_id: Mapped[int | None] = mapped_column(ForeignKey("score_snapshot.id", ondelete="SET NULL"))
    rapport_id: Mapped[int | None] = mapped_column(ForeignKey("preuve_fichier.id", ondelete="SET NULL"))


class AuditMesure(db.Model):
    """What the auditeur records on one mesure during an audit."""

    __tablename__ = "audit_mesure"
    __table_args__ = (UniqueConstraint("demande_id", "action_id", name="uq_audit_mesure"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    demande_id: Mapped[int] = mapped_column(ForeignKey("labellisation_demande.id", ondelete="CASCADE"), index=True)
    action_id: Mapped[str] = mapped_column(String(64))
    statut: Mapped[str] = mapped_column(String(16))  # non_audite | en_cours | audite
    avis: Mapped[str] = mapped_column(Text)
    a_discuter: Mapped[bool] = mapped_column(Boolean)
    modified_by_id: Mapped[int | None] = _user_fk()
    modified_at: Mapped[datetime] = mapped_column(DateTime)


class Labellisation(db.Model):
    """A labellisation obtained: the star, the day, the scores (% of the potentiel) of the audit."""

    __tablename__ = "labellisation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    referentiel_id: Mapped[str] = mapped_column(String(16))
    etoiles: Mapped[int] = mapped_column(Integer)
    obtenue_le: Mapped[date] = mapped_column(Date)
    score_realise: Mapped[float] = mapped_column(Float)
    score_programme: Mapped[float] = mapped_column(Float)
    demande_id: Mapped[int | None] = mapped_column(
        ForeignKey("labellisation_demande.id", ondelete="SET NULL"), unique=True)
