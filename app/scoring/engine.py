"""The scoring engine: tree + statuts + consequences -> one score record per node (scoring.md §3).

Pure: imports only the standard library and app.scoring.*.

Steps 0–6 run on flat lists indexed like the PreparedTree (upward order). Records are built
lazily by the ScoreTable: step 7 (`renseigne`) and step 8 (rounding) only read final values, so
they run when a record (or all rows) is asked for. Nodes with neither a statut nor a
non-concerné / désactivé node at or below them (the "quiet" ones) keep the default record of a
tâche without statut (zeros, counts from the tree): only their potential and non-renseigné sums
are computed. Likewise, when all rows are asked for, only the rows that differ from those of the
tree scored without statut or consequence (built once per tree) are built.
"""
import re
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from heapq import heapify, heappop, heappush
from itertools import compress
from math import copysign, inf
from operator import itemgetter, ne

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
    # Nodes whose record may differ from a quiet node's in more than potentiel and non_renseigne:
    # with a statut or a member of N at or below them, personalised, or rebuilt by a score formula.
    non_default: set


class _RoundingCache(dict):
    """value -> round(value, 3) (step 8). round is slow and the same values come back a lot: a
    dict lookup is many times faster. Cleared when it grows too big."""

    MAX_SIZE = 1 << 16

    def __missing__(self, value: float) -> float:
        if len(self) >= self.MAX_SIZE:
            self.clear()
        rounded = self[value] = round(value, 3)
        return rounded


_ROUNDED = _RoundingCache()


def _rounded(values: Sequence) -> list:
    """round(x, 3) of each value. Zeros are passed by, as round leaves them (a dict cannot tell
    0.0 from -0.0), and so is None (point_potentiel_perso)."""
    return [_ROUNDED[value] if value else value for value in values]


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

    def records_of(self, action_ids: Sequence[str]) -> dict[str, ActionScore]:
        """The records of these actions (those of the tree), built together."""
        nodes = [self.tree.index[action_id] for action_id in action_ids if action_id in self.tree.index]
        return {action_id: ActionScore(action_id, *row) for action_id, row in self._build_rows(nodes).items()}

    def record(self, i: int) -> ActionScore:
        action_id = self.tree.ids[i]
        return ActionScore(action_id, *self._build_rows([i])[action_id])

    def rows(self) -> dict[str, tuple]:
        """action id -> the values of SCORE_FIELDS, for every node, deepest first: what the app
        stores. The rows equal to those of the tree scored without statut or consequence (the
        "plain" table, built once per tree) are that table's own tuples: only the others are built."""
        plain = _plain_table(self.tree)
        changed = self._changed_nodes(plain)
        if changed is None:
            return self._build_rows(None, plain.point_referentiel)
        rows = plain.rows.copy()
        rows.update(self._build_rows(changed, plain.point_referentiel))
        return rows

    def _changed_nodes(self, plain: "_PlainTable") -> tuple[int, ...] | None:
        """The nodes whose row may differ from the plain table's; None when many may: building
        every row is then cheaper than looking for them (measured: beyond about a third of the
        nodes with a record of their own, ~2/3 of the rows differ)."""
        c, tree = self.columns, self.tree
        if 3 * len(c.non_default) > tree.size or plain.odd_points:
            return None
        # A quiet node's record is the plain one, except for potentiel, non_renseigne and
        # renseigne (which also depends on the parent's concerne). A quiet leaf's non_renseigne
        # is its potentiel: only the inner nodes' need a look.
        changed = set(c.non_default)
        changed.update(compress(plain.nodes, map(ne, c.potentiel, plain.columns.potentiel)))
        changed.update(compress(tree.inner, map(ne, plain.pick_inner(c.non_renseigne), plain.inner_non_renseigne)))
        for i in c.non_default:
            if not c.concerne[i]:
                changed.update(tree.children[i])
        return tuple(changed)  # in any order: their rows replace the plain ones in place

    def _build_rows(self, nodes: Sequence[int] | None, point_referentiel: Sequence | None = None) -> dict[str, tuple]:
        """The rows of `nodes` (every node when None), built column-wise: much faster than record
        by record. `point_referentiel`: the rounded points of every node, when known."""
        c, tree = self.columns, self.tree
        pick = _picker(nodes)
        # The root's parent (-1) is the last node, the root itself: its own concerne decides alike.
        parent_concerne = map(c.concerne.__getitem__, pick(tree.parent))
        non_renseigne, concerne, desactive = pick(c.non_renseigne), pick(c.concerne), pick(c.desactive)
        renseigne = [  # step 7, on unrounded values: false while a concerné node has points to fill in
            not (not node_desactive and node_concerne and parent and node_non_renseigne > 0.0)
            for node_desactive, node_concerne, parent, node_non_renseigne
            in zip(desactive, concerne, parent_concerne, non_renseigne)
        ]
        columns = (
            _rounded(pick(tree.points)) if point_referentiel is None else pick(point_referentiel),
            _rounded(pick(c.fait)), _rounded(pick(c.programme)), _rounded(pick(c.pas_fait)),
            _rounded(non_renseigne), _rounded(pick(c.potentiel)), concerne, pick(c.total), pick(c.completed),
            pick(c.fait_avancement), pick(c.programme_avancement), pick(c.pas_fait_avancement),
            pick(c.pas_concerne_avancement), desactive, _rounded(pick(c.potentiel_perso)), renseigne,
        )
        return dict(zip(pick(tree.ids), zip(*columns)))


