"""Plain-text tables for the CLI's human output, laid out by rich (issue 18: a kept library
instead of our own column arithmetic; rich also measures wide characters, e.g. CJK names, by
the cells a terminal gives them)."""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from docpost.pipeline.entrypoints.cli.credits import credit_text

if TYPE_CHECKING:
    from rich.text import Text

# A dashed rule under the header and above a footer, no other lines, ASCII only (a pipe or a
# file may not be UTF-8). rich's Box: 8 lines of 4 characters, top, head, head_row, mid, row,
# foot_row, foot, bottom; each left edge, horizontal, divider, right edge.
RULES = "    \n    \n -  \n    \n    \n -  \n    \n    \n"

# Wider than any table: rich then never wraps, shrinks or crops a column, whatever the
# terminal's width or $COLUMNS (the text goes to print(), to a terminal, a pipe or a file).
UNLIMITED = 1_000_000


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    right: Collection[int] = (),
    footer: Sequence[Any] | None = None,
) -> str:
    """Columns as wide as their widest cell, two spaces apart, the header over a dashed rule;
    the columns numbered in `right` (amounts) are right-aligned, so their decimal points line
    up. A `footer` row (totals) comes after a rule under the body. Every cell is text as it
    is: customer data such as "[bold]" or ":smile:" is neither markup nor emoji."""
    # rich is imported here, not with the module: `--json` never pays for it (~70 ms).
    from rich.box import Box
    from rich.console import Console
    from rich.table import Table

    shown = Table(
        box=Box(RULES, ascii=True),
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),  # with the blank divider: cells two spaces apart
        show_footer=footer is not None,
        header_style="",
        footer_style="",
    )
    for i, header in enumerate(headers):
        shown.add_column(
            _cell(header),
            footer=_cell(footer[i]) if footer is not None else "",
            justify="right" if i in right else "left",
            no_wrap=True,
        )
    for row in rows:
        shown.add_row(*(_cell(v) for v in row))
    # Rendered to a string, not to stdout: table() stays pure and the text goes out through
    # print(), a pipe's reader going away handled in one place (main: exit 141, no traceback).
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=UNLIMITED,
        color_system=None,
        force_terminal=False,
        no_color=True,
        markup=False,
        emoji=False,
        highlight=False,
        legacy_windows=False,
    )
    console.print(shown)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def _cell(value: Any) -> Text:
    """A cell as rich Text, which rich never parses for markup or emoji codes."""
    from rich.text import Text

    return Text("" if value is None else str(value))


def _serials(serials: Sequence[Any]) -> str:
    """Serials as the text output shows them: a blank registration as "not readable" (S11),
    from a bare list (None a blank) or from registrations (`not_readable`, `state` if any)."""
    return ", ".join(_registration_text(s) for s in serials)


def _registration_text(registration: Any) -> str:
    if not isinstance(registration, dict):
        return "not readable" if registration is None else str(registration)
    text = "not readable" if registration["not_readable"] else str(registration["serial"])
    return f"{text} ({registration['state']})" if "state" in registration else text


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
    if journal.get("credited"):  # an invoice's credit notes, partly or in full (cli.credits)
        extra += f"  {credit_text(journal)}"
    elif journal["reversed_by"]:
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
                    _serials(ln.get("registrations", ln["serials"])),
                ]
                for ln in journal["lines"]
            ],
        )
    )
    if journal["total_amount"] is not None:
        print(f"total {journal['total_amount']} {journal['currency']}")
    for document in journal["documents"]:
        if document.get("format") == "ubl":  # E1/E2: the e-invoice and its status
            print(f"e-invoice {document['filename']} (id {document['id']}): {_status(document)}")


def _status(document: dict[str, Any]) -> str:
    """An e-invoice's status; an invalid one's fatal rule ids, as `docpost documents`."""
    if document["status"] != "invalid":
        return str(document["status"])
    fatal = [f["rule"] for f in document.get("findings") or [] if f.get("flag") != "warning"]
    return f"invalid, fails {', '.join(fatal)}"


