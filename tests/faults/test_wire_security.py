"""The wire: only JSON is accepted, and the broker connection can carry a password and TLS.

- Messages serialized with pickle, YAML or msgpack, published with kombu straight onto the
  worker's queue, are refused by the worker (logged, discarded, never executed) and the worker
  lives on.
- A Redis URL with a password works (`redis://:PASSWORD@host:port/db`).
- `rediss://` works against a redis-server with TLS, verifying the server's certificate
  (`?ssl_cert_reqs=required&ssl_ca_certs=CA.pem`); if the installed redis-server was built
  without TLS, the test shows that the configuration accepts and passes the URL instead.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu import Connection
from sqlalchemy import func, select

from docpost.pipeline.config import Settings
from docpost.schema import RequestRecord, SalesOrder
from docpost.tasks.app import app
from docpost.tasks.client import submit
from docpost.tasks.config import QueueSettings, celery_config
from docpost.tasks.routing import EXECUTE_REQUEST
from tests.faults.conftest import MakeStack
from tests.faults.harness import (
    PrivateRedis,
    Stack,
    TlsFiles,
    pos_sale,
    wait_idle,
    wait_rendered,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


class Unpickled:
    """Unpickling this creates a directory: proof that a worker unpickled what it was sent."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.mkdir, (str(self.path),)


def order_request(request_id: str) -> dict[str, Any]:
    """A valid request: executed, it would store an outcome and an order."""
    return {
        "request_id": request_id,
        "kind": "upsert_order",
        "actor": "erp",
        "payload": {
            "order": f"SO-{request_id}",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "S0021", "quantity": "1", "unit_price": "150.00"}],
        },
    }


def task_headers(task_id: str) -> dict[str, Any]:
    """Celery's task message protocol 2 headers for docpost.execute_request."""
    return {
        "lang": "py", "task": EXECUTE_REQUEST, "id": task_id, "root_id": task_id,
        "parent_id": None, "group": None, "retries": 0, "eta": None, "expires": None,
        "timelimit": [None, None], "argsrepr": "(...)", "kwargsrepr": "{}", "origin": "test",
        "ignore_result": True,
    }  # fmt: skip


def round_trip(stack: Stack, request_id: str) -> dict[str, Any]:
    """One request through the broker and a worker, and its documents rendered."""
    outcome = submit(pos_sale(request_id, f"SN-{request_id}"), stack.sessions).wait(60.0)
    wait_rendered(stack.sessions, timeout=60.0)
    return outcome


def test_pickle_yaml_and_msgpack_messages_are_refused(stack: Stack, tmp_path: Path) -> None:
    stack.load_catalog()
    worker = stack.worker("wire", concurrency=1)
    pid = worker.pid
    marker = tmp_path / "unpickled-by-the-worker"
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    sent: dict[str, str] = {}
    with Connection(
        stack.env["DOCPOST_BROKER_URL"], transport_options=app.conf.broker_transport_options
    ) as connection:
        producer = connection.Producer()
        options: dict[str, Any] = {"exchange": "", "routing_key": "posting", "retry": True}
        for kind in ("pickle", "yaml"):
            request_id = f"wire-{kind}"
            args: list[Any] = [order_request(request_id)]
            if kind == "pickle":
                args.append(Unpickled(marker))
            task_id = str(uuid.uuid4())
            producer.publish((args, {}, embed), serializer=kind, headers=task_headers(task_id), **options)  # fmt: skip
            sent[request_id] = kind
        # msgpack is not installed here: bytes labelled as msgpack. The worker refuses a
        # message by its content type, before anything would decode the body.
        producer.publish(
            b"\x93\x91\x81\xaarequest_id\xacwire-msgpack\x80\x80",
            content_type="application/x-msgpack",
            content_encoding="binary",
            headers=task_headers(str(uuid.uuid4())),
            **options,
        )
        sent["wire-msgpack"] = "msgpack"
    wait_idle(stack.broker)

    log = worker.text()
    refusals = {
        kind: log.count(
            f"Received invalid task message: Refusing to deserialize untrusted content of type {kind} "
        )
        for kind in ("pickle", "yaml", "msgpack")
    }
    with stack.sessions() as session:
        stored = session.scalar(
            select(func.count())
            .select_from(RequestRecord)
            .where(RequestRecord.request_id.in_(list(sent)))
        )
        orders = session.scalar(select(func.count()).select_from(SalesOrder))
    after = round_trip(stack, "wire-json")
    print(
        f"\nfaults: wire-security non_json_messages={len(sent)} refusals={refusals} "
        f"executed={stored} unpickled={marker.exists()} worker_pid_unchanged={worker.pid == pid} "
        f"json_after={after['status']}"
    )
    assert refusals == {"pickle": 1, "yaml": 1, "msgpack": 1}, log[-4000:]
    assert log.count("The message has been ignored and discarded") == 3
    assert stored == 0 and orders == 0
    assert not marker.exists(), "the worker unpickled a message"
    assert worker.alive() and worker.pid == pid and worker.ping()
    assert after["status"] == "succeeded", after


