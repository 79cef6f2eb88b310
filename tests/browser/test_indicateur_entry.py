"""Typing an indicateur's value in a real browser: a refusal shows its message in place, an accepted
value appears in the table and the chart."""
import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import workspace_world  # noqa: F401 (fixture)
from tests.browser.test_live_statut import log_in

pytestmark = pytest.mark.browser


def test_a_value_is_typed_inline(new_page, workspace_world):  # noqa: F811
    admin, cid = workspace_world
    page = new_page()
    # Run first in a session, this test meets a cold server: its first static files (compressed on
    # first use) can take seconds on a busy machine.
    page.goto("/connexion", timeout=60_000)
    log_in(page, admin)
    page.goto(f"/collectivites/{cid}/indicateurs/cae_8")
    page.get_by_label("Année").fill("2022")
    page.get_by_label("Résultat", exact=True).fill("120")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#valeur-erreur")).to_contain_text("la valeur doit être au plus 100")
    page.get_by_label("Résultat", exact=True).fill("12,5")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#indicateurs-valeurs .fr-table tbody")).to_contain_text("12,5")
    expect(page.locator("#valeur-erreur")).to_have_count(0)
