"""Snapshots ("figer l'état des lieux"): every node's scores of a collectivité on a référentiel,
frozen under a name at now or at a past moment; listed, deleted and compared side by side.

A past moment is replayed: the statuts and réponses as they were then, rebuilt from the history
entries, scored with the engine. For each item (a statut, a réponse):
  1. the new value of its latest entry at or before the moment, if any;
  2. else the old value of its first entry after the moment (the value it had until then);
  3. else, the item having no history at all, its current stored value: data written without a
     history entry (imports, data older than the history) counts as having always been there.
When nothing changed after the moment and the stored scores are fresh, those are the replay's
result (the same inputs, not computed again): "now" and most of today cost one read.

Limits of the replay, by design:
  - history entries are merged when written (app.services.suivi.record_history: one person's edits
    of one item within an hour make one entry, with the value from before the burst and the time
    of its last edit): a moment inside such a burst replays the value from before the burst, and
    a burst that came back to its first value left nothing, so the item never changed;
  - the identity of the collectivité (population, type...) and the content (référentiel tree,
    points, personnalisation rules) are today's: the snapshot stores that content version id;
  - précisions and preuves play no part in the scores and are not replayed.

Moments are naive UTC, as stored. A past day given as a date means the end of that day in Paris
(today: now); a snapshot can neither be in the future nor before the collectivité's first activity
(first history entry, statut or réponse). Errors users can fix are InvalidEdit (French message);
writes need the édition right (PermissionError otherwise), as every edit service.
"""
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from app.extensions import db
from app.models import Action, ActionStatut, Collectivite, HistoryEntry, Referentiel, Reponse, ScoreSnapshot, ScoreState
from app.persistence import utcnow
from app.scoring import SCORE_FIELDS, score_referentiel
from app.services.collectivites import identite_of
from app.services.evaluation import TOTAL_FIELDS, engine_statut, stored_statuts
from app.services.scoring_content import latest_scoring_content
from app.services.statuts import StatutValue, read_statuts
from app.services.suivi import InvalidEdit, commit_edit, require_edit

PARIS = ZoneInfo("Europe/Paris")
NOM_MAX_LENGTH = ScoreSnapshot.nom.type.length
REPLAYED_KINDS = ("statut", "reponse")  # the history kinds the scores depend on
MANUEL = "manuel"  # a snapshot frozen by a user
PRE_AUDIT, POST_AUDIT = "pre_audit", "post_audit"  # frozen when an audit starts and when it is validated


@dataclass(frozen=True)
class ReplayedScores:
    records: dict[str, list]  # action id -> the values of SCORE_FIELDS, as ScoreState.scores
    content_version_id: int
    root_id: str

    @property
    def totals(self) -> dict:
        return dict(zip(SCORE_FIELDS, self.records[self.root_id]))


def replay(collectivite_id: int, referentiel_id: str, at: datetime) -> ReplayedScores:
    """Every node's scores of the collectivité on the référentiel at `at` (naive UTC, or aware),
    rebuilt as the module docstring says. ValueError for a référentiel the content lacks."""
    at = _naive_utc(at)
    latest = latest_scoring_content(db.session)
    if latest is None:
        raise LookupError("aucun contenu chargé : lancer `flask content load`")
    version_id, content = latest
    tree = content.trees.get(referentiel_id)
    if tree is None:
        raise ValueError(f"référentiel inconnu du contenu chargé : {referentiel_id}")
    live = _live_scores(collectivite_id, referentiel_id, version_id, at)
    if live is not None:
        return ReplayedScores(live, version_id, tree.root_id)

    statuts = {statut.action_id: statut for statut in stored_statuts(collectivite_id, referentiel_id)}
    reponses = dict(
        db.session.execute(select(Reponse.question_id, Reponse.value).where(Reponse.collectivite_id == collectivite_id)).all()
    )
    for (kind, key), value in _history_values_at(collectivite_id, at).items():
        if kind == "reponse":
            answer = json.loads(value) if value is not None else None
            if answer is None:
                reponses.pop(key, None)
            else:
                reponses[key] = answer
        elif key in tree.index:
            if value is None:
                statuts.pop(key, None)
            else:
                statuts[key] = engine_statut(key, StatutValue.from_json(value))
    identite = identite_of(db.session.get(Collectivite, collectivite_id))
    table = score_referentiel(tree, list(statuts.values()), content.consequences(identite, reponses))
    return ReplayedScores({action_id: list(values) for action_id, values in table.rows().items()}, version_id, tree.root_id)


