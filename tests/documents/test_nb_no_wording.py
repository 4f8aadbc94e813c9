"""D5 in nb_NO: the product documents' own words on printed packing slips and invoices.

The Norwegian pages of the two product documents (the seeds, with the English original beside
each sentence) call the blank registration of a serial "Ikke lesbart" ("... ved å klikke **Ikke
lesbart** på **Serienumre**-siden" for "clicking **Not readable** on the **Serial numbers**
page": serienummer is neuter, so lesbart, not lesbar) and a bundle a "bunt" ("En bunt består av
en overordnet vare og flere komponentvarer", "**Nettobeløp for bunt**"). Issue 17 item 6: the
documents printed "ikke lesbar" and "Pakke".

Through the whole pipeline on SQLite and PostgreSQL: an order of a Norwegian customer (its
language is nb_NO, M7/P4) with a laptop bundle and a serialized item shipped with one serial and
one blank; the stored packing slip and invoice PDFs are read back as text. The stylesheet
upper-cases the bundle tag, so "Bunt" reads "BUNT" in the PDF text (as "Bundle" reads
"BUNDLE"). The negative control: the same order for an English customer prints the English
words, so the assertions cannot pass on a document that prints no blank or no bundle at all.
"""

from __future__ import annotations

from sqlalchemy import select

from docpost.pipeline.documents import render_document
from docpost.reports.labels import labels_for
from docpost.schema import Document, Journal
from tests.conftest import Runner
from tests.documents.pdfs import pdf_text, row_after
from tests.einvoice.conftest import einvoice_catalog

NORWEGIAN = "NO-1001"  # language nb_NO in the Norwegian example
ENGLISH = "SE-2001"  # language en_US, buys in SEK (T7: the order takes an exchange rate)
SLICER = "2 HOVEL-1 Elektrisk ostehøvel"  # the serialized line's printed row


def _ship_and_invoice(run: Runner, customer: str) -> tuple[str, str]:
    """SO-1 for `customer`: 2 laptop bundles (line 1) and 2 cheese slicers (line 2), one with
    serial H-1 and one not readable; shipped and invoiced. Returns (packing slip, invoice)."""
    run.ok("upsert_catalog", einvoice_catalog())
    order = {
        "order": "SO-1",
        "customer": customer,
        "lines": [
            {"line": 1, "item": "PCPAKKE", "quantity": "2", "unit_price": "2300.00"},
            {"line": 2, "item": "HOVEL-1", "quantity": "2", "unit_price": "1290.00"},
        ],
    }
    if customer == ENGLISH:
        order["exchange_rate"] = "0.98"
    run.ok("upsert_order", order)
    run.ok("confirm_order", {"order": "SO-1"})
    components = [{"line": 1, "item": item, "quantity": "2"} for item in ("PC", "STOTTE", "KABEL")]
    slicers = {"line": 2, "quantity": "2", "serials": ["H-1"], "not_readable": 1}
    shipped = run.ok("post_packing_slip", {"order": "SO-1", "lines": [*components, slicers]})
    invoiced = run.ok("post_invoice", {"order": "SO-1"})
    return shipped["journal"], invoiced["journal"]


def _stored_pdf_text(run: Runner, journal: str) -> str:
    """The journal's PDF as stored (rendered in its customer's language, the configured
    locale being en_US), read back as text."""
    with run.sessions() as session:
        document_id = session.scalar(
            select(Document.id)
            .join(Journal, Journal.id == Document.journal_id)
            .where(Journal.number == journal, Document.filename.like("%.pdf"))
        )
    assert document_id is not None, journal
    render_document(run.sessions, document_id, "en_US")
    with run.sessions() as session:
        document = session.get(Document, document_id)
        assert document is not None and document.status == "rendered", journal
        return pdf_text(document.content or b"")


def test_d5_nb_no_labels_are_the_documents_terms() -> None:
    """D5: the words themselves, as the seeds print them."""
    nb = labels_for("nb_NO")
    assert nb["not_readable"] == "Ikke lesbart"
    assert nb["bundle"] == "Bunt"
    assert nb["serials"] == "Serienumre"  # the seed's **Serienumre** page


def test_d5_s14_nb_no_packing_slip_prints_a_blank_as_ikke_lesbart(run: Runner) -> None:
    """D5/S14: the packing slip (internal, components only, D2) prints the blank under its
    line as "Ikke lesbart", never the old "ikke lesbar"."""
    packing_slip, _ = _ship_and_invoice(run, NORWEGIAN)
    text = _stored_pdf_text(run, packing_slip)
    assert row_after(text, SLICER) == "Serienumre: H-1, Ikke lesbart"
    assert "ikke lesbar," not in text and not text.rstrip().endswith("ikke lesbar")
    assert "Laptop bundle" not in text  # D2: no parent, hence no bundle tag here


def test_d5_nb_no_invoice_prints_ikke_lesbart_and_the_bundle_as_bunt(run: Runner) -> None:
    """D5: the invoice prints the bundle parent as one line tagged "Bunt" (upper-cased by the
    stylesheet), and the slicer's blank as "Ikke lesbart"."""
    _, invoice = _ship_and_invoice(run, NORWEGIAN)
    text = _stored_pdf_text(run, invoice)
    assert "Faktura" in text  # the document is in nb_NO at all
    assert "Laptop bundle BUNT 2 stk" in text
    assert row_after(text, SLICER) == "Serienumre: H-1, Ikke lesbart"
    assert "PAKKE" not in text.upper().replace("PCPAKKE", "")  # the old tag, in any case
    assert "ikke lesbar," not in text and "ikke lesbar\n" not in text


def test_d5_negative_control_an_english_customer_gets_the_english_words(run: Runner) -> None:
    """The same order for an en_US customer prints "not readable" and "BUNDLE": the
    Norwegian assertions above test the words, not a document without blanks or bundles."""
    packing_slip, invoice = _ship_and_invoice(run, ENGLISH)
    slip = _stored_pdf_text(run, packing_slip)
    text = _stored_pdf_text(run, invoice)
    assert row_after(slip, SLICER) == "Serial numbers: H-1, not readable"
    assert row_after(text, SLICER) == "Serial numbers: H-1, not readable"
    assert "Laptop bundle BUNDLE 2 ea" in text
    assert "Ikke lesbart" not in text and "BUNT" not in text
