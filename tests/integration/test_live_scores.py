"""Live scores: an edit goes through the job to a pushed fragment, on the hub and on a real websocket;
the websocket is refused to users without read right; the pushed fragment is the page's fragment."""
import re
from html import unescape as html_unescape
import threading
import time

import pytest
from simple_websocket import Client, ConnectionClosed
from werkzeug.serving import make_server

from app.fragments import render_fragment
from app.extensions import db
from app.live import CLOSE_FORBIDDEN, KEEPALIVE, collectivite_topic, current_hub, make_hub
from app.services import suivi
from app.rls import act_as, system_work
from app.services.evaluation import scores_for
from tests.factories import add_member, login, make_user
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
           "Sec-WebSocket-Version": "13"}


@pytest.fixture
def editor(tiny_content):
    return make_editor()


@pytest.fixture(autouse=True)
def fresh_hub(app, monkeypatch):
    """A hub per test: no message of an earlier test (same collectivité ids) is replayed here."""
    monkeypatch.setitem(app.extensions, "hub", make_hub(app.config["REDIS_URL"]))


def _pushed_ids(html: str) -> set[str]:
    return set(re.findall(r'<span id="(score-[^"]+)" class="tet-score" hx-swap-oob="true">', html))


def _pushed_after(edit, collectivite) -> str:
    """What an open page of the collectivité is pushed once `edit` is re-scored."""
    scores_for(collectivite.id, "eci")  # the page was rendered once: scores exist
    hub = current_hub()
    subscription = hub.subscribe([collectivite_topic(collectivite.id)])
    try:
        edit()
        run_jobs()
        return subscription.get(timeout=5)
    finally:
        hub.unsubscribe(subscription)


def test_an_edit_pushes_the_changed_nodes_and_the_totals_to_subscribers(editor):
    user, collectivite = editor
    html = _pushed_after(lambda: suivi.set_statut(user, collectivite.id, "eci_1.1.1", "fait"), collectivite)
    assert _pushed_ids(html) == {"score-eci-1-1-1", "score-eci-1-1", "score-eci-1", "score-eci"}
    assert "<html" not in html
    # The very fragment the pages include on first load, with the out-of-band flag.
    expected = render_fragment("action_score", collectivite_id=collectivite.id, referentiel_id="eci",
                               action_id="eci_1.1", oob=True)
    assert expected in html and "50 %" in expected


def test_other_collectivites_get_nothing(editor):
    user, collectivite = editor
    _, other = make_editor()
    act_as(user)  # again: make_editor() acted as the other editor
    hub = current_hub()
    subscription = hub.subscribe([collectivite_topic(other.id)])
    try:
        suivi.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
        run_jobs()
        assert subscription.get(timeout=0.3) is None
    finally:
        hub.unsubscribe(subscription)


def test_the_websocket_is_refused_without_read_right(client, editor):
    _, collectivite = editor
    url = f"/ws/collectivites/{collectivite.id}"
    assert client.get(url, headers=UPGRADE).status_code == 401
    stranger = make_user()
    login(client, stranger)
    assert client.get(url, headers=UPGRADE).status_code == 403


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"ws://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_a_reader_receives_the_pushed_scores_on_a_real_websocket(app, client, editor, live_server):
    user, collectivite = editor
    reader = make_user()
    add_member(reader, collectivite, "lecture")
    login(client, reader)
    cookie = client.get_cookie("session").value
    topic = collectivite_topic(collectivite.id)
    ws = Client.connect(f"{live_server}/ws/collectivites/{collectivite.id}", headers={"Cookie": f"session={cookie}"})
    try:
        deadline = time.monotonic() + 20
        while current_hub().subscriber_count(topic) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        suivi.set_statut(user, collectivite.id, "eci_1.2.1", "programme")
        run_jobs()
        message = _next_message(ws)
    finally:
        ws.close()
    assert {"score-eci-1-2-1", "score-eci-1-2", "score-eci"} <= _pushed_ids(message)
    assert "prog." in message
    deadline = time.monotonic() + 20  # the server side unsubscribes once the client is gone
    while current_hub().subscriber_count(topic) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert current_hub().subscriber_count(topic) == 0


def _reader_socket(client, live_server, collectivite):
    reader = make_user()
    membership = add_member(reader, collectivite, "lecture")
    login(client, reader)
    cookie = client.get_cookie("session").value
    ws = Client.connect(f"{live_server}/ws/collectivites/{collectivite.id}", headers={"Cookie": f"session={cookie}"})
    return ws, membership


