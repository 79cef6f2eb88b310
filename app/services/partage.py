"""Sharing between collectivités: the public directory (/annuaire), each collectivité's public page
and its choices of what to show, fed by the per-référentiel score summaries every re-score writes
(ScoreSummary: the directory filters and sorts 45,000 rows on columns, never on the JSON of the
nodes' scores).

Public data: identity, étoiles, % réalisé / programmé overall and per axe. Statuts and précisions
appear on the public page only when the collectivité's admins opted in (PartagePreference).
"""
import math
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate

from sqlalchemy import and_, exists, func, or_, select

from app import charts
from app.extensions import db
from app.models import Action, ActionStatut, Collectivite, Membership, PartagePreference, Precision, ScoreSummary, User
from app.models.collectivites import KINDS
from app.persistence import upsert, utcnow
from app.policy import can
from app.scoring import SCORE_FIELDS
from app.services import labellisation
from app.services.collectivites import EPCI_NATURES, normalise_search
from app.services.labellisation_history import labellisations_of
from app.services.precisions import render_precision
from app.services.referentiels import referentiel_links

PAGE_SIZE = 24
# code -> (label, lower bound included, upper bound excluded or None)
POPULATION_BANDS = {
    "0-20000": ("Moins de 20 000 habitants", 0, 20_000),
    "20000-50000": ("De 20 000 à 50 000 habitants", 20_000, 50_000),
    "50000-100000": ("De 50 000 à 100 000 habitants", 50_000, 100_000),
    "100000-200000": ("De 100 000 à 200 000 habitants", 100_000, 200_000),
    "200000+": ("Plus de 200 000 habitants", 200_000, None),
}
# Aligned on the étoiles' thresholds.
REALISE_BANDS = {
    "0-35": ("Moins de 35 %", 0, 35),
    "35-50": ("De 35 à 50 %", 35, 50),
    "50-65": ("De 50 à 65 %", 50, 65),
    "65-75": ("De 65 à 75 %", 65, 75),
    "75-100": ("75 % et plus", 75, None),
}
TYPES = {
    "region": "Région",
    "departement": "Département",
    "commune": "Commune",
    **{nature: label for nature, label in (("METRO", "Métropole"), ("CU", "Communauté urbaine"),
                                            ("CA", "Communauté d'agglomération"), ("CC", "Communauté de communes"),
                                            ("EPT", "Établissement public territorial"))},
    "syndicat": "Syndicat, PETR ou pôle métropolitain",
}
SORTS = {"nom": "Nom", "population": "Population", "score": "% réalisé"}


_FAIT, _PROGRAMME, _POTENTIEL = (SCORE_FIELDS.index(name) for name in ("point_fait", "point_programme", "point_potentiel"))


def _percent(part: float, whole: float) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


SUMMARY_KEY = ("collectivite_id", "referentiel_id")


def summary_row(collectivite_id: int, referentiel_id: str, root_id: str, action_level: int, records: dict) -> dict:
    """The ScoreSummary row of freshly computed records (action id -> values in SCORE_FIELDS
    order), which the re-score upserts beside them."""
    def percents(record) -> list[float]:
        potentiel = record[_POTENTIEL]
        return [_percent(record[_FAIT], potentiel), _percent(record[_PROGRAMME], potentiel)]

    realise, programme = percents(records[root_id])
    levels = {action_id: _level(action_id, root_id) for action_id in records}
    axes = {action_id: percents(record) for action_id, record in records.items() if levels[action_id] == 1}
    actions = {action_id: percents(record)[0] for action_id, record in records.items() if levels[action_id] == action_level}
    return {"collectivite_id": collectivite_id, "referentiel_id": referentiel_id, "realise": realise,
            "programme": programme, "etoiles": labellisation.etoile_of_records(referentiel_id, root_id, records),
            "axes": axes, "actions": actions, "updated_at": utcnow()}