def test_a_redis_url_with_a_password_works(
    pg_url: str, private_redis: Callable[..., PrivateRedis], make_stack: MakeStack
) -> None:
    password = secrets.token_hex(12)
    server = private_redis(password=password)
    anonymous = redis.Redis(host="127.0.0.1", port=server.port, socket_connect_timeout=2)
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.ping()
    anonymous.close()
    stack = make_stack(pg_url, server.url)
    assert stack.env["DOCPOST_BROKER_URL"] == f"redis://:{password}@127.0.0.1:{server.port}/0"
    stack.load_catalog()
    worker = stack.worker("auth", concurrency=1)

    outcome = round_trip(stack, "auth-1")
    print(f"\nfaults: redis-password round_trip={outcome['status']} anonymous=refused")
    assert outcome["status"] == "succeeded", outcome
    assert password not in worker.text(), "the worker logged the broker password"


def test_rediss_with_a_verified_certificate_works(
    pg_url: str,
    private_redis: Callable[..., PrivateRedis],
    tls_files: TlsFiles,
    make_stack: MakeStack,
) -> None:
    try:
        server = private_redis(tls=tls_files)
    except AssertionError as exc:
        if "tls" not in str(exc).lower():
            raise
        _rediss_url_is_passed_to_kombu(tls_files)
        print("\nfaults: redis-tls server=unsupported (redis-server built without TLS) config=ok")
        return
    plain = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=2)
    with pytest.raises(redis.exceptions.ConnectionError):
        plain.ping()  # no TLS: the server drops the connection
    plain.close()
    unverifiable = redis.Redis.from_url(
        f"rediss://127.0.0.1:{server.port}/0?ssl_cert_reqs=required", socket_timeout=2
    )
    with pytest.raises(redis.exceptions.ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        unverifiable.ping()  # the self-signed certificate is not in the system's CA store
    unverifiable.close()
    stack = make_stack(pg_url, server.url)
    assert str(app.conf.broker_url).startswith("rediss://")
    stack.load_catalog()
    stack.worker("tls", concurrency=1)

    outcome = round_trip(stack, "tls-1")
    print(
        f"\nfaults: redis-tls server=redis-server --tls-port round_trip={outcome['status']} "
        "plain=refused unverified=refused"
    )
    assert outcome["status"] == "succeeded", outcome


def _rediss_url_is_passed_to_kombu(tls: TlsFiles) -> None:
    import ssl

    url = f"rediss://:pw@127.0.0.1:6390/0?ssl_cert_reqs=required&ssl_ca_certs={tls.cert}"
    conf = celery_config(Settings(broker_url=url), QueueSettings())
    assert conf["broker_url"] == url
    with Connection(url, transport_options=conf["broker_transport_options"]) as connection:
        assert connection.transport_cls == "rediss"
        assert connection.ssl == {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": str(tls.cert)}
