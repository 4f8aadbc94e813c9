"""kombu's Redis transport, with one Redis client per channel for its plain commands.

kombu 5.7's Redis channel builds a new `redis.Redis` for every publish, ack, fan-out event and
queue-size check (`Channel.conn_or_acquire`): each build copies redis-py's table of ~170
response callbacks, ~0.25 ms of CPU. A worker pays it about seven times per posting: the
render message the posting publishes and its task-sent event in the pool process; the
delivery's bookkeeping, its ack and the task events (received, started, succeeded) in the main
process (issue 19). The client holds no connection of its own (each command borrows one from
the channel's pool and gives it back), so one client per channel does the same work: it is
made again when the channel's pool is replaced (after a fork, or a reconnect).

Chosen over patching kombu in place: `broker_transport` names this class only for Redis URLs
(tasks.config), every other line of the transport is kombu's.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):  # type: ignore[misc]
    _plain_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._plain_client
        if client is None or client.connection_pool is not self.pool:
            client = self._plain_client = super()._create_client(asynchronous=False)
        return client


class Transport(redis.Transport):  # type: ignore[misc]
    Channel = Channel


# What tasks.config passes as `broker_transport` for redis:// and rediss:// URLs.
TRANSPORT = "docpost.tasks.redis_transport:Transport"
