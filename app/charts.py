"""Server-rendered SVG charts: the geometry is computed here, components/charts/*.html draws it.

Pure: standard library and app.dashboards only (no Flask). Coordinates are in the SVG's own
viewBox units; the templates scale the SVG with CSS classes (the Content-Security-Policy refuses
inline styles) and format the figures in French with the filters of app/filters.py. Colours come
from the `tone` of each part: a CSS class per statut, phase or series (static/css/app.css).
"""
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from app.dashboards import largest_remainder

LINE_TONES = 6  # series colours before they repeat


@dataclass(frozen=True)
class Tick:
    value: float
    position: float  # x (bars) or y (lines)


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """Round axis graduations from 0 to at least `maximum`, about `count` steps of 1, 2, 2.5 or
    5 × 10^n (0 to 1 when there is nothing to show)."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    steps = math.ceil(maximum / step - 1e-9)
    return [round(i * step, 9) for i in range(steps + 1)]


# Donut ------------------------------------------------------------------------------------------

DONUT_SIZE, DONUT_OUTER, DONUT_INNER = 200, 95, 60


@dataclass(frozen=True)
class Slice:
    key: str
    label: str
    value: float
    percent: float  # largest remainder: the slices add up to 100
    path: str  # "" for an empty slice


@dataclass(frozen=True)
class Donut:
    id: str
    title: str
    slices: tuple[Slice, ...]
    total: float
    width: int = DONUT_SIZE
    height: int = DONUT_SIZE

    @property
    def empty(self) -> bool:
        return self.total <= 0

    @property
    def empty_ring(self) -> str:
        return _ring_sector(0.0, 1.0)

    @property
    def legend(self) -> tuple[tuple[str, str], ...]:
        return tuple((s.key, s.label) for s in self.slices)


def _on_circle(radius: float, turn: float) -> str:
    """'x y' of the point at `turn` (0 at the top, clockwise, 1 = a full turn)."""
    angle = 2 * math.pi * turn
    center = DONUT_SIZE / 2
    return f"{center + radius * math.sin(angle):.2f} {center - radius * math.cos(angle):.2f}"


def _ring_sector(start: float, end: float) -> str:
    """SVG path of the ring between two turns; a full ring is two halves (an arc cannot end
    where it starts)."""
    if end - start >= 1 - 1e-9:
        return f"{_ring_sector(start, start + 0.5)} {_ring_sector(start + 0.5, end)}"
    large = 1 if end - start > 0.5 else 0
    return (
        f"M{_on_circle(DONUT_OUTER, start)}A{DONUT_OUTER} {DONUT_OUTER} 0 {large} 1 {_on_circle(DONUT_OUTER, end)}"
        f"L{_on_circle(DONUT_INNER, end)}A{DONUT_INNER} {DONUT_INNER} 0 {large} 0 {_on_circle(DONUT_INNER, start)}Z"
    )


def donut(chart_id: str, title: str, items: Sequence[tuple[str, str, float]]) -> Donut:
    """`items`: (key, label, value) per slice, drawn clockwise from the top."""
    values = [max(0.0, value) for _key, _label, value in items]
    total = sum(values)
    slices, turn = [], 0.0
    for (key, label, _value), value, percent in zip(items, values, largest_remainder(values)):
        end = turn + value / total if total else turn
        slices.append(Slice(key, label, value, percent, _ring_sector(turn, end) if value > 0 else ""))
        turn = end
    return Donut(chart_id, title, tuple(slices), round(total, 3))


# Horizontal stacked bars ------------------------------------------------------------------------

BARS_WIDTH, BARS_LABEL_WIDTH, BARS_RIGHT = 640, 64, 24
BARS_ROW, BARS_THICKNESS, BARS_TOP, BARS_AXIS = 32, 20, 8, 24


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    value: float
    x: float
    width: float


@dataclass(frozen=True)
class Bar:
    label: str  # full label (table, tooltip)
    short_label: str  # drawn left of the bar
    total: float
    segments: tuple[Segment, ...]
    y: float


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    unit: str  # "points" or "%"
    series: tuple[tuple[str, str], ...]  # (key, label) of the stacked parts, left to right
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    width: int
    height: int
    plot_left: float
    plot_bottom: float
    thickness: int = BARS_THICKNESS


def bars(
    chart_id: str,
    title: str,
    series: Sequence[tuple[str, str]],
    rows: Sequence[tuple[str, str, Sequence[float]]],
    unit: str = "points",
    maximum: float | None = None,
) -> BarChart:
    """`rows`: (label, short label, one value per series); the scale runs to `maximum` (default:
    the largest row total), rounded up to a graduation."""
    totals = [sum(max(0.0, v) for v in values) for _label, _short, values in rows]
    ticks = nice_ticks(maximum if maximum is not None else max(totals, default=0.0))
    plot_width = BARS_WIDTH - BARS_LABEL_WIDTH - BARS_RIGHT
    scale = plot_width / ticks[-1]
    drawn = []
    for index, ((label, short, values), total) in enumerate(zip(rows, totals)):
        x, segments = float(BARS_LABEL_WIDTH), []
        for (key, part_label), value in zip(series, values):
            width = max(0.0, value) * scale
            segments.append(Segment(key, part_label, value, round(x, 2), round(width, 2)))
            x += width
        y = BARS_TOP + index * BARS_ROW + (BARS_ROW - BARS_THICKNESS) / 2
        drawn.append(Bar(label, short, round(total, 3), tuple(segments), y))
    plot_bottom = BARS_TOP + len(rows) * BARS_ROW
    return BarChart(
        id=chart_id,
        title=title,
        unit=unit,
        series=tuple(series),
        bars=tuple(drawn),
        ticks=tuple(Tick(value, round(BARS_LABEL_WIDTH + value * scale, 2)) for value in ticks),
        width=BARS_WIDTH,
        height=plot_bottom + BARS_AXIS,
        plot_left=BARS_LABEL_WIDTH,
        plot_bottom=plot_bottom,
    )


# Deltas (signed bars around zero) ---------------------------------------------------------------

DELTA_LABEL_WIDTH = 64


@dataclass(frozen=True)
class DeltaBar:
    label: str  # full label (table, tooltip)
    short_label: str
    value: float
    x: float
    width: float
    y: float
    tone: str  # the colour: "fait" (a rise) or "pas_fait" (a fall)


@dataclass(frozen=True)
class DeltaChart:
    id: str
    title: str
    unit: str
    bars: tuple[DeltaBar, ...]
    ticks: tuple[Tick, ...]  # from −max to +max
    zero: float
    width: int
    height: int
    plot_left: float
    plot_bottom: float
    thickness: int = BARS_THICKNESS


def delta_bars(chart_id: str, title: str, rows: Sequence[tuple[str, str, float]], unit: str = "%") -> DeltaChart:
    """`rows`: (label, short label, signed value); bars grow right of a zero line for a rise and
    left of it for a fall, on a scale symmetric around zero."""
    half = nice_ticks(max((abs(value) for _label, _short, value in rows), default=0.0), 2)
    plot_width = BARS_WIDTH - DELTA_LABEL_WIDTH - BARS_RIGHT
    zero = DELTA_LABEL_WIDTH + plot_width / 2
    scale = plot_width / 2 / half[-1]
    drawn = []
    for index, (label, short, value) in enumerate(rows):
        width = abs(value) * scale
        drawn.append(DeltaBar(label, short, value, round(zero if value >= 0 else zero - width, 2), round(width, 2),
                              BARS_TOP + index * BARS_ROW + (BARS_ROW - BARS_THICKNESS) / 2,
                              "fait" if value >= 0 else "pas_fait"))
    ticks = sorted({-value for value in half} | set(half))
    plot_bottom = BARS_TOP + len(rows) * BARS_ROW
    return DeltaChart(chart_id, title, unit, tuple(drawn),
                      tuple(Tick(value, round(zero + value * scale, 2)) for value in ticks), round(zero, 2),
                      BARS_WIDTH, plot_bottom + BARS_AXIS, DELTA_LABEL_WIDTH, plot_bottom)


# Lines over time --------------------------------------------------------------------------------

LINE_WIDTH, LINE_HEIGHT, LINE_LEFT, LINE_RIGHT, LINE_TOP, LINE_BOTTOM = 640, 260, 48, 24, 12, 28
LINE_X_TICKS = 6


@dataclass(frozen=True)
class LinePoint:
    day: date
    value: float
    x: float
    y: float


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    tone: str  # CSS modifier: serie-1 … serie-6
    points: tuple[LinePoint, ...]
    by_day: Mapping[date, float]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.2f},{p.y:.2f}" for p in self.points)

    def value_on(self, day: date) -> float | None:
        return self.by_day.get(day)


@dataclass(frozen=True)
class ReferenceLine:
    """A horizontal line at a reference value (an indicateur's cible or seuil)."""

    key: str  # its tone: cible, seuil
    label: str
    value: float
    y: float


@dataclass(frozen=True)
class LineChart:
    id: str
    title: str
    unit: str  # "points" or "%"
    days: tuple[date, ...]  # every day of any series, sorted (the table's rows)
    lines: tuple[Line, ...]
    x_ticks: tuple[tuple[date, float], ...]
    y_ticks: tuple[Tick, ...]
    references: tuple[ReferenceLine, ...] = ()
    width: int = LINE_WIDTH
    height: int = LINE_HEIGHT
    plot_left: int = LINE_LEFT
    plot_right: int = LINE_WIDTH - LINE_RIGHT
    plot_bottom: int = LINE_HEIGHT - LINE_BOTTOM

    @property
    def empty(self) -> bool:
        return not self.days

    @property
    def legend(self) -> tuple[tuple[str, str], ...]:
        return tuple((line.tone, line.label) for line in self.lines) + tuple((r.key, r.label) for r in self.references)


def line_chart(
    chart_id: str,
    title: str,
    series: Sequence[tuple[str, str, Sequence[tuple[date, float]]]],
    unit: str = "points",
    maximum: float | None = None,
    references: Sequence[tuple[str, str, float]] = (),
) -> LineChart:
    """`series`: (key, label, (day, value) pairs); x in days (gaps between recorded days keep
    their length), y from 0 to `maximum` (default: the largest value, references included)
    rounded to a graduation; `references`: (key, label, value) drawn as horizontal lines."""
    days = tuple(sorted({day for _key, _label, values in series for day, _value in values}))
    values = [value for _key, _label, pairs in series for _day, value in pairs] + [r[2] for r in references]
    y_ticks = nice_ticks(maximum if maximum is not None else max(values, default=0.0))
    plot_width = LINE_WIDTH - LINE_LEFT - LINE_RIGHT
    plot_height = LINE_HEIGHT - LINE_TOP - LINE_BOTTOM
    span = (days[-1] - days[0]).days if days else 0

    def x_of(day: date) -> float:
        return round(LINE_LEFT + (plot_width * (day - days[0]).days / span if span else plot_width / 2), 2)

    def y_of(value: float) -> float:
        return round(LINE_TOP + plot_height * (1 - value / y_ticks[-1]), 2)

    lines = tuple(
        Line(key, label, f"serie-{index % LINE_TONES + 1}",
             tuple(LinePoint(day, value, x_of(day), y_of(value)) for day, value in sorted(pairs)), dict(pairs))
        for index, (key, label, pairs) in enumerate(series)
    )
    if len(days) <= LINE_X_TICKS:
        tick_days = days
    else:
        tick_days = tuple(days[round(i * (len(days) - 1) / (LINE_X_TICKS - 1))] for i in range(LINE_X_TICKS))
    return LineChart(
        id=chart_id,
        title=title,
        unit=unit,
        days=days,
        lines=lines,
        x_ticks=tuple((day, x_of(day)) for day in tick_days),
        y_ticks=tuple(Tick(value, y_of(value)) for value in y_ticks),
        references=tuple(ReferenceLine(key, label, value, y_of(value)) for key, label, value in references),
    )
