"""The pilotage tables of a collectivité's référentiel: the aide à la priorisation (rows and matrix)
and the tableau des mesures. The figures are the engine's stored per-node scores; the tables and
filters are app.dashboards' (pure); here the database is read, once per kind of data (no query
per row), and handed over as plain data.
"""
from collections.abc import Mapping
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.dashboards import (
    KIND_LABELS,
    NIVEAUX,
    PERCENT_BINS,
    PHASE_LABELS,
    SCORE_RECORD_KEYS,
    Score,
    RESTANTS_BINS,
    STATUT_FILTERS,
    TRIS,
    DashboardTree,
    Node,
    Suivi,
    build_tree,
    mesures,
    parse_mesures_filters,
    parse_priorisation_filters,
    priorisation,
)
from app.extensions import db
from app.models import Action, ActionStatut, Collectivite, Precision, PreuveFichier, PreuveLien, Referentiel, Thematique
from app.policy import can
from app.services.scores import StoredScores, scores_for
from app.services.scoring_content import LATEST_VERSION
from app.services.statuts import STATUT_LABELS, read_statuts

PARIS = ZoneInfo("Europe/Paris")  # "modifié depuis" is a day in Paris

# (content version, référentiel id) -> its tree: the content changes only with a load.
_trees: dict[tuple, DashboardTree] = {}


def dashboard_tree(referentiel: Referentiel) -> DashboardTree:
    """The référentiel's live actions as app.dashboards reads them, in display order."""
    key = (tuple(db.session.execute(LATEST_VERSION).first() or ()), referentiel.id)
    tree = _trees.get(key)
    if tree is None:
        rows = db.session.execute(
            select(Action.id, Action.parent_id, Action.depth, Action.identifiant, Action.nom, Action.categorie,
                   Action.thematique_id)
            .where(Action.referentiel_id == referentiel.id, Action.archived.is_(False))
            .order_by(Action.depth, Action.position)
        ).all()
        children: dict[str | None, list] = {}
        for row in rows:
            children.setdefault(row.parent_id, []).append(row)
        ordered, stack = [], list(reversed(children.get(None, [])))
        while stack:  # depth first, siblings in position order
            row = stack.pop()
            ordered.append(Node(row.id, row.parent_id, row.depth, row.identifiant, row.nom, row.categorie,
                                row.thematique_id))
            stack.extend(reversed(children.get(row.id, [])))
        names = dict(db.session.execute(select(Thematique.id, Thematique.nom)).all())
        tree = build_tree(ordered, referentiel.action_level, names)
        for stale in [cached for cached in _trees if cached[0] != key[0]]:  # one content version at a time
            del _trees[stale]
        _trees[key] = tree
    return tree


