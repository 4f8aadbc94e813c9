"""The URL fetcher serves the bundled assets and nothing else."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from weasyprint import HTML
from weasyprint.urls import URLFetcherResponse

from docpost.reports import render
from docpost.reports.fetcher import (
    BASE_URL,
    FONTS_DIR,
    PACKAGE_DIR,
    STATIC_DIR,
    AssetRefused,
    BundledAssetFetcher,
)
from docpost.reports.render import render_pdf
from docpost.reports.samples import sample_view

FONT = FONTS_DIR / "DocpostSans.ttf"


def test_serves_the_bundled_font():
    response = BundledAssetFetcher().fetch(FONT.as_uri())
    assert isinstance(response, URLFetcherResponse)
    assert response.read() == FONT.read_bytes()
    assert response.content_type == "font/ttf"


def test_serves_the_stylesheet_by_a_relative_url_from_the_base_url():
    from urllib.parse import urljoin

    url = urljoin(BASE_URL, "document.css")
    assert BundledAssetFetcher().fetch(url).read() == (STATIC_DIR / "document.css").read_bytes()
    font_url = urljoin(BASE_URL, "../fonts/DocpostSans-Bold.ttf")
    assert BundledAssetFetcher().fetch(font_url).read()[:4] == b"\x00\x01\x00\x00"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "http://example.invalid/logo.png",
        "https://example.invalid/style.css",
        "ftp://example.invalid/x",
        "data:text/plain;base64,aGVsbG8=",
        "data:image/svg+xml,<svg/>",
        "javascript:alert(1)",
        "/etc/passwd",
        "etc/passwd",
        "",
        (STATIC_DIR / ".." / ".." / ".." / "etc" / "passwd").as_uri(),
        STATIC_DIR.as_uri() + "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "file://evil.example/" + FONT.as_posix().lstrip("/"),
        (PACKAGE_DIR / "render.py").as_uri(),  # in the package, but not an asset
        (STATIC_DIR / "missing.png").as_uri(),
        STATIC_DIR.as_uri(),  # a folder, not a file
    ],
)
def test_refuses_everything_else(url):
    with pytest.raises(AssetRefused):
        BundledAssetFetcher().fetch(url)


def test_refuses_a_symlink_out_of_an_allowed_folder(tmp_path: Path):
    allowed = tmp_path / "static"
    allowed.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    (allowed / "link.txt").symlink_to(secret)
    (allowed / "ok.txt").write_text("fine")
    fetcher = BundledAssetFetcher(allowed_dirs=(allowed,))
    assert fetcher.fetch((allowed / "ok.txt").as_uri()).read() == b"fine"
    with pytest.raises(AssetRefused):
        fetcher.fetch((allowed / "link.txt").as_uri())


def test_refusal_is_not_fatal_and_the_document_still_renders(caplog, pdf_pages):
    # Raw, unescaped HTML straight into WeasyPrint: what the fetcher alone prevents.
    html = (
        '<link rel="stylesheet" href="http://example.invalid/evil.css">'
        '<p>before</p><img src="file:///etc/passwd"><img src="data:image/png;base64,AAAA">'
        '<p style="background: url(file:///etc/shadow)">after</p>'
    )
    requested: list[str] = []

    class Spy(BundledAssetFetcher):
        def fetch(self, url, headers=None):
            requested.append(url)
            return super().fetch(url, headers)

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = HTML(string=html, base_url=BASE_URL, url_fetcher=Spy()).write_pdf()
    [text] = pdf_pages(pdf)
    assert "before" in text and "after" in text
    assert "file:///etc/passwd" in requested
    assert "http://example.invalid/evil.css" in requested
    assert b"root:" not in pdf
    assert "AssetRefused" in caplog.text or "refused to fetch" in caplog.text


def test_hostile_img_in_view_data_fetches_nothing(monkeypatch, pdf_pages):
    """Data is escaped text, so a render asks the fetcher for nothing at all."""
    render._resources()  # fonts and stylesheet are fetched once, before this document
    requested: list[str] = []
    original = BundledAssetFetcher.fetch

    def spy(self, url, headers=None):
        requested.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(BundledAssetFetcher, "fetch", spy)
    view = sample_view("invoice")
    view["customer"]["name"] = '<img src="file:///etc/passwd">'
    view["notes"] = ['<link rel=stylesheet href="http://example.invalid/x.css">']
    [text] = pdf_pages(render_pdf(view))
    assert requested == []
    assert '<img src="file:///etc/passwd">' in text
