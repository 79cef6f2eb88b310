"""XLSX export and import of a plan d'action, one fixed layout both ways (an export imports back
as the same plan): A1/B1 the plan's name, A2/B2 its type, row 4 the headers — "Axe (x)",
"Sous-axe (x.x)", … as deep as the plan goes, then COLUMNS — and one row per fiche from row 5.
A fiche placed in several axes of the plan has its first path in the axe columns and the others
in "Autres axes" ("A › B | C"); its étapes are one a line in "Étapes" ("[x] Diagnostic" when
réalisée, "[ ] Travaux"). The import checks every row first (row number, column, French message)
and writes nothing when one is wrong.
"""
import base64
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import select

from app.extensions import db
from app.models import Action, Axe, Fiche, FicheAction, FicheAxe, FicheBudget, FicheEtape, FicheIndicateur, Plan
from app.persistence import utcnow
from app.services import plans
from app.services.indicateurs import all_indicateurs
from app.services.suivi import InvalidEdit, commit_edit, require_edit

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_ROW, FIRST_ROW = 4, 5
PATH_SEPARATOR, PLACEMENT_SEPARATOR = " › ", " | "
COLUMNS = ("Titre", "Description", "Objectifs", "Statut", "Priorité", "Date de début", "Date de fin",
           "Action en continu", "Pilotes", "Services pilotes", "Partenaires", "Financeurs", "Cibles",
           "Thématiques", "Actions liées", "Indicateurs liés", "Budget d'investissement (€ HT)", "Budget de fonctionnement (€ HT)",
           "Étapes", "Autres axes")
LIST_FIELDS = {"Pilotes": "pilotes", "Services pilotes": "services", "Partenaires": "partenaires",
               "Financeurs": "financeurs", "Cibles": "cibles", "Thématiques": "thematiques"}
BUDGET_COLUMNS = {"Budget d'investissement (€ HT)": "investissement",
                  "Budget de fonctionnement (€ HT)": "fonctionnement"}
MAX_FILE = 5 * 1024 * 1024
ETAPE_LINE = re.compile(r"\[([ xX]?)\]\s*(.*)")  # "[x] Diagnostic": one étape a line, [x] when réalisée


def axe_header(depth: int) -> str:
    """Header of the axe column of this depth (0 = top): Axe (x), Sous-axe (x.x), Sous-sous-axe (x.x.x)…"""
    return "Sous-" * depth + ("axe" if depth else "Axe") + " (" + ".".join("x" * (depth + 1)) + ")"


