"""Pilotage: the pure computations behind the tableau de bord, the aide à la priorisation, the
tableau des mesures and the score over time (shared/spec/features/dashboards.md §3.1).

Pure: imports only the standard library and app.dashboards.* (tests/unit/test_layers.py). Plain
dataclasses in (the tree's nodes, the stored score records, the suivi of each node), plain data out.
"""
from app.dashboards.evolution import Evolution, EvolutionPoint, drawn_days, evolution
from app.dashboards.figures import (
    STATUT_PARTS,
    Part,
    PhaseRepartition,
    ProgressionRow,
    Repartition,
    largest_remainder,
    progression_par_axe,
    realise_par_phase,
    repartition,
)
from app.dashboards.filters import (
    NIVEAUX,
    PERCENT_BINS,
    RESTANTS_BINS,
    STATUT_FILTERS,
    TRIS,
    MesuresFilters,
    PriorisationFilters,
    parse_mesures_filters,
    parse_priorisation_filters,
)
from app.dashboards.tables import (
    Matrix,
    MatrixCell,
    MesureRow,
    Mesures,
    PriorisationRow,
    Suivi,
    mesures,
    priorisation,
    priorisation_matrix,
    priorisation_rows,
)
from app.dashboards.tree import (
    KIND_LABELS,
    PHASE_LABELS,
    SCORE_RECORD_KEYS,
    DashboardTree,
    Node,
    Score,
    build_tree,
    scores_from_records,
)

__all__ = [
    "KIND_LABELS",
    "NIVEAUX",
    "PERCENT_BINS",
    "PHASE_LABELS",
    "RESTANTS_BINS",
    "SCORE_RECORD_KEYS",
    "STATUT_FILTERS",
    "STATUT_PARTS",
    "TRIS",
    "DashboardTree",
    "Evolution",
    "EvolutionPoint",
    "Matrix",
    "MatrixCell",
    "MesureRow",
    "Mesures",
    "MesuresFilters",
    "Node",
    "Part",
    "PhaseRepartition",
    "PriorisationFilters",
    "PriorisationRow",
    "ProgressionRow",
    "Repartition",
    "Score",
    "Suivi",
    "build_tree",
    "drawn_days",
    "evolution",
    "largest_remainder",
    "mesures",
    "parse_mesures_filters",
    "parse_priorisation_filters",
    "priorisation",
    "priorisation_matrix",
    "priorisation_rows",
    "progression_par_axe",
    "realise_par_phase",
    "repartition",
    "scores_from_records",
]
