"""Pushes reach every open page of the collectivité, whatever it shows: a fragment whose element is
not on the page (a collapsed row, another action's score) is dropped without an htmx error."""
import re

import pytest
from playwright.sync_api import expect

from app.live import make_hub
from app.services import personnalisation, statuts
from app.rls import system_work
from tests.browser.test_live_statut import LIVE_TIMEOUT_MS, log_in
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

# Counts the pushes (keepalives aside) and records the htmx errors and console errors of the page.
WATCH_SCRIPT = """
window.__wsOpen = false; window.__pushes = 0; window.__htmxErrors = []; window.__consoleErrors = [];
document.addEventListener('htmx:wsOpen', () => { window.__wsOpen = true });
document.addEventListener('htmx:wsBeforeMessage', (event) => {
  if (!event.detail.message.includes('keepalive')) window.__pushes += 1;
});
document.addEventListener('htmx:oobErrorNoTarget', (event) => { window.__htmxErrors.push(event.type) });
"""


def test_pushes_for_nodes_a_page_does_not_show_raise_no_htmx_error(app, new_page, tiny_content, monkeypatch):
    monkeypatch.setitem(app.extensions, "hub", make_hub(app.config["REDIS_URL"]))
    user, collectivite = make_editor()
    workspace = f"/collectivites/{collectivite.id}"
    paths = {
        "arbre replié": f"{workspace}/referentiels/eci",
        "page d'action": f"{workspace}/referentiels/eci/actions/eci_2.1",
        "personnalisation": f"{workspace}/personnalisation",
        "historique": f"{workspace}/historique",
    }
    pages, console_errors = {}, {name: [] for name in paths}
    for name, path in paths.items():
        page = pages[name] = new_page()
        page.set_default_timeout(LIVE_TIMEOUT_MS)
        page.add_init_script(WATCH_SCRIPT)
        page.on("console", lambda message, name=name: console_errors[name].append(message.text)
                if message.type == "error" else None)
        log_in(page, user)
        page.goto(path)
    live_pages = {name: page for name, page in pages.items() if page.locator("[ws-connect]").count()}
    assert {"arbre replié", "page d'action"} <= set(live_pages)
    for page in live_pages.values():
        page.wait_for_function("() => window.__wsOpen", timeout=LIVE_TIMEOUT_MS)

    # Edits made elsewhere: scores of eci_1.1.1 and its parents, statut controls of eci_2.2 and below.
    statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
    personnalisation.set_reponse(user, collectivite.id, "compost", "NON")
    run_jobs()

    for page in live_pages.values():
        page.wait_for_function("() => window.__pushes > 0", timeout=LIVE_TIMEOUT_MS)
    # What the pages show is still updated: the tree's eci_1 row, the action page's totals.
    five_points = re.compile(r"\b5/\d+ pts")
    expect(pages["arbre replié"].locator("#score-eci-1")).to_contain_text(five_points, timeout=LIVE_TIMEOUT_MS)
    expect(pages["page d'action"].locator("#score-eci")).to_contain_text(five_points, timeout=LIVE_TIMEOUT_MS)
    for name, page in pages.items():
        assert page.evaluate("window.__htmxErrors") == [], name
        assert not [text for text in console_errors[name] if "oobErrorNoTarget" in text], name


def test_a_page_whose_user_lost_their_role_says_so(app, new_page, tiny_content, monkeypatch):
    from app.services import accounts

    monkeypatch.setitem(app.extensions, "hub", make_hub(app.config["REDIS_URL"]))
    user, collectivite = make_editor()
    page = new_page()
    page.set_default_timeout(LIVE_TIMEOUT_MS)
    page.add_init_script(WATCH_SCRIPT)
    log_in(page, user)
    page.goto(f"/collectivites/{collectivite.id}/referentiels/eci")
    notice = page.locator("#live-rights_changed")
    expect(notice).to_be_hidden()
    page.wait_for_function("() => window.__wsOpen", timeout=LIVE_TIMEOUT_MS)

    with system_work():  # an admin's change, in short
        accounts.change_role(collectivite.id, user.id, "lecture")

    expect(notice).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(notice).to_contain_text("Vos droits sur cette collectivité ont changé")
