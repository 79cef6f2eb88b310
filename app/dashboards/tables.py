"""The tables of the pilotage pages: aide à la priorisation (rows and matrix) and mesures.

Pure: standard library only. Points restants = potentiel − fait − programmé of the node as the
engine computed them: what the collectivité can still gain by planning more.
"""
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from app.dashboards.filters import (
    PERCENT_BINS,
    RESTANTS_BINS,
    MesuresFilters,
    PriorisationFilters,
    bin_of,
)
from app.dashboards.tree import DashboardTree, Node, Score


@dataclass(frozen=True, slots=True)
class PriorisationRow:
    node: Node
    axe: Node | None
    phase: str | None
    thematique: str | None
    score: Score
    restants: float
    pct_fait: float | None  # None when the potentiel is 0 (désactivé, non concerné): shown "—"
    pct_programme: float | None
    realise_bin: str | None  # PERCENT_BINS key; None without potentiel (left out of the % filters)
    programme_bin: str | None
    restants_bin: str  # RESTANTS_BINS key


def _priorisation_candidates(tree: DashboardTree, scores: Mapping[str, Score], niveau: str) -> list[PriorisationRow]:
    rows = []
    for node in tree.nodes:
        if tree.kind[node.id] != niveau or node.id not in scores:
            continue
        score = scores[node.id]
        potentiel, restants = score.potentiel, score.restants
        rows.append(PriorisationRow(
            node=node,
            axe=tree.axe[node.id],
            phase=tree.phase[node.id],
            thematique=tree.thematique[node.id],
            score=score,
            restants=restants,
            pct_fait=score.percent(score.fait),
            pct_programme=score.percent(score.programme),
            realise_bin=bin_of(score.fait / potentiel, PERCENT_BINS) if potentiel > 0 else None,
            programme_bin=bin_of(score.programme / potentiel, PERCENT_BINS) if potentiel > 0 else None,
            restants_bin=bin_of(restants, RESTANTS_BINS),
        ))
    return rows


_ROW_VALUES = {
    "realise": lambda row: row.realise_bin,
    "programme": lambda row: row.programme_bin,
    "restants": lambda row: row.restants_bin,
    "phase": lambda row: row.phase,
    "axe": lambda row: row.axe.identifiant if row.axe else None,
    "thematique": lambda row: row.thematique,
}


def _filtered(rows: list[PriorisationRow], filters: PriorisationFilters, ignore: tuple[str, ...] = ()) -> list[PriorisationRow]:
    """The rows whose values are among those of every filter set (but those in `ignore`)."""
    checks = [(value_of, getattr(filters, name)) for name, value_of in _ROW_VALUES.items()
              if name not in ignore and getattr(filters, name)]
    return [row for row in rows if all(value_of(row) in allowed for value_of, allowed in checks)]


_SORT_KEYS = {
    "restants": lambda row: -row.restants,
    # Rows without potentiel last: nothing to gain there.
    "realise": lambda row: (row.pct_fait is None, row.pct_fait or 0.0),
    "programme": lambda row: (row.pct_programme is None, row.pct_programme or 0.0),
    "referentiel": lambda row: 0,
}


def priorisation_rows(
    tree: DashboardTree, scores: Mapping[str, Score], filters: PriorisationFilters
) -> list[PriorisationRow]:
    """The sous-actions (or actions, `filters.niveau`) kept by the filters, sorted by `filters.tri`
    (ties in référentiel order)."""
    return _sorted_rows(_priorisation_candidates(tree, scores, filters.niveau), filters)


def _sorted_rows(candidates: list[PriorisationRow], filters: PriorisationFilters) -> list[PriorisationRow]:
    return sorted(_filtered(candidates, filters), key=_SORT_KEYS[filters.tri])


@dataclass(frozen=True)
class MatrixCell:
    phase: str
    restants_bin: str
    count: int
    restants: float  # Σ points restants of the cell's rows
    filters: PriorisationFilters  # the table's filters that list the cell's rows


@dataclass(frozen=True)
class Matrix:
    phases: tuple[str, ...]  # columns
    restants_bins: tuple[str, ...]  # rows, most points first
    cells: Mapping[tuple[str, str], MatrixCell]  # (restants bin, phase) -> cell

    def cell(self, restants_bin: str, phase: str) -> MatrixCell:
        return self.cells[(restants_bin, phase)]


def priorisation_matrix(tree: DashboardTree, scores: Mapping[str, Score], filters: PriorisationFilters) -> Matrix:
    """Points restants bins × phases over the sous-actions kept by the other filters (axe,
    thématique, % réalisé, % programmé); each cell links to the table narrowed to it."""
    return _matrix(tree, _priorisation_candidates(tree, scores, "sous_action"), filters)


