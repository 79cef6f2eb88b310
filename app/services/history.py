"""The history page of a collectivité: its changes, newest first, as people read them.

Actions by identifiant and name, questions by their text, answers and statuts by their labels,
précisions rendered, times in Europe/Paris; filtered by member, kind and days (the query string of
a GET form, so a filtered page can be shared) and cut into pages. Entries are written, and merged,
by the edit kernel (app.services.suivi.record_history): one row is one line here.
"""
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.filters import format_points
from app.models import Action, Collectivite, HistoryEntry, Question, User
from app.services.reponses import reponse_label
from app.services.precisions import render_precision
from app.services.statuts import STATUT_LABELS

PARIS = ZoneInfo("Europe/Paris")
PAGE_SIZE = 20
# Filter value -> (label, stored kinds).
KIND_FILTERS = {
    "statut": ("Statut", ("statut",)),
    "precision": ("Précision", ("precision",)),
    "reponse": ("Réponse de personnalisation", ("reponse",)),
    "preuve": ("Preuve", ("preuve_fichier", "preuve_lien")),
    "snapshot": ("État des lieux figé", ("snapshot",)),
    "plans": ("Plans d'action", ("plan", "axe", "fiche")),
    "labellisation": ("Labellisation et audit", ("labellisation", "audit_mesure")),
}
KIND_LABELS = {"statut": "Statut", "precision": "Précision", "reponse": "Réponse",
               "preuve_fichier": "Preuve (fichier)", "preuve_lien": "Preuve (lien)",
               "snapshot": "État des lieux figé", "plan": "Plan d'action", "axe": "Axe de plan",
               "fiche": "Fiche action", "labellisation": "Labellisation", "audit_mesure": "Audit d'une mesure"}  # key: the référentiel (its root action), value: the name
EMPTY_VALUES = {"statut": "Non renseigné", "precision": "Aucune précision", "reponse": "Sans réponse"}


