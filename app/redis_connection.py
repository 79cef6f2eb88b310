"""The Redis client of the live hub, the job queue and the worker."""
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def connect_redis(url: str, health_check_interval: float = 0) -> redis.Redis:
    """A client that fails fast when Redis is down (one immediate retry) instead of stalling an edit."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 1),
                                health_check_interval=health_check_interval)
