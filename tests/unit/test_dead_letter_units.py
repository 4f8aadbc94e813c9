"""docpost.tasks.dead_letters' pieces without a worker or a database: the reasons it writes and
queue items that are not envelopes. A dead letter that cannot be stored (the database is down)
is put back: tests/queue/test_dead_letter_storage.py."""

from __future__ import annotations

import base64
import json

import pytest
from kombu.exceptions import DecodeError

from docpost.tasks.dead_letters import REASON_HEADER, envelope_of, reason_of


def test_reason_names_the_parsers_error_not_kombus_wrapper() -> None:
    wrapped = DecodeError(ValueError("Exceeds the limit (4300 digits) for integer string"))
    assert reason_of("the body could not be decoded", wrapped) == (
        "the body could not be decoded: ValueError: Exceeds the limit (4300 digits) for "
        "integer string"
    )
    assert reason_of("x", None) == "x"


def test_a_kombu_envelope_passes_unchanged() -> None:
    envelope = {"body": "e30=", "properties": {"delivery_tag": "t", "body_encoding": "base64"}}
    assert envelope_of(json.dumps(envelope).encode(), "posting") == envelope


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (b"\xff\xfe garbage", "not a message envelope (not JSON: JSONDecodeError: Expecting"),
        (b"[" * 50_000, "not a message envelope (not JSON: RecursionError"),
        (b'{"properties": []}', "not a message envelope (no properties with a delivery tag)"),
        (b"17", "not a message envelope (no properties with a delivery tag)"),
    ],
    ids=["bytes", "deep", "no-tag", "number"],
)
def test_a_queue_item_that_is_no_envelope_becomes_a_stand_in_holding_it(
    item: bytes, reason: str
) -> None:
    stand_in = envelope_of(item, "documents")
    assert base64.b64decode(stand_in["body"]) == item
    assert stand_in["headers"][REASON_HEADER].startswith(reason)
    assert stand_in["properties"]["delivery_info"] == {"exchange": "", "routing_key": "documents"}
    assert stand_in["content-type"] == "application/x-docpost-not-an-envelope"


def test_a_grace_period_of_zero_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """DOCPOST_REPUBLISH_AFTER=0 would send every queued request again on every sweep."""
    from pydantic import ValidationError

    from docpost.tasks.config import QueueSettings

    monkeypatch.setenv("DOCPOST_REPUBLISH_AFTER", "0")
    with pytest.raises(ValidationError, match="republish_after\n  Input should be greater than 0"):
        QueueSettings()
