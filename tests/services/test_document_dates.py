"""P1 on every posting the CONTRACT gives a `document_date` (confirm_order, post_packing_slip,
post_invoice, post_credit_note, post_pos_sale), on SQLite and PostgreSQL with the Norwegian
catalog: the journal carries the request's date, else today in the company's time zone; and
P3's delivery date on the invoice is the newest date of the packing slips it invoices, so a
back-dated packing slip gives the invoice its delivery date.

The dates are in 2025, far from any day these tests run on, so a date that silently fell back
to today could not pass for the requested one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from docpost.pipeline import clock
from docpost.pipeline.documents.snapshot import load_snapshot
from docpost.pipeline.queries import show_journal
from docpost.schema import Journal
from tests.conftest import Runner

# 23:30 UTC on 14 March is already 15 March in Oslo (UTC+1 before the summer time change).
LATE_EVENING_UTC = dt.datetime(2025, 3, 14, 23, 30, tzinfo=dt.UTC)
OSLO_DAY = "2025-03-15"


def order(run: Runner, number: str = "SO-1", **confirm: Any) -> None:
    """A cheese (15 %, code 31) and a knife (25 %, code 3), confirmed."""
    run.ok(
        "upsert_order",
        {
            "order": number,
            "customer": "NO-1001",
            "lines": [
                {"line": 1, "item": "OST-1", "quantity": "2", "unit_price": "189.00"},
                {"line": 2, "item": "KNIV-1", "quantity": "1", "unit_price": "249.00"},
            ],
        },
    )
    run.ok("confirm_order", {"order": number, **confirm})


def shown(run: Runner, number: str) -> dict[str, Any]:
    """`docpost show journal NUMBER --json`'s document."""
    with run.sessions() as session:
        return show_journal(session, number)


def date_of(run: Runner, number: str) -> str:
    return shown(run, number)["document_date"]


def pos_sale(run: Runner, **header: Any) -> dict[str, Any]:
    return run.ok(
        "post_pos_sale",
        {"lines": [{"item": "KNIV-1", "quantity": "1", "unit_price": "499.00"}], **header},
        actor="pos-1",
    )


# --- the request's date (P1) -------------------------------------------------------------------


def test_p1_every_kind_the_contract_lists_takes_the_requests_document_date(
    norway: Runner,
) -> None:
    """P1: confirm_order, post_packing_slip, post_invoice, post_credit_note and post_pos_sale
    (its packing slip and its invoice) each date their journal on the request's
    document_date, as `show journal --json` shows it; each a different day, so none can pass
    by borrowing another's."""
    order(norway, document_date="2025-01-02")
    slip = norway.ok("post_packing_slip", {"order": "SO-1", "document_date": "2025-01-03"})
    invoice = norway.ok("post_invoice", {"order": "SO-1", "document_date": "2025-01-06"})
    credit = norway.ok(
        "post_credit_note", {"invoice": invoice["journal"], "document_date": "2025-01-09"}
    )
    sale = pos_sale(norway, document_date="2025-01-13")

    with norway.sessions() as session:
        confirmation = session.scalars(
            select(Journal.number).where(Journal.kind == "confirmation")
        ).one()
    assert {
        "confirm_order": date_of(norway, confirmation),
        "post_packing_slip": date_of(norway, slip["journal"]),
        "post_invoice": date_of(norway, invoice["journal"]),
        "post_credit_note": date_of(norway, credit["journal"]),
        "post_pos_sale packing slip": date_of(norway, sale["packing_slip"]),
        "post_pos_sale invoice": date_of(norway, sale["journal"]),
    } == {
        "confirm_order": "2025-01-02",
        "post_packing_slip": "2025-01-03",
        "post_invoice": "2025-01-06",
        "post_credit_note": "2025-01-09",
        "post_pos_sale packing slip": "2025-01-13",
        "post_pos_sale invoice": "2025-01-13",
    }


def test_p1_a_back_dated_packing_slip_keeps_its_posting_date_apart(norway: Runner) -> None:
    """P1: the document date is the request's, while the posting date stays the day it was
    posted (negative control: the two differ, so the document date is not the posting date
    read under another name)."""
    order(norway)
    slip = shown(
        norway,
        norway.ok("post_packing_slip", {"order": "SO-1", "document_date": "2025-01-03"})["journal"],
    )
    assert slip["document_date"] == "2025-01-03"
    assert slip["posting_date"] != "2025-01-03"


# --- today in the company's time zone (P1) -------------------------------------------------------