def _level(action_id: str, root_id: str) -> int:
    """The depth: 0 for the root, 1 for an axe ('cae_1'), 2 for the level below ('cae_1.2'), and so on."""
    prefix, _, identifiant = action_id.partition("_")
    if prefix != root_id or not identifiant:
        return 0
    return identifiant.count(".") + 1


# Directory ---------------------------------------------------------------------------------------


@dataclass
class DirectoryFilters:
    values: dict  # the query string as typed, for the form
    errors: dict = field(default_factory=dict)  # field -> French message; that filter is dropped
    referentiel: str | None = None
    conditions: list = field(default_factory=list)
    sort: str = "nom"
    page: int = 1

    def url_args(self, page: int) -> dict:
        """The query string of another page of the same results (the filters as typed, not empty)."""
        return {name: value for name, value in self.values.items() if value and name != "page"} | {"page": page}


def _choice(filters: DirectoryFilters, name: str, choices, message: str):
    value = filters.values[name]
    if value and value not in choices:
        filters.errors[name] = message
        return None
    return value or None


def _band(column, band):
    _, low, high = band
    return and_(column >= low, column < high) if high is not None else column >= low


def parse_directory_filters(args, referentiels: list[str]) -> DirectoryFilters:
    names = ("q", "type", "region", "departement", "population", "referentiel", "etoiles", "realise", "actif", "tri", "page")
    filters = DirectoryFilters(values={name: (args.get(name) or "").strip()[:200] for name in names})
    conditions = filters.conditions
    if words := normalise_search(filters.values["q"]):
        conditions.append(Collectivite.nom_recherche.like(f"%{words}%"))
    kind = _choice(filters, "type", TYPES, "Type inconnu : choisissez un type de la liste.")
    if kind in EPCI_NATURES:
        conditions.append(Collectivite.nature == kind)
    elif kind:
        conditions.append(Collectivite.kind == kind)
    for name, column in (("region", Collectivite.region_code), ("departement", Collectivite.departement_code)):
        code = filters.values[name]
        if code and not (len(code) <= 3 and code.isalnum()):
            filters.errors[name] = "Code inconnu : choisissez dans la liste."
        elif code:
            conditions.append(column == code.upper())
    if band := _choice(filters, "population", POPULATION_BANDS, "Tranche de population inconnue."):
        conditions.append(_band(Collectivite.population, POPULATION_BANDS[band]))
    default = "cae" if "cae" in referentiels else (referentiels[0] if referentiels else None)
    filters.referentiel = _choice(filters, "referentiel", referentiels, "Référentiel inconnu.") or default
    etoiles = _choice(filters, "etoiles", {str(n) for n in range(1, 6)}, "Nombre d'étoiles inconnu : de 1 à 5.")
    if etoiles:
        conditions.append(ScoreSummary.etoiles == int(etoiles))
    if band := _choice(filters, "realise", REALISE_BANDS, "Tranche de % réalisé inconnue."):
        conditions.append(_band(ScoreSummary.realise, REALISE_BANDS[band]))
    if _choice(filters, "actif", {"1"}, "Valeur inconnue pour « active sur la plateforme »."):
        conditions.append(exists().where(Membership.collectivite_id == Collectivite.id))
    filters.sort = _choice(filters, "tri", SORTS, "Tri inconnu : par nom, population ou % réalisé.") or "nom"
    page = filters.values["page"] or "1"
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        filters.errors["page"] = "Numéro de page invalide : un nombre entier à partir de 1."
    else:
        filters.page = int(page)
    return filters


@dataclass(frozen=True)
class DirectoryRow:
    collectivite: Collectivite
    type_label: str
    realise: float | None
    programme: float | None
    etoiles: int | None
    active: bool


def type_label(collectivite: Collectivite) -> str:
    return TYPES.get(collectivite.nature or "", KINDS.get(collectivite.kind, collectivite.kind))


