"""Page builders of a collectivité's référentiel pages: the tree, a level of it, the action page,
the search. Each gathers what the areas read (statuts, scores, précisions, preuves) into the
variables of one template (a dict), or None when the référentiel, action or collectivité is
unknown. Writes are the areas' (app.services.statuts, personnalisation, precisions, preuves).
"""
from app.extensions import db
from app.models import Collectivite, Referentiel
from app.policy import can
from app.services import indicateurs, plans, preuves, referentiels
from app.services.precisions import precision_state
from app.services.statuts import StatutView, statut_view

# The référentiel templates link to this blueprint's tree, children, action and search routes.
TREE_BLUEPRINT = "workspace"


def _view(user, collectivite_id: int, referentiel: Referentiel | None) -> tuple[Collectivite, StatutView] | None:
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None or referentiel is None:
        return None
    can_edit = can(user, "edit", collectivite_id)
    return collectivite, statut_view(collectivite, referentiel.id, referentiel.action_level, can_edit)


def _tree_links(collectivite_id: int) -> dict:
    return {"tree_blueprint": TREE_BLUEPRINT, "url_args": {"collectivite_id": collectivite_id}}


def tree_page(user, collectivite_id: int, referentiel_id: str) -> dict | None:
    """The tree page of a référentiel for a collectivité: axes, scores, statuts, and the actions
    its personnalisation changes (why the potentiel differs from the référentiel's points)."""
    level = referentiels.referentiel_tree(referentiel_id)
    found = _view(user, collectivite_id, level and level.referentiel)
    if found is None:
        return None
    collectivite, view = found
    personnalised = [
        (action, view.statut_state_of(action.id).reasons)
        for action in referentiels.live_actions(view.personnalised_ids(referentiel_id))
    ]
    return {
        "collectivite": collectivite,
        "current_tab": referentiel_id,
        "level": level,
        "scores": view.scores,
        "statut_states": view.states_of(node.action.id for node in level.nodes),
        "personnalised": personnalised,
        "audit_locked": view.locked,
        **_tree_links(collectivite_id),
    }


def children_fragment(user, collectivite_id: int, referentiel_id: str, action_id: str) -> dict | None:
    level = referentiels.tree_level(referentiel_id, action_id)
    found = _view(user, collectivite_id, level and level.referentiel)
    if found is None:
        return None
    view = found[1]
    return {"level": level, "scores": view.scores,
            "statut_states": view.states_of(node.action.id for node in level.nodes), **_tree_links(collectivite_id)}


def action_page(user, collectivite_id: int, referentiel_id: str, action_id: str) -> dict | None:
    """The action page for a collectivité: content, score, statut, précision and preuves, the
    collectivité's answers to the questions and whether each rule changes something for it."""
    detail = referentiels.action_detail(referentiel_id, action_id)
    found = _view(user, collectivite_id, detail and detail.referentiel)
    if found is None:
        return None
    collectivite, view = found
    links = _tree_links(collectivite_id)
    action_ids = [action_id, *(node.action.id for node in detail.children.nodes)]
    return {
        "collectivite": collectivite,
        "current_tab": referentiel_id,
        "detail": detail,
        "crumbs": referentiels.action_crumbs(detail, TREE_BLUEPRINT, links["url_args"]),
        "scores": view.scores,
        "statut_states": view.states_of(action_ids),
        "can_edit": view.can_edit,
        "audit_locked": view.locked,
        "answers": [(question, view.reasons.answer(question.id)) for question in detail.questions],
        "regles": [(regle, view.rule_applies(action_id, regle.kind)) for regle in detail.regles],
        "precision": precision_state(collectivite_id, action_id, view.can_edit),
        "preuves": preuves.preuves_state(collectivite_id, action_id, view.can_edit),
        "indicateur_links": indicateurs.indicateurs_of_action(action_id),
        "fiches_liees": plans.fiches_for_action(collectivite_id, action_id),
        **links,
    }


def search_results(collectivite_id: int, referentiel_id: str, query: str) -> dict | None:
    """The référentiel search, its results linking to this workspace's action pages."""
    results = referentiels.search_actions(referentiel_id, query)
    return results and {"results": results, **_tree_links(collectivite_id)}
