"""Scores of a collectivité on a référentiel: computed from its stored statuts and réponses with
app.scoring, stored in ScoreState (one row per collectivité × référentiel) and ScoreHistory
(every node's scores at the end of each day, read back with scores_on). The job's side: the
pages read the stored scores through app.services.scores, the edits mark them stale through
app.services.suivi.

rescore() stores with a compare-and-set on the edit revision and the content version it read, so
a slow computation never overwrites fresher scores (later edits or newer content), and returns only
the records that changed (what the pages must swap). Archived référentiels are never scored.
"""
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import DateTime, Integer, bindparam, or_, select, update

from app.extensions import db
from app.persistence import upsert, upsert_rows, utcnow
from app.rls import system_work
from app.models import ActionStatut, ContentVersion, Referentiel, ScoreHistory, ScoreState, ScoreSummary
from app.scoring import SCORE_FIELDS, Statut, score_referentiel
from app.services import partage
from app.services.personnalisation import consequences_for, consequences_of
from app.services.scores import StoredScores
from app.services.scoring_content import LATEST_VERSION, scoring_content_of
from app.services.statuts import StatutValue, read_statuts, read_statuts_of_pairs

TOTAL_FIELDS = ("point_fait", "point_programme", "point_pas_fait", "point_non_renseigne", "point_potentiel", "point_referentiel")


@dataclass(frozen=True)
class ScoreUpdate:
    """The outcome of a re-score: the records (field -> value) that changed, the root's always
    included, the totals (the root's record), and the nodes whose personnalisation (désactivation
    or personalised potentiel) changed, whose badges the pages must refresh."""

    collectivite_id: int
    referentiel_id: str
    revision: int
    changed: dict[str, dict]
    totals: dict
    personnalisation_changed: frozenset[str] = frozenset()


@system_work()
def rescore(collectivite_id: int, referentiel_id: str) -> ScoreUpdate | None:
    """Recompute and store the scores; None when they were fresh already or a fresher
    computation got stored first. The caller commits. System work (row-level security): the
    scores come from the stored data alone, whoever asks for them (a job, a first page view)."""
    key = (collectivite_id, referentiel_id)
    version_and_state = _version_and_state(key)
    if version_and_state is None:
        raise LookupError("aucun contenu chargé : lancer `flask content load`")
    version_id, content = scoring_content_of(db.session, tuple(version_and_state)[:3])
    if referentiel_id not in content.trees:
        raise ValueError(f"référentiel inconnu du contenu chargé : {referentiel_id}")
    state = version_and_state if version_and_state.edit_revision is not None else None
    if state is None:
        upsert(ScoreState, {"collectivite_id": collectivite_id, "referentiel_id": referentiel_id}, {"edit_revision": 0}, on_update={})
        db.session.commit()  # short: no write lock held while computing
        state = _state_row(key)
    if _is_fresh(state, version_id):
        return None
    revision = state.edit_revision  # read BEFORE the statuts: the scores are at least this fresh
    tree = content.trees[referentiel_id]
    table = score_referentiel(tree, stored_statuts(collectivite_id, referentiel_id), consequences_for(collectivite_id, content))
    records = table.rows()  # tuples, stored as they are (JSON arrays); many are shared between tables
    new_values = {"scores": records, "scored_revision": revision, "content_version_id": version_id, "computed_at": utcnow()}

    # Compare-and-set: write only if no fresher computation is stored (later edits, or newer
    # content: the content was reloaded while this one computed). The diff needs the records
    # stored before: when this process remembers them (stamp read above), ONE update writes,
    # guarded by that stamp being still stored.
    stamp = (state.scored_revision, state.content_version_id, state.computed_at)
    previous = _recent_records_for(key, stamp)
    if previous is None or not _compare_and_set(key, revision, version_id, new_values, expected=stamp).rowcount:
        # Claim the row first (the no-op UPDATE locks it until commit, on PostgreSQL and SQLite
        # alike) and get the stored records, then write.
        stored = _compare_and_set(
            key, revision, version_id, {"scored_revision": ScoreState.scored_revision},
            returning=(ScoreState.scored_revision, ScoreState.content_version_id, ScoreState.computed_at, ScoreState.scores),
        ).one_or_none()
        if stored is None:
            return None
        previous = _recent_records_for(key, tuple(stored)[:3])
        if previous is None:  # read back as lists: compared as tuples
            previous = {action_id: tuple(values) for action_id, values in (stored.scores or {}).items()}
        _compare_and_set(key, revision, version_id, new_values)
    _remember_records(key, (revision, version_id, new_values["computed_at"]), records)
    _record_history_and_summaries([(key, tree, records)])
    return _score_update(key, tree, revision, previous, records)


