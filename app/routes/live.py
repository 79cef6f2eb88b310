"""Websocket of a collectivité's pages: pushes the refreshed score fragments (htmx-ext-ws swaps them)."""
from flask import Blueprint, current_app, request
from flask_login import current_user

from app.extensions import db, sock
from app.fragments import scores_resync_html
from app.live import collectivite_topic, current_hub, init_hub, pump
from app.policy import can, check_permission
from app.queue import init_queue

bp = Blueprint("live", __name__)
KEEPALIVE_SECONDS = 25.0


@bp.record_once
def _init_transports(state) -> None:
    # The live blueprint owns the wiring of the hub and the job queue chosen from REDIS_URL.
    init_hub(state.app)
    init_queue(state.app)


@bp.before_request
def _require_read_right():
    # Runs before the websocket handshake: refused users get a plain 401 / 403 response.
    check_permission("read", request.view_args["collectivite_id"])


@sock.route("/ws/collectivites/<int:collectivite_id>", bp=bp)
def collectivite_socket(ws, collectivite_id: int):
    user = current_user._get_current_object()
    db.session.remove()  # the socket may stay open for hours: hold no database connection
    hub = current_hub()
    subscription = hub.subscribe([collectivite_topic(collectivite_id)])
    try:
        pump(
            ws,
            subscription,
            current_app.config.get("LIVE_KEEPALIVE_SECONDS", KEEPALIVE_SECONDS),
            resync=lambda since: _released(scores_resync_html, collectivite_id, since),
            allowed=lambda: _released(can, user, "read", collectivite_id),  # the right may be withdrawn meanwhile
        )
    finally:
        hub.unsubscribe(subscription)


def _released(func, *args):
    """func(*args), then the database connection goes back to the pool."""
    try:
        return func(*args)
    finally:
        db.session.remove()
