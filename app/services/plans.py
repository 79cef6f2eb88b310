"""Plans d'action and fiches action of a collectivité: reads (plan tree with progress and budget,
filtered fiche list, kanban, the fiches linked to a référentiel action) and writes (plans, axes,
fiches and their fields, links, budgets, notes). Rights as for statuts: édition writes (every
write checks require_edit once), lecture reads. Every write ends with commit_edit (history), then
the route tells the collectivité's open pages that its plans changed (fragments.publish_plans_changed).
"""
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Bundle

from app.extensions import db
from app.models import (
    Action,
    Axe,
    Collectivite,
    Fiche,
    FicheAction,
    FicheAxe,
    FicheBudget,
    FicheEtape,
    FicheIndicateur,
    FicheNote,
    Membership,
    Plan,
    User,
)
from app.persistence import utcnow
from app.services.indicateurs import find_indicateurs
from app.services.suivi import InvalidEdit, commit_edit, live_action, require_edit

STATUTS = ("À venir", "En cours", "Réalisé", "En pause", "Abandonné", "Bloqué", "En retard", "A discuter")
DONE = "Réalisé"
CLOSED = ("Réalisé", "Abandonné")  # never late
PRIORITES = ("Élevé", "Moyen", "Bas")
PLAN_TYPES = (
    "Projet de Territoire (Agenda 2030, DD)", "Plan de Transition Écologique (COT, Plan Territoire Engagé)",
    "Plan CTE/CRTE", "Plan Climat Air Énergie Territorial", "Plan Économie Circulaire & Déchets (PLPDMA, TER)",
    "Autre transverse", "Plan Urbanisme/habitat (SCoT, PLU, PLH…)", "Plan Energies (TEPOS)", "Plan Bâtiment",
    "Plan Mobilité", "Plan Agriculture/Alimentation", "Plan Eau", "Plan Biodiversité",
    "Plan de protection de l'atmosphère (incl. qualité de l'air)", "Autre thématique",
)
CIBLES = (
    "Grand public", "Associations", "Grand public et associations", "Public Scolaire",
    "Autres collectivités du territoire", "Acteurs économiques", "Acteurs économiques du secteur primaire",
    "Acteurs économiques du secteur secondaire", "Acteurs économiques du secteur tertiaire", "Partenaires",
    "Collectivité elle-même", "Elus locaux", "Agents",
)
THEMATIQUES = (
    "Activités économiques", "Agriculture et alimentation", "Bâtiments et habitat", "Consommation responsable",
    "Déchets", "Eau et assainissement", "Énergie et climat", "Mobilité et transport", "Nature, biodiversité",
    "Urbanisme et aménagement", "Tourisme",
)
BUDGET_TYPES = ("investissement", "fonctionnement")
MAX_NOM = 300
MAX_TEXT = 20000
MAX_BUDGET = 10 ** 12
MAX_ETAPES = 100
YEARS = range(1990, 2101)

# Inline-editable fields of a fiche: name -> (label, kind)
FIELDS = {
    "titre": ("Titre", "text"),
    "statut": ("Statut", "select"),
    "priorite": ("Priorité", "select"),
    "description": ("Description", "textarea"),
    "objectifs": ("Objectifs", "textarea"),
    "pilotes": ("Pilotes (membres ou noms libres, séparés par des virgules)", "list"),
    "services": ("Directions ou services pilotes", "list"),
    "partenaires": ("Partenaires", "list"),
    "financeurs": ("Financeurs", "list"),
    "date_debut": ("Date de début", "date"),
    "date_fin": ("Date de fin prévisionnelle", "date"),
    "amelioration_continue": ("Action en continu (se répète tous les ans)", "checkbox"),
    "cibles": ("Cibles", "multi"),
    "thematiques": ("Thématiques", "multi"),
}
CHOICES = {"statut": STATUTS, "priorite": PRIORITES, "cibles": CIBLES, "thematiques": THEMATIQUES}
FILTER_KEYS = ("statut", "pilote", "priorite", "en_retard", "thematique", "action", "indicateur", "plan")


# View models ---------------------------------------------------------------------------------------


@dataclass
class FicheCard:
    fiche: Fiche  # or, on a plan page, a row of its columns
    pilotes: list[str]
    late: bool


@dataclass
class AxeNode:
    axe: Axe
    label: str  # "1.2"
    children: list["AxeNode"] = field(default_factory=list)
    fiches: list[FicheCard] = field(default_factory=list)


@dataclass
class PlanSummary:
    plan: Plan
    fiche_count: int
    progress: float  # % of réalisées, 1 decimal
    budgets: dict[str, float]  # type -> € HT over every year
    statuts: Counter  # statut ("Sans statut" for none) -> fiches


def is_late(fiche: Fiche, today: date | None = None) -> bool:
    """Past its end date and neither réalisée nor abandonnée (an "action en continu" never is)."""
    return (fiche.date_fin is not None and not fiche.amelioration_continue and fiche.statut not in CLOSED
            and fiche.date_fin < (today or date.today()))


