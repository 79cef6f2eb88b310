"""SVG charts: geometry (app.charts) and rendering (components/charts/*.html): well-formed XML,
an image with a title and a description, the same figures in a table for screen readers, and no
inline style (the Content-Security-Policy refuses it)."""
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from flask import Flask

from app.charts import bars, delta_bars, donut, line_chart, nice_ticks
from app.dashboards import progression_par_axe, realise_par_phase, repartition
from app.filters import register_filters
from tests.unit.dashboards.real_referentiels import load_real

APP = Path(__file__).resolve().parents[2] / "app"
SVG = "{http://www.w3.org/2000/svg}"
STATUTS = [("fait", "Réalisé"), ("programme", "Programmé"), ("pas_fait", "Pas fait"), ("non_renseigne", "Non renseigné")]


@pytest.fixture(scope="module")
def render():
    app = Flask("charts", template_folder=str(APP / "templates"))
    register_filters(app)

    def render(component: str, *args, **kwargs) -> str:
        with app.app_context():
            macro = getattr(app.jinja_env.get_template(f"components/charts/{component}.html").module, component)
            return str(macro(*args, **kwargs))

    return render


def parsed(html: str) -> ET.Element:
    """The rendered figure as XML (it must be well-formed), checked for what every chart has."""
    assert not re.search(r"\sstyle\s*=", html)
    figure = ET.fromstring(html)
    svg = figure.find(f"{SVG}svg")
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find(f"{SVG}title").get("id") == title_id and svg.find(f"{SVG}title").text.strip()
    assert svg.find(f"{SVG}desc").get("id") == desc_id and svg.find(f"{SVG}desc").text.strip()
    table = figure.find("table")
    assert table.get("class") == "fr-sr-only"
    assert table.find("caption").text == svg.find(f"{SVG}title").text
    return figure


def table_rows(figure: ET.Element) -> list[list[str]]:
    return [["".join(cell.itertext()) for cell in row] for row in figure.iter("tr")]


@pytest.mark.parametrize(("maximum", "ticks"), [
    (100, [0, 25, 50, 75, 100]),
    (500, [0, 200, 400, 600]),  # steps of 1, 2, 2.5 or 5 × 10^n, about four of them
    (96.5, [0, 25, 50, 75, 100]),
    (7, [0, 2, 4, 6, 8]),
    (0.3, [0, 0.1, 0.2, 0.3]),
    (1, [0, 0.25, 0.5, 0.75, 1]),
    (0, [0, 1]),
])
def test_nice_ticks(maximum, ticks):
    assert nice_ticks(maximum) == ticks


def test_donut_geometry_clockwise_from_the_top():
    chart = donut("d", "Titre", [("fait", "Réalisé", 1), ("programme", "Programmé", 0), ("pas_fait", "Pas fait", 3)])
    assert [s.path for s in chart.slices][:2] == [
        "M100.00 5.00A95 95 0 0 1 195.00 100.00L160.00 100.00A60 60 0 0 0 100.00 40.00Z", ""]
    assert chart.slices[2].path.startswith("M195.00 100.00A95 95 0 1 1 100.00 5.00")  # the large arc, 3/4
    assert [s.percent for s in chart.slices] == [25, 0, 75]
    assert (chart.total, chart.empty) == (4, False)


def test_donut_of_one_part_is_a_full_ring_of_two_halves():
    path = donut("d", "Titre", [("fait", "Réalisé", 0), ("pas_fait", "Pas fait", 12.5)]).slices[1].path
    assert path.count("M") == 2 and "100.00 195.00" in path


def test_donut_renders_an_accessible_image_and_table(render):
    chart = donut("cae-repartition", "Répartition du score", [(k, label, v) for (k, label), v in zip(STATUTS, [11, 3, 2, 2])])
    html = render("donut", chart, center="18 points")
    figure = parsed(html)
    assert figure.get("id") == "cae-repartition"
    svg = figure.find(f"{SVG}svg")
    assert len(svg.findall(f"{SVG}path")) == 4
    assert svg.find(f"{SVG}desc").text == ("Réalisé : 61,1 % (11 points) ; Programmé : 16,7 % (3 points) ; "
                                           "Pas fait : 11,1 % (2 points) ; Non renseigné : 11,1 % (2 points).")
    assert svg.find(f"{SVG}text").text == "18 points"
    assert table_rows(figure) == [["Statut", "Points", "Part"], ["Réalisé", "11", "61,1 %"], ["Programmé", "3", "16,7 %"],
                                  ["Pas fait", "2", "11,1 %"], ["Non renseigné", "2", "11,1 %"]]


def test_empty_donut_is_a_grey_ring(render):
    figure = parsed(render("donut", donut("vide", "Répartition", [(k, label, 0) for k, label in STATUTS])))
    paths = figure.find(f"{SVG}svg").findall(f"{SVG}path")
    assert [p.get("class") for p in paths] == ["tet-chart__fill tet-tone--vide"]
    assert figure.find(f"{SVG}svg").find(f"{SVG}desc").text == "Aucun point à répartir."


def test_bars_are_stacked_to_scale():
    chart = bars("b", "Progression", STATUTS[:2], [("1 Axe un", "1", [30, 10]), ("2 Axe deux", "2", [0, 0])])
    assert [t.value for t in chart.ticks] == [0, 10, 20, 30, 40]
    first = chart.bars[0].segments
    assert (first[0].x, first[0].width, first[1].x, first[1].width) == (64, 414, 478, 138)  # 552 px for 40 points
    assert [s.width for s in chart.bars[1].segments] == [0, 0]
    assert chart.bars[1].y - chart.bars[0].y == 32
    assert chart.height == 8 + 2 * 32 + 24


