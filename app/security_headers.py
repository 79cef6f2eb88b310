"""Headers every response carries: a strict Content-Security-Policy, no framing, no MIME sniffing,
and `Cache-Control: no-store` on everything that is not a static file.

The policy allows scripts and styles from our own origin only: no inline <script>, no on*=
attribute, no style= attribute, no eval (htmx's allowEval is off in base.html). The pages' own
JavaScript lives in static/js/. DSFR's CSS draws some icons from data: SVG URLs.
"""
from flask import Flask, request
from werkzeug.exceptions import SecurityError

# connect-src gets the websocket's origin per request (it depends on the Host the page was served from).
POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)


def register_security_headers(app: Flask) -> None:
    app.after_request(_security_headers)


def content_security_policy() -> str:
    # 'self' covers same-host ws:/wss: in CSP 3 only; older engines need the websocket origin spelled out.
    return "; ".join((*POLICY, f"connect-src 'self'{_websocket_source()}"))


def _websocket_source() -> str:
    try:
        host = request.host  # empty when the Host header has characters a host name cannot have
    except SecurityError:  # a host TRUSTED_HOSTS refuses
        return ""
    return f" {'wss' if request.is_secure else 'ws'}://{host}" if host else ""


def _security_headers(response):
    # setdefault: a view may set its own value.
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # Pages embed the session's CSRF token and the signed-in user's data: no cache may keep them.
    # Static files set their own Cache-Control (app.static_assets).
    response.headers.setdefault("Cache-Control", "no-store")
    return response
