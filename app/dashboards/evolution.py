"""The score over time: a référentiel's and its axes' points from the daily history.

Pure: standard library only. The history is what ScoreHistory keeps: one mapping of stored score
records per recorded day (days without a re-score have no row: the curve joins the days it has).
"""
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

# The steps of the drawn days, finest first: a key grouping days, and its French name.
STEPS = (
    ("jour", lambda day: day),
    ("semaine", lambda day: day.isocalendar()[:2]),
    ("mois", lambda day: (day.year, day.month)),
)

from app.dashboards.tree import DashboardTree, Node, Score


@dataclass(frozen=True)
class EvolutionPoint:
    day: date
    fait: float
    programme: float
    potentiel: float
    pct_fait: float | None
    pct_programme: float | None


@dataclass(frozen=True)
class Evolution:
    node: Node
    points: tuple[EvolutionPoint, ...]  # by day; a day lacking the node (content changed) is left out


def evolution(
    tree: DashboardTree, history: Sequence[tuple[date, Mapping[str, Mapping]]], node_ids: Sequence[str] | None = None
) -> list[Evolution]:
    """One curve per node of `node_ids` (default: the référentiel then its axes). `history`:
    (day, stored records of that day) pairs, in any order; only the nodes asked are read."""
    wanted = [tree.root.id, *(axe.id for axe in tree.axes)] if node_ids is None else list(node_ids)
    days = sorted(history, key=lambda item: item[0])
    curves = []
    for node_id in wanted:
        points = []
        for day, records in days:
            if node_id in records:
                score = Score.from_record(records[node_id])
                points.append(EvolutionPoint(day, score.fait, score.programme, score.potentiel,
                                             score.percent(score.fait), score.percent(score.programme)))
        curves.append(Evolution(tree.by_id[node_id], tuple(points)))
    return curves


def drawn_days(days: Sequence[date], max_points: int) -> tuple[list[date], str]:
    """The days to draw out of the recorded `days` (sorted), and the step ("jour", "semaine",
    "mois"): the finest step keeping at most `max_points` days (months beyond that), each group
    drawn by its last recorded day, so the period's last day is always drawn."""
    for step, key in STEPS:
        last_of_group = {key(day): day for day in days}
        if len(last_of_group) <= max_points:
            break
    return sorted(last_of_group.values()), step
