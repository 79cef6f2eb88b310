"""Sharing between collectivités: the per-référentiel score summary the directory, the public pages,
the comparison and the open data read (one small row, never the JSON of every node), and what each
collectivité chose to make public."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class ScoreSummary(db.Model):
    """The current % réalisé / programmé of one collectivité on one référentiel, and per axe,
    written by each re-score (services.evaluation) beside ScoreState."""

    __tablename__ = "score_summary"
    __table_args__ = (Index("ix_score_summary_referentiel_realise", "referentiel_id", "realise"),)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), primary_key=True)
    referentiel_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    realise: Mapped[float] = mapped_column(Float)  # % of the potentiel, 0-100
    programme: Mapped[float] = mapped_column(Float)
    etoiles: Mapped[int | None] = mapped_column(Integer)
    axes: Mapped[dict] = mapped_column(JSON)  # axe id -> [% réalisé, % programmé]
    actions: Mapped[dict] = mapped_column(JSON)  # action id (the référentiel's action level) -> % réalisé
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class PartagePreference(db.Model):
    """What a collectivité shows on its public page beyond stars and scores (off by default)."""

    __tablename__ = "partage_preference"
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), primary_key=True)
    statuts_publics: Mapped[bool] = mapped_column(Boolean, default=False)
    precisions_publiques: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
