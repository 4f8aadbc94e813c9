"""Request ids and their conflicts (CONTRACT.md `request_id`), one source each, without a
database: which id an outcome is filed under (runner.request_record.usable_request_id, used by
the runner's salvage of unparsed input and by the request task), the `request.conflict` error
(the runner's outcome and the HTTP service's 409), and the pause between looks at an outcome."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

import docpost.tasks.execute as request_task
from docpost.pipeline.contract import RequestId
from docpost.pipeline.entrypoints.http.routes_requests import _conflict
from docpost.pipeline.runner.request_record import (
    CONFLICT,
    FIRST_POLL_SECONDS,
    MAX_POLL_SECONDS,
    conflict,
    is_conflict,
    poll_intervals,
    salvage_envelope,
    usable_request_id,
)

CONTRACT_ID = TypeAdapter(RequestId)


def contract_accepts(request_id: str) -> bool:
    try:
        CONTRACT_ID.validate_python(request_id)
    except ValidationError:
        return False
    return True


@given(st.text(max_size=210) | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_an_id_is_usable_exactly_when_the_contract_accepts_it(request_id: str) -> None:
    """CONTRACT.md request_id: 1-200 printable (ASCII) characters. An outcome is filed under
    the body's own id exactly when the contract would have taken it."""
    usable = usable_request_id({"request_id": request_id}) == request_id
    assert usable == contract_accepts(request_id)


@pytest.mark.parametrize(
    "request_id",
    [
        "ø-1",  # printable, not ASCII: the request task's own copy used to take it
        "",
        "x" * 201,
        "tab\there",
        "nul\x00",
        "\udcff",  # a lone surrogate: no column can hold it
        42,
        None,
    ],
)
def test_an_id_the_contract_refuses_is_not_usable(request_id: Any) -> None:
    assert usable_request_id({"request_id": request_id}) is None


def test_a_body_that_is_no_object_has_no_usable_id() -> None:
    assert usable_request_id('{"request_id": "r-1"}') is None  # text, not yet loaded
    assert usable_request_id(["r-1"]) is None
    # Negative control: the same id in an object is usable, so the refusals above are the
    # body's shape, not the id.
    assert usable_request_id({"request_id": "r-1"}) == "r-1"


def test_the_request_task_and_the_runner_use_the_one_check() -> None:
    assert request_task.usable_request_id is usable_request_id
    raw = '{"request_id": "ø-1", "kind": "confirm_order", "actor": "erp", "payload": {}}'
    assert salvage_envelope(raw) == (None, "confirm_order", "erp")
    assert request_task.usable_request_id({"request_id": "ø-1"}) is None


def test_salvage_keeps_what_a_malformed_request_still_tells() -> None:
    raw = {"request_id": "r-9", "kind": "k" * 80, "actor": "a" * 150, "payload": "not an object"}
    assert salvage_envelope(raw) == ("r-9", "k" * 50, "a" * 100)
    assert salvage_envelope("{not json") == (None, "invalid", "")
    assert salvage_envelope({"kind": 7, "actor": None}) == (None, "invalid", "")


def test_the_conflict_error_is_written_once() -> None:
    """CONTRACT.md: the same request_id with a different body is rejected (request.conflict);
    the runner stores it, the HTTP service answers it as 409, with the same words."""
    error = conflict("ps-1").as_error()
    assert error == {
        "code": "request.conflict",
        "rule": None,
        "message": "request_id 'ps-1' was already used for a different request; "
        "use a new request_id for a new request",
        "details": {},
    }
    refused = _conflict("ps-1", 3)
    assert (refused.status, refused.code, refused.rule) == (409, CONFLICT, None)
    assert (refused.message, refused.details) == (error["message"], {"index": 3})


def test_is_conflict_tells_a_conflict_from_other_rejections() -> None:
    assert is_conflict(
        {"request_id": "ps-1", "status": "rejected", "error": conflict("ps-1").as_error()}
    )
    # Negative controls: another rejection, an outcome without an error.
    other = {"code": "request.invalid", "rule": None, "message": "m", "details": {}}
    assert not is_conflict({"request_id": "ps-1", "status": "rejected", "error": other})
    assert not is_conflict({"request_id": "ps-1", "status": "succeeded", "result": {}})


def test_polls_start_soon_grow_and_are_capped() -> None:
    pauses = list(itertools.islice(poll_intervals(), 30))
    assert pauses[0] == FIRST_POLL_SECONDS
    assert all(b == min(MAX_POLL_SECONDS, a * 1.5) for a, b in itertools.pairwise(pauses))
    assert pauses[-1] == MAX_POLL_SECONDS
    assert max(pauses) == MAX_POLL_SECONDS