def directory_page(args) -> dict:
    """The /annuaire context: filters, their choices, one page of rows, paging. A page beyond
    the last one shows the last one with a message."""
    referentiels = referentiel_links()
    filters = parse_directory_filters(args, [referentiel_id for referentiel_id, _ in referentiels])
    summary_join = and_(ScoreSummary.collectivite_id == Collectivite.id, ScoreSummary.referentiel_id == filters.referentiel)
    base = select(Collectivite.id).outerjoin(ScoreSummary, summary_join).where(*filters.conditions)
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    page_count = max(1, math.ceil(total / PAGE_SIZE))
    if filters.page > page_count:
        filters.errors["page"] = f"La page {filters.page} n'existe pas : il y a {page_count} page{'s' if page_count > 1 else ''}."
        filters.page = page_count
    order = {
        "nom": (Collectivite.nom_recherche, Collectivite.id),
        "population": (Collectivite.population.desc().nulls_last(), Collectivite.id),
        "score": (ScoreSummary.realise.desc().nulls_last(), Collectivite.nom_recherche, Collectivite.id),
    }[filters.sort]
    # The page's ids first, then their rows: the offset skips index entries only, not joined rows
    # (PostgreSQL drops the summary join from the ids' query when neither a filter nor the sort uses it).
    ids = _page_ids(base, filters.sort, order, (filters.page - 1) * PAGE_SIZE)
    active = exists().where(Membership.collectivite_id == Collectivite.id).label("active")
    rows = db.session.execute(
        select(Collectivite, ScoreSummary.realise, ScoreSummary.programme, ScoreSummary.etoiles, active)
        .outerjoin(ScoreSummary, summary_join).where(Collectivite.id.in_(ids)).order_by(*order)
    ).all()
    return {
        "filters": filters,
        "rows": [DirectoryRow(c, type_label(c), realise, programme, etoiles, is_active)
                 for c, realise, programme, etoiles, is_active in rows],
        "total": total,
        "page": filters.page,
        "page_count": page_count,
        "referentiels": referentiels,
        "types": TYPES,
        "regions": _regions(),
        "population_bands": {code: label for code, (label, *_) in POPULATION_BANDS.items()},
        "realise_bands": {code: label for code, (label, *_) in REALISE_BANDS.items()},
        "sorts": SORTS,
    }


def _page_ids(base, sort: str, order, offset: int):
    """The ids of a page of `base` in `order`: a subquery (the rows' query makes one round trip).
    By score, a list: the scored ones by % réalisé, then the others by name, each read in the
    order of an index (the summary's, the name's) rather than sorting every collectivité of the
    outer join."""
    if sort != "score":
        return base.order_by(*order).offset(offset).limit(PAGE_SIZE)
    scored = base.where(ScoreSummary.collectivite_id.is_not(None))
    ids = list(db.session.scalars(scored.order_by(ScoreSummary.realise.desc(), Collectivite.nom_recherche, Collectivite.id)
                                  .offset(offset).limit(PAGE_SIZE)))
    if len(ids) < PAGE_SIZE:
        # The unscored ones from the first, unless the page starts past the scored ones.
        skip = 0 if ids or not offset else offset - db.session.scalar(select(func.count()).select_from(scored.subquery()))
        ids += db.session.scalars(base.where(ScoreSummary.collectivite_id.is_(None))
                                  .order_by(Collectivite.nom_recherche, Collectivite.id).offset(skip).limit(PAGE_SIZE - len(ids)))
    return ids


def _regions() -> list[tuple[str, str]]:
    return [tuple(row) for row in db.session.execute(
        select(Collectivite.code, Collectivite.nom).where(Collectivite.kind == "region").order_by(Collectivite.nom))]


# Public page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicReferentiel:
    referentiel_id: str
    nom: str
    realise: float
    programme: float
    etoiles: int | None
    axes: list[tuple[str, str, float, float]]  # (axe id, nom, % réalisé, % programmé)


def preferences_of(collectivite_id: int) -> PartagePreference:
    stored = db.session.get(PartagePreference, collectivite_id)
    return stored or PartagePreference(collectivite_id=collectivite_id, statuts_publics=False, precisions_publiques=False)


