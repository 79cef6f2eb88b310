"""Exports of a collectivité's state on a référentiel: one row per live node, in tree order
(référentiel > axe > … > tâche), as XLSX or CSV.

The scores come from a per-node records mapping: the stored scores by default (a snapshot's
records can be passed instead); statuts, précisions and preuves are those stored now.

Précisions are exported as the markdown the agent typed: markdown is meant to read as plain text,
and stripping it would lose the links' addresses and the tables' layout.

CSV: for Excel in French (`;` separator, UTF-8 BOM, decimal comma, CRLF). Identifiants are written
as ="1.2.3" so that Excel keeps them as text (it would read 1.1 as a date or 3.10 as 3.1), and a
text starting with a formula character gets a leading apostrophe so that Excel never runs it.
"""
import csv
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.dimensions import RowDimension
from sqlalchemy import func, select

from app.extensions import db
from app.models import Action, ActionStatut, Collectivite, Precision, PreuveFichier, PreuveLien, Referentiel
from app.services.reponses import percent_text
from app.services.scores import scores_for
from app.services.statuts import STATUT_LABELS, StatutValue, read_statuts

PARIS = ZoneInfo("Europe/Paris")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MAX_TEXT = 32_767  # characters in an Excel cell
TRUNCATED = " […] (texte tronqué : le texte complet est dans l'application)"
# Excel reads a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportUnavailable(LookupError):
    """Unknown collectivité or référentiel; the message (French) can be shown."""


@dataclass(frozen=True)
class ExportRow:
    identifiant: str
    nom: str
    type: str  # référentiel, axe, sous-axe, mesure, sous-action, tâche
    depth: int
    statut: str
    point_referentiel: float | None  # None: no score stored for the node
    point_potentiel: float | None
    point_fait: float | None
    point_programme: float | None
    point_pas_fait: float | None
    realise: float | None  # fait / potentiel in [0, 1]; None when the potentiel is 0
    preuves: int  # files and links
    precision: str


@dataclass(frozen=True)
class ExportMeta:
    collectivite_nom: str
    referentiel_id: str
    referentiel_nom: str
    day: date
    label: str | None = None  # a snapshot's name, for the export of a snapshot

    def filename(self, extension: str) -> str:
        label = f"-{_slug(self.label)}" if self.label else ""
        return f"tet-{_slug(self.collectivite_nom)}-{_slug(self.referentiel_id)}{label}-{self.day.isoformat()}.{extension}"

    @property
    def title(self) -> str:
        label = f"sauvegarde « {self.label} », " if self.label else ""
        return f"{self.collectivite_nom} — {self.referentiel_nom} — {label}état au {self.day.strftime('%d/%m/%Y')}"


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    data: bytes
    row_count: int


# (header, ExportRow attribute, kind, XLSX column width); kinds: identifiant, nom (a text indented by
# depth in XLSX), text, points, percent, count.
COLUMNS = (
    ("Identifiant", "identifiant", "identifiant", 12),
    ("Nom", "nom", "nom", 60),
    ("Type", "type", "text", 12),
    ("Statut", "statut", "text", 28),
    ("Points du référentiel", "point_referentiel", "points", 12),
    ("Potentiel", "point_potentiel", "points", 12),
    ("Fait", "point_fait", "points", 12),
    ("Programmé", "point_programme", "points", 12),
    ("Pas fait", "point_pas_fait", "points", 12),
    ("Réalisé (%)", "realise", "percent", 11),
    ("Preuves", "preuves", "count", 9),
    ("Précision", "precision", "text", 60),  # last: long texts spread without hiding a column
)


# Rows ----------------------------------------------------------------------------------------------


