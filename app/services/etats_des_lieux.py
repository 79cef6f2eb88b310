"""Page builders of the "états des lieux" pages of a référentiel: the snapshots' list and the
form that freezes one, a snapshot's every node, the comparison of two snapshots (or of one with
now), and the export of a snapshot. The freezing, replay and comparison are app.services.snapshots';
the files are app.services.exports'. Page builders return None when the collectivité,
référentiel or snapshot is unknown (a 404)."""
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import select

from app.charts import delta_bars
from app.extensions import db
from app.models import Collectivite, Referentiel, ScoreSnapshot, User
from app.persistence import utcnow
from app.policy import can
from app.scoring import SCORE_FIELDS
from app.services import exports, snapshots
from app.services.suivi import InvalidEdit

NOW = "maintenant"  # the comparison's stand-in for a snapshot of the current scores


@dataclass(frozen=True)
class SnapshotItem:
    snapshot: ScoreSnapshot
    author: str
    when: str
    fait_percent: float | None  # réalisé / potentiel of the référentiel, None when the potentiel is 0


def _base(user, collectivite_id: int, referentiel_id: str) -> dict | None:
    collectivite = db.session.get(Collectivite, collectivite_id)
    referentiel = db.session.get(Referentiel, referentiel_id)
    if collectivite is None or referentiel is None or referentiel.archived:
        return None
    return {"collectivite": collectivite, "referentiel": referentiel, "current_tab": referentiel_id,
            "can_edit": can(user, "edit", collectivite_id)}


def index_page(user, collectivite_id: int, referentiel_id: str, form: dict | None = None,
               error: str | None = None) -> dict | None:
    """The snapshots, latest first, and the freeze form (`form`: the values sent back with `error`)."""
    page = _base(user, collectivite_id, referentiel_id)
    if page is None:
        return None
    listed = snapshots.list_snapshots(collectivite_id, referentiel_id)
    authors = dict(db.session.execute(
        select(User.id, User.name).where(User.id.in_({s.created_by_id for s in listed if s.created_by_id}))).all())
    items = [SnapshotItem(s, authors.get(s.created_by_id, "—"), when_text(s.at),
                          round(100 * s.point_fait / s.point_potentiel, 1) if s.point_potentiel else None)
             for s in listed]
    return page | {"items": items, "form": form or {"nom": "", "quand": "maintenant", "date": ""}, "error": error,
                   "today": snapshots.paris_today().isoformat()}


def freeze_from_form(user, collectivite_id: int, referentiel_id: str, form: dict) -> ScoreSnapshot:
    """Freeze from the form's fields: nom, quand (maintenant | date) and date (AAAA-MM-JJ)."""
    quand = form.get("quand", "maintenant")
    if quand not in ("maintenant", "date"):
        raise InvalidEdit("Choisissez « Date d'aujourd'hui » ou « À une date antérieure ».")
    date_text = (form.get("date") or "").strip()
    if quand == "date" and not date_text:
        raise InvalidEdit("Indiquez la date antérieure à figer (format AAAA-MM-JJ).")
    return snapshots.freeze(user, collectivite_id, referentiel_id, form.get("nom"), date_text if quand == "date" else None)


def delete(user, collectivite_id: int, referentiel_id: str, snapshot_id: int) -> None:
    snapshot = snapshots.get_snapshot(collectivite_id, snapshot_id)
    if snapshot is None or snapshot.referentiel_id != referentiel_id:
        raise InvalidEdit("Cette sauvegarde n'existe pas ou plus.")
    snapshots.delete_snapshot(user, collectivite_id, snapshot_id)


def when_text(moment) -> str:
    """A naive UTC moment as shown: its day and time in Paris."""
    return moment.replace(tzinfo=UTC).astimezone(snapshots.PARIS).strftime("%d/%m/%Y à %H:%M")


def _snapshot_of(collectivite_id: int, referentiel_id: str, snapshot_id: int) -> ScoreSnapshot | None:
    snapshot = snapshots.get_snapshot(collectivite_id, snapshot_id)
    return snapshot if snapshot is not None and snapshot.referentiel_id == referentiel_id else None