def public_page(collectivite_id: int) -> dict | None:
    """What anyone may see of a collectivité: identity, étoiles and scores per axe, and its
    précisions only when opted in. None for an unknown id."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        return None
    noms = dict(referentiel_links())
    summaries = db.session.scalars(
        select(ScoreSummary).where(ScoreSummary.collectivite_id == collectivite_id, ScoreSummary.referentiel_id.in_(noms))
        .order_by(ScoreSummary.referentiel_id)).all()
    axe_noms = dict(db.session.execute(select(Action.id, Action.nom).where(
        Action.id.in_([axe for summary in summaries for axe in summary.axes]))).all())
    preferences = preferences_of(collectivite_id)
    return {
        "collectivite": collectivite,
        "type_label": type_label(collectivite),
        "referentiels": [
            PublicReferentiel(s.referentiel_id, noms[s.referentiel_id], s.realise, s.programme, s.etoiles,
                              [(axe, axe_noms.get(axe, axe), *values) for axe, values in sorted(s.axes.items())])
            for s in summaries
        ],
        "preferences": preferences,
        "labellisations": labellisations_of(collectivite_id), "referentiel_noms": noms,
        "precisions": public_precisions(collectivite_id) if preferences.precisions_publiques else [],
        "statuts": public_statuts(collectivite_id) if preferences.statuts_publics else [],
    }


AVANCEMENT_LABELS = {"fait": "Fait", "programme": "Programmé", "pas_fait": "Pas fait",
                     "non_renseigne": "Non renseigné", "detaille": "Détaillé"}


def public_statuts(collectivite_id: int) -> list[tuple[str, str, str]]:
    """(action id, action nom, statut label) of the recorded statuts; call only when they are public."""
    rows = db.session.execute(
        select(ActionStatut.action_id, Action.nom, ActionStatut.avancement, ActionStatut.concerne)
        .join(Action, Action.id == ActionStatut.action_id)
        .where(ActionStatut.collectivite_id == collectivite_id).order_by(ActionStatut.action_id))
    return [(action_id, nom, AVANCEMENT_LABELS.get(avancement, avancement) if concerne else "Non concerné")
            for action_id, nom, avancement, concerne in rows]


def public_precisions(collectivite_id: int) -> list[tuple[str, str, str]]:
    """(action id, action nom, sanitised HTML) of the précisions; call only when they are public."""
    return [(action_id, nom, render_precision(texte)) for action_id, nom, texte in db.session.execute(
        select(Precision.action_id, Action.nom, Precision.texte)
        .join(Action, Action.id == Precision.action_id)
        .where(Precision.collectivite_id == collectivite_id).order_by(Precision.action_id))]


def settings_page(collectivite_id: int) -> dict | None:
    collectivite = db.session.get(Collectivite, collectivite_id)
    return None if collectivite is None else {"collectivite": collectivite, "preferences": preferences_of(collectivite_id)}


def save_preferences(user, collectivite_id: int, form) -> PartagePreference:
    """An admin's choices; the checkboxes' absence means off."""
    if not can(user, "admin", collectivite_id):
        raise PermissionError("droit d'administration requis sur cette collectivité")
    values = {"statuts_publics": form.get("statuts_publics") == "1",
              "precisions_publiques": form.get("precisions_publiques") == "1", "updated_at": utcnow()}
    upsert(PartagePreference, {"collectivite_id": collectivite_id}, values)
    db.session.commit()
    return preferences_of(collectivite_id)


# "Collectivités comme moi" ---------------------------------------------------------------------

MIN_PEERS = 5  # fewer comparable collectivités would let one guess who scored what
BEST_SHOWN = 3


@dataclass(frozen=True)
class Distribution:
    """Where my % réalisé stands among the comparable collectivités' (me included)."""

    key: str
    nom: str
    mine: float
    q1: float
    median: float
    q3: float
    rank: int  # 1 = the best
    count: int


@dataclass(frozen=True)
class Leader:
    collectivite_id: int
    nom: str
    realise: float
    precisions_publiques: bool


