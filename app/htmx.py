"""The only place that reads htmx request headers."""
from flask import request


def is_htmx() -> bool:
    """True for an htmx request that wants a fragment (history restores want the full page)."""
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


def vary_on_htmx(response):
    """after_request hook for URLs answering a fragment to htmx and a page otherwise."""
    response.vary.add("HX-Request")
    return response