def _member_names(collectivite_id: int) -> dict[int, str]:
    return dict(db.session.execute(
        select(User.id, User.name).join(Membership, Membership.user_id == User.id)
        .where(Membership.collectivite_id == collectivite_id)).all())


def pilote_names(fiche: Fiche, members: dict[int, str]) -> list[str]:
    return [members.get(p["user_id"], "Ancien membre") if "user_id" in p else p["nom"] for p in fiche.pilotes]


def _card(fiche: Fiche, members: dict[int, str]) -> FicheCard:
    return FicheCard(fiche, pilote_names(fiche, members), is_late(fiche))


def collectivite_of(collectivite_id: int) -> Collectivite | None:
    return db.session.get(Collectivite, collectivite_id)


def plan_of(collectivite_id: int, plan_id: int) -> Plan | None:
    plan = db.session.get(Plan, plan_id)
    return plan if plan is not None and plan.collectivite_id == collectivite_id else None


def fiche_of(collectivite_id: int, fiche_id: int) -> Fiche | None:
    fiche = db.session.get(Fiche, fiche_id)
    return fiche if fiche is not None and fiche.collectivite_id == collectivite_id else None


def axe_of(collectivite_id: int, axe_id: int) -> Axe | None:
    axe = db.session.get(Axe, axe_id)
    return axe if axe is not None and axe.collectivite_id == collectivite_id else None


def _axes(plan_id: int) -> list[Axe]:
    return list(db.session.scalars(select(Axe).where(Axe.plan_id == plan_id).order_by(Axe.position, Axe.id)))


def _placements(axe_ids) -> dict[int, list[int]]:
    """fiche id -> the axes (among axe_ids) it sits in."""
    placements: dict[int, list[int]] = defaultdict(list)
    for fiche_id, axe_id in db.session.execute(select(FicheAxe.fiche_id, FicheAxe.axe_id)
                                               .where(FicheAxe.axe_id.in_(list(axe_ids)))):
        placements[fiche_id].append(axe_id)
    return placements


def _budget_totals(fiche_ids) -> dict[str, float]:
    totals = dict.fromkeys(BUDGET_TYPES, 0.0)
    totals.update(db.session.execute(select(FicheBudget.type, func.sum(FicheBudget.montant_ht))
                                     .where(FicheBudget.fiche_id.in_(fiche_ids)).group_by(FicheBudget.type)).all())
    return totals


def _summaries(plans: list[Plan]) -> list[PlanSummary]:
    """Each plan's fiche count, progress, fiches per statut and budget totals, in two grouped queries
    whatever the number of plans and fiches; a fiche placed in several axes of a plan counts once."""
    pairs = (select(Axe.plan_id, FicheAxe.fiche_id).join(Axe, Axe.id == FicheAxe.axe_id)
             .where(Axe.plan_id.in_([plan.id for plan in plans])).distinct().subquery())
    statuts: dict[int, Counter] = defaultdict(Counter)
    for plan_id, statut, count in db.session.execute(
            select(pairs.c.plan_id, Fiche.statut, func.count()).join(Fiche, Fiche.id == pairs.c.fiche_id)
            .group_by(pairs.c.plan_id, Fiche.statut)):
        statuts[plan_id][statut or "Sans statut"] += count
    budgets = {plan.id: dict.fromkeys(BUDGET_TYPES, 0.0) for plan in plans}
    for plan_id, type_, total in db.session.execute(
            select(pairs.c.plan_id, FicheBudget.type, func.sum(FicheBudget.montant_ht))
            .join(pairs, pairs.c.fiche_id == FicheBudget.fiche_id).group_by(pairs.c.plan_id, FicheBudget.type)):
        budgets[plan_id][type_] = total
    summaries = []
    for plan in plans:
        counts = statuts[plan.id]
        total = counts.total()
        progress = round(100 * counts[DONE] / total, 1) if total else 0.0
        summaries.append(PlanSummary(plan, total, progress, budgets[plan.id], counts))
    return summaries


def plans_page(collectivite_id: int) -> dict | None:
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        return None
    plans = db.session.scalars(select(Plan).where(Plan.collectivite_id == collectivite_id).order_by(Plan.nom, Plan.id))
    return {"collectivite": collectivite, "plans": _summaries(list(plans)), "plan_types": PLAN_TYPES}


# A plan's fiches are read as plain rows (building hundreds of ORM objects costs more than the query):
# every column for an export, only what a card shows for the page (the texts and lists are the bulk).
FICHE_COLUMNS = tuple(column.class_attribute for column in Fiche.__mapper__.column_attrs)
CARD_COLUMNS = (Fiche.id, Fiche.collectivite_id, Fiche.titre, Fiche.statut, Fiche.date_fin,
                Fiche.amelioration_continue, Fiche.pilotes)


