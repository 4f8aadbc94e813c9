"""Fuzzing: malformed and hostile requests end `rejected` with a specific message, and nothing
but their outcomes is written."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from docpost.pipeline.contract import PAYLOADS
from docpost.pipeline.runner.execute import execute
from docpost.schema import Base, RequestRecord
from tests.conftest import Runner

# Requests that are valid, each of which a mutation below turns hostile.
VALID = [
    {
        "kind": "post_packing_slip",
        "actor": "warehouse-1",
        "payload": {"order": "SO-F", "lines": [{"line": 1, "quantity": "1", "serials": ["F-1"]}]},
    },
    {"kind": "post_invoice", "actor": "erp", "payload": {"order": "SO-F"}},
    {
        "kind": "upsert_order",
        "actor": "erp",
        "payload": {
            "order": "SO-N",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "S0021", "quantity": "1", "unit_price": "150.00"}],
        },
    },
    {
        "kind": "post_pos_sale",
        "actor": "pos-1",
        "payload": {
            "lines": [{"item": "M0001", "quantity": "1", "unit_price": "299.00", "serial": "P-1"}]
        },
    },
    {
        "kind": "change_serial",
        "actor": "supervisor",
        "payload": {"order": "SO-F", "line": 1, "old": "X", "new": "Y"},
    },
]

# For each field, values that break its contract (so a request carrying one must be rejected).
DECIMAL_BREAKERS = [
    "-1",
    "abc",
    True,
    None,
    "1e400",
    "NaN",
    "Infinity",
    [1],
    {"a": 1},
    "9" * 60,
    "1.0000001",
    10**40,
    "",
    "\u0000",
]
CODE_BREAKERS = [None, 12345, "", "   ", "x" * 51, [1], True, {"a": "b"}, "\udcff"]
INVALID_BY_FIELD: dict[str, list[Any]] = {
    "quantity": DECIMAL_BREAKERS,
    "unit_price": DECIMAL_BREAKERS,
    "order": CODE_BREAKERS,
    "item": CODE_BREAKERS,
    "customer": CODE_BREAKERS,
    "line": [0, -1, "x", 1.5, True, None, 10**12, [1]],
    "serials": ["not a list", [1, 2], [None], ["x" * 101], True, {"a": 1}],
    "old": [5, True, ["a"], "x" * 101, {"a": 1}],
    "new": [5, True, ["a"], "x" * 101, {"a": 1}],
    "serial": [5, True, "x" * 101, ["a"]],
    "scans": [[{"value": "a", "mode": "sideways"}], "x", [1], [{"value": 5, "mode": "add"}]],
    "scan_stream": [5, True, "x" * 1_000_001, ["a"]],
    "not_readable": [-1, "x", 1.5, 10**9, [1]],
    "lines": ["x", [1], 5, {"a": 1}, [None]],
}

HOSTILE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.text(min_size=5000, max_size=20000),
    st.sampled_from(
        [
            "-1",
            "0",
            "1e400",
            "NaN",
            "Infinity",
            "1.0000001",
            "9" * 60,
            "\u0000",
            "🦄",
            "<script>alert(1)</script>",
            "'; DROP TABLE journals; --",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)

FIELDS = list(INVALID_BY_FIELD)


def _set_somewhere(node: Any, key: str, value: Any) -> bool:
    if isinstance(node, dict):
        if key in node:
            node[key] = value
            return True
        return any(_set_somewhere(v, key, value) for v in node.values())
    if isinstance(node, list):
        return any(_set_somewhere(v, key, value) for v in node)
    return False


# Each mutation makes one kind of hostile body from a valid request (`base`, a fresh copy):
# it changes `base` in place, or returns the raw body itself.
Mutation = Callable[[st.DrawFn, dict[str, Any]], str | bytes | None]


def _not_json(draw: st.DrawFn, base: dict[str, Any]) -> str | bytes:
    return draw(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda t: "{" + t)))


def _not_object(draw: st.DrawFn, base: dict[str, Any]) -> str:
    return json.dumps(
        draw(st.one_of(st.lists(st.integers(), max_size=3), st.text(), st.integers(), st.none()))
    )


def _drop_envelope_field(draw: st.DrawFn, base: dict[str, Any]) -> None:
    del base[draw(st.sampled_from(["request_id", "kind", "actor", "payload"]))]


def _bad_envelope_type(draw: st.DrawFn, base: dict[str, Any]) -> None:
    base[draw(st.sampled_from(["kind", "actor", "payload"]))] = draw(
        st.one_of(st.integers(), st.lists(st.integers(), max_size=2), st.none())
    )


def _unknown_kind(draw: st.DrawFn, base: dict[str, Any]) -> None:
    base["kind"] = draw(st.text(max_size=40).filter(lambda k: k not in PAYLOADS))


def _bad_field(draw: st.DrawFn, base: dict[str, Any]) -> None:
    field = draw(st.sampled_from(FIELDS))
    value = draw(st.sampled_from(INVALID_BY_FIELD[field]))
    if not _set_somewhere(base["payload"], field, value):
        base["payload"]["order"] = draw(st.sampled_from(CODE_BREAKERS))


KNOWN_PAYLOAD_FIELDS = frozenset(
    [
        *FIELDS,
        "invoice",
        "store",
        "currency",
        "packing_slips",
        "remove_lines",
        "discount_percent",
        "discount_amount",
        "site",
        "warehouse",
    ]
)


def _extra_field(draw: st.DrawFn, base: dict[str, Any]) -> None:
    name = draw(st.text(min_size=1, max_size=20).filter(lambda k: k not in KNOWN_PAYLOAD_FIELDS))
    base["payload"][name] = draw(HOSTILE_VALUES)


def _negative_quantity(draw: st.DrawFn, base: dict[str, Any]) -> None:
    _set_somewhere(base["payload"], "quantity", draw(st.sampled_from(["-1", "-0.5", -3, "0"])))
    _set_somewhere(base["payload"], "line", -1)


def _enormous_quantity(draw: st.DrawFn, base: dict[str, Any]) -> None:
    _set_somewhere(
        base["payload"],
        "quantity",
        draw(st.sampled_from(["1e30", "123456789012345678901234567890", 10**40])),
    )
    _set_somewhere(base["payload"], "line", 10**12)


def _many_serials(draw: st.DrawFn, base: dict[str, Any]) -> str:
    body = json.loads(json.dumps(VALID[0]))
    body["request_id"] = "__ID__"
    body["payload"]["lines"][0]["serials"] = [f"N-{i}" for i in range(10_000)]
    return json.dumps(body)


def _unknown_actor(draw: st.DrawFn, base: dict[str, Any]) -> None:
    base["actor"] = draw(
        st.text(min_size=1, max_size=50).filter(
            lambda a: a.strip() and a not in {"erp", "warehouse-1", "supervisor", "pos-1"}
        )
    )


def _huge_request_id(draw: st.DrawFn, base: dict[str, Any]) -> None:
    base["request_id"] = "x" * draw(st.integers(min_value=201, max_value=100_000))


def _bad_request_id(draw: st.DrawFn, base: dict[str, Any]) -> None:
    base["request_id"] = draw(
        st.one_of(
            st.just(""),
            st.integers(),
            st.text(alphabet="\n\t\u00e9\u4e2d", min_size=1, max_size=10),
        )
    )


MUTATIONS: dict[str, Mutation] = {
    "not_json": _not_json,
    "not_object": _not_object,
    "drop_envelope_field": _drop_envelope_field,
    "bad_envelope_type": _bad_envelope_type,
    "unknown_kind": _unknown_kind,
    "bad_field": _bad_field,
    "extra_field": _extra_field,
    "negative_quantity": _negative_quantity,
    "enormous_quantity": _enormous_quantity,
    "many_serials": _many_serials,
    "unknown_actor": _unknown_actor,
    "huge_request_id": _huge_request_id,
    "bad_request_id": _bad_request_id,
}


@st.composite
def hostile_requests(draw: st.DrawFn) -> tuple[str, str | bytes]:
    """(how it was made hostile, the raw body)."""
    base = json.loads(json.dumps(draw(st.sampled_from(VALID))))
    base["request_id"] = "__ID__"  # replaced by a fresh id per example (shrinking repeats draws)
    mutation = draw(st.sampled_from(list(MUTATIONS)))
    raw = MUTATIONS[mutation](draw, base)
    return mutation, json.dumps(base) if raw is None else raw


def written_rows(run: Runner) -> dict[str, int]:
    with run.sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
            if table.name != "requests"
        }


@pytest.fixture
def fuzz_target(usmf: Runner) -> Runner:
    """An order with a serialized line to aim at (SO-F), so rule checks run deep."""
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-F",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "1000", "quantity": "2", "unit_price": "1900.00"}],
        },
    )
    return usmf


def test_fuzz_every_hostile_request_is_rejected_specifically_and_writes_only_its_outcome(
    fuzz_target: Runner, request: pytest.FixtureRequest
) -> None:
    run = fuzz_target
    before = written_rows(run)
    seen: dict[str, int] = {}
    ids = itertools.count(1)
    examples = 1000 if "sqlite" in request.node.name else 250

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )
    @given(hostile_requests())
    def check(case: tuple[str, str | bytes]) -> None:
        mutation, body = case
        if isinstance(body, str):
            body = body.replace("__ID__", f"fuzz-{next(ids)}")
        outcome = execute(body, run.sessions)
        assert outcome["status"] == "rejected", (mutation, body[:300], outcome)
        error = outcome["error"]
        assert error["code"] and "." in error["code"], outcome
        assert len(error["message"]) > 15, outcome
        with run.sessions() as session:
            stored = session.get(RequestRecord, outcome["request_id"])
            assert stored is not None and stored.status == "rejected"
        seen[mutation] = seen.get(mutation, 0) + 1

    check()
    assert written_rows(run) == before
    print(f"\nfuzz: {sum(seen.values())} hostile requests, all rejected; by kind: {seen}")
    assert sum(seen.values()) >= examples
