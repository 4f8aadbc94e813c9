"""DOMAIN.md E4: an invoice or credit note as PDF/A-3b with its e-invoice XML attached.

``render_archive_pdf`` is read back with pypdf: the attachment (name, bytes, media type, dates)
is an associated file of the document (catalog /AF, /AFRelationship), the XMP metadata says
PDF/A part 3 conformance B, there is an sRGB output intent and a file identifier, every font is
embedded, and the pages say what ``render_pdf``'s pages say. ``render_pdf``'s output is the
negative control: none of these are there, so the checks cannot pass on any PDF.

These checks are structural: veraPDF (Java) is not run here, so they are not a full PDF/A
validation; they cover what WeasyPrint's PDF/A-3b output depends on us for.

The attachment is the official Norwegian EHF example (test data from ../shared/einvoice): the
renderer embeds whatever bytes it is given, so any e-invoice shows the same.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
from pathlib import Path
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from docpost.reports.formatting import Formatter
from docpost.reports.render import (
    EINVOICE_MEDIA_TYPE,
    render_archive_pdf,
    render_pdf,
)
from docpost.reports.samples import norwegian_sample_view

ROOT = Path(__file__).resolve().parents[2]
# The rules folder of tests/einvoice (DOCPOST_EINVOICE_RULES or ../shared/einvoice).
EXAMPLE_XML = (
    Path(os.environ.get("DOCPOST_EINVOICE_RULES") or ROOT.parent / "shared" / "einvoice")
    / "examples"
    / "Norwegian-example-1.xml"
)
# Without that folder: a small UTF-8 document. The renderer embeds whatever bytes it is given,
# so every check below is the same for it (and it has non-ASCII bytes the example lacks).
FALLBACK_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>INV-000001</cbc:ID><cbc:Note>Fjordkurv AS – kjøkken og gaver, «takk»</cbc:Note>
</Invoice>
""".encode()
LOCALE = "nb_NO"
KINDS = ["invoice", "credit_note"]
FILENAMES = {"invoice": "INV-000001.xml", "credit_note": "CN-000001.xml"}
NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
}


@pytest.fixture(scope="module")
def xml() -> bytes:
    return EXAMPLE_XML.read_bytes() if EXAMPLE_XML.is_file() else FALLBACK_XML


@pytest.fixture(scope="module")
def archive_pdfs(xml: bytes) -> dict[str, bytes]:
    return {
        kind: render_archive_pdf(norwegian_sample_view(kind, LOCALE), LOCALE, xml, FILENAMES[kind])
        for kind in KINDS
    }


@pytest.fixture(scope="module")
def plain_pdfs() -> dict[str, bytes]:
    return {kind: render_pdf(norwegian_sample_view(kind, LOCALE), LOCALE) for kind in KINDS}


def _reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def _catalog(pdf: bytes) -> DictionaryObject:
    return _reader(pdf).trailer["/Root"].get_object()


def _pdfaid(pdf: bytes) -> dict[str, str]:
    """The pdfaid:* properties of the XMP metadata stream ({} if there is none)."""
    catalog = _catalog(pdf)
    if "/Metadata" not in catalog:
        return {}
    packet = catalog["/Metadata"].get_object().get_data()
    # The packet is <?xpacket?> x:xmpmeta <?xpacket?>: parse from the RDF element.
    start, end = packet.index(b"<x:xmpmeta"), packet.index(b"</x:xmpmeta>")
    root = ElementTree.fromstring(packet[start : end + len(b"</x:xmpmeta>")])
    found: dict[str, str] = {}
    prefix = "{" + NS["pdfaid"] + "}"
    for description in root.iter("{" + NS["rdf"] + "}Description"):
        for name, value in description.attrib.items():
            if name.startswith(prefix):
                found[name.removeprefix(prefix)] = value
        for child in description:
            if child.tag.startswith(prefix):
                found[child.tag.removeprefix(prefix)] = child.text or ""
    return found


