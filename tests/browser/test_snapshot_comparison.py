"""In a real browser: an editor freezes the état des lieux, changes a statut, then compares the
snapshot with now and sees the rise of the axe and of the mesure."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_live_statut import LIVE_TIMEOUT_MS, log_in
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def test_freeze_then_compare_with_now_after_an_edit(new_page, tiny_content):
    user, collectivite = make_editor()
    base = f"/collectivites/{collectivite.id}/referentiels/eci"
    page = new_page()
    page.set_default_timeout(LIVE_TIMEOUT_MS)
    log_in(page, user)

    page.goto(base)
    page.get_by_role("link", name="États des lieux", exact=True).click()
    page.fill("#etat-nom", "Avant le compost")
    with page.expect_navigation():
        page.get_by_role("button", name="Figer l'état des lieux").click()
    expect(page.get_by_role("status")).to_contain_text("État des lieux « Avant le compost » figé.")
    expect(page.locator("#etats_des_lieux-snapshots")).to_contain_text("0 %")

    page.goto(f"{base}/actions/eci_1.1.1")
    with page.expect_response(re.compile(r"/actions/eci_1\.1\.1/statut$")):
        page.locator("#statut-eci-1-1-1").select_option("fait")
    run_jobs()

    page.goto(f"{base}/etats-des-lieux")
    page.get_by_role("link", name=re.compile("Comparer avec maintenant")).click()
    expect(page.locator("h1")).to_contain_text("Comparer des états des lieux")
    expect(page.locator("#comparer-a")).to_have_value(re.compile(r"^\d+$"))
    axes = page.locator("table", has=page.locator("caption", has_text="Écarts par axe"))
    expect(axes.locator("tr", has_text="1 Action 1")).to_contain_text("+12,5 %")
    expect(page.locator("figure svg title").first).to_contain_text("Écart de score réalisé par axe")
    # The download of the snapshot is offered from its page.
    page.goto(f"{base}/etats-des-lieux")
    page.get_by_role("link", name="Avant le compost", exact=True).click()
    expect(page.get_by_role("link", name="Télécharger la sauvegarde (XLSX)")).to_have_attribute("href", re.compile(r"/export\.xlsx$"))
