"""Live scores: an edit goes through the job to a pushed fragment, on the hub and on a real websocket;
the websocket is refused to users without read right and to pages of other sites (Origin); a
member removed or given another role has their sockets closed at once; the pushed fragment is
the page's fragment."""
import re
from html import unescape as html_unescape
import threading
import time

import pytest
from flask import render_template
from simple_websocket import Client, ConnectionClosed
from simple_websocket import ConnectionError as HandshakeRefused
from werkzeug.serving import make_server

from app.fragments import render_fragment
from app.extensions import db
from sqlalchemy import delete, update

from app.live import CLOSE_FORBIDDEN, KEEPALIVE, collectivite_topic, current_hub, make_hub, revocation_topic
from app.models import Membership, User
from app.services import accounts, evaluation, personnalisation, statuts
from app.rls import act_as, system_work
from app.services.scores import scores_for
from tests.factories import add_member, login, make_user
from tests.suivi_content import make_editor, run_jobs, tiny_content  # noqa: F401 (fixture)

# A handshake from one of the site's pages (the test client's requests go to http://localhost).
UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
           "Sec-WebSocket-Version": "13", "Origin": "http://localhost"}
# Long enough that only a revocation can close a socket during a test.
NO_KEEPALIVE = 3600


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
    evaluation.rescore(collectivite.id, "eci")  # the page was rendered once: scores exist
    db.session.commit()
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
    html = _pushed_after(lambda: statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait"), collectivite)
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
        statuts.set_statut(user, collectivite.id, "eci_1.1.1", "fait")
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
    topic = collectivite_topic(collectivite.id)
    ws = _open_socket(client, live_server, reader, collectivite)
    try:
        statuts.set_statut(user, collectivite.id, "eci_1.2.1", "programme")
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


# simple_websocket's client sends `Host: 127.0.0.1`, without the port: the origin of a page of that host.
OWN_ORIGIN = "http://127.0.0.1"


def _connect(client, live_server, path: str, origin: str = OWN_ORIGIN) -> Client:
    """A websocket to `path` with the client's session, from a page at `origin` (default: the site's)."""
    cookie = client.get_cookie("session").value
    return Client.connect(f"{live_server}{path}", headers={"Cookie": f"session={cookie}", "Origin": origin})


def _open_socket(client, live_server, user, collectivite) -> Client:
    """`user`'s websocket on the collectivité, once subscribed (revocations and pushes reach it)."""
    login(client, user)
    ws = _connect(client, live_server, f"/ws/collectivites/{collectivite.id}")
    topic = revocation_topic(collectivite.id, user.id)
    deadline = time.monotonic() + 20
    while current_hub().subscriber_count(topic) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    return ws


def _reader_socket(client, live_server, collectivite):
    reader = make_user()
    membership = add_member(reader, collectivite, "lecture")
    return _open_socket(client, live_server, reader, collectivite), membership


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
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "programme")  # ... an edit is pushed ...
    run_jobs()
    # ... then the websocket opens: the push is replayed (in-process hub), or this process's Redis
    # listener is too recent to have seen it and the current scores are sent (Redis hub).
    ws, _ = _reader_socket(client, live_server, collectivite)
    try:
        message = _next_message(ws)
    finally:
        ws.close()
    assert {"score-eci-1-2-1", "score-eci-1-2", "score-eci"} <= _pushed_ids(message) and "prog." in message


def test_a_removal_the_revocation_missed_still_closes_the_websocket_at_the_next_keepalive(
    app, client, editor, live_server, monkeypatch
):
    monkeypatch.setitem(app.config, "LIVE_KEEPALIVE_SECONDS", 0.2)
    _, collectivite = editor
    ws, membership = _reader_socket(client, live_server, collectivite)
    try:
        assert ws.receive(timeout=5) == KEEPALIVE  # still a member
        # A statement, not the ORM: no revocation is published (as when Redis drops it).
        with system_work():
            db.session.execute(delete(Membership).where(Membership.user_id == membership.user_id))
            db.session.commit()
        assert _received_until_closed_for_rights(ws) == [_rights_changed_notice()]
    finally:
        if ws.connected:
            ws.close()