def plan_page(collectivite_id: int, plan_id: int, full: bool = False) -> dict | None:
    """The plan's axes tree, each axe with its fiches (by id), the progress and budget totals;
    the fiches are rows of FICHE_COLUMNS when `full`, else of CARD_COLUMNS."""
    plan = plan_of(collectivite_id, plan_id)
    if plan is None:
        return None
    axes = _axes(plan_id)
    members = _member_names(collectivite_id)
    nodes = {axe.id: AxeNode(axe, "") for axe in axes}
    fiche = Bundle("fiche", *(FICHE_COLUMNS if full else CARD_COLUMNS))
    for axe_id, each in db.session.execute(
            select(FicheAxe.axe_id, fiche).join(Fiche, Fiche.id == FicheAxe.fiche_id)
            .join(Axe, Axe.id == FicheAxe.axe_id).where(Axe.plan_id == plan_id).order_by(Fiche.id)):
        nodes[axe_id].fiches.append(_card(each, members))
    roots = []
    for axe in axes:
        (nodes[axe.parent_id].children if axe.parent_id else roots).append(nodes[axe.id])
    _number(roots, "")
    summary = _summaries([plan])[0]
    return {
        "collectivite": db.session.get(Collectivite, collectivite_id), "plan": plan, "tree": roots,
        "summary": summary, "plan_types": PLAN_TYPES,
        "statuts": [(s, summary.statuts[s]) for s in (*STATUTS, "Sans statut") if summary.statuts[s]],
    }


def _number(nodes: list[AxeNode], prefix: str) -> None:
    for index, node in enumerate(sorted(nodes, key=lambda n: (n.axe.position, n.axe.id)), 1):
        node.label = f"{prefix}{index}"
        _number(node.children, f"{node.label}.")


def axe_paths(collectivite_id: int) -> dict[int, list[str]]:
    """axe id -> its path of names from the plan's name down (for breadcrumbs and choices)."""
    rows = db.session.execute(select(Axe, Plan.nom).join(Plan, Plan.id == Axe.plan_id)
                              .where(Axe.collectivite_id == collectivite_id)).all()
    axes = {axe.id: (axe, plan_nom) for axe, plan_nom in rows}

    def path(axe_id: int) -> list[str]:
        axe, plan_nom = axes[axe_id]
        return (path(axe.parent_id) if axe.parent_id else [plan_nom]) + [axe.nom]

    return {axe_id: path(axe_id) for axe_id in axes}


# Fiche pages ---------------------------------------------------------------------------------------


@dataclass
class FieldState:
    fiche_id: int
    name: str
    label: str
    kind: str
    value: object  # as stored (list, date, str, bool)
    display: str
    choices: tuple = ()
    can_edit: bool = False
    error: str | None = None
    typed: str | None = None  # a refused value, as typed


def field_state(fiche: Fiche, name: str, can_edit: bool, members: dict[int, str] | None = None, **extra) -> FieldState:
    label, kind = FIELDS[name]
    value = getattr(fiche, name)
    if name == "pilotes":
        shown = pilote_names(fiche, members if members is not None else _member_names(fiche.collectivite_id))
        display = ", ".join(shown)
        value = display
    elif kind in ("list", "multi"):
        display = ", ".join(value)
    elif kind == "date":
        display = value.strftime("%d/%m/%Y") if value else ""
    elif kind == "checkbox":
        display = "Oui" if value else "Non"
    else:
        display = value or ""
    return FieldState(fiche.id, name, label, kind, value, display, CHOICES.get(name, ()), can_edit, **extra)


def fiche_page(collectivite_id: int, fiche_id: int, can_edit: bool) -> dict | None:
    fiche = fiche_of(collectivite_id, fiche_id)
    if fiche is None:
        return None
    members = _member_names(collectivite_id)
    paths = axe_paths(collectivite_id)
    axe_ids = db.session.scalars(select(FicheAxe.axe_id).where(FicheAxe.fiche_id == fiche_id)).all()
    return {
        "collectivite": db.session.get(Collectivite, collectivite_id), "fiche": fiche, "late": is_late(fiche),
        "fields": {name: field_state(fiche, name, can_edit, members) for name in FIELDS},
        "placements": sorted((" › ".join(paths[a]), a) for a in axe_ids),
        "axe_choices": sorted((" › ".join(p), a) for a, p in paths.items() if a not in axe_ids),
        "links": fiche_links(collectivite_id, fiche_id, can_edit),
        "budget": budget_state(collectivite_id, fiche_id, can_edit),
        "etapes": etapes_state(collectivite_id, fiche_id, can_edit),
        "notes": db.session.scalars(select(FicheNote).where(FicheNote.fiche_id == fiche_id)
                                    .order_by(FicheNote.date.desc(), FicheNote.id.desc())).all(),
        "can_edit": can_edit,
    }


@dataclass
class LinksState:
    collectivite_id: int
    fiche_id: int
    actions: list  # (action id, identifiant, nom, référentiel id)
    indicateurs: list  # (indicateur id, titre or None when no longer defined)
    can_edit: bool
    error: str | None = None


