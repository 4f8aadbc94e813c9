"""The company comes from the catalog (issue 15, DOMAIN.md M6, P1, P3), on SQLite and PostgreSQL.

- P1/M6: "today" and a posting's date are in the catalog company's time zone (Europe/Oslo in
  the shipped Norwegian example), read by the unit of work on its session; without a company,
  in DOCPOST_COMPANY_TIME_ZONE as before.
- M6/P3: the documents' letterhead is the catalog's company, its organisation number with MVA,
  Foretaksregisteret, bank account, IBAN and BIC as printed; the customer's address in parts
  and its numbers (M7). A catalog without a company (USMF) still prints the settings' company.

Stood at 23:30 UTC on 30 November 2026, when it is already 1 December in Oslo (UTC+1).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from docpost.pipeline import clock
from docpost.pipeline.config import get_settings
from docpost.pipeline.documents import build_view, render_document
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import Document, Journal
from tests.conftest import Runner, norway_catalog
from tests.documents.pdfs import pdf_text, squash

MOMENT = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)
UTC_DATE, OSLO_DATE = dt.date(2026, 11, 30), dt.date(2026, 12, 1)


@pytest.fixture
def at_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock at MOMENT, the settings' zone UTC: a date is Oslo's only if the catalog's
    zone was used (the settings' fallback gives UTC_DATE)."""
    monkeypatch.setattr(clock, "now", lambda: MOMENT)
    monkeypatch.setattr(get_settings(), "company_time_zone", "UTC")


def confirm(run: Runner, order: str, customer: str, **currency: str) -> str:
    """A confirmed order of two knives; `currency` and `exchange_rate` (T7) when not NOK."""
    run.ok(
        "upsert_order",
        {
            "order": order,
            "customer": customer,
            **currency,
            "lines": [{"line": 1, "item": "KNIV-1", "quantity": "2", "unit_price": "249.00"}],
        },
    )
    journal: str = run.ok("confirm_order", {"order": order})["journal"]
    return journal


def posting_date(run: Runner, journal: str) -> dt.date:
    with run.sessions() as session:
        date = session.scalar(select(Journal.posting_date).where(Journal.number == journal))
    assert date is not None
    return date


def view_of(run: Runner, journal: str, locale: str = "nb_NO") -> Any:
    with run.sessions() as session:
        found = session.scalars(select(Journal).where(Journal.number == journal)).one()
        return build_view(session, found, locale)


# --- P1: dates in the company's time zone --------------------------------------------------------


def test_p1_m6_a_posting_is_dated_in_the_catalog_company_s_time_zone(
    norway: Runner, at_moment: None
) -> None:
    """At 23:30 UTC on 30 November it is 00:30 on 1 December in Oslo: the Norwegian company's
    confirmation is dated 1 December, though the settings' zone (UTC) says 30 November."""
    assert clock.company_today() == UTC_DATE  # the settings' fallback
    assert posting_date(norway, confirm(norway, "SO-NO-1", "NO-1001")) == OSLO_DATE


def test_b11_p1_revenue_release_knows_today_in_the_catalog_company_s_zone(
    norway: Runner, at_moment: None
) -> None:
    """recognize_revenue refuses an as_of after today (B11); today is Oslo's (1 December at
    23:30 UTC on 30 November), so 1 December is accepted and 2 December refused, though the
    settings' zone (UTC) would call 1 December the future."""
    norway.ok("recognize_revenue", {"as_of": OSLO_DATE.isoformat()})
    refused = norway("recognize_revenue", {"as_of": (OSLO_DATE + dt.timedelta(days=1)).isoformat()})
    assert refused["status"] == "rejected"
    assert refused["error"]["code"] == "revenue.as_of_in_future"


def usmf_confirm(run: Runner, order: str) -> str:
    """A confirmed USMF order (its catalog has no company)."""
    run.ok(
        "upsert_order",
        {
            "order": order,
            "customer": "US-004",
            "lines": [{"line": 1, "item": "M0001", "quantity": "1", "unit_price": "10.00"}],
        },
    )
    journal: str = run.ok("confirm_order", {"order": order})["journal"]
    return journal


