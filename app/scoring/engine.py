"""The scoring engine: tree + statuts + consequences -> one score record per node (scoring.md §3).

Pure: imports only the standard library and app.scoring.*.

Steps 0–6 run on flat lists indexed like the PreparedTree (upward order). Records are built
lazily by the ScoreTable: step 7 (`renseigne`) and step 8 (rounding) only read final values,
so they run when a record is asked for. Nodes with neither a statut nor a non-concerné /
désactivé node below them (the "quiet" ones) keep the default record of a tâche without statut
(zeros, counts from the tree) and only get their potential and non-renseigné sums computed.
"""
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from app.scoring.formula import evaluate
from app.scoring.personnalisation import Consequence
from app.scoring.tree import PreparedTree


@dataclass(frozen=True)
class Statut:
    """A statut on any node: avancement (fait, programmé, pas fait) or None, and concerne."""

    action_id: str
    avancement: tuple[float, float, float] | None
    concerne: bool = True


@dataclass(frozen=True)
class ActionScore:
    action_id: str
    point_referentiel: float
    point_fait: float
    point_programme: float
    point_pas_fait: float
    point_non_renseigne: float
    point_potentiel: float
    concerne: bool
    total_taches_count: int
    completed_taches_count: int
    fait_taches_avancement: float
    programme_taches_avancement: float
    pas_fait_taches_avancement: float
    pas_concerne_taches_avancement: float
    desactive: bool
    point_potentiel_perso: float | None
    renseigne: bool


SCORE_FIELDS = tuple(ActionScore.__dataclass_fields__)[1:]
_SCORE_CALL = re.compile(r"score\(([A-Za-z_][A-Za-z0-9_.]*)\)")