def fiche_links(collectivite_id: int, fiche_id: int, can_edit: bool, error: str | None = None) -> LinksState:
    rows = db.session.execute(
        select(FicheAction.action_id, Action.identifiant, Action.nom, Action.referentiel_id)
        .outerjoin(Action, Action.id == FicheAction.action_id)
        .where(FicheAction.fiche_id == fiche_id).order_by(FicheAction.action_id)).all()
    return LinksState(collectivite_id, fiche_id, [tuple(r) for r in rows],
                      linked_indicateurs(collectivite_id, [fiche_id]).get(fiche_id, []), can_edit, error)


def linked_indicateurs(collectivite_id: int, fiche_ids) -> dict[int, list[tuple[str, str | None]]]:
    """fiche id -> its indicateurs (id, titre; None for an id the catalogue no longer has), by id."""
    links = db.session.execute(select(FicheIndicateur.fiche_id, FicheIndicateur.indicateur_id)
                               .where(FicheIndicateur.fiche_id.in_(list(fiche_ids)))
                               .order_by(FicheIndicateur.indicateur_id)).all()
    titres = {i.id: i.titre for i in find_indicateurs(collectivite_id, sorted({i for _f, i in links}))}
    found: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for fiche_id, indicateur_id in links:
        found[fiche_id].append((indicateur_id, titres.get(indicateur_id)))
    return found


@dataclass
class BudgetState:
    collectivite_id: int
    fiche_id: int
    rows: list  # FicheBudget
    totals: dict[str, float]
    can_edit: bool
    error: str | None = None
    typed: dict = field(default_factory=dict)


def budget_state(collectivite_id: int, fiche_id: int, can_edit: bool, **extra) -> BudgetState:
    rows = db.session.scalars(select(FicheBudget).where(FicheBudget.fiche_id == fiche_id)
                              .order_by(FicheBudget.annee, FicheBudget.type)).all()
    return BudgetState(collectivite_id, fiche_id, list(rows), _budget_totals([fiche_id]), can_edit, **extra)


@dataclass
class EtapesState:
    collectivite_id: int
    fiche_id: int
    etapes: list  # FicheEtape, in order
    can_edit: bool
    error: str | None = None

    @property
    def done(self) -> int:
        return sum(etape.realise for etape in self.etapes)


def _etapes(fiche_id: int) -> list[FicheEtape]:
    return list(db.session.scalars(select(FicheEtape).where(FicheEtape.fiche_id == fiche_id)
                                   .order_by(FicheEtape.position, FicheEtape.id)))


def etapes_state(collectivite_id: int, fiche_id: int, can_edit: bool, error: str | None = None) -> EtapesState:
    return EtapesState(collectivite_id, fiche_id, _etapes(fiche_id), can_edit, error)


def etape_of(fiche: Fiche, etape_id: int) -> FicheEtape | None:
    etape = db.session.get(FicheEtape, etape_id)
    return etape if etape is not None and etape.fiche_id == fiche.id else None


def fiches_for_action(collectivite_id: int, action_id: str) -> list[Fiche]:
    """The fiches of the collectivité linked to a référentiel action (shown on the action's page)."""
    return list(db.session.scalars(
        select(Fiche).join(FicheAction, FicheAction.fiche_id == Fiche.id)
        .where(FicheAction.collectivite_id == collectivite_id, FicheAction.action_id == action_id)
        .order_by(Fiche.titre, Fiche.id)))


# Fiche list and kanban -----------------------------------------------------------------------------


def parse_filters(args) -> tuple[dict, list[str]]:
    """The filters of the URL understood, and French messages for the values that are not."""
    filters, errors = {}, []
    for key in FILTER_KEYS:
        value = (args.get(key) or "").strip()
        if not value:
            continue
        if key == "statut" and value not in (*STATUTS, "sans"):
            errors.append(f"statut inconnu : {value}")
        elif key == "priorite" and value not in PRIORITES:
            errors.append(f"priorité inconnue : {value}")
        elif key == "thematique" and value not in THEMATIQUES:
            errors.append(f"thématique inconnue : {value}")
        elif key == "en_retard" and value != "1":
            errors.append("le filtre « échéance dépassée » vaut 1 ou rien")
        elif key == "plan" and not value.isdigit():
            errors.append(f"plan inconnu : {value}")
        else:
            filters[key] = value
    return filters, errors


