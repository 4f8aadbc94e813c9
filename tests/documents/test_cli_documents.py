"""`docpost documents` and `docpost download` (CONTRACT.md)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import engine_for
from docpost.pipeline.documents import render_document
from docpost.pipeline.entrypoints.cli.main import main
from docpost.schema import Document
from tests.conftest import Runner


@pytest.fixture
def cli(usmf: Runner, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runner]:
    """`docpost` pointed at the test database, with CONF-000001 posted (document 1, pending)."""
    monkeypatch.setenv("DOCPOST_DATABASE_URL", db_url)
    get_settings.cache_clear()
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-4001",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "LaptopBundle", "quantity": "1", "unit_price": "2300"}],
        },
    )
    usmf.ok("confirm_order", {"order": "SO-4001"})
    yield usmf
    get_settings.cache_clear()
    engine_for(db_url).dispose()


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out)


def test_documents_lists_pending_then_rendered(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["documents", "--json"]) == 0
    pending, picking_list = _json(capsys)["documents"]
    assert (picking_list["kind"], picking_list["filename"]) == (
        "picking_list",
        "CONF-000001-picking.pdf",
    )  # D2: beside the confirmation
    assert pending["id"] == 1
    assert pending["journal"] == "CONF-000001"
    assert (pending["kind"], pending["revision"], pending["status"]) == (
        "confirmation",
        1,
        "pending",
    )
    assert pending["sha256"] is None and pending["size"] is None

    render_document(cli.sessions, 1)
    assert main(["documents", "--journal", "CONF-000001"]) == 0
    out = capsys.readouterr().out
    with cli.sessions() as session:
        document = session.get(Document, 1)
        assert document is not None and document.sha256 is not None
    assert document.sha256 in out and "rendered" in out and "CONF-000001.pdf" in out


def test_documents_of_an_unknown_journal_fail(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["documents", "--journal", "INV-999999"]) == 1
    assert "journal 'INV-999999' does not exist" in capsys.readouterr().err


def test_download_writes_the_stored_pdf(
    cli: Runner, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch
) -> None:
    render_document(cli.sessions, 1)
    with cli.sessions() as session:
        document = session.get(Document, 1)
        assert document is not None and document.content is not None
    assert main(["download", "1", "-o", str(tmp_path / "copy.pdf"), "--json"]) == 0
    result = _json(capsys)
    assert (tmp_path / "copy.pdf").read_bytes() == document.content
    assert result["sha256"] == hashlib.sha256(document.content).hexdigest()
    # A folder gets the document's filename; no -o means the current folder.
    assert main(["download", "1", "-o", str(tmp_path)]) == 0
    assert (tmp_path / "CONF-000001.pdf").read_bytes() == document.content
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["download", "1"]) == 0
    assert (here / "CONF-000001.pdf").read_bytes() == document.content


def test_download_refuses_pending_failed_and_unknown_documents(
    cli: Runner, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "x.pdf"
    assert main(["download", "1", "-o", str(target)]) == 1
    assert capsys.readouterr().err.strip() == (
        "docpost: document 1 is not rendered yet (status pending)"
    )
    assert main(["download", "7", "-o", str(target), "--json"]) == 1
    assert _json(capsys)["error"] == {"code": "not_found", "message": "document 7 does not exist"}
    with cli.sessions() as session, session.begin():
        document = session.get(Document, 1)
        assert document is not None
        document.status, document.error = "failed", "Boom: the renderer exploded"
    assert main(["download", "1", "-o", str(target)]) == 1
    assert "status failed): Boom: the renderer exploded" in capsys.readouterr().err
    assert not target.exists()


def test_download_refuses_bytes_that_do_not_match_their_checksum(
    cli: Runner, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """D6: the checksum stored with the PDF guards what is handed out."""
    render_document(cli.sessions, 1)
    with cli.sessions() as session, session.begin():
        document = session.get(Document, 1)
        assert document is not None and document.content is not None
        document.content = document.content + b"tampered"
    assert main(["download", "1", "-o", str(tmp_path / "x.pdf")]) == 1
    assert "does not match its sha256" in capsys.readouterr().err
