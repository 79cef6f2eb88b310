"""Security headers, private pages never cached, static files versioned, long-cached and compressed,
and templates free of inline script (the Content-Security-Policy would refuse it anyway)."""
import gzip
import hashlib
import re

import brotli
import pytest

from app.config import PROJECT_ROOT
from tests.factories import add_member, login, make_collectivite, make_user
from tests.suivi_content import tiny_content  # noqa: F401 (fixture)

HTMX = {"HX-Request": "true"}
TEMPLATES = PROJECT_ROOT / "app" / "templates"
STATIC = PROJECT_ROOT / "static"


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {name: value.strip() for name, _, value in (part.strip().partition(" ") for part in policy.split(";"))}


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


# Content-Security-Policy --------------------------------------------------------------------------


def test_pages_get_a_strict_content_security_policy(client):
    policy = directives(client.get("/"))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'"
    assert policy["connect-src"] == "'self' ws://localhost"  # the websocket of the page's own host
    assert "unsafe" not in client.get("/").headers["Content-Security-Policy"]


def test_websocket_source_follows_the_scheme(client):
    response = client.get("/", base_url="https://tet.exemple.fr")
    assert directives(response)["connect-src"] == "'self' wss://tet.exemple.fr"


def test_a_forged_host_header_cannot_extend_the_policy(client):
    response = client.get("/", headers={"Host": "evil; script-src *"})
    assert directives(response)["script-src"] == "'self'"
    assert directives(response)["connect-src"] == "'self'"


def test_other_security_headers_are_kept(client):
    headers = client.get("/").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


# Private pages -------------------------------------------------------------------------------------


def test_pages_fragments_and_redirects_are_not_stored(client, tiny_content):
    user, collectivite = make_user(), make_collectivite()
    add_member(user, collectivite, "edition")
    anonymous = [client.get("/"), client.get("/collectivites?q=x", headers=HTMX), client.get("/mes-collectivites")]
    login(client, user)
    base = f"/collectivites/{collectivite.id}"
    signed_in = [
        client.get(f"{base}/referentiels/eci"),
        client.get(f"{base}/referentiels/eci/actions/eci_1/enfants", headers=HTMX),
        client.get(f"{base}/referentiels/eci/actions/eci_1.1.1/statut", headers=HTMX),
        client.get(base),  # a redirect
        client.get(f"{base}/membres"),
        client.get("/page-inexistante"),
    ]
    for response in anonymous + signed_in:
        assert response.headers["Cache-Control"] == "no-store", response.request.path


# Static files -------------------------------------------------------------------------------------


def test_static_urls_carry_the_content_hash(client):
    urls = static_urls(client.get("/").get_data(as_text=True))
    assert len(urls) >= 8
    for url in urls:
        path, _, version = url.partition("?v=")
        content = (STATIC / path.removeprefix("/static/")).read_bytes()
        assert version == hashlib.sha256(content).hexdigest()[:16]


def test_versioned_static_files_are_immutable(client):
    url = next(url for url in static_urls(client.get("/").get_data(as_text=True)) if "app.css" in url)
    assert client.get(url).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = client.get(url.replace("?v=", "?v=0"))  # a page from before the file changed
    assert "immutable" not in stale.headers["Cache-Control"]
    assert client.get("/static/css/app.css").headers["Cache-Control"] == "no-cache"


def test_unversioned_vendor_files_are_fresh_for_a_day(client):
    # DSFR fonts and icons, referenced by relative URLs from the DSFR stylesheet.
    response = client.get("/static/vendor/dsfr/fonts/Marianne-Regular.woff2", headers={"Accept-Encoding": "gzip, br"})
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert "Content-Encoding" not in response.headers  # already compressed
    assert response.data == (STATIC / "vendor/dsfr/fonts/Marianne-Regular.woff2").read_bytes()


@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [
        ("gzip, deflate, br", "br", brotli.decompress),
        ("gzip", "gzip", gzip.decompress),
        ("br;q=0.5, gzip", "gzip", gzip.decompress),
        ("", None, lambda data: data),
    ],
)
def test_text_files_are_served_compressed_as_the_client_accepts(client, accept, encoding, decode):
    original = (STATIC / "vendor/dsfr/dsfr.min.css").read_bytes()
    response = client.get("/static/vendor/dsfr/dsfr.min.css", headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert response.headers["Content-Type"] == "text/css; charset=utf-8"
    assert decode(response.data) == original
    if encoding:
        assert len(response.data) < len(original) / 5


def test_each_encoding_has_its_own_etag_and_revalidates(client):
    url = "/static/vendor/htmx/htmx.min.js"
    etags = {accept: client.get(url, headers={"Accept-Encoding": accept}).headers["ETag"] for accept in ("br", "gzip", "")}
    assert len(set(etags.values())) == 3
    revalidated = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etags["gzip"]})
    assert revalidated.status_code == 304 and revalidated.data == b""


def test_static_files_carry_no_session(client, app_context):
    user = make_user()
    login(client, user)
    assert "Cookie" in client.get("/").headers["Vary"]
    response = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    assert "Cookie" not in response.headers["Vary"]  # a new session cookie must not refetch every file
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("url", ["/static/absent.css", "/static/../app/__init__.py", "/static/vendor"])
def test_missing_static_files_are_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"


# No inline script in the templates -----------------------------------------------------------------


def template_sources():
    return [(path.relative_to(TEMPLATES), path.read_text()) for path in sorted(TEMPLATES.rglob("*.html"))]


def test_templates_have_no_inline_script_handler_or_style():
    inline_script = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)  # hx-on is evaluated like an on*= handler
    style_attribute = re.compile(r"\sstyle\s*=", re.IGNORECASE)
    offenders = [
        f"{name}: {match.group(0).strip()}"
        for name, source in template_sources()
        for pattern in (inline_script, handler, style_attribute)
        for match in pattern.finditer(source)
    ]
    assert offenders == []


def test_the_template_guard_catches_what_it_forbids():
    handler = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)
    for source in ['<form onsubmit="x">', "<img src=x onerror='y'>", '<b hx-on:click="z">', '<a ONCLICK = "w">']:
        assert handler.search(source), source
    assert not handler.search('<p class="mention">Revenir plus tard</p><a hx-confirm="Supprimer ?">')


def test_htmx_runs_no_eval_and_no_script_of_swapped_content(client):
    html = client.get("/").get_data(as_text=True)
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1)
    assert '"allowEval": false' in config and '"allowScriptTags": false' in config
    assert '"includeIndicatorStyles": false' in config


def test_members_page_confirms_removal_without_inline_code(client, app_context):
    admin, member, collectivite = make_user(), make_user(name="Eve');fetch('/x');('"), make_collectivite()
    add_member(admin, collectivite, "admin")
    add_member(member, collectivite, "lecture")
    login(client, admin)
    html = client.get(f"/collectivites/{collectivite.id}/membres").get_data(as_text=True)
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE)
    assert 'data-confirm="Retirer Eve&#39;);fetch(&#39;/x&#39;);(&#39; de la collectivité ?"' in html
    assert re.search(r'<script src="/static/js/confirm\.js\?v=\w+"></script>', html)
