"""`docpost actor-key`, what is stored of a key, and the duty table the service checks up
front agreeing with the pipeline's own checks (no server needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from docpost.pipeline.contract import PAYLOADS
from docpost.pipeline.entrypoints.cli.serve import main
from docpost.pipeline.entrypoints.http.auth import Caller, caller_for_key, key_digest
from docpost.pipeline.runner.kinds import needs_of
from docpost.schema import ApiKey
from tests.conftest import Runner, usmf_catalog


def test_actor_key_prints_a_key_once_and_stores_only_its_hash(
    usmf_sqlite: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["actor-key", "warehouse-1", "--json"]) == 0
    key = json.loads(capsys.readouterr().out)["key"]
    assert main(["actor-key", "warehouse-1"]) == 0
    second = capsys.readouterr().out.strip()

    assert key.startswith("dpk_") and len(key) == 47
    assert second != key
    with usmf_sqlite() as session:
        rows = session.scalars(select(ApiKey).order_by(ApiKey.id)).all()
        caller = caller_for_key(session, key)
    assert [r.actor for r in rows] == ["warehouse-1", "warehouse-1"]
    assert rows[0].key_sha256 == key_digest(key)
    assert all(key not in (r.key_sha256, r.prefix) for r in rows)
    assert caller is not None and caller.actor == "warehouse-1"
    assert caller.duties == {"post_sales_documents", "register_non_readable_serials"}


def test_actor_key_for_an_unknown_actor_fails(
    usmf_sqlite: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["actor-key", "ghost"]) == 1
    assert "actor 'ghost' does not exist; load it with the catalog first" in capsys.readouterr().err


# One request per kind, each valid by the contract; the duty check comes first in each service.
SAMPLES: dict[str, dict[str, Any]] = {
    "upsert_catalog": {},
    "upsert_order": {"order": "SO-X", "customer": "NOPE"},
    "confirm_order": {"order": "SO-X"},
    "post_packing_slip": {"order": "SO-X"},
    "post_invoice": {"order": "SO-X"},
    "post_credit_note": {"invoice": "INV-X"},
    "cancel_packing_slip": {"packing_slip": "PS-X"},
    "change_serial": {"order": "SO-X", "line": 1, "old": None, "new": "SN"},
    "post_pos_sale": {"lines": [{"item": "X", "quantity": "1", "unit_price": "1"}]},
    "bulk_invoice": {},
    "recognize_revenue": {"as_of": "2026-01-01"},
}


def test_every_kind_of_the_contract_is_classified() -> None:
    assert set(SAMPLES) == set(PAYLOADS)


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        *sorted(SAMPLES.items()),
        ("upsert_catalog", {"actors": [{"actor": "clerk", "duties": []}]}),
        (
            "upsert_catalog",
            {"actors": [{"actor": "x"}], "customers": [{"customer": "US-004", "name": "Cave"}]},
        ),
    ],
)
def test_the_service_duty_table_matches_the_pipeline(
    run: Runner, kind: str, payload: dict[str, Any]
) -> None:
    """An actor without duties: the pipeline refuses every kind (M5) with the duty the
    service refuses it with up front, both read from pipeline.duties; an actor holding just
    those duties gets past the check in both."""
    run.ok("upsert_catalog", usmf_catalog(), actor="erp")
    run.ok("upsert_catalog", {"actors": [{"actor": "clerk", "duties": []}]})
    command = PAYLOADS[kind].model_validate(payload)
    need = Caller("clerk", frozenset()).missing(kind, command)
    assert need is not None
    outcome = run(kind, payload, actor="clerk")
    assert outcome["error"]["code"] == "actor.missing_duty", outcome
    assert outcome["error"]["details"] == {"duty": need.duty}

    duties = [n.duty for n in needs_of(kind, command)]
    run.ok("upsert_catalog", {"actors": [{"actor": "clerk", "duties": duties}]})
    assert Caller("clerk", frozenset(duties)).missing(kind, command) is None
    outcome = run(kind, payload, actor="clerk")
    assert (outcome.get("error") or {}).get("code") != "actor.missing_duty", outcome