def test_p1_without_a_company_the_settings_zone_dates_postings(
    usmf: Runner, at_moment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The negative control: USMF's catalog has no company, so the setting decides, as
    before: UTC gives 30 November, Europe/Oslo 1 December."""
    assert posting_date(usmf, usmf_confirm(usmf, "SO-U-1")) == UTC_DATE
    monkeypatch.setattr(get_settings(), "company_time_zone", "Europe/Oslo")
    assert posting_date(usmf, usmf_confirm(usmf, "SO-U-2")) == OSLO_DATE


def test_p1_m6_the_unit_of_work_reads_the_company_zone_once_inside_its_transaction(
    norway: Runner, at_moment: None
) -> None:
    """Made outside a transaction (as the runner makes it), the unit of work reads nothing
    until asked; then the company's zone, once; its posting date is fixed at first use."""
    with norway.sessions() as session:
        uow = UnitOfWork(session, "zone-1", "erp")
        assert not session.in_transaction()
        with uow:
            assert uow.company_zone == ZoneInfo("Europe/Oslo")
            assert (uow.today(), uow.posting_date) == (OSLO_DATE, OSLO_DATE)
            child = uow.for_request("zone-2", "erp")
            assert child.posting_date == OSLO_DATE


def test_p1_a_unit_of_work_without_a_company_has_no_zone_of_its_own(
    usmf: Runner, at_moment: None
) -> None:
    with usmf.sessions() as session, UnitOfWork(session, "zone-3", "erp") as uow:
        assert uow.company_zone is None
        assert uow.today() == UTC_DATE


def test_p1_the_zone_follows_a_reloaded_company(norway: Runner, at_moment: None) -> None:
    """A catalog that moves the company to New York (18:30 on 30 November there) dates the
    next posting so."""
    catalog = norway_catalog()
    catalog["company"]["time_zone"] = "America/New_York"
    norway.ok("upsert_catalog", catalog)
    assert posting_date(norway, confirm(norway, "SO-NO-2", "NO-1001")) == UTC_DATE


# --- M6/P3: the letterhead and the parties ------------------------------------------------------


def test_m6_p3_the_letterhead_is_the_catalog_s_company(norway: Runner) -> None:
    view = view_of(norway, confirm(norway, "SO-NO-3", "NO-1001"))
    assert view["company"] == {
        "name": "Fjellost og Stål AS",
        "address": ["Karl Johans gate 12", "0154 OSLO", "Norge"],
        "org_number": "NO 923 609 016 MVA",
        "foretaksregisteret": True,
        "bank_account": "1234.56.78903",
        "iban": "NO71 1234 5678 903",
        "bic": "DNBANOKKXXX",
    }
    assert "Contoso" not in json.dumps(view, default=str)


def test_m7_p3_a_domestic_customer_prints_its_address_in_parts_without_the_country(
    norway: Runner,
) -> None:
    view = view_of(norway, confirm(norway, "SO-NO-4", "NO-1001"))
    assert view["customer"] == {
        "customer": "NO-1001",
        "name": "Bergen Matsenter AS",
        "address": ["Strandkaien 2", "5013 BERGEN"],
        "org_number": "912 345 602",
    }


def test_m7_p3_a_foreign_customer_prints_its_country_and_vat_id(norway: Runner) -> None:
    view = view_of(
        norway, confirm(norway, "SO-SE-1", "SE-2001", currency="SEK", exchange_rate="0.98"), "en_US"
    )
    assert view["customer"]["address"] == ["Kungsportsavenyen 10", "411 36 GÖTEBORG", "Sweden"]
    assert (view["customer"]["org_number"], view["customer"]["vat_id"]) == (
        "5561234567",
        "SE556123456701",
    )
    assert view["company"]["address"][-1] == "Norway"  # the document's language


def test_m6_p3_a_company_not_vat_registered_prints_its_number_without_mva(norway: Runner) -> None:
    catalog = norway_catalog()
    catalog["company"].update(vat_registered=False, foretaksregisteret=False)
    norway.ok("upsert_catalog", catalog)
    company = view_of(norway, confirm(norway, "SO-NO-5", "NO-1002"))["company"]
    assert (company["org_number"], company["foretaksregisteret"]) == ("923 609 016", False)


def test_m6_a_catalog_without_a_company_prints_the_settings_company(
    usmf: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback (and negative control of the above): USMF has no company, so the
    DOCPOST_COMPANY_NAME/ADDRESS letterhead prints, and its customer's address as stored."""
    monkeypatch.setattr(get_settings(), "company_name", "Settings Company Inc")
    monkeypatch.setattr(get_settings(), "company_address", "1 Setting St\nRedmond")
    view = view_of(usmf, usmf_confirm(usmf, "SO-U-3"), "en_US")
    assert view["company"] == {"name": "Settings Company Inc", "address": "1 Setting St\nRedmond"}
    assert set(view["customer"]) == {"customer", "name", "address"}


# --- M6/P3 in the PDF -----------------------------------------------------------------------------


def invoice(run: Runner, order: str) -> str:
    confirm(run, order, "NO-1001")
    run.ok(
        "post_packing_slip",
        {"order": order, "lines": [{"line": 1, "item": "KNIV-1", "quantity": "2"}]},
        actor="warehouse-1",
    )
    number: str = run.ok("post_invoice", {"order": order})["journal"]
    return number


def rendered_text(run: Runner, journal: str, locale: str) -> str:
    with run.sessions() as session:
        document_id = session.scalars(
            select(Document.id)
            .join(Journal)
            .where(Journal.number == journal, Document.format == "pdf")
        ).one()
    render_document(run.sessions, document_id, locale)
    with run.sessions() as session:
        document = session.get(Document, document_id)
        assert document is not None and document.content is not None
        return pdf_text(document.content)


@pytest.mark.parametrize("locale", ["nb_NO", "en_US"])
def test_m6_p3_the_invoice_pdf_prints_the_norwegian_company(norway: Runner, locale: str) -> None:
    text = rendered_text(norway, invoice(norway, "SO-NO-6"), locale)
    flat = squash(text)
    for printed in ("Fjellost og Stål AS", "NO 923 609 016 MVA", "1234.56.78903", "0154 OSLO"):
        assert squash(printed) in flat, printed
    assert "Foretaksregisteret" in text
    assert "912 345 602" in text  # the buyer's organisation number (P3)
    assert "Contoso" not in text


def test_d6_a_rendered_invoice_keeps_the_company_it_was_rendered_with(norway: Runner) -> None:
    """A catalog renaming the company later does not change a stored PDF (D6); the next
    document prints the new name."""
    number = invoice(norway, "SO-NO-7")
    before = rendered_text(norway, number, "nb_NO")
    catalog = norway_catalog()
    catalog["company"]["name"] = "Nytt Navn AS"
    norway.ok("upsert_catalog", catalog)
    with norway.sessions() as session:
        [content] = session.scalars(
            select(Document.content)
            .join(Journal)
            .where(Journal.number == number, Document.format == "pdf")
        ).all()
    assert content is not None and pdf_text(content) == before
    assert "Fjellost og Stål AS" in before
    assert view_of(norway, confirm(norway, "SO-NO-8", "NO-1001"))["company"]["name"] == (
        "Nytt Navn AS"
    )
