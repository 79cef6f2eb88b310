"""Helpers for the scoring tests: the small ECI-like tree of scoring.md §3 and statut shorthands."""
from app.scoring import Consequence, Statut, prepare_tree, score_referentiel

# scoring.md §3: id -> (points, children)
SMALL_TREE = {
    "eci": (100, ["eci_1", "eci_2"]),
    "eci_1": (40, ["eci_1.1", "eci_1.2"]),
    "eci_1.1": (10, ["eci_1.1.1", "eci_1.1.2"]),
    "eci_1.1.1": (5, []),
    "eci_1.1.2": (5, []),
    "eci_1.2": (30, ["eci_1.2.1", "eci_1.2.2", "eci_1.2.3"]),
    "eci_1.2.1": (10, []),
    "eci_1.2.2": (10, []),
    "eci_1.2.3": (10, []),
    "eci_2": (60, ["eci_2.0", "eci_2.1", "eci_2.2"]),
    "eci_2.0": (0, []),
    "eci_2.1": (20, []),
    "eci_2.2": (40, ["eci_2.2.1", "eci_2.2.2"]),
    "eci_2.2.1": (20, []),
    "eci_2.2.2": (20, []),
}

SHORTHANDS = {
    "fait": ((1.0, 0.0, 0.0), True),
    "programme": ((0.0, 1.0, 0.0), True),
    "pas_fait": ((0.0, 0.0, 1.0), True),
    "non_concerne": (None, False),
    "non_renseigne": (None, True),
}


def build_tree(spec: dict, level: int):
    return prepare_tree(
        {node: children for node, (_, children) in spec.items()},
        {node: points for node, (points, _) in spec.items()},
        level,
    )


def statut(action_id: str, value) -> Statut:
    if isinstance(value, (list, tuple)):
        return Statut(action_id, tuple(value), True)
    avancement, concerne = SHORTHANDS[value]
    return Statut(action_id, avancement, concerne)


def consequence(desactive=None, potentiel_perso=None, score_formule=None) -> Consequence:
    return Consequence(desactive, potentiel_perso, score_formule)


def score(statuts: dict | None = None, consequences: dict | None = None, level: int = 1, spec: dict = SMALL_TREE):
    tree = build_tree(spec, level)
    return score_referentiel(
        tree, [statut(a, v) for a, v in (statuts or {}).items()], dict(sorted((consequences or {}).items()))
    )