def _live_scores(collectivite_id: int, referentiel_id: str, version_id: int, at: datetime) -> dict | None:
    """The stored scores if they are what the replay would compute: fresh, on this content
    version, and no statut or réponse changed after `at`."""
    changed_after = db.session.scalar(
        select(HistoryEntry.id)
        .where(HistoryEntry.collectivite_id == collectivite_id, HistoryEntry.kind.in_(REPLAYED_KINDS), HistoryEntry.at > at)
        .limit(1)
    )
    if changed_after is not None:
        return None
    state = db.session.execute(
        select(ScoreState.scores, ScoreState.edit_revision, ScoreState.scored_revision, ScoreState.content_version_id)
        .where(ScoreState.collectivite_id == collectivite_id, ScoreState.referentiel_id == referentiel_id)
    ).one_or_none()
    if state is None or state.scores is None or state.scored_revision < state.edit_revision:
        return None
    return state.scores if state.content_version_id == version_id else None


def _history_values_at(collectivite_id: int, at: datetime) -> dict[tuple[str, str], str | None]:
    """(kind, key) -> the value (JSON text, None: no value) at `at` of every statut and réponse
    having history: rules 1 and 2 of the module docstring, one ranked query each."""
    def first_entries(value, moment_condition, *order):
        ranked = (
            select(HistoryEntry.kind, HistoryEntry.key, value.label("value"),
                   func.row_number().over(partition_by=(HistoryEntry.kind, HistoryEntry.key), order_by=order).label("rank"))
            .where(HistoryEntry.collectivite_id == collectivite_id, HistoryEntry.kind.in_(REPLAYED_KINDS), moment_condition)
            .subquery()
        )
        return db.session.execute(select(ranked.c.kind, ranked.c.key, ranked.c.value).where(ranked.c.rank == 1))

    values = {(kind, key): value for kind, key, value in first_entries(
        HistoryEntry.old_value, HistoryEntry.at > at, HistoryEntry.at.asc(), HistoryEntry.id.asc())}
    values.update(((kind, key), value) for kind, key, value in first_entries(
        HistoryEntry.new_value, HistoryEntry.at <= at, HistoryEntry.at.desc(), HistoryEntry.id.desc()))
    return values


def statuts_at(collectivite_id: int, referentiel_id: str, at: datetime) -> dict[str, StatutValue]:
    """action id -> statut of the référentiel at `at` (naive UTC), replayed as the scores are:
    what the export of a snapshot shows beside its figures."""
    statuts = read_statuts(collectivite_id, ActionStatut.referentiel_id == referentiel_id)
    prefix = f"{referentiel_id}_"
    for (kind, key), value in _history_values_at(collectivite_id, _naive_utc(at)).items():
        if kind != "statut" or not key.startswith(prefix):
            continue
        if value is None:
            statuts.pop(key, None)
        else:
            statuts[key] = StatutValue.from_json(value)
    return statuts


def _naive_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


# Freezing, listing, deleting ------------------------------------------------------------------


def freeze(user, collectivite_id: int, referentiel_id: str, nom: str | None,
           at: datetime | date | str | None = None) -> ScoreSnapshot:
    """Freeze the scores at `at` under `nom` and commit: `at` None or "" is now; a date, or its
    text AAAA-MM-JJ as a date field sends it, is the end of that day in Paris (today: now); a
    datetime is that moment (naive UTC). Recorded in the history."""
    require_edit(user, collectivite_id)
    referentiel = db.session.get(Referentiel, referentiel_id)
    if referentiel is None or referentiel.archived:
        raise InvalidEdit(f"référentiel inconnu : {referentiel_id}")
    nom = _valid_nom(collectivite_id, referentiel_id, nom)
    now = utcnow()
    snapshot = add_snapshot(user, collectivite_id, referentiel_id, nom, MANUEL, _valid_moment(collectivite_id, at, now), now)
    try:
        commit_edit(user, collectivite_id, "snapshot", referentiel_id, None, json.dumps(nom))
    except IntegrityError:  # the same name frozen meanwhile (unique constraint)
        db.session.rollback()
        raise InvalidEdit(_duplicate_message(nom)) from None
    return snapshot


