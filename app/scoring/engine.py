"""The scoring engine: tree + statuts + consequences -> one score record per node (scoring.md §3).

Pure: imports only the standard library and app.scoring.*.

Steps 0–6 run on flat lists indexed like the PreparedTree (upward order). Records are built
lazily by the ScoreTable: step 7 (`renseigne`) and step 8 (rounding) only read final values, so
they run when a record (or all rows) is asked for. Nodes with neither a statut nor a
non-concerné / désactivé node at or below them (the "quiet" ones) keep the default record of a
tâche without statut (zeros, counts from the tree): only their potential and non-renseigné sums
are computed.
"""
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from heapq import heapify, heappop, heappush
from itertools import compress

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


@dataclass(frozen=True, eq=False)
class Columns:
    """Unrounded values of every node, indexed like the PreparedTree (engine internals)."""

    fait: list
    programme: list
    pas_fait: list
    non_renseigne: list
    potentiel: list
    concerne: list
    total: list
    completed: list
    fait_avancement: list
    programme_avancement: list
    pas_fait_avancement: list
    pas_concerne_avancement: list
    desactive: list
    potentiel_perso: list


@lru_cache(maxsize=1 << 16, typed=True)
def _round3(value: float) -> float:
    """Step 8: Python's round(x, 3). Cached: it is slow and the same values come back a lot
    (zeros are passed by: round leaves them as they are, sign and type included)."""
    return round(value, 3)


def _round_point(value):
    return _round3(value) if value else value


def _rounded(values: list) -> list:
    return [_round3(value) if value else value for value in values]