class ScoreTable(Mapping[str, ActionScore]):
    """Scores of every node of a tree, kept as columns; `table[action_id]` builds the record."""

    def __init__(self, tree: PreparedTree, columns: dict[str, list]):
        self.tree = tree
        self._columns = columns

    def __getitem__(self, action_id: str) -> ActionScore:
        return self.record(self.tree.index[action_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self.tree.ids)

    def __len__(self) -> int:
        return self.tree.size

    def records(self) -> Iterator[ActionScore]:
        """Every record, deepest nodes first."""
        return map(self.record, range(self.tree.size))

    def record(self, i: int) -> ActionScore:
        c = self._columns
        parent = self.tree.parent[i]
        concerne, non_renseigne = c["concerne"][i], c["non_renseigne"][i]
        # Step 7, on unrounded values.
        renseigne = not (
            not c["desactive"][i]
            and concerne
            and (parent < 0 or c["concerne"][parent])
            and non_renseigne > 0.0
        )
        perso = c["potentiel_perso"][i]
        return ActionScore(
            action_id=self.tree.ids[i],
            point_referentiel=round(self.tree.points[i], 3),
            point_fait=round(c["fait"][i], 3),
            point_programme=round(c["programme"][i], 3),
            point_pas_fait=round(c["pas_fait"][i], 3),
            point_non_renseigne=round(non_renseigne, 3),
            point_potentiel=round(c["potentiel"][i], 3),
            concerne=concerne,
            total_taches_count=c["total"][i],
            completed_taches_count=c["completed"][i],
            fait_taches_avancement=float(c["fait_avancement"][i]),
            programme_taches_avancement=float(c["programme_avancement"][i]),
            pas_fait_taches_avancement=float(c["pas_fait_avancement"][i]),
            pas_concerne_taches_avancement=float(c["pas_concerne_avancement"][i]),
            desactive=c["desactive"][i],
            point_potentiel_perso=round(perso, 3) if perso else perso,
            renseigne=renseigne,
        )


def score_referentiel(
    tree: PreparedTree, statuts: Sequence[Statut], consequences: Mapping[str, Consequence]
) -> ScoreTable:
    """Statuts and consequences whose id is not in the tree are ignored (the reference engine
    crashes on an unknown consequence carrying a factor or a score formula)."""
    n, index = tree.size, tree.index
    children, parent, subtree = tree.children, tree.parent, tree.subtree

    # Steps 0 and 1: personalised points, désactivés (D), personalised actions (P).
    points = list(tree.points)
    desactive = [False] * n
    personalised, formulas = [], []
    for action_id, consequence in consequences.items():
        a = index.get(action_id)
        if a is None:
            continue
        personalised.append(a)
        if consequence.potentiel_perso is not None:
            factor = float(consequence.potentiel_perso)
            for j in subtree[a]:
                points[j] *= factor
        if consequence.desactive:
            for j in subtree[a]:
                desactive[j] = True
        if consequence.score_formule is not None:
            formulas.append((a, str(consequence.score_formule)))
    potentiel_perso = [None] * n
    for a in personalised:
        if not desactive[a]:
            potentiel_perso[a] = points[a]

    # Statuts: C (concerné), N seeds (non concerné), S (avancement, the last one wins).
    concerned = [False] * n
    non_concerne = desactive.copy()
    avancement = [None] * n
    quiet = [True] * n
    for statut in statuts:
        i = index.get(statut.action_id)
        if i is None:
            continue
        if statut.concerne:
            concerned[i] = True
        else:
            non_concerne[i] = True
        if statut.avancement is not None:
            avancement[i] = statut.avancement
        quiet[i] = False

    # Step 2: a node none of whose children is concerné becomes non concerné (unless in C).
    for i in tree.inner:
        if not non_concerne[i] and not concerned[i]:
            for child in children[i]:
                if not non_concerne[child]:
                    break
            else:
                non_concerne[i] = True

    potentiel = _potentials(tree, points, concerned, non_concerne)

    for i in range(n):
        if non_concerne[i]:
            quiet[i] = False
    for i in range(n):  # upward: a node with something below it is not quiet
        if not quiet[i] and parent[i] >= 0:
            quiet[parent[i]] = False

    columns = _scores(tree, potentiel, quiet, non_concerne, avancement)
    columns["desactive"] = desactive
    columns["potentiel_perso"] = potentiel_perso
    for a, formule in formulas:
        _override_with_formula(tree, columns, a, formule)
    return ScoreTable(tree, columns)


def _potentials(tree: PreparedTree, points: list, concerned: list, non_concerne: list) -> list:
    """Steps 3 (potentials, redistribution below the action level) and 4 (resizing)."""
    children = tree.children
    share = {}
    for p in tree.resizable:  # the parents of the nodes deeper than the action level
        kids = children[p]
        out = [c for c in kids if non_concerne[c]]
        if not out or len(out) == len(kids):
            continue
        eligible = [c for c in kids if not non_concerne[c] and points[c] != 0]
        if eligible:
            redistributed = 0
            for c in out:
                redistributed += points[c]
            amount = redistributed / len(eligible)
            for c in eligible:
                share[c] = amount

    potentiel = points.copy()
    for i, is_out in enumerate(non_concerne):
        if is_out:
            potentiel[i] = 0.0
    for c, amount in share.items():
        if not children[c]:
            potentiel[c] = potentiel[c] + amount
    for i in tree.inner:
        if non_concerne[i]:
            continue
        if concerned[i]:
            base = points[i]
        else:
            base = 0
            for c in children[i]:
                base += potentiel[c]
        potentiel[i] = base + share[i] if i in share else base

    for i in tree.resizable:
        p, q = potentiel[i], points[i]
        if p != q:
            for c in children[i]:
                potentiel[c] = potentiel[c] / q * p if q != 0 else 0.0
    return potentiel


def _scores(tree: PreparedTree, potentiel: list, quiet: list, non_concerne: list, avancement: list) -> dict:
    """Step 5. Quiet nodes keep the defaults set here (rule A3 for a leaf, rule B over quiet
    children otherwise); only their non-renseigné sum is computed."""
    n, children, leaves = tree.size, tree.children, tree.direct_leaves
    fait, programme, pas_fait = [0.0] * n, [0.0] * n, [0.0] * n
    non_renseigne = potentiel.copy()
    total, completed = list(tree.tache_counts), [0] * n
    fait_av, programme_av, pas_fait_av, pas_concerne_av = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n
    concerne = [True] * n
    for i in tree.inner:
        if quiet[i]:
            value = 0
            for c in children[i]:
                value += non_renseigne[c]
            non_renseigne[i] = value

    for i in [i for i in range(n) if not quiet[i]]:
        kids = children[i]
        if non_concerne[i]:  # A1
            non_renseigne[i] = potentiel[i]
            total[i] = completed[i] = pas_concerne_av[i] = leaves[i]
            concerne[i] = False
        elif avancement[i] is not None:  # A2
            f, p, pf = avancement[i]
            pot, t = potentiel[i], leaves[i]
            fait[i], programme[i], pas_fait[i], non_renseigne[i] = pot * f, pot * p, pot * pf, 0.0
            total[i] = completed[i] = t
            fait_av[i], programme_av[i], pas_fait_av[i] = f * t, p * t, pf * t
        elif kids:  # B
            sums = [0] * 10
            any_concerne = False
            for c in kids:
                sums[0] += fait[c]
                sums[1] += programme[c]
                sums[2] += pas_fait[c]
                sums[3] += non_renseigne[c]
                sums[4] += total[c]
                sums[5] += completed[c]
                sums[6] += fait_av[c]
                sums[7] += programme_av[c]
                sums[8] += pas_fait_av[c]
                sums[9] += pas_concerne_av[c]
                any_concerne = any_concerne or concerne[c]
            (fait[i], programme[i], pas_fait[i], non_renseigne[i], total[i], completed[i],
             fait_av[i], programme_av[i], pas_fait_av[i], pas_concerne_av[i]) = sums
            concerne[i] = any_concerne
        # else A3: a leaf without avancement keeps the defaults.
    return {
        "fait": fait,
        "programme": programme,
        "pas_fait": pas_fait,
        "non_renseigne": non_renseigne,
        "potentiel": potentiel,
        "concerne": concerne,
        "total": total,
        "completed": completed,
        "fait_avancement": fait_av,
        "programme_avancement": programme_av,
        "pas_fait_avancement": pas_fait_av,
        "pas_concerne_avancement": pas_concerne_av,
    }


def _override_with_formula(tree: PreparedTree, columns: dict, a: int, formule: str) -> None:
    """Step 6: scale the *fait* points of the action's subtree to the formula's ratio, then
    rebuild the action and its ancestors from their children."""
    fait, potentiel, perso = columns["fait"], columns["potentiel"], columns["potentiel_perso"]
    if potentiel[a] == 0.0:
        return
    original = fait[a] / potentiel[a]
    unknown = []

    def ratio(match: re.Match) -> str:
        i = tree.index.get(match.group(1))
        if i is None:
            unknown.append(match.group(1))
            return "0"
        return repr(fait[i] / potentiel[i]) if potentiel[i] != 0 else "0"

    text = _SCORE_CALL.sub(ratio, formule)
    if unknown:
        return
    result = evaluate(text)
    if result is None or not original > 0:
        return
    factor = result / original
    for j in tree.subtree[a]:
        fait[j] *= factor
    programme, pas_fait, non_renseigne = columns["programme"], columns["pas_fait"], columns["non_renseigne"]
    node = a
    while node >= 0:
        sums = [0] * 5
        for c in tree.children[node]:
            sums[0] += perso[c] or potentiel[c]
            sums[1] += fait[c]
            sums[2] += non_renseigne[c]
            sums[3] += pas_fait[c]
            sums[4] += programme[c]
        perso[node] = potentiel[node] = sums[0]
        fait[node], non_renseigne[node], pas_fait[node], programme[node] = sums[1:]
        node = tree.parent[node]
