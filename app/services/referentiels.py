"""Read-only queries behind the référentiel pages: tree levels, action detail, search.

Every function reads through the content models and returns plain rows or small dataclasses;
archived référentiels and actions (gone from the current content edition) are never shown.
"""
from dataclasses import dataclass, field

from flask import url_for
from sqlalchemy import func, select

from app.extensions import db
from app.models.content import (
    Action,
    Indicateur,
    IndicateurAction,
    Personnalisation,
    PersonnalisationRegle,
    Preuve,
    PreuveAction,
    Question,
    QuestionAction,
    Referentiel,
)
from app.text import fold_accents

SEARCH_LIMIT = 30

# Stored section column -> heading shown on the action page, in display order.
SECTIONS = (
    ("description", "Description"),
    ("contexte", "Contexte"),
    ("exemples", "Exemples"),
    ("ressources", "Ressources"),
    ("reduction_potentiel", "Réduction de potentiel"),
    ("perimetre_evaluation", "Périmètre de l'évaluation"),
    ("preuve", "Preuves attendues (texte du référentiel)"),
)


@dataclass(frozen=True)
class Node:
    """One row of the tree: the action and whether it has children to expand."""

    action: Action
    has_children: bool


@dataclass(frozen=True)
class ReferentielSummary:
    referentiel: Referentiel
    action_count: int


@dataclass(frozen=True)
class TreeLevel:
    """A parent and its children, ready for the tree fragment."""

    referentiel: Referentiel
    parent: Action
    nodes: list[Node]


@dataclass(frozen=True)
class ActionDetail:
    referentiel: Referentiel
    action: Action
    ancestors: list[Action]
    children: TreeLevel
    sections: list[tuple[str, str]]
    indicateurs: list[Indicateur] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    personnalisation: Personnalisation | None = None
    regles: list[PersonnalisationRegle] = field(default_factory=list)
    preuves: list[Preuve] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResults:
    referentiel: Referentiel
    query: str
    actions: list[Action]

    @property
    def searched(self) -> bool:
        return bool(self.query.strip())


PUBLIC_ROOT_CRUMBS = (("Accueil", "main.home"), ("Référentiels", "referentiels.list_referentiels"))


def public_root_crumbs() -> list[tuple[str, str]]:
    return [(label, url_for(endpoint)) for label, endpoint in PUBLIC_ROOT_CRUMBS]


def action_crumbs(detail: ActionDetail, endpoints: str = "referentiels",
                  url_args: dict | None = None) -> list[tuple[str, str | None]]:
    """(label, url) from the référentiel to the action, below the site's root crumbs; `endpoints`
    is the blueprint whose tree and action pages the links open (a collectivité's workspace
    passes its own)."""
    args = {"referentiel_id": detail.referentiel.id, **(url_args or {})}
    return [
        (detail.referentiel.nom, url_for(f"{endpoints}.show_tree", **args)),
        *((f"{a.identifiant} {a.nom}", url_for(f"{endpoints}.show_action", action_id=a.id, **args))
          for a in detail.ancestors),
        (f"{detail.action.identifiant} {detail.action.nom}", None),
    ]


def referentiel_links() -> list[tuple[str, str]]:
    """(id, nom) of every live référentiel, for the workspace navigation."""
    return [
        tuple(row)
        for row in db.session.execute(
            select(Referentiel.id, Referentiel.nom).where(~Referentiel.archived).order_by(Referentiel.id)
        )
    ]


def list_referentiels() -> list[ReferentielSummary]:
    """All live référentiels with their number of live actions."""
    counts = dict(
        db.session.execute(
            select(Action.referentiel_id, func.count()).where(~Action.archived).group_by(Action.referentiel_id)
        ).all()
    )
    referentiels = db.session.scalars(select(Referentiel).where(~Referentiel.archived).order_by(Referentiel.id))
    return [ReferentielSummary(ref, counts.get(ref.id, 0)) for ref in referentiels]


def referentiel_tree(referentiel_id: str) -> TreeLevel | None:
    """The référentiel with its root's children (the axes); None when it is unknown."""
    return tree_level(referentiel_id, referentiel_id)


def tree_level(referentiel_id: str, parent_id: str) -> TreeLevel | None:
    """The children of one node, each flagged with whether it has children of its own."""
    parent = _live_action(referentiel_id, parent_id)
    if parent is None:
        return None
    return TreeLevel(_live_referentiel(referentiel_id), parent, _children(parent.id))


