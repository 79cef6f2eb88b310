"""Score over time, per référentiel and per axe, from the daily history records."""
from datetime import date

from app.dashboards import evolution
from tests.unit.dashboards.helpers import TREE


def record(potentiel, fait, programme=0.0):
    return {"point_referentiel": potentiel, "point_potentiel": potentiel, "point_fait": fait,
            "point_programme": programme, "point_pas_fait": 0.0, "point_non_renseigne": potentiel - fait - programme,
            "desactive": False, "concerne": True, "renseigne": False, "total_taches_count": 0,
            "completed_taches_count": 0}


HISTORY = [  # as read back: days in any order, only days with a re-score
    (date(2025, 3, 10), {"eci": record(20, 10, 4), "eci_1": record(10, 5, 4), "eci_2": record(10, 5)}),
    (date(2025, 1, 6), {"eci": record(20, 2), "eci_1": record(10, 2), "eci_2": record(10, 0)}),
    (date(2025, 2, 1), {"eci": record(0, 0)}),  # a root-only day (recorded before the per-node history)
]


def test_evolution_of_the_referentiel_and_its_axes_by_day():
    curves = evolution(TREE, HISTORY)
    assert [curve.node.id for curve in curves] == ["eci", "eci_1", "eci_2"]
    root = curves[0]
    assert [(p.day, p.fait, p.programme, p.pct_fait, p.pct_programme) for p in root.points] == [
        (date(2025, 1, 6), 2, 0, 10, 0),
        (date(2025, 2, 1), 0, 0, None, None),  # potentiel 0: no percentage
        (date(2025, 3, 10), 10, 4, 50, 20),
    ]
    assert [p.day for p in curves[1].points] == [date(2025, 1, 6), date(2025, 3, 10)]  # missing days left out


def test_evolution_of_chosen_nodes_and_of_an_empty_history():
    assert [c.node.id for c in evolution(TREE, HISTORY, ["eci_2"])] == ["eci_2"]
    assert [c.points for c in evolution(TREE, [])] == [(), (), ()]


def test_drawn_days_keep_every_day_when_few_then_the_last_of_each_week_or_month():
    from datetime import timedelta

    from app.dashboards import drawn_days

    start = date(2025, 1, 1)  # a Wednesday
    days = [start + timedelta(days=n) for n in range(0, 40, 2)]
    assert drawn_days(days, 60) == (days, "jour")
    weekly, step = drawn_days(days, 10)
    assert step == "semaine" and weekly[-1] == days[-1] and len(weekly) <= 10
    assert weekly[0] == date(2025, 1, 5)  # the last recorded day of the first week (Sunday 5th)
    monthly, step = drawn_days([start + timedelta(days=n) for n in range(400)], 5)
    assert step == "mois" and len(monthly) == 14 and monthly[0] == date(2025, 1, 31)
    assert drawn_days([], 5) == ([], "jour")
