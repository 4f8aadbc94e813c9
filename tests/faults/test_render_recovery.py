"""A render message the broker lost after it was published: only the recovery sweep brings it
back, and a test stack that waits for documents must run it (Stack.beat), or wait in vain.

tests/faults/test_server_restarts.py once waited 240 s for one such render: its stack sent
the outbox sweep only, and the outbox row of a published message is marked published, so the
relay never sends it again. The loss is made here on purpose: the renders are published (the
outbox relay marks them) and then deleted from the queue before any worker takes them.
"""

from __future__ import annotations

import re

import pytest

from docpost.tasks.relay import relay_outbox
from tests.faults.conftest import MakeStack
from tests.faults.harness import (
    FAULTS_REDIS_URL,
    document_statuses,
    pos_sale,
    send_sweep,
    wait_rendered,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_a_render_lost_after_publishing_comes_back_through_the_recovery_sweep_only(
    pg_url: str, make_stack: MakeStack
) -> None:
    stack = make_stack(pg_url, FAULTS_REDIS_URL, republish_after=1.0)
    stack.load_catalog()
    stack.load(pos_sale("lost-render-1", "LR-0001"))  # in this process: two pending PDFs
    assert relay_outbox(stack.sessions) == 2  # published and marked...
    assert stack.broker.waiting("documents") == 2
    stack.broker.client.delete(stack.broker.prefix + "documents")  # ...and lost
    stack.workers_ready("lost-render")

    # Negative control: the outbox sweep alone never brings them back, and the failure says
    # why (the rows, their outbox rows marked published, nothing in the broker).
    with pytest.raises(AssertionError) as failure:
        wait_rendered(stack.sessions, timeout=6.0, beat=send_sweep, explain=stack.explain_pending)
    explanation = str(failure.value)
    assert "documents still pending after 6.0 s: {'pending': 2}" in explanation
    assert explanation.count("request lost-render-1): attempts=0") == 2
    # The outbox believes both were sent: its rows are marked published.
    outbox_published = re.findall(r"outbox \d+ created=\S+ published=(\S+)", explanation)
    assert len(outbox_published) == 2 and "None" not in outbox_published
    assert "broker: waiting=0 unacked=0" in explanation
    assert "worker log tail:" in explanation
    assert stack.recovered == {}

    # With beat's recovery sweep (a republish delay of 1 s), both are rendered.
    rendered = wait_rendered(
        stack.sessions, timeout=120.0, beat=stack.beat, explain=stack.explain_pending
    )
    assert rendered == {"rendered": 2}
    # Each sent again at least once (again after each 1 s grace while its render runs).
    assert stack.recovered["documents"] >= 2 and stack.recovered["requests"] == 0
    assert document_statuses(stack.sessions) == {"rendered": 2}
