"""Live push: a hub of topics that web pages subscribe to over websocket.

Publishers (jobs, routes after commit) call `hub.publish(topic, html)` with HTML already rendered;
every open websocket subscribed to the topic receives it through `pump`, which neither renders
nor touches the database.

InProcessHub   one process (embedded mode, tests): topic -> subscriber queues, behind a lock.
RedisHub       several processes: PUBLISH to Redis; each web process runs one listener thread
               (started with the first subscription) that feeds its local queues. RQ workers
               publish from another process, hence Redis.

`init_hub(app)` picks one from REDIS_URL into app.extensions["hub"]; `current_hub()` returns it.
"""
import logging
import queue
import threading
import time
from collections.abc import Iterable
from typing import Protocol

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from simple_websocket import ConnectionClosed

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "live:"
# Sent when nothing happened for keepalive_seconds: keeps proxies from closing an idle socket
# and lets a vanished client be noticed. htmx-ext-ws swaps nothing for it.
KEEPALIVE = "<!-- keepalive -->"
# A subscriber that stops reading must not make the process grow without bound.
SUBSCRIPTION_BACKLOG = 1000


class Subscription:
    """One open page: the topics it listens to and the messages waiting for it."""

    def __init__(self, topics: Iterable[str]):
        self.topics = frozenset(topics)
        self._messages: queue.Queue[str] = queue.Queue(maxsize=SUBSCRIPTION_BACKLOG)

    def deliver(self, html: str) -> None:
        try:
            self._messages.put_nowait(html)
        except queue.Full:
            log.warning("live: subscriber backlog full, message dropped (topics %s)", sorted(self.topics))

    def get(self, timeout: float) -> str | None:
        """The next message, or None when none came within `timeout` seconds."""
        try:
            return self._messages.get(timeout=timeout)
        except queue.Empty:
            return None


class Hub(Protocol):
    def subscribe(self, topics: Iterable[str]) -> Subscription: ...

    def unsubscribe(self, subscription: Subscription) -> None: ...

    def publish(self, topic: str, html: str) -> None: ...


class InProcessHub:
    """Fan-out to the subscriptions of this process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscriptions: dict[str, set[Subscription]] = {}

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        subscription = Subscription(topics)
        with self._lock:
            for topic in subscription.topics:
                self._subscriptions.setdefault(topic, set()).add(subscription)
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

    def deliver_locally(self, topic: str, html: str) -> None:
        with self._lock:
            subscribers = list(self._subscriptions.get(topic, ()))
        for subscription in subscribers:
            subscription.deliver(html)

    def subscriber_count(self, topic: str) -> int:
        with self._lock:
            return len(self._subscriptions.get(topic, ()))


class RedisHub(InProcessHub):
    """Publishes through Redis; one listener thread per process feeds the local subscriptions."""

    RECONNECT_SECONDS = 1.0

    def __init__(self, connection: redis.Redis):
        super().__init__()
        self._redis = connection
        self._listener_lock = threading.Lock()
        self._listener: threading.Thread | None = None

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        self._ensure_listener()
        return super().subscribe(topics)

    def publish(self, topic: str, html: str) -> None:
        try:
            self._redis.publish(CHANNEL_PREFIX + topic, html)
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
            self._listener = threading.Thread(target=self._listen, args=(pubsub,), name="live-hub-listener", daemon=True)
            self._listener.start()

    def _open_pubsub(self) -> redis.client.PubSub:
        pubsub = self._redis.pubsub()
        pubsub.psubscribe(CHANNEL_PREFIX + "*")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=deadline - time.monotonic())
            if message and message["type"] == "psubscribe":
                return pubsub
        raise redis.ConnectionError("live: no confirmation of the Redis pattern subscription")

    def _listen(self, pubsub: redis.client.PubSub) -> None:
        while True:
            try:
                for message in pubsub.listen():
                    if message["type"] == "pmessage":
                        topic = message["channel"].decode()[len(CHANNEL_PREFIX):]
                        self.deliver_locally(topic, message["data"].decode())
            except redis.RedisError:
                log.exception("live: the Redis listener lost its connection; reconnecting")
            pubsub.close()
            pubsub = self._reopen_pubsub()

    def _reopen_pubsub(self) -> redis.client.PubSub:
        while True:
            time.sleep(self.RECONNECT_SECONDS)
            try:
                return self._open_pubsub()
            except redis.RedisError:
                log.warning("live: Redis still unreachable; the listener retries")


def pump(ws, subscription: Subscription, keepalive_seconds: float = 25.0, poll_seconds: float = 1.0) -> None:
    """Send every message of the subscription to the websocket until the client goes away."""
    idle_since = time.monotonic()
    try:
        while ws.connected:
            html = subscription.get(timeout=min(poll_seconds, keepalive_seconds))
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


def connect_redis(url: str, socket_timeout: float | None = 5.0) -> redis.Redis:
    """A client that fails fast when Redis is down (one immediate retry) instead of stalling an edit."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=socket_timeout, retry=Retry(NoBackoff(), 1))


def make_hub(redis_url: str | None) -> Hub:
    # No read timeout: the listener blocks on the subscription for as long as nothing is published.
    return RedisHub(connect_redis(redis_url, socket_timeout=None)) if redis_url else InProcessHub()


def init_hub(app) -> None:
    app.extensions["hub"] = make_hub(app.config.get("REDIS_URL"))


def current_hub() -> Hub:
    from flask import current_app

    return current_app.extensions["hub"]