def add_snapshot(user, collectivite_id: int, referentiel_id: str, nom: str, kind: str, moment: datetime,
                 now: datetime) -> ScoreSnapshot:
    """Add to the session (the caller commits it) the scores replayed at `moment` under `nom`:
    `kind` is MANUEL, or an audit's PRE_AUDIT / POST_AUDIT (app.services.audits checks its rights)."""
    replayed = replay(collectivite_id, referentiel_id, moment)
    totals = replayed.totals
    snapshot = ScoreSnapshot(
        collectivite_id=collectivite_id, referentiel_id=referentiel_id, nom=nom, at=moment, kind=kind,
        content_version_id=replayed.content_version_id, created_by_id=user.id, created_at=now, scores=replayed.records,
        **{name: totals[name] for name in TOTAL_FIELDS},
    )
    db.session.add(snapshot)
    return snapshot


def _valid_nom(collectivite_id: int, referentiel_id: str, nom: str | None) -> str:
    nom = (nom or "").strip()
    if not nom:
        raise InvalidEdit("Donnez un nom à cette sauvegarde de l'état des lieux.")
    if len(nom) > NOM_MAX_LENGTH:
        raise InvalidEdit(f"Le nom ne doit pas dépasser {NOM_MAX_LENGTH} caractères (il en compte {len(nom)}).")
    taken = db.session.scalar(
        select(ScoreSnapshot.id).where(ScoreSnapshot.collectivite_id == collectivite_id,
                                       ScoreSnapshot.referentiel_id == referentiel_id, ScoreSnapshot.nom == nom)
    )
    if taken is not None:
        raise InvalidEdit(_duplicate_message(nom))
    return nom


def _duplicate_message(nom: str) -> str:
    return f"Une sauvegarde nommée « {nom} » existe déjà pour ce référentiel : choisissez un autre nom."


def _valid_moment(collectivite_id: int, at: datetime | date | str | None, now: datetime) -> datetime:
    """The moment (naive UTC) `at` stands for, checked: not in the future, not before the first activity."""
    if isinstance(at, str):
        text = at.strip()
        try:
            at = date.fromisoformat(text) if text else None
        except ValueError:
            raise InvalidEdit("Date invalide : format attendu AAAA-MM-JJ (par exemple 2025-03-31).") from None
    if at is None:
        return now
    if isinstance(at, datetime):
        moment = _naive_utc(at)
    elif at == now.replace(tzinfo=UTC).astimezone(PARIS).date():
        moment = now
    else:
        end_of_day = datetime.combine(at, time.max, tzinfo=PARIS)
        moment = end_of_day.astimezone(UTC).replace(tzinfo=None)
    if moment > now:
        raise InvalidEdit("La date ne peut pas être dans le futur : choisissez aujourd'hui ou une date passée.")
    first = first_activity(collectivite_id)
    if moment < now and (first is None or moment < first):
        raise InvalidEdit(
            "Aucune donnée enregistrée pour cette collectivité : seul l'état actuel peut être figé." if first is None
            else f"Aucune donnée avant le {_paris_day(first)} : choisissez une date à partir de celle-ci."
        )
    return moment


def first_activity(collectivite_id: int) -> datetime | None:
    """The time of the collectivité's first recorded activity: history entry, statut or réponse
    (statuts and réponses written without history count from their modification time)."""
    firsts = [
        select(func.min(column)).where(model.collectivite_id == collectivite_id).scalar_subquery()
        for model, column in ((HistoryEntry, HistoryEntry.at), (ActionStatut, ActionStatut.modified_at),
                              (Reponse, Reponse.modified_at))
    ]
    times = [moment for moment in db.session.execute(select(*firsts)).one() if moment is not None]
    return min(times, default=None)


def _paris_day(moment: datetime) -> str:
    return paris_day_of(moment).strftime("%d/%m/%Y")


def paris_day_of(moment: datetime) -> date:
    """The day in Paris of a naive UTC moment."""
    return moment.replace(tzinfo=UTC).astimezone(PARIS).date()


def paris_today() -> date:
    return paris_day_of(utcnow())


def list_snapshots(collectivite_id: int, referentiel_id: str) -> list[ScoreSnapshot]:
    """The snapshots, latest moment first, without their per-node scores (loaded if read)."""
    return list(db.session.scalars(
        select(ScoreSnapshot)
        .where(ScoreSnapshot.collectivite_id == collectivite_id, ScoreSnapshot.referentiel_id == referentiel_id)
        .order_by(ScoreSnapshot.at.desc(), ScoreSnapshot.id.desc())
        .options(defer(ScoreSnapshot.scores))
    ))


