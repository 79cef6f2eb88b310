"""Indicateurs: the definitions (content, loaded by app/indicateur_defs), the collectivités' own
indicateurs (personnalisés) and the yearly values of both.

Values key on the indicateur id text (`cae_1.a`, `perso-12`), never a foreign key to the
definitions: reloading the catalogue keeps a collectivité's figures.
"""
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class IndicateurDefinition(db.Model):
    """A platform indicateur (content): lists are JSON, the action links also rows of
    IndicateurDefinitionAction for the action pages."""

    __tablename__ = "indicateur_definition"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    titre: Mapped[str] = mapped_column(Text)
    titre_court: Mapped[str] = mapped_column(Text, default="")
    unite: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    parents: Mapped[list] = mapped_column(JSON, default=list)
    categories: Mapped[list] = mapped_column(JSON, default=list)
    thematiques: Mapped[list] = mapped_column(JSON, default=list)
    action_ids: Mapped[list] = mapped_column(JSON, default=list)
    formule: Mapped[str | None] = mapped_column(Text)
    participation_score: Mapped[bool] = mapped_column(Boolean, default=False)
    sans_valeur_utilisateur: Mapped[bool] = mapped_column(Boolean, default=False)
    borne_min: Mapped[float | None] = mapped_column(Float)
    borne_max: Mapped[float | None] = mapped_column(Float)
    precision: Mapped[int] = mapped_column(Integer, default=2)
    expr_cible: Mapped[str | None] = mapped_column(Text)
    expr_seuil: Mapped[str | None] = mapped_column(Text)
    libelle_cible_seuil: Mapped[str | None] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(Text, default="")
    source_line: Mapped[int] = mapped_column(Integer, default=0)


class IndicateurDefinitionAction(db.Model):
    __tablename__ = "indicateur_definition_action"
    indicateur_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class IndicateurPerso(db.Model):
    """An indicateur a collectivité created for itself; its values use the id `perso-<id>`."""

    __tablename__ = "indicateur_perso"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)
    titre: Mapped[str] = mapped_column(String(300))
    unite: Mapped[str] = mapped_column(String(100))
    thematiques: Mapped[list] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class IndicateurValeur(db.Model):
    """One year of one indicateur for one collectivité: résultat and objectif, each with its
    comment and source. calcul_auto: computed from the inputs of a formula."""

    __tablename__ = "indicateur_valeur"
    __table_args__ = (UniqueConstraint("collectivite_id", "indicateur_id", "annee", name="uq_indicateur_valeur_annee"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)
    indicateur_id: Mapped[str] = mapped_column(String(64))
    annee: Mapped[int] = mapped_column(Integer)
    resultat: Mapped[float | None] = mapped_column(Float)
    resultat_commentaire: Mapped[str] = mapped_column(Text, default="")
    resultat_source: Mapped[str] = mapped_column(String(300), default="")
    objectif: Mapped[float | None] = mapped_column(Float)
    objectif_commentaire: Mapped[str] = mapped_column(Text, default="")
    objectif_source: Mapped[str] = mapped_column(String(300), default="")
    confidentiel: Mapped[bool] = mapped_column(Boolean, default=False)
    calcul_auto: Mapped[bool] = mapped_column(Boolean, default=False)
    modified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    modified_at: Mapped[datetime | None] = mapped_column(DateTime)