def export_meta(collectivite_id: int, referentiel_id: str, day: date | None = None, label: str | None = None) -> ExportMeta:
    """What the files are titled and named with; `day`: the date of the state (today in Paris)."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        raise ExportUnavailable(f"collectivité inconnue : {collectivite_id}")
    referentiel = _live_referentiel(referentiel_id)
    return ExportMeta(collectivite.nom, referentiel.id, referentiel.nom, day or datetime.now(PARIS).date(), label)


def referentiel_rows(collectivite_id: int, referentiel_id: str, scores: Mapping[str, Mapping] | None = None,
                     statuts: Mapping[str, StatutValue] | None = None) -> list[ExportRow]:
    """One row per live node of the référentiel, in tree order; `scores`: action id -> record
    (SCORE_FIELDS -> value), the stored scores by default; `statuts`: action id -> statut, the
    stored ones by default."""
    referentiel = _live_referentiel(referentiel_id)
    if scores is None:
        scores = scores_for(collectivite_id, referentiel_id)
    if statuts is None:
        statuts = read_statuts(collectivite_id, ActionStatut.referentiel_id == referentiel_id)
    precisions = {  # line ends as browsers send them (CRLF) would show as stray characters in Excel
        action_id: texte.replace("\r\n", "\n").replace("\r", "\n")
        for action_id, texte in db.session.execute(
            select(Precision.action_id, Precision.texte).where(Precision.collectivite_id == collectivite_id)
        )
    }
    preuves = _preuve_counts(collectivite_id)
    rows = []
    for action in _tree_order(referentiel_id):
        record = scores.get(action.id)
        settable = action.depth > referentiel.action_level
        rows.append(ExportRow(
            identifiant=action.identifiant,
            nom=action.nom,
            type=_level(action.depth, referentiel.action_level),
            depth=action.depth,
            statut=_statut_label(statuts.get(action.id), settable, record),
            **_points(record),
            preuves=preuves.get(action.id, 0),
            precision=precisions.get(action.id, ""),
        ))
    return rows


def _live_referentiel(referentiel_id: str) -> Referentiel:
    referentiel = db.session.get(Referentiel, referentiel_id)
    if referentiel is None or referentiel.archived:
        known = db.session.scalars(select(Referentiel.id).where(~Referentiel.archived).order_by(Referentiel.id)).all()
        raise ExportUnavailable(f"référentiel inconnu : « {referentiel_id} » (référentiels disponibles : "
                                f"{', '.join(known) or 'aucun, lancez `flask content load`'})")
    return referentiel


def _tree_order(referentiel_id: str) -> list:
    """The live actions, depth first from the root, siblings in display order."""
    children = defaultdict(list)
    root = None
    for action in db.session.execute(
        select(Action.id, Action.parent_id, Action.identifiant, Action.nom, Action.depth)
        .where(Action.referentiel_id == referentiel_id, ~Action.archived)
        .order_by(Action.position)
    ):
        if action.parent_id is None:
            root = action
        else:
            children[action.parent_id].append(action)
    ordered, stack = [], [root] if root is not None else []
    while stack:
        action = stack.pop()
        ordered.append(action)
        stack.extend(reversed(children[action.id]))
    return ordered


def _preuve_counts(collectivite_id: int) -> dict[str, int]:
    counts = defaultdict(int)
    for model in (PreuveFichier, PreuveLien):
        for action_id, count in db.session.execute(
            select(model.action_id, func.count()).where(model.collectivite_id == collectivite_id).group_by(model.action_id)
        ):
            counts[action_id] += count
    return counts


def _level(depth: int, action_level: int) -> str:
    if depth == 0:
        return "référentiel"
    if depth < action_level:
        return "axe" if depth == 1 else "sous-axe"
    return ("mesure", "sous-action", "tâche")[min(depth - action_level, 2)]


def _statut_label(statut: StatutValue | None, settable: bool, record: Mapping | None) -> str:
    """The statut in words for tâches and sous-actions; "Désactivée" on any node a
    personnalisation rule switches off (its potentiel is 0)."""
    if record is not None and record["desactive"]:
        return "Désactivée (personnalisation)"
    if not settable:
        return ""
    value = statut.value if statut is not None else "non_renseigne"
    if value != "detaille":
        return STATUT_LABELS[value]
    fait, programme, pas_fait = (percent_text(f) for f in (statut.fait, statut.programme, statut.pas_fait))
    return f"Détaillé (fait {fait} %, programmé {programme} %, pas fait {pas_fait} %)"


def _points(record: Mapping | None) -> dict:
    names = ("point_referentiel", "point_potentiel", "point_fait", "point_programme", "point_pas_fait")
    if record is None:
        return dict.fromkeys(names) | {"realise": None}
    potentiel = record["point_potentiel"]
    realise = min(1.0, record["point_fait"] / potentiel) if potentiel > 0 else None
    return {name: record[name] for name in names} | {"realise": realise}


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:60].strip("-") or "export"


# Files ---------------------------------------------------------------------------------------------


def to_xlsx(rows: list[ExportRow], meta: ExportMeta) -> bytes:
    """One sheet: a title row, a header row (both frozen, with the identifiant and nom columns),
    numbers as numbers, nodes grouped by depth (outline levels) and their names indented."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(meta.referentiel_id.upper()[:31] or "Export")
    sheet.freeze_panes = "C3"
    sheet.sheet_properties.outlinePr.summaryBelow = False  # a node's row comes before its children's
    for index, (_header, _attribute, _kind, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for index, row in enumerate(rows, start=3):
        if row.depth:  # write-only sheets write the dimensions they hold when the row is appended
            sheet.row_dimensions[index] = RowDimension(sheet, index=index, outlineLevel=min(row.depth, 7))
    sheet.sheet_format.outlineLevelRow = min(max((row.depth for row in rows), default=0), 7)  # Excel's level buttons
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(COLUMNS))}{len(rows) + 2}"

    title = _text_cell(sheet, meta.title)
    title.font = Font(bold=True, size=13)
    sheet.append([title])
    headers = [_text_cell(sheet, header) for header, *_rest in COLUMNS]
    for cell in headers:
        cell.font, cell.alignment = Font(bold=True), _WRAPPED
    sheet.append(headers)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, kind, getattr(row, attribute), row.depth)
                      for _header, attribute, kind, _width in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_WRAPPED = Alignment(wrap_text=True, vertical="top")
