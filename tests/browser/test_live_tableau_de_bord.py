"""The tableau de bord and the collectivité's home page follow another member's statut edit live:
the score push carries a marker on which their charts are re-fetched, without any reload."""
import re

import pytest
from playwright.sync_api import expect

from app.live import make_hub
from tests.browser.test_live_statut import LIVE_TIMEOUT_MS, log_in, wait_for_socket
from tests.factories import add_member, make_user
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def test_tableau_de_bord_and_home_follow_a_statut_set_by_another_member(app, new_page, tiny_content, monkeypatch):
    monkeypatch.setitem(app.extensions, "hub", make_hub(app.config["REDIS_URL"]))
    editor, collectivite = make_editor()
    reader = make_user()
    add_member(reader, collectivite, "lecture")
    workspace = f"/collectivites/{collectivite.id}"
    editor_page, dashboard_page, home_page = new_page(), new_page(), new_page()
    for page, user in ((editor_page, editor), (dashboard_page, reader), (home_page, reader)):
        page.set_default_timeout(LIVE_TIMEOUT_MS)
        page.add_init_script("document.addEventListener('htmx:wsOpen', () => { window.__wsOpen = true })")
        log_in(page, user)

    dashboard_page.goto(f"{workspace}/referentiels/eci/tableau-de-bord")
    home_page.goto(workspace)
    for page in (dashboard_page, home_page):
        page.evaluate("window.__notReloaded = true")
        wait_for_socket(page)
    run_jobs()  # the first scores, enqueued by the pages, are pushed to them
    figures = dashboard_page.locator("#tableau_de_bord-chiffres")
    expect(figures).to_contain_text("Réalisé : 0 point", timeout=LIVE_TIMEOUT_MS)
    card = home_page.locator("#accueil-eci")
    expect(card).to_contain_text("Réalisé : 0 point,", timeout=LIVE_TIMEOUT_MS)

    editor_page.goto(f"{workspace}/referentiels/eci/actions/eci_1.1.1")
    with editor_page.expect_response(re.compile(r"/actions/eci_1\.1\.1/statut$")):
        editor_page.locator("#statut-eci-1-1-1").select_option("fait")
    expect(editor_page.locator("#statut-eci-1-1-1")).to_have_value("fait", timeout=LIVE_TIMEOUT_MS)
    run_jobs()  # the re-score publishes the push

    expect(figures).to_contain_text("Réalisé : 5 points (5 % du potentiel)", timeout=LIVE_TIMEOUT_MS)
    expect(figures).to_contain_text("Tâches renseignées : 1 sur", timeout=LIVE_TIMEOUT_MS)
    expect(dashboard_page.locator("#tableau-de-bord-eci-repartition")).to_contain_text("5 % réalisé")
    expect(card).to_contain_text("Réalisé : 5 points,", timeout=LIVE_TIMEOUT_MS)
    for page in (dashboard_page, home_page):
        assert page.evaluate("window.__notReloaded") is True
