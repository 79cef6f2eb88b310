"""The figures of the tableau de bord: score répartition, progression per axe, réalisé per phase.

Pure: standard library only. Percentages shown side by side are split with the largest-remainder
method so that they add up to exactly 100 (never 99,9 or 100,1 under a donut).
"""
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.dashboards.tree import NO_PHASE, PHASE_LABELS, DashboardTree, Node, Score

STATUT_PARTS = {
    "fait": "Réalisé",
    "programme": "Programmé",
    "pas_fait": "Pas fait",
    "non_renseigne": "Non renseigné",
}


def largest_remainder(values: Sequence[float], decimals: int = 1) -> list[float]:
    """Percentages of `values` in their sum, rounded to `decimals` and adding up to exactly 100
    (all 0 when the sum is 0): each gets its floor, the units left go to the largest remainders
    (the first ones on a tie)."""
    total = sum(values)
    if total <= 0:
        return [0.0] * len(values)
    scale = 100 * 10**decimals
    shares = [scale * value / total for value in values]
    units = [int(share) for share in shares]
    by_remainder = sorted(range(len(values)), key=lambda i: units[i] - shares[i])
    for i in by_remainder[: scale - sum(units)]:
        units[i] += 1
    return [unit / 10**decimals for unit in units]


@dataclass(frozen=True)
class Part:
    key: str
    label: str
    points: float
    percent: float  # of the parts' sum, largest remainder: the parts add up to 100


@dataclass(frozen=True)
class Repartition:
    """A node's points split by statut (fait, programmé, pas fait, non renseigné)."""

    referentiel: float  # points of the référentiel
    potentiel: float  # after personnalisation
    parts: tuple[Part, ...]
    taches_total: int
    taches_renseignees: int

    @property
    def empty(self) -> bool:
        """Nothing filled in (or nothing to fill): an empty state rather than a grey donut."""
        return self.potentiel <= 0 or all(part.points <= 0 for part in self.parts if part.key != "non_renseigne")

    def points(self, key: str) -> float:
        return next(part.points for part in self.parts if part.key == key)


def repartition(score: Score) -> Repartition:
    points = [score.fait, score.programme, score.pas_fait, score.non_renseigne]
    return Repartition(
        referentiel=score.referentiel,
        potentiel=score.potentiel,
        parts=tuple(
            Part(key, label, value, percent)
            for (key, label), value, percent in zip(STATUT_PARTS.items(), points, largest_remainder(points))
        ),
        taches_total=score.taches_total,
        taches_renseignees=score.taches_renseignees,
    )


@dataclass(frozen=True)
class ProgressionRow:
    node: Node | None  # None: the Total row
    label: str
    repartition: Repartition


def progression_par_axe(tree: DashboardTree, scores: Mapping[str, Score], depth: int = 1) -> list[ProgressionRow]:
    """A row per axe (down to `depth`: 2 adds each axe's sous-axes after it) in display order,
    then a Total row summed from the axes (not an average of their percentages)."""
    rows = [
        ProgressionRow(node, f"{node.identifiant} {node.nom}", repartition(scores[node.id]))
        for node in tree.nodes
        if 1 <= node.depth <= depth and node.id in scores
    ]
    axes = [scores[node.id] for node in tree.axes if node.id in scores]
    total = Score(*(round(sum(getattr(s, name) for s in axes), 3) for name in
                    ("referentiel", "potentiel", "fait", "programme", "pas_fait", "non_renseigne")),
                  taches_total=sum(s.taches_total for s in axes),
                  taches_renseignees=sum(s.taches_renseignees for s in axes))
    return [*rows, ProgressionRow(None, "Total", repartition(total))]


@dataclass(frozen=True)
class PhaseRepartition:
    parts: tuple[Part, ...]  # Σ fait of the sous-actions per phase, in the usual phase order
    total: float
    sans_phase: tuple[str, ...]  # sous-actions lacking a categorie (to report as a content warning)


def realise_par_phase(tree: DashboardTree, scores: Mapping[str, Score]) -> PhaseRepartition:
    """Σ points faits of the sous-actions by phase; "non classé" appears only when a sous-action
    lacks a categorie."""
    sums = {key: 0.0 for key in PHASE_LABELS if key != NO_PHASE}
    sans_phase = []
    for node in tree.nodes:
        if tree.kind[node.id] != "sous_action":
            continue
        phase = tree.phase[node.id]
        if phase == NO_PHASE:
            sans_phase.append(node.id)
            sums.setdefault(NO_PHASE, 0.0)
        if node.id in scores:
            sums[phase] += scores[node.id].fait
    values = [round(value, 3) for value in sums.values()]
    return PhaseRepartition(
        parts=tuple(Part(key, PHASE_LABELS[key], value, percent)
                    for key, value, percent in zip(sums, values, largest_remainder(values))),
        total=round(sum(values), 3),
        sans_phase=tuple(sans_phase),
    )
