"""E-invoices stored and served like PDFs (DOMAIN.md E1, E2, D6; CONTRACT DOCPOST_EINVOICE_RULES).

A posted invoice or credit note of a seller with a Peppol endpoint gets a pending e-invoice row
beside its PDF in the posting's transaction, named in the outcome; the render task makes its
UBL, checks it with the official rules when DOCPOST_EINVOICE_RULES is set and stores it with
its sha256 (`invalid`, with the findings, on a fatal one); `docpost documents`, `download`,
the HTTP service and `export_documents` serve it. SQLite and PostgreSQL (the db fixtures).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

import docpost.pipeline.documents.einvoice_render as einvoice_render
import docpost.reports.render
from docpost.pipeline.config import ConfigurationError, get_settings
from docpost.pipeline.db import engine_for
from docpost.pipeline.documents import export_documents, render_document, render_pending
from docpost.pipeline.documents.einvoice_view import NoEInvoice
from docpost.pipeline.entrypoints.cli.main import main
from docpost.pipeline.entrypoints.http.app import create_app
from docpost.pipeline.entrypoints.http.auth import create_key
from docpost.pipeline.rules.einvoice_recipients import gets_einvoice
from docpost.schema import Document, Journal, OutboxMessage
from tests.conftest import Runner
from tests.einvoice.conftest import NO_ENDPOINT, NS, REVERSE_CHARGE, einvoice_case
from tests.services.test_frozen_parties import bulk_invoice
from tests.services.test_migration_0004 import At, at_revision, migrate  # noqa: F401
from tests.services.test_tax_postings import sell

FAKE_PDF = b"%PDF-1.7 not rendered by WeasyPrint in these tests\n"
UBL_INVOICE = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
UBL_CREDIT_NOTE = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"


# --- set-up ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fake_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The PDFs are not under test here: WeasyPrint's seconds are spared."""
    monkeypatch.setattr(docpost.reports.render, "render_pdf", lambda view, locale: FAKE_PDF)


