"""Indicateurs of a collectivité: the platform definitions and its own (personnalisés), their yearly
values (résultat / objectif with comment and source), computed values, confidentiality.

Computed indicateurs are recomputed inline, in the commit of the edit that changed an input: it is
one query for the year's values and a few formulas (the dependents, transitively), cheaper than a
job; a load of definitions that adds or changes formulas recomputes them wherever their inputs
have values. A computed value never overwrites a value typed for the same year.

Public for other areas: `find_indicateurs(collectivite_id, ids)`, `indicateurs_of_action(action_id)`.
"""
import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import Text, cast, func, select

from app.charts import line_chart
from app.extensions import db
from app.indicateur_defs import read_definitions
from app.indicateur_defs.formula import evaluate, inputs, parse
from app.indicateur_defs.reference import Context, reads, reference_value
from app.indicateur_defs.store import store, stored_ids
from app.models import (
    Action,
    Collectivite,
    Fiche,
    FicheIndicateur,
    IndicateurDefinition,
    IndicateurDefinitionAction,
    IndicateurPerso,
    IndicateurValeur,
    Referentiel,
)
from app.persistence import utcnow
from app.policy import can
from app.rls import system_work
from app.services.collectivites import identite_of
from app.services.personnalisation import reponses_of
from app.services.suivi import InvalidEdit, commit_edit, record_history, require_edit

FIRST_YEAR = 1990
PERSO_PREFIX = "perso-"
MAX_TITRE = 300
MAX_UNITE = 100
MAX_COMMENT = 2000
MAX_SOURCE = 300
THEMATIQUES = {
    "activites_economiques": "Activités économiques", "agri_alim": "Agriculture et alimentation",
    "eau_assainissement": "Eau et assainissement", "eci_dechets": "Économie circulaire et déchets",
    "energie_et_climat": "Énergie et climat", "mobilite_et_transport": "Mobilité et transport",
    "nature_environnement_air": "Nature, environnement, air", "solidarite_lien_social": "Solidarité, lien social",
    "strategie_orga_interne": "Stratégie, organisation interne", "urbanisme_et_amenagement": "Urbanisme et aménagement",
}


def last_year() -> int:
    return date.today().year + 50


# --- definitions -------------------------------------------------------------------------------


def load_definitions(path: Path) -> tuple[int, list]:
    """Check then store a catalogue CSV or a 2022 markdown directory: (count stored, problems).
    Nothing is stored when one of the problems is an error (not a warning)."""
    action_ids = set(db.session.scalars(select(Action.id).where(Action.archived.is_(False))))
    definitions, problems = read_definitions(path, stored_ids(db.session), action_ids)
    if any(not problem.warning for problem in problems):
        return 0, problems
    formulas = dict(db.session.execute(select(IndicateurDefinition.id, IndicateurDefinition.formule)).all())
    count = store(db.session, definitions)
    changed = [d.formule for d in definitions if d.formule and formulas.get(d.id) != d.formule]
    if changed:
        _recompute_everywhere(sorted({i.id for formule in changed for i in inputs(_tree(formule))}))
    return count, problems


def _recompute_everywhere(input_ids: list[str]) -> None:
    """After new or changed formulas: their values for every collectivité and year holding one of
    their inputs; committed, as system work (no user's input steers it)."""
    pairs = db.session.execute(select(IndicateurValeur.collectivite_id, IndicateurValeur.annee).where(
        IndicateurValeur.indicateur_id.in_(input_ids)).distinct()).all()
    formulas = _formulas()
    with system_work():
        for collectivite_id, annee in pairs:
            _recompute(collectivite_id, input_ids, annee, formulas)
        db.session.commit()


@dataclass(frozen=True)
class Indicateur:
    """A definition as pages show it, platform or personnalisé."""

    id: str
    titre: str
    unite: str
    description: str = ""
    categories: tuple = ()
    thematiques: tuple = ()
    action_ids: tuple = ()
    parents: tuple = ()
    formule: str | None = None
    sans_valeur_utilisateur: bool = False
    borne_min: float | None = None
    borne_max: float | None = None
    precision: int = 2
    libelle_cible_seuil: str | None = None
    perso: bool = False
    expr_cible: str | None = None
    expr_seuil: str | None = None

    @property
    def computed(self) -> bool:
        return self.formule is not None

    @property
    def editable(self) -> bool:
        return not self.computed and not self.sans_valeur_utilisateur


