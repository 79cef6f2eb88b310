"""The stored scores as the pages and pushes read them. Reads only read: a page that finds no
scores yet enqueues the re-score and shows dashes, which the push of that re-score fills (the
page's websocket asks for any scores stored meanwhile, see NO_SCORES_REVISION). Computing and
storing them is app.services.evaluation's (the job's)."""
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from operator import itemgetter

from sqlalchemy import select

from app.extensions import db
from app.models import ScoreState
from app.queue import enqueue_pair_rescore
from app.scoring import SCORE_FIELDS

# The revision of a page rendered without scores: every stored score is newer.
NO_SCORES_REVISION = -1


class StoredScores(Mapping[str, dict]):
    """Stored records (the values of SCORE_FIELDS per action: a list when read back from the
    database) read as dicts."""

    def __init__(self, records: Mapping[str, Sequence], revision: int = 0):
        self._records = records
        self.revision = revision  # the edit revision they reflect (ScoreState.scored_revision)

    def __getitem__(self, action_id: str) -> dict:
        return dict(zip(SCORE_FIELDS, self._records[action_id]))

    def __contains__(self, action_id: object) -> bool:  # without building the record (Mapping's way)
        return action_id in self._records

    def columns(self, names: Sequence[str]) -> dict[str, tuple]:
        """Action id -> the values of the fields `names`, in that order (cheaper than dicts for
        every node of a référentiel)."""
        values_of = itemgetter(*(SCORE_FIELDS.index(name) for name in names))
        return {action_id: values_of(record) for action_id, record in self._records.items()}

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)


def scores_for(collectivite_id: int, referentiel_id: str) -> StoredScores:
    """The stored scores for the pages; none yet: the re-score is enqueued, nothing is written."""
    row = db.session.execute(
        select(ScoreState.scores, ScoreState.scored_revision).where(
            ScoreState.collectivite_id == collectivite_id, ScoreState.referentiel_id == referentiel_id)
    ).one_or_none()
    if row is None or row.scores is None:
        enqueue_pair_rescore(collectivite_id, referentiel_id)
        return StoredScores({}, NO_SCORES_REVISION)
    return StoredScores(row.scores, row.scored_revision)


def scores_newer_than(collectivite_id: int, referentiel_id: str, revision: int) -> StoredScores | None:
    """The stored scores when they reflect a later edit than `revision` (a page's), else None."""
    row = db.session.execute(
        select(ScoreState.scores, ScoreState.scored_revision).where(
            ScoreState.collectivite_id == collectivite_id,
            ScoreState.referentiel_id == referentiel_id,
            ScoreState.scored_revision > revision,
            ScoreState.scores.is_not(None),
        )
    ).one_or_none()
    return row and StoredScores(row.scores, row.scored_revision)


def scores_rescored_since(collectivite_id: int, since: datetime) -> dict[str, StoredScores]:
    """référentiel id -> stored scores, for the référentiels of the collectivité re-scored after an
    edit (what pushes them to the pages; a first computation pushes nothing) at or after `since`
    (naive UTC)."""
    rows = db.session.execute(
        select(ScoreState.referentiel_id, ScoreState.scores).where(
            ScoreState.collectivite_id == collectivite_id,
            ScoreState.computed_at >= since,
            ScoreState.scored_revision > 0,
            ScoreState.scores.is_not(None),
        )
    )
    return {referentiel_id: StoredScores(scores) for referentiel_id, scores in rows}