def population_band_of(population: int | None) -> str | None:
    return next((code for code, (_, low, high) in POPULATION_BANDS.items()
                 if population is not None and population >= low and (high is None or population < high)), None)


def _distribution(key: str, nom: str, mine: float, values: list[float]) -> Distribution:
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Distribution(key, nom, mine, round(q1, 1), round(median, 1), round(q3, 1),
                        1 + sum(value > mine for value in values), len(values))


def comparison_page(collectivite_id: int, args) -> dict | None:
    """My scores per axe and per action beside those of the collectivités of my type and
    population band (and région, with `region=1`) on one référentiel; for each action where I
    am below the median, the best ones. None for an unknown collectivité."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        return None
    referentiels = referentiel_links()
    noms = dict(referentiels)
    referentiel_id = args.get("referentiel") if args.get("referentiel") in noms else next(iter(noms), None)
    same_region = args.get("region") == "1"
    band = population_band_of(collectivite.population)
    context = {"collectivite": collectivite, "referentiels": referentiels, "referentiel_id": referentiel_id,
               "same_region": same_region, "band_label": POPULATION_BANDS[band][0] if band else "population inconnue",
               "type_label": type_label(collectivite), "mine": None, "peer_count": 0, "axes": [], "actions": []}
    mine = db.session.get(ScoreSummary, (collectivite_id, referentiel_id)) if referentiel_id else None
    if mine is None or band is None:
        return context
    peers = _peer_summaries(collectivite, referentiel_id, band, same_region)
    context.update(mine=mine, peer_count=len(peers))
    if len(peers) < MIN_PEERS:
        return context
    everyone = [*peers, mine]
    context["axes"] = [_distribution(axe, nom, mine.axes[axe][0], [s.axes.get(axe, [0.0])[0] for s in everyone])
                       for axe, nom in _action_noms(mine.axes).items()]
    context["actions"] = _actions_behind(mine, everyone, peers)
    return context


# Group key -> (version of the référentiel's summaries, monotonic expiry, rows): a page reads its
# peers' hundreds of summaries from here while none changed. The version (how many, the latest
# update) misses a summary committed after a newer one or a collectivité changing band on import:
# the TTL bounds how long.
PEERS_TTL_SECONDS = 60
_peer_groups: dict[tuple, tuple[tuple, float, list]] = {}


def _peer_summaries(collectivite: Collectivite, referentiel_id: str, band: str, same_region: bool) -> list:
    """(collectivite_id, axes, actions) rows of the others of my type and band (and région)."""
    same_type = ("nature", collectivite.nature) if collectivite.nature else ("kind", collectivite.kind)
    key = (referentiel_id, same_type, band, same_region, collectivite.region_code if same_region else None)
    version = tuple(db.session.execute(select(func.count(), func.max(ScoreSummary.updated_at))
                                       .where(ScoreSummary.referentiel_id == referentiel_id)).one())
    cached = _peer_groups.get(key)
    if cached and cached[0] == version and cached[1] > time.monotonic():
        group = cached[2]
    else:
        group = _group_summaries(*key)
        _peer_groups[key] = (version, time.monotonic() + PEERS_TTL_SECONDS, group)
    return [row for row in group if row.collectivite_id != collectivite.id]


def _group_summaries(referentiel_id: str, same_type: tuple[str, str], band: str, same_region: bool,
                     region_code: str | None) -> list:
    """Plain rows, hundreds of ORM objects would cost more than the query.

    The group test is a correlated subquery, run per summary row of the référentiel (a primary-key
    lookup): as a join, PostgreSQL scans the tens of thousands of collectivités of the type and
    band to find the few scored ones, several times slower."""
    column, value = same_type
    conditions = [getattr(Collectivite, column) == value, _band(Collectivite.population, POPULATION_BANDS[band])]
    if same_region:
        conditions.append(Collectivite.region_code == region_code)
    in_group = select(and_(*conditions)).where(Collectivite.id == ScoreSummary.collectivite_id).scalar_subquery()
    return db.session.execute(
        select(ScoreSummary.collectivite_id, ScoreSummary.axes, ScoreSummary.actions)
        .where(ScoreSummary.referentiel_id == referentiel_id, in_group)).all()


def _action_noms(ids) -> dict[str, str]:
    """id -> nom of the given actions, in the référentiel's order."""
    rows = db.session.execute(select(Action.id, Action.identifiant, Action.nom).where(Action.id.in_(list(ids)))).all()
    ordered = sorted(rows, key=lambda row: [int(part) if part.isdigit() else part for part in row.identifiant.split(".")])
    return {row.id: f"{row.identifiant} {row.nom}" for row in ordered}


