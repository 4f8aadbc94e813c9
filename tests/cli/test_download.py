"""Issue 18 item 4: `docpost download -o DIR/` writes into the folder (made if missing), and
`docpost download --journal NUMBER [--format pdf|xml]` finds the journal's newest document of
that format: the PDF, or the e-invoice (stored as format `ubl`, INV-000001.xml, E1). A
confirmation's picking list (D2) is not its PDF."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import engine_for
from docpost.pipeline.documents import render_document
from docpost.schema import Document
from tests.cli.conftest import docpost
from tests.conftest import Runner


@pytest.fixture
def stored(
    norway: Runner, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runner]:
    """The Norwegian example's first order invoiced to a business (an e-invoice beside the
    PDF), every document rendered."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCPOST_DATABASE_URL", db_url)
    get_settings.cache_clear()
    norway.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "NO-1001",
            "lines": [{"line": 1, "item": "KURS-1", "quantity": "1", "unit_price": "4500.00"}],
        },
    )
    norway.ok("confirm_order", {"order": "SO-1"})
    norway.ok("post_invoice", {"order": "SO-1"})
    with norway.sessions() as session:
        ids = session.query(Document.id).order_by(Document.id).all()
    for (document_id,) in ids:
        render_document(norway.sessions, document_id)
    yield norway
    get_settings.cache_clear()
    engine_for(db_url).dispose()


def _stored(runner: Runner, filename: str) -> bytes:
    with runner.sessions() as session:
        document = session.query(Document).filter_by(filename=filename).one()
        assert document.content is not None
        return document.content


@pytest.mark.parametrize("output", ["out/", "out/deeper/"])
def test_download_into_a_folder_written_with_a_slash(
    stored: Runner, capsys: pytest.CaptureFixture[str], tmp_path: Path, output: str
) -> None:
    code, out, err = docpost(capsys, "download", "--journal", "INV-000001", "-o", output)
    assert code == 0, err
    path = tmp_path / output / "INV-000001.pdf"
    assert out.startswith(f"wrote {output}INV-000001.pdf (")
    assert path.read_bytes() == _stored(stored, "INV-000001.pdf")


def test_download_negative_control_a_path_without_slash_is_the_file(
    stored: Runner, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, _ = docpost(capsys, "download", "--journal", "INV-000001", "-o", "invoice.pdf")
    assert code == 0
    assert (tmp_path / "invoice.pdf").read_bytes() == _stored(stored, "INV-000001.pdf")
    (tmp_path / "there").mkdir()  # a folder that exists takes the filename, slash or not
    assert docpost(capsys, "download", "--journal", "INV-000001", "-o", "there")[0] == 0
    assert (tmp_path / "there" / "INV-000001.pdf").exists()


def test_download_a_journals_einvoice_with_format_xml(
    stored: Runner, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = docpost(
        capsys, "download", "--journal", "INV-000001", "--format", "xml", "--json"
    )
    assert code == 0
    written = json.loads(out)
    assert Path(written["path"]) == tmp_path / "INV-000001.xml"
    assert (tmp_path / "INV-000001.xml").read_bytes() == _stored(stored, "INV-000001.xml")


def test_download_a_confirmations_pdf_not_its_picking_list(
    stored: Runner, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = docpost(capsys, "download", "--journal", "CONF-000001", "--json")
    assert code == 0
    assert Path(json.loads(out)["path"]).name == "CONF-000001.pdf"


@pytest.mark.parametrize(
    "argv", [["download"], ["download", "1", "--journal", "INV-000001"]], ids=["none", "both"]
)
def test_download_takes_an_id_or_a_journal(
    stored: Runner, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = docpost(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == "docpost: download: give a document ID or --journal NUMBER (one of them)\n"
