"""Two pages of the same collectivité: a statut changed by htmx in the first updates the scores of the
second through the websocket, without any reload."""
import re

import pytest
from playwright.sync_api import expect

from app.live import make_hub
from tests.factories import DEFAULT_PASSWORD
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
# Generous waits: the push crosses a job (and Redis on the PostgreSQL run); a loaded machine is slow.
LIVE_TIMEOUT_MS = 20_000


def log_in(page, user):
    page.goto("/connexion", timeout=30_000)  # the first page of a session serves the static files cold
    page.fill("#email", user.email)
    page.fill("#password", DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def wait_for_socket(page):
    # htmx-ext-ws fires htmx:wsOpen once connected; a page opened before it would miss the push.
    page.wait_for_function("() => window.__wsOpen === true", timeout=LIVE_TIMEOUT_MS)


def test_statut_set_in_one_page_updates_scores_in_another(app, new_page, tiny_content, monkeypatch):
    # A hub of its own: no push of an earlier test (same collectivité ids) is replayed to the watcher.
    monkeypatch.setitem(app.extensions, "hub", make_hub(app.config["REDIS_URL"]))
    user, collectivite = make_editor()
    base = f"/collectivites/{collectivite.id}/referentiels/eci"
    editor_page, watcher_page = new_page(), new_page()
    for page in (editor_page, watcher_page):
        page.set_default_timeout(LIVE_TIMEOUT_MS)
        page.add_init_script("document.addEventListener('htmx:wsOpen', () => { window.__wsOpen = true })")
        log_in(page, user)

    watcher_page.goto(base)
    watcher_page.evaluate("window.__notReloaded = true")
    wait_for_socket(watcher_page)
    run_jobs()  # the first scores, enqueued by the page, are pushed to it
    totals = watcher_page.locator("#score-eci")
    expect(totals).to_contain_text("0/100 pts", timeout=LIVE_TIMEOUT_MS)

    editor_page.goto(f"{base}/actions/eci_1.1.1")
    control = editor_page.locator("#statut-eci-1-1-1")
    with editor_page.expect_response(re.compile(r"/actions/eci_1\.1\.1/statut$")):
        control.select_option("fait")
    expect(editor_page.locator("#statut-eci-1-1-1")).to_have_value("fait", timeout=LIVE_TIMEOUT_MS)  # the control came back
    run_jobs()  # the re-score (in-process thread, or RQ in the PostgreSQL run) publishes the push

    expect(totals).to_contain_text("5/100 pts", timeout=LIVE_TIMEOUT_MS)
    expect(totals).to_contain_text("5 %", timeout=LIVE_TIMEOUT_MS)
    assert watcher_page.evaluate("window.__notReloaded") is True



def test_a_desactivation_answered_elsewhere_replaces_the_statut_control_of_an_open_tree(
    app, new_page, tiny_content, monkeypatch
):
    from app.services import personnalisation

    monkeypatch.setitem(app.extensions, "hub", make_hub(app.config["REDIS_URL"]))
    user, collectivite = make_editor()
    page = new_page()
    page.set_default_timeout(LIVE_TIMEOUT_MS)
    page.add_init_script("document.addEventListener('htmx:wsOpen', () => { window.__wsOpen = true })")
    log_in(page, user)
    page.goto(f"/collectivites/{collectivite.id}/referentiels/eci")
    with page.expect_response(re.compile(r"/actions/eci_2/enfants$")):
        page.locator("#referentiels-node-eci-2 .tet-tree__toggle").first.click()
    control = page.locator("#statuts-action_statut-eci-2-2")
    expect(control.locator("select")).to_be_visible()
    wait_for_socket(page)
    run_jobs()  # the first scores, enqueued by the page
    expect(page.locator("#score-eci")).to_contain_text("0/100 pts", timeout=LIVE_TIMEOUT_MS)

    personnalisation.set_reponse(user, collectivite.id, "compost", "NON")
    run_jobs()

    # The pushed placeholder re-fetches the control in place (not into the row's children).
    expect(control).to_contain_text("Désactivée", timeout=LIVE_TIMEOUT_MS)
    expect(control).to_have_count(1)
    expect(control.locator("select")).to_have_count(0)