def _fonts(pdf: bytes) -> list[DictionaryObject]:
    """Every font dictionary used by a page (or a form XObject on it), once each."""
    fonts: dict[int, DictionaryObject] = {}

    def walk(resources: DictionaryObject) -> None:
        for ref in resources.get("/Font", DictionaryObject()).get_object().values():
            fonts[id(ref.get_object())] = ref.get_object()
        for xobject in resources.get("/XObject", DictionaryObject()).get_object().values():
            if "/Resources" in xobject.get_object():
                walk(xobject.get_object()["/Resources"].get_object())

    for page in _reader(pdf).pages:
        walk(page["/Resources"].get_object())
    return list(fonts.values())


def _descriptors(font: DictionaryObject) -> list[DictionaryObject]:
    if font["/Subtype"] == "/Type0":
        return [d.get_object()["/FontDescriptor"].get_object() for d in font["/DescendantFonts"]]
    return [font["/FontDescriptor"].get_object()]


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in _reader(pdf).pages)


@pytest.mark.parametrize("kind", KINDS)
def test_e4_attachment_reads_back_as_the_xml_given(archive_pdfs, xml, kind):
    """E4: the e-invoice is embedded under its stored file name, byte for byte."""
    attachments = _reader(archive_pdfs[kind]).attachments
    assert list(attachments) == [FILENAMES[kind]]
    (content,) = attachments[FILENAMES[kind]]
    assert hashlib.sha256(content).hexdigest() == hashlib.sha256(xml).hexdigest()
    assert content == xml


@pytest.mark.parametrize("kind", KINDS)
def test_e4_attachment_is_an_associated_file_with_media_type_and_relationship(archive_pdfs, kind):
    """E4 / PDF/A-3: catalog /AF lists the file spec (once), /AFRelationship /Alternative, the
    embedded file has a MIME /Subtype and a /ModDate (the document's date)."""
    catalog = _catalog(archive_pdfs[kind])
    associated = [ref.get_object() for ref in catalog["/AF"]]
    assert len(associated) == 1  # WeasyPrint 70 lists it twice; render.py removes the repeat
    (filespec,) = associated
    assert filespec["/Type"] == "/Filespec"
    assert filespec["/F"] == filespec["/UF"] == FILENAMES[kind]
    assert filespec["/AFRelationship"] == "/Alternative"
    embedded = filespec["/EF"]["/F"].get_object()
    assert embedded["/Type"] == "/EmbeddedFile"
    assert embedded["/Subtype"] == "/" + EINVOICE_MEDIA_TYPE == "/application/xml"
    date = norwegian_sample_view(kind, LOCALE)["date"].strftime("%Y%m%d")
    assert embedded["/Params"]["/ModDate"] == f"D:{date}000000Z"
    # The name tree a reader lists attachments from points at the same file spec.
    names = catalog["/Names"]["/EmbeddedFiles"].get_object()["/Names"]
    assert names[0] == FILENAMES[kind]
    assert names[1].idnum == catalog["/AF"][0].idnum


@pytest.mark.parametrize("kind", KINDS)
def test_e4_xmp_metadata_says_pdfa_3b(archive_pdfs, kind):
    """E4: the XMP metadata stream identifies PDF/A-3b (pdfaid:part 3, conformance B)."""
    assert _pdfaid(archive_pdfs[kind]) == {"part": "3", "conformance": "B"}
    assert _reader(archive_pdfs[kind]).pdf_header == "%PDF-1.7"


