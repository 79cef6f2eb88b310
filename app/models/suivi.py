"""Suivi tables: what a collectivité records on the référentiels (statuts, réponses, précisions,
preuves), the history of those changes, and the scores computed from them.

User data keys on the action / question id text, never a foreign key to the content tables:
a new content edition may drop an id while the data attached to it is kept.
"""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

# fait / programme / pas_fait are fractions in [0, 1]; a détaillé statut sets all three (sum 1).
AVANCEMENTS = ("fait", "programme", "pas_fait", "non_renseigne", "detaille")


def _collectivite_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)


def _user_fk() -> Mapped[int | None]:
    return mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class ActionStatut(db.Model):
    """The statut of one tâche or sous-action; a non concerné action has concerne = False."""

    __tablename__ = "action_statut"
    __table_args__ = (UniqueConstraint("collectivite_id", "action_id", name="uq_action_statut_collectivite_action"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    referentiel_id: Mapped[str] = mapped_column(String(16))
    action_id: Mapped[str] = mapped_column(String(64))
    avancement: Mapped[str] = mapped_column(String(16))
    fait: Mapped[float | None] = mapped_column(Float)
    programme: Mapped[float | None] = mapped_column(Float)
    pas_fait: Mapped[float | None] = mapped_column(Float)
    concerne: Mapped[bool] = mapped_column(Boolean, default=True)
    modified_by_id: Mapped[int | None] = _user_fk()
    modified_at: Mapped[datetime] = mapped_column(DateTime)


class Reponse(db.Model):
    """The answer to one personnalisation question: OUI/NON, a choix id, or a proportion in [0, 1]."""

    __tablename__ = "reponse"
    __table_args__ = (UniqueConstraint("collectivite_id", "question_id", name="uq_reponse_collectivite_question"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    question_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    modified_by_id: Mapped[int | None] = _user_fk()
    modified_at: Mapped[datetime] = mapped_column(DateTime)


class Precision(db.Model):
    """Free text (markdown, sanitised when rendered) a collectivité writes on one action."""

    __tablename__ = "precision"
    __table_args__ = (UniqueConstraint("collectivite_id", "action_id", name="uq_precision_collectivite_action"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    action_id: Mapped[str] = mapped_column(String(64))
    texte: Mapped[str] = mapped_column(Text)
    modified_by_id: Mapped[int | None] = _user_fk()
    modified_at: Mapped[datetime] = mapped_column(DateTime)


class PreuveFichier(db.Model):
    """An uploaded file; stored_name is the random name under UPLOAD_DIR (never the user's filename)."""

    __tablename__ = "preuve_fichier"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    action_id: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = _user_fk()
    uploaded_at: Mapped[datetime] = mapped_column(DateTime)


class PreuveLien(db.Model):
    __tablename__ = "preuve_lien"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    action_id: Mapped[str] = mapped_column(String(64), index=True)
    titre: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = _user_fk()
    created_at: Mapped[datetime] = mapped_column(DateTime)


class HistoryEntry(db.Model):
    """Who changed what and when; values are JSON text (null when there was none)."""

    __tablename__ = "history_entry"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    user_id: Mapped[int | None] = _user_fk()
    at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(32))  # statut | reponse | precision | preuve_fichier | preuve_lien | snapshot
    key: Mapped[str] = mapped_column(String(64))  # action or question id
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)


class ScoreState(db.Model):
    """The latest scores of one collectivité on one référentiel.

    Every edit bumps edit_revision; a re-score records the revision it read in scored_revision.
    The scores are stale while edit_revision > scored_revision or the content version changed.
    """

    __tablename__ = "score_state"
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), primary_key=True)
    referentiel_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    scores: Mapped[dict | None] = mapped_column(JSON)  # action id -> score record
    edit_revision: Mapped[int] = mapped_column(Integer, default=0)
    scored_revision: Mapped[int] = mapped_column(Integer, default=-1)
    content_version_id: Mapped[int | None] = mapped_column(Integer)
    computed_at: Mapped[datetime | None] = mapped_column(DateTime)


class _RootTotals:
    """The root's totals in columns of their own, beside a JSON of every node's records: curves
    and lists read them without parsing the JSON."""

    point_fait: Mapped[float] = mapped_column(Float)
    point_programme: Mapped[float] = mapped_column(Float)
    point_pas_fait: Mapped[float] = mapped_column(Float)
    point_non_renseigne: Mapped[float] = mapped_column(Float)
    point_potentiel: Mapped[float] = mapped_column(Float)
    point_referentiel: Mapped[float] = mapped_column(Float)


class ScoreHistory(_RootTotals, db.Model):
    """The scores of one collectivité on one référentiel at the end of one (UTC) day: the day's
    last computation wins (each re-score upserts the day's row in the statement it already ran).

    One row per day holds every node: `scores` has the shape of ScoreState.scores (action id ->
    record), so a past day reads as one indexed row and as the current scores do, and nodes a new
    content edition drops simply vanish from later days. Rows exist only on days with a re-score
    (an edit or a content reload), so storage follows activity, not the calendar; PostgreSQL
    compresses the JSON text (TOAST). One row per node and changed day would be smaller on quiet
    days but needs a multi-row write per re-score, a "latest row per node" query to read a date,
    and tombstones for dropped nodes. The root's totals stay in their own columns: the root curve
    reads without parsing the JSON. `scores` is None on days recorded before it existed.
    """

    __tablename__ = "score_history"
    __table_args__ = (
        UniqueConstraint("collectivite_id", "referentiel_id", "day", name="uq_score_history_day"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    referentiel_id: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    scores: Mapped[dict | None] = mapped_column(JSON)  # action id -> score record, as ScoreState.scores


class ScoreSnapshot(_RootTotals, db.Model):
    """A named, frozen copy of every node's scores of one collectivité on one référentiel at one
    moment (`at`, naive UTC): "figer l'état des lieux". `scores` has the shape of ScoreState.scores;
    the root's totals have their own columns, so listing snapshots reads no JSON. A record: never
    recomputed when the content or the engine changes (content_version_id says what it was
    computed with)."""

    __tablename__ = "score_snapshot"
    __table_args__ = (
        UniqueConstraint("collectivite_id", "referentiel_id", "nom", name="uq_score_snapshot_nom"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collectivite_id: Mapped[int] = _collectivite_fk()
    referentiel_id: Mapped[str] = mapped_column(String(16))
    nom: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(DateTime)  # the moment the scores represent
    kind: Mapped[str] = mapped_column(String(16))  # manuel; later pre_audit, post_audit, labellisation
    content_version_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = _user_fk()
    created_at: Mapped[datetime] = mapped_column(DateTime)
    scores: Mapped[dict] = mapped_column(JSON)  # action id -> score record, as ScoreState.scores
