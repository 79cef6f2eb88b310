"""Étoiles pages of a collectivité's référentiel: the étoile reached and its criteria from the stored
scores, the what-if sandbox (nothing written, whatever is posted) and the shortest path.

The tiny référentiel (tests/suivi_content.py) holds one criterion action of the real data:
eci_1.1.2, « Engager un diagnostic territorial », 20 % fait minimum for the first étoile."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActionStatut, HistoryEntry, ScoreHistory, ScoreState, ScoreSummary
from app.services import labellisation, statuts
from tests.factories import add_member, login, make_collectivite, make_user
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(client, tiny_content):
    """A commune at 35 % réalisé on eci with its diagnostic (eci_1.1.2) not done: no étoile yet;
    its reader signed in."""
    editor, commune = make_editor()
    for action_id in ("eci_1.2.1", "eci_2.2.1"):  # 10 + 20 points
        statuts.set_statut(editor, commune.id, action_id, "fait")
    statuts.set_statut(editor, commune.id, "eci_2.1", "programme")
    run_jobs()
    reader = make_user()
    add_member(reader, commune, "lecture")
    login(client, reader)
    return commune, editor


def url(commune, suffix: str = "") -> str:
    return f"/collectivites/{commune.id}/referentiels/eci/etoiles{suffix}"


def test_etoiles_of_reads_the_stored_scores(world):
    commune, editor = world
    state = labellisation.etoiles_of(commune.id, "eci")
    assert (state.atteinte, state.suivante, state.realise_pct, state.seuil_suivante, state.peut_demander) == (
        None, 1, 30.0, 0.0, False)
    score, diagnostic = state.criteres
    assert (score.action_id, score.rempli, score.detail) == (None, True, "réalisé 30 % / requis 0 %")
    assert (diagnostic.action_id, diagnostic.rempli, diagnostic.exigence, diagnostic.detail) == (
        "eci_1.1.2", False, "20 % fait minimum", "réalisé 0 % / requis 20 %")
    statuts.set_statut(editor, commune.id, "eci_1.1.2", "fait")
    run_jobs()
    state = labellisation.etoiles_of(commune.id, "eci")
    assert (state.atteinte, state.suivante, state.seuil_suivante, state.peut_demander) == (2, 3, 50.0, True)
    assert db.session.scalar(select(ScoreSummary.etoiles).where(ScoreSummary.collectivite_id == commune.id)) == 2


def test_without_scores_nothing_is_reached(tiny_content):
    state = labellisation.etoiles_of(make_collectivite().id, "eci")
    assert (state.atteinte, state.suivante, state.realise_pct, state.criteres, state.peut_demander) == (
        None, None, None, [], False)


def test_the_pages_show_the_etoiles_criteria_and_path(client, world):
    commune, _ = world
    overview = client.get(f"/collectivites/{commune.id}/etoiles").get_data(as_text=True)
    assert "Aucune étoile" in overview and url(commune) in overview and 'aria-current="page">Étoiles' in overview
    page = client.get(url(commune)).get_data(as_text=True)
    assert "Engager un diagnostic territorial" in page and "Non rempli" in page and "20 % fait minimum" in page
    assert f"/collectivites/{commune.id}/referentiels/eci/actions/eci_1.1.2" in page
    chemin = client.get(url(commune, "/chemin")).get_data(as_text=True)
    assert "Le chemin le plus court vers l'étoile 1" in chemin and "Passer cette tâche à « Fait » suffit" in chemin
    assert chemin.count("<li><a href=") == 1 and "Action 1.1.2" in chemin  # the diagnostic only


def _rows() -> tuple:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (ActionStatut, HistoryEntry, ScoreHistory, ScoreState, ScoreSummary)) + (
        tuple(db.session.execute(select(ScoreState.edit_revision, ScoreState.scored_revision)).all()),
        tuple(db.session.execute(select(ActionStatut.action_id, ActionStatut.avancement)).all()))


def test_a_simulated_change_updates_the_result_and_writes_nothing(client, world):
    commune, _ = world
    before = _rows()
    response = client.post(url(commune, "/simulation"), headers=HTMX,
                           data={"statut-eci_1.1.2": "fait", "statut-eci_1.2.2": "pas_fait"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="labellisation-resultat">')
    assert "2 statuts simulés" in html and "<strong>35 %</strong> (actuel : 30 %)" in html
    assert "2 étoiles" in html and "Aucune étoile" in html  # simulated, then stored
    run_jobs()
    assert _rows() == before


def test_without_javascript_the_page_comes_back_with_the_simulated_statuts(client, world):
    commune, _ = world
    html = client.post(url(commune, "/simulation"), data={"statut-eci_1.1.2": "fait"}).get_data(as_text=True)
    assert '<option value="fait" selected>Fait</option>' in html and "1 statut simulé" in html


def test_the_sandbox_can_start_from_the_shortest_path(client, world):
    commune, _ = world
    html = client.get(url(commune, "/simulation?chemin=1")).get_data(as_text=True)
    assert "1 statut simulé" in html and "2 étoiles" in html


@pytest.mark.parametrize("data, message", [
    ({"statut-eci_1.1.2": "parfait"}, "Statut inconnu pour eci_1.1.2 : « parfait »"),
    ({"statut-eci_9": "fait"}, "Action inconnue ou sans statut à simuler : « eci_9 »"),
    ({"statut-eci_1": "fait"}, "Action inconnue ou sans statut à simuler : « eci_1 »"),  # the action level
    ({"statut-eci_1.1.2": "detaille"}, "Statut inconnu pour eci_1.1.2 : « detaille »"),  # only to keep a stored one
])
def test_bad_simulated_statuts_get_a_french_message(client, world, data, message):
    commune, _ = world
    before = _rows()
    response = client.post(url(commune, "/simulation"), headers=HTMX, data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert "Aucun statut simulé" in response.get_data(as_text=True)
    assert _rows() == before


@pytest.mark.parametrize("path", ["/referentiels/inconnu/etoiles", "/referentiels/inconnu/etoiles/simulation",
                                  "/referentiels/inconnu/etoiles/chemin"])
def test_unknown_referentiel_is_not_found(client, world, path):
    commune, _ = world
    assert client.get(f"/collectivites/{commune.id}{path}").status_code == 404
    assert client.post(f"/collectivites/{commune.id}/referentiels/inconnu/etoiles/simulation", headers=HTMX).status_code == 404


def test_outsiders_are_refused(client, world):
    commune, _ = world
    login(client, make_user())
    assert client.get(url(commune)).status_code == 403
    assert client.post(url(commune, "/simulation"), headers=HTMX, data={"statut-eci_1.1.2": "fait"}).status_code == 403


def test_without_the_rules_scores_go_on_and_the_etoiles_pages_say_why(app, client, world, tmp_path, monkeypatch):
    commune, editor = world
    monkeypatch.setitem(app.config, "LABELLISATION_DIR", str(tmp_path))  # an empty folder: no rules
    statuts.set_statut(editor, commune.id, "eci_1.1.2", "fait")
    run_jobs()
    state = db.session.scalar(select(ScoreState).where(ScoreState.collectivite_id == commune.id,
                                                       ScoreState.referentiel_id == "eci"))
    assert state.scored_revision == state.edit_revision  # re-scored all the same
    summary = db.session.scalar(select(ScoreSummary).where(ScoreSummary.collectivite_id == commune.id,
                                                           ScoreSummary.referentiel_id == "eci"))
    assert summary.etoiles is None

    response = client.get(url(commune))
    assert response.status_code == 503
    assert "Les règles de labellisation" in response.get_data(as_text=True)
