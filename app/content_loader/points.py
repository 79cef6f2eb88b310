"""Points inference of a référentiel tree (spec content-format §3.5, content-2025 §3.3).

Pure: standard library only. Works on plain mappings so it is easy to test on its own:
`children` lists each node's children in display order (the order sums are made in),
`md_points` / `md_pourcentage` hold what the markdown says (None when absent).
Returns the computed points (None where they could not be inferred) and the problems found,
as (action id the message is about, French message). Never raises.
"""
import math


def infer_points(
    root: str,
    children: dict[str, list[str]],
    md_points: dict[str, float | None],
    md_pourcentage: dict[str, float | None],
) -> tuple[dict[str, float | None], list[tuple[str, str]]]:
    order = _preorder(root, children)
    points = dict(md_points)
    problems: list[tuple[str, str]] = []

    # Step 2: next to an explicitly-pointed sibling, a child without points is worth 0.
    for node in order:
        kids = children[node]
        if any(md_points[kid] is not None for kid in kids):
            for kid in kids:
                if points[kid] is None:
                    points[kid] = 0.0

    # Step 3: a node with neither points nor pourcentage sums its children (when its first has points).
    for node in reversed(order):
        kids = children[node]
        if points[node] is None and md_pourcentage[node] is None and kids and points[kids[0]] is not None:
            if all(points[kid] is not None for kid in kids):
                points[node] = _sum(points[kid] for kid in kids)

    # Step 4: shares of the parent's points, equal or by pourcentage.
    already_reported: set[str] = set()
    for node in order:
        kids = children[node]
        if not kids or points[kids[0]] is not None or not _known(points[node]):
            continue
        shares = [md_pourcentage[kid] for kid in kids]
        if all(not share for share in shares):
            counted = [kid for kid, share in zip(kids, shares) if share != 0]
            for kid in kids:
                points[kid] = points[node] / len(counted) if kid in counted else 0.0
            continue
        total = _sum(share or 0.0 for share in shares)
        if total != 100:
            problems.append((kids[0], (
                f"Les valeurs des actions {', '.join(kids)} sont renseignées en pourcentage, "
                f"mais leur somme fait {total} au lieu de 100."
            )))
            already_reported.update(kids)
            continue
        for kid, share in zip(kids, shares):
            points[kid] = ((share or 0.0) / 100) * points[node]

    # Step 5: every node must have points; only the topmost failure of a branch is reported.
    parent_of = {kid: node for node in order for kid in children[node]}
    for node in order:
        parent = parent_of.get(node)
        if node in already_reported:
            continue
        if not _known(points[node]) and (parent is None or _known(points[parent])):
            problems.append((node, f"Les points de l'action {node} n'ont pas pu être inférés."))

    # Step 6: children add up to their parent (relative tolerance 1e-5).
    for node in order:
        kids = children[node]
        if not kids or not _known(points[node]) or not all(_known(points[kid]) for kid in kids):
            continue
        total = _sum(points[kid] for kid in kids)
        if not math.isclose(total, points[node], rel_tol=1e-5):
            problems.append((node, (
                f"Les valeurs des actions de l'action {node} sont renseignées en points, "
                f"mais leur somme fait {total} au lieu de {float(points[node])}."
            )))
    return {node: points[node] if _known(points[node]) else None for node in order}, problems


def _preorder(root: str, children: dict[str, list[str]]) -> list[str]:
    order, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if node in seen:  # only possible in a tree already reported as broken (duplicate ids)
            continue
        seen.add(node)
        order.append(node)
        stack.extend(reversed(children[node]))
    return order


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def _sum(values) -> float:
    """Left-to-right float addition, as the original's sum()."""
    total = 0.0
    for value in values:
        total += value
    return total
