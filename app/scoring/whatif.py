"""What-if: scores and étoiles with statuts changed in memory (nothing stored), and the shortest
path to the next étoile.

Pure: imports only the standard library and app.scoring.*.
"""
from bisect import bisect_left, insort
from collections.abc import Mapping
from dataclasses import dataclass

from app.scoring.engine import Draft, ScoreTable, Statut, draft_referentiel
from app.scoring.labellisation import CritereAction, Parcours, Regles, parcours, proportion

PROPORTION_FIELDS = ("point_fait", "point_programme", "point_potentiel", "fait_taches_avancement",
                     "programme_taches_avancement", "total_taches_count", "desactive")
FAIT = (1.0, 0.0, 0.0)
_EPSILON = 1e-9  # float sums a hair short of a need are let through: the result is checked by the engine anyway


def simulate(base: Draft, changes: Mapping[str, Statut]) -> ScoreTable:
    """The scores of `base`'s statuts with `changes` (action id -> new statut) instead."""
    return simulate_draft(base, changes).table()


def simulate_draft(base: Draft, changes: Mapping[str, Statut]) -> Draft:
    """The draft of `base`'s statuts with `changes` instead: a change of avancement on a concerné
    node only computes its ancestors again (Draft.with_avancements, the same values as a full
    scoring); any other change drafts the référentiel in full."""
    return base.with_avancements(changes) or draft_referentiel(
        base.tree, list({**base.statuts, **changes}.values()), base.consequences)


def parcours_of(regles: Regles, table: ScoreTable) -> Parcours:
    """The étoiles of a ScoreTable (its root's % réalisé, its records for the criteria)."""
    root_id = table.tree.root_id
    records = table.records_of([root_id, *(critere.action_id for critere in regles.criteres)])
    scores = {action_id: proportion(*(getattr(score, name) for name in PROPORTION_FIELDS))
              for action_id, score in records.items()}
    return parcours(regles, scores[root_id].fait, scores)


@dataclass(frozen=True)
class Etape:
    action_id: str
    points: float  # points réalisés the référentiel gains by completing it


@dataclass(frozen=True)
class Chemin:
    """The tâches to complete (statut « fait »), in référentiel order, towards `etoile` (None: the
    last étoile is reached already); `resultat`: the étoiles once they are completed, as simulated;
    `bloquants`: criteria that completing tâches cannot meet (an action non concernée, say)."""

    etoile: int | None
    etapes: tuple[Etape, ...]
    resultat: Parcours
    bloquants: tuple[CritereAction, ...] = ()

    @property
    def atteint(self) -> bool:
        return self.etoile is None or (self.resultat.atteinte or 0) >= self.etoile

    @property
    def points(self) -> float:
        return sum(etape.points for etape in self.etapes)


class _Candidates:
    """The nodes whose completion counts (a tâche, or a sous-action with an avancement of its own)
    and that are not complete, with what completing each adds to the nodes above it."""

    def __init__(self, base: Draft):
        tree, counted, out = base.tree, base.avancement, base.non_concerne
        c = base.columns
        self.nodes, self.reach = [], {}  # node -> the nodes its completion changes (itself first)
        self.fait, self.programme = {}, {}
        for u in range(tree.size):
            if tree.depth[u] <= tree.action_level or out[u] or (tree.children[u] and u not in counted):
                continue
            fait, programme, _ = counted.get(u, (0.0, 0.0, 0.0))
            if fait >= 1.0:
                continue
            reach, node = [u], tree.parent[u]
            while node >= 0 and node not in counted and not out[node]:
                reach.append(node)
                node = tree.parent[node]
            self.nodes.append(u)
            self.reach[u] = frozenset(reach)
            self.fait[u], self.programme[u] = fait, programme
        self.potentiel, self.leaves = c.potentiel, tree.direct_leaves_float

    def points(self, u: int) -> float:
        return self.potentiel[u] * (1.0 - self.fait[u])

    def weight(self, u: int, by_points: bool, with_programme: bool) -> float:
        """What completing u adds to a criterion's fait (or fait + programmé) side, in points or,
        for an action of potentiel 0, in tâches."""
        missing = 1.0 - self.fait[u] - (self.programme[u] if with_programme else 0.0)
        return missing * (self.potentiel[u] if by_points else self.leaves[u])


def _cover(region: list[int], weight, need: float, chosen: set[int]) -> list[int] | None:
    """The fewest nodes of `region` not yet chosen whose weights, with those of the chosen ones,
    reach `need` (largest first); None when all of them do not."""
    need -= sum(weight(u) for u in region if u in chosen)
    picks = []
    for u in sorted((u for u in region if u not in chosen), key=lambda u: -weight(u)):
        if need <= _EPSILON:
            break
        if weight(u) > 0:
            picks.append(u)
            need -= weight(u)
    return picks if need <= _EPSILON else None