class ScoreTable(Mapping[str, ActionScore]):
    """Scores of every node of a tree, kept as columns. Steps 7 (renseigne) and 8 (rounding)
    only read final values: they run when a record (`table[action_id]`) or the rows are asked for."""

    def __init__(self, tree: PreparedTree, columns: Columns):
        self.tree = tree
        self.columns = columns

    def __getitem__(self, action_id: str) -> ActionScore:
        return self.record(self.tree.index[action_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self.tree.ids)

    def __len__(self) -> int:
        return self.tree.size

    def records(self) -> Iterator[ActionScore]:
        """Every record, deepest nodes first."""
        return (ActionScore(action_id, *row) for action_id, row in self.rows().items())

    def record(self, i: int) -> ActionScore:
        c, parent = self.columns, self.tree.parent[i]
        return ActionScore(
            self.tree.ids[i],
            _round_point(self.tree.points[i]),
            _round_point(c.fait[i]),
            _round_point(c.programme[i]),
            _round_point(c.pas_fait[i]),
            _round_point(c.non_renseigne[i]),
            _round_point(c.potentiel[i]),
            c.concerne[i],
            c.total[i],
            c.completed[i],
            float(c.fait_avancement[i]),
            float(c.programme_avancement[i]),
            float(c.pas_fait_avancement[i]),
            float(c.pas_concerne_avancement[i]),
            c.desactive[i],
            _round_point(c.potentiel_perso[i]),
            _renseigne(c.desactive[i], c.concerne[i], parent < 0 or c.concerne[parent], c.non_renseigne[i]),
        )

    def rows(self) -> dict[str, tuple]:
        """action id -> the values of SCORE_FIELDS, for every node (column-wise: much faster
        than building every record)."""
        c, parents = self.columns, self.tree.parent
        parent_concerne = [c.concerne[p] if p >= 0 else True for p in parents]
        renseigne = list(map(_renseigne, c.desactive, c.concerne, parent_concerne, c.non_renseigne))
        columns = (
            _rounded(self.tree.points), _rounded(c.fait), _rounded(c.programme), _rounded(c.pas_fait),
            _rounded(c.non_renseigne), _rounded(c.potentiel), c.concerne, c.total, c.completed,
            list(map(float, c.fait_avancement)), list(map(float, c.programme_avancement)),
            list(map(float, c.pas_fait_avancement)), list(map(float, c.pas_concerne_avancement)),
            c.desactive, _rounded(c.potentiel_perso), renseigne,
        )
        return dict(zip(self.tree.ids, zip(*columns)))


def _renseigne(desactive: bool, concerne: bool, parent_concerne: bool, non_renseigne: float) -> bool:
    """Step 7, on unrounded values: false while a concerné node still has points to fill in."""
    return not (not desactive and concerne and parent_concerne and non_renseigne > 0.0)


def score_referentiel(
    tree: PreparedTree, statuts: Sequence[Statut], consequences: Mapping[str, Consequence]
) -> ScoreTable:
    """Statuts and consequences whose id is not in the tree are ignored (the reference engine
    crashes on an unknown consequence carrying a factor or a score formula)."""
    n, index = tree.size, tree.index
    parent, subtree = tree.parent, tree.subtree

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
    avancement = {}
    with_statut = []
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
        with_statut.append(i)

    out = _propagate_non_concerne(tree, concerned, non_concerne)
    potentiel = _potentials(tree, points, concerned, non_concerne, out)

    # Only nodes with a statut or a non-concerné node at or below them need rules A/B.
    loud = set(with_statut)
    loud.update(out)
    added = loud
    while added:  # one level of ancestors per round
        added = {parent[i] for i in added} - loud
        added.discard(-1)
        loud |= added
    columns = Columns(
        **_scores(tree, potentiel, loud, out, non_concerne, avancement),
        desactive=desactive,
        potentiel_perso=potentiel_perso,
    )
    for a, formule in formulas:
        _override_with_formula(tree, columns, a, formule)
    return ScoreTable(tree, columns)


def _propagate_non_concerne(tree: PreparedTree, concerned: list, non_concerne: list) -> list[int]:
    """Step 2: a node all of whose children are in N joins N (unless it is in C), upward.
    Returns the members of N. Only parents of members can join, so only they are visited."""
    children, parent = tree.children, tree.parent
    out = list(compress(range(tree.size), non_concerne))
    candidates = list({parent[i] for i in out if parent[i] >= 0})
    heapify(candidates)  # smallest index first: the upward order
    while candidates:
        p = heappop(candidates)
        if non_concerne[p] or concerned[p]:
            continue
        for child in children[p]:
            if not non_concerne[child]:
                break
        else:
            non_concerne[p] = True
            out.append(p)
            if parent[p] >= 0:
                heappush(candidates, parent[p])
    return out


def _potentials(tree: PreparedTree, points: list, concerned: list, non_concerne: list, out: list) -> list:
    """Steps 3 (potentials, redistribution below the action level) and 4 (resizing)."""
    children, parent, depth, level = tree.children, tree.parent, tree.depth, tree.action_level
    share = {}
    for p in {parent[i] for i in out if parent[i] >= 0 and depth[i] > level}:
        kids = children[p]
        outside = [c for c in kids if non_concerne[c]]
        if len(outside) == len(kids):
            continue
        eligible = [c for c in kids if not non_concerne[c] and points[c] != 0]
        if eligible:
            redistributed = 0
            for c in outside:
                redistributed += points[c]
            amount = redistributed / len(eligible)
            for c in eligible:
                share[c] = amount

    potentiel = points.copy()
    for i in out:
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


def _scores(
    tree: PreparedTree, potentiel: list, loud: set, out: list, non_concerne: list, avancement: dict
) -> dict:
    """Step 5. Rule A1 for the members of N (`out`), A2 for the other nodes with an avancement
    (`avancement`: index -> fractions), rule B upward for the remaining loud inner nodes. Quiet nodes (not in `loud`) keep the
    defaults set here (rule A3 for a leaf, rule B over quiet children otherwise): only their
    non-renseigné sum is computed."""
    n, children, leaves = tree.size, tree.children, tree.direct_leaves
    fait, programme, pas_fait = [0.0] * n, [0.0] * n, [0.0] * n
    non_renseigne = potentiel.copy()
    total, completed = list(tree.tache_counts), [0] * n
    fait_av, programme_av, pas_fait_av, pas_concerne_av = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n
    concerne = [True] * n
    for i in tree.inner:
        if i not in loud:
            value = 0
            for c in children[i]:
                value += non_renseigne[c]
            non_renseigne[i] = value

    for i in out:  # A1 (non_renseigne = potentiel = 0 already)
        total[i] = completed[i] = pas_concerne_av[i] = leaves[i]
        concerne[i] = False
    for i, (f, p, pf) in avancement.items():  # A2
        if not non_concerne[i]:
            pot, t = potentiel[i], leaves[i]
            fait[i], programme[i], pas_fait[i], non_renseigne[i] = pot * f, pot * p, pot * pf, 0.0
            total[i] = completed[i] = t
            fait_av[i], programme_av[i], pas_fait_av[i] = f * t, p * t, pf * t
    for i in sorted(loud.difference(out, avancement)):  # B, upward: sums in children-list order, from integer 0
        kids = children[i]
        if not kids:
            continue  # A3: a leaf without avancement keeps the defaults
        f = p = pf = nr = t = done = fa = pa = pfa = pca = 0
        any_concerne = False
        for c in kids:
            f += fait[c]
            p += programme[c]
            pf += pas_fait[c]
            nr += non_renseigne[c]
            t += total[c]
            done += completed[c]
            fa += fait_av[c]
            pa += programme_av[c]
            pfa += pas_fait_av[c]
            pca += pas_concerne_av[c]
            any_concerne = any_concerne or concerne[c]
        fait[i], programme[i], pas_fait[i], non_renseigne[i], total[i], completed[i] = f, p, pf, nr, t, done
        fait_av[i], programme_av[i], pas_fait_av[i], pas_concerne_av[i] = fa, pa, pfa, pca
        concerne[i] = any_concerne
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


def _override_with_formula(tree: PreparedTree, columns: Columns, a: int, formule: str) -> None:
    """Step 6: scale the *fait* points of the action's subtree to the formula's ratio, then
    rebuild the action and its ancestors from their children."""
    fait, potentiel, perso = columns.fait, columns.potentiel, columns.potentiel_perso
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
    programme, pas_fait, non_renseigne = columns.programme, columns.pas_fait, columns.non_renseigne
    node = a
    while node >= 0:
        pot = f = nr = pf = p = 0
        for c in tree.children[node]:
            pot += perso[c] or potentiel[c]  # a child's personalised points when non-zero
            f += fait[c]
            nr += non_renseigne[c]
            pf += pas_fait[c]
            p += programme[c]
        perso[node] = potentiel[node] = pot
        fait[node], non_renseigne[node], pas_fait[node], programme[node] = f, nr, pf, p
        node = tree.parent[node]
