"""Example view models (the USMF example data) for tests, the benchmark and previews.

Preview every kind as PDF in a folder::

    python -m docpost.reports.samples OUT_DIR [--locale nb_NO]
"""

from __future__ import annotations

import argparse
import datetime
from decimal import Decimal
from pathlib import Path

from docpost.reports.viewmodel import DocumentView, Kind, LineView

COMPANY = {
    "name": "Contoso Entertainment System USA",
    "address": "1 Microsoft Way\nRedmond, WA 98052\nUnited States",
    "vat": "US-91-1144442",
}

CUSTOMER = {
    "customer": "US-004",
    "name": "Cave Wholesales",
    "address": "Attn. Accounts Payable\n123 Coffee Street, Suite 300\nRedmond, WA 98052",
}

_NUMBERS: dict[str, str] = {
    "confirmation": "CONF-000001",
    "packing_slip": "PS-000001",
    "invoice": "INV-000001",
    "credit_note": "CN-000001",
}


def _priced_lines() -> list[LineView]:
    # D1: the bundle parent with its components' serials under it (D5); blank = None.
    return [
        {
            "line": "1",
            "item": "LaptopBundle",
            "name": "Laptop bundle",
            "unit": "ea",
            "quantity": Decimal("3"),
            "unit_price": Decimal("2300.00"),
            "discount_percent": None,
            "discount_amount": None,
            "amount": Decimal("6900.00"),
            "serials": ["SP-0001", None, "SP-0003"],
            "is_bundle": True,
        },
        {
            "line": "2",
            "item": "M0001",
            "name": "Mobile phone",
            "unit": "ea",
            "quantity": Decimal("2"),
            "unit_price": Decimal("300.00"),
            "discount_percent": Decimal("10"),
            "discount_amount": None,
            "amount": Decimal("540.00"),
            "serials": ["IMEI-3569-0001", "IMEI-3569-0002"],
            "is_bundle": False,
        },
        {
            "line": "3",
            "item": "S0021",
            "name": "Docking station",
            "unit": "ea",
            "quantity": Decimal("1"),
            "unit_price": Decimal("150.00"),
            "discount_percent": None,
            "discount_amount": Decimal("15.00"),
            "amount": Decimal("135.00"),
            "serials": [],
            "is_bundle": False,
        },
    ]


def _component_lines() -> list[LineView]:
    # D2: the packing slip shows the bundle's components, never the parent.
    def line(no: str, item: str, name: str, qty: str, serials: list[str | None]) -> LineView:
        return {
            "line": no,
            "item": item,
            "name": name,
            "unit": "ea",
            "quantity": Decimal(qty),
            "unit_price": None,
            "discount_percent": None,
            "discount_amount": None,
            "amount": None,
            "serials": serials,
            "is_bundle": False,
        }

    return [
        line("1.1", "1000", "Surface Pro 128 GB", "3", ["SP-0001", None, "SP-0003"]),
        line("1.2", "Support", "Support, 12 months", "3", []),
        line("1.3", "S0021", "Docking station", "3", []),
        line("2", "M0001", "Mobile phone", "2", ["IMEI-3569-0001", "IMEI-3569-0002"]),
        line("3", "S0021", "Docking station", "1", []),
    ]


def sample_view(kind: Kind = "invoice", *, line_count: int | None = None) -> DocumentView:
    """A complete view model of ``kind``; ``line_count`` repeats lines for long documents."""
    lines = _component_lines() if kind == "packing_slip" else _priced_lines()
    if kind == "credit_note":
        # D3: a credit note lists the component lines it credits (B10), here one returned phone.
        lines = [
            {
                **_priced_lines()[1],
                "line": "2",
                "quantity": Decimal("1"),
                "amount": Decimal("270.00"),
                "serials": ["IMEI-3569-0002"],
            }
        ]
    if line_count is not None:
        lines = [
            {**lines[i % len(lines)], "line": str(i + 1)}  # type: ignore[misc]
            for i in range(line_count)
        ]
    references: list = {
        "confirmation": [],
        "packing_slip": [],
        "invoice": [{"label": "packing_slip", "value": "PS-000001"}],
        "credit_note": [{"label": "invoice", "value": "INV-000001"}],
    }[kind]
    notes = {
        "confirmation": ["Thank you for your order."],
        "packing_slip": [],
        "invoice": ["Payment terms: net 30 days. Please quote the invoice number with payment."],
        "credit_note": ["Credit note for INV-000001"],
    }[kind]
    totals = None
    if kind != "packing_slip":
        net = sum((line["amount"] or Decimal(0) for line in lines), Decimal(0))
        totals = {"net": net, "total": net}
    return {
        "kind": kind,
        "number": _NUMBERS[kind],
        "revision": 1,
        "date": datetime.date(2024, 3, 5),
        "currency": "USD",
        "company": dict(COMPANY),  # type: ignore[typeddict-item]
        "customer": dict(CUSTOMER),  # type: ignore[typeddict-item]
        "order": "SO-1001",
        "references": references,
        "lines": lines,
        "totals": totals,  # type: ignore[typeddict-item]
        "notes": notes,
    }


def main() -> None:
    from docpost.reports.render import render_pdf  # here, so importing samples stays light

    parser = argparse.ArgumentParser(description="Render every document kind as a PDF.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--locale", default="en_US")
    parser.add_argument("--lines", type=int, default=None, help="repeat lines to this count")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for kind in ("confirmation", "packing_slip", "invoice", "credit_note"):
        path = args.out_dir / f"{kind}-{args.locale}.pdf"
        path.write_bytes(render_pdf(sample_view(kind, line_count=args.lines), args.locale))
        print(path)


if __name__ == "__main__":
    main()
