"""The tableau de bord of a collectivité: per référentiel, its score split by statut, per axe and
per phase, its potentiel and how many tâches are filled in; the collectivité's home page, which
sums up each référentiel; the score over time from the daily history (ScoreHistory).

The figures are the engine's stored records, read once per page; the computations are
app.dashboards' and the chart geometry app.charts' (both pure). Page builders return None when the
collectivité or the référentiel is unknown (a 404).
"""
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Text, cast, select

from app.charts import BarChart, Donut, LineChart, bars, donut, line_chart
from app.dashboards import (
    SCORE_RECORD_KEYS,
    STATUT_PARTS,
    PhaseRepartition,
    ProgressionRow,
    Repartition,
    Score,
    drawn_days,
    evolution,
    progression_par_axe,
    realise_par_phase,
    repartition,
)
from app.extensions import db
from app.models import Collectivite, Referentiel, ScoreHistory, ScoreState
from app.scoring import SCORE_FIELDS
from app.services.pilotage import dashboard_tree
from app.services.scores import NO_SCORES_REVISION, scores_for
from app.services.snapshots import first_activity, paris_day_of, paris_today

DEFAULT_PERIOD_DAYS = 365  # the évolution shows the last year unless the URL says otherwise
MAX_POINTS = 60  # days drawn at most: beyond, the last day of each week (or month) stands for it
DATE_FORMAT_HINT = "format attendu AAAA-MM-JJ (par exemple 2025-03-31)"


def _referentiel(referentiel_id: str) -> Referentiel | None:
    referentiel = db.session.get(Referentiel, referentiel_id)
    return None if referentiel is None or referentiel.archived else referentiel


def _unscored(referentiel: Referentiel) -> Score:
    """The root before any computation: every point still to fill in."""
    return Score(referentiel.points, referentiel.points, 0, 0, 0, referentiel.points)


def _donut(chart_id: str, title: str, parts) -> Donut:
    return donut(chart_id, title, [(part.key, part.label, part.points) for part in parts])


# Tableau de bord of one référentiel --------------------------------------------------------------


@dataclass(frozen=True)
class ReferentielDashboard:
    revision: int  # the score revision shown (NO_SCORES_REVISION: not computed yet)
    total: Repartition  # the référentiel's root
    axes: list[ProgressionRow]  # one per axe, then the Total row
    phases: PhaseRepartition
    donut: Donut
    phases_donut: Donut
    bars_points: BarChart
    bars_percent: BarChart

    @property
    def scored(self) -> bool:
        return self.revision != NO_SCORES_REVISION


# (collectivité, référentiel) -> (stamp of the stored scores, their dashboard): a dashboard shown
# again before the next re-score reads the stamp only, not the JSON of every node.
_DASHBOARDS_MAX = 256
_dashboards: OrderedDict[tuple[int, str], tuple[tuple, ReferentielDashboard]] = OrderedDict()
_dashboards_lock = threading.Lock()


