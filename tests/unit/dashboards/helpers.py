"""A small ECI-like tree (action level 2) and hand-written scores for the dashboards' tests.

    eci                         référentiel
    ├── eci_1                   axe 1 (thématique "strategie" on its action)
    │   └── eci_1.1             action
    │       ├── eci_1.1.1       sous-action, bases
    │       │   ├── eci_1.1.1.1 tâche
    │       │   └── eci_1.1.1.2 tâche
    │       └── eci_1.1.2       sous-action, mise en œuvre
    └── eci_2                   axe 2
        └── eci_2.1             action
            ├── eci_2.1.1       sous-action, effets
            └── eci_2.1.2       sous-action without categorie
"""
from app.dashboards import Node, Score, build_tree

NODES = [
    Node("eci", None, 0, "", "Économie circulaire"),
    Node("eci_1", "eci", 1, "1", "Stratégie"),
    Node("eci_1.1", "eci_1", 2, "1.1", "Définir la stratégie", thematique="strategie"),
    Node("eci_1.1.1", "eci_1.1", 3, "1.1.1", "Diagnostic", categorie="bases"),
    Node("eci_1.1.1.1", "eci_1.1.1", 4, "1.1.1.1", "Recenser"),
    Node("eci_1.1.1.2", "eci_1.1.1", 4, "1.1.1.2", "Mesurer"),
    Node("eci_1.1.2", "eci_1.1", 3, "1.1.2", "Plan d'actions", categorie="mise en œuvre"),
    Node("eci_2", "eci", 1, "2", "Déchets"),
    Node("eci_2.1", "eci_2", 2, "2.1", "Collecte", thematique="dechets"),
    Node("eci_2.1.1", "eci_2.1", 3, "2.1.1", "Résultats", categorie="effets"),
    Node("eci_2.1.2", "eci_2.1", 3, "2.1.2", "Sans phase"),
]
TREE = build_tree(NODES, action_level=2)


def score(potentiel, fait=0.0, programme=0.0, pas_fait=0.0, referentiel=None, **flags) -> Score:
    """A node's score; non renseigné is what the other three leave of the potentiel."""
    non_renseigne = round(potentiel - fait - programme - pas_fait, 3)
    flags.setdefault("renseigne", non_renseigne == 0)
    return Score(potentiel if referentiel is None else referentiel, potentiel, fait, programme, pas_fait,
                 non_renseigne, **flags)


SCORES = {
    "eci_1.1.1.1": score(2, fait=2),
    "eci_1.1.1.2": score(2),
    "eci_1.1.1": score(4, fait=2),
    "eci_1.1.2": score(6, fait=1, programme=3, pas_fait=2),
    "eci_1.1": score(10, fait=3, programme=3, pas_fait=2),
    "eci_1": score(10, fait=3, programme=3, pas_fait=2),
    "eci_2.1.1": score(8, fait=8),
    "eci_2.1.2": score(0, referentiel=5, desactive=True, renseigne=True),
    "eci_2.1": score(8, fait=8, referentiel=13),
    "eci_2": score(8, fait=8, referentiel=13),
    "eci": score(18, fait=11, programme=3, pas_fait=2, referentiel=23),
}
