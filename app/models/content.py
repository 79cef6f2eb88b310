"""Content tables: what the content loader stores (référentiels, questions, rules, indicateurs, preuves).

User data never points at these rows with foreign keys: it keys on the action id text, so a new
content edition can drop an action while the statuts and preuves attached to it are kept.
"""
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class ContentVersion(db.Model):
    """One row per successful load: which content, when, and what it changed."""

    __tablename__ = "content_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    removed_ids: Mapped[list] = mapped_column(JSON, default=list)


class Referentiel(db.Model):
    __tablename__ = "referentiel"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    nom: Mapped[str] = mapped_column(Text)
    action_level: Mapped[int] = mapped_column(Integer)
    points: Mapped[float] = mapped_column(Float)
    # Set when a newer content edition no longer has this référentiel (user data stays attached).
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class Action(db.Model):
    __tablename__ = "action"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    referentiel_id: Mapped[str] = mapped_column(ForeignKey("referentiel.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    identifiant: Mapped[str] = mapped_column(String(48))
    nom: Mapped[str] = mapped_column(Text)
    depth: Mapped[int] = mapped_column(Integer)
    # Display order among siblings (natural order: 1.2 before 1.10).
    position: Mapped[int] = mapped_column(Integer)
    points: Mapped[float] = mapped_column(Float)
    md_points: Mapped[float | None] = mapped_column(Float)
    md_pourcentage: Mapped[float | None] = mapped_column(Float)
    categorie: Mapped[str | None] = mapped_column(String(32))
    # Climat Pratic thématique (a Thematique id; no foreign key: the thématiques are replaced on each load).
    thematique_id: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    contexte: Mapped[str] = mapped_column(Text, default="")
    exemples: Mapped[str] = mapped_column(Text, default="")
    preuve: Mapped[str] = mapped_column(Text, default="")
    ressources: Mapped[str] = mapped_column(Text, default="")
    perimetre_evaluation: Mapped[str] = mapped_column(Text, default="")
    reduction_potentiel: Mapped[str] = mapped_column(Text, default="")
    critere: Mapped[str] = mapped_column(Text, default="")
    source_path: Mapped[str] = mapped_column(Text, default="")
    source_line: Mapped[int] = mapped_column(Integer, default=0)
    # Set when a newer content edition no longer has this id (user data stays attached).
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class Thematique(db.Model):
    __tablename__ = "thematique"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nom: Mapped[str] = mapped_column(Text)


class Question(db.Model):
    __tablename__ = "question"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    formulation: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    thematique_id: Mapped[str] = mapped_column(String(64))
    ordonnancement: Mapped[int | None] = mapped_column(Integer)
    types_concernes: Mapped[list] = mapped_column(JSON, default=list)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    choix: Mapped[list["QuestionChoix"]] = relationship(
        order_by="QuestionChoix.position", cascade="all, delete-orphan"
    )


class QuestionChoix(db.Model):
    __tablename__ = "question_choix"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    formulation: Mapped[str] = mapped_column(Text)
    ordonnancement: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)


class QuestionAction(db.Model):
    __tablename__ = "question_action"
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Personnalisation(db.Model):
    """The rule set of one action. It exists even with no rule: the action still counts as
    personnalisée for scoring (its point_potentiel_perso is reported)."""

    __tablename__ = "personnalisation"
    action_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    titre: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    source_path: Mapped[str] = mapped_column(Text, default="")
    source_line: Mapped[int] = mapped_column(Integer, default=0)


class PersonnalisationRegle(db.Model):
    """One rule (désactivation, réduction or score) of an action, with where it was written."""

    __tablename__ = "personnalisation_regle"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    formule: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    source_path: Mapped[str] = mapped_column(Text, default="")
    source_line: Mapped[int] = mapped_column(Integer, default=0)


class Indicateur(db.Model):
    __tablename__ = "indicateur"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    groupe: Mapped[str] = mapped_column(String(16))
    identifiant: Mapped[str] = mapped_column(String(48))
    nom: Mapped[str] = mapped_column(Text)
    unite: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    valeur_indicateur_id: Mapped[str | None] = mapped_column(String(64))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class IndicateurAction(db.Model):
    __tablename__ = "indicateur_action"
    indicateur_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Preuve(db.Model):
    """A preuve the référentiel expects (content), not a file uploaded by a collectivité."""

    __tablename__ = "preuve"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nom: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class PreuveAction(db.Model):
    __tablename__ = "preuve_action"
    preuve_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
