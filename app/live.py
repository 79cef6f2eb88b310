"""Live push: a hub of topics that web pages subscribe to over websocket.

Publishers (jobs, routes after commit) call `hub.publish(topic, html)` with HTML already rendered;
every open websocket subscribed to the topic receives it through `pump`, which neither renders
nor touches the database itself (its resync and rights callbacks do).

InProcessHub   one process (embedded mode, tests): topic -> subscriber queues, behind a lock.
RedisHub       several processes: PUBLISH to Redis; each web process runs one listener thread
               (started with the first subscription) that feeds its local queues. RQ workers
               publish from another process, hence Redis. The listener pings Redis when it
               heard nothing for a while and reconnects, with backoff, when the link is lost.

Nothing is lost between a page's rendering and its websocket, or across a short reconnect: the
hub keeps what it delivered in the last REPLAY_SECONDS and replays it to each new subscription.
When the hub may have missed messages (its Redis link was down, or came up less than
REPLAY_SECONDS ago) the subscription is asked to resync: `pump` then sends `resync(since)`, the
current state of what changed since then.

A socket lives as long as the role it was opened with. When a member is removed or changes role,
`hub.revoke(collectivite_id, user_id)` (published after the commit, see app/policy.py) reaches that
user's subscriptions on that collectivité, in every process: `pump` then closes their sockets at
once with CLOSE_FORBIDDEN, sending nothing else but the page's notice of it. Revocations are never replayed (a page
opened after the change has the new role); `pump`'s `allowed()` check, every keepalive, is the
backstop for a revocation lost with the Redis link.

Redis pub/sub ignores the database number: the channels carry it (`live:db<N>:<topic>`, or the
LIVE_CHANNEL_PREFIX setting), so that apps sharing a Redis server on different databases (two
environments, the test suite and a bench) never hear each other.

`init_hub(app)` (called by create_app) picks one from REDIS_URL into app.extensions["hub"]; `current_hub()`
returns it.
"""
import itertools
import logging
import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import Protocol

import redis
from redis.connection import parse_url
from simple_websocket import ConnectionClosed

from app.redis_connection import connect_redis

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "live:"
# Sent when nothing happened for keepalive_seconds: keeps proxies from closing an idle socket
# and lets a vanished client be noticed. htmx-ext-ws swaps nothing for it.
KEEPALIVE = "<!-- keepalive -->"
# A subscriber that stops reading must not make the process grow without bound.
SUBSCRIPTION_BACKLOG = 1000
# Recent messages replayed to new subscriptions: covers a page load and a short reconnect.
REPLAY_SECONDS = 60.0
# Websocket close code when the user's rights changed (RFC 6455: policy violation): htmx-ext-ws
# does not reconnect after it. (Werkzeug's development server spoils the close, Chromium sees 1006
# and reconnects: a removed member's page then retries in vain, with backoff.)
CLOSE_FORBIDDEN = 1008
REVOCATION_PREFIX = "revocation:"
# Put in a subscription's queue to wake its reader at once when it is revoked.
_WAKE_UP = object()


class Subscription:
    """One open page: the topics it listens to and the messages waiting for it."""

    def __init__(self, topics: Iterable[str]):
        self.topics = frozenset(topics)
        self._messages: queue.Queue[str | object] = queue.Queue(maxsize=SUBSCRIPTION_BACKLOG)
        self._lock = threading.Lock()
        self._resync_since: float | None = None  # wall-clock time, see request_resync
        self.revoked = False  # the user's rights changed: the socket must close

    def revoke(self) -> None:
        self.revoked = True
        try:
            self._messages.put_nowait(_WAKE_UP)
        except queue.Full:
            pass  # the reader is not waiting: it sees the flag before its next send

    def request_resync(self, since: float) -> None:
        """Messages published since `since` (time.time()) may have been missed."""
        with self._lock:
            self._resync_since = since if self._resync_since is None else min(since, self._resync_since)

    def take_resync(self) -> float | None:
        """The pending resync request, if any (then forgotten), with the queued messages dropped:
        the resync's current state is newer than all of them."""
        with self._lock:
            since, self._resync_since = self._resync_since, None
        if since is not None:
            while self.get(timeout=0) is not None:
                pass
        return since

    def deliver(self, html: str) -> None:
        try:
            self._messages.put_nowait(html)
        except queue.Full:
            log.warning("live: subscriber backlog full, message dropped (topics %s)", sorted(self.topics))

    def get(self, timeout: float) -> str | None:
        """The next message, or None when none came within `timeout` seconds (or it was revoked)."""
        try:
            message = self._messages.get(timeout=timeout)
        except queue.Empty:
            return None
        return None if message is _WAKE_UP else message


