"""The what-if sandbox in a real browser: a reader changes a statut, the simulated score, étoile
and criteria update at once (htmx), and nothing is saved; the shortest path's checklist leads to
the sandbox with its tâches done."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import ActionStatut, ScoreState
from app.services import statuts
from tests.browser.test_live_statut import log_in
from tests.factories import add_member, make_user
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def world(tiny_content):
    """A commune at 30 % réalisé on eci, its diagnostic (eci_1.1.2, a first-étoile criterion) not
    done; a reader."""
    editor, commune = make_editor()
    for action_id in ("eci_1.2.1", "eci_2.2.1"):
        statuts.set_statut(editor, commune.id, action_id, "fait")
    run_jobs()
    reader = make_user()
    add_member(reader, commune, "lecture")
    return commune.id, reader


def _stored(collectivite_id: int):
    db.session.rollback()  # a fresh look at what the server committed
    return (sorted(db.session.execute(select(ActionStatut.action_id, ActionStatut.avancement)
                                      .where(ActionStatut.collectivite_id == collectivite_id)).all()),
            db.session.execute(select(ScoreState.edit_revision, ScoreState.scored_revision)
                               .where(ScoreState.collectivite_id == collectivite_id)).all())


def test_a_simulated_statut_updates_score_etoile_and_criteria_and_saves_nothing(new_page, world):
    collectivite_id, reader = world
    before = _stored(collectivite_id)
    page = new_page()
    log_in(page, reader)
    page.goto(f"/collectivites/{collectivite_id}/referentiels/eci/etoiles/simulation", timeout=30_000)
    expect(page.locator("#simulation-etoile")).to_contain_text("Aucune étoile")
    expect(page.locator("#simulation-realise")).to_contain_text("30 %")
    page.locator("summary", has_text="1 Action 1").click()
    with page.expect_response(lambda response: response.request.method == "POST"):
        page.select_option("#simulation-eci-1-1-2", "fait")
    expect(page.locator("#simulation-realise")).to_contain_text("35 %")
    expect(page.locator("#simulation-etoile strong")).to_contain_text("2 étoiles")
    criteres = page.locator("#labellisation-criteres")
    expect(criteres).to_contain_text("Critères simulés de l'étoile 3")  # the next one now
    expect(criteres.locator("tr", has_text="Engager un diagnostic territorial")).to_contain_text("réalisé 100 %")
    expect(page.locator("#simulation-changements")).to_contain_text("1 statut simulé")
    with page.expect_response(lambda response: response.request.method == "POST"):
        page.select_option("#simulation-eci-1-2-1", "pas_fait")
    expect(page.locator("#simulation-realise")).to_contain_text("25 %")
    run_jobs()
    assert _stored(collectivite_id) == before
    page.goto(f"/collectivites/{collectivite_id}/referentiels/eci/etoiles", timeout=30_000)
    expect(page.locator("#etoiles-resume")).to_contain_text("Aucune étoile")


def test_the_shortest_path_leads_to_the_sandbox(new_page, world):
    collectivite_id, reader = world
    page = new_page()
    log_in(page, reader)
    page.goto(f"/collectivites/{collectivite_id}/etoiles", timeout=30_000)
    page.click("#etoiles-referentiels a:has-text('Économie circulaire (test)')")
    page.click("a:has-text(\"Le chemin le plus court vers l'étoile 1\")")
    expect(page.locator("#chemin-etapes li")).to_have_count(1)
    expect(page.locator("#chemin-etapes")).to_contain_text("1.1.2 Action 1.1.2")
    page.click("a:has-text('Simuler ce chemin')")
    expect(page.locator("#simulation-etoile strong")).to_contain_text("2 étoiles")
    expect(page.locator("#simulation-eci-1-1-2")).to_have_value("fait")