@pytest.mark.parametrize("kind", KINDS)
def test_e4_output_intent_identifier_title_and_language(archive_pdfs, kind):
    """E4 / PDF/A: an sRGB ICC output intent, a trailer /ID, a title and a language."""
    pdf = archive_pdfs[kind]
    catalog = _catalog(pdf)
    (intent,) = catalog["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert "sRGB" in intent["/OutputConditionIdentifier"]
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3  # an RGB ICC profile
    assert profile.get_data()[36:40] == b"acsp"  # the ICC header signature
    assert len(_reader(pdf).trailer["/ID"]) == 2
    view = norwegian_sample_view(kind, LOCALE)
    assert _reader(pdf).metadata.title.endswith(view["number"])
    assert catalog["/Lang"] == "nb-NO"


@pytest.mark.parametrize("kind", KINDS)
def test_e4_every_font_is_embedded(archive_pdfs, kind):
    """E4 / PDF/A: each font used has its program embedded (FontFile, FontFile2 or FontFile3)."""
    fonts = _fonts(archive_pdfs[kind])
    assert fonts  # not vacuous: the pages use fonts
    for font in fonts:
        if font["/Subtype"] == "/Type3":  # glyphs drawn by content streams: nothing to embed
            continue
        for descriptor in _descriptors(font):
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font["/BaseFont"]
    assert all("Docpost-Sans" in font["/BaseFont"] for font in fonts)  # the bundled ones


@pytest.mark.parametrize("kind", KINDS)
def test_e4_pages_print_what_render_pdf_prints(archive_pdfs, plain_pdfs, kind):
    """E4: the archive PDF's text is extractable and the same as the plain PDF's (totals too)."""
    text = _text(archive_pdfs[kind])
    assert text == _text(plain_pdfs[kind])
    total = norwegian_sample_view(kind, LOCALE)["totals"]["total"]
    assert Formatter(locale=LOCALE, currency="NOK").money(total) in text
    assert len(_reader(archive_pdfs[kind]).pages) == len(_reader(plain_pdfs[kind]).pages)


@pytest.mark.parametrize("kind", KINDS)
def test_e4_negative_control_plain_pdf_is_not_pdfa(plain_pdfs, kind):
    """The checks above fail on render_pdf's output: no /AF, attachment, pdfaid or intent."""
    pdf = plain_pdfs[kind]
    catalog = _catalog(pdf)
    assert "/AF" not in catalog
    assert "/OutputIntents" not in catalog
    assert _pdfaid(pdf) == {}
    assert not _reader(pdf).attachments


def test_e4_same_inputs_give_the_same_bytes(monkeypatch, xml):
    """E4: the archive PDF depends only on its inputs (stored with a sha256, D6)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # font subsets' dates, as render_pdf
    view = norwegian_sample_view("invoice", LOCALE)
    first = render_archive_pdf(view, LOCALE, xml, "INV-000001.xml")
    assert render_archive_pdf(view, LOCALE, xml, "INV-000001.xml") == first
    other = render_archive_pdf(view, LOCALE, xml + b"\n", "INV-000001.xml")
    assert other != first  # negative control: the attachment is part of the bytes


def test_e4_attachment_dates_are_the_documents_date(xml):
    view = {**norwegian_sample_view("invoice", LOCALE), "date": datetime.date(2031, 12, 31)}
    catalog = _catalog(render_archive_pdf(view, LOCALE, xml, "INV-000001.xml"))
    params = catalog["/AF"][0].get_object()["/EF"]["/F"].get_object()["/Params"]
    assert params["/CreationDate"] == params["/ModDate"] == "D:20311231000000Z"


@pytest.mark.parametrize("kind", ["confirmation", "packing_slip"])
def test_e4_refuses_kinds_without_an_e_invoice(xml, kind):
    view = norwegian_sample_view(kind, LOCALE)
    with pytest.raises(ValueError, match=f"only an invoice or a credit note .* not a '{kind}'"):
        render_archive_pdf(view, LOCALE, xml, "X.xml")


def test_e4_refuses_empty_xml():
    view = norwegian_sample_view("invoice", LOCALE)
    with pytest.raises(ValueError, match="the e-invoice XML to attach is empty"):
        render_archive_pdf(view, LOCALE, b"", "INV-000001.xml")


@pytest.mark.parametrize(
    "filename", ["", "INV-000001.pdf", "../INV-000001.xml", "a\\b.xml", ".xml", "INV\n1.xml"]
)
def test_e4_refuses_a_file_name_that_is_not_a_plain_xml_name(xml, filename):
    view = norwegian_sample_view("invoice", LOCALE)
    with pytest.raises(
        ValueError, match=r"e-invoice file name must be a plain name ending in \.xml"
    ):
        render_archive_pdf(view, LOCALE, xml, filename)


def test_e4_view_errors_are_render_htmls(xml):
    with pytest.raises(ValueError, match="view model is missing"):
        render_archive_pdf({"kind": "invoice"}, LOCALE, xml, "INV-000001.xml")