@dataclass
class HistoryFilters:
    """The filters as typed (`values`, to fill the form and the page links) and as understood;
    a value that is not understood is left out, its French message in `errors`."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    membre: int | None = None
    kind: str | None = None
    du: date | None = None
    au: date | None = None
    page: int = 1

    @property
    def query_args(self) -> dict[str, str]:
        """The query string of the filters understood (the page left out: the links add theirs)."""
        return {name: value for name, value in self.values.items()
                if value and name not in self.errors and name != "page"}


@dataclass(frozen=True)
class HistoryItem:
    at: datetime  # Europe/Paris
    who: str
    kind_label: str
    target: str  # "1.2.3 Nom de l'action", a question's text, or the stored id when unknown
    referentiel_id: str | None  # with action_id: the link to the action page
    action_id: str | None
    question_id: str | None  # the link to the question on the personnalisation page
    old: str
    new: str
    old_html: str | None = None  # précisions: rendered, sanitised markdown
    new_html: str | None = None

    @property
    def at_text(self) -> str:
        return self.at.strftime("%d/%m/%Y à %H:%M")

    @property
    def at_iso(self) -> str:
        return self.at.isoformat()


def history_page(collectivite_id: int, args) -> dict | None:
    """The page's context: collectivité, filters, members (who changed something), items, paging.
    `args`: the request's query string (membre, type, du, au, page)."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        return None
    members = db.session.execute(
        select(User.id, User.name)
        .where(User.id.in_(select(HistoryEntry.user_id).where(HistoryEntry.collectivite_id == collectivite_id).distinct()))
        .order_by(User.name, User.id)
    ).all()
    filters = parse_filters(args, {member_id for member_id, _ in members})
    query = _filtered(select(HistoryEntry, User.name).outerjoin(User, User.id == HistoryEntry.user_id),
                      collectivite_id, filters)
    total = db.session.scalar(_filtered(select(func.count(HistoryEntry.id)), collectivite_id, filters))
    page_count = max(1, math.ceil(total / PAGE_SIZE))
    page = min(filters.page, page_count)
    rows = db.session.execute(
        query.order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return {
        "collectivite": collectivite,
        "filters": filters,
        "members": members,
        "kind_filters": [(value, label) for value, (label, _) in KIND_FILTERS.items()],
        "items": _items(rows),
        "total": total,
        "page": page,
        "page_count": page_count,
    }


def parse_filters(args, member_ids: set[int]) -> HistoryFilters:
    filters = HistoryFilters(values={name: (args.get(name) or "").strip() for name in ("membre", "type", "du", "au", "page")})
    values, errors = filters.values, filters.errors
    if values["membre"]:
        if values["membre"].isdigit() and int(values["membre"]) in member_ids:
            filters.membre = int(values["membre"])
        else:
            errors["membre"] = "Membre inconnu : choisissez une personne de la liste."
    if values["type"]:
        if values["type"] in KIND_FILTERS:
            filters.kind = values["type"]
        else:
            errors["type"] = "Type de modification inconnu : choisissez un type de la liste."
    for name, label in (("du", "de début"), ("au", "de fin")):
        if values[name]:
            try:
                setattr(filters, name, date.fromisoformat(values[name]))
            except ValueError:
                errors[name] = f"Date {label} invalide : format attendu AAAA-MM-JJ (par exemple 2025-03-31)."
    if filters.du and filters.au and filters.du > filters.au:
        errors["au"] = "La date de fin doit être postérieure ou égale à la date de début."
        filters.au = None
    if values["page"]:
        if values["page"].isdigit() and int(values["page"]) >= 1:
            filters.page = int(values["page"])
        else:
            errors["page"] = "Numéro de page invalide : la première page est affichée."
    return filters


def _filtered(query, collectivite_id: int, filters: HistoryFilters):
    query = query.where(HistoryEntry.collectivite_id == collectivite_id)
    if filters.membre is not None:
        query = query.where(HistoryEntry.user_id == filters.membre)
    if filters.kind is not None:
        query = query.where(HistoryEntry.kind.in_(KIND_FILTERS[filters.kind][1]))
    if filters.du is not None:
        query = query.where(HistoryEntry.at >= _utc_start_of(filters.du))
    if filters.au is not None:
        query = query.where(HistoryEntry.at < _utc_start_of(filters.au + timedelta(days=1)))
    return query


def _utc_start_of(day: date) -> datetime:
    """Midnight of `day` in Paris, as the naive UTC time the entries are stored in."""
    return datetime.combine(day, time.min, tzinfo=PARIS).astimezone(timezone.utc).replace(tzinfo=None)


def _items(rows) -> list[HistoryItem]:
    keys = {entry.key for entry, _ in rows}
    actions = {action.id: action for action in db.session.scalars(select(Action).where(Action.id.in_(keys)))}
    questions = {
        question.id: question
        for question in db.session.scalars(select(Question).where(Question.id.in_(keys)).options(selectinload(Question.choix)))
    }
    return [_item(entry, name, actions, questions) for entry, name in rows]


def _item(entry: HistoryEntry, name: str | None, actions: dict, questions: dict) -> HistoryItem:
    old, new = _loads(entry.old_value), _loads(entry.new_value)
    action = actions.get(entry.key) if entry.kind != "reponse" else None
    question = questions.get(entry.key) if entry.kind == "reponse" else None
    if action is not None:
        target = f"{action.identifiant} {action.nom}"
    else:
        target = question.formulation if question is not None else entry.key
    linked_action = action is not None and not action.archived
    rendered = entry.kind == "precision"
    return HistoryItem(
        at=entry.at.replace(tzinfo=timezone.utc).astimezone(PARIS),
        who=name or "compte supprimé",
        kind_label=KIND_LABELS.get(entry.kind, entry.kind),
        target=target,
        referentiel_id=action.referentiel_id if linked_action else None,
        action_id=entry.key if linked_action else None,
        question_id=entry.key if question is not None and not question.archived else None,
        old=_readable(entry.kind, old, question),
        new=_readable(entry.kind, new, question),
        old_html=render_precision(old) if rendered else None,
        new_html=render_precision(new) if rendered else None,
    )


def _loads(value: str | None):
    return json.loads(value) if value else None


def _readable(kind: str, value, question: Question | None) -> str:
    """A stored value (decoded JSON) for people: labels, not codes."""
    if value is None:
        return EMPTY_VALUES.get(kind, "–")
    if kind == "statut":
        label = STATUT_LABELS.get(value["statut"], value["statut"])
        detail = value.get("detail")
        parts = ("fait", "programmé", "pas fait")
        return label if not detail else f"{label} : " + ", ".join(
            f"{format_points(100 * share)} % {part}" for share, part in zip(detail, parts))
    if kind == "reponse":
        return reponse_label(question, value) if question else value
    if kind == "preuve_lien":
        return f"{value['titre']} ({value['url']})"
    if kind == "preuve_fichier":
        return value["fichier"]
    if kind == "fiche" and isinstance(value, dict) and "realise" in value:  # an étape
        return f"{value['titre']} ({'réalisée' if value['realise'] else 'à faire'})"
    if isinstance(value, list):  # a fiche's list field, or its étapes in order
        return ", ".join(item.get("nom", "un membre") if isinstance(item, dict) else str(item) for item in value) or "–"
    return str(value)