def _from_definition(d: IndicateurDefinition) -> Indicateur:
    return Indicateur(d.id, d.titre, d.unite, d.description, tuple(d.categories), tuple(d.thematiques),
                      tuple(d.action_ids), tuple(d.parents), d.formule, d.sans_valeur_utilisateur, d.borne_min,
                      d.borne_max, d.precision, d.libelle_cible_seuil, expr_cible=d.expr_cible, expr_seuil=d.expr_seuil)


def _from_perso(p: IndicateurPerso) -> Indicateur:
    return Indicateur(f"{PERSO_PREFIX}{p.id}", p.titre, p.unite, p.description, ("perso",), tuple(p.thematiques),
                      perso=True)


# The JSON lists are read as text: a listed definition is built once per distinct row (its columns
# are the cache key, so a reloaded definition is a new entry), as decoding 730 × 3 lists and building
# 730 frozen dataclasses per request was the bulk of the list page.
_LISTED = (IndicateurDefinition.id, IndicateurDefinition.titre, IndicateurDefinition.unite,
           cast(IndicateurDefinition.categories, Text), cast(IndicateurDefinition.thematiques, Text),
           cast(IndicateurDefinition.action_ids, Text), IndicateurDefinition.formule,
           IndicateurDefinition.sans_valeur_utilisateur)


def _json_tuple(text: str | None) -> tuple:
    return tuple(json.loads(text)) if text else ()


@lru_cache(maxsize=4096)
def _listed(id_: str, titre: str, unite: str, categories: str | None, thematiques: str | None,
            action_ids: str | None, formule: str | None, sans_valeur: bool) -> Indicateur:
    return Indicateur(id_, titre, unite, "", _json_tuple(categories), _json_tuple(thematiques),
                      _json_tuple(action_ids), formule=formule, sans_valeur_utilisateur=sans_valeur)


def all_indicateurs(collectivite_id: int) -> list[Indicateur]:
    """Every indicateur the collectivité sees, without descriptions (what lists need)."""
    platform = [_listed(*row) for row in db.session.execute(select(*_LISTED).order_by(IndicateurDefinition.id))]
    perso = db.session.scalars(select(IndicateurPerso).where(IndicateurPerso.collectivite_id == collectivite_id)
                               .order_by(IndicateurPerso.id))
    return platform + [_from_perso(p) for p in perso]


def find_indicateurs(collectivite_id: int, ids: list[str]) -> list[Indicateur]:
    """The indicateurs of `ids` the collectivité can see (unknown ids are left out), in that order."""
    wanted = set(ids)
    platform = [_from_definition(d) for d in db.session.scalars(
        select(IndicateurDefinition).where(IndicateurDefinition.id.in_(wanted)))]
    perso_ids = [int(i[len(PERSO_PREFIX):]) for i in wanted if re.fullmatch(rf"{PERSO_PREFIX}\d+", i)]
    perso = [_from_perso(p) for p in db.session.scalars(select(IndicateurPerso).where(
        IndicateurPerso.id.in_(perso_ids), IndicateurPerso.collectivite_id == collectivite_id))] if perso_ids else []
    found = {i.id: i for i in platform + perso}
    return [found[i] for i in ids if i in found]


def indicateurs_of_action(action_id: str) -> list[Indicateur]:
    return [_from_definition(d) for d in db.session.scalars(
        select(IndicateurDefinition).join(IndicateurDefinitionAction,
                                          IndicateurDefinitionAction.indicateur_id == IndicateurDefinition.id)
        .where(IndicateurDefinitionAction.action_id == action_id).order_by(IndicateurDefinition.id))]


@lru_cache(maxsize=1024)
def _tree(formule: str):
    return parse(formule)


# --- values ------------------------------------------------------------------------------------


def valeurs_of(collectivite_id: int, indicateur_ids=None, see_confidential: bool = True) -> dict[str, list[IndicateurValeur]]:
    """Rows by indicateur, by year; a confidential row is left out unless `see_confidential`."""
    query = select(IndicateurValeur).where(IndicateurValeur.collectivite_id == collectivite_id)
    if indicateur_ids is not None:
        query = query.where(IndicateurValeur.indicateur_id.in_(list(indicateur_ids)))
    if not see_confidential:
        query = query.where(IndicateurValeur.confidentiel.is_(False))
    found: dict[str, list[IndicateurValeur]] = {}
    for row in db.session.scalars(query.order_by(IndicateurValeur.annee)):
        found.setdefault(row.indicateur_id, []).append(row)
    return found


