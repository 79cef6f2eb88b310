"""Désactivation by the personnalisation (personnalisation.md §3): a rule that switches an action
off switches off its whole subtree. The one walk up the ancestors, for every caller.

Pure: imports only the standard library and app.scoring.*.
"""
from collections.abc import Container, Mapping

from app.scoring.personnalisation import Consequence
from app.scoring.tree import parent_id


def desactivees(consequences: Mapping[str, Consequence]) -> frozenset[str]:
    """The actions whose own désactivation rule switches them off."""
    return frozenset(action_id for action_id, consequence in consequences.items() if consequence.desactive)


def desactivation_source(action_id: str, switched_off: Container[str]) -> str | None:
    """The action itself or its nearest ancestor among `switched_off` (see desactivees); None
    when the action is not désactivée."""
    node = action_id
    while node is not None:
        if node in switched_off:
            return node
        node = parent_id(node)
    return None
