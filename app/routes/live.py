"""Websocket of a collectivité's pages: pushes the refreshed score fragments (htmx-ext-ws swaps them),
and the statut controls to re-fetch (app.routes.statuts), each page with its own session.

The websocket handshake is refused (403) unless its Origin is the site's own: a page of another
site must not open a socket with the user's cookies (cross-site websocket hijacking)."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, request
from flask_login import current_user
from simple_websocket import ConnectionClosed
from werkzeug.sansio.utils import host_is_trusted

from app.extensions import db, sock
from app.fragments import render_fragment, scores_newer_html, scores_resync_html
from app.live import collectivite_topic, current_hub, pump, revocation_topic
from app.policy import check_permission, role_of

bp = Blueprint("live", __name__)
KEEPALIVE_SECONDS = 25.0


@bp.before_request
def _require_own_origin():
    if request.endpoint == "live.collectivite_socket" and not _is_own_origin(request.headers.get("Origin")):
        abort(403)


@bp.before_request
def _require_read_right():
    # Runs before the websocket handshake: refused users get a plain 401 / 403 response.
    check_permission("read", request.view_args["collectivite_id"])


@sock.route("/ws/collectivites/<int:collectivite_id>", bp=bp)
def collectivite_socket(ws, collectivite_id: int):
    """?referentiel=<id>&revision=<n>: the score revision the page was rendered at; when the
    stored scores are newer (pushes missed beyond the hub's replay window), they are sent first."""
    user = current_user._get_current_object()
    user_id, role = user.id, role_of(user, collectivite_id)  # the socket lives as long as this role
    revoked_html = render_fragment("rights_changed", oob=True)
    referentiel_id, revision = request.args.get("referentiel"), request.args.get("revision", type=int)
    db.session.remove()  # the socket may stay open for hours: hold no database connection
    hub = current_hub()
    subscription = hub.subscribe([collectivite_topic(collectivite_id), revocation_topic(collectivite_id, user_id)])
    try:
        # After subscribing: a role change or a re-score committed meanwhile is either read here
        # or pushed later.
        # The role changed meanwhile, or before this socket opened (the page shows other rights).
        if _released(role_of, user, collectivite_id) != role or (request.args.get("role") or role) != role:
            subscription.revoke()
        elif referentiel_id and revision is not None:
            missed = _released(scores_newer_html, collectivite_id, referentiel_id, revision)
            if missed:
                ws.send(missed)
        pump(
            ws,
            subscription,
            current_app.config.get("LIVE_KEEPALIVE_SECONDS", KEEPALIVE_SECONDS),
            resync=lambda since: _released(scores_resync_html, collectivite_id, since),
            allowed=lambda: _released(role_of, user, collectivite_id) == role,
            revoked_html=revoked_html,
        )
    except ConnectionClosed:
        pass  # the client left before the first send
    finally:
        hub.unsubscribe(subscription)


def _is_own_origin(origin: str | None) -> bool:
    """The page opening the socket is one of this site's: same scheme, host and port as the request
    (its Host, its scheme as TRUSTED_PROXIES forward it) or as BASE_URL; or, with the request's
    scheme, a host of TRUSTED_HOSTS (any port, as Flask matches them)."""
    own = _origin_parts(origin) if origin else None
    if own is None:
        return False
    if own in (_origin_parts(request.host_url), _origin_parts(current_app.config["BASE_URL"])):
        return True
    trusted = current_app.config["TRUSTED_HOSTS"]
    return bool(trusted) and own[0] == request.scheme and host_is_trusted(own[1], trusted)


def _origin_parts(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or URL, the default port made explicit; None if malformed."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # a port out of range
        return None
    return (parts.scheme, parts.hostname, port) if parts.hostname and port else None


def _released(func, *args):
    """func(*args), then the database connection goes back to the pool."""
    try:
        return func(*args)
    finally:
        db.session.remove()