def get_snapshot(collectivite_id: int, snapshot_id: int) -> ScoreSnapshot | None:
    snapshot = db.session.get(ScoreSnapshot, snapshot_id)
    return snapshot if snapshot is not None and snapshot.collectivite_id == collectivite_id else None


def delete_snapshot(user, collectivite_id: int, snapshot_id: int) -> None:
    """Delete a snapshot frozen by a user (the others are records of an audit) and commit."""
    require_edit(user, collectivite_id)
    snapshot = get_snapshot(collectivite_id, snapshot_id)
    if snapshot is None:
        raise InvalidEdit("Cette sauvegarde n'existe pas ou plus.")
    if snapshot.kind != MANUEL:
        raise InvalidEdit("Seules les sauvegardes figées à la main peuvent être supprimées.")
    db.session.delete(snapshot)
    commit_edit(user, collectivite_id, "snapshot", snapshot.referentiel_id, json.dumps(snapshot.nom), None)


# Comparison ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What the comparison shows of one node in one snapshot (or their difference): points and
    percentages of the potentiel."""

    point_fait: float
    point_programme: float
    point_potentiel: float
    fait_percent: float
    programme_percent: float

    @classmethod
    def of(cls, values: list) -> "Figures":
        record = dict(zip(SCORE_FIELDS, values))
        potentiel = record["point_potentiel"]

        def percent(points):
            return round(100 * points / potentiel, 1) if potentiel else 0.0

        return cls(record["point_fait"], record["point_programme"], potentiel,
                   percent(record["point_fait"]), percent(record["point_programme"]))

    def minus(self, other: "Figures") -> "Figures":
        return Figures(round(self.point_fait - other.point_fait, 2), round(self.point_programme - other.point_programme, 2),
                       round(self.point_potentiel - other.point_potentiel, 2),
                       round(self.fait_percent - other.fait_percent, 1),
                       round(self.programme_percent - other.programme_percent, 1))


@dataclass(frozen=True)
class ComparisonRow:
    """One node (the référentiel, an axe, a sous-axe, an action) in both snapshots; None where a
    snapshot lacks the node (computed on a content without it)."""

    action_id: str
    identifiant: str
    nom: str
    depth: int
    is_action: bool
    a: Figures | None
    b: Figures | None

    @property
    def delta(self) -> Figures | None:
        """b − a, None unless both have the node."""
        return self.b.minus(self.a) if self.a is not None and self.b is not None else None


def compare(snapshot_a: ScoreSnapshot, snapshot_b: ScoreSnapshot) -> list[ComparisonRow]:
    """The référentiel, its axes and sous-axes down to the actions, in display order, with both
    snapshots' figures (deltas: b − a). Both must be of the same collectivité and référentiel."""
    if (snapshot_a.collectivite_id, snapshot_a.referentiel_id) != (snapshot_b.collectivite_id, snapshot_b.referentiel_id):
        raise InvalidEdit("Seules deux sauvegardes du même référentiel de la même collectivité se comparent.")
    referentiel = db.session.get(Referentiel, snapshot_a.referentiel_id)
    scores_a, scores_b = snapshot_a.scores, snapshot_b.scores
    actions = [
        action for action in db.session.scalars(
            select(Action).where(Action.referentiel_id == referentiel.id, Action.depth <= referentiel.action_level)
        )
        if action.id in scores_a or action.id in scores_b
    ]
    return [
        ComparisonRow(action.id, action.identifiant, action.nom, action.depth, action.depth == referentiel.action_level,
                      Figures.of(scores_a[action.id]) if action.id in scores_a else None,
                      Figures.of(scores_b[action.id]) if action.id in scores_b else None)
        for action in _display_order(actions)
    ]


def _display_order(actions: list[Action]) -> list[Action]:
    """Depth first from the root, siblings by position."""
    children: dict[str | None, list[Action]] = {}
    for action in sorted(actions, key=lambda action: action.position):
        children.setdefault(action.parent_id, []).append(action)
    ordered, pending = [], list(reversed(children.get(None, [])))
    while pending:
        action = pending.pop()
        ordered.append(action)
        pending.extend(reversed(children.get(action.id, [])))
    return ordered