def fiches_list(collectivite_id: int, filters: dict) -> list[FicheCard]:
    """Every fiche of the collectivité that passes the filters, by titre."""
    query = select(Fiche).where(Fiche.collectivite_id == collectivite_id).order_by(Fiche.titre, Fiche.id)
    if "statut" in filters:
        query = query.where(Fiche.statut.is_(None) if filters["statut"] == "sans" else Fiche.statut == filters["statut"])
    if "priorite" in filters:
        query = query.where(Fiche.priorite == filters["priorite"])
    if "action" in filters:
        query = query.where(Fiche.id.in_(select(FicheAction.fiche_id).where(FicheAction.action_id == filters["action"])))
    if "indicateur" in filters:
        query = query.where(Fiche.id.in_(select(FicheIndicateur.fiche_id)
                                         .where(FicheIndicateur.indicateur_id == filters["indicateur"])))
    if "plan" in filters:
        query = query.where(Fiche.id.in_(select(FicheAxe.fiche_id).join(Axe, Axe.id == FicheAxe.axe_id)
                                         .where(Axe.plan_id == int(filters["plan"]))))
    members = _member_names(collectivite_id)
    cards = [_card(fiche, members) for fiche in db.session.scalars(query)]
    if "thematique" in filters:
        cards = [c for c in cards if filters["thematique"] in c.fiche.thematiques]
    if "pilote" in filters:
        wanted = filters["pilote"].casefold()
        cards = [c for c in cards if any(wanted in name.casefold() for name in c.pilotes)]
    if "en_retard" in filters:
        cards = [c for c in cards if c.late]
    return cards


def fiches_page(collectivite_id: int, args) -> dict | None:
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        return None
    filters, errors = parse_filters(args)
    plans = db.session.execute(select(Plan.id, Plan.nom).where(Plan.collectivite_id == collectivite_id)
                               .order_by(Plan.nom)).all()
    return {"collectivite": collectivite, "fiches": fiches_list(collectivite_id, filters), "filters": filters,
            "values": {k: args.get(k, "") for k in FILTER_KEYS}, "errors": errors, "statuts": STATUTS,
            "priorites": PRIORITES, "thematiques": THEMATIQUES, "plans": plans}


def kanban_page(collectivite_id: int, args) -> dict | None:
    context = fiches_page(collectivite_id, args)
    if context is not None:
        columns = {statut: [] for statut in (*STATUTS, None)}
        for card in context["fiches"]:
            columns[card.fiche.statut if card.fiche.statut in STATUTS else None].append(card)
        context["columns"] = list(columns.items())
    return context


# Writes --------------------------------------------------------------------------------------------


def _commit(user, collectivite_id: int, kind: str, key: str, old, new) -> None:
    commit_edit(user, collectivite_id, kind, key, _json(old), _json(new))