def _next_message(ws, seconds: float = 20) -> str:
    """The first message other than a keepalive, waited for up to `seconds` (a loaded machine is slow)."""
    deadline = time.monotonic() + seconds
    message = KEEPALIVE
    while message in (KEEPALIVE, None) and time.monotonic() < deadline:
        message = ws.receive(timeout=max(0.1, deadline - time.monotonic()))
    assert message not in (KEEPALIVE, None), "nothing received"
    return message


def test_a_push_made_between_the_page_load_and_the_websocket_is_not_lost(app, client, editor, live_server):
    user, collectivite = editor
    scores_for(collectivite.id, "eci")  # the page is rendered...
    suivi.set_statut(user, collectivite.id, "eci_1.2.1", "programme")  # ... an edit is pushed ...
    run_jobs()
    # ... then the websocket opens: the push is replayed (in-process hub), or this process's Redis
    # listener is too recent to have seen it and the current scores are sent (Redis hub).
    ws, _ = _reader_socket(client, live_server, collectivite)
    try:
        message = _next_message(ws)
    finally:
        ws.close()
    assert {"score-eci-1-2-1", "score-eci-1-2", "score-eci"} <= _pushed_ids(message) and "prog." in message


def test_the_websocket_is_closed_once_the_reader_is_no_longer_a_member(app, client, editor, live_server, monkeypatch):
    monkeypatch.setitem(app.config, "LIVE_KEEPALIVE_SECONDS", 0.2)
    _, collectivite = editor
    ws, membership = _reader_socket(client, live_server, collectivite)
    try:
        assert ws.receive(timeout=5) == KEEPALIVE  # still a member
        with system_work():  # an admin's removal, in short
            db.session.delete(membership)
            db.session.commit()
        with pytest.raises(ConnectionClosed):
            for _ in range(10):
                ws.receive(timeout=1)
        assert ws.close_reason == CLOSE_FORBIDDEN
    finally:
        if ws.connected:
            ws.close()


def test_a_reponse_that_desactive_an_action_pushes_its_statut_control_to_re_fetch(client, editor):
    user, collectivite = editor
    html = _pushed_after(lambda: suivi.set_reponse(user, collectivite.id, "compost", "NON"), collectivite)
    reloaded = set(re.findall(r'<span id="(statuts-action_statut-[^"]+)" class="tet-statut" hx-swap-oob="true"', html))
    assert {"statuts-action_statut-eci-2-2", "statuts-action_statut-eci-2-2-1"} <= reloaded
    assert "statuts-action_statut-eci-1-1" not in reloaded  # its personnalisation did not change
    # The placeholder is the page's own partial; each page re-fetches it with its own session.
    placeholder = render_fragment("statut_reload", collectivite_id=collectivite.id, referentiel_id="eci", action_id="eci_2.2.1")
    assert placeholder in html and 'hx-trigger="load"' in placeholder
    login(client, user)
    control = client.get(html_unescape(re.search(r'hx-get="([^"]+)"', placeholder).group(1)))
    assert control.status_code == 200
    body = control.get_data(as_text=True)
    assert 'id="statuts-action_statut-eci-2-2-1"' in body and "Désactivée" in body and "<form" not in body


def test_a_page_whose_pushes_are_gone_gets_the_fresh_scores_when_its_websocket_opens(app, client, editor, live_server, monkeypatch):
    user, collectivite = editor
    reader = make_user()
    add_member(reader, collectivite, "lecture")
    login(client, reader)
    page = client.get(f"/collectivites/{collectivite.id}/referentiels/eci").get_data(as_text=True)
    ws_path = html_unescape(re.search(r'ws-connect="([^"]+)"', page).group(1))
    assert ws_path.endswith("?referentiel=eci&revision=0")
    suivi.set_statut(user, collectivite.id, "eci_1.2.1", "programme")  # scored at revision 1
    run_jobs()
    monkeypatch.setitem(app.extensions, "hub", make_hub(app.config["REDIS_URL"]))  # nothing to replay
    cookie = client.get_cookie("session").value
    ws = Client.connect(f"{live_server}{ws_path}", headers={"Cookie": f"session={cookie}"})
    try:
        message = _next_message(ws)
    finally:
        ws.close()
    assert {"score-eci-1-2-1", "score-eci-1-2", "score-eci"} <= _pushed_ids(message) and "prog." in message


def test_the_statut_control_to_re_fetch_needs_the_read_right(client, editor):
    _, collectivite = editor
    url = f"/collectivites/{collectivite.id}/referentiels/eci/actions/eci_2.2.1/statut"
    login(client, make_user())
    assert client.get(url).status_code == 403
    reader = make_user()
    add_member(reader, collectivite, "lecture")
    login(client, reader)
    assert client.get(url).status_code == 200
    assert client.get(url.replace("eci_2.2.1", "eci_9")).status_code == 404
