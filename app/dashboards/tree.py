"""The inputs of the dashboards: the référentiel's nodes as plain data, and each node's scores.

Pure: standard library only. The services read the Action rows and the stored score records and
hand them over as these dataclasses; nothing here touches the database.
"""
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

# Phase keys (what the URL carries) -> the `categorie` of the sous-actions in the content.
PHASE_CATEGORIES = {"bases": "bases", "mise_en_oeuvre": "mise en œuvre", "effets": "effets"}
NO_PHASE = "non_classe"  # a sous-action without categorie (a content warning, not an error)
PHASE_LABELS = {
    "bases": "S'engager (bases, diagnostic)",
    "mise_en_oeuvre": "Concrétiser (mise en œuvre)",
    "effets": "Consolider (effets, résultats)",
    NO_PHASE: "Phase non renseignée",
}
KIND_LABELS = {
    "referentiel": "Référentiel",
    "axe": "Axe",
    "sous_axe": "Sous-axe",
    "action": "Action",
    "sous_action": "Sous-action",
    "tache": "Tâche",
}
_PHASE_OF_CATEGORIE = {categorie: key for key, categorie in PHASE_CATEGORIES.items()}


@dataclass(frozen=True)
class Node:
    """One action of the référentiel tree (any depth). `categorie` is set on sous-actions,
    `thematique` (Climat Pratic id) on actions: their descendants inherit both."""

    id: str
    parent_id: str | None
    depth: int
    identifiant: str
    nom: str
    categorie: str | None = None
    thematique: str | None = None


# The keys of a stored score record (app.scoring.SCORE_FIELDS) giving Score's fields, in order.
SCORE_RECORD_KEYS = (
    "point_referentiel", "point_potentiel", "point_fait", "point_programme", "point_pas_fait", "point_non_renseigne",
    "desactive", "concerne", "renseigne", "total_taches_count", "completed_taches_count",
)


class Score(NamedTuple):
    """The figures of one node that the dashboards use, read from a stored score record (a tuple:
    built for every node of a référentiel on each page, it must be cheap)."""

    referentiel: float
    potentiel: float
    fait: float
    programme: float
    pas_fait: float
    non_renseigne: float
    desactive: bool = False
    concerne: bool = True
    renseigne: bool = False
    taches_total: int = 0
    taches_renseignees: int = 0

    @classmethod
    def from_record(cls, record: Mapping) -> "Score":
        """`record`: a stored score record as a dict (the keys of app.scoring.SCORE_FIELDS)."""
        return cls(*(record[key] for key in SCORE_RECORD_KEYS))

    @property
    def restants(self) -> float:
        """Points still to gain: neither done nor planned. To the hundredth: the records are rounded
        to the thousandth, their difference may be 0.001 where nothing is left."""
        return max(0.0, round(self.potentiel - self.fait - self.programme, 2))

    def percent(self, points: float) -> float | None:
        """`points` as a percentage of the potentiel (1 decimal); None when the potentiel is 0."""
        return round(100 * points / self.potentiel, 1) if self.potentiel > 0 else None


def scores_from_records(records: Mapping[str, Mapping], ids: Iterable[str] | None = None) -> dict[str, Score]:
    """Scores of every node (or of `ids` only, those present) from the stored records."""
    wanted = records if ids is None else [i for i in ids if i in records]
    return {action_id: Score.from_record(records[action_id]) for action_id in wanted}


@dataclass(frozen=True, eq=False)
class DashboardTree:
    """The nodes in display order (each parent before its children, siblings in order) and, per
    node id, what the tables and filters need: children, kind, axe, phase and thématique."""

    nodes: tuple[Node, ...]
    action_level: int
    by_id: Mapping[str, Node]
    children: Mapping[str, tuple[str, ...]]
    kind: Mapping[str, str]
    axe: Mapping[str, Node | None]  # the depth-1 ancestor (or the node itself); None for the root
    phase: Mapping[str, str | None]  # phase key of sous-actions and tâches, None above
    thematique: Mapping[str, str | None]
    thematique_names: Mapping[str, str]  # Climat Pratic id -> its French name (the content's)

    @property
    def root(self) -> Node:
        return self.nodes[0]

    @property
    def axes(self) -> list[Node]:
        return [self.by_id[i] for i in self.children[self.root.id]]

    @property
    def thematiques(self) -> set[str]:
        return {t for t in self.thematique.values() if t}

    def phases(self) -> list[str]:
        """The phase keys met in the tree, in the usual order ("non classé" last, when met)."""
        met = set(self.phase.values())
        return [key for key in PHASE_LABELS if key in met]


def kind_of(depth: int, action_level: int) -> str:
    if depth == 0:
        return "referentiel"
    if depth >= action_level:
        return ("action", "sous_action", "tache")[min(depth - action_level, 2)]
    return "axe" if depth == 1 else "sous_axe"


def build_tree(nodes: Sequence[Node], action_level: int, thematique_names: Mapping[str, str] | None = None) -> DashboardTree:
    """`nodes`: the référentiel's actions, root first, each parent before its children and the
    siblings in display order (the order of the pages); `thematique_names`: the names of the
    thématiques (their id stands for a missing one)."""
    by_id = {node.id: node for node in nodes}
    children: dict[str, list[str]] = {node.id: [] for node in nodes}
    kind, axe, phase, thematique = {}, {}, {}, {}
    for node in nodes:
        parent = node.parent_id if node.parent_id in by_id else None
        if parent is not None:
            children[parent].append(node.id)
        kind[node.id] = kind_of(node.depth, action_level)
        axe[node.id] = node if node.depth == 1 else (axe[parent] if parent else None)
        if kind[node.id] == "sous_action":
            phase[node.id] = _PHASE_OF_CATEGORIE.get(node.categorie or "", NO_PHASE)
        else:
            phase[node.id] = phase[parent] if parent else None
        thematique[node.id] = node.thematique or (thematique[parent] if parent else None)
    return DashboardTree(
        nodes=tuple(nodes),
        action_level=action_level,
        by_id=by_id,
        children={key: tuple(value) for key, value in children.items()},
        kind=kind,
        axe=axe,
        phase=phase,
        thematique=thematique,
        thematique_names=thematique_names or {},
    )
