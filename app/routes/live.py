"""Websocket of a collectivité's pages: pushes the refreshed score fragments (htmx-ext-ws swaps them);
and the statut control a push asks the pages to re-fetch, each with its own session."""
from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from simple_websocket import ConnectionClosed

from app.extensions import db, sock
from app.fragments import scores_newer_html, scores_resync_html
from app.live import collectivite_topic, current_hub, init_hub, pump
from app.policy import can, check_permission
from app.queue import init_queue
from app.services import workspace

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
    """?referentiel=<id>&revision=<n>: the score revision the page was rendered at; when the
    stored scores are newer (pushes missed beyond the hub's replay window), they are sent first."""
    user = current_user._get_current_object()
    referentiel_id, revision = request.args.get("referentiel"), request.args.get("revision", type=int)
    db.session.remove()  # the socket may stay open for hours: hold no database connection
    hub = current_hub()
    subscription = hub.subscribe([collectivite_topic(collectivite_id)])
    try:
        # After subscribing: a re-score committed meanwhile is either read here or pushed later.
        if referentiel_id and revision is not None:
            missed = _released(scores_newer_html, collectivite_id, referentiel_id, revision)
            if missed:
                ws.send(missed)
        pump(
            ws,
            subscription,
            current_app.config.get("LIVE_KEEPALIVE_SECONDS", KEEPALIVE_SECONDS),
            resync=lambda since: _released(scores_resync_html, collectivite_id, since),
            allowed=lambda: _released(can, user, "read", collectivite_id),  # the right may be withdrawn meanwhile
        )
    except ConnectionClosed:
        pass  # the client left before the first send
    finally:
        hub.unsubscribe(subscription)


@bp.get("/collectivites/<int:collectivite_id>/referentiels/<referentiel_id>/actions/<action_id>/statut")
def statut_control(collectivite_id: int, referentiel_id: str, action_id: str):
    context = workspace.statut_control(current_user, collectivite_id, referentiel_id, action_id)
    if context is None:
        abort(404)
    return render_template("fragments/statuts/_action_statut.html", **context, csrf_value=generate_csrf())


def _released(func, *args):
    """func(*args), then the database connection goes back to the pool."""
    try:
        return func(*args)
    finally:
        db.session.remove()