def _records(snapshot: ScoreSnapshot) -> dict[str, dict]:
    return {action_id: dict(zip(SCORE_FIELDS, values)) for action_id, values in snapshot.scores.items()}


def snapshot_page(user, collectivite_id: int, referentiel_id: str, snapshot_id: int) -> dict | None:
    """Every node of the référentiel with the snapshot's figures, as the export has them."""
    page = _base(user, collectivite_id, referentiel_id)
    snapshot = page and _snapshot_of(collectivite_id, referentiel_id, snapshot_id)
    if snapshot is None:
        return None
    rows = exports.referentiel_rows(collectivite_id, referentiel_id, _records(snapshot),
                                    snapshots.statuts_at(collectivite_id, referentiel_id, snapshot.at))
    return page | {"snapshot": snapshot, "when": when_text(snapshot.at), "rows": rows}


def snapshot_export(collectivite_id: int, referentiel_id: str, snapshot_id: int, file_format: str) -> exports.ExportFile | None:
    """The export of the snapshot: its figures, the statuts of its moment (replayed from the
    history), today's précisions and preuves (not part of the history); None for an unknown
    snapshot."""
    snapshot = _snapshot_of(collectivite_id, referentiel_id, snapshot_id)
    if snapshot is None:
        return None
    return exports.export_referentiel(
        collectivite_id, referentiel_id, file_format, scores=_records(snapshot),
        statuts=snapshots.statuts_at(collectivite_id, referentiel_id, snapshot.at),
        day=snapshots.paris_day_of(snapshot.at), label=snapshot.nom)


# Comparison --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    key: str  # a snapshot id, or NOW
    label: str
    snapshot: ScoreSnapshot

    @property
    def when(self) -> str:
        return when_text(self.snapshot.at)


def _side(collectivite_id: int, referentiel_id: str, key: str) -> Side | None:
    if key == NOW:
        replayed = snapshots.replay(collectivite_id, referentiel_id, utcnow())
        current = ScoreSnapshot(collectivite_id=collectivite_id, referentiel_id=referentiel_id, nom="Maintenant",
                                at=utcnow(), scores=replayed.records)  # never added to the session
        return Side(NOW, "État actuel", current)
    snapshot = _snapshot_of(collectivite_id, referentiel_id, int(key)) if key.isdigit() else None
    return Side(key, snapshot.nom, snapshot) if snapshot is not None else None


def compare_page(user, collectivite_id: int, referentiel_id: str, args) -> dict | None:
    """`args` a and b: snapshot ids or "maintenant" (b defaults to now). Without a valid choice,
    the page shows the choice form with a French message (`error`)."""
    page = _base(user, collectivite_id, referentiel_id)
    if page is None:
        return None
    choices = [(str(s.id), s.nom) for s in snapshots.list_snapshots(collectivite_id, referentiel_id)]
    a_key, b_key = args.get("a", ""), args.get("b", NOW)
    page |= {"choices": choices, "a_key": a_key, "b_key": b_key, "rows": None, "error": None}
    if not a_key:
        return page
    side_a, side_b = _side(collectivite_id, referentiel_id, a_key), _side(collectivite_id, referentiel_id, b_key)
    if side_a is None or side_b is None:
        return page | {"error": "Sauvegarde inconnue : choisissez deux sauvegardes de la liste."}
    rows = snapshots.compare(side_a.snapshot, side_b.snapshot)
    changed = sorted((row for row in rows if row.depth > 0 and row.delta is not None), key=_change, reverse=True)
    axes = [row for row in rows if row.depth == 1]
    chart = delta_bars("comparaison-axes", f"Écart de score réalisé par axe, de « {side_a.label} » à « {side_b.label} »",
                       [(f"{row.identifiant} {row.nom}", row.identifiant, row.delta.fait_percent if row.delta else 0.0)
                        for row in axes])
    root = rows[0] if rows and rows[0].depth == 0 else None
    return page | {"side_a": side_a, "side_b": side_b, "root": root, "axes": axes, "chart": chart,
                   "rows": [row for row in changed if row.is_action]}


def _change(row: snapshots.ComparisonRow) -> tuple[float, float]:
    """Biggest change first: the points réalisés gained or lost, then the programmés."""
    return abs(row.delta.point_fait), abs(row.delta.point_programme)