def print_trace(found: dict[str, Any]) -> None:
    if not found["sales"]:
        print(f"serial {found['serial']!r} was never registered on a sale")
        return
    print(
        table(
            [
                "serial",
                "item",
                "customer",
                "order",
                "packing_slip",
                "invoice",
                "date",
                "credited",
                "warranty_until",
                "valid",
            ],
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
                    s["warranty_until"],
                    _yes_no(s["warranty_valid"]),
                ]
                for s in found["sales"]
            ],
        )
    )
    print(warranty_line(found))


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


def warranty_line(found: dict[str, Any]) -> str:
    """S15 in words: the current sale's warranty on the day asked, and why it is not valid."""
    current = next((s for s in found["sales"] if s["current"]), None)
    if current is None:
        items = ", ".join(sorted({s["item"] for s in found["sales"]}))
        return f"warranty: the serial is on items {items}; give --item ITEM to judge its warranty"
    on, until = found["on"], current["warranty_until"]
    if current["warranty_valid"] is None:
        return f"warranty: none (item {current['item']} has no warranty period)"
    if until is None:
        return f"warranty on {on}: not valid, the unit is not delivered (packing slip canceled)"
    if current["warranty_valid"]:
        return f"warranty on {on}: valid, from {current['warranty_from']} until {until}"
    return f"warranty on {on}: not valid, {_why_not(current, on)}"


def _why_not(sale: dict[str, Any], on: str) -> str:
    until = sale["warranty_until"]
    if on > until:
        return f"it ran from {sale['warranty_from']} until {until}"
    if on < sale["warranty_from"]:
        return f"the unit was delivered on {sale['warranty_from']}; it runs until {until}"
    return f"the unit was credited ({sale['credit_note']}); it would have run until {until}"


def print_ledger(ledger: dict[str, Any]) -> None:
    """`docpost ledger`: the entries, the trial balance and the VAT summary per tax code, each
    headed by the period asked for. Amounts are right-aligned, as the JSON writes them."""
    period = _period_text(ledger.get("period") or {})
    print(f"Ledger entries{period}")
    if ledger["entries"]:
        _print_entries_and_balance(ledger, period)
    else:
        print("no entries in this period" if period else "no entries")
    print()
    _print_vat_summary(ledger, period)


def _print_entries_and_balance(ledger: dict[str, Any], period: str) -> None:
    print(
        table(
            ["voucher", "journal", "date", "account", "debit", "credit", "text"],
            [
                [
                    e["voucher"],
                    e["journal"],
                    e["date"],
                    f"{e['account']} {e['account_name']}".rstrip(),
                    e["debit"],
                    e["credit"],
                    e["text"],
                ]
                for e in ledger["entries"]
            ],
            right={4, 5},
        )
    )
    print()
    print(f"Trial balance{period}")
    print(
        table(
            ["account", "name", "balance"],
            [[a["account"], a["name"], a["balance"]] for a in ledger["trial_balance"]["accounts"]],
            right={2},
            footer=["total", "", ledger["trial_balance"]["total"]],
        )
    )


def _print_vat_summary(ledger: dict[str, Any], period: str) -> None:
    """L1: per SAF-T tax code its category, rate, base (taxable amount) and output VAT of the
    period's invoices less its credit notes, in the company currency, and their totals."""
    currency = f" ({ledger['currency']})" if ledger.get("currency") else ""
    print(f"VAT summary{period}{currency}")
    summary = ledger.get("vat_summary") or []
    if not summary:
        print("no VAT in this period" if period else "no VAT posted")
        return
    totals = ledger.get("vat_totals") or {}
    print(
        table(
            ["tax code", "category", "rate %", "base", "VAT"],
            [
                [v["tax_code"], v["category"], v["rate"], v["taxable_amount"], v["vat_amount"]]
                for v in summary
            ],
            right={2, 3, 4},
            footer=["total", "", "", totals.get("taxable_amount"), totals.get("vat_amount")],
        )
    )


def _period_text(period: dict[str, Any]) -> str:
    """' 2026-01-01 to 2026-01-31', ' from 2026-01-01', ' to 2026-01-31', or '' for all."""
    first, last = period.get("from"), period.get("to")
    if first and last:
        return f" {first} to {last}"
    if first:
        return f" from {first}"
    return f" to {last}" if last else ""


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
