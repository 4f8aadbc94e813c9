"""Shared fixtures for the PDF tests: render once per (kind, locale), read text with pypdf.

This folder is the package ``tests.reports``, like its siblings: the code under test is
``docpost.reports``, so neither name shadows the other.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from docpost.reports.render import render_pdf
from docpost.reports.samples import sample_view


def _pdf_pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _embedded_fonts(pdf: bytes) -> set[str]:
    names: set[str] = set()

    def walk(resources: DictionaryObject) -> None:
        if "/Font" in resources:
            for font in resources["/Font"].get_object().values():
                names.add(str(font.get_object()["/BaseFont"]))
        if "/XObject" in resources:
            for xobject in resources["/XObject"].get_object().values():
                xobject = xobject.get_object()
                if "/Resources" in xobject:
                    walk(xobject["/Resources"].get_object())

    for page in PdfReader(io.BytesIO(pdf)).pages:
        if "/Resources" in page:
            walk(page["/Resources"].get_object())
    return names


@pytest.fixture(scope="session")
def pdf_pages() -> Callable[[bytes], list[str]]:
    """``pdf_pages(pdf)``: the extracted text of each page."""
    return _pdf_pages


@pytest.fixture(scope="session")
def embedded_fonts() -> Callable[[bytes], set[str]]:
    """``embedded_fonts(pdf)``: BaseFont names of every font on any page or form XObject."""
    return _embedded_fonts


@pytest.fixture(scope="session")
def sample_pdf() -> Callable[[str, str], bytes]:
    """``sample_pdf(kind, locale)``: the sample document of that kind, rendered once."""
    cache: dict[tuple[str, str], bytes] = {}

    def get(kind: str, locale: str) -> bytes:
        if (kind, locale) not in cache:
            cache[kind, locale] = render_pdf(sample_view(kind), locale)  # type: ignore[arg-type]
        return cache[kind, locale]

    return get


@pytest.fixture(scope="session")
def long_invoice_pdf() -> bytes:
    """A 200-line invoice (several pages)."""
    return render_pdf(sample_view("invoice", line_count=200), "en_US")