def parse_number(raw: str, label: str) -> float | None:
    """French or English decimals, spaces as thousands separators; None when empty."""
    text = re.sub(r"[\s\u00a0\u202f]", "", raw or "").replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidEdit(f"{label} : « {raw.strip()} » n'est pas un nombre") from None
    if not math.isfinite(value):
        raise InvalidEdit(f"{label} : « {raw.strip()} » n'est pas un nombre")
    return value


def _checked(indicateur: Indicateur, value: float | None, label: str) -> float | None:
    if value is None:
        return None
    value = round(value, indicateur.precision)
    if indicateur.borne_min is not None and value < indicateur.borne_min:
        raise InvalidEdit(f"{label} : la valeur doit être au moins {indicateur.borne_min:g}")
    if indicateur.borne_max is not None and value > indicateur.borne_max:
        raise InvalidEdit(f"{label} : la valeur doit être au plus {indicateur.borne_max:g}")
    return value


def parse_year(raw: str) -> int:
    try:
        annee = int(str(raw).strip())
    except ValueError:
        raise InvalidEdit(f"année invalide : « {raw} »") from None
    if not FIRST_YEAR <= annee <= last_year():
        raise InvalidEdit(f"l'année doit être comprise entre {FIRST_YEAR} et {last_year()}")
    return annee


@dataclass
class ValeurInput:
    """A year as typed: numbers as text, as the form and the import give them."""

    annee: str
    resultat: str = ""
    resultat_commentaire: str = ""
    resultat_source: str = ""
    objectif: str = ""
    objectif_commentaire: str = ""
    objectif_source: str = ""
    confidentiel: bool = False


def _row_json(row: IndicateurValeur | None) -> str | None:
    if row is None:
        return None
    return json.dumps({key: getattr(row, key) for key in (
        "resultat", "resultat_commentaire", "resultat_source", "objectif", "objectif_commentaire",
        "objectif_source", "confidentiel")}, ensure_ascii=False)


def write_valeur(user, collectivite_id: int, indicateur: Indicateur, typed: ValeurInput) -> tuple[str | None, str | None]:
    """Validate and write one year (not committed): (old, new) JSON for the history. Clearing
    everything deletes the year."""
    if not indicateur.editable:
        raise InvalidEdit("cet indicateur est calculé : ses valeurs ne se saisissent pas")
    annee = parse_year(typed.annee)
    resultat = _checked(indicateur, parse_number(typed.resultat, "Résultat"), "Résultat")
    objectif = _checked(indicateur, parse_number(typed.objectif, "Objectif"), "Objectif")
    if resultat is not None and annee > date.today().year:
        raise InvalidEdit("Résultat : une année à venir n'a pas encore de résultat")
    texts = {"resultat_commentaire": typed.resultat_commentaire, "objectif_commentaire": typed.objectif_commentaire,
             "resultat_source": typed.resultat_source, "objectif_source": typed.objectif_source}
    for key, text in texts.items():
        limit = MAX_SOURCE if key.endswith("source") else MAX_COMMENT
        if len(text.strip()) > limit:
            raise InvalidEdit(f"{'source' if key.endswith('source') else 'commentaire'} trop long ({limit} caractères au plus)")
    row = db.session.scalars(select(IndicateurValeur).where(
        IndicateurValeur.collectivite_id == collectivite_id, IndicateurValeur.indicateur_id == indicateur.id,
        IndicateurValeur.annee == annee)).first()
    old = _row_json(row)
    if resultat is None and objectif is None and not any(t.strip() for t in texts.values()):
        if row is not None:
            db.session.delete(row)
        new = None
    else:
        if row is None:
            row = IndicateurValeur(collectivite_id=collectivite_id, indicateur_id=indicateur.id, annee=annee)
            db.session.add(row)
        row.resultat, row.objectif, row.confidentiel, row.calcul_auto = resultat, objectif, typed.confidentiel, False
        for key, text in texts.items():
            setattr(row, key, text.strip())
        row.modified_by_id, row.modified_at = user.id, utcnow()
        new = _row_json(row)
    db.session.flush()
    _recompute(collectivite_id, [indicateur.id], annee)
    return old, new


def save_valeur(user, collectivite_id: int, indicateur_id: str, typed: ValeurInput) -> None:
    require_edit(user, collectivite_id)
    indicateur = _one(collectivite_id, indicateur_id)
    old, new = write_valeur(user, collectivite_id, indicateur, typed)
    if old != new:
        commit_edit(user, collectivite_id, "indicateur_valeur", f"{indicateur.id}:{parse_year(typed.annee)}", old, new)
    else:
        db.session.rollback()