def referentiel_dashboard(collectivite_id: int, referentiel: Referentiel) -> ReferentielDashboard:
    key = (collectivite_id, referentiel.id)
    stamp = db.session.execute(
        select(ScoreState.scored_revision, ScoreState.computed_at, ScoreState.content_version_id)
        .where(ScoreState.collectivite_id == collectivite_id, ScoreState.referentiel_id == referentiel.id,
               ScoreState.scores.is_not(None))
    ).one_or_none()
    with _dashboards_lock:
        cached = _dashboards.get(key)
    if cached is not None and stamp is not None and cached[0] == tuple(stamp):
        return cached[1]
    tree = dashboard_tree(referentiel)
    stored = scores_for(collectivite_id, referentiel.id)
    # The nodes the figures read: the root, the axes and the sous-actions (the phases).
    columns = stored.columns(SCORE_RECORD_KEYS)
    scores = {node.id: Score(*columns[node.id]) for node in tree.nodes
              if node.id in columns and (node.depth <= 1 or tree.kind[node.id] == "sous_action")}
    root = scores.get(tree.root.id) or _unscored(referentiel)
    axes = progression_par_axe(tree, scores)
    phases = realise_par_phase(tree, scores)
    prefix = f"tableau-de-bord-{referentiel.id}"
    series = list(STATUT_PARTS.items())

    def bar_rows(rows, unit):
        return [(row.label, row.node.identifiant if row.node else "Total",
                 [part.points if unit == "points" else part.percent for part in row.repartition.parts])
                for row in rows]

    dashboard = ReferentielDashboard(
        revision=stored.revision,
        total=repartition(root),
        axes=axes,
        phases=phases,
        donut=_donut(f"{prefix}-repartition", f"Répartition du score – {referentiel.nom}", repartition(root).parts),
        phases_donut=_donut(f"{prefix}-phases", f"Score réalisé par phase – {referentiel.nom}", phases.parts),
        bars_points=bars(f"{prefix}-axes-points", f"Progression par axe, en points – {referentiel.nom}", series,
                         bar_rows(axes[:-1], "points")),
        bars_percent=bars(f"{prefix}-axes-pourcentages", f"Progression par axe, en pourcentage du potentiel – "
                          f"{referentiel.nom}", series, bar_rows(axes, "%"), unit="%", maximum=100),
    )
    if stamp is not None:
        with _dashboards_lock:
            _dashboards[key] = (tuple(stamp), dashboard)
            _dashboards.move_to_end(key)
            while len(_dashboards) > _DASHBOARDS_MAX:
                _dashboards.popitem(last=False)
    return dashboard


def dashboard_page(collectivite_id: int, referentiel_id: str) -> dict | None:
    collectivite = db.session.get(Collectivite, collectivite_id)
    referentiel = _referentiel(referentiel_id)
    if collectivite is None or referentiel is None:
        return None
    return {"collectivite": collectivite, "referentiel": referentiel, "current_tab": referentiel_id,
            "dashboard": referentiel_dashboard(collectivite_id, referentiel)}


# The collectivité's home page --------------------------------------------------------------------


def home_page(collectivite_id: int) -> dict | None:
    """Each live référentiel with its tableau de bord (kept until its scores change)."""
    collectivite = db.session.get(Collectivite, collectivite_id)
    if collectivite is None:
        return None
    referentiels = db.session.scalars(select(Referentiel).where(~Referentiel.archived).order_by(Referentiel.id))
    return {"collectivite": collectivite,
            "summaries": [(referentiel, referentiel_dashboard(collectivite_id, referentiel)) for referentiel in referentiels]}


# Score over time ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    du: date
    au: date
    values: Mapping[str, str]  # as typed, to fill the form


def parse_period(collectivite_id: int, args: Mapping) -> tuple[Period, list[str]]:
    """The period of `args` (du, au: AAAA-MM-JJ, days in Paris); what is not understood is left
    out (the default period: the last DEFAULT_PERIOD_DAYS days up to today), its French message
    in the list."""
    values = {name: (args.get(name) or "").strip() for name in ("du", "au")}
    today = paris_today()
    errors, days = [], {}
    for name, label in (("du", "de début"), ("au", "de fin")):
        if values[name]:
            try:
                days[name] = date.fromisoformat(values[name])
            except ValueError:
                errors.append(f"Date {label} invalide : {DATE_FORMAT_HINT}.")
    if days.get("au") and days["au"] > today:
        errors.append(f"La date de fin est dans le futur : la période s'arrête aujourd'hui ({today:%d/%m/%Y}).")
        days["au"] = today
    if days.get("du") and days["du"] > days.get("au", today):
        errors.append("La date de début doit précéder la date de fin : la période par défaut est affichée.")
        days = {}
    first = first_activity(collectivite_id)
    if first is not None and days.get("au") and days["au"] < paris_day_of(first):
        errors.append(f"La collectivité n'a aucune donnée avant le {paris_day_of(first):%d/%m/%Y} : choisissez une "
                      "période qui se termine après cette date. La période par défaut est affichée.")
        days = {}
    au = days.get("au", today)
    return Period(days.get("du", au - timedelta(days=DEFAULT_PERIOD_DAYS)), au, values), errors