def _score_update(key: tuple[int, str], tree, revision: int, previous: Mapping[str, tuple], records: dict) -> ScoreUpdate:
    totals = dict(zip(SCORE_FIELDS, records[tree.root_id]))
    changed = {action_id: dict(zip(SCORE_FIELDS, values)) for action_id, values in records.items() if previous.get(action_id) != values}
    changed.setdefault(tree.root_id, totals)  # the totals are always pushed
    return ScoreUpdate(*key, revision, changed, totals, _personnalisation_changed(previous, records))



_PERSONNALISATION_INDEXES = (SCORE_FIELDS.index("desactive"), SCORE_FIELDS.index("point_potentiel_perso"))


def _personnalisation_changed(previous: Mapping[str, tuple], records: Mapping[str, tuple]) -> frozenset[str]:
    """Nodes whose désactivation or personalised potentiel differs from the stored records (none
    on a first computation: the pages were rendered with these)."""
    return frozenset(
        action_id for action_id, values in records.items()
        if (before := previous.get(action_id)) is not None
        and any(before[i] != values[i] for i in _PERSONNALISATION_INDEXES)
    )


def _where_key(statement, key: tuple[int, str]):
    return statement.where(ScoreState.collectivite_id == key[0], ScoreState.referentiel_id == key[1])


def _compare_and_set(key: tuple[int, str], revision: int, version_id: int | None, values: dict,
                     expected: tuple | None = None, returning: tuple = ()):
    """UPDATE the row with `values` unless fresher scores are stored; `expected`: the
    (scored_revision, content_version_id, computed_at) the row must still hold."""
    statement = _where_key(update(ScoreState), key).where(
        ScoreState.scored_revision <= revision,
        or_(ScoreState.content_version_id.is_(None), ScoreState.content_version_id <= version_id),
    )
    if expected is not None:
        statement = statement.where(
            ScoreState.scored_revision == expected[0],
            ScoreState.content_version_id.is_not_distinct_from(expected[1]),
            ScoreState.computed_at.is_not_distinct_from(expected[2]),
        )
    if returning:
        statement = statement.returning(*returning)
    return db.session.execute(statement.values(**values).execution_options(synchronize_session=False))


# The revisions and stamp of a ScoreState row (not its scores).
_STATE_COLUMNS = (ScoreState.edit_revision, ScoreState.scored_revision, ScoreState.content_version_id,
                  ScoreState.computed_at, ScoreState.scores.is_not(None).label("has_scores"))


def _state_row(key: tuple[int, str]):
    """The _STATE_COLUMNS of the ScoreState row, or None."""
    return db.session.execute(_where_key(select(*_STATE_COLUMNS), key)).one_or_none()


def _version_and_state(key: tuple[int, str]):
    """In one statement, the latest content version (LATEST_VERSION's columns) and the
    _STATE_COLUMNS of the ScoreState row (None when there is no row yet); None before any load."""
    version = LATEST_VERSION.subquery()
    return db.session.execute(
        select(version, *_STATE_COLUMNS).select_from(version).outerjoin(
            ScoreState, (ScoreState.collectivite_id == key[0]) & (ScoreState.referentiel_id == key[1]))
    ).one_or_none()


# A batch of re-scores: the stored state, records and the stamp of the row they were read with.
_BATCH_STATE_COLUMNS = (ScoreState.collectivite_id, ScoreState.referentiel_id, *_STATE_COLUMNS)
_BATCH_STORED_COLUMNS = (ScoreState.collectivite_id, ScoreState.referentiel_id, ScoreState.scored_revision,
                         ScoreState.content_version_id, ScoreState.computed_at, ScoreState.scores)
# The compare-and-set of _compare_and_set(..., expected=stamp), run once per pair of a batch.
_BATCH_COMPARE_AND_SET = (
    update(ScoreState.__table__)
    .where(
        ScoreState.collectivite_id == bindparam("key_collectivite_id"),
        ScoreState.referentiel_id == bindparam("key_referentiel_id"),
        ScoreState.scored_revision <= bindparam("scored_revision"),
        or_(ScoreState.content_version_id.is_(None), ScoreState.content_version_id <= bindparam("content_version_id")),
        ScoreState.scored_revision == bindparam("expected_revision"),
        ScoreState.content_version_id.is_not_distinct_from(bindparam("expected_version_id", type_=Integer)),
        ScoreState.computed_at.is_not_distinct_from(bindparam("expected_computed_at", type_=DateTime)),
    )
    .values(scores=bindparam("scores"), scored_revision=bindparam("scored_revision"),
            content_version_id=bindparam("content_version_id"), computed_at=bindparam("computed_at"))
)