class Hub(Protocol):
    def subscribe(self, topics: Iterable[str]) -> Subscription: ...

    def unsubscribe(self, subscription: Subscription) -> None: ...

    def publish(self, topic: str, html: str) -> None: ...

    def revoke(self, collectivite_id: int, user_id: int) -> None: ...


class InProcessHub:
    """Fan-out to the subscriptions of this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._recent: OrderedDict[str, deque[tuple[float, str]]] = OrderedDict()  # topic -> (time, html)
        # Since when (time.time()) every message published reached this hub; None: not now.
        self._complete_since: float | None = 0.0

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        """A new subscription, given the messages of the last REPLAY_SECONDS (or a resync request
        when this hub may have missed some of them)."""
        subscription = Subscription(topics)
        with self._lock:  # atomic with deliver_locally: no message both replayed and delivered, or lost
            now = time.time()
            self._forget_old(now)
            for topic in subscription.topics:
                self._subscriptions.setdefault(topic, set()).add(subscription)
                for at, html in self._recent.get(topic, ()):
                    if at >= now - REPLAY_SECONDS:
                        subscription.deliver(html)
            if self._complete_since is None or self._complete_since > now - REPLAY_SECONDS:
                subscription.request_resync(now - REPLAY_SECONDS)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            for topic in subscription.topics:
                subscribers = self._subscriptions.get(topic)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._subscriptions[topic]

    def publish(self, topic: str, html: str) -> None:
        self.deliver_locally(topic, html)

    def revoke(self, collectivite_id: int, user_id: int) -> None:
        """Close the user's open sockets on the collectivité (a message like any other, so that
        RedisHub carries it to every process)."""
        self.publish(revocation_topic(collectivite_id, user_id), "")

    def deliver_locally(self, topic: str, html: str) -> None:
        if topic.startswith(REVOCATION_PREFIX):
            with self._lock:  # not kept for replay: a later subscription has the new role
                revoked = set(self._subscriptions.get(topic, ()))
            for subscription in revoked:
                subscription.revoke()
            return
        with self._lock:
            now = time.time()
            self._recent.setdefault(topic, deque()).append((now, html))
            self._recent.move_to_end(topic)
            self._forget_old(now)
            for subscription in self._subscriptions.get(topic, ()):
                subscription.deliver(html)

    def request_resync_all(self, since: float) -> None:
        with self._lock:
            subscriptions = {s for subscribers in self._subscriptions.values() for s in subscribers}
        for subscription in subscriptions:
            subscription.request_resync(since)

    def _forget_old(self, now: float) -> None:
        """Drop the messages older than REPLAY_SECONDS (topics ordered by their last message)."""
        while self._recent:
            topic, messages = next(iter(self._recent.items()))
            while messages and messages[0][0] < now - REPLAY_SECONDS:
                messages.popleft()
            if messages:
                return
            del self._recent[topic]

    def subscriber_count(self, topic: str) -> int:
        with self._lock:
            return len(self._subscriptions.get(topic, ()))


class RedisHub(InProcessHub):
    """Publishes through Redis; one listener thread per process feeds the local subscriptions."""

    RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)  # backoff, the last one repeated
    POLL_SECONDS = 1.0
    # Silent this long: the listener pings; silent twice as long: the link is dead, reconnect.
    PING_AFTER_SECONDS = 15.0

    def __init__(self, connection: redis.Redis, channel_prefix: str = CHANNEL_PREFIX):
        super().__init__()
        self._redis = connection
        self._channel_prefix = channel_prefix
        self._listener_lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._complete_since = None  # until the listener is subscribed

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        self._ensure_listener()
        return super().subscribe(topics)

    def publish(self, topic: str, html: str) -> None:
        try:
            self._redis.publish(self._channel_prefix + topic, html)
        except redis.RedisError:
            # The scores are stored already; at least the pages of this process get them.
            log.exception("live: Redis unreachable, message delivered in this process only")
            self.deliver_locally(topic, html)

    def _ensure_listener(self) -> None:
        with self._listener_lock:
            if self._listener is not None and self._listener.is_alive():
                return
            # Subscribe before returning: a message published right after subscribe() is not lost.
            pubsub = self._open_pubsub()
            self._set_complete_since(time.time())
            self._listener = threading.Thread(target=self._listen, args=(pubsub,), name="live-hub-listener", daemon=True)
            self._listener.start()

    def _set_complete_since(self, since: float | None) -> None:
        with self._lock:
            self._complete_since = since

    def _open_pubsub(self) -> redis.client.PubSub:
        pubsub = self._redis.pubsub()
        pubsub.psubscribe(_glob_escape(self._channel_prefix) + "*")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=deadline - time.monotonic())
            if message and message["type"] == "psubscribe":
                return pubsub
        raise redis.ConnectionError("live: no confirmation of the Redis pattern subscription")

    def _listen(self, pubsub: redis.client.PubSub) -> None:
        while True:
            try:
                self._deliver_messages(pubsub)
            except (redis.RedisError, OSError):
                log.exception("live: the Redis listener lost its connection; reconnecting")
            lost_at = time.time()
            self._set_complete_since(None)
            pubsub.close()
            pubsub = self._reopen_pubsub()
            self._set_complete_since(time.time())
            # What was published while the link was down is gone: the open pages resync.
            self.request_resync_all(lost_at - self.PING_AFTER_SECONDS * 2)

    def _deliver_messages(self, pubsub: redis.client.PubSub) -> None:
        """Until the link fails (raises) or stays silent, ping included, for 2 × PING_AFTER_SECONDS."""
        heard_at, pinged = time.monotonic(), False
        while True:
            message = pubsub.get_message(timeout=self.POLL_SECONDS)
            silence = time.monotonic() - heard_at
            if message is not None:
                heard_at, pinged = time.monotonic(), False
                if message["type"] == "pmessage":
                    topic = message["channel"].decode()[len(self._channel_prefix):]
                    self.deliver_locally(topic, message["data"].decode())
            elif silence > 2 * self.PING_AFTER_SECONDS:
                raise redis.ConnectionError(f"live: no answer from Redis for {silence:.0f} s")
            elif silence > self.PING_AFTER_SECONDS and not pinged:
                pubsub.ping()  # its "pong" counts as heard
                pinged = True

    def _reopen_pubsub(self) -> redis.client.PubSub:
        for attempt in itertools.count():
            time.sleep(self.RECONNECT_SECONDS[min(attempt, len(self.RECONNECT_SECONDS) - 1)])
            try:
                return self._open_pubsub()
            except (redis.RedisError, OSError):
                log.warning("live: Redis still unreachable; the listener retries")


def pump(
    ws,
    subscription: Subscription,
    keepalive_seconds: float = 25.0,
    poll_seconds: float = 1.0,
    resync: Callable[[float], str] | None = None,
    allowed: Callable[[], bool] | None = None,
    revoked_html: str = "",
) -> None:
    """Send every message of the subscription to the websocket until the client goes away.

    resync(since): the HTML of the current state of what changed since `since` (time.time()), sent
    when the subscription asks for it. allowed(): re-checked every keepalive_seconds, a backstop
    for a lost revocation. As soon as the subscription is revoked or allowed() returns False (the
    user's rights changed), `revoked_html` (the page's notice) is sent, nothing else, and the
    socket is closed with CLOSE_FORBIDDEN.
    """
    idle_since = checked_at = time.monotonic()
    try:
        while ws.connected:
            if allowed is not None and time.monotonic() - checked_at >= keepalive_seconds:
                if not allowed():
                    subscription.revoke()
                checked_at = time.monotonic()
            since = subscription.take_resync()
            html = resync(since) if since is not None and resync is not None else None
            if not html:
                html = subscription.get(timeout=min(poll_seconds, keepalive_seconds))
            if subscription.revoked:  # checked right before sending: a revocation comes first
                if revoked_html:
                    ws.send(revoked_html)
                ws.close(CLOSE_FORBIDDEN, "droits modifiés")
                return
            if html is not None:
                ws.send(html)
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= keepalive_seconds:
                ws.send(KEEPALIVE)
                idle_since = time.monotonic()
    except ConnectionClosed:
        return


def collectivite_topic(collectivite_id: int) -> str:
    """The topic of every open page of one collectivité."""
    return f"collectivite:{collectivite_id}"


def revocation_topic(collectivite_id: int, user_id: int) -> str:
    """The topic of one user's open pages of one collectivité, for revocations only."""
    return f"{REVOCATION_PREFIX}collectivite:{collectivite_id}:user:{user_id}"


def channel_prefix(redis_url: str) -> str:
    """The prefix of the live channels of the Redis database of `redis_url` (db 0 by default)."""
    return f"{CHANNEL_PREFIX}db{parse_url(redis_url).get('db', 0)}:"


def _glob_escape(text: str) -> str:
    """`text` matched literally in a Redis PSUBSCRIBE pattern."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


def make_hub(redis_url: str | None, prefix: str | None = None) -> Hub:
    """RedisHub when `redis_url` is set, its channels prefixed with `prefix` (default: see
    channel_prefix); otherwise InProcessHub."""
    if not redis_url:
        return InProcessHub()
    # The listener polls with its own timeout; the health check pings a connection idle that long.
    return RedisHub(connect_redis(redis_url, RedisHub.PING_AFTER_SECONDS), prefix or channel_prefix(redis_url))


def init_hub(app) -> None:
    app.extensions["hub"] = make_hub(app.config.get("REDIS_URL"), app.config.get("LIVE_CHANNEL_PREFIX"))


def current_hub() -> Hub:
    from flask import current_app

    return current_app.extensions["hub"]