def _money(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def export_plan(collectivite_id: int, plan: Plan) -> io.BytesIO:
    page = plans.plan_page(collectivite_id, plan.id, full=True)
    paths: dict[int, list[list[str]]] = defaultdict(list)  # fiche id -> its paths in the plan
    fiches: dict[int, Fiche] = {}
    depth = 0

    def walk(nodes, prefix):
        nonlocal depth
        for node in nodes:
            path = prefix + [node.axe.nom]
            depth = max(depth, len(path))
            for card in node.fiches:
                paths[card.fiche.id].append(path)
                fiches[card.fiche.id] = card.fiche
            walk(node.children, path)

    walk(page["tree"], [])
    ids = list(fiches)
    actions, budgets = defaultdict(list), defaultdict(lambda: defaultdict(list))
    for fiche_id, action_id in db.session.execute(select(FicheAction.fiche_id, FicheAction.action_id)
                                                  .where(FicheAction.fiche_id.in_(ids))
                                                  .order_by(FicheAction.action_id)):
        actions[fiche_id].append(action_id)
    # Columns, not ORM objects: an export reads a few rows per fiche, building objects costs more.
    for fiche_id, type_, annee, montant in db.session.execute(
            select(FicheBudget.fiche_id, FicheBudget.type, FicheBudget.annee, FicheBudget.montant_ht)
            .where(FicheBudget.fiche_id.in_(ids)).order_by(FicheBudget.annee)):
        budgets[fiche_id][type_].append(f"{annee} : {_money(montant)}")
    indicateurs = plans.linked_indicateurs(collectivite_id, ids)
    etapes = defaultdict(list)
    for fiche_id, titre, realise in db.session.execute(
            select(FicheEtape.fiche_id, FicheEtape.titre, FicheEtape.realise).where(FicheEtape.fiche_id.in_(ids))
            .order_by(FicheEtape.position, FicheEtape.id)):
        etapes[fiche_id].append(f"[{'x' if realise else ' '}] {titre}")
    pilotes = {card.fiche.id: card.pilotes for node in _all_nodes(page["tree"]) for card in node.fiches}

    workbook, sheet = _workbook(plan.nom, plan.type or "", depth)
    for fiche_id in sorted(fiches, key=lambda i: (paths[i][0], i)):
        fiche, (first, *others) = fiches[fiche_id], paths[fiche_id]
        row = first + [""] * (depth - len(first)) + [
            fiche.titre, fiche.description, fiche.objectifs, fiche.statut or "", fiche.priorite or "",
            _date_cell(sheet, fiche.date_debut), _date_cell(sheet, fiche.date_fin),
            "Oui" if fiche.amelioration_continue else "Non",
            ", ".join(pilotes[fiche_id]), *(", ".join(getattr(fiche, LIST_FIELDS[c])) for c in COLUMNS[9:14]),
            ", ".join(actions[fiche_id]), ", ".join(i for i, _titre in indicateurs[fiche_id]),
            " ; ".join(budgets[fiche_id]["investissement"]), " ; ".join(budgets[fiche_id]["fonctionnement"]),
            "\n".join(etapes[fiche_id]), PLACEMENT_SEPARATOR.join(PATH_SEPARATOR.join(p) for p in others),
        ]
        # An empty text is no cell at all (the write-only sheet skips None): writing cells is the bulk of an export.
        sheet.append([None if value == "" else value for value in row])
    return _saved(workbook)


def _date_cell(sheet, value) -> WriteOnlyCell:
    """A date column's cell, formatted even when empty (a date typed into it later shows as a date)."""
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = "DD/MM/YYYY"
    return cell


def blank_template() -> io.BytesIO:
    """The import template: the layout of an export, two axe levels, no fiche."""
    return _saved(_workbook("", "", 2)[0])


def _workbook(nom: str, type_: str, depth: int):
    """A write-only workbook (rows stream to the file as they are appended: an export of hundreds
    of fiches builds no cell objects to keep) with its sheet "Plan" and the rows above the fiches."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Plan")
    sheet.append(["Plan d'action", nom])
    sheet.append(["Type", type_])
    sheet.append([])
    sheet.append([axe_header(d) for d in range(depth)] + list(COLUMNS))
    return workbook, sheet


def _saved(workbook) -> io.BytesIO:
    output = io.BytesIO()
    workbook.save(output)
    output.seek(0)
    return output


def _all_nodes(nodes):
    for node in nodes:
        yield node
        yield from _all_nodes(node.children)


# Import --------------------------------------------------------------------------------------------


@dataclass
class ImportedFiche:
    row: int
    paths: list[tuple[str, ...]]
    values: dict  # field -> value as stored
    actions: list[str]
    indicateurs: list[str]
    etapes: list[tuple[str, bool]]  # (titre, réalisée), in order
    budgets: list[tuple[str, int, float]]


@dataclass
class PlanPreview:
    nom: str = ""
    type: str | None = None
    axes: list[tuple[str, ...]] = field(default_factory=list)  # every path, parents first
    fiches: list[ImportedFiche] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "ligne 7, colonne D : …"


def to_token(content: bytes) -> str:
    return base64.b64encode(content).decode()


def from_token(token: str) -> bytes:
    try:
        return base64.b64decode(token, validate=True)
    except ValueError:
        return b""


def _text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_plan(collectivite_id: int, content: bytes) -> PlanPreview:
    """Read and check the whole file; nothing is written here."""
    preview = PlanPreview()
    if not content or len(content) > MAX_FILE:
        preview.errors.append("fichier absent, vide ou trop gros (5 Mo au plus)")
        return preview
    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        rows = [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    except Exception:  # openpyxl raises many kinds on a file that is not a workbook
        preview.errors.append("le fichier n'est pas un classeur XLSX lisible")
        return preview
    rows += [[]] * max(0, HEADER_ROW - len(rows))
    preview.nom = (rows[0][1:2] or [""])[0]
    preview.type = (rows[1][1:2] or [""])[0] or None
    try:
        plans.parse_nom(preview.nom, "du plan (cellule B1)")
        plans.parse_plan_type(preview.type)
    except InvalidEdit as error:
        preview.errors.append(f"ligne {1 if 'B1' in str(error) else 2} : {error}")
    header = [h for h in rows[HEADER_ROW - 1]]
    while header and not header[-1]:
        header.pop()
    depth = 0
    while depth < len(header) and header[depth] == axe_header(depth):
        depth += 1
    if header[depth:] != list(COLUMNS):
        preview.errors.append(f"ligne {HEADER_ROW} : en-têtes attendus après les axes : {', '.join(COLUMNS)}")
        return preview
    known = (set(db.session.scalars(select(Action.id).where(~Action.archived))),
             {i.id for i in all_indicateurs(collectivite_id)})
    seen_paths: list[tuple[str, ...]] = []
    for number, row in enumerate(rows[FIRST_ROW - 1:], FIRST_ROW):
        row = row + [""] * (len(header) - len(row))
        if not any(row):
            continue
        cells = dict(zip(COLUMNS, row[depth:]))
        first = tuple(v for v in row[:depth] if v)
        if not first:
            preview.errors.append(f"ligne {number}, colonne A : la fiche n'est rattachée à aucun axe")
            continue
        others = [tuple(p.split(PATH_SEPARATOR)) for p in cells["Autres axes"].split(PLACEMENT_SEPARATOR) if p]
        fiche = _parse_row(number, depth, cells, known, preview.errors)
        if fiche is not None:
            fiche.paths = [first, *others]
            preview.fiches.append(fiche)
            for path in fiche.paths:
                for end in range(1, len(path) + 1):
                    if path[:end] not in seen_paths:
                        seen_paths.append(path[:end])
    preview.axes = seen_paths
    return preview


def _column(depth: int, name: str) -> str:
    index = depth + COLUMNS.index(name)
    return chr(ord("A") + index) if index < 26 else "A" + chr(ord("A") + index - 26)


def _parse_row(number: int, depth: int, cells: dict, known: tuple[set[str], set[str]],
               errors: list[str]) -> ImportedFiche | None:
    """One fiche row checked; known: the ids of the live actions and of the indicateurs seen."""
    actions, indicateurs = known
    probe = Fiche(collectivite_id=0, date_debut=None, date_fin=None)
    values, start = {}, len(errors)

    def check(column: str, parse):
        try:
            return parse()
        except InvalidEdit as error:
            errors.append(f"ligne {number}, colonne {_column(depth, column)} ({column}) : {error}")

    values["titre"] = check("Titre", lambda: plans.parse_titre(cells["Titre"]))
    for column, name in (("Description", "description"), ("Objectifs", "objectifs"), ("Statut", "statut"),
                         ("Priorité", "priorite")):
        values[name] = check(column, lambda c=column, n=name: plans.parse_field(probe, n, cells[c]))
    values["date_debut"] = probe.date_debut = check("Date de début", lambda: plans.parse_date(cells["Date de début"]))
    values["date_fin"] = check("Date de fin", lambda: plans.parse_field(probe, "date_fin", cells["Date de fin"]))
    values["amelioration_continue"] = cells["Action en continu"].casefold() == "oui"
    for column, name in LIST_FIELDS.items():
        if name in plans.CHOICES:
            values[name] = check(column, lambda c=column, n=name: plans.parse_field(probe, n, plans.parse_names(cells[c])))
        else:
            values[name] = plans.parse_names(cells[column])
    linked = plans.parse_names(cells["Actions liées"])
    for action_id in linked:
        if action_id not in actions:
            errors.append(f"ligne {number}, colonne {_column(depth, 'Actions liées')} : action inconnue : {action_id}")
    followed = plans.parse_names(cells["Indicateurs liés"])
    for indicateur_id in followed:
        if indicateur_id not in indicateurs:
            errors.append(f"ligne {number}, colonne {_column(depth, 'Indicateurs liés')} : "
                          f"indicateur inconnu : {indicateur_id}")
    budgets = []
    for column, type_ in BUDGET_COLUMNS.items():
        for part in filter(None, (p.strip() for p in cells[column].split(";"))):
            year, _, amount = part.partition(":")
            parsed = check(column, lambda y=year, a=amount: (plans.parse_annee(y), plans.parse_montant(a)))
            if parsed and parsed[1] is not None:
                budgets.append((type_, *parsed))
    etapes = []
    for line in filter(None, (line.strip() for line in cells["Étapes"].splitlines())):
        box = ETAPE_LINE.fullmatch(line)
        titre = check("Étapes", lambda t=box[2] if box else line: plans.parse_nom(t, "de l'étape"))
        if titre:
            etapes.append((titre, bool(box) and box[1].lower() == "x"))
    if len(etapes) > plans.MAX_ETAPES:
        errors.append(f"ligne {number}, colonne {_column(depth, 'Étapes')} : au plus {plans.MAX_ETAPES} étapes")
    if len(errors) > start:
        return None
    return ImportedFiche(number, [], values, linked, followed, etapes, budgets)


def import_plan(user, collectivite_id: int, preview: PlanPreview) -> Plan:
    """Write a checked preview (no errors) as a new plan, in one transaction and one history entry."""
    require_edit(user, collectivite_id)
    if preview.errors:
        raise InvalidEdit("le fichier contient des erreurs")
    now = utcnow()
    plan = Plan(collectivite_id=collectivite_id, nom=preview.nom, type=preview.type, modified_by_id=user.id,
                modified_at=now)
    db.session.add(plan)
    db.session.flush()
    axes: dict[tuple[str, ...], Axe] = {}
    for position, path in enumerate(preview.axes, 1):
        parent = axes.get(path[:-1])
        axes[path] = Axe(collectivite_id=collectivite_id, plan_id=plan.id, nom=path[-1], position=position,
                               parent_id=parent.id if parent else None)
        db.session.add(axes[path])
        db.session.flush()
    for imported in preview.fiches:
        values = dict(imported.values)
        values["pilotes"] = plans.parse_pilotes(collectivite_id, ", ".join(values["pilotes"]))
        fiche = Fiche(collectivite_id=collectivite_id, modified_by_id=user.id, modified_at=now, **values)
        db.session.add(fiche)
        db.session.flush()
        for path in dict.fromkeys(imported.paths):
            db.session.add(FicheAxe(collectivite_id=collectivite_id, fiche_id=fiche.id, axe_id=axes[path].id))
        for action_id in imported.actions:
            db.session.add(FicheAction(collectivite_id=collectivite_id, fiche_id=fiche.id, action_id=action_id))
        for indicateur_id in imported.indicateurs:
            db.session.add(FicheIndicateur(collectivite_id=collectivite_id, fiche_id=fiche.id,
                                           indicateur_id=indicateur_id))
        for position, (titre, realise) in enumerate(imported.etapes, 1):
            db.session.add(FicheEtape(collectivite_id=collectivite_id, fiche_id=fiche.id, position=position,
                                      titre=titre, realise=realise))
        for type_, year, amount in imported.budgets:
            db.session.add(FicheBudget(collectivite_id=collectivite_id, fiche_id=fiche.id, type=type_, annee=year,
                                       montant_ht=amount))
    commit_edit(user, collectivite_id, "plan", f"plan:{plan.id}", None,
                f'"{plan.nom} (import : {len(preview.fiches)} fiches)"')
    return plan