def _actions_behind(mine: ScoreSummary, everyone: list, peers: list) -> list[tuple]:
    """(Distribution, [Leader]) of the actions where I am below the median."""
    rows = []
    by_id = {}
    for action_id, nom in _action_noms(mine.actions).items():
        distribution = _distribution(action_id, nom, mine.actions[action_id],
                                     [s.actions.get(action_id, 0.0) for s in everyone])
        if distribution.mine < distribution.median:
            best = sorted(peers, key=lambda s: -s.actions.get(action_id, 0.0))[:BEST_SHOWN]
            rows.append((distribution, best))
            by_id.update((s.collectivite_id, None) for s in best)
    names = dict(db.session.execute(select(Collectivite.id, Collectivite.nom).where(Collectivite.id.in_(by_id))).all())
    public = set(db.session.scalars(select(PartagePreference.collectivite_id).where(
        PartagePreference.collectivite_id.in_(by_id), PartagePreference.precisions_publiques)))
    return [(distribution, [Leader(s.collectivite_id, names[s.collectivite_id], s.actions.get(distribution.key, 0.0),
                                   s.collectivite_id in public) for s in best])
            for distribution, best in rows]


# Statistics ------------------------------------------------------------------------------------


def _monthly_cumulative(moments) -> list[tuple[date, float]]:
    """(first day of each month, how many moments up to that month's end)."""
    counts = Counter(moment.date().replace(day=1) for moment in moments if moment is not None)
    return list(zip(sorted(counts), accumulate(counts[month] for month in sorted(counts))))


def statistics_page() -> dict:
    """Platform figures: active collectivités (≥ 1 member) and users, over time by month of
    their first membership / account creation; référentiels started and (indicative) étoiles."""
    firsts = db.session.scalars(select(func.min(Membership.created_at)).group_by(Membership.collectivite_id)).all()
    users = db.session.scalars(select(User.created_at).where(User.is_active)).all()
    noms = dict(referentiel_links())
    started = dict(db.session.execute(select(ScoreSummary.referentiel_id, func.count())
                                      .group_by(ScoreSummary.referentiel_id)).all())
    stars = Counter(tuple(row) for row in db.session.execute(
        select(ScoreSummary.referentiel_id, ScoreSummary.etoiles).where(ScoreSummary.etoiles.is_not(None))))
    growth = charts.line_chart("statistiques-croissance", "Collectivités actives et utilisateurs, en cumul mensuel", [
        ("collectivites", "Collectivités actives", _monthly_cumulative(firsts)),
        ("utilisateurs", "Utilisateurs", _monthly_cumulative(users)),
    ], unit="nombre")
    etoiles = [
        charts.bars(f"statistiques-etoiles-{referentiel_id}", f"Collectivités par étoile – {nom}",
                    [("serie-1", "Collectivités")],
                    [(f"{etoile} étoile{'s' if etoile > 1 else ''}", f"{etoile} ★", [stars[(referentiel_id, etoile)]])
                     for etoile in range(1, 6)], unit="nombre")
        for referentiel_id, nom in noms.items()
    ]
    return {"active_collectivites": len(firsts), "users": len(users),
            "started": [(nom, started.get(referentiel_id, 0)) for referentiel_id, nom in noms.items()],
            "growth": growth, "etoiles": etoiles}