@system_work()
def rescore_pairs(pairs: list[tuple[int, str]]) -> tuple[list[ScoreUpdate], list[tuple[int, str]]]:
    """Re-score several (collectivité, référentiel) pairs in one transaction, as rescore() each
    (the caller commits): every kind of data read once for all, every kind written in one
    statement. Returns the updates (fresh pairs left out) and the pairs left to rescore() one by
    one: those without a score row or of a référentiel the content lacks, or all of them when
    another computation stored scores meanwhile (the transaction is then rolled back)."""
    version = LATEST_VERSION.subquery()
    rows = db.session.execute(
        select(version, *_BATCH_STATE_COLUMNS).select_from(version)
        .join(ScoreState, ScoreState.collectivite_id.in_({collectivite_id for collectivite_id, _ in pairs}))
    ).all()
    states = {(row.collectivite_id, row.referentiel_id): row for row in rows}
    if not rows:
        return [], list(pairs)
    version_id, content = scoring_content_of(db.session, tuple(rows[0])[:3])
    left = [pair for pair in pairs if pair not in states or pair[1] not in content.trees]
    stale = [pair for pair in pairs if pair not in left and not _is_fresh(states[pair], version_id)]
    if not stale:
        return [], left
    # The records stored before, for the diff: those this process stored last, else read.
    stored = {}
    for pair in stale:
        state = states[pair]
        stamp = (state.scored_revision, state.content_version_id, state.computed_at)
        previous = _recent_records_for(pair, stamp)
        if previous is not None:
            stored[pair] = (stamp, previous)
    unknown = [pair for pair in stale if pair not in stored]
    if unknown:
        for row in db.session.execute(select(*_BATCH_STORED_COLUMNS).where(
                ScoreState.collectivite_id.in_({collectivite_id for collectivite_id, _ in unknown}))):
            key = (row.collectivite_id, row.referentiel_id)
            if key in unknown:  # read back as lists: compared as tuples
                stored[key] = (tuple(row)[2:5], {a: tuple(values) for a, values in (row.scores or {}).items()})
    statuts = read_statuts_of_pairs(stale)
    consequences = consequences_of({collectivite_id for collectivite_id, _ in stale}, content)
    computed_at = utcnow()
    scored, parameters = [], []
    for pair in stale:
        tree, revision = content.trees[pair[1]], states[pair].edit_revision
        statuts_of_pair = [engine_statut(action_id, value) for action_id, value in statuts[pair].items()]
        records = score_referentiel(tree, statuts_of_pair, consequences[pair[0]]).rows()
        stamp = stored[pair][0]
        scored.append((pair, tree, revision, records))
        parameters.append({"key_collectivite_id": pair[0], "key_referentiel_id": pair[1], "scores": records,
                           "scored_revision": revision, "content_version_id": version_id, "computed_at": computed_at,
                           "expected_revision": stamp[0], "expected_version_id": stamp[1], "expected_computed_at": stamp[2]})
    if db.session.execute(_BATCH_COMPARE_AND_SET, parameters).rowcount != len(parameters):
        db.session.rollback()  # a concurrent computation: each pair again, alone
        return [], list(pairs)
    _record_history_and_summaries([(pair, tree, records) for pair, tree, _revision, records in scored])
    updates = []
    for pair, tree, revision, records in scored:
        _remember_records(pair, (revision, version_id, computed_at), records)
        updates.append(_score_update(pair, tree, revision, stored[pair][1], records))
    return updates, left


# The records this process stored last, per (collectivité, référentiel), stamped with the row's
# (scored_revision, content_version_id, computed_at): a worker re-scoring the same collectivité
# again diffs against them instead of reading and parsing the stored JSON back.
_RECENT_RECORDS_MAX = 128
_recent_records: OrderedDict[tuple[int, str], tuple[tuple, dict]] = OrderedDict()
_recent_lock = threading.Lock()


def _recent_records_for(key: tuple[int, str], stamp: tuple) -> dict | None:
    """The records this process stored last for `key` if the row still holds them (same stamp)."""
    with _recent_lock:
        recent = _recent_records.get(key)
    return recent[1] if recent is not None and recent[0] == stamp else None


