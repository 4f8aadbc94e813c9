"""Plain-text tables for the CLI's human output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(out)


def _serials(serials: Sequence[Any]) -> str:
    return ", ".join(
        ("not readable" if s is None else s)
        if not isinstance(s, dict)
        else f"{s['serial'] or 'not readable'} ({s['state']})"
        for s in serials
    )


def print_order(order: dict[str, Any]) -> None:
    print(
        f"Order {order['order']}  customer {order['customer']} {order['customer_name']}  "
        f"currency {order['currency']}  confirmed {order['confirmed_at'] or 'no'}"
    )
    print(
        table(
            [
                "line",
                "item",
                "qty",
                "unit_price",
                "disc%",
                "disc",
                "net_amount",
                "status",
                "bundle_parent",
                "bundle_net_amount",
                "delivered",
                "invoiced",
                "serials",
            ],
            [
                [
                    ln["line"],
                    ln["item"],
                    ln["quantity"],
                    ln["unit_price"],
                    ln["discount_percent"],
                    ln["discount_amount"],
                    ln["net_amount"],
                    ln["status"],
                    ln["bundle_parent"],
                    ln["bundle_net_amount"],
                    ln["delivered"],
                    ln["invoiced"],
                    _serials(ln["serials"]),
                ]
                for ln in order["lines"]
            ],
        )
    )


def print_journal(journal: dict[str, Any]) -> None:
    extra = ""
    if journal["reverses"]:
        extra += f"  reverses {journal['reverses']}"
    if journal["reversed_by"]:
        extra += f"  reversed by {journal['reversed_by']}"
    print(
        f"{journal['kind']} {journal['journal']}  order {journal['order']}  "
        f"customer {journal['customer']}  date {journal['posting_date']}{extra}"
    )
    print(
        table(
            ["pos", "line", "item", "qty", "unit_price", "amount", "bundle", "serials"],
            [
                [
                    ln["position"],
                    ln["line"],
                    ln["item"],
                    ln["quantity"],
                    ln["unit_price"],
                    ln["amount"],
                    f"{ln['bundle_item']} (line {ln['bundle_line']})" if ln["bundle_item"] else "",
                    _serials(ln["serials"]),
                ]
                for ln in journal["lines"]
            ],
        )
    )
    if journal["total_amount"] is not None:
        print(f"total {journal['total_amount']} {journal['currency']}")


def print_trace(found: dict[str, Any]) -> None:
    if not found["sales"]:
        print(f"serial {found['serial']!r} was never registered on a sale")
        return
    print(
        table(
            ["serial", "item", "customer", "order", "packing_slip", "invoice", "date", "credited"],
            [
                [
                    s["serial"],
                    s["item"],
                    f"{s['customer']} {s['customer_name']}",
                    s["order"],
                    s["packing_slip"],
                    s["invoice"],
                    s["date"],
                    "yes" if s["credited"] else "no",
                ]
                for s in found["sales"]
            ],
        )
    )


def print_ledger(ledger: dict[str, Any]) -> None:
    print(
        table(
            ["voucher", "journal", "date", "account", "debit", "credit", "text"],
            [
                [
                    e["voucher"],
                    e["journal"],
                    e["date"],
                    f"{e['account']} {e['account_name']}",
                    e["debit"],
                    e["credit"],
                    e["text"],
                ]
                for e in ledger["entries"]
            ],
        )
    )
    print()
    print("Trial balance")
    print(
        table(
            ["account", "name", "balance"],
            [[a["account"], a["name"], a["balance"]] for a in ledger["trial_balance"]["accounts"]],
        )
    )
    print(f"total {ledger['trial_balance']['total']}")


def print_schedule(schedule: dict[str, Any]) -> None:
    print(f"Revenue schedule of {schedule['invoice']}")
    print(
        table(
            [
                "line",
                "item",
                "schedule",
                "occurrence",
                "period",
                "amount",
                "credit_note",
                "released",
            ],
            [
                [
                    ln["line"],
                    ln["item"],
                    ln["schedule"],
                    ln["occurrence"],
                    ln["period"],
                    ln["amount"],
                    ln["credit_note"],
                    ln["released"],
                ]
                for ln in schedule["lines"]
            ],
        )
    )
    print(
        f"deferred {schedule['deferred']}  released {schedule['released']}  "
        f"remaining {schedule['remaining']}"
    )
