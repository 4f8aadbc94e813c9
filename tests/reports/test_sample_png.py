"""`python -m docpost.reports.samples --png PDF PNG`: the README's sample image, the first page
of a posted PDF as a small PNG (pdftoppm, then reduced to a palette)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from docpost.reports import samples
from docpost.reports.render import render_pdf


def test_png_of_a_pdfs_first_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")  # a tool, not a server
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(render_pdf(samples.norwegian_sample_view("invoice", "nb_NO"), "nb_NO"))
    png = tmp_path / "sample-invoice.png"

    samples.main(["--png", str(pdf), str(png)])

    assert capsys.readouterr().out == f"{png}\n"
    with Image.open(png) as image:
        assert image.size == (827, 1170)  # A4 (210 x 297 mm) at 100 dpi, rounded up
        assert image.mode == "P" and len(image.getcolors() or []) <= samples.PNG_COLOURS
    assert png.stat().st_size < 120_000  # small enough to keep in the repository


def test_png_without_pdftoppm_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(samples.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as stopped:
        samples.main(["--png", str(tmp_path / "a.pdf"), str(tmp_path / "a.png")])
    assert stopped.value.code == 1
    assert capsys.readouterr().err == (
        "pdftoppm is not installed: it comes with poppler-utils (apt-get install poppler-utils)\n"
    )
    assert not (tmp_path / "a.png").exists()


def test_samples_needs_a_folder_or_png(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        samples.main([])
    assert stopped.value.code == 2
    assert "give OUT_DIR, or --png PDF PNG" in capsys.readouterr().err