def _remember_records(key: tuple[int, str], stamp: tuple, records: dict) -> None:
    with _recent_lock:
        _recent_records[key] = (stamp, records)
        _recent_records.move_to_end(key)
        while len(_recent_records) > _RECENT_RECORDS_MAX:
            _recent_records.popitem(last=False)


def stale_score_keys() -> list[tuple[int, str]]:
    """(collectivité, référentiel) pairs whose scores are stale or missing: those of
    stale_score_rows, and statuts without any score row. Archived référentiels are left out."""
    unscored = (
        select(ActionStatut.collectivite_id, ActionStatut.referentiel_id)
        .join(Referentiel, Referentiel.id == ActionStatut.referentiel_id)
        .outerjoin(
            ScoreState,
            (ScoreState.collectivite_id == ActionStatut.collectivite_id)
            & (ScoreState.referentiel_id == ActionStatut.referentiel_id),
        )
        .where(~Referentiel.archived, ScoreState.collectivite_id.is_(None))
    )
    return sorted({tuple(row) for row in db.session.execute(_stale_rows().union(unscored))})


def stale_score_rows() -> list[tuple[int, str]]:
    """The pairs of the score rows that are stale: edited since the last computation, computed
    on another content version, or never computed (archived référentiels left out). What a
    re-score job finds to do besides its own pair: cheaper than stale_score_keys (no scan of
    the statuts)."""
    return sorted(tuple(row) for row in db.session.execute(_stale_rows()))


def _stale_rows():
    latest_version = select(ContentVersion.id).order_by(ContentVersion.id.desc()).limit(1).scalar_subquery()
    return (
        select(ScoreState.collectivite_id, ScoreState.referentiel_id)
        .join(Referentiel, Referentiel.id == ScoreState.referentiel_id)
        .where(
            ~Referentiel.archived,
            or_(
                ScoreState.scores.is_(None),
                ScoreState.scored_revision < ScoreState.edit_revision,
                ScoreState.content_version_id.is_distinct_from(latest_version),
            ),
        )
    )


def _is_fresh(state, version_id: int | None) -> bool:
    return (
        state.has_scores
        and state.scored_revision >= state.edit_revision
        and state.content_version_id == version_id
    )


def stored_statuts(collectivite_id: int, referentiel_id: str) -> list[Statut]:
    """The engine's statuts of the collectivité on the référentiel, as stored now."""
    statuts = read_statuts(collectivite_id, ActionStatut.referentiel_id == referentiel_id)
    return [engine_statut(action_id, value) for action_id, value in statuts.items()]


def engine_statut(action_id: str, value: StatutValue) -> Statut:
    """The engine's Statut of a stored or replayed statut."""
    return Statut(action_id, value.fractions, value.concerne)


def scores_on(collectivite_id: int, referentiel_id: str, day: date) -> StoredScores | None:
    """Every node's stored scores at the end of `day` (UTC): those of the latest recorded day up to
    it; None when none is recorded (nothing scored yet, or only days from before the per-node
    history: those keep their root totals only)."""
    records = db.session.scalar(
        select(ScoreHistory.scores)
        .where(
            ScoreHistory.collectivite_id == collectivite_id,
            ScoreHistory.referentiel_id == referentiel_id,
            ScoreHistory.day <= day,
        )
        .order_by(ScoreHistory.day.desc())
        .limit(1)
    )
    return None if records is None else StoredScores(records)


_HISTORY_KEY = ("collectivite_id", "referentiel_id", "day")
_TOTAL_INDEXES = tuple(SCORE_FIELDS.index(name) for name in TOTAL_FIELDS)


def _record_history_and_summaries(scored: list[tuple[tuple[int, str], object, dict]]) -> None:
    """For each (pair, tree, records) freshly stored: upsert the day's history row (the root
    totals and every node's records: the day's last state wins) and the directory's summary,
    one statement per table."""
    day = utcnow().date()
    upsert_rows(ScoreHistory, _HISTORY_KEY, [
        {"collectivite_id": collectivite_id, "referentiel_id": referentiel_id, "day": day, "scores": records,
         **{name: records[tree.root_id][i] for name, i in zip(TOTAL_FIELDS, _TOTAL_INDEXES)}}
        for (collectivite_id, referentiel_id), tree, records in scored
    ])
    upsert_rows(ScoreSummary, partage.SUMMARY_KEY, [
        partage.summary_row(collectivite_id, referentiel_id, tree.root_id, tree.action_level, records)
        for (collectivite_id, referentiel_id), tree, records in scored
    ])
