"""The Content-Security-Policy in a real browser: the main pages (DSFR, htmx, the websocket) run under
it without a single violation (the harness fails a test on any), and inline code that reaches a page
- a hostile member name, markup injected into the HTML - does not run."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Membership
from tests.browser.test_live_statut import log_in, wait_for_socket
from tests.factories import add_member, make_collectivite, make_user
from tests.suivi_content import make_editor, tiny_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
LIVE_TIMEOUT_MS = 20_000
# Broke out of the old inline onsubmit="return confirm('Retirer {{ name }} …')" (HTML escaping
# does not protect a JavaScript string): a lecture member became admin when an admin cancelled.
HOSTILE_NAME = "Eve');window.__pwned='name';('"


def test_main_pages_run_under_the_policy(new_page, tiny_content):
    user, collectivite = make_editor("admin")
    page = new_page()
    page.set_default_timeout(LIVE_TIMEOUT_MS)
    page.add_init_script("document.addEventListener('htmx:wsOpen', () => { window.__wsOpen = true })")
    for path in ("/", "/referentiels", "/referentiels/eci", "/referentiels/eci/actions/eci_1.1", "/connexion",
                 "/inscription", "/collectivites"):
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
    with page.expect_response(re.compile(r"/collectivites\?q=")):
        page.fill("#q", "Commune")  # htmx search

    log_in(page, user)
    base = f"/collectivites/{collectivite.id}"
    page.goto(f"{base}/referentiels/eci")
    wait_for_socket(page)  # connect-src lets the websocket through
    with page.expect_response(re.compile(r"/actions/eci_1/enfants$")):
        page.locator("#referentiels-node-eci-1 > .tet-tree__row > .tet-tree__toggle").click()
    page.goto(f"{base}/referentiels/eci/actions/eci_1.1.1")
    with page.expect_response(re.compile(r"/actions/eci_1\.1\.1/statut$")):
        page.locator("#statut-eci-1-1-1").select_option("fait")
    expect(page.locator("#statut-eci-1-1-1")).to_have_value("fait")
    for path in (f"{base}/personnalisation", f"{base}/historique", f"{base}/membres", "/mes-collectivites",
                 "/mon-compte", "/preview"):
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
    with page.expect_response(re.compile(r"/preview$")):
        page.fill("#preview-text", "# Titre\n\nUn *paragraphe*.")  # htmx render of the markdown
    # The scripts did run: DSFR started, htmx loaded (no violation would be vacuous otherwise).
    assert page.evaluate("() => typeof window.dsfr === 'function' && typeof window.htmx === 'object'")
    page.set_viewport_size({"width": 600, "height": 800})
    page.locator("#button-menu").click()  # DSFR's modal menu (it sets styles through the CSSOM)
    expect(page.locator("#modal-menu")).to_be_visible()


def test_a_member_name_is_only_text_in_the_removal_dialog(app, new_page, app_context):
    admin, eve, collectivite = make_user(), make_user(name=HOSTILE_NAME), make_collectivite()
    add_member(admin, collectivite, "admin")
    add_member(eve, collectivite, "lecture")
    page = new_page()
    log_in(page, admin)
    page.goto(f"/collectivites/{collectivite.id}/membres")
    dialogs = []

    def cancel(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", cancel)
    eve_row = page.locator("tr", has_text="Eve')")
    eve_row.get_by_role("button", name="Retirer").click()
    expect(page.locator("h1")).to_contain_text("membres")
    assert dialogs == [f"Retirer {HOSTILE_NAME} de la collectivité ?"]
    assert page.evaluate("() => window.__pwned") is None
    assert _role(eve, collectivite) == "lecture"  # cancelled: still a member, nothing else changed

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        eve_row.get_by_role("button", name="Retirer").click()
    expect(page.get_by_text("Membre retiré.")).to_be_visible()
    assert _role(eve, collectivite) is None


def test_inline_code_injected_into_a_page_does_not_run(browser, live_server):
    # Outside the harness's pages: the violations are expected here.
    context = browser.new_context(base_url=live_server)
    context.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));"
    )
    page = context.new_page()
    payloads = (
        '<script>window.__pwned = "script"</script>'
        '<img src="data:," onerror="window.__pwned = \'onerror\'">'
        '<p id="bait" onmouseover="window.__pwned = \'onmouseover\'">Survolez-moi</p>'
        '<a id="link" href="javascript:window.__pwned = \'href\'">Lien</a>'
    )

    def inject(route):
        # The page as our server sends it (its headers, its policy), with markup an attacker slipped in.
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace("</main>", payloads + "</main>"))

    page.route(f"{live_server}/collectivites", inject)
    try:
        with page.expect_response(f"{live_server}/collectivites") as served:
            page.goto("/collectivites")
        assert "script-src 'self'" in served.value.headers["content-security-policy"]
        page.hover("#bait")
        page.click("#link")
        page.wait_for_function("() => window.__violations.length >= 4")
        assert page.evaluate("() => window.__pwned") is None
        assert set(page.evaluate("() => window.__violations")) <= {"script-src-elem", "script-src-attr"}
    finally:
        context.close()


def _role(user, collectivite):
    from app.extensions import db

    db.session.expire_all()
    membership = db.session.get(Membership, (user.id, collectivite.id))
    return membership and membership.role
