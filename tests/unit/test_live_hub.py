"""The websocket hub and pump, without Flask: in-process fan-out, Redis fan-out (fakeredis), pump, revocations."""
import threading
import time

import fakeredis
import pytest
from simple_websocket import ConnectionClosed

import app.live as live
from app.live import (
    CLOSE_FORBIDDEN,
    KEEPALIVE,
    SUBSCRIPTION_BACKLOG,
    InProcessHub,
    RedisHub,
    Subscription,
    channel_prefix,
    make_hub,
    pump,
    revocation_topic,
)
from app.redis_connection import connect_redis


class FakeWebSocket:
    """Records what is sent; closes itself after `close_after` sends (like a client leaving)."""

    def __init__(self, close_after: int):
        self.sent: list[str] = []
        self.connected = True
        self.closed_with = None
        self._close_after = close_after

    def close(self, reason=None, message=None) -> None:
        self.closed_with, self.connected = (reason, message), False

    def send(self, data: str) -> None:
        if not self.connected:
            raise ConnectionClosed()
        self.sent.append(data)
        if len(self.sent) >= self._close_after:
            self.connected = False


def test_published_html_reaches_every_subscriber_of_the_topic_only():
    hub = InProcessHub()
    first, second = hub.subscribe(["collectivite:1"]), hub.subscribe(["collectivite:1", "collectivite:2"])
    other = hub.subscribe(["collectivite:3"])
    hub.publish("collectivite:1", "<span id='a'></span>")
    assert first.get(timeout=0) == second.get(timeout=0) == "<span id='a'></span>"
    assert other.get(timeout=0) is None


def test_unsubscribed_pages_get_nothing_and_empty_topics_are_forgotten():
    hub = InProcessHub()
    subscription = hub.subscribe(["collectivite:1"])
    hub.unsubscribe(subscription)
    hub.publish("collectivite:1", "x")
    assert subscription.get(timeout=0) is None
    assert hub.subscriber_count("collectivite:1") == 0
    hub.unsubscribe(subscription)  # twice is harmless


def test_a_subscriber_that_stops_reading_loses_messages_instead_of_growing_forever():
    subscription = Subscription(["t"])
    for n in range(SUBSCRIPTION_BACKLOG + 5):
        subscription.deliver(str(n))
    received = [subscription.get(timeout=0) for _ in range(SUBSCRIPTION_BACKLOG + 1)]
    assert received[-1] is None and received[0] == "0"


