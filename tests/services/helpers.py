"""Small builders for service tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from docpost.schema import Journal, LedgerEntry, RequestRecord, SerialRegistration
from tests.conftest import Runner


def order(
    run: Runner, number: str, *lines: tuple[str, str, str], confirm: bool = False, **extra: Any
) -> None:
    """An order for US-004 with (item, quantity, unit price) lines numbered from 1."""
    run.ok(
        "upsert_order",
        {
            "order": number,
            "customer": "US-004",
            "lines": [
                {"line": n, "item": item, "quantity": qty, "unit_price": price, **extra}
                for n, (item, qty, price) in enumerate(lines, start=1)
            ],
        },
    )
    if confirm:
        run.ok("confirm_order", {"order": number})


def ship(run: Runner, number: str, *lines: dict[str, Any], actor: str = "warehouse-1") -> str:
    payload: dict[str, Any] = {"order": number}
    if lines:
        payload["lines"] = list(lines)
    return run.ok("post_packing_slip", payload, actor=actor)["journal"]


def counts(run: Runner) -> dict[str, int]:
    """Rows a rejected request must not have added to."""
    with run.sessions() as session:
        return {
            "journals": session.scalar(select(func.count()).select_from(Journal)) or 0,
            "ledger": session.scalar(select(func.count()).select_from(LedgerEntry)) or 0,
            "serials": session.scalar(select(func.count()).select_from(SerialRegistration)) or 0,
            "requests": session.scalar(select(func.count()).select_from(RequestRecord)) or 0,
        }


def unchanged_but_outcome(before: dict[str, int], after: dict[str, int]) -> bool:
    return after == {**before, "requests": before["requests"] + 1}


def request_body(request_id: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A request as erp sends it."""
    return {"request_id": request_id, "kind": kind, "actor": "erp", "payload": payload}


BUNDLE_LINE = {"line": 1, "item": "LaptopBundle", "quantity": "1", "unit_price": "2300.00"}


def bundle_order_chain(order: str, tag: str | None = None) -> list[dict[str, Any]]:
    """One bundle order built step by step (upsert, confirm, packing slip with a serial,
    invoice), request ids `<tag>-1` .. `<tag>-4` (tag: the order): its packing slip breaks B2
    (order.not_confirmed) if it runs before the confirmation has committed."""
    tag = tag or order
    shipped = [
        {"line": 1, "item": "1000", "quantity": "1", "serials": [f"SN-{order}"]},
        {"line": 1, "item": "Support", "quantity": "1"},
        {"line": 1, "item": "S0021", "quantity": "1"},
    ]
    return [
        request_body(f"{tag}-1", "upsert_order", {"order": order, "customer": "US-004", "lines": [BUNDLE_LINE]}),
        request_body(f"{tag}-2", "confirm_order", {"order": order}),
        request_body(f"{tag}-3", "post_packing_slip", {"order": order, "lines": shipped}),
        request_body(f"{tag}-4", "post_invoice", {"order": order}),
    ]  # fmt: skip
