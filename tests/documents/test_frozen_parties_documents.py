"""D6 for the parties on paper (M6, M7, P3, P4), on SQLite and PostgreSQL: a document prints the
seller and the buyer its journal froze at posting, whenever it is rendered. An invoice still
pending when the catalog renames the company, moves its bank account and renames, moves and
re-languages the customer prints the company, bank account, customer, address and language
(Norwegian) as posted; so does a packing slip's later revision after a serial correction (S9).
Negative controls: journals posted after the change print the new ones. Journals posted before
the parties were frozen (NULL, migration 0010) print master data as it is when rendered, and a
journal posted without a catalog company the DOCPOST_COMPANY_* fallback, as it was posted.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select, update

from docpost.pipeline.config import get_settings
from docpost.pipeline.documents import render_document
from docpost.pipeline.documents.snapshot import load_company, load_snapshot
from docpost.pipeline.documents.store import view_and_locale
from docpost.schema import Document, Journal
from tests.conftest import Runner, norway_catalog
from tests.documents.pdfs import pdf_text, squash
from tests.services.test_frozen_parties import changed_catalog, sell

# What the Norwegian example prints, and what changed_catalog() makes of it.
OLD = (
    "Fjellost og Stål AS",
    "1234.56.78903",
    "Bergen Matsenter AS",
    "Strandkaien 2",
    "5013 BERGEN",
)
NEW = ("Nordlys Ysteri AS", "1503.21.12347", "Vestland Delikatesse AS", "Bryggen 7", "5003 BERGEN")


def _document_ids(run: Runner, number: str) -> list[int]:
    with run.sessions() as session:
        return list(
            session.scalars(
                select(Document.id)
                .join(Journal, Journal.id == Document.journal_id)
                .where(Journal.number == number, Document.format == "pdf")
                .order_by(Document.revision)
            )
        )


def _stored_text(run: Runner, document_id: int) -> str:
    """The document rendered and stored as the render task does (locale chosen there)."""
    render_document(run.sessions, document_id)
    with run.sessions() as session:
        document = session.get(Document, document_id)
        assert document is not None and document.status == "rendered", document
        return pdf_text(document.content or b"")


def _prints(text: str, expected: tuple[str, ...], absent: tuple[str, ...]) -> None:
    flat = squash(text)
    for value in expected:
        assert squash(value) in flat, f"{value!r} not printed in:\n{text}"
    for value in absent:
        assert squash(value) not in flat, f"{value!r} printed in:\n{text}"


def _invoice(run: Runner, order: str) -> str:
    sell(run, order)
    run.ok("post_packing_slip", {"order": order}, actor="warehouse-1")
    return run.ok("post_invoice", {"order": order})["journal"]


def test_d6_m6_m7_p4_pending_invoice_prints_the_parties_it_was_posted_with(norway: Runner) -> None:
    """D6/M6/M7/P3/P4: an invoice posted, then the catalog changed (company name and bank
    account, customer name, address and language), then rendered: the PDF shows the posted
    company, bank account, customer, address, in Norwegian ("Faktura", the language NO-1001
    had). Negative control: an invoice posted after the change prints the new ones, in
    English."""
    before = _invoice(norway, "SO-1")
    norway.ok("upsert_catalog", changed_catalog())
    after = _invoice(norway, "SO-2")

    [before_doc] = _document_ids(norway, before)
    [after_doc] = _document_ids(norway, after)
    before_text = _stored_text(norway, before_doc)
    after_text = _stored_text(norway, after_doc)
    _prints(before_text, (*OLD, "Faktura", "Merverdiavgift"), NEW)
    _prints(after_text, (*NEW, "Invoice"), OLD)
    assert "Faktura" not in after_text


def test_d6_snapshot_reads_the_frozen_parties_not_master_data(norway: Runner) -> None:
    """D6: the snapshot of a journal posted before the change carries the posted company and
    customer (name, address, language, bank account) while master data reads the new; the
    view is in the posted language (P4)."""
    number = _invoice(norway, "SO-1")
    norway.ok("upsert_catalog", changed_catalog())
    with norway.sessions() as session:
        journal = session.scalars(select(Journal).where(Journal.number == number)).one()
        snapshot = load_snapshot(session, journal)
        now = load_company(session)
        view, locale = view_and_locale(session, journal)
    assert snapshot.company is not None and now is not None
    assert (snapshot.company.name, snapshot.company.bank_account) == (
        "Fjellost og Stål AS",
        "12345678903",
    )
    assert (now.name, now.bank_account) == ("Nordlys Ysteri AS", "15032112347")
    assert snapshot.company.organisation_number == "923609016"
    assert snapshot.company.peppol_endpoint == "0192:923609016"
    assert (snapshot.customer_name, snapshot.customer_address) == (
        "Bergen Matsenter AS",
        "Strandkaien 2",
    )
    assert snapshot.customer_party is not None
    assert snapshot.customer_party.postcode == "5013"
    assert snapshot.customer_language == "nb_NO" and locale == "nb_NO"
    assert view["company"]["name"] == "Fjellost og Stål AS"
    assert view["company"]["bank_account"] == "1234.56.78903"
    assert view["customer"]["name"] == "Bergen Matsenter AS"


def _serialized(catalog: dict[str, Any]) -> dict[str, Any]:
    """The catalog with a serialized knife (S: serials scanned in the sales process)."""
    catalog = copy.deepcopy(catalog)
    catalog["tracking_groups"] = [
        {
            "code": "SN-SALES",
            "name": "Serials in sales process",
            "serial_active_in_sales_process": True,
            "serial_number_control": True,
            "blank_issue_allowed": False,
        }
    ]
    catalog["items"].append(
        {
            "item": "KNIV-S",
            "name": "Kokkekniv, nummerert",
            "unit": "ea",
            "base_sales_price": "899.00",
            "tax_code": "3",
            "tracking_group": "SN-SALES",
        }
    )
    return catalog


def _ship_serialized(run: Runner, order: str, serial: str) -> str:
    run.ok(
        "upsert_order",
        {
            "order": order,
            "customer": "NO-1001",
            "lines": [{"line": 1, "item": "KNIV-S", "quantity": "1", "unit_price": "899.00"}],
        },
    )
    run.ok("confirm_order", {"order": order})
    return run.ok(
        "post_packing_slip",
        {"order": order, "lines": [{"line": 1, "quantity": "1", "serials": [serial]}]},
        actor="warehouse-1",
    )["journal"]


def test_d6_s9_packing_slip_revision_after_a_correction_keeps_the_posted_parties(
    run: Runner,
) -> None:
    """D6/S9: a packing slip rendered (revision 1), the catalog changed, then a serial
    corrected: revision 2 prints the new serial but the company and the customer's name and
    delivery address as posted, in Norwegian; revision 1's stored bytes are untouched.
    Negative control: a packing slip posted after the change prints the new parties."""
    run.ok("upsert_catalog", _serialized(norway_catalog()))
    slip = _ship_serialized(run, "SO-1", "KS-1")
    [first] = _document_ids(run, slip)
    first_text = _stored_text(run, first)
    _prints(first_text, (OLD[0], *OLD[2:], "KS-1"), NEW)

    run.ok("upsert_catalog", _serialized(changed_catalog()))
    run.ok("change_serial", {"order": "SO-1", "line": 1, "old": "KS-1", "new": "KS-9"})
    later = _ship_serialized(run, "SO-2", "KS-2")

    first_again, second = _document_ids(run, slip)
    assert first_again == first
    second_text = _stored_text(run, second)
    _prints(second_text, (OLD[0], *OLD[2:], "KS-9"), (NEW[0], *NEW[2:]))
    with run.sessions() as session:
        stored = session.get(Document, first)
        assert stored is not None and pdf_text(stored.content or b"") == first_text
    [later_doc] = _document_ids(run, later)
    _prints(_stored_text(run, later_doc), (NEW[0], *NEW[2:], "KS-2"), (OLD[0], *OLD[2:]))


def test_d6_journal_posted_before_parties_were_frozen_reads_master_data(norway: Runner) -> None:
    """Migration 0010's fallback: a journal whose seller and buyer are NULL (posted before
    they were kept) prints the company and the customer as master data has them when it is
    rendered: after the change, the new ones in the customer's new language. Its twin with the
    parties frozen prints the posted ones (the control that the NULLs are what differs)."""
    legacy = _invoice(norway, "SO-1")
    frozen = _invoice(norway, "SO-2")
    with norway.sessions() as session, session.begin():
        session.execute(
            update(Journal).where(Journal.number == legacy).values(seller=None, buyer=None)
        )
    norway.ok("upsert_catalog", changed_catalog())
    [legacy_doc] = _document_ids(norway, legacy)
    [frozen_doc] = _document_ids(norway, frozen)
    _prints(_stored_text(norway, legacy_doc), (*NEW, "Invoice"), OLD)
    _prints(_stored_text(norway, frozen_doc), (*OLD, "Faktura"), NEW)


def test_d6_m6_journal_posted_without_a_company_keeps_the_settings_seller(usmf: Runner) -> None:
    """M6's fallback as posted: a USMF journal (no catalog company: seller frozen as {})
    still prints the DOCPOST_COMPANY_* company after a catalog gives a company; negative
    control: the same journal with its seller NULL (posted before 0010) prints the new one."""
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "S0021", "quantity": "1", "unit_price": "150.00"}],
        },
    )
    number = usmf.ok("confirm_order", {"order": "SO-1"})["journal"]
    usmf.ok("upsert_catalog", {"company": norway_catalog()["company"]})
    settings_name = get_settings().company_name
    with usmf.sessions() as session:
        journal = session.scalars(select(Journal).where(Journal.number == number)).one()
        frozen_view, _ = view_and_locale(session, journal)
        session.execute(update(Journal).where(Journal.id == journal.id).values(seller=None))
        session.expire_all()
        legacy_view, _ = view_and_locale(session, session.get(Journal, journal.id))
        session.rollback()
    assert frozen_view["company"]["name"] == settings_name
    assert legacy_view["company"]["name"] == "Fjellost og Stål AS"