def priorisation(
    tree: DashboardTree, scores: Mapping[str, Score], filters: PriorisationFilters
) -> tuple[list[PriorisationRow], Matrix]:
    """priorisation_rows and priorisation_matrix together, the sous-actions' rows built once."""
    sous_actions = _priorisation_candidates(tree, scores, "sous_action")
    candidates = sous_actions if filters.niveau == "sous_action" else _priorisation_candidates(tree, scores, filters.niveau)
    return _sorted_rows(candidates, filters), _matrix(tree, sous_actions, filters)


def _matrix(tree: DashboardTree, sous_actions: list[PriorisationRow], filters: PriorisationFilters) -> Matrix:
    base = replace(filters, niveau="sous_action")
    rows = _filtered(sous_actions, base, ignore=("phase", "restants"))
    phases = tuple(tree.phases())
    counts = {(b, p): [0, 0.0] for b in RESTANTS_BINS for p in phases}
    for row in rows:
        cell = counts[(row.restants_bin, row.phase)]
        cell[0] += 1
        cell[1] += row.restants
    return Matrix(
        phases=phases,
        restants_bins=tuple(RESTANTS_BINS),
        cells={
            (b, p): MatrixCell(p, b, count, round(total, 3),
                               replace(base, phase=frozenset({p}), restants=frozenset({b})))
            for (b, p), (count, total) in counts.items()
        },
    )


@dataclass(frozen=True)
class Suivi:
    """What a collectivité wrote on one node besides its score."""

    statut: str | None = None  # the statut value of its own statut row (None: no row)
    precision: bool = False
    preuves: int = 0
    modified_on: date | None = None  # last change of its statut, précision or preuves (local day)


NO_SUIVI = Suivi()


@dataclass(frozen=True, slots=True)
class MesureRow:
    node: Node
    kind: str
    statut: str | None  # None on the nodes that take no statut (above the sous-actions)
    score: Score | None  # None before the collectivité's scores are computed (the push brings them)
    pct_fait: float | None
    suivi: Suivi
    matches: bool  # False: shown only as the path to rows that match


@dataclass(frozen=True)
class Mesures:
    rows: tuple[MesureRow, ...]
    counts: Mapping[str, tuple[int, int]]  # kind -> (rows matching, nodes of that kind)


def _mesure_matches(node: Node, tree: DashboardTree, statut: str | None, score: Score | None, suivi: Suivi,
                    filters: MesuresFilters) -> bool:
    axe = tree.axe[node.id]
    return (
        (not filters.statut or statut in filters.statut)
        and (not filters.axe or (axe is not None and axe.identifiant in filters.axe))
        and (not filters.phase or tree.phase[node.id] in filters.phase)
        and (not filters.thematique or tree.thematique[node.id] in filters.thematique)
        and (not filters.non_renseigne or (score is not None and not score.renseigne))
        and (filters.depuis is None or (suivi.modified_on is not None and suivi.modified_on >= filters.depuis))
    )


def mesures(
    tree: DashboardTree, scores: Mapping[str, Score], suivis: Mapping[str, Suivi], filters: MesuresFilters
) -> Mesures:
    """Every node below the root in display order, with its statut, points (None: no scores yet,
    every node is listed) and suivi; with
    filters, the nodes that match and their ancestors (the path to them)."""
    settable = {"sous_action", "tache"}
    candidates = []
    for node in tree.nodes[1:]:
        if scores and node.id not in scores:  # a node the engine does not score
            continue
        kind, suivi = tree.kind[node.id], suivis.get(node.id, NO_SUIVI)
        statut = (suivi.statut or "non_renseigne") if kind in settable else None
        score = scores.get(node.id)
        matches = _mesure_matches(node, tree, statut, score, suivi, filters)
        candidates.append(MesureRow(node, kind, statut, score, score and score.percent(score.fait), suivi, matches))
    shown = {row.node.id for row in candidates if row.matches}
    for row in reversed(candidates):  # children before parents: a parent on the path is shown
        if row.node.id in shown and row.node.parent_id is not None:
            shown.add(row.node.parent_id)
    counts: dict[str, list[int]] = {}
    for row in candidates:
        count = counts.setdefault(row.kind, [0, 0])
        count[0] += row.matches
        count[1] += 1
    return Mesures(
        rows=tuple(row for row in candidates if row.node.id in shown),
        counts={kind: (matching, total) for kind, (matching, total) in counts.items()},
    )