def test_bars_in_percent_render_with_their_table(render):
    chart = bars("axes-pct", "Progression par axe (%)", STATUTS[:2],
                 [("1 Planification", "1", [42.5, 10]), ("Total", "Total", [20, 5])], unit="%", maximum=100)
    figure = parsed(render("bars", chart))
    assert [t.value for t in chart.ticks][-1] == 100
    assert len(figure.find(f"{SVG}svg").findall(f".//{SVG}rect")) == 4
    assert table_rows(figure) == [["Axe", "Réalisé (%)", "Programmé (%)"], ["1 Planification", "42,5 %", "10 %"],
                                  ["Total", "20 %", "5 %"]]
    assert "1 Planification : réalisé 42,5 %, programmé 10 % ; Total" in "".join(figure.find(f"{SVG}svg").find(f"{SVG}desc").itertext())


def test_lines_place_days_by_date_and_values_on_the_scale():
    chart = line_chart("l", "Évolution", [
        ("eci", "Réalisé", [(date(2025, 1, 1), 0.0), (date(2025, 1, 11), 50.0), (date(2025, 1, 31), 100.0)]),
        ("eci_1", "Axe 1", [(date(2025, 1, 11), 25.0)]),
    ], unit="%", maximum=100)
    first = chart.lines[0]
    assert [(p.x, p.y) for p in first.points] == [(48, 232), (237.33, 122), (616, 12)]
    assert first.polyline == "48.00,232.00 237.33,122.00 616.00,12.00"
    assert [line.tone for line in chart.lines] == ["serie-1", "serie-2"]
    assert chart.days == (date(2025, 1, 1), date(2025, 1, 11), date(2025, 1, 31))
    assert chart.lines[1].value_on(date(2025, 1, 1)) is None


def test_line_of_one_day_sits_in_the_middle_and_many_days_get_six_ticks():
    single = line_chart("l", "Évolution", [("eci", "Réalisé", [(date(2025, 1, 1), 10.0)])])
    assert single.lines[0].points[0].x == 332  # 48 + 568 / 2
    days = [(date(2025, 1, d), float(d)) for d in range(1, 31)]
    assert len(line_chart("l", "Évolution", [("eci", "Réalisé", days)]).x_ticks) == 6


def test_lines_render_with_a_dash_for_missing_days(render):
    chart = line_chart("evolution", "Évolution du score", [
        ("fait", "Réalisé", [(date(2025, 1, 6), 2.0), (date(2025, 3, 10), 10.5)]),
        ("programme", "Programmé", [(date(2025, 3, 10), 4.0)]),
    ])
    figure = parsed(render("line", chart))
    assert table_rows(figure) == [["Date", "Réalisé (points)", "Programmé (points)"], ["06/01/2025", "2", "–"],
                                  ["10/03/2025", "10,5", "4"]]
    assert figure.find(f"{SVG}svg").find(f"{SVG}desc").text == (
        "Du 06/01/2025 au 10/03/2025. Réalisé : de 2 à 10,5 ; Programmé : de 4 à 4.")
    assert len(figure.find(f"{SVG}svg").findall(f".//{SVG}polyline")) == 2


def test_empty_line_chart_renders(render):
    figure = parsed(render("line", line_chart("vide", "Évolution", [("fait", "Réalisé", [])])))
    assert figure.find(f"{SVG}svg").find(f"{SVG}desc").text == "Aucun historique enregistré."


def test_charts_of_the_real_cae_render(render, shared_dir):
    cae = load_real(shared_dir, "cae")
    parts = repartition(cae.scores["cae"]).parts
    parsed(render("donut", donut("cae-repartition", "Répartition du score", [(p.key, p.label, p.points) for p in parts])))
    phases = realise_par_phase(cae.tree, cae.scores).parts
    parsed(render("donut", donut("cae-phases", "Réalisé par phase", [(p.key, p.label, p.points) for p in phases]),
                  header="Phase"))
    rows = progression_par_axe(cae.tree, cae.scores, depth=2)
    for unit in ("points", "%"):
        figure = parsed(render("bars", bars(f"cae-axes-{unit}", "Progression par axe", STATUTS, [
            (row.label, row.node.identifiant if row.node else "Total",
             [p.points if unit == "points" else p.percent for p in row.repartition.parts]) for row in rows
        ], unit=unit)))
        assert len(table_rows(figure)) == len(rows) + 1


def test_delta_bars_grow_both_ways_from_a_centred_zero():
    chart = delta_bars("d", "Écarts", [("Axe 1", "1", 12.5), ("Axe 2", "2", -5.0), ("Axe 3", "3", 0.0)])
    rise, fall, still = chart.bars
    assert [tick.value for tick in chart.ticks] == [-20.0, -10.0, 0.0, 10.0, 20.0]
    assert rise.x == chart.zero and rise.tone == "fait"
    assert fall.x + fall.width == pytest.approx(chart.zero) and fall.tone == "pas_fait"
    assert rise.width == pytest.approx(2.5 * fall.width) and still.width == 0


def test_reference_lines_are_horizontal_in_the_scale_and_in_the_legend():
    chart = line_chart("c", "C", [("resultat", "Résultat", [(date(2020, 1, 1), 10.0), (date(2021, 1, 1), 20.0)])],
                       unit="%", references=[("cible", "Valeur cible", 40.0)])
    assert chart.y_ticks[-1].value == 40.0  # the scale reaches the cible
    (cible,) = chart.references
    assert cible.y == chart.y_ticks[-1].position and chart.legend[-1] == ("cible", "Valeur cible")
