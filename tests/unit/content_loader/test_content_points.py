"""Points inference, on the spec's examples (content-format §3.5, content-2025 §3.3)."""
import math

import pytest

from app.content_loader.points import infer_points


def tree(spec: dict[str, tuple[float | None, float | None, list[str]]]):
    """{id: (points, pourcentage, children)} -> infer_points(...) on root "r"."""
    children = {key: kids for key, (_, _, kids) in spec.items()}
    points = {key: value for key, (value, _, _) in spec.items()}
    shares = {key: share for key, (_, share, _) in spec.items()}
    return infer_points("r", children, points, shares)


N = None


@pytest.mark.parametrize("spec, expected", [
    (  # equal splits below explicit points
        {"r": (100, N, ["1", "2"]), "1": (30, N, ["1.1", "1.2", "1.3"]), "2": (70, N, ["2.1", "2.2"]),
         "1.1": (N, N, []), "1.2": (N, N, []), "1.3": (N, N, []), "2.1": (N, N, []), "2.2": (N, N, [])},
        {"1.1": 10, "1.3": 10, "2.1": 35, "2.2": 35},
    ),
    (  # a pointed sibling makes the others 0
        {"r": (100, N, ["0", "1"]), "0": (N, N, []), "1": (100, N, [])},
        {"0": 0, "1": 100},
    ),
    (  # pourcentage 0 excluded from the equal split
        {"r": (100, N, ["1", "2", "3"]), "1": (N, 0, []), "2": (N, N, []), "3": (N, N, [])},
        {"1": 0, "2": 50, "3": 50},
    ),
    (
        {"r": (100, N, ["1", "2"]), "1": (N, 100, []), "2": (N, N, [])},
        {"1": 100, "2": 0},
    ),
    (  # exactly 100 after left-to-right float addition
        {"r": (100, N, ["1", "2", "3"]), "1": (N, 33.33, []), "2": (N, 33.33, []), "3": (N, 33.34, [])},
        {"1": 0.3333 * 100},
    ),
    (  # root without points sums its children
        {"r": (N, N, ["1", "2"]), "1": (60, N, []), "2": (40, N, [])},
        {"r": 100},
    ),
    (  # (pourcentage / 100) * points, in that order
        {"r": (12, N, ["1", "2"]), "1": (N, 15, []), "2": (N, 85, [])},
        {"1": 1.7999999999999998, "2": 10.2},
    ),
])
def test_spec_examples(spec, expected):
    points, problems = tree(spec)
    assert problems == []
    for key, value in expected.items():
        assert points[key] == value


def test_cae_action_with_sous_actions_and_many_taches():
    spec = {"r": (10, N, ["1", "2", "3"]), "1": (N, 20, []), "3": (N, 30, []),
            "2": (N, 50, [f"2.{i}" for i in range(1, 23)])}
    spec.update({f"2.{i}": (N, N, []) for i in range(1, 23)})
    points, problems = tree(spec)
    assert problems == []
    assert (points["1"], points["2"], points["3"]) == (2.0, 5.0, 3.0)
    assert points["2.7"] == 5 / 22


@pytest.mark.parametrize("spec, message", [
    ({"r": (100, N, ["1", "2"]), "1": (N, 10, []), "2": (N, 80, [])},
     "Les valeurs des actions 1, 2 sont renseignées en pourcentage, mais leur somme fait 90.0 au lieu de 100."),
    ({"r": (60, N, ["1", "2"]), "1": (10, N, []), "2": (51, N, [])},
     "Les valeurs des actions de l'action r sont renseignées en points, mais leur somme fait 61.0 au lieu de 60.0."),
    ({"r": (100, N, ["1", "2"]), "1": (60, N, []), "2": (N, 40, [])},
     "Les valeurs des actions de l'action r sont renseignées en points, mais leur somme fait 60.0 au lieu de 100.0."),
    ({"r": (20, N, ["1", "2"]), "1": (N, 50, []), "2": (N, 50, ["2.1"]), "2.1": (7, N, [])},
     "Les valeurs des actions de l'action 2 sont renseignées en points, mais leur somme fait 7.0 au lieu de 10.0."),
    ({"r": (100, N, ["1"]), "1": (math.nan, N, [])}, "Les points de l'action 1 n'ont pas pu être inférés."),
    # A11: the original crashed here; now one clean message for the topmost node.
    ({"r": (N, N, ["1", "2"]), "1": (N, N, ["1.1"]), "1.1": (N, N, []), "2": (N, N, [])},
     "Les points de l'action r n'ont pas pu être inférés."),
])
def test_problems(spec, message):
    _, problems = tree(spec)
    assert [text for _, text in problems] == [message]