def test_concurrent_publishers_lose_nothing():
    hub = InProcessHub()
    subscription = hub.subscribe(["t"])
    threads = [threading.Thread(target=lambda k=k: [hub.publish("t", f"{k}-{n}") for n in range(100)]) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    received = {subscription.get(timeout=0) for _ in range(400)}
    assert len(received) == 400


def test_pump_sends_messages_in_order_then_stops_when_the_client_leaves():
    hub = InProcessHub()
    subscription = hub.subscribe(["t"])
    for html in ("<a/>", "<b/>", "<c/>"):
        hub.publish("t", html)
    ws = FakeWebSocket(close_after=3)
    pump(ws, subscription, keepalive_seconds=5, poll_seconds=0.01)
    assert ws.sent == ["<a/>", "<b/>", "<c/>"]


def test_pump_sends_keepalives_when_idle_and_ends_on_a_closed_connection():
    ws = FakeWebSocket(close_after=2)
    pump(ws, Subscription(["t"]), keepalive_seconds=0.01, poll_seconds=0.01)
    assert ws.sent == [KEEPALIVE, KEEPALIVE]

    closed = FakeWebSocket(close_after=1)
    closed.send("first")  # the client is gone now: the next send raises ConnectionClosed
    closed.connected = True
    subscription = Subscription(["t"])
    subscription.deliver("lost")
    pump(closed, subscription, keepalive_seconds=5, poll_seconds=0.01)  # returns, no exception


def test_redis_hub_delivers_through_redis_to_the_subscribers_of_this_process():
    server = fakeredis.FakeServer()
    publisher = RedisHub(fakeredis.FakeRedis(server=server))  # e.g. an RQ worker
    web = RedisHub(fakeredis.FakeRedis(server=server))
    subscription = web.subscribe(["collectivite:7"])
    publisher.publish("collectivite:7", "<span id='score-eci'>é</span>")
    publisher.publish("collectivite:8", "not for us")
    assert subscription.get(timeout=2) == "<span id='score-eci'>é</span>"
    assert subscription.get(timeout=0.05) is None


def test_redis_hub_without_redis_still_delivers_in_this_process():
    hub = RedisHub(connect_redis("redis://127.0.0.1:1/0"))
    subscription = Subscription(["t"])
    with hub._lock:  # subscribe() would need Redis for its listener: register directly
        hub._subscriptions["t"] = {subscription}
    hub.publish("t", "<b/>")
    assert subscription.get(timeout=0) == "<b/>"


@pytest.mark.parametrize(("url", "kind"), [(None, InProcessHub), ("redis://127.0.0.1:6379/0", RedisHub)])
def test_the_factory_picks_the_hub_from_the_redis_url(url, kind):
    assert type(make_hub(url)) is kind


def test_pump_returns_promptly_once_the_socket_is_closed():
    ws = FakeWebSocket(close_after=10)
    ws.connected = False
    started = time.monotonic()
    pump(ws, Subscription(["t"]), keepalive_seconds=30)
    assert time.monotonic() - started < 0.5


def test_a_late_subscriber_gets_the_recent_messages_but_not_the_old_ones(monkeypatch):
    monkeypatch.setattr(live, "REPLAY_SECONDS", 0.2)
    hub = InProcessHub()
    hub.publish("t", "<old/>")
    time.sleep(0.3)
    hub.publish("t", "<a/>")
    hub.publish("other", "<b/>")
    subscription = hub.subscribe(["t"])  # the page was rendered before "<a/>" was pushed
    assert [subscription.get(timeout=0) for _ in range(2)] == ["<a/>", None]
    assert subscription.take_resync() is None  # this hub saw every message


def test_pump_sends_the_resync_instead_of_the_older_queued_messages():
    subscription = Subscription(["t"])
    subscription.deliver("<older/>")
    subscription.request_resync(123.0)
    ws = FakeWebSocket(close_after=1)
    pump(ws, subscription, keepalive_seconds=5, poll_seconds=0.01, resync=lambda since: f"<state since={since}/>")
    assert ws.sent == ["<state since=123.0/>"] and subscription.get(timeout=0) is None


def test_pump_closes_the_socket_once_the_right_is_withdrawn():
    rights = iter([True, False])
    ws = FakeWebSocket(close_after=100)
    pump(ws, Subscription(["t"]), keepalive_seconds=0.02, poll_seconds=0.01, allowed=lambda: next(rights))
    assert ws.closed_with[0] == CLOSE_FORBIDDEN and len(ws.sent) <= 2


def test_the_redis_listener_survives_a_redis_restart_and_asks_the_pages_to_resync(monkeypatch):
    monkeypatch.setattr(RedisHub, "RECONNECT_SECONDS", (0.01, 0.05))
    server = fakeredis.FakeServer()
    publisher, web = RedisHub(fakeredis.FakeRedis(server=server)), RedisHub(fakeredis.FakeRedis(server=server))
    subscription = web.subscribe(["t"])
    subscription.take_resync()  # a new listener: the first pages resync anyway
    server.connected = False  # Redis goes down...
    time.sleep(1.2)  # (the listener polls every second)
    server.connected = True  # ... and comes back
    deadline = time.monotonic() + 5
    while subscription.take_resync() is None:
        assert time.monotonic() < deadline, "no resync requested after the reconnection"
        time.sleep(0.02)
    publisher.publish("t", "<after/>")
    assert subscription.get(timeout=2) == "<after/>"


class SilentPubSub:
    """A link that died without a word: nothing comes, pings included."""

    def __init__(self):
        self.pings = 0

    def get_message(self, timeout):
        time.sleep(timeout)

    def ping(self):
        self.pings += 1


def test_a_silent_redis_link_is_pinged_then_given_up(monkeypatch):
    import redis

    monkeypatch.setattr(RedisHub, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(RedisHub, "PING_AFTER_SECONDS", 0.05)
    pubsub = SilentPubSub()
    with pytest.raises(redis.ConnectionError):
        RedisHub(fakeredis.FakeRedis())._deliver_messages(pubsub)
    assert pubsub.pings == 1


def test_apps_on_different_redis_databases_of_one_server_do_not_hear_each_other():
    """Pub/sub ignores the db number: the channels carry it (or LIVE_CHANNEL_PREFIX)."""
    server = fakeredis.FakeServer()

    def hub(url, prefix=None):
        return RedisHub(fakeredis.FakeRedis(server=server), prefix or channel_prefix(url))

    tests, bench, tests_worker = hub("redis://r:6379/15"), hub("redis://r:6379/0"), hub("redis://r:6379/15")
    odd = hub("redis://r:6379/15", prefix="recette*[1]:")  # a glob character in the prefix matches itself only
    heard = {name: h.subscribe(["collectivite:7"]) for name, h in (("tests", tests), ("bench", bench), ("odd", odd))}
    tests_worker.publish("collectivite:7", "<b>tests</b>")
    bench.publish("collectivite:7", "<b>bench</b>")
    odd.publish("collectivite:7", "<b>recette</b>")
    assert heard["tests"].get(timeout=2) == "<b>tests</b>" and heard["bench"].get(timeout=2) == "<b>bench</b>"
    assert heard["odd"].get(timeout=2) == "<b>recette</b>"
    assert [s.get(timeout=0.1) for s in heard.values()] == [None, None, None]


def test_the_channel_prefix_comes_from_the_redis_database_or_the_setting():
    assert channel_prefix("redis://127.0.0.1:6379/15") == "live:db15:"
    assert channel_prefix("redis://127.0.0.1:6379") == "live:db0:"
    assert make_hub("redis://127.0.0.1:6379/3")._channel_prefix == "live:db3:"
    assert make_hub("redis://127.0.0.1:6379/3", "staging:")._channel_prefix == "staging:"


def test_a_revocation_reaches_that_users_subscription_on_that_collectivite_only():
    hub = InProcessHub()
    revoked = hub.subscribe(["collectivite:1", revocation_topic(1, 7)])
    same_user_elsewhere = hub.subscribe(["collectivite:2", revocation_topic(2, 7)])
    other_user = hub.subscribe(["collectivite:1", revocation_topic(1, 8)])
    hub.revoke(1, 7)
    assert revoked.revoked and not same_user_elsewhere.revoked and not other_user.revoked
    hub.publish("collectivite:1", "<a/>")
    assert other_user.get(timeout=0) == "<a/>"


def test_a_revocation_is_not_replayed_to_a_page_opened_after_it():
    hub = InProcessHub()
    hub.revoke(1, 7)
    later = hub.subscribe(["collectivite:1", revocation_topic(1, 7)])
    assert not later.revoked and later.get(timeout=0) is None


def test_pump_closes_a_revoked_socket_with_its_notice_instead_of_what_is_queued():
    hub = InProcessHub()
    subscription = hub.subscribe(["t", revocation_topic(1, 7)])
    hub.publish("t", "<a/>")
    hub.revoke(1, 7)
    ws = FakeWebSocket(close_after=100)
    pump(ws, subscription, keepalive_seconds=5, poll_seconds=0.01, revoked_html="<notice/>")
    assert ws.sent == ["<notice/>"] and ws.closed_with[0] == CLOSE_FORBIDDEN


def test_a_revocation_wakes_a_pump_waiting_for_messages():
    hub = InProcessHub()
    subscription = hub.subscribe([revocation_topic(1, 7)])
    ws = FakeWebSocket(close_after=100)
    # Polls and keepalives far apart: only the revocation can end the pump.
    thread = threading.Thread(target=pump, args=(ws, subscription), kwargs={"keepalive_seconds": 3600, "poll_seconds": 3600})
    thread.start()
    hub.revoke(1, 7)
    thread.join(timeout=20)
    assert not thread.is_alive() and ws.closed_with[0] == CLOSE_FORBIDDEN and ws.sent == []


def test_a_revocation_crosses_processes_through_redis():
    server = fakeredis.FakeServer()
    admin_process, web = RedisHub(fakeredis.FakeRedis(server=server)), RedisHub(fakeredis.FakeRedis(server=server))
    subscription = web.subscribe(["collectivite:1", revocation_topic(1, 7)])
    admin_process.revoke(1, 7)
    deadline = time.monotonic() + 5
    while not subscription.revoked:
        assert time.monotonic() < deadline, "the revocation did not arrive"
        time.sleep(0.01)