@dataclass(frozen=True)
class EvolutionCharts:
    referentiel: LineChart  # réalisé, programmé and potentiel of the référentiel, in points
    axes: LineChart  # réalisé of each axe, in % of its potentiel
    step: str  # the days drawn: every recorded "jour", or the last of each "semaine" or "mois"


def evolution_page(collectivite_id: int, referentiel_id: str, args: Mapping) -> dict | None:
    collectivite = db.session.get(Collectivite, collectivite_id)
    referentiel = _referentiel(referentiel_id)
    if collectivite is None or referentiel is None:
        return None
    period, errors = parse_period(collectivite_id, args)
    return {"collectivite": collectivite, "referentiel": referentiel, "current_tab": referentiel_id,
            "period": period, "errors": errors, "charts": evolution_charts(collectivite_id, referentiel, period)}


def evolution_charts(collectivite_id: int, referentiel: Referentiel, period: Period) -> EvolutionCharts | None:
    """The curves over the days recorded in the period (UTC days, as stored), at most MAX_POINTS
    of them (app.dashboards.drawn_days); None when none is recorded."""
    of_period = (ScoreHistory.collectivite_id == collectivite_id, ScoreHistory.referentiel_id == referentiel.id,
                 ScoreHistory.day >= period.du, ScoreHistory.day <= period.au, ScoreHistory.scores.is_not(None))
    days, step = drawn_days(db.session.scalars(select(ScoreHistory.day).where(*of_period).order_by(ScoreHistory.day)).all(),
                            MAX_POINTS)
    if not days:
        return None
    tree = dashboard_tree(referentiel)
    node_ids = [tree.root.id, *(axe.id for axe in tree.axes)]
    history = [(day, _as_dicts(records_in(text, node_ids))) for day, text in db.session.execute(
        select(ScoreHistory.day, cast(ScoreHistory.scores, Text)).where(*of_period, ScoreHistory.day.in_(days)))]
    root, *axes = evolution(tree, history, node_ids)
    prefix = f"evolution-{referentiel.id}"
    return EvolutionCharts(
        referentiel=line_chart(
            f"{prefix}-score", f"Score du référentiel en points – {referentiel.nom}",
            [("fait", "Réalisé", [(p.day, p.fait) for p in root.points]),
             ("programme", "Programmé", [(p.day, p.programme) for p in root.points]),
             ("potentiel", "Potentiel", [(p.day, p.potentiel) for p in root.points])]),
        axes=line_chart(
            f"{prefix}-axes", f"Score réalisé par axe, en pourcentage du potentiel – {referentiel.nom}",
            [(curve.node.id, f"{curve.node.identifiant}. {curve.node.nom}",
              [(p.day, p.pct_fait) for p in curve.points if p.pct_fait is not None]) for curve in axes],
            unit="%", maximum=100),
        step=step,
    )


_DECODER = json.JSONDecoder()
_COLON = re.compile(r"\s*:\s*")


def records_in(text: str, node_ids: list[str]) -> dict[str, list]:
    """The records of `node_ids` out of a day's stored JSON text, each decoded alone: the day holds
    every node (150 kB for the CAE), which neither the databases' JSON functions (PostgreSQL parses
    the whole text per path) nor json.loads read fast enough for a year of days. A record is found
    by its quoted key, which occurs once: the records hold numbers, booleans and nulls only. The
    search starts from the end: the engine writes each node after its descendants, so the root and
    the axes are found at once."""
    records = {}
    for node_id in node_ids:
        key = text.rfind(f'"{node_id}"')
        if key >= 0:
            records[node_id] = _DECODER.raw_decode(text, _COLON.match(text, key + len(node_id) + 2).end())[0]
    return records


def _as_dicts(records: Mapping[str, list]) -> dict[str, dict]:
    return {node_id: dict(zip(SCORE_FIELDS, record)) for node_id, record in records.items()}
