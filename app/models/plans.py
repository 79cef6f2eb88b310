"""Plans d'action of a collectivité: a plan, its axes (a tree of any depth), its fiches action.

Every row carries collectivite_id, so one row-level security rule covers all of them. A fiche may
sit in several axes (of several plans) through fiche_axe; none = "fiche non classée". Lists of
names a fiche holds (pilotes, services, partenaires, financeurs, cibles, thématiques) are JSON
lists on the fiche: they are read with it and filtered in Python (a plan holds hundreds of fiches,
not millions). Linked référentiel actions have their own table: the action page reads it back.
"""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


def _collectivite_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)


def _user_fk() -> Mapped[int | None]:
    return mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class Plan(db.Model):
    __tablename__ = "plan"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    nom: Mapped[str] = mapped_column(String(300))
    type: Mapped[str | None] = mapped_column(String(100))  # one of services.plans.PLAN_TYPES
    modified_by_id: Mapped[int | None] = _user_fk()
    modified_at: Mapped[datetime] = mapped_column(DateTime)


class Axe(db.Model):
    """A level of a plan: parent_id None = a top-level axe ("Axe (x)"), else nested."""

    __tablename__ = "plan_axe"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plan_axe.id", ondelete="CASCADE"), index=True)
    nom: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Fiche(db.Model):
    __tablename__ = "fiche"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    titre: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    objectifs: Mapped[str] = mapped_column(Text, default="")
    statut: Mapped[str | None] = mapped_column(String(32))  # one of services.plans.STATUTS
    priorite: Mapped[str | None] = mapped_column(String(16))  # Élevé / Moyen / Bas
    date_debut: Mapped[date | None] = mapped_column(Date)
    date_fin: Mapped[date | None] = mapped_column(Date)
    amelioration_continue: Mapped[bool] = mapped_column(Boolean, default=False)  # "action en continu"
    # [{"user_id": 3}] for a member, [{"nom": "…"}] for a free name
    pilotes: Mapped[list] = mapped_column(JSON, default=list)
    services: Mapped[list] = mapped_column(JSON, default=list)
    partenaires: Mapped[list] = mapped_column(JSON, default=list)
    financeurs: Mapped[list] = mapped_column(JSON, default=list)
    cibles: Mapped[list] = mapped_column(JSON, default=list)
    thematiques: Mapped[list] = mapped_column(JSON, default=list)
    modified_by_id: Mapped[int | None] = _user_fk()
    modified_at: Mapped[datetime] = mapped_column(DateTime)


class FicheAxe(db.Model):
    __tablename__ = "fiche_axe"
    collectivite_id: Mapped[int] = _collectivite_fk()
    fiche_id: Mapped[int] = mapped_column(ForeignKey("fiche.id", ondelete="CASCADE"), primary_key=True)
    axe_id: Mapped[int] = mapped_column(ForeignKey("plan_axe.id", ondelete="CASCADE"), primary_key=True, index=True)


class FicheAction(db.Model):
    """A référentiel action the fiche contributes to ("mesure liée"): keyed on the action id text,
    as the suivi tables, so a content edition dropping the id keeps the link."""

    __tablename__ = "fiche_action"
    collectivite_id: Mapped[int] = _collectivite_fk()
    fiche_id: Mapped[int] = mapped_column(ForeignKey("fiche.id", ondelete="CASCADE"), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class FicheBudget(db.Model):
    """A yearly amount, € HT, of investissement or fonctionnement."""

    __tablename__ = "fiche_budget"
    __table_args__ = (UniqueConstraint("fiche_id", "type", "annee", name="uq_fiche_budget_type_annee"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    fiche_id: Mapped[int] = mapped_column(ForeignKey("fiche.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(16))  # investissement | fonctionnement
    annee: Mapped[int] = mapped_column(Integer)
    montant_ht: Mapped[float] = mapped_column(Numeric(14, 2, asdecimal=False))


class FicheNote(db.Model):
    """A dated follow-up note (suivi) on a fiche."""

    __tablename__ = "fiche_note"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    fiche_id: Mapped[int] = mapped_column(ForeignKey("fiche.id", ondelete="CASCADE"), index=True)
    date: Mapped[date] = mapped_column(Date)
    texte: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = _user_fk()


class FicheIndicateur(db.Model):
    """An indicateur the fiche follows: keyed on the indicateur id text (`cae_1.a`, `perso-12`), as
    the values are, so a reload of the catalogue keeps the link."""

    __tablename__ = "fiche_indicateur"
    collectivite_id: Mapped[int] = _collectivite_fk()
    fiche_id: Mapped[int] = mapped_column(ForeignKey("fiche.id", ondelete="CASCADE"), primary_key=True)
    indicateur_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class FicheEtape(db.Model):
    """An ordered step of a fiche, done or not."""

    __tablename__ = "fiche_etape"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    fiche_id: Mapped[int] = mapped_column(ForeignKey("fiche.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    titre: Mapped[str] = mapped_column(String(300))
    realise: Mapped[bool] = mapped_column(Boolean, default=False)