def chemin_le_plus_court(base: Draft, regles: Regles) -> Chemin:
    """The smallest set of tâches (fewest tâches, then fewest points) whose completion reaches
    the étoile after the one `base` reaches: its threshold and every criterion up to it.

    Method: the criteria are the constraints of subtrees (nested or apart), the threshold that of
    the root; completing a tâche adds its missing points to each of them alike. Criteria are met
    first, deepest action first, each with its largest missing tâches (for a 100 % criterion:
    exactly its incomplete tâches; for « programmé ou fait », the side needing fewer); then the
    threshold with the largest remaining tâches.

    Exact for the fewest tâches: with nested subtrees and gains alike for all constraints, any
    solution can be exchanged, constraint by constraint, for one holding each subtree's largest
    gains, without more tâches (the exchange argument of covering problems). Two cases break the
    "alike": a sous-action's own statut hides its tâches from the score above it, and a score
    formula rescales points; the result is then still valid, maybe not the smallest. The fewest
    points among those: each tâche kept for the threshold only is swapped for the smallest one
    that still reaches it (a subset-sum problem in general: not guaranteed minimal). Last, the
    set is simulated by the engine; if float rounding at a threshold leaves it short, the next
    largest tâche is added until it reaches the étoile.
    """
    tree, columns = base.tree, base.columns
    current = parcours_of(regles, base.table())
    if current.suivante is None:
        return Chemin(None, (), current)
    target = current.suivante
    candidates = _Candidates(base)
    chosen: set[int] = set()
    bloquants = []
    unmet = [etat for etat in current.criteres if not etat.rempli and etat.critere.etoile <= target]
    for etat in sorted(unmet, key=lambda etat: -tree.depth[tree.index[etat.critere.action_id]]):
        critere, a = etat.critere, tree.index[etat.critere.action_id]
        region = [u for u in candidates.nodes if a in candidates.reach[u]]
        by_points = columns.potentiel[a] != 0
        whole = columns.potentiel[a] if by_points else columns.total[a]
        done = columns.fait[a] if by_points else columns.fait_avancement[a]
        planned = columns.programme[a] if by_points else columns.programme_avancement[a]
        sides = []
        for minimum, with_programme in ((critere.min_realise, False), (critere.min_programme, True)):
            if minimum is None:
                continue
            need = minimum / 100 * whole - done - (planned if with_programme else 0.0)
            picks = _cover(region, lambda u: candidates.weight(u, by_points, with_programme), need, chosen)
            if picks is not None:
                sides.append((len(picks), sum(map(candidates.points, picks)), picks))
        if sides:
            chosen.update(min(sides, key=lambda side: side[:2])[2])
        else:
            bloquants.append(critere)
    root = tree.size - 1
    at_root = [u for u in candidates.nodes if root in candidates.reach[u]]
    need = regles.etoile(target).seuil * columns.potentiel[root] - columns.fait[root]
    kept_for_threshold = _cover(at_root, candidates.points, need, chosen)
    if kept_for_threshold is None:  # even every tâche is not enough: they all go
        kept_for_threshold = [u for u in at_root if u not in chosen]
    else:
        _fewer_points(kept_for_threshold, [u for u in at_root if u not in chosen], candidates.points,
                      need - sum(candidates.points(u) for u in at_root if u in chosen))
    chosen.update(kept_for_threshold)
    spare = sorted((u for u in at_root if u not in chosen), key=candidates.points)
    while True:
        resultat = parcours_of(regles, simulate(base, {tree.ids[u]: Statut(tree.ids[u], FAIT) for u in chosen}))
        if (resultat.atteinte or 0) >= target or not spare or bloquants:
            break
        chosen.add(spare.pop())
    etapes = tuple(Etape(tree.ids[u], candidates.points(u)) for u in sorted(chosen, key=lambda u: _order(tree.ids[u])))
    return Chemin(target, etapes, resultat, tuple(bloquants))


def _fewer_points(picks: list[int], pool: list[int], points, need: float) -> None:
    """Swap, largest first, each pick for the smallest unpicked node that keeps the sum of the
    picks at or above `need` (in place; the count stays)."""
    picked = set(picks)
    free = sorted((points(u), u) for u in pool if u not in picked)
    slack = sum(map(points, picks)) - need
    for position, u in sorted(enumerate(picks), key=lambda item: -points(item[1])):
        floor = points(u) - slack
        at = bisect_left(free, (floor, -1))
        if at < len(free) and free[at][0] < points(u):
            gain, v = free.pop(at)
            insort(free, (points(u), u))
            picks[position] = v
            slack -= points(u) - gain


def _order(action_id: str) -> tuple:
    """Référentiel order of ids ("cae_1.10" after "cae_1.9")."""
    prefix, _, numbers = action_id.partition("_")
    return (prefix, *((0, int(part), "") if part.isdigit() else (1, 0, part) for part in numbers.split(".")))
