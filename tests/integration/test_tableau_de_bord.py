"""The tableau de bord, the collectivité's home page and the score over time: figures equal to the
engine's, accessible charts, the live marker, and bad input (dates) answered in French."""
import json
from datetime import timedelta

import pytest

from app.dashboards import PHASE_LABELS
from app.extensions import db
from app.filters import format_points
from app.fragments import score_update_html
from app.models import ScoreHistory
from app.persistence import utcnow
from app.rls import act_as, system_work
from app.scoring import SCORE_FIELDS
from app.services import tableau_de_bord
from app.services.evaluation import ScoreUpdate
from app.services.scores import scores_for
from app.services.snapshots import paris_today
from tests.factories import login
from tests.suivi_content import fresh_score_table, phased_collectivite, run_jobs, tiny_content  # noqa: F401 (fixture)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(tiny_content):
    """The tiny eci référentiel with phases; a collectivité with a reader and an editor, some
    statuts, its scores stored."""
    collectivite, users = phased_collectivite(
        {"eci_1.1.1": "fait", "eci_1.2": "programme", "eci_2.1": "pas_fait", "eci_2.2.1": "fait"})
    act_as(None)
    run_jobs()
    return collectivite, users


def engine_records(collectivite_id: int) -> dict[str, dict]:
    return {action_id: dict(zip(SCORE_FIELDS, values))
            for action_id, values in fresh_score_table(collectivite_id).rows().items()}


def test_dashboard_figures_are_the_engines(world):
    collectivite, _users = world
    page = tableau_de_bord.dashboard_page(collectivite.id, "eci")
    dashboard, engine = page["dashboard"], engine_records(collectivite.id)
    assert dashboard.scored
    for node_id, repartition in [("eci", dashboard.total), *((row.node.id, row.repartition) for row in dashboard.axes[:-1])]:
        record = engine[node_id]
        assert [part.points for part in repartition.parts] == [
            record["point_fait"], record["point_programme"], record["point_pas_fait"], record["point_non_renseigne"]]
        assert (repartition.potentiel, repartition.referentiel) == (record["point_potentiel"], record["point_referentiel"])
        assert (repartition.taches_renseignees, repartition.taches_total) == (
            record["completed_taches_count"], record["total_taches_count"])
    total_row = dashboard.axes[-1].repartition
    assert total_row.points("fait") == engine["eci"]["point_fait"]
    assert total_row.potentiel == engine["eci"]["point_potentiel"]
    # Réalisé per phase: Σ fait of the sous-actions of each categorie.
    phases = {part.key: part.points for part in dashboard.phases.parts}
    assert phases == {
        "bases": engine["eci_1.1"]["point_fait"] + engine["eci_2.2"]["point_fait"] + engine["eci_2.0"]["point_fait"],
        "mise_en_oeuvre": engine["eci_1.2"]["point_fait"],
        "effets": engine["eci_2.1"]["point_fait"],
    }
    assert dashboard.phases.total == engine["eci"]["point_fait"]
    assert sum(s.value for s in dashboard.donut.slices) == pytest.approx(engine["eci"]["point_potentiel"])


def test_dashboard_page_draws_accessible_charts(client, world):
    collectivite, users = world
    login(client, users["lecture"])
    url = f"/collectivites/{collectivite.id}/referentiels/eci/tableau-de-bord"
    html = client.get(url).get_data(as_text=True)
    for chart in ("repartition", "phases", "axes-points", "axes-pourcentages"):
        chart_id = f"tableau-de-bord-eci-{chart}"
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in html
        assert f'<title id="{chart_id}-title">' in html and f'<desc id="{chart_id}-desc">' in html
    assert html.count('<table class="fr-sr-only">') == 4
    assert PHASE_LABELS["mise_en_oeuvre"] in html
    assert 'id="tableau_de_bord-changed-eci"' in html  # the marker the push swaps
    engine = engine_records(collectivite.id)["eci"]
    assert f"Tâches renseignées</strong> : {engine['completed_taches_count']} sur {engine['total_taches_count']}" in html
    fragment = client.get(url, headers=HTMX).get_data(as_text=True)
    assert fragment.strip().startswith('<div id="tableau_de_bord-charts"') and "<html" not in fragment


def test_home_page_sums_up_each_referentiel(client, world):
    collectivite, users = world
    login(client, users["lecture"])
    html = client.get(f"/collectivites/{collectivite.id}").get_data(as_text=True)
    record = scores_for(collectivite.id, "eci")["eci"]
    assert 'id="accueil-eci"' in html and 'aria-current="page">Tableau de bord' in html
    assert f"Réalisé : {record['point_fait']:g} points" in html
    assert f'href="/collectivites/{collectivite.id}/referentiels/eci/tableau-de-bord"' in html
    fragment = client.get(f"/collectivites/{collectivite.id}", headers=HTMX).get_data(as_text=True)
    assert 'id="tableau_de_bord-cards"' in fragment and "<html" not in fragment