def _json(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        value = value.isoformat()
    return json.dumps(value, ensure_ascii=False)


def parse_nom(value: str | None, what: str) -> str:
    nom = (value or "").strip()
    if not nom:
        raise InvalidEdit(f"le nom {what} est obligatoire")
    if len(nom) > MAX_NOM:
        raise InvalidEdit(f"le nom {what} dépasse {MAX_NOM} caractères")
    return nom


def parse_plan_type(value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and value not in PLAN_TYPES:
        raise InvalidEdit(f"type de plan inconnu : {value}")
    return value


def create_plan(user, collectivite_id: int, nom: str, type_: str | None = None) -> Plan:
    require_edit(user, collectivite_id)
    plan = Plan(collectivite_id=collectivite_id, nom=parse_nom(nom, "du plan"), type=parse_plan_type(type_),
                modified_by_id=user.id, modified_at=utcnow())
    db.session.add(plan)
    db.session.flush()
    _commit(user, collectivite_id, "plan", f"plan:{plan.id}", None, plan.nom)
    return plan


def update_plan(user, collectivite_id: int, plan: Plan, nom: str, type_: str | None) -> None:
    require_edit(user, collectivite_id)
    old = f"{plan.nom} ({plan.type or 'sans type'})"
    plan.nom, plan.type = parse_nom(nom, "du plan"), parse_plan_type(type_)
    plan.modified_by_id, plan.modified_at = user.id, utcnow()
    _commit(user, collectivite_id, "plan", f"plan:{plan.id}", old, f"{plan.nom} ({plan.type or 'sans type'})")


def add_axe(user, collectivite_id: int, plan: Plan, parent_id: int | None, nom: str) -> Axe:
    require_edit(user, collectivite_id)
    if parent_id is not None:
        parent = axe_of(collectivite_id, parent_id)
        if parent is None or parent.plan_id != plan.id:
            raise InvalidEdit("axe parent inconnu dans ce plan")
    siblings = [a for a in _axes(plan.id) if a.parent_id == parent_id]
    axe = Axe(collectivite_id=collectivite_id, plan_id=plan.id, parent_id=parent_id, nom=parse_nom(nom, "de l'axe"),
              position=max((a.position for a in siblings), default=0) + 1)
    db.session.add(axe)
    db.session.flush()
    _commit(user, collectivite_id, "axe", f"axe:{axe.id}", None, axe.nom)
    return axe


def rename_axe(user, collectivite_id: int, axe: Axe, nom: str) -> None:
    require_edit(user, collectivite_id)
    old, axe.nom = axe.nom, parse_nom(nom, "de l'axe")
    _commit(user, collectivite_id, "axe", f"axe:{axe.id}", old, axe.nom)


def _subtree(axe: Axe) -> set[int]:
    children = defaultdict(list)
    for other in _axes(axe.plan_id):
        children[other.parent_id].append(other.id)
    ids, todo = set(), [axe.id]
    while todo:
        current = todo.pop()
        ids.add(current)
        todo += children[current]
    return ids


def deletion_impact(axe_ids: set[int]) -> tuple[set[int], set[int]]:
    """(fiches deleted, fiches detached) when the axes go: as in the original, a fiche placed only
    in these axes is deleted with them; one also placed elsewhere is only detached from them."""
    inside = set(_placements(axe_ids))
    elsewhere = set(db.session.scalars(select(FicheAxe.fiche_id).where(
        FicheAxe.fiche_id.in_(inside), FicheAxe.axe_id.not_in(axe_ids)))) if inside else set()
    return inside - elsewhere, elsewhere


def axe_deletion_impact(axe: Axe) -> tuple[int, int]:
    deleted, detached = deletion_impact(_subtree(axe))
    return len(deleted), len(detached)


def plan_deletion_impact(plan: Plan) -> tuple[int, int]:
    deleted, detached = deletion_impact({a.id for a in _axes(plan.id)})
    return len(deleted), len(detached)


def _delete_axes(axe_ids: set[int]) -> None:
    deleted, _ = deletion_impact(axe_ids)
    if deleted:
        db.session.execute(delete(Fiche).where(Fiche.id.in_(deleted)))  # links, budgets, notes cascade
    db.session.execute(delete(FicheAxe).where(FicheAxe.axe_id.in_(axe_ids)))


def delete_axe(user, collectivite_id: int, axe: Axe) -> None:
    require_edit(user, collectivite_id)
    ids = _subtree(axe)
    _delete_axes(ids)
    nom = axe.nom
    db.session.execute(delete(Axe).where(Axe.id.in_(ids)))
    _commit(user, collectivite_id, "axe", f"axe:{axe.id}", nom, None)


def delete_plan(user, collectivite_id: int, plan: Plan) -> None:
    require_edit(user, collectivite_id)
    _delete_axes({a.id for a in _axes(plan.id)})
    nom, key = plan.nom, f"plan:{plan.id}"
    db.session.delete(plan)  # its axes cascade
    _commit(user, collectivite_id, "plan", key, nom, None)


def create_fiche(user, collectivite_id: int, titre: str, axe: Axe | None = None) -> Fiche:
    require_edit(user, collectivite_id)
    fiche = Fiche(collectivite_id=collectivite_id, titre=parse_titre(titre), description="", objectifs="",
                  statut="À venir", pilotes=[], services=[], partenaires=[], financeurs=[], cibles=[],
                  thematiques=[], modified_by_id=user.id, modified_at=utcnow())
    db.session.add(fiche)
    db.session.flush()
    if axe is not None:
        db.session.add(FicheAxe(collectivite_id=collectivite_id, fiche_id=fiche.id, axe_id=axe.id))
    _commit(user, collectivite_id, "fiche", f"fiche:{fiche.id}", None, fiche.titre)
    return fiche


def delete_fiche(user, collectivite_id: int, fiche: Fiche) -> None:
    require_edit(user, collectivite_id)
    titre, key = fiche.titre, f"fiche:{fiche.id}"
    db.session.delete(fiche)
    _commit(user, collectivite_id, "fiche", key, titre, None)


def parse_titre(value: str | None) -> str:
    titre = (value or "").strip()
    if not titre:
        raise InvalidEdit("le titre de la fiche est obligatoire")
    if len(titre) > MAX_NOM:
        raise InvalidEdit(f"le titre dépasse {MAX_NOM} caractères")
    return titre


def parse_date(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for pattern in (r"(\d{4})-(\d{2})-(\d{2})", r"(\d{2})/(\d{2})/(\d{4})"):
        match = re.fullmatch(pattern, value)
        if match:
            parts = [int(p) for p in match.groups()]
            year, month, day = parts if pattern.startswith(r"(\d{4})") else parts[::-1]
            try:
                return date(year, month, day)
            except ValueError:
                break
    raise InvalidEdit(f"date invalide : « {value} » (attendu : JJ/MM/AAAA)")


def parse_names(value: str) -> list[str]:
    names = []
    for part in value.split(","):
        name = part.strip()
        if len(name) > MAX_NOM:
            raise InvalidEdit(f"nom trop long (plus de {MAX_NOM} caractères) : {name[:30]}…")
        if name and name not in names:
            names.append(name)
    return names


def parse_pilotes(collectivite_id: int, value: str) -> list[dict]:
    """Names matching a member's name (case-insensitive) become that member; others stay free names."""
    by_name = {name.casefold(): user_id for user_id, name in _member_names(collectivite_id).items()}
    return [{"user_id": by_name[n.casefold()]} if n.casefold() in by_name else {"nom": n} for n in parse_names(value)]


def parse_field(fiche: Fiche, name: str, raw) -> object:
    """The value to store for one field from the form (a str, or a list for "multi"); InvalidEdit."""
    kind = FIELDS[name][1]
    if name == "titre":
        return parse_titre(raw)
    if kind == "textarea":
        if len(raw) > MAX_TEXT:
            raise InvalidEdit(f"texte trop long (plus de {MAX_TEXT} caractères)")
        return raw.strip()
    if kind == "select":
        value = raw.strip() or None
        if value is not None and value not in CHOICES[name]:
            raise InvalidEdit(f"valeur inconnue : {value}")
        return value
    if kind == "multi":
        unknown = [v for v in raw if v not in CHOICES[name]]
        if unknown:
            raise InvalidEdit(f"valeur inconnue : {unknown[0]}")
        return [v for v in CHOICES[name] if v in raw]
    if name == "pilotes":
        return parse_pilotes(fiche.collectivite_id, raw)
    if kind == "list":
        return parse_names(raw)
    if kind == "checkbox":
        return raw in ("on", "1", "true", "oui")
    value = parse_date(raw)
    debut = value if name == "date_debut" else fiche.date_debut
    fin = value if name == "date_fin" else fiche.date_fin
    if debut and fin and fin < debut:
        raise InvalidEdit("la date de fin précède la date de début")
    return value


def set_field(user, collectivite_id: int, fiche: Fiche, name: str, raw) -> None:
    require_edit(user, collectivite_id)
    if name not in FIELDS:
        raise InvalidEdit(f"champ inconnu : {name}")
    value = parse_field(fiche, name, raw)
    old = getattr(fiche, name)
    if value == old:
        return
    setattr(fiche, name, value)
    fiche.modified_by_id, fiche.modified_at = user.id, utcnow()
    _commit(user, collectivite_id, "fiche", f"fiche:{fiche.id}:{name}", old, value)


def attach(user, collectivite_id: int, fiche: Fiche, axe: Axe) -> None:
    require_edit(user, collectivite_id)
    if db.session.get(FicheAxe, (fiche.id, axe.id)) is None:
        db.session.add(FicheAxe(collectivite_id=collectivite_id, fiche_id=fiche.id, axe_id=axe.id))
        _commit(user, collectivite_id, "fiche", f"fiche:{fiche.id}:axes", None, axe.nom)


def detach(user, collectivite_id: int, fiche: Fiche, axe: Axe) -> None:
    require_edit(user, collectivite_id)
    placement = db.session.get(FicheAxe, (fiche.id, axe.id))
    if placement is not None:
        db.session.delete(placement)
        _commit(user, collectivite_id, "fiche", f"fiche:{fiche.id}:axes", axe.nom, None)


def _set_link(user, collectivite_id: int, fiche: Fiche, model, target: str, linked: bool) -> None:
    """Add (linked) or remove the fiche's row of `model` (FicheAction, FicheIndicateur) for
    `target`; the history key names what the fiche links (fiche:<id>:actions)."""
    key = "action_id" if model is FicheAction else "indicateur_id"
    row = db.session.get(model, (fiche.id, target))
    if linked == (row is not None):
        return
    if linked:
        db.session.add(model(collectivite_id=collectivite_id, fiche_id=fiche.id, **{key: target}))
    else:
        db.session.delete(row)
    _commit(user, collectivite_id, "fiche", f"fiche:{fiche.id}:{key.removesuffix('_id')}s",
            None if linked else target, target if linked else None)


def link_action(user, collectivite_id: int, fiche: Fiche, action_id: str) -> None:
    require_edit(user, collectivite_id)
    action_id = (action_id or "").strip()
    live_action(action_id)  # InvalidEdit for an unknown or archived action
    _set_link(user, collectivite_id, fiche, FicheAction, action_id, True)


def unlink_action(user, collectivite_id: int, fiche: Fiche, action_id: str) -> None:
    require_edit(user, collectivite_id)
    _set_link(user, collectivite_id, fiche, FicheAction, action_id, False)


def parse_indicateur(collectivite_id: int, indicateur_id: str) -> str:
    """The id of an indicateur the collectivité sees (platform or its own); InvalidEdit else."""
    indicateur_id = (indicateur_id or "").strip()
    if not find_indicateurs(collectivite_id, [indicateur_id]):
        raise InvalidEdit(f"indicateur inconnu : {indicateur_id or '(vide)'}")
    return indicateur_id


def link_indicateur(user, collectivite_id: int, fiche: Fiche, indicateur_id: str) -> None:
    require_edit(user, collectivite_id)
    _set_link(user, collectivite_id, fiche, FicheIndicateur, parse_indicateur(collectivite_id, indicateur_id), True)


def unlink_indicateur(user, collectivite_id: int, fiche: Fiche, indicateur_id: str) -> None:
    require_edit(user, collectivite_id)
    _set_link(user, collectivite_id, fiche, FicheIndicateur, indicateur_id, False)


def parse_montant(raw: str) -> float | None:
    text = (raw or "").replace("\u202f", "").replace(" ", "").replace(",", ".").removesuffix("€")
    if not text:
        return None
    try:
        value = round(float(text), 2)
    except ValueError:
        raise InvalidEdit(f"montant invalide : « {raw} »") from None
    if not 0 <= value < MAX_BUDGET:
        raise InvalidEdit("le montant doit être positif et inférieur à mille milliards d'euros")
    return value


def parse_annee(raw) -> int:
    text = str(raw or "").strip()
    if not text.isdigit() or int(text) not in YEARS:
        raise InvalidEdit(f"année invalide : « {text} » (entre {YEARS.start} et {YEARS.stop - 1})")
    return int(text)


def set_budget(user, collectivite_id: int, fiche: Fiche, type_: str, annee: str, montant: str) -> None:
    """The fiche's amount of one type and year (€ HT); an empty amount removes it."""
    require_edit(user, collectivite_id)
    if type_ not in BUDGET_TYPES:
        raise InvalidEdit("type de budget inconnu (investissement ou fonctionnement)")
    year, value = parse_annee(annee), parse_montant(montant)
    row = db.session.scalars(select(FicheBudget).where(FicheBudget.fiche_id == fiche.id, FicheBudget.type == type_,
                                                       FicheBudget.annee == year)).first()
    old = row.montant_ht if row else None
    if value is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(FicheBudget(collectivite_id=collectivite_id, fiche_id=fiche.id, type=type_, annee=year,
                                   montant_ht=value))
    else:
        row.montant_ht = value
    if old != value:
        _commit(user, collectivite_id, "fiche", f"fiche:{fiche.id}:budget", old, value)


def add_note(user, collectivite_id: int, fiche: Fiche, day: str, texte: str) -> None:
    require_edit(user, collectivite_id)
    texte = (texte or "").strip()
    if not texte:
        raise InvalidEdit("la note est vide")
    if len(texte) > MAX_TEXT:
        raise InvalidEdit(f"note trop longue (plus de {MAX_TEXT} caractères)")
    db.session.add(FicheNote(collectivite_id=collectivite_id, fiche_id=fiche.id, date=parse_date(day) or date.today(),
                             texte=texte, created_by_id=user.id))
    _commit(user, collectivite_id, "fiche", f"fiche:{fiche.id}:notes", None, texte)


def _etape_json(etape: FicheEtape) -> dict:
    return {"titre": etape.titre, "realise": etape.realise}


def add_etape(user, collectivite_id: int, fiche: Fiche, titre: str) -> None:
    """A new étape, last of the fiche's."""
    require_edit(user, collectivite_id)
    titre = parse_nom(titre, "de l'étape")
    etapes = _etapes(fiche.id)
    if len(etapes) >= MAX_ETAPES:
        raise InvalidEdit(f"une fiche a au plus {MAX_ETAPES} étapes")
    db.session.add(FicheEtape(collectivite_id=collectivite_id, fiche_id=fiche.id, titre=titre, realise=False,
                              position=max((e.position for e in etapes), default=0) + 1))
    _commit(user, collectivite_id, "fiche", f"fiche:{fiche.id}:etapes", None, titre)


def update_etape(user, collectivite_id: int, etape: FicheEtape, titre: str, realise: bool) -> None:
    require_edit(user, collectivite_id)
    old = _etape_json(etape)
    etape.titre, etape.realise = parse_nom(titre, "de l'étape"), realise
    if _etape_json(etape) != old:
        _commit(user, collectivite_id, "fiche", f"fiche:{etape.fiche_id}:etapes", old, _etape_json(etape))


def move_etape(user, collectivite_id: int, etape: FicheEtape, direction: str) -> None:
    """One place up ("haut") or down ("bas"); the first stays first, the last last."""
    require_edit(user, collectivite_id)
    if direction not in ("haut", "bas"):
        raise InvalidEdit("sens inconnu (haut ou bas)")
    etapes = _etapes(etape.fiche_id)
    index = etapes.index(etape)
    other = index - 1 if direction == "haut" else index + 1
    if not 0 <= other < len(etapes):
        return
    old = [e.titre for e in etapes]
    etapes[index], etapes[other] = etapes[other], etapes[index]
    for position, each in enumerate(etapes, 1):
        each.position = position
    _commit(user, collectivite_id, "fiche", f"fiche:{etape.fiche_id}:etapes", old, [e.titre for e in etapes])


def delete_etape(user, collectivite_id: int, etape: FicheEtape) -> None:
    require_edit(user, collectivite_id)
    old, fiche_id = _etape_json(etape), etape.fiche_id
    db.session.delete(etape)
    _commit(user, collectivite_id, "fiche", f"fiche:{fiche_id}:etapes", old, None)