def _one(collectivite_id: int, indicateur_id: str) -> Indicateur:
    found = find_indicateurs(collectivite_id, [indicateur_id])
    if not found:
        raise InvalidEdit(f"indicateur inconnu : {indicateur_id}")
    return found[0]


def _formulas() -> tuple[dict, dict[str, set[str]]]:
    """(tree, precision) by computed indicateur, and the computed indicateurs using each input."""
    formulas = {d.id: (_tree(d.formule), d.precision) for d in db.session.execute(
        select(IndicateurDefinition.id, IndicateurDefinition.formule, IndicateurDefinition.precision)
        .where(IndicateurDefinition.formule.is_not(None)))}
    dependents: dict[str, set[str]] = {}
    for computed_id, (tree, _precision) in formulas.items():
        for used in inputs(tree):
            dependents.setdefault(used.id, set()).add(computed_id)
    return formulas, dependents


def _recompute(collectivite_id: int, changed_ids: list[str], annee: int, formulas=None) -> None:
    """Recompute, for `annee`, the computed indicateurs depending (transitively) on `changed_ids`,
    each after its inputs (the loader refuses formula cycles). `formulas`: `_formulas()`, read
    once by a caller recomputing many years."""
    formulas, dependents = formulas or _formulas()
    affected, pending = set(), [i for i in changed_ids if i in dependents]
    while pending:
        for computed_id in dependents.get(pending.pop(), ()):
            if computed_id not in affected:
                affected.add(computed_id)
                pending.append(computed_id)
    if not affected:
        return
    rows = {row.indicateur_id: row for row in db.session.scalars(select(IndicateurValeur).where(
        IndicateurValeur.collectivite_id == collectivite_id, IndicateurValeur.annee == annee))}
    done: set[str] = set()

    def compute(computed_id: str) -> None:
        done.add(computed_id)
        tree, precision = formulas[computed_id]
        for used in inputs(tree):
            if used.id in affected and used.id not in done:
                compute(used.id)
        row = rows.get(computed_id)
        if row is not None and not row.calcul_auto:
            return  # a typed value wins
        resultat, _ = evaluate(tree, {k: r.resultat for k, r in rows.items()})
        objectif, _ = evaluate(tree, {k: r.objectif for k, r in rows.items()})
        if resultat is None and objectif is None:
            if row is not None:
                db.session.delete(rows.pop(computed_id))
            return
        if row is None:
            row = rows[computed_id] = IndicateurValeur(collectivite_id=collectivite_id, indicateur_id=computed_id,
                                                       annee=annee, calcul_auto=True)
            db.session.add(row)
        row.resultat = None if resultat is None else round(resultat, precision)
        row.objectif = None if objectif is None else round(objectif, precision)
        # A figure computed from a confidential one stays confidential.
        row.confidentiel = any(rows[i.id].confidentiel for i in inputs(tree) if i.id in rows)
        row.modified_at = utcnow()

    for computed_id in sorted(affected):
        if computed_id not in done:
            compute(computed_id)
    db.session.flush()


def recompute_year(collectivite_id: int, annee: int) -> None:
    """Every computed indicateur of the year (after a bulk write such as an import); not committed."""
    typed = db.session.scalars(select(IndicateurValeur.indicateur_id).where(
        IndicateurValeur.collectivite_id == collectivite_id, IndicateurValeur.annee == annee,
        IndicateurValeur.calcul_auto.is_(False))).all()
    _recompute(collectivite_id, list(typed), annee)


# --- personnalisés -----------------------------------------------------------------------------


def create_perso(user, collectivite_id: int, titre: str, unite: str, thematiques: list[str], description: str) -> str:
    require_edit(user, collectivite_id)
    titre, unite = titre.strip(), unite.strip()
    if not titre:
        raise InvalidEdit("le nom de l'indicateur est obligatoire")
    if len(titre) > MAX_TITRE:
        raise InvalidEdit(f"le nom de l'indicateur dépasse {MAX_TITRE} caractères")
    if not unite:
        raise InvalidEdit("l'unité est obligatoire")
    if len(unite) > MAX_UNITE:
        raise InvalidEdit(f"l'unité dépasse {MAX_UNITE} caractères")
    unknown = [t for t in thematiques if t not in THEMATIQUES]
    if unknown:
        raise InvalidEdit(f"thématique inconnue : {', '.join(unknown)}")
    if len(description) > MAX_COMMENT:
        raise InvalidEdit(f"description trop longue ({MAX_COMMENT} caractères au plus)")
    perso = IndicateurPerso(collectivite_id=collectivite_id, titre=titre, unite=unite, thematiques=thematiques,
                            description=description.strip(), created_at=utcnow())
    db.session.add(perso)
    db.session.flush()
    indicateur_id = f"{PERSO_PREFIX}{perso.id}"
    commit_edit(user, collectivite_id, "indicateur_perso", indicateur_id, None, json.dumps({"titre": titre, "unite": unite}))
    return indicateur_id


