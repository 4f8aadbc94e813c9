"""Sending messages: requests to `posting`/`bulk`, renders to `documents`.

Bodies go out as plain JSON (amounts as decimal strings, as the contract writes them), so a
consumer in any language reads what an upstream system would have sent.
"""

from __future__ import annotations

import json
from typing import Any

from docpost.tasks.app import app
from docpost.tasks.routing import EXECUTE_REQUEST, INVOICE_BATCH, RENDER_DOCUMENT, queue_for_request


def wire_body(body: str | dict[str, Any]) -> str | dict[str, Any]:
    """The body with Decimals as their text: kombu's JSON would otherwise send a typed
    object no other client understands. The request's fingerprint is unchanged (it is
    computed on the same decimal text)."""
    if isinstance(body, str):
        return body
    return json.loads(json.dumps(body, default=str))


def publish_request(body: str | dict[str, Any], *, fan_out: bool = False) -> None:
    """Publish one request; retries on broker connection errors (task_publish_retry_policy)
    and raises when the broker stays unreachable."""
    app.send_task(EXECUTE_REQUEST, args=[wire_body(body)], queue=queue_for_request(body, fan_out))


def publish_invoice_batch(bodies: list[dict[str, Any]]) -> None:
    """Bulk invoicing's invoice requests, to be invoiced together (on `bulk`)."""
    app.send_task(INVOICE_BATCH, args=[[wire_body(body) for body in bodies]])


def publish_render(document_id: int) -> None:
    app.send_task(RENDER_DOCUMENT, args=[int(document_id)])