_INDENTS = [Alignment(indent=depth) for depth in range(8)]
_NUMBER_FORMATS = {"points": "#,##0.00", "percent": "0.0%"}


def _xlsx_cell(sheet, kind: str, value, depth: int) -> WriteOnlyCell:
    if kind in ("identifiant", "nom", "text"):
        cell = _text_cell(sheet, value)
        if kind == "nom" and depth:
            cell.alignment = _INDENTS[min(depth, 7)]
        elif "\n" in cell.value:
            cell.alignment = _WRAPPED
        return cell
    cell = WriteOnlyCell(sheet, value)
    if kind in _NUMBER_FORMATS:
        cell.number_format = _NUMBER_FORMATS[kind]
    return cell


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    """A string cell, never a formula, without the characters XML forbids, cut to Excel's limit."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value or "")
    if len(value) > XLSX_MAX_TEXT:
        value = value[:XLSX_MAX_TEXT - len(TRUNCATED)] + TRUNCATED
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"  # openpyxl takes a text starting with "=" for a formula
    return cell


def to_csv(rows: list[ExportRow], meta: ExportMeta) -> bytes:
    """A header row then one line per row (the title is in the file name: `meta` is unused)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header for header, *_rest in COLUMNS)
    for row in rows:
        writer.writerow(_csv_value(kind, getattr(row, attribute)) for _header, attribute, kind, _width in COLUMNS)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_value(kind: str, value) -> str:
    if value is None or value == "":
        return ""
    if kind == "identifiant":
        return f'="{value}"'
    if kind in ("nom", "text"):
        return "'" + value if value.startswith(_FORMULA_STARTS) else value
    if kind == "percent":
        value = round(100 * value, 1)
    if kind == "count":
        return str(value)
    return f"{value:.3f}".rstrip("0").rstrip(".").replace(".", ",")


FORMATS = {"xlsx": (to_xlsx, XLSX_MIMETYPE), "csv": (to_csv, CSV_MIMETYPE)}


def export_referentiel(collectivite_id: int, referentiel_id: str, file_format: str,
                       scores: Mapping[str, Mapping] | None = None, statuts: Mapping[str, StatutValue] | None = None,
                       day: date | None = None, label: str | None = None) -> ExportFile:
    """The current state (or a snapshot's: its `scores`, `statuts`, `day` and name) as a file of
    `file_format` (a key of FORMATS); ExportUnavailable when the collectivité or the référentiel
    is unknown."""
    meta = export_meta(collectivite_id, referentiel_id, day, label)
    rows = referentiel_rows(collectivite_id, referentiel_id, scores, statuts)
    write, mimetype = FORMATS[file_format]
    return ExportFile(meta.filename(file_format), mimetype, write(rows, meta), len(rows))
