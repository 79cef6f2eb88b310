"""Browser harness: the session app served by a real threaded server, driven by Debian's Chromium.

Fixtures:
  live_server  base URL ("http://127.0.0.1:<port>") of the session `app` (same database), session-wide
  browser      one headless Chromium for the session (Playwright sync API)
  new_page     factory: a page in a fresh browser context (own cookies), closed after the test;
               call it twice for two independent users/tabs (live push tests)
  page         one such page
  corpus_2025  the shared 2025 référentiels loaded with `flask content load` (emptied after the test)
A JavaScript error, a Content-Security-Policy violation, or a failed or >= 400 request to our server,
in any page fails the test at teardown (except 422: a refused form coming back with its message,
as the app answers bad input).
"""
import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 5_000
# Reports each CSP violation of the page as a console error the harness collects.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`);
});
"""


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    contexts, problems = [], []

    def open_page():
        context = browser.new_context(base_url=live_server, locale="fr-FR")
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"JS error: {error}"))
        page.on("console", lambda message: problems.append(message.text) if message.text.startswith("CSP violation") else None)
        page.on(
            "requestfailed",
            # ERR_ABORTED is a request cut short by a navigation, not a failure.
            lambda request: problems.append(f"request failed: {request.url} {request.failure}")
            if request.url.startswith(live_server) and "ERR_ABORTED" not in (request.failure or "")
            else None,
        )
        page.on(
            "response",
            lambda response: problems.append(f"HTTP {response.status}: {response.url}")
            if response.status >= 400 and response.status != 422 and response.url.startswith(live_server)
            else None,
        )
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def corpus_2025(app, shared_dir):
    result = app.test_cli_runner().invoke(args=["content", "load", str(shared_dir / "referentiels/2025/markdown")])
    assert result.exit_code == 0, result.output