@pytest.fixture
def settings_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The settings of this test's database; DOCPOST_EINVOICE_RULES unset (a test sets it)."""
    monkeypatch.setenv("DOCPOST_DATABASE_URL", db_url)
    monkeypatch.delenv("DOCPOST_EINVOICE_RULES", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
    engine_for(db_url).dispose()


@pytest.fixture
def checked_env(settings_env: pytest.MonkeyPatch, rules: Path) -> pytest.MonkeyPatch:
    """DOCPOST_EINVOICE_RULES naming the official rules (compiled once per session)."""
    settings_env.setenv("DOCPOST_EINVOICE_RULES", str(rules))
    get_settings.cache_clear()
    return settings_env


def invoice(run: Runner, order: str = "SO-1", customer: str = "NO-1001") -> dict[str, Any]:
    sell(run, order, ("KNIV-1", "2", "249.00"), ("OST-1", "1", "189.00"), customer=customer)
    return run.ok("post_invoice", {"order": order})


def rows(sessions: sessionmaker[Session], number: str | None = None) -> list[Document]:
    with sessions() as session:
        query = select(Document).join(Journal, Journal.id == Document.journal_id)
        if number is not None:
            query = query.where(Journal.number == number)
        return list(session.scalars(query.order_by(Document.id)))


def einvoice_row(sessions: sessionmaker[Session], number: str) -> Document:
    (row,) = [d for d in rows(sessions, number) if d.format == "ubl"]
    return row


def changed_payable_amount(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generator as used by the render path, with PayableAmount raised by 1: BR-CO-16
    (the catalog refuses a wrong org. number check digit, so the fault is made here)."""
    original = einvoice_render.invoice_xml

    def wrong(einvoice: Any) -> bytes:
        tree = etree.fromstring(original(einvoice))
        payable = tree.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS)
        payable.text = str(Decimal(payable.text) + 1)
        return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))

    monkeypatch.setattr(einvoice_render, "invoice_xml", wrong)


# --- posting (E1) -----------------------------------------------------------------------------


def test_e1_invoice_and_credit_note_outcomes_list_their_einvoice(shop: Runner) -> None:
    """E1/CONTRACT: the outcome names the e-invoice beside the PDF; both rows are pending
    revision 1 of the journal, written by the posting, each with its render task."""
    assert invoice(shop)["documents"] == ["INV-000001.pdf", "INV-000001.xml"]
    credit = shop.ok("post_credit_note", {"invoice": "INV-000001"})
    assert credit["documents"] == ["CN-000001.pdf", "CN-000001.xml"]
    found = [
        (d.filename, d.kind, d.format, d.revision, d.status, d.media_type)
        for d in rows(shop.sessions)
        if d.kind in ("invoice", "credit_note")
    ]
    assert found == [
        ("INV-000001.pdf", "invoice", "pdf", 1, "pending", "application/pdf"),
        ("INV-000001.xml", "invoice", "ubl", 1, "pending", "application/xml"),
        ("CN-000001.pdf", "credit_note", "pdf", 1, "pending", "application/pdf"),
        ("CN-000001.xml", "credit_note", "ubl", 1, "pending", "application/xml"),
    ]
    with shop.sessions() as session:
        payloads = session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.task == "render_document")
        )
        rendered_ids = {payload["document_id"] for payload in payloads}
    assert {d.id for d in rows(shop.sessions)} <= rendered_ids


def test_e1_bulk_invoicing_batches_give_each_invoice_its_einvoice(shop: Runner) -> None:
    """E1: bulk invoicing's set-based batch writes the e-invoice rows with the PDFs and each
    invoice's outcome lists both."""
    for order in ("SO-1", "SO-2"):
        sell(shop, order, ("KNIV-1", "1", "249.00"))
        shop.ok("post_packing_slip", {"order": order}, actor="warehouse-1")
    bulk_invoice(shop, ["SO-1", "SO-2"])
    with shop.sessions() as session:
        results = session.execute(
            text(
                "SELECT result FROM requests WHERE request_id LIKE 'bulk-invoice:%' ORDER BY request_id"
            )
        ).all()
    documents = sorted(
        tuple((json.loads(r) if isinstance(r, str) else r)["documents"]) for (r,) in results
    )
    assert documents == [
        ("INV-000001.pdf", "INV-000001.xml"),
        ("INV-000002.pdf", "INV-000002.xml"),
    ]
    assert [d.filename for d in rows(shop.sessions) if d.format == "ubl"] == [
        "INV-000001.xml",
        "INV-000002.xml",
    ]


def test_e1_a_consumer_and_a_pos_receipt_get_no_einvoice(shop: Runner) -> None:
    """E1: NO-1002 (a person: no endpoint, no organisation number) cannot be addressed, and a
    point-of-sale receipt (T6, the walk-in customer, paid at the till) is never sent as EHF,
    nor is the credit note of one: their outcomes list the PDF only."""
    assert invoice(shop, customer="NO-1002")["documents"] == ["INV-000001.pdf"]
    sale = shop.ok(
        "post_pos_sale",
        {"store": "OSLO", "lines": [{"item": "OST-1", "quantity": "2", "unit_price": "229.00"}]},
        actor="pos-1",
    )
    assert sale["documents"] == [f"{sale['packing_slip']}.pdf", f"{sale['journal']}.pdf"]
    credit = shop.ok("post_credit_note", {"invoice": sale["journal"]})
    assert credit["documents"] == [f"{credit['journal']}.pdf"]
    assert [d.filename for d in rows(shop.sessions) if d.format == "ubl"] == []


def test_e1_usmf_without_a_company_is_unchanged(usmf: Runner) -> None:
    """E1 negative: the USMF example has no company, so no Peppol endpoint: PDFs only."""
    usmf.ok(
        "upsert_order",
        {"order": "SO-1", "customer": "US-004",
         "lines": [{"line": 1, "item": "S0021", "quantity": "2", "unit_price": "150.00"}]},
    )  # fmt: skip
    assert usmf.ok("post_invoice", {"order": "SO-1"})["documents"] == ["INV-000001.pdf"]
    assert {d.format for d in rows(usmf.sessions)} == {"pdf"}


def test_e1_posting_decides_as_the_generator_does(shop: Runner) -> None:
    """rules.einvoice_recipients (at posting) and einvoice_view (at rendering) agree on every
    kind of journal: a row is written exactly when the generator makes an e-invoice."""
    invoice(shop, "SO-1", "NO-1001")
    invoice(shop, "SO-2", NO_ENDPOINT)
    invoice(shop, "SO-3", REVERSE_CHARGE)
    invoice(shop, "SO-4", "NO-1002")
    sell(shop, "SO-5", ("KNIV-1", "1", "249.00"), customer="SE-2001", exchange_rate="0.9876")
    shop.ok("post_invoice", {"order": "SO-5"})
    shop.ok("post_credit_note", {"invoice": "INV-000001"})
    sale = shop.ok(
        "post_pos_sale",
        {"store": "OSLO", "lines": [{"item": "OST-1", "quantity": "1", "unit_price": "229.00"}]},
        actor="pos-1",
    )
    with shop.sessions() as session:
        numbers = list(
            session.scalars(
                select(Journal.number).where(Journal.kind.in_(("invoice", "credit_note")))
            )
        )
    assert sale["journal"] in numbers and len(numbers) == 7
    with_row = {d.filename.removesuffix(".xml") for d in rows(shop.sessions) if d.format == "ubl"}
    for number in numbers:
        try:
            einvoice_case(shop, number)
            made = True
        except NoEInvoice:
            made = False
        assert made == (number in with_row), number
    assert len(with_row) == 5  # all but the consumer's invoice and the POS receipt


@pytest.mark.parametrize(
    ("kind", "origin", "seller", "buyer", "with_vat", "expected"),
    [
        ("invoice", "order", {"peppol_endpoint": "0192:923609016", "vat_registered": True},
         {"peppol_endpoint": "0192:912345602"}, True, True),
        ("credit_note", "order", {"peppol_endpoint": "0192:923609016", "vat_registered": True},
         {"organisation_number": "912345610", "country": "NO"}, True, True),
        ("invoice", "order", {"peppol_endpoint": "0192:1", "country": "NO"},
         {"organisation_number": "5561234567", "country": "SE"}, True, True),
        ("invoice", "order", {"peppol_endpoint": "0192:1", "vat_registered": False},
         {"peppol_endpoint": "0192:2"}, False, True),  # M6: outside VAT, category O
        ("invoice", "order", {"peppol_endpoint": "0192:1", "vat_registered": True},
         {"peppol_endpoint": "0192:2"}, False, False),  # a VAT seller's journal without VAT
        ("invoice", "pos", {"peppol_endpoint": "0192:1"}, {"peppol_endpoint": "0192:2"}, True, False),
        ("packing_slip", "order", {"peppol_endpoint": "0192:1"}, {"peppol_endpoint": "0192:2"},
         True, False),
        ("invoice", "order", {"name": "Contoso"}, {"peppol_endpoint": "0192:2"}, True, False),
        ("invoice", "order", {}, {"peppol_endpoint": "0192:2"}, True, False),
        ("invoice", "order", None, None, True, False),
        ("invoice", "order", {"peppol_endpoint": "0192:1"}, {"name": "Kari Nordmann"}, True, False),
        ("invoice", "order", {"peppol_endpoint": "0192:1"},
         {"organisation_number": "123", "country": "US"}, True, False),
    ],
)  # fmt: skip
def test_e1_gets_einvoice_rule(
    kind: str,
    origin: str,
    seller: dict[str, Any] | None,
    buyer: dict[str, Any] | None,
    with_vat: bool,
    expected: bool,
) -> None:
    """E1 as a pure rule: invoices and credit notes, not POS, of a seller with an endpoint, to
    an addressable buyer, with VAT or outside it (M6)."""
    assert gets_einvoice(kind, origin, seller, buyer, with_vat=with_vat) is expected


# --- rendering and validation (E1, E2, D6) ------------------------------------------------------


def test_e1_e2_d6_einvoice_rendered_checked_and_stored_with_its_checksum(
    shop: Runner, checked_env: pytest.MonkeyPatch
) -> None:
    """The render path stores exactly the generator's UBL for the journal (Invoice and
    CreditNote), with its sha256 and size, checked by both rule sets: no fatal finding, the
    warnings kept; rendering again changes nothing (D6)."""
    invoice(shop)
    shop.ok("post_credit_note", {"invoice": "INV-000001"})
    assert render_pending(shop.sessions) == 6  # with the confirmation's picking list (D2)
    for number, root in (("INV-000001", UBL_INVOICE), ("CN-000001", UBL_CREDIT_NOTE)):
        row = einvoice_row(shop.sessions, number)
        assert row.status == "rendered" and row.error is None, (row.status, row.error)
        assert row.content == einvoice_case(shop, number).xml
        assert row.sha256 == hashlib.sha256(row.content).hexdigest()
        assert row.size == len(row.content)
        assert etree.fromstring(row.content).tag == root
        assert isinstance(row.findings, list)
        assert [f for f in row.findings if f["flag"] != "warning"] == []
        render_document(shop.sessions, row.id)
        again = einvoice_row(shop.sessions, number)
        assert (again.sha256, again.rendered_at) == (row.sha256, row.rendered_at)


def test_e1_without_rules_the_einvoice_is_stored_unchecked(
    shop: Runner, settings_env: pytest.MonkeyPatch
) -> None:
    """DOCPOST_EINVOICE_RULES unset (the default): stored `rendered`, findings null (not
    checked, as opposed to [] checked and clean)."""
    invoice(shop)
    render_pending(shop.sessions)
    row = einvoice_row(shop.sessions, "INV-000001")
    assert (row.status, row.findings) == ("rendered", None)
    assert row.content is not None and row.sha256 == hashlib.sha256(row.content).hexdigest()


def test_e2_a_fatal_finding_stores_the_einvoice_invalid_with_its_findings(
    shop: Runner,
    checked_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """E2 at run time: a changed PayableAmount fails BR-CO-16, so the e-invoice is stored
    `invalid` with its findings and bytes (for diagnosis); `docpost documents` shows and counts
    it with the rule id and message; `download` refuses it unless --invalid; export skips it.
    The PDF beside it is rendered as usual."""
    invoice(shop)
    changed_payable_amount(checked_env)
    render_pending(shop.sessions)
    row = einvoice_row(shop.sessions, "INV-000001")
    assert row.status == "invalid"
    fatal = [f for f in row.findings or [] if f["flag"] != "warning"]
    assert {f["rule"] for f in fatal} == {"BR-CO-16"}
    assert fatal[0]["ruleset"] == "CEN" and "Amount due for payment" in fatal[0]["message"]
    assert row.content is not None and row.sha256 == hashlib.sha256(row.content).hexdigest()
    pdf = next(d for d in rows(shop.sessions, "INV-000001") if d.format == "pdf")
    assert pdf.status == "rendered"

    assert main(["documents", "--journal", "INV-000001"]) == 0
    out = capsys.readouterr().out
    assert "invalid" in out and "fails BR-CO-16" in out
    assert "1 e-invoice(s) invalid: fatal findings of the official rules" in out
    assert f"INV-000001.xml (id {row.id}) CEN BR-CO-16: {fatal[0]['message']}" in out
    assert main(["documents", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["invalid_einvoices"] == 1
    (shown,) = [d for d in listed["documents"] if d["id"] == row.id]
    assert (shown["status"], shown["format"], shown["media_type"]) == (
        "invalid", "ubl", "application/xml"
    )  # fmt: skip
    assert "BR-CO-16" in {f["rule"] for f in shown["findings"]}

    assert main(["download", str(row.id), "-o", str(tmp_path)]) == 1
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            f"document {row.id} (INV-000001.xml) is an invalid e-invoice (fails BR-CO-16; see "
            "`docpost documents`); write it anyway with --invalid, to diagnose it"
        )
    )
    assert not (tmp_path / "INV-000001.xml").exists()
    assert main(["download", str(row.id), "-o", str(tmp_path), "--invalid"]) == 0
    assert (tmp_path / "INV-000001.xml").read_bytes() == row.content

    exported = export_documents(shop.sessions, tmp_path / "export")
    assert [p.name for p in exported if p.suffix == ".xml"] == []


def test_e1_a_journal_the_generator_refuses_fails_at_once(shop: Runner) -> None:
    """An e-invoice row of a journal that can have none (here forced on the consumer's invoice,
    which posting gives none) ends `failed` on its first attempt with the generator's reason:
    retrying would not help."""
    invoice(shop, customer="NO-1002")
    with shop.sessions() as session, session.begin():
        journal = session.scalars(select(Journal).where(Journal.number == "INV-000001")).one()
        forced = Document(
            journal_id=journal.id, kind="invoice", format="ubl", revision=1,
            filename="INV-000001.xml",
        )  # fmt: skip
        session.add(forced)
        session.flush()
        forced_id = forced.id
    render_document(shop.sessions, forced_id)
    with shop.sessions() as session:
        row = session.get(Document, forced_id)
        assert row is not None
        assert (row.status, row.attempts, row.content) == ("failed", 1, None)
        assert row.error == (
            "NoEInvoice: INV-000001: customer NO-1002 has no Peppol endpoint nor an "
            "organisation number to address an e-invoice to (PEPPOL-EN16931-R010)"
        )


# --- serving -------------------------------------------------------------------------------------


def test_d6_download_and_export_give_the_stored_xml(
    shop: Runner,
    settings_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """`docpost download` writes the e-invoice's stored bytes under its name; export_documents
    (what `docpost demo` writes) puts INV-000001.xml beside INV-000001.pdf."""
    invoice(shop)
    render_pending(shop.sessions)
    row = einvoice_row(shop.sessions, "INV-000001")
    assert main(["download", str(row.id), "-o", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (tmp_path / "INV-000001.xml").read_bytes() == row.content
    assert result["sha256"] == row.sha256 == hashlib.sha256(row.content or b"").hexdigest()
    exported = export_documents(shop.sessions, tmp_path / "documents")
    names = {p.name for p in exported}
    assert {"INV-000001.pdf", "INV-000001.xml"} <= names
    assert (tmp_path / "documents" / "INV-000001.xml").read_bytes() == row.content


@pytest.fixture
def client(shop: Runner, settings_env: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with shop.sessions() as session, session.begin():
        key = create_key(session, "erp")
    with TestClient(create_app(shop.sessions)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def test_http_serves_the_einvoice_as_application_xml(
    shop: Runner, client: TestClient, checked_env: pytest.MonkeyPatch
) -> None:
    """GET /documents/{id} and /journals/{number}/xml give the stored UBL as application/xml
    (ETag its sha256); the PDF stays application/pdf; the list says format, media type and
    findings, and links each document by its kind of content."""
    invoice(shop)
    render_pending(shop.sessions)
    row = einvoice_row(shop.sessions, "INV-000001")
    for url in (f"/documents/{row.id}", "/journals/INV-000001/xml"):
        answer = client.get(url)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/xml")
        assert answer.content == row.content
        assert answer.headers["etag"] == f'"{row.sha256}"'
        assert 'filename="INV-000001.xml"' in answer.headers["content-disposition"]
    pdf = client.get("/journals/INV-000001/pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content == FAKE_PDF
    listed = client.get("/documents", params={"journal": "INV-000001"}).json()["documents"]
    assert [(d["filename"], d["format"], d["media_type"], list(d["links"])) for d in listed] == [
        ("INV-000001.pdf", "pdf", "application/pdf", ["pdf"]),
        ("INV-000001.xml", "ubl", "application/xml", ["xml"]),
    ]
    assert listed[0]["findings"] is None and isinstance(listed[1]["findings"], list)
    journal = client.get("/journals/INV-000001").json()
    assert journal["links"]["xml"] == "/journals/INV-000001/xml"
    assert client.get("/journals/CONF-000001/xml").json()["error"]["message"] == (
        "journal 'CONF-000001' has no e-invoice"
    )


def test_http_refuses_an_invalid_einvoice_with_its_findings(
    shop: Runner, client: TestClient, checked_env: pytest.MonkeyPatch
) -> None:
    """E2: an invalid e-invoice is not served as one to send: 409 document.invalid naming the
    rule and its message; the list shows it with its findings."""
    invoice(shop)
    changed_payable_amount(checked_env)
    render_pending(shop.sessions)
    row = einvoice_row(shop.sessions, "INV-000001")
    for url in (f"/documents/{row.id}", "/journals/INV-000001/xml"):
        answer = client.get(url)
        assert answer.status_code == 409
        error = answer.json()["error"]
        assert error["code"] == "document.invalid"
        assert error["message"].startswith(
            f"e-invoice {row.id} fails the official rules (E2), not to be sent: BR-CO-16: "
        )
    listed = client.get("/documents").json()["documents"]
    (shown,) = [d for d in listed if d["id"] == row.id]
    assert shown["status"] == "invalid" and "BR-CO-16" in {f["rule"] for f in shown["findings"]}


# --- recovery (CONTRACT "Nothing accepted is lost") ----------------------------------------------


def test_recovery_sweep_publishes_a_lost_einvoice_render_again(
    shop: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pending e-invoice whose render message the broker lost is published again after
    DOCPOST_REPUBLISH_AFTER, as a PDF is (the sweep takes pending rows of any format)."""
    import datetime as dt

    import docpost.tasks.recovery as recovery
    from docpost.schema.types import utcnow

    invoice(shop)
    sent: list[int] = []
    monkeypatch.setattr(recovery, "publish_render", sent.append)
    later = utcnow() + dt.timedelta(seconds=1)
    assert recovery.republish_documents(shop.sessions, recovery.Cutoffs(later, later)) == 4
    # CONF-000001.pdf, its picking list (D2) and INV-000001's two
    assert sent == [d.id for d in rows(shop.sessions)]
    assert einvoice_row(shop.sessions, "INV-000001").id in sent
    # Negative control: not yet overdue, nothing is sent.
    sent.clear()
    early = utcnow() - dt.timedelta(hours=1)
    assert recovery.republish_documents(shop.sessions, recovery.Cutoffs(early, early)) == 0


# --- the setting ----------------------------------------------------------------------------------


def test_einvoice_rules_setting_refuses_a_folder_without_the_rules(
    locale_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """DOCPOST_EINVOICE_RULES naming a folder without the two stylesheets is refused when the
    settings are read (every entry point's start), the message naming the variable."""
    locale_env.setenv("DOCPOST_EINVOICE_RULES", str(tmp_path))
    get_settings.cache_clear()
    with pytest.raises(ConfigurationError) as error:
        get_settings()
    assert str(error.value) == (
        f"DOCPOST_EINVOICE_RULES: e-invoice rules not found: {tmp_path}/CEN-EN16931-UBL.xslt, "
        f"{tmp_path}/PEPPOL-EN16931-UBL.xslt; a folder holding CEN-EN16931-UBL.xslt and "
        "PEPPOL-EN16931-UBL.xslt (or an xslt/ folder with them), as ../shared/einvoice does"
    )
    assert main(["documents"]) == 2


def test_einvoice_rules_setting_takes_the_shared_layout(
    locale_env: pytest.MonkeyPatch, rules: Path
) -> None:
    locale_env.setenv("DOCPOST_EINVOICE_RULES", str(rules))
    get_settings.cache_clear()
    assert get_settings().einvoice_rules == str(rules)


# --- migration 0012 -------------------------------------------------------------------------------


def _pdf_at_0011(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (customer, name, currency, address, tax_treatment) "
                "VALUES ('NO-1', 'Kunde', 'NOK', '', 'domestic')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO sales_orders (id, order_no, customer_code, currency, origin, "
                "created_at) VALUES (1, 'SO-1', 'NO-1', 'NOK', 'order', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO journals (id, number, kind, order_id, customer_code, currency, "
                "posting_date, posted_at, request_id, actor) VALUES (1, 'INV-000001', "
                "'invoice', 1, 'NO-1', 'NOK', '2026-01-02', '2026-01-02 10:00:00', 'r-1', 'erp')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO documents (id, journal_id, kind, revision, filename, status, "
                "attempts, created_at) VALUES (1, 1, 'invoice', 1, 'INV-000001.pdf', 'pending', "
                "0, '2026-01-02 10:00:00')"
            )
        )


def test_0012_upgrades_documents_with_data_and_downgrades(at_revision: At) -> None:  # noqa: F811
    """0012: every document gets `format` (the PDFs before it: "pdf") and `findings`; the
    unique key becomes (journal_id, format, revision), so an invoice's PDF and e-invoice are
    both revision 1; the schema is the models' exactly; the recovery sweep's partial index is
    kept. Downgrading deletes the e-invoice rows (0011 has no place for them), keeps the PDFs."""
    engine = at_revision("0011")
    _pdf_at_0011(engine)
    migrate(engine, "0012")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT filename, format, findings FROM documents")).one() == (
            "INV-000001.pdf", "pdf", None
        )  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO documents (id, journal_id, kind, format, revision, filename, status, "
                "attempts, created_at, findings) VALUES (2, 1, 'invoice', 'ubl', 1, "
                "'INV-000001.xml', 'invalid', 0, '2026-01-02 10:00:00', :f)"
            ),
            {"f": json.dumps([{"rule": "BR-CO-16", "flag": "fatal"}])},
        )
    with pytest.raises(Exception, match=r"(?i)unique"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO documents (id, journal_id, kind, format, revision, filename, status, "
                "attempts, created_at) VALUES (3, 1, 'invoice', 'ubl', 1, 'x.xml', 'pending', 0, "
                "'2026-01-02 10:00:00')"
            )
        )
    migrate(engine, "head")
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from docpost.schema import Base

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    _downgrade(engine, "0011")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, filename FROM documents")).all() == [
            (1, "INV-000001.pdf")
        ]
        columns = conn.execute(text("SELECT * FROM documents")).keys()
        assert "format" not in columns and "findings" not in columns
    migrate(engine, "0012")  # and up again: the chain is stable both ways
    with engine.connect() as conn:
        assert conn.execute(text("SELECT format FROM documents")).scalar() == "pdf"
        if engine.dialect.name == "sqlite":
            index = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'ix_documents_pending'")
            ).scalar()
            assert index is not None and "WHERE status = 'pending'" in index


def _downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    from docpost.schema.migrate import alembic_config

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