def collectivite_of(collectivite_id: int) -> Collectivite | None:
    return db.session.get(Collectivite, collectivite_id)


def sees_confidential(user, collectivite_id: int) -> bool:
    return can(user, "read", collectivite_id)


# --- pages -------------------------------------------------------------------------------------

FILTER_CHOICES = {"valeurs": {"avec", "sans"}, "calcule": {"oui", "non"}}
PAGE_SIZE = 50


@dataclass
class ListFilters:
    values: dict = field(default_factory=dict)  # as typed
    errors: dict = field(default_factory=dict)  # name -> French message


@dataclass(frozen=True)
class ListRow:
    indicateur: Indicateur
    annee: int | None
    resultat: float | None


def list_page(collectivite_id: int, args, see_confidential: bool) -> dict | None:
    """The list's context; filters from the query string: categorie (incl. clef), thematique,
    action, valeurs (avec / sans), calcule (oui / non). An unknown value is reported, not applied."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        return None
    every = all_indicateurs(collectivite_id)
    categories = sorted({c for i in every for c in i.categories})
    action_ids = sorted({a for i in every for a in i.action_ids})
    filters = ListFilters({key: args.get(key, "").strip() for key in ("categorie", "thematique", "action", "valeurs", "calcule")})
    allowed = {"categorie": set(categories), "thematique": set(THEMATIQUES), "action": set(action_ids), **FILTER_CHOICES}
    for key, value in filters.values.items():
        if value and value not in allowed[key]:
            filters.errors[key] = f"valeur inconnue : « {value} »"
    wanted = {key: value for key, value in filters.values.items() if value and key not in filters.errors}
    # The latest résultats of every indicateur only when they filter; else only the shown page's.
    latest = _latest_results(collectivite_id, see_confidential) if "valeurs" in wanted else None
    kept = [indicateur for indicateur in every
            if not ("categorie" in wanted and wanted["categorie"] not in indicateur.categories
                    or "thematique" in wanted and wanted["thematique"] not in indicateur.thematiques
                    or "action" in wanted and wanted["action"] not in indicateur.action_ids
                    or "valeurs" in wanted and (indicateur.id in latest) != (wanted["valeurs"] == "avec")
                    or "calcule" in wanted and indicateur.computed != (wanted["calcule"] == "oui"))]
    page_count = max(1, math.ceil(len(kept) / PAGE_SIZE))
    raw_page = args.get("page", "1")
    page = min(int(raw_page), page_count) if raw_page.isdigit() and int(raw_page) >= 1 else 1
    shown = kept[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    if latest is None:
        latest = _latest_results(collectivite_id, see_confidential, [i.id for i in shown])
    return {"collectivite": collectivite, "filters": filters, "count": len(kept),
            "rows": [ListRow(i, *latest.get(i.id, (None, None))) for i in shown], "page": page, "page_count": page_count,
            "query_args": wanted, "categories": [(c, c) for c in categories],
            "thematiques": THEMATIQUES, "action_ids": [(a, a) for a in action_ids], "total": len(every)}


def _latest_results(collectivite_id: int, see_confidential: bool, ids: list[str] | None = None) -> dict[str, tuple[int, float]]:
    """The latest year with a résultat of each indicateur (of `ids` when given), and that résultat."""
    shown = [IndicateurValeur.collectivite_id == collectivite_id, IndicateurValeur.resultat.is_not(None)]
    if not see_confidential:
        shown.append(IndicateurValeur.confidentiel.is_(False))
    if ids is not None:
        shown.append(IndicateurValeur.indicateur_id.in_(ids))
    latest = (select(IndicateurValeur.indicateur_id, func.max(IndicateurValeur.annee).label("annee"))
              .where(*shown).group_by(IndicateurValeur.indicateur_id).subquery())
    query = (select(IndicateurValeur.indicateur_id, IndicateurValeur.annee, IndicateurValeur.resultat)
             .join(latest, (latest.c.indicateur_id == IndicateurValeur.indicateur_id) & (latest.c.annee == IndicateurValeur.annee))
             .where(IndicateurValeur.collectivite_id == collectivite_id))
    return {indicateur_id: (annee, resultat) for indicateur_id, annee, resultat in db.session.execute(query)}


REFERENCES = (("cible", "Valeur cible"), ("seuil", "Valeur limite"))


def _references(collectivite: Collectivite, indicateur: Indicateur) -> list[tuple[str, str, float]]:
    """(key, label, value) of the cible and seuil the indicateur defines for this collectivité."""
    texts = {"cible": indicateur.expr_cible, "seuil": indicateur.expr_seuil}
    if not any(texts.values()):
        return []
    read = reads(texts["cible"]) | reads(texts["seuil"])  # most read only the identity: no query
    context = Context(identite_of(collectivite), collectivite.population,
                      reponses_of(collectivite.id) if "reponses" in read else {},
                      frozenset(db.session.scalars(select(Referentiel.id).where(Referentiel.archived.is_(False))))
                      if "referentiels" in read else frozenset())
    found = [(key, label, reference_value(texts[key], context)) for key, label in REFERENCES]
    return [(key, label, value) for key, label, value in found if value is not None]


def detail_page(collectivite_id: int, indicateur_id: str, see_confidential: bool, can_edit: bool, **extra) -> dict | None:
    collectivite = db.session.get(Collectivite, collectivite_id)
    found = find_indicateurs(collectivite_id, [indicateur_id]) if collectivite else []
    if not found:
        return None
    indicateur = found[0]
    valeurs = valeurs_of(collectivite_id, [indicateur.id], see_confidential).get(indicateur.id, [])
    series = [(key, label, [(date(v.annee, 1, 1), getattr(v, key)) for v in valeurs if getattr(v, key) is not None])
              for key, label in (("resultat", "Résultat"), ("objectif", "Objectif"))]
    actions = db.session.execute(select(Action.id, Action.referentiel_id, Action.identifiant, Action.nom)
                                 .where(Action.id.in_(indicateur.action_ids), Action.archived.is_(False))
                                 .order_by(Action.id)).all() if indicateur.action_ids else []
    # Parents and children in one query; for the children, a text pre-filter in SQL (their JSON
    # list holds the quoted id) spares decoding every row.
    family = db.session.execute(
        select(IndicateurDefinition.id, IndicateurDefinition.titre, IndicateurDefinition.unite, IndicateurDefinition.parents)
        .where(IndicateurDefinition.id.in_(indicateur.parents)
               | cast(IndicateurDefinition.parents, Text).contains(f'"{indicateur.id}"'))
        .order_by(IndicateurDefinition.id)).all() if not indicateur.perso else []
    found_parents = {d.id: Indicateur(d.id, d.titre, d.unite) for d in family if d.id in indicateur.parents}
    related = [found_parents[i] for i in indicateur.parents if i in found_parents]
    children = [Indicateur(d.id, d.titre, d.unite) for d in family if indicateur.id in d.parents]
    # The fiches action following it: plans are the members' (read permission), as confidential values.
    fiches = db.session.execute(select(Fiche.id, Fiche.titre, Fiche.statut).join(
        FicheIndicateur, FicheIndicateur.fiche_id == Fiche.id).where(
        FicheIndicateur.collectivite_id == collectivite_id, FicheIndicateur.indicateur_id == indicateur.id)
        .order_by(Fiche.titre, Fiche.id)).all() if see_confidential else None
    return {"collectivite": collectivite, "indicateur": indicateur, "valeurs": valeurs, "fiches": fiches,
            "chart": line_chart(f"indicateur-{indicateur.id}", f"{indicateur.titre} ({indicateur.unite})", series,
                                unit=indicateur.unite, references=_references(collectivite, indicateur)),
            "actions": actions, "parents": related, "children": children, "can_edit": can_edit,
            "current_year": date.today().year, "error": None, "form": None, **extra}


# --- import / export of values -------------------------------------------------------------------
# One row per indicateur having values, one column per year × résultat / objectif. CSV for Excel in
# French (`;`, UTF-8 BOM, decimal comma). An import reads the same columns: an empty cell leaves the
# stored figure as it is; comments and sources are not in the file and are kept.

FIXED_COLUMNS = ("Identifiant", "Indicateur", "Unité")
FIELDS = (("resultat", "Résultat"), ("objectif", "Objectif"))
_YEAR_COLUMN = re.compile(r"^(\d{4}) (Résultat|Objectif)$")
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000


def export_grid(collectivite_id: int) -> list[list]:
    """Header then rows; figures as numbers (None when absent)."""
    valeurs = valeurs_of(collectivite_id)
    years = sorted({v.annee for rows in valeurs.values() for v in rows})
    header = [*FIXED_COLUMNS, *(f"{year} {label}" for year in years for _key, label in FIELDS)]
    grid = [header]
    for indicateur in find_indicateurs(collectivite_id, sorted(valeurs)):
        by_year = {v.annee: v for v in valeurs[indicateur.id]}
        grid.append([indicateur.id, indicateur.titre, indicateur.unite, *(
            getattr(by_year[year], key) if year in by_year else None for year in years for key, _label in FIELDS)])
    return grid


def grid_to_csv(grid: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in grid:
        writer.writerow(["" if cell is None else f"{cell:g}".replace(".", ",") if isinstance(cell, float)
                         else "'" + cell if isinstance(cell, str) and cell[:1] in "=+-@" else cell for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def grid_to_xlsx(grid: list[list]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Indicateurs")
    sheet.freeze_panes = "D2"
    for row in grid:
        cells = []
        for cell in row:
            written = WriteOnlyCell(sheet, cell)
            if isinstance(cell, str):
                written.data_type = "s"  # never a formula
            cells.append(written)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_grid(data: bytes, filename: str) -> list[list]:
    """The cells of a CSV (`;` or `,`) or of the first sheet of an XLSX; InvalidEdit when unreadable."""
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidEdit(f"fichier trop volumineux ({MAX_IMPORT_BYTES // (1024 * 1024)} Mo au plus)")
    if data.startswith(b"PK\x03\x04"):
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True, max_row=MAX_IMPORT_ROWS + 1)]
            workbook.close()
            return rows
        except Exception:  # openpyxl raises many kinds of errors on a damaged file
            raise InvalidEdit("fichier XLSX illisible") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidEdit("fichier CSV illisible : encodez-le en UTF-8") from None
    first = text.split("\n", 1)[0]
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if first.count(";") >= first.count(",") else ","))
    return [[cell[1:] if cell[:1] == "'" else cell for cell in row] for row in rows[:MAX_IMPORT_ROWS + 1]]


@dataclass(frozen=True)
class ImportChange:
    indicateur_id: str
    titre: str
    annee: int
    champ: str  # resultat | objectif
    ancien: float | None
    nouveau: float


@dataclass
class ImportPreview:
    changes: list[ImportChange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "ligne N : message"


def preview_import(collectivite_id: int, grid: list[list]) -> ImportPreview:
    """What the file would change, and its refused rows; nothing is written."""
    preview = ImportPreview()
    if not grid or [str(c or "").strip() for c in grid[0][:3]] != list(FIXED_COLUMNS):
        preview.errors.append(f"ligne 1 : les premières colonnes doivent être {', '.join(FIXED_COLUMNS)}")
        return preview
    headers = [str(cell or "").strip() for cell in grid[0]]
    while headers and not headers[-1]:  # a spreadsheet's empty columns on the right
        headers.pop()
    columns = []
    for index, header in enumerate(headers[3:], start=3):
        match = _YEAR_COLUMN.match(header)
        if not match or not FIRST_YEAR <= int(match[1]) <= last_year():
            preview.errors.append(f"ligne 1 : colonne inconnue « {header} » (attendu : « 2020 Résultat » ou « 2020 Objectif »)")
            return preview
        if header in headers[3:index]:
            preview.errors.append(f"ligne 1 : la colonne « {header} » figure deux fois")
            return preview
        columns.append((index, int(match[1]), "resultat" if match[2] == "Résultat" else "objectif", match[2]))
    ids = [str(row[0] or "").strip() for row in grid[1:] if row]
    known = {i.id: i for i in find_indicateurs(collectivite_id, ids)}
    stored = valeurs_of(collectivite_id, list(known))
    seen: set[str] = set()
    for line, row in enumerate(grid[1:], start=2):
        indicateur_id = str(row[0] or "").strip() if row else ""
        if not indicateur_id:
            continue
        if indicateur_id in seen:
            preview.errors.append(f"ligne {line} : {indicateur_id} figure déjà plus haut")
            continue
        seen.add(indicateur_id)
        indicateur = known.get(indicateur_id)
        if indicateur is None:
            preview.errors.append(f"ligne {line} : indicateur inconnu {indicateur_id}")
            continue
        by_year = {v.annee: v for v in stored.get(indicateur_id, [])}
        row_changes, row_errors = [], []
        for index, annee, key, label in columns:
            raw = row[index] if index < len(row) else None
            try:
                typed = raw if isinstance(raw, int | float) and not isinstance(raw, bool) else parse_number(str(raw or ""), f"{annee} {label}")
                value = _checked(indicateur, None if typed is None else float(typed), f"{annee} {label}")
            except InvalidEdit as refused:
                row_errors.append(str(refused))
                continue
            old = getattr(by_year[annee], key) if annee in by_year else None
            if value is None or value == old:
                continue
            if not indicateur.editable:
                row_errors.append(f"{annee} {label} : indicateur calculé, sa valeur ne s'importe pas")
            elif key == "resultat" and annee > date.today().year:
                row_errors.append(f"{annee} {label} : une année à venir n'a pas encore de résultat")
            else:
                row_changes.append(ImportChange(indicateur_id, indicateur.titre, annee, key, old, value))
        preview.errors += [f"ligne {line} : {indicateur_id} : {message}" for message in row_errors]
        if not row_errors:
            preview.changes += row_changes
    return preview


def import_values(user, collectivite_id: int, grid: list[list]) -> ImportPreview:
    """Write the file's changes if it has no error (else nothing), with one history entry per
    indicateur and year, and the computed indicateurs recomputed."""
    require_edit(user, collectivite_id)
    preview = preview_import(collectivite_id, grid)
    if preview.errors or not preview.changes:
        return preview
    years: dict[tuple[str, int], list[ImportChange]] = {}
    for change in preview.changes:
        years.setdefault((change.indicateur_id, change.annee), []).append(change)
    for (indicateur_id, annee), changes in years.items():
        row = db.session.scalars(select(IndicateurValeur).where(
            IndicateurValeur.collectivite_id == collectivite_id, IndicateurValeur.indicateur_id == indicateur_id,
            IndicateurValeur.annee == annee)).first()
        old = _row_json(row)
        if row is None:
            row = IndicateurValeur(collectivite_id=collectivite_id, indicateur_id=indicateur_id, annee=annee,
                                   resultat_commentaire="", resultat_source="", objectif_commentaire="",
                                   objectif_source="", confidentiel=False, calcul_auto=False)
            db.session.add(row)
        for change in changes:
            setattr(row, change.champ, change.nouveau)
        row.modified_by_id, row.modified_at = user.id, utcnow()
        record_history(user, collectivite_id, "indicateur_valeur", f"{indicateur_id}:{annee}", old, _row_json(row))
    db.session.flush()
    formulas = _formulas()
    for annee in sorted({annee for _id, annee in years}):
        _recompute(collectivite_id, [i for i, year in years if year == annee], annee, formulas)
    db.session.commit()
    return preview


# Demo figures of `flask demo seed` (indicateurs of content/indicateurs/catalogue.csv).
DEMO_VALUES = {
    "terr_1": {2019: (12150, None), 2020: (12230, None), 2021: (12310, None), 2022: (12400, None)},
    "cae_2.b": {2019: (98.4, None), 2020: (95.1, None), 2021: (93.7, None), 2022: (90.2, None), 2030: (None, 70)},
    "cae_2.c": {2019: (41.0, None), 2020: (38.2, None), 2021: (39.5, None), 2022: (37.1, None), 2030: (None, 30)},
    "cae_8": {2019: (8.5, 10), 2020: (9.8, 12), 2021: (11.2, 14), 2022: (12.9, 16), 2030: (None, 32)},
}


def seed_demo_values(collectivite_id: int) -> int:
    """The demo figures, once (a collectivité that has values keeps them); committed. Run as system work."""
    if valeurs_of(collectivite_id):
        return 0
    known = {i.id for i in find_indicateurs(collectivite_id, list(DEMO_VALUES))}
    rows = [IndicateurValeur(collectivite_id=collectivite_id, indicateur_id=indicateur_id, annee=annee,
                             resultat=resultat, objectif=objectif, modified_at=utcnow())
            for indicateur_id, years in DEMO_VALUES.items() if indicateur_id in known
            for annee, (resultat, objectif) in years.items()]
    db.session.add_all(rows)
    db.session.flush()
    for annee in sorted({row.annee for row in rows}):
        recompute_year(collectivite_id, annee)
    db.session.commit()
    return len(rows)