def action_detail(referentiel_id: str, action_id: str) -> ActionDetail | None:
    """Everything the action page shows; None when the action is unknown or archived."""
    action = _live_action(referentiel_id, action_id)
    if action is None:
        return None
    referentiel = _live_referentiel(referentiel_id)
    return ActionDetail(
        referentiel=referentiel,
        action=action,
        ancestors=_ancestors(action),
        children=TreeLevel(referentiel, action, _children(action.id)),
        sections=[(title, getattr(action, column)) for column, title in SECTIONS if getattr(action, column)],
        indicateurs=_linked(Indicateur, IndicateurAction.indicateur_id, IndicateurAction, action.id, Indicateur.identifiant),
        questions=_linked(Question, QuestionAction.question_id, QuestionAction, action.id, Question.id),
        personnalisation=db.session.get(Personnalisation, action.id),
        regles=list(
            db.session.scalars(
                select(PersonnalisationRegle)
                .where(PersonnalisationRegle.action_id == action.id)
                .order_by(PersonnalisationRegle.kind, PersonnalisationRegle.id)
            )
        ),
        preuves=_linked(Preuve, PreuveAction.preuve_id, PreuveAction, action.id, Preuve.id),
    )


def live_actions(action_ids) -> list[Action]:
    """The live actions among `action_ids`, in référentiel order (1.2 before 1.10)."""
    if not action_ids:
        return []
    actions = db.session.scalars(select(Action).where(Action.id.in_(list(action_ids)), ~Action.archived))
    return sorted(actions, key=lambda a: [int(part) for part in a.identifiant.split(".") if part.isdigit()])


def search_actions(referentiel_id: str, query: str, limit: int = SEARCH_LIMIT) -> SearchResults | None:
    """Actions whose identifiant starts with the query, or whose title holds every word of it.

    None when the référentiel is unknown. Matching ignores case and accents ("energie" finds
    "Énergie"); it runs in Python because SQLite's lower() leaves non-ASCII letters alone.
    """
    referentiel = _live_referentiel(referentiel_id)
    if referentiel is None:
        return None
    words = _fold(query).split()
    if not words:
        return SearchResults(referentiel, query, [])
    rows = db.session.execute(
        select(Action.id, Action.identifiant, Action.nom)
        .where(Action.referentiel_id == referentiel_id, ~Action.archived, Action.depth > 0)
        .order_by(Action.depth, Action.id)
    ).all()
    needle = query.strip().casefold()
    by_identifiant = [row.id for row in rows if row.identifiant.startswith(needle) or row.id.casefold() == needle]
    by_title = [row.id for row in rows if all(word in _fold(row.nom) for word in words)]
    ids = list(dict.fromkeys(by_identifiant + by_title))[:limit]
    actions = {a.id: a for a in db.session.scalars(select(Action).where(Action.id.in_(ids)))}
    return SearchResults(referentiel, query, [actions[i] for i in ids])


def _fold(text: str) -> str:
    return fold_accents(text.casefold())


def _live_referentiel(referentiel_id: str) -> Referentiel | None:
    referentiel = db.session.get(Referentiel, referentiel_id)
    return None if referentiel is None or referentiel.archived else referentiel


def _live_action(referentiel_id: str, action_id: str) -> Action | None:
    action = db.session.get(Action, action_id)
    if action is None or action.archived or action.referentiel_id != referentiel_id:
        return None
    return action if _live_referentiel(referentiel_id) else None


def _children(parent_id: str) -> list[Node]:
    children = list(
        db.session.scalars(
            select(Action).where(Action.parent_id == parent_id, ~Action.archived).order_by(Action.position)
        )
    )
    with_children = set(
        db.session.scalars(
            select(Action.parent_id).where(Action.parent_id.in_([c.id for c in children]), ~Action.archived).distinct()
        )
    )
    return [Node(child, child.id in with_children) for child in children]


def _ancestors(action: Action) -> list[Action]:
    """From the axe down to the action's parent (the root stands for the référentiel itself)."""
    chain = []
    parent = db.session.get(Action, action.parent_id) if action.parent_id else None
    while parent is not None and parent.depth > 0:
        chain.append(parent)
        parent = db.session.get(Action, parent.parent_id) if parent.parent_id else None
    return chain[::-1]


def _linked(model, linked_id_column, link_model, action_id: str, order_by) -> list:
    """Rows of `model` joined to the action through a link table (archived ones left out)."""
    return list(
        db.session.scalars(
            select(model)
            .join(link_model, linked_id_column == model.id)
            .where(link_model.action_id == action_id, ~model.archived)
            .order_by(order_by)
        )
    )