def _picker(nodes: Sequence[int] | None) -> Callable[[Sequence], Sequence]:
    """column -> the values of `nodes` (the whole column when None), in a sequence."""
    if nodes is None:
        return lambda column: column
    if len(nodes) == 1:  # itemgetter would return the bare value
        return lambda column: (column[nodes[0]],)
    return itemgetter(*nodes) if nodes else lambda column: ()


@dataclass(frozen=True, eq=False)
class _PlainTable:
    """A tree scored without statut or consequence, its rows, and what comparing with it needs."""

    columns: Columns
    rows: dict[str, tuple]
    point_referentiel: list  # rounded
    odd_points: bool  # some -0.0 may come out (see _is_odd): all rows are built
    nodes: list[int]  # 0 .. size - 1
    pick_inner: Callable[[Sequence], Sequence]
    inner_non_renseigne: Sequence


_plain_tables: "weakref.WeakKeyDictionary[PreparedTree, _PlainTable]" = weakref.WeakKeyDictionary()


def _plain_table(tree: PreparedTree) -> _PlainTable:
    """Built on first use, then kept as long as the tree (building it twice in two threads is harmless)."""
    plain = _plain_tables.get(tree)
    if plain is None:
        table = score_referentiel(tree, [], {})
        pick_inner = _picker(tree.inner)
        plain = _PlainTable(table.columns, table._build_rows(None), _rounded(tree.points),
                            any(map(_is_odd, tree.points)),
                            list(range(tree.size)), pick_inner, pick_inner(table.columns.non_renseigne))
        _plain_tables[tree] = plain
    return plain


def score_referentiel(
    tree: PreparedTree, statuts: Sequence[Statut], consequences: Mapping[str, Consequence]
) -> ScoreTable:
    """Statuts and consequences whose id is not in the tree are ignored (the reference engine
    crashes on an unknown consequence carrying a factor or a score formula)."""
    return draft_referentiel(tree, statuts, consequences).table(reuse=True)


@dataclass(frozen=True, eq=False)
class Draft:
    """Steps 0–5 of a scoring (step 6, the score formulas, applied by `table`), kept so that a
    what-if can score changed avancements again from it (`with_avancements`)."""

    tree: PreparedTree
    statuts: Mapping[str, Statut]  # by action id, the last one of each
    consequences: Mapping[str, Consequence]
    columns: Columns  # before step 6
    formulas: tuple[tuple[int, str], ...]
    odd_factor: bool
    avancement: Mapping[int, tuple]  # index -> fractions of the nodes whose avancement counts (rule A2)
    non_concerne: Sequence[bool]  # N, désactivés included

    def table(self, reuse: bool = False) -> ScoreTable:
        """The scores; `reuse`: the draft's own columns become the table's (the draft is then
        spent), else they are copied first when a score formula must change them."""
        columns = self.columns
        if (self.formulas or self.odd_factor) and not reuse:
            columns = Columns(**{name: getattr(columns, name).copy() for name in Columns.__dataclass_fields__})
        if self.odd_factor:
            columns.non_default.update(range(self.tree.size))  # every row may differ from the plain table's
        for a, formule in self.formulas:
            _override_with_formula(self.tree, columns, a, formule)
        return ScoreTable(self.tree, columns)

    def with_avancements(self, changes: Mapping[str, Statut]) -> "Draft | None":
        """The draft with these statuts instead, computed again only along the changed nodes'
        ancestors; None when a change may move potentials (a statut other than concerné, a
        sous-action taking or losing a statut of its own, a node in N): then score again in full.
        Same sums in the same order as a full scoring: the same values to the last bit."""
        tree, statuts, c = self.tree, self.statuts, self.columns
        changed = {}
        for action_id, statut in changes.items():
            i = tree.index.get(action_id)
            if i is None:
                continue
            before = statuts.get(action_id)
            if self.non_concerne[i] or not statut.concerne or (before is not None and not before.concerne):
                return None
            if tree.children[i] and before is None:  # its `concerned` flag would change its potential
                return None
            changed[i] = statut.avancement
        columns = Columns(**{name: getattr(c, name).copy() for name in Columns.__dataclass_fields__})
        avancement = dict(self.avancement)
        for i, fractions in changed.items():
            if fractions is None:
                avancement.pop(i, None)
            else:
                avancement[i] = fractions
        dirty = set()
        for i in changed:  # up to the first ancestor whose values do not come from its children
            node = i
            while node >= 0 and node not in dirty:
                dirty.add(node)
                if node != i and (node in avancement or self.non_concerne[node]):
                    break
                node = tree.parent[node]
        _rescore_nodes(tree, columns, sorted(dirty), avancement, self.non_concerne)
        columns.non_default.update(dirty)
        return Draft(tree, {**statuts, **{tree.ids[i]: changes[tree.ids[i]] for i in changed}}, self.consequences,
                     columns, self.formulas, self.odd_factor, avancement, self.non_concerne)


