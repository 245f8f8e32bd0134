"""What the Redis broker is told, checked on a real Redis: how a lost worker's tasks come back."""

from __future__ import annotations

from typing import Any

import redis

from openbackpack.jobs import JobSettings, create_celery_app
from openbackpack.jobs._app import UNACKED_LOCK_SECONDS
from tests.jobs._deploy import REDIS, unique_prefix


def test_a_worker_killed_holding_the_give_back_lock_holds_the_others_up_seconds_not_minutes() -> (
    None
):
    """The lock a worker takes to give lost tasks back, left by one killed, expires in 10 s."""
    settings = JobSettings(REDIS, ("sqlite:///unused.sqlite3",), prefix=unique_prefix())
    app = create_celery_app(settings)
    with app.connection_for_write() as connection:
        # Kombu's Redis channel: its client, and the lock's key and expiry, are not typed.
        channel: Any = connection.default_channel
        # As the worker's consumer takes it (kombu's Mutex), and never released: killed.
        lock = channel.client.lock(channel.unacked_mutex_key, timeout=channel.unacked_mutex_expire)
        assert lock.acquire(blocking=False)
        key = f"{settings.prefix}:{channel.unacked_mutex_key}"
    raw = redis.Redis.from_url(REDIS)
    try:
        left = raw.pttl(key)
        assert 0 < left <= UNACKED_LOCK_SECONDS * 1000
        assert UNACKED_LOCK_SECONDS <= 10
    finally:
        raw.delete(key)
        raw.close()
