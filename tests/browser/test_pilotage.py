"""The pilotage tables in a browser: a statut edited in the tableau des mesures updates the row's
score through the push; the aide à la priorisation sorts, filters (URL pushed) and follows a link of
its matrix."""
import re

import pytest
from playwright.sync_api import expect

from app.live import make_hub
from app.services import statuts
from tests.browser.test_live_statut import LIVE_TIMEOUT_MS, log_in, wait_for_socket
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def row_ids(page) -> list[str]:
    return page.locator("#priorisation-table tbody tr").evaluate_all("rows => rows.map(row => row.id)")


def test_a_statut_edited_in_the_mesures_table_updates_the_scores_of_its_rows(app, new_page, tiny_content, monkeypatch):
    monkeypatch.setitem(app.extensions, "hub", make_hub(app.config["REDIS_URL"]))
    user, collectivite = make_editor()
    page = new_page()
    page.set_default_timeout(LIVE_TIMEOUT_MS)
    page.add_init_script("document.addEventListener('htmx:wsOpen', () => { window.__wsOpen = true })")
    log_in(page, user)
    page.goto(f"/collectivites/{collectivite.id}/referentiels/eci/mesures")
    page.evaluate("window.__notReloaded = true")
    wait_for_socket(page)
    run_jobs()  # the first scores, enqueued by the page, are pushed to it
    expect(page.locator("#score-eci-1-1")).to_contain_text("0/10 pts", timeout=LIVE_TIMEOUT_MS)

    page.locator("#statut-modifier-eci-1-1-1").click()  # loads the statut control in place
    expect(page.locator("#statut-eci-1-1-1")).to_be_visible()
    with page.expect_response(lambda response: response.request.method == "POST"
                              and response.url.endswith("/actions/eci_1.1.1/statut")):
        page.locator("#statut-eci-1-1-1").select_option("fait")
    expect(page.locator("#statut-eci-1-1-1")).to_have_value("fait")
    run_jobs()

    expect(page.locator("#score-eci-1-1-1")).to_contain_text("100 %", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#score-eci-1-1")).to_contain_text("5/10 pts", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#score-eci-1")).to_contain_text("5/40 pts", timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.__notReloaded") is True


def test_priorisation_sorts_filters_and_follows_the_matrix(new_page, tiny_content):
    user, collectivite = make_editor()
    statuts.set_statut(user, collectivite.id, "eci_1.2", "fait")
    run_jobs()
    page = new_page()
    log_in(page, user)
    url = f"/collectivites/{collectivite.id}/referentiels/eci/priorisation"
    page.goto(url)
    # Points restants first: eci_2.2 (40), eci_2.1 (20), eci_1.1 (10), then nothing left to gain.
    assert row_ids(page)[:3] == ["priorisation-row-eci-2-2", "priorisation-row-eci-2-1", "priorisation-row-eci-1-1"]

    page.locator("#tri-referentiel").click()
    expect(page).to_have_url(re.compile(r"tri=referentiel"))
    expect(page.locator("#priorisation-table tbody tr").first).to_have_id("priorisation-row-eci-1-1")

    page.locator("#filtre-realise label", has_text="75 à 100 %").click()  # DSFR: the label covers the box
    page.locator("#priorisation-filtrer").click()
    expect(page).to_have_url(re.compile(r"realise=75"))
    expect(page.locator("#priorisation-table tbody tr")).to_have_count(1)
    assert row_ids(page) == ["priorisation-row-eci-1-2"]

    page.goto(url)
    page.locator("#matrice-10--non-classe").click()
    expect(page).to_have_url(re.compile(r"restants=10%2B"))
    expect(page.locator("#priorisation-table tbody tr")).to_have_count(3)
    page.go_back()  # the pushed URL is a history entry
    expect(page).to_have_url(re.compile(r"priorisation$"))
