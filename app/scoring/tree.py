"""A référentiel tree prepared once per content version for the scoring engine (scoring.md §1.1).

Pure: imports only the standard library and app.scoring.*.

Nodes are numbered in *upward* order: deepest nodes first, and inside one depth grouped by
parent in children-list order. So `range(size)` is an upward pass, its reverse a downward
pass, and adding a node's values to its parent while going up sums the children in list order
(the order matters for floating-point sums, scoring.md §5).
"""
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def parent_id(action_id: str) -> str | None:
    """Parent from the id string: drop everything from the last `.` or `_`."""
    cut = max(action_id.rfind("."), action_id.rfind("_"))
    return action_id[:cut] if cut > 0 else None


def depth_of(action_id: str) -> int:
    return action_id.count("_") + action_id.count(".")


@dataclass(frozen=True, eq=False)
class PreparedTree:
    ids: tuple[str, ...]
    index: Mapping[str, int]
    action_level: int
    points: tuple[float, ...]  # point_referentiel (pts_ref)
    children: tuple[tuple[int, ...], ...]
    parent: tuple[int, ...]  # -1: no parent in the tree (the root)
    depth: tuple[int, ...]
    direct_leaves: tuple[int, ...]  # L(x): leaves whose parent (by id) is x, at least 1
    direct_leaves_float: tuple[float, ...]  # the same as floats: the avancement sums are floats
    subtree: tuple[tuple[int, ...], ...]  # the node and all its descendants (children lists)
    inner: tuple[int, ...]  # nodes having children, upward order
    resizable: tuple[int, ...]  # nodes having children at depth >= action level, downward order
    tache_counts: tuple[int, ...]  # total_taches_count when nothing below overrides it

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def root_id(self) -> str:
        return self.ids[-1]


def prepare_tree(
    children: Mapping[str, Sequence[str]], points: Mapping[str, float], action_level: int
) -> PreparedTree:
    """`children`: one entry per node (leaves with an empty list), in scoring order (ids sorted
    as strings in the reference data); `points`: referential points of every node."""
    missing = [child for kids in children.values() for child in kids if child not in children]
    missing += [node for node in children if node not in points]
    if missing:
        raise ValueError(f"arbre incomplet : {', '.join(sorted(set(missing)))} sans entrée ou sans points")
    misplaced = [child for node, kids in children.items() for child in kids if parent_id(child) != node]
    if misplaced:
        # The engine takes parents from the ids and children from the lists: they must agree.
        raise ValueError(f"enfants mal placés (parent déduit de l'identifiant) : {', '.join(misplaced)}")
    roots = [node for node in children if parent_id(node) not in children]
    walk, seen = [], set()
    for root in roots:  # breadth first: parents before children, siblings together
        queue = [root]
        while queue:
            node = queue.pop(0)
            if node not in seen:
                seen.add(node)
                walk.append(node)
                queue.extend(children[node])
    walk += [node for node in children if node not in seen]
    ids = tuple(sorted(walk, key=depth_of, reverse=True))  # stable: keeps the walk order per depth
    index = {node: i for i, node in enumerate(ids)}
    child_indexes = tuple(tuple(index[child] for child in children[node]) for node in ids)
    parents = tuple(index.get(parent_id(node), -1) for node in ids)
    leaf_counts = [0] * len(ids)
    for i, kids in enumerate(child_indexes):
        if not kids and parents[i] >= 0:
            leaf_counts[parents[i]] += 1
    tache_counts = [0 if kids else 1 for kids in child_indexes]
    for i, kids in enumerate(child_indexes):  # upward: sums in children-list order
        for child in kids:
            tache_counts[i] += tache_counts[child]
    subtree: list[tuple[int, ...]] = []
    for i in range(len(ids)):  # upward: the children (one level deeper) are ready
        subtree.append((i,) + tuple(j for child in child_indexes[i] for j in subtree[child]))
    return PreparedTree(
        ids=ids,
        index=index,
        action_level=action_level,
        points=tuple(float(points[node]) for node in ids),
        children=child_indexes,
        parent=parents,
        depth=tuple(depth_of(node) for node in ids),
        direct_leaves=tuple(max(1, count) for count in leaf_counts),
        direct_leaves_float=tuple(float(max(1, count)) for count in leaf_counts),
        subtree=tuple(subtree),
        inner=tuple(i for i, kids in enumerate(child_indexes) if kids),
        resizable=tuple(
            i for i in reversed(range(len(ids))) if child_indexes[i] and depth_of(ids[i]) >= action_level
        ),
        tache_counts=tuple(tache_counts),
    )