def test_score_push_carries_the_dashboard_marker(app, world):
    collectivite, _users = world
    with app.test_request_context():
        html = score_update_html(ScoreUpdate(collectivite.id, "eci", 1, {"eci": {}}, {}))
    assert 'id="tableau_de_bord-changed-eci"' in html and 'hx-swap-oob="true"' in html


def test_unknown_referentiel_or_collectivite_is_a_404(client, world):
    collectivite, users = world
    login(client, users["lecture"])
    for path in ("referentiels/xyz/tableau-de-bord", "referentiels/xyz/evolution"):
        assert client.get(f"/collectivites/{collectivite.id}/{path}").status_code == 404


def add_history(collectivite_id: int, days_ago: list[int]) -> None:
    """Copies of today's stored history row on past days (fait halved: the curve moves)."""
    today_row = db.session.query(ScoreHistory).filter_by(collectivite_id=collectivite_id, referentiel_id="eci").one()
    scores = {key: [v / 2 if name == "point_fait" else v for name, v in zip(SCORE_FIELDS, values)]
              for key, values in today_row.scores.items()}
    totals = {name: getattr(today_row, name) for name in (
        "point_fait", "point_programme", "point_pas_fait", "point_non_renseigne", "point_potentiel", "point_referentiel")}
    with system_work():  # test set-up: the scoring job's writes
        db.session.add_all(ScoreHistory(collectivite_id=collectivite_id, referentiel_id="eci",
                                        day=today_row.day - timedelta(days=n), scores=scores, **totals) for n in days_ago)
        db.session.commit()


def evolution_url(cid: int, query: str = "") -> str:
    return f"/collectivites/{cid}/referentiels/eci/evolution{query}"


def test_evolution_draws_the_referentiel_and_its_axes(client, world):
    collectivite, users = world
    add_history(collectivite.id, [3, 10])
    login(client, users["lecture"])
    html = client.get(evolution_url(collectivite.id)).get_data(as_text=True)
    for chart in ("evolution-eci-score", "evolution-eci-axes"):
        assert f'<title id="{chart}-title">' in html
    assert html.count("<polyline") == 3 + 2  # réalisé, programmé, potentiel; one per axe
    fait = scores_for(collectivite.id, "eci")["eci"]["point_fait"]
    assert f"<td>{format_points(fait / 2)}</td>" in html  # the table equivalent has each day
    recent = client.get(evolution_url(collectivite.id, f"?du={(paris_today() - timedelta(days=5)).isoformat()}")).text
    assert recent.count('<th scope="row">') < html.count('<th scope="row">')


@pytest.mark.parametrize("query, message", [
    ("?du=hier", "Date de début invalide : format attendu AAAA-MM-JJ"),
    ("?au=2025-02-30", "Date de fin invalide"),
    ("?du=2025-06-01&au=2025-01-01", "La date de début doit précéder la date de fin"),
    ("?au=2999-01-01", "La date de fin est dans le futur"),
    ("?du=2000-01-01&au=2000-12-31", "aucune donnée avant le"),
])
def test_evolution_bad_dates_are_explained(client, world, query, message):
    collectivite, users = world
    login(client, users["lecture"])
    response = client.get(evolution_url(collectivite.id, query))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_evolution_of_an_empty_period_says_so(client, world):
    collectivite, users = world
    login(client, users["lecture"])
    past = paris_today() - timedelta(days=40)
    # A collectivité active for long, without any score recorded in the period asked.
    statuts_at = utcnow() - timedelta(days=100)
    from app.models import ActionStatut
    with system_work():
        db.session.query(ActionStatut).filter_by(collectivite_id=collectivite.id).update({"modified_at": statuts_at})
        db.session.commit()
    html = client.get(evolution_url(collectivite.id, f"?du={past - timedelta(days=10)}&au={past}")).text
    assert f"Aucun score enregistré du {past - timedelta(days=10):%d/%m/%Y} au {past:%d/%m/%Y}" in html
    assert "<polyline" not in html


def test_records_are_read_out_of_a_days_json_text():
    records = {"cae_1.1": [1.5, True, None], "cae_1": [2, False, 0.25], "cae": [3.0, True, 1]}
    text = json.dumps(records)
    assert tableau_de_bord.records_in(text, ["cae", "cae_1", "cae_2"]) == {"cae": [3.0, True, 1], "cae_1": [2, False, 0.25]}
    assert tableau_de_bord.records_in(json.dumps(records, separators=(",", ":")), ["cae_1.1"]) == {"cae_1.1": [1.5, True, None]}


def test_a_long_period_draws_the_last_day_of_each_week(client, world):
    collectivite, users = world
    add_history(collectivite.id, list(range(1, 120)))
    login(client, users["lecture"])
    html = client.get(evolution_url(collectivite.id)).text
    assert "chaque semaine est représentée par son dernier jour enregistré" in html
    assert html.count('<th scope="row">') <= 2 * tableau_de_bord.MAX_POINTS