def _received_until_closed_for_rights(ws) -> list[str]:
    """What `ws` received, keepalives aside, until the server closed it with CLOSE_FORBIDDEN (waited
    for up to 20 s)."""
    received, deadline = [], time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            message = ws.receive(timeout=max(0.1, deadline - time.monotonic()))
            if message not in (None, KEEPALIVE):
                received.append(message)
    except ConnectionClosed:
        assert ws.close_reason == CLOSE_FORBIDDEN
        return received
    pytest.fail("the websocket is still open")


def _rights_changed_notice() -> str:
    """What a page is sent, and nothing else, when the server closes it for a change of rights."""
    return render_template("fragments/live/_rights_changed.html", oob=True)


def _assert_open(ws, collectivite) -> None:
    """`ws` still receives its collectivité's pushes (published again while none arrives: a new
    subscription to a fresh Redis hub drops what it queued before its first resync)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        current_hub().publish(collectivite_topic(collectivite.id), "<b>encore ouvert</b>")
        message = ws.receive(timeout=1)
        if message not in (None, KEEPALIVE):
            assert message == "<b>encore ouvert</b>"
            return
    pytest.fail("nothing received")


def test_removing_a_member_closes_their_sockets_on_that_collectivite_at_once(app, client, editor, live_server, monkeypatch):
    monkeypatch.setitem(app.config, "LIVE_KEEPALIVE_SECONDS", NO_KEEPALIVE)
    _, collectivite = editor
    _, elsewhere = make_editor()
    reader, other_reader = make_user(), make_user()
    for user, place in ((reader, collectivite), (reader, elsewhere), (other_reader, collectivite)):
        add_member(user, place, "lecture")
    sockets = [_open_socket(client, live_server, user, place)
               for user, place in ((reader, collectivite), (reader, elsewhere), (other_reader, collectivite))]
    removed, same_user_elsewhere, other_member = sockets
    try:
        with system_work():  # an admin's removal, in short
            accounts.remove_member(collectivite.id, reader.id)
        assert _received_until_closed_for_rights(removed) == [_rights_changed_notice()]
        _assert_open(same_user_elsewhere, elsewhere)
        _assert_open(other_member, collectivite)
    finally:
        for ws in sockets:
            if ws.connected:
                ws.close()


def test_a_role_change_closes_the_members_sockets_and_a_page_opened_later_stays_open(
    app, client, editor, live_server, monkeypatch
):
    monkeypatch.setitem(app.config, "LIVE_KEEPALIVE_SECONDS", NO_KEEPALIVE)
    _, collectivite = editor
    ws, membership = _reader_socket(client, live_server, collectivite)
    try:
        with system_work():
            accounts.change_role(collectivite.id, membership.user_id, "edition")  # still reads: its controls are stale
        assert _received_until_closed_for_rights(ws) == [_rights_changed_notice()]
    finally:
        if ws.connected:
            ws.close()
    reloaded = _open_socket(client, live_server, db.session.get(User, membership.user_id), collectivite)  # the page is reloaded
    try:
        _assert_open(reloaded, collectivite)  # the revocation is not replayed to it
    finally:
        reloaded.close()


def test_a_role_change_committed_while_the_socket_subscribes_closes_it(app, client, editor, live_server, monkeypatch):
    monkeypatch.setitem(app.config, "LIVE_KEEPALIVE_SECONDS", NO_KEEPALIVE)
    _, collectivite = editor
    reader = make_user()
    add_member(reader, collectivite, "edition")
    hub = current_hub()
    subscribe = hub.subscribe

    def subscribe_after_a_role_change(topics):
        # Committed after the handshake's rights check, its revocation published before this subscription.
        with system_work():
            db.session.execute(update(Membership).where(Membership.user_id == reader.id).values(role="lecture"))
            db.session.commit()
        return subscribe(topics)

    monkeypatch.setattr(hub, "subscribe", subscribe_after_a_role_change)
    login(client, reader)
    ws = _connect(client, live_server, f"/ws/collectivites/{collectivite.id}")
    try:
        assert _received_until_closed_for_rights(ws) == [_rights_changed_notice()]
    finally:
        if ws.connected:
            ws.close()


def test_only_committed_role_changes_and_removals_are_revoked(app, editor, monkeypatch):
    _, collectivite = editor
    members = {role: make_user() for role in ("admin", "edition", "lecture")}
    for role, user in members.items():
        add_member(user, collectivite, role)
    revoked = []
    monkeypatch.setattr(current_hub(), "revoke", lambda collectivite_id, user_id: revoked.append((collectivite_id, user_id)))
    with system_work():  # an admin's changes, in short
        accounts.change_role(collectivite.id, members["lecture"].id, "lecture")  # the same role
        membership = db.session.get(Membership, (members["edition"].id, collectivite.id))
        membership.role = "admin"
        db.session.flush()
        db.session.rollback()
        assert revoked == []
        accounts.change_role(collectivite.id, members["edition"].id, "lecture")
        accounts.remove_member(collectivite.id, members["lecture"].id)
    assert revoked == [(collectivite.id, members["edition"].id), (collectivite.id, members["lecture"].id)]


def test_the_websocket_handshake_needs_an_origin_of_the_site(client, editor):
    user, collectivite = editor
    login(client, user)
    url = f"/ws/collectivites/{collectivite.id}"
    for origin in (None, "null", "http://evil.example", "http://localhost.evil.example", "https://localhost",
                   "http://localhost:8080", "http://localhost:99999", "localhost"):
        headers = {name: value for name, value in UPGRADE.items() if name != "Origin"}
        if origin is not None:
            headers["Origin"] = origin
        assert client.get(url, headers=headers).status_code == 403, origin


@pytest.mark.parametrize(("settings", "origin", "accepted"), [
    ({}, OWN_ORIGIN, True),  # the server's own origin (scheme, host and port of the request)
    ({}, OWN_ORIGIN + ":8080", False),  # another port of the same host (whose cookies it gets)
    ({"BASE_URL": "https://tet.exemple.fr"}, "https://tet.exemple.fr", True),  # a proxy rewrote the Host
    ({"BASE_URL": "https://tet.exemple.fr:443"}, "https://tet.exemple.fr", True),
    ({"TRUSTED_HOSTS": ["127.0.0.1", "tet.exemple.fr"]}, "http://tet.exemple.fr", True),
    ({"TRUSTED_HOSTS": ["127.0.0.1", "tet.exemple.fr"]}, "https://tet.exemple.fr", False),  # not the request's scheme
    ({"TRUSTED_HOSTS": ["127.0.0.1", "tet.exemple.fr"]}, "http://tet.exemple.fr.evil.example", False),
    ({"BASE_URL": "https://tet.exemple.fr"}, "http://tet.exemple.fr", False),
])
def test_a_real_websocket_opens_from_the_sites_origins_only(app, client, editor, live_server, monkeypatch,
                                                            settings, origin, accepted):
    user, collectivite = editor
    login(client, user)
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    try:
        ws = _connect(client, live_server, f"/ws/collectivites/{collectivite.id}", origin)
    except HandshakeRefused as error:
        assert not accepted and error.status_code == 403
    else:
        ws.close()
        assert accepted


def test_a_reponse_that_desactive_an_action_pushes_its_statut_control_to_re_fetch(client, editor):
    user, collectivite = editor
    html = _pushed_after(lambda: personnalisation.set_reponse(user, collectivite.id, "compost", "NON"), collectivite)
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
    client.get(f"/collectivites/{collectivite.id}/referentiels/eci")  # the first scores enqueued, then stored
    run_jobs()
    page = client.get(f"/collectivites/{collectivite.id}/referentiels/eci").get_data(as_text=True)
    ws_path = html_unescape(re.search(r'ws-connect="([^"]+)"', page).group(1))
    assert ws_path.endswith("?referentiel=eci&revision=0&role=lecture")  # the rights the page shows, too
    statuts.set_statut(user, collectivite.id, "eci_1.2.1", "programme")  # scored at revision 1
    run_jobs()
    monkeypatch.setitem(app.extensions, "hub", make_hub(app.config["REDIS_URL"]))  # nothing to replay
    ws = _connect(client, live_server, ws_path)
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