@pytest.fixture
def late_evening(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock at 23:30 UTC on 14 March 2025: already the 15th in the company's Oslo."""
    monkeypatch.setattr(clock, "now", lambda: LATE_EVENING_UTC)


def test_p1_without_document_date_every_kind_is_dated_today_in_the_company_zone(
    norway: Runner, late_evening: None
) -> None:
    """P1: a request without document_date is dated today in the company's time zone (the
    Norwegian catalog's Europe/Oslo), not in UTC: at 23:30 UTC on 14 March every journal is
    dated 15 March (negative control: the UTC date is the 14th)."""
    assert LATE_EVENING_UTC.date().isoformat() != OSLO_DAY
    order(norway)
    slip = norway.ok("post_packing_slip", {"order": "SO-1"})
    invoice = norway.ok("post_invoice", {"order": "SO-1"})
    credit = norway.ok("post_credit_note", {"invoice": invoice["journal"]})
    sale = pos_sale(norway)
    with norway.sessions() as session:
        numbers = list(session.scalars(select(Journal.number).order_by(Journal.id)))
    assert slip["journal"] in numbers and credit["journal"] in numbers
    assert sale["packing_slip"] in numbers and sale["journal"] in numbers
    assert len(numbers) == 6  # confirmation, packing slip, invoice, credit note, POS slip + invoice
    assert {number: date_of(norway, number) for number in numbers} == dict.fromkeys(
        numbers, OSLO_DAY
    )


# --- cancel_packing_slip (not in the CONTRACT's list) ----------------------------------------


def test_p1_cancel_packing_slip_is_dated_today_in_the_company_zone(
    norway: Runner, late_evening: None
) -> None:
    """The CONTRACT gives cancel_packing_slip no document_date: the cancellation (S10) is
    dated the day it is posted, today in the company's time zone, even when the packing
    slip it cancels was back-dated (negative control: that one kept its own date)."""
    order(norway)
    slip = norway.ok("post_packing_slip", {"order": "SO-1", "document_date": "2025-01-03"})
    cancel = norway.ok("cancel_packing_slip", {"packing_slip": slip["journal"]})
    assert date_of(norway, slip["journal"]) == "2025-01-03"
    assert date_of(norway, cancel["journal"]) == OSLO_DAY


def test_p1_cancel_packing_slip_refuses_a_document_date(norway: Runner) -> None:
    """A document_date on cancel_packing_slip is not quietly dropped: the request is refused
    as malformed, naming the field, and nothing is canceled."""
    order(norway)
    slip = norway.ok("post_packing_slip", {"order": "SO-1"})
    error = norway.rejected(
        "cancel_packing_slip",
        {"packing_slip": slip["journal"], "document_date": "2025-01-03"},
    )
    assert "document_date" in error["message"]
    assert shown(norway, slip["journal"])["reversed_by"] is None


def test_p1_a_document_date_that_is_no_date_is_refused(norway: Runner) -> None:
    """A document_date on post_packing_slip must be an ISO date: '31.01.2025' is refused,
    naming the field, and no packing slip is posted."""
    order(norway)
    error = norway.rejected("post_packing_slip", {"order": "SO-1", "document_date": "31.01.2025"})
    assert "document_date" in error["message"]
    with norway.sessions() as session:
        assert session.scalars(select(Journal).where(Journal.kind == "packing_slip")).all() == []


# --- the invoice's delivery date (P3) ------------------------------------------------------------


def delivery_date(run: Runner, number: str) -> tuple[dt.date | None, tuple[str, ...]]:
    """The delivery date the invoice prints (P3) and the packing slips it names."""
    with run.sessions() as session:
        journal = session.scalars(select(Journal).where(Journal.number == number)).one()
        snapshot = load_snapshot(session, journal)
    return snapshot.delivery_date, snapshot.packing_slips


def test_p3_a_back_dated_packing_slip_gives_the_invoice_its_delivery_date(
    norway: Runner,
) -> None:
    """P3: the invoice's delivery date is its packing slip's document date, back-dated by the
    request (negative control: the invoice is dated later)."""
    order(norway)
    slip = norway.ok("post_packing_slip", {"order": "SO-1", "document_date": "2025-01-03"})
    invoice = norway.ok("post_invoice", {"order": "SO-1", "document_date": "2025-01-10"})
    assert date_of(norway, invoice["journal"]) == "2025-01-10"
    assert delivery_date(norway, invoice["journal"]) == (dt.date(2025, 1, 3), (slip["journal"],))


def test_p3_delivery_date_is_the_newest_of_the_invoiced_packing_slips(norway: Runner) -> None:
    """P3: an invoice of two packing slips delivered on different days takes the newer date,
    whichever was posted first (the newer one here is posted first)."""
    order(norway)
    knife = norway.ok(
        "post_packing_slip",
        {
            "order": "SO-1",
            "lines": [{"line": 2, "quantity": "1"}],
            "document_date": "2025-01-07",
        },
    )
    cheese = norway.ok(
        "post_packing_slip",
        {
            "order": "SO-1",
            "lines": [{"line": 1, "quantity": "2"}],
            "document_date": "2025-01-05",
        },
    )
    invoice = norway.ok("post_invoice", {"order": "SO-1", "document_date": "2025-01-10"})
    assert delivery_date(norway, invoice["journal"]) == (
        dt.date(2025, 1, 7),
        (knife["journal"], cheese["journal"]),
    )


def test_p3_a_back_dated_pos_sale_is_delivered_on_its_date(norway: Runner) -> None:
    """P1, P3: a POS sale's packing slip takes the sale's document_date too, so the receipt's
    delivery date is the sale's day, not the day it was posted."""
    sale = pos_sale(norway, document_date="2025-01-13")
    assert delivery_date(norway, sale["journal"]) == (
        dt.date(2025, 1, 13),
        (sale["packing_slip"],),
    )
