"""The Celery configuration, built from DOCPOST_* settings as one plain dict (testable).

Every reliability setting says once, here, why it is set.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from kombu import Exchange, Queue
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from docpost.pipeline.config import Settings
from docpost.tasks.redis_transport import TRANSPORT as REDIS_TRANSPORT
from docpost.tasks.routing import BULK, DOCUMENTS, POSTING, route_task
from docpost.tasks.schedule import beat_schedule

# The embedded broker: kombu's in-memory transport, shared by the threads of one process.
EMBEDDED_BROKER = "memory://localhost/"


class QueueSettings(BaseSettings):
    """Tunables of the queue only (DOCPOST_* variables or .env, like pipeline.config)."""

    model_config = SettingsConfigDict(env_prefix="DOCPOST_", env_file=".env", extra="ignore")

    # Seconds Redis waits for an ack before it hands the message to another worker.
    visibility_timeout: int = 3600
    # Hard limit per task; clamped to half the visibility timeout (see celery_config).
    task_time_limit: int = 300
    # Pool processes that render documents are replaced after this many tasks: memory levels
    # off near 71 MB (bench.memory), and each new process re-imports WeasyPrint (100 -> 1000:
    # 27 -> 33 PDFs/s in python -m bench).
    render_max_tasks_per_child: int = 1000
    # Seconds between outbox sweeps.
    outbox_sweep_seconds: float = 30.0
    # Prefix of every Redis key the broker uses, so that several installations (or test
    # runs) can share one Redis database without taking each other's messages.
    broker_key_prefix: str = ""
    # Seconds after its last publish that a request still `queued`, or a document still
    # `pending`, is published again (CONTRACT.md "Nothing accepted is lost"; tasks.recovery).
    republish_after: float = Field(300.0, gt=0)


@lru_cache(maxsize=1)
def get_queue_settings() -> QueueSettings:
    return QueueSettings()


def time_limits(queue: QueueSettings) -> tuple[int, int]:
    """(soft, hard) time limits in seconds, the hard one at most half the visibility timeout."""
    hard = max(2, min(queue.task_time_limit, queue.visibility_timeout // 2))
    return max(1, hard * 4 // 5), hard


def recovery_sweep_seconds(queue: QueueSettings) -> float:
    """How often beat runs the recovery sweep: often enough that a lost message is published
    again soon after its grace period, at most once a minute."""
    return max(1.0, min(60.0, queue.republish_after / 5))


def broker_transport_options(broker_url: str, queue: QueueSettings) -> dict[str, Any]:
    if broker_url.startswith("memory"):
        # The virtual transport sleeps this long between polls of an empty queue; the
        # embedded queue is in-process, so polling often costs nothing and keeps latency low.
        return {"polling_interval": 0.01}
    if broker_url.startswith(("redis", "rediss")):
        prefix = {"global_keyprefix": queue.broker_key_prefix} if queue.broker_key_prefix else {}
        return {
            **prefix,
            "visibility_timeout": queue.visibility_timeout,
            # Look for abandoned (unacked) messages every tenth of the visibility timeout, and
            # really scan each time: after a worker is killed its messages come back within
            # about 1.1 x visibility_timeout instead of kombu's default sweep of ~100 s.
            "unacked_restore_interval": max(1, min(10, queue.visibility_timeout // 10)),
            "unacked_restore_throttle": 1,
            # A worker killed while restoring must not block restores for kombu's 5 minutes.
            "unacked_mutex_expire": max(5, min(300, queue.visibility_timeout // 2)),
            # A publish on a dead TCP connection must fail (and be retried), not hang forever.
            "socket_timeout": 30,
            "socket_connect_timeout": 5,
        }
    return {}


def celery_config(settings: Settings, queue: QueueSettings) -> dict[str, Any]:
    broker_url = settings.broker_url or EMBEDDED_BROKER
    soft_limit, hard_limit = time_limits(queue)
    # The default (nameless) exchange routes a message straight to the queue named by its
    # routing key. A named exchange on Redis routes through a binding table key; if that key
    # is lost (FLUSHDB, eviction, a restart without persistence) kombu drops every message
    # published to the exchange, silently, until a worker declares its queues again.
    exchange = Exchange("")
    return {
        # Unset: the in-process broker, so the default install needs no server (tasks.embedded).
        "broker_url": broker_url,
        # Per transport: Redis visibility and restore timing, the embedded queue's polling.
        "broker_transport_options": broker_transport_options(broker_url, queue),
        # On Redis, kombu's transport with one client per channel instead of a new one for
        # every publish, ack and event (tasks.redis_transport); None: the URL's own.
        "broker_transport": REDIS_TRANSPORT
        if broker_url.startswith(("redis:", "rediss:"))
        else None,
        # Keep trying to reach the broker at start-up: in docker-compose the worker may start
        # before Redis accepts connections.
        "broker_connection_retry_on_startup": True,
        # JSON only on the wire: requests are the public JSON contract, and pickle from a
        # broker would execute whatever was put there.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        # Outcomes live in our requests table; a Celery result backend would be an unread copy.
        "task_ignore_result": True,
        "result_backend": None,
        # Ack after the task ran: a worker that dies mid-posting gets its message redelivered
        # (postings are idempotent by request_id, so a second run returns the first outcome).
        "task_acks_late": True,
        # A pool process killed under a task (OOM, SIGKILL) gives the message back instead of
        # acking it; the attempt counter in the database ends poison messages as `failed`.
        "task_reject_on_worker_lost": True,
        # A task killed by the hard time limit is requeued and counted like a lost worker,
        # rather than acked with its request left `running` forever.
        "task_acks_on_timeout": False,
        # One unacked message per pool process: a slow posting does not hold others back,
        # and a dying worker strands at most one message per process.
        "worker_prefetch_multiplier": 1,
        # Time limits well below the visibility timeout, or Redis would hand a still-running
        # task to a second worker; the soft limit lets the task count the attempt and retry.
        "task_soft_time_limit": soft_limit,
        "task_time_limit": hard_limit,
        # A task whose message can no longer be acked after a broker reconnect will be
        # redelivered anyway: stop it rather than run the same request twice at once.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # Publishing retries on broker connection errors (submitters and the outbox relay);
        # the relay's sweep retries later still, so these stay short.
        "task_publish_retry": True,
        "task_publish_retry_policy": {
            "max_retries": 5,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 2.0,
        },
        # Three queues so that rendering and bulk fan-out never delay interactive postings;
        # a worker consumes all three unless told otherwise (-Q).
        "task_queues": [
            Queue(POSTING, exchange, routing_key=POSTING),
            Queue(DOCUMENTS, exchange, routing_key=DOCUMENTS),
            Queue(BULK, exchange, routing_key=BULK),
        ],
        # Anything not routed otherwise is a posting.
        "task_default_queue": POSTING,
        "task_default_exchange": "",
        "task_default_routing_key": POSTING,
        # Requests go to `posting` or `bulk` by kind, renders to `documents` (tasks.routing).
        "task_routes": (route_task,),
        # Task events (issue 18), so Flower and `celery events` see tasks received, started,
        # succeeded, retried and failed, and task-sent from publishers. On Redis they are
        # PUBLISH-ed to a channel: a message to no one costs Redis next to nothing when no
        # monitor listens. The embedded broker has no monitor to reach: off there.
        "worker_send_task_events": not broker_url.startswith("memory"),
        "task_send_sent_event": not broker_url.startswith("memory"),
        # Cron slots and request ids for scheduled runs are in UTC, whatever the host's zone.
        "timezone": "UTC",
        "enable_utc": True,
        # Bulk invoicing at DOCPOST_BULK_INVOICE_CRON and the outbox sweep (tasks.schedule).
        "beat_schedule": beat_schedule(
            settings.bulk_invoice_cron,
            queue.outbox_sweep_seconds,
            settings.revenue_recognition_cron,
            recovery_seconds=recovery_sweep_seconds(queue),
        ),
    }