def draft_referentiel(
    tree: PreparedTree, statuts: Sequence[Statut], consequences: Mapping[str, Consequence]
) -> Draft:
    """Steps 0–5 of score_referentiel."""
    n, index = tree.size, tree.index
    parent, subtree = tree.parent, tree.subtree

    # Steps 0 and 1: personalised points, désactivés (D), personalised actions (P).
    points = list(tree.points)
    desactive = [False] * n
    personalised, formulas = [], []
    odd_factor = False
    for action_id, consequence in consequences.items():
        a = index.get(action_id)
        if a is None:
            continue
        personalised.append(a)
        if consequence.potentiel_perso is not None:
            factor = float(consequence.potentiel_perso)
            for j in subtree[a]:
                points[j] *= factor
            odd_factor = odd_factor or _is_odd(factor)
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
    last = {}
    for statut in statuts:
        i = index.get(statut.action_id)
        if i is None:
            continue
        last[statut.action_id] = statut
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
    scores = _scores(tree, potentiel, loud, out, non_concerne, avancement)
    non_default = loud
    non_default.update(personalised)
    columns = Columns(**scores, desactive=desactive, potentiel_perso=potentiel_perso, non_default=non_default)
    counted = {i: fractions for i, fractions in avancement.items() if not non_concerne[i]}
    return Draft(tree, last, consequences, columns, tuple(formulas), odd_factor, counted, non_concerne)


def _rescore_nodes(tree: PreparedTree, c: Columns, nodes: Sequence[int], avancement: Mapping[int, tuple],
                   non_concerne: Sequence[bool]) -> None:
    """Rules A2, A3 and B again for `nodes` (none in N), upward, as _scores computes them."""
    leaves, float_leaves = tree.direct_leaves, tree.direct_leaves_float
    for i in nodes:
        if non_concerne[i]:
            continue
        fractions = avancement.get(i)
        if fractions is not None:  # A2
            f, p, pf = fractions
            pot, t = c.potentiel[i], float_leaves[i]
            c.fait[i], c.programme[i], c.pas_fait[i], c.non_renseigne[i] = pot * f, pot * p, pot * pf, 0.0
            c.total[i] = c.completed[i] = leaves[i]
            c.fait_avancement[i], c.programme_avancement[i], c.pas_fait_avancement[i] = f * t, p * t, pf * t
            c.pas_concerne_avancement[i], c.concerne[i] = 0.0, True
        elif not tree.children[i]:  # A3
            c.fait[i] = c.programme[i] = c.pas_fait[i] = 0.0
            c.non_renseigne[i], c.total[i], c.completed[i] = c.potentiel[i], tree.tache_counts[i], 0
            c.fait_avancement[i] = c.programme_avancement[i] = c.pas_fait_avancement[i] = 0.0
            c.pas_concerne_avancement[i], c.concerne[i] = 0.0, True
        else:
            _rule_b(tree.children[i], i, c.fait, c.programme, c.pas_fait, c.non_renseigne, c.total, c.completed,
                    c.fait_avancement, c.programme_avancement, c.pas_fait_avancement, c.pas_concerne_avancement,
                    c.concerne)


def _is_odd(factor: float) -> bool:
    """Negative (-0.0 included), infinite or NaN: such a factor turns zeros into -0.0 or NaN
    (and resizing spreads them), which the comparison with the plain table may miss. Finite
    non-negative operands never make a -0.0 or a NaN."""
    return not (copysign(1.0, factor) > 0 and factor < inf)


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
    n, children, leaves, float_leaves = tree.size, tree.children, tree.direct_leaves, tree.direct_leaves_float
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
        total[i] = completed[i] = leaves[i]
        pas_concerne_av[i] = float_leaves[i]
        concerne[i] = False
    for i, (f, p, pf) in avancement.items():  # A2
        if not non_concerne[i]:
            pot, t = potentiel[i], float_leaves[i]
            fait[i], programme[i], pas_fait[i], non_renseigne[i] = pot * f, pot * p, pot * pf, 0.0
            total[i] = completed[i] = leaves[i]
            fait_av[i], programme_av[i], pas_fait_av[i] = f * t, p * t, pf * t
    for i in sorted(loud.difference(out, avancement)):  # B, upward: sums in children-list order, from integer 0
        if children[i]:  # else A3: a leaf without avancement keeps the defaults
            _rule_b(children[i], i, fait, programme, pas_fait, non_renseigne, total, completed,
                    fait_av, programme_av, pas_fait_av, pas_concerne_av, concerne)
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


def _rule_b(kids, i, fait, programme, pas_fait, non_renseigne, total, completed,
            fait_av, programme_av, pas_fait_av, pas_concerne_av, concerne) -> None:
    """Rule B: node i sums its children's values, in children-list order, from integer 0."""
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
    if _is_odd(factor):
        columns.non_default.update(range(tree.size))  # every row may differ from the plain table's
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
