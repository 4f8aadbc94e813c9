"""The Redis transport with one client per channel (tasks.redis_transport, issue 19)."""

from __future__ import annotations

import os
import uuid

import pytest
import redis
from kombu import Connection

from docpost.pipeline.config import Settings
from docpost.tasks.config import QueueSettings, celery_config
from docpost.tasks.redis_transport import TRANSPORT, Transport

REDIS_URL = os.environ.get("DOCPOST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_only_redis_urls_get_the_transport() -> None:
    assert celery_config(Settings(broker_url="redis://r:6379/0"), QueueSettings())[
        "broker_transport"
    ] == (TRANSPORT)
    assert celery_config(Settings(broker_url="rediss://r:6380/0"), QueueSettings())[
        "broker_transport"
    ] == (TRANSPORT)
    assert celery_config(Settings(broker_url=""), QueueSettings())["broker_transport"] is None


@pytest.fixture
def connection() -> Connection:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis")
    prefix = f"test-transport-{uuid.uuid4().hex[:8]}:"
    conn = Connection(
        REDIS_URL, transport=TRANSPORT, transport_options={"global_keyprefix": prefix}
    )
    yield conn
    conn.close()
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def test_a_channel_keeps_one_plain_client_until_its_pool_is_replaced(
    connection: Connection,
) -> None:
    assert isinstance(connection.transport, Transport)
    channel = connection.default_channel
    with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
        assert first is second
    channel._disconnect_pools()  # as after a fork: a new pool, so a new client on it
    with channel.conn_or_acquire() as third:
        assert third is not first
        assert third.connection_pool is channel.pool


def test_messages_go_through_and_are_acked(connection: Connection) -> None:
    received = []
    with connection.SimpleQueue("fast-transport") as simple:
        for n in range(3):
            simple.put({"n": n})
        for _ in range(3):
            message = simple.get(timeout=5)
            received.append(message.payload["n"])
            message.ack()
        with pytest.raises(simple.Empty):  # acked: none comes back
            simple.get(timeout=0.2)
    assert sorted(received) == [0, 1, 2]
