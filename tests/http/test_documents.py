"""Every PDF the worker rendered, downloaded over HTTP; ETag caching; the latest revision."""

from __future__ import annotations

import hashlib

import pytest

from tests.http.conftest import Posted

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_every_document_was_rendered(posted: Posted) -> None:
    assert [d for d in posted.documents if d["status"] != "rendered"] == []
    journals = {d["journal"] for d in posted.documents}
    assert {"CONF-000001", "PS-000001", "INV-000001", "CN-000001"} <= journals


def test_every_pdf_downloads_with_its_name_and_checksum(posted: Posted) -> None:
    with posted.stack.client("erp") as erp:
        for document in posted.documents:
            response = erp.get(document["links"]["pdf"])
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/pdf"
            assert response.content.startswith(b"%PDF-")
            digest = hashlib.sha256(response.content).hexdigest()
            assert digest == document["sha256"]
            assert response.headers["etag"] == f'"{digest}"'
            assert response.headers["content-disposition"] == (
                f'attachment; filename="{document["filename"]}"; '
                f"filename*=UTF-8''{document['filename']}"
            )


def test_etag_gives_304_without_the_bytes(posted: Posted) -> None:
    document = posted.documents[0]
    with posted.stack.client("erp") as erp:
        first = erp.get(f"/documents/{document['id']}")
        etag = first.headers["etag"]
        again = erp.get(f"/documents/{document['id']}", headers={"If-None-Match": etag})
        weak = erp.get(
            f"/documents/{document['id']}", headers={"If-None-Match": f'"other", W/{etag}'}
        )
        other = erp.get(f"/documents/{document['id']}", headers={"If-None-Match": '"other"'})
    assert first.status_code == 200
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert weak.status_code == 304
    assert other.status_code == 200
    assert other.content == first.content


def test_journal_pdf_is_the_latest_rendered_revision(posted: Posted) -> None:
    """PS-000003 was reprinted after the serial correction (S9): revision 2 is served."""
    revisions = [d for d in posted.documents if d["journal"] == "PS-000003"]
    newest = max(revisions, key=lambda d: d["revision"])
    assert newest["revision"] == 2
    with posted.stack.client("erp") as erp:
        response = erp.get("/journals/PS-000003/pdf")
        cached = erp.get(
            "/journals/PS-000003/pdf", headers={"If-None-Match": response.headers["etag"]}
        )
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == newest["sha256"]
    assert newest["filename"] in response.headers["content-disposition"]
    assert cached.status_code == 304


def test_documents_of_one_journal(posted: Posted) -> None:
    with posted.stack.client("erp") as erp:
        response = erp.get("/documents", params={"journal": "PS-000003"})
        everything = erp.get("/documents", params={"limit": 1000}).json()["documents"]
        limited = erp.get("/documents", params={"limit": 2})
    assert response.status_code == 200
    listed = response.json()["documents"]
    assert [(d["journal"], d["revision"]) for d in listed] == [("PS-000003", 1), ("PS-000003", 2)]
    # A page: the oldest two, and where the next one starts (tests/http/test_documents_paging.py).
    assert [d["id"] for d in limited.json()["documents"]] == [d["id"] for d in everything[:2]]
    assert limited.json()["next"] == f"/documents?after={everything[1]['id']}&limit=2"