def collectivite_and_referentiel(collectivite_id: int, referentiel_id: str) -> tuple[Collectivite, Referentiel] | None:
    """Both, when they exist and the référentiel is live (a référentiel page's 404 otherwise)."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    referentiel = db.session.get(Referentiel, referentiel_id)
    if collectivite is None or referentiel is None or referentiel.archived:
        return None
    return collectivite, referentiel


def _choices(labels: Mapping[str, str]) -> list[tuple[str, str]]:
    return list(labels.items())


def _filter_options(tree: DashboardTree) -> dict:
    """The options of the filter forms: (value, label) per filter."""
    return {
        "axe": [(axe.identifiant, f"{axe.identifiant}. {axe.nom}") for axe in tree.axes],
        "phase": [(key, PHASE_LABELS[key]) for key in tree.phases()],
        "thematique": sorted(((key, tree.thematique_names.get(key, key)) for key in tree.thematiques),
                             key=lambda option: option[1]),
    }


def priorisation_page(collectivite_id: int, referentiel_id: str, args: Mapping) -> dict | None:
    """The aide à la priorisation: the rows kept by the filters of `args` (the query string), the
    matrix points restants × phase, the French messages of the filters not understood."""
    found = collectivite_and_referentiel(collectivite_id, referentiel_id)
    if found is None:
        return None
    collectivite, referentiel = found
    tree = dashboard_tree(referentiel)
    stored = scores_for(collectivite_id, referentiel_id)
    scores = _scores(stored)
    filters, errors = parse_priorisation_filters(args, tree)
    rows, matrix = priorisation(tree, scores, filters)
    return {
        "collectivite": collectivite,
        "referentiel": referentiel,
        "current_tab": referentiel_id,
        "tree": tree,
        "scored": bool(scores),
        "filters": filters,
        "errors": errors,
        "rows": rows,
        "matrix": matrix,
        "labels": {"phase": PHASE_LABELS, "tri": TRIS, "restants": {key: b[0] for key, b in RESTANTS_BINS.items()}},
        "options": {
            **_filter_options(tree),
            "niveau": _choices(NIVEAUX),
            "tri": _choices(TRIS),
            "realise": [(key, bounds[0]) for key, bounds in PERCENT_BINS.items()],
            "programme": [(key, bounds[0]) for key, bounds in PERCENT_BINS.items()],
            "restants": [(key, bounds[0]) for key, bounds in RESTANTS_BINS.items()],
        },
    }


def mesures_page(user, collectivite_id: int, referentiel_id: str, args: Mapping) -> dict | None:
    """The tableau des mesures: every node with its statut, score, précision present and preuves
    count, kept by the filters of `args`."""
    found = collectivite_and_referentiel(collectivite_id, referentiel_id)
    if found is None:
        return None
    collectivite, referentiel = found
    tree = dashboard_tree(referentiel)
    stored = scores_for(collectivite_id, referentiel_id)
    filters, errors = parse_mesures_filters(args, tree)
    statuts = read_statuts(collectivite_id, ActionStatut.referentiel_id == referentiel_id)
    suivis = _suivis(collectivite_id, referentiel_id, {key: value.value for key, value in statuts.items()})
    return {
        "collectivite": collectivite,
        "referentiel": referentiel,
        "current_tab": referentiel_id,
        "tree": tree,
        "filters": filters,
        "errors": errors,
        "table": mesures(tree, _scores(stored), suivis, filters),
        "scores": stored,
        "can_edit": can(user, "edit", collectivite_id),
        "options": {**_filter_options(tree), "statut": _choices(STATUT_FILTERS)},
        "statut_labels": STATUT_LABELS,
        "kind_labels": KIND_LABELS,
    }


def _scores(stored: StoredScores) -> dict[str, Score]:
    return {action_id: Score(*values) for action_id, values in stored.columns(SCORE_RECORD_KEYS).items()}


def _suivis(collectivite_id: int, referentiel_id: str, statuts: Mapping[str, str]) -> dict[str, Suivi]:
    """Per action of the référentiel: its statut, précision present, preuves count and last change
    (one query per table)."""
    prefix = f"{referentiel_id}_%"
    changes: dict[str, list[datetime]] = {}
    precision: set[str] = set()
    preuves: dict[str, int] = {}
    for action_id, at in db.session.execute(
        select(ActionStatut.action_id, ActionStatut.modified_at).where(
            ActionStatut.collectivite_id == collectivite_id, ActionStatut.referentiel_id == referentiel_id)
    ):
        changes.setdefault(action_id, []).append(at)
    for action_id, at in db.session.execute(
        select(Precision.action_id, Precision.modified_at).where(
            Precision.collectivite_id == collectivite_id, Precision.action_id.like(prefix), Precision.texte != "")
    ):
        precision.add(action_id)
        changes.setdefault(action_id, []).append(at)
    for model, at_column in ((PreuveFichier, PreuveFichier.uploaded_at), (PreuveLien, PreuveLien.created_at)):
        for action_id, count, at in db.session.execute(
            select(model.action_id, func.count(), func.max(at_column))
            .where(model.collectivite_id == collectivite_id, model.action_id.like(prefix))
            .group_by(model.action_id)
        ):
            preuves[action_id] = preuves.get(action_id, 0) + count
            changes.setdefault(action_id, []).append(at)
    return {
        action_id: Suivi(statut=statuts.get(action_id), precision=action_id in precision,
                         preuves=preuves.get(action_id, 0), modified_on=_paris_day(max(changes.get(action_id, [None]))))
        for action_id in {*statuts, *changes}
    }


def _paris_day(at: datetime | None) -> date | None:
    return at and at.replace(tzinfo=UTC).astimezone(PARIS).date()
