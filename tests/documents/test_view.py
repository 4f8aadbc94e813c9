"""The pure view builder (pipeline.documents.view): no database, no PDF."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

import pytest

from docpost.pipeline.documents.snapshot import JournalSnapshot, LineSnapshot
from docpost.pipeline.documents.view import NOTES, UnprintableJournal, document_view
from docpost.reports.labels import SUPPORTED_LOCALES

COMPANY = {"name": "Contoso", "address": "1 Main St"}


def _line(line_no: int, item: str, quantity: str, amount: str | None, **kw: Any) -> LineSnapshot:
    fields: dict[str, Any] = {
        "position": line_no,
        "line_no": line_no,
        "item_code": item,
        "item_name": item.lower(),
        "unit": "ea",
        "quantity": Decimal(quantity),
        "unit_price": None if amount is None else Decimal(amount) / Decimal(quantity),
        "discount_percent": Decimal("0.00") if amount is not None else None,
        "discount_amount": Decimal("0.00") if amount is not None else None,
        "amount": None if amount is None else Decimal(amount),
        "bundle_line_no": None,
        "bundle_item_code": None,
        "bundle_item_name": None,
        "bom_quantity": None,
        "is_bundle_parent": False,
        "serials": (),
    }
    fields.update(kw)
    return LineSnapshot(**fields)


def _component(line_no: int, item: str, quantity: str, amount: str, bom: str, **kw: Any):
    return _line(
        line_no,
        item,
        quantity,
        amount,
        bundle_line_no=1,
        bundle_item_code="KIT",
        bundle_item_name="Starter kit",
        bom_quantity=Decimal(bom),
        **kw,
    )


def _journal(kind: str, lines: list[LineSnapshot], total: str | None, **kw: Any):
    fields: dict[str, Any] = {
        "kind": kind,
        "number": "X-000001",
        "revision": 1,
        "posting_date": datetime.date(2024, 3, 5),
        "currency": "USD",
        "order_no": "SO-1",
        "customer_code": "C-1",
        "customer_name": "Customer",
        "customer_address": "",
        "total_amount": None if total is None else Decimal(total),
        "reverses": None,
        "packing_slips": (),
        "bundle_units": {"KIT": "set"},
        "bundle_prices": {},
        "lines": tuple(lines),
    }
    fields.update(kw)
    return JournalSnapshot(**fields)


KIT = [
    _component(2, "A", "6", "60.00", "2", serials=("A-1", None)),
    _component(3, "B", "3", "40.01", "1", serials=("B-1",)),
]


def test_d1_invoice_bundle_count_amount_and_rounded_unit_price() -> None:
    view = document_view(_journal("invoice", KIT, "100.01"), COMPANY, "en_US")
    [bundle] = view["lines"]
    assert bundle == {
        "line": "1",
        "item": "KIT",
        "name": "Starter kit",
        "unit": "set",
        "quantity": Decimal("3"),  # 6 / 2 and 3 / 1
        "unit_price": Decimal("33.34"),  # 100.01 / 3, to the cent
        "discount_percent": None,
        "discount_amount": None,
        "amount": Decimal("100.01"),
        "serials": ["A-1", None, "B-1"],  # D5: every component's serials, blanks kept
        "is_bundle": True,
    }
    assert view["totals"] == {"net": Decimal("100.01"), "total": Decimal("100.01")}


def test_d1_invoice_bundle_prints_the_parents_price_and_discount_as_the_confirmation() -> None:
    prices = {1: (Decimal("35.00"), Decimal("5.00"), Decimal("0.00"))}
    view = document_view(_journal("invoice", KIT, "100.01", bundle_prices=prices), COMPANY, "en_US")
    [bundle] = view["lines"]
    assert (bundle["unit_price"], bundle["discount_percent"], bundle["discount_amount"]) == (
        Decimal("35.00"),
        Decimal("5.00"),
        None,
    )
    assert bundle["amount"] == Decimal("100.01")


def test_d1_d2_lines_print_in_order_line_order_components_at_their_bundle() -> None:
    """Journals keep the order a request named the lines in; documents follow the order."""
    lines = [_line(5, "P", "1", "1.00"), KIT[1], _line(0, "Q", "1", "2.00"), KIT[0]]
    view = document_view(_journal("invoice", lines, "103.01"), COMPANY, "en_US")
    assert [ln["line"] for ln in view["lines"]] == ["0", "1", "5"]
    assert view["lines"][1]["serials"] == ["A-1", None, "B-1"]  # component order kept
    unpriced = [dataclasses.replace(ln, unit_price=None, amount=None) for ln in lines]
    slip = document_view(_journal("packing_slip", unpriced, None), COMPANY, "en_US")
    assert [ln["line"] for ln in slip["lines"]] == ["0", "2", "3", "5"]


def test_b7_components_for_different_bundle_counts_are_not_printed() -> None:
    broken = [KIT[0], dataclasses.replace(KIT[1], quantity=Decimal("2"))]
    with pytest.raises(UnprintableJournal, match="B7"):
        document_view(_journal("invoice", broken, "100.01"), COMPANY, "en_US")


def test_d4_lines_not_adding_up_to_the_journal_total_are_not_printed() -> None:
    with pytest.raises(UnprintableJournal, match="D4"):
        document_view(_journal("invoice", KIT, "100.00"), COMPANY, "en_US")


def test_d3_credit_note_keeps_the_component_lines() -> None:
    view = document_view(
        _journal("credit_note", KIT, "100.01", reverses="INV-000007"), COMPANY, "nb_NO"
    )
    assert [ln["item"] for ln in view["lines"]] == ["A", "B"]
    assert not any(ln["is_bundle"] for ln in view["lines"])
    assert view["references"] == [{"label": "invoice", "value": "INV-000007"}]
    assert view["notes"] == ["Kreditering av faktura INV-000007."]


def test_d2_packing_slip_has_no_prices_and_zero_discounts_print_as_none() -> None:
    lines = [dataclasses.replace(c, unit_price=None, amount=None) for c in KIT]
    view = document_view(_journal("packing_slip", lines, None), COMPANY, "en_US")
    assert view["totals"] is None
    assert all("amount" not in ln and "unit_price" not in ln for ln in view["lines"])
    assert [ln["quantity"] for ln in view["lines"]] == [Decimal("6"), Decimal("3")]
    confirmation = document_view(
        _journal("confirmation", [_line(1, "P", "2", "10.00")], "10.00"), COMPANY, "en_US"
    )
    assert confirmation["lines"][0]["discount_percent"] is None


def test_every_locale_has_the_same_note_sentences() -> None:
    assert set(NOTES) == set(SUPPORTED_LOCALES)
    keys = {locale: set(phrases) for locale, phrases in NOTES.items()}
    assert all(k == keys["en_US"] for k in keys.values())
