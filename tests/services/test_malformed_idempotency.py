"""CONTRACT.md, requests: "The same request_id sent again ... returns the first outcome. The
same request_id with a different body is rejected (`request.conflict`)" - for a malformed
request too, whatever the layout it travels in (issue 17 item 7).

The issue's case: a malformed `upsert_order` (`quantity: "abc"`) sent as one line of a
JSON-lines file, then again, byte for byte, alone in a file, got `request.conflict` the second
time: a JSON-lines file reaches the runner as lines of text, a file holding one object as a
dict, and the fingerprint of an unparsed request was its text (or the dict's repr). Now a body
that is JSON at all is fingerprinted by its canonical form without its request_id - the very
formula of a valid request - and only text that is not JSON by its normalised text
(pipeline.runner.request_record.unparsed_fingerprint).

`docpost run` in this process and `docpost submit` as a subprocess (the embedded queue), the
HTTP service through its app, on SQLite and PostgreSQL. Negative controls: another malformed
body, or a valid one, under the used request_id is still a conflict. Upgrades: a valid
request's stored fingerprint is the one the code before this change stored (a constant
computed then), and a malformed request stored with the old text fingerprint still gets its
first outcome when sent again as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from docpost.pipeline.config import get_settings
from docpost.pipeline.contract import parse_request
from docpost.pipeline.entrypoints.cli.common import EXIT_OK, EXIT_REJECTED
from docpost.pipeline.entrypoints.cli.main import main
from docpost.pipeline.entrypoints.http.app import create_app
from docpost.pipeline.entrypoints.http.auth import create_key
from docpost.pipeline.runner.request_record import unparsed_fingerprint
from docpost.schema import RequestRecord
from docpost.schema.types import utcnow
from tests.conftest import Runner

ROOT = Path(__file__).resolve().parents[2]

PAYLOAD = {
    "order": "SO-1",
    "customer": "US-004",
    "lines": [{"line": 1, "item": "M0001", "quantity": "abc", "unit_price": "300.00"}],
}
MALFORMED = {"request_id": "m-1", "kind": "upsert_order", "actor": "erp", "payload": PAYLOAD}
# The issue's line, as an upstream system writes it (json.dumps' own spacing).
MALFORMED_LINE = json.dumps(MALFORMED)
OTHER_LINE = json.dumps(
    {
        "request_id": "ok-2",
        "kind": "upsert_order",
        "actor": "erp",
        "payload": {
            "order": "SO-2",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "M0001", "quantity": "1", "unit_price": "300.00"}],
        },
    }
)
VALID = {
    "request_id": "ok-1",
    "kind": "upsert_order",
    "actor": "erp",
    "payload": {
        "order": "SO-1",
        "customer": "US-004",
        "lines": [{"line": 1, "item": "M0001", "quantity": "2", "unit_price": "300.00"}],
    },
}
# sha256 of '{"actor":"erp","kind":"upsert_order","payload":{...}}' (sorted keys, no white
# space), computed by parse_request before issue 17: what an existing database holds for VALID.
VALID_SHA256 = "fb617e3e77a00ad8e856136bde3c9df180669c142ac7c366aba5001c53e29327"


def reversed_keys(value: Any) -> Any:
    """The same JSON with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


@pytest.fixture
def cli(usmf: Runner, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runner]:
    """`docpost` on the test database, the USMF catalog loaded."""
    monkeypatch.setenv("DOCPOST_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield usmf
    get_settings.cache_clear()


def docpost_run(
    capsys: pytest.CaptureFixture[str], path: Path, text: str
) -> tuple[int, list[dict[str, Any]]]:
    """`docpost run --json` of a file holding `text`: its exit code and outcomes."""
    path.write_bytes(text.encode("utf-8"))  # bytes: CR LF stays as written
    capsys.readouterr()
    code = main(["run", "--json", str(path)])
    return code, json.loads(capsys.readouterr().out)


def first_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> dict[str, Any]:
    """The issue's first step: the malformed request as one line of a JSON-lines file."""
    code, outcomes = docpost_run(
        capsys, tmp_path / "batch.jsonl", f"{MALFORMED_LINE}\n{OTHER_LINE}\n"
    )
    assert code == EXIT_REJECTED
    malformed, other = outcomes
    assert other["status"] == "succeeded", other
    assert malformed["request_id"] == "m-1" and malformed["status"] == "rejected"
    assert malformed["error"]["code"] == "request.invalid"
    assert "payload.lines[0].quantity" in malformed["error"]["message"]
    assert "'abc'" in malformed["error"]["message"]
    return malformed


def test_contract_idempotency_a_malformed_line_sent_again_alone_gets_its_first_outcome(
    cli: Runner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17's case exactly: the line of a JSON-lines file, then the same bytes alone in a
    file (which `docpost run` reads as one JSON object), give the same outcome."""
    first = first_run(capsys, tmp_path)
    code, again = docpost_run(capsys, tmp_path / "alone.jsonl", MALFORMED_LINE + "\n")
    assert code == EXIT_REJECTED
    assert again == [first]


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param(json.dumps(MALFORMED, indent=2, sort_keys=True) + "\n", id="pretty-sorted"),
        pytest.param(
            json.dumps(reversed_keys(MALFORMED), separators=(" , ", " :  ")) + "\r\n",
            id="keys-reversed-crlf",
        ),
        pytest.param(
            f"{OTHER_LINE}\r\n{json.dumps(reversed_keys(MALFORMED))}   \r\n\r\n",
            id="second-line-of-a-crlf-file",
        ),
        pytest.param(json.dumps([MALFORMED], indent=1), id="in-an-array"),
    ],
)
def test_contract_idempotency_key_order_and_white_space_do_not_make_another_request(
    cli: Runner, tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: str
) -> None:
    """The same malformed request with its keys reordered, other white space, CR LF line ends
    or inside an array is the same request: its first outcome, not a conflict."""
    first = first_run(capsys, tmp_path)
    _, again = docpost_run(capsys, tmp_path / "again.json", layout)
    assert [o for o in again if o["request_id"] == "m-1"] == [first]


def test_contract_idempotency_negative_control_another_malformed_body_is_a_conflict(
    cli: Runner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A genuinely different malformed body (quantity "abd"), or a valid one, under the used
    request_id is refused as `request.conflict`, and the first outcome stays."""
    first = first_run(capsys, tmp_path)
    other = {**MALFORMED, "payload": {**PAYLOAD, "lines": [{**PAYLOAD["lines"][0], "quantity": "abd"}]}}  # fmt: skip
    fixed = {**MALFORMED, "payload": {**PAYLOAD, "lines": [{**PAYLOAD["lines"][0], "quantity": "2"}]}}  # fmt: skip
    for body in (other, fixed):
        code, [outcome] = docpost_run(capsys, tmp_path / "other.jsonl", json.dumps(body) + "\n")
        assert code == EXIT_REJECTED
        assert outcome["error"]["code"] == "request.conflict", outcome
        assert outcome["error"]["message"] == (
            "request_id 'm-1' was already used for a different request; "
            "use a new request_id for a new request"
        )
    capsys.readouterr()
    assert main(["show", "request", "m-1", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == first


def test_contract_idempotency_through_docpost_submit(
    cli: Runner, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`docpost submit --wait` (the queue's path: record_queued, the client's conflict check)
    fingerprints as `docpost run` does: the request sent again with its keys reversed gets its
    first outcome; another malformed body under its id, `request.conflict`."""
    first = first_run(capsys, tmp_path)
    other = {**MALFORMED, "payload": {**PAYLOAD, "lines": [{**PAYLOAD["lines"][0], "quantity": "abd"}]}}  # fmt: skip
    path = tmp_path / "submit.jsonl"
    path.write_text(f"{json.dumps(reversed_keys(MALFORMED))}\n{json.dumps(other)}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCPOST_")}
    env["DOCPOST_DATABASE_URL"] = db_url  # and no broker: the embedded queue
    result = subprocess.run(
        [sys.executable, "-m", "docpost.pipeline.entrypoints.cli.main", "submit", "--wait",
         "--json", str(path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == EXIT_REJECTED, result.stderr
    again, conflict = json.loads(result.stdout)
    assert again == first
    assert conflict["request_id"] == "m-1"
    assert conflict["error"]["code"] == "request.conflict", conflict


def test_contract_idempotency_valid_fingerprints_are_unchanged(usmf: Runner) -> None:
    """A valid request is fingerprinted as before this change (an existing database's
    fingerprints still match: no request of before conflicts after an upgrade), and the
    fingerprint of an unparsed JSON body is the same formula."""
    assert parse_request(json.dumps(VALID)).body_sha256 == VALID_SHA256
    assert parse_request(reversed_keys(VALID)).body_sha256 == VALID_SHA256
    assert unparsed_fingerprint(VALID)[0] == VALID_SHA256
    assert unparsed_fingerprint(json.dumps(reversed_keys(VALID), indent=3))[0] == VALID_SHA256
    assert usmf("upsert_order", VALID["payload"], request_id="ok-1")["status"] == "succeeded"
    with usmf.sessions() as session:
        record = session.get(RequestRecord, "ok-1")
        assert record is not None and record.body_sha256 == VALID_SHA256


def test_contract_idempotency_an_existing_database_keeps_its_requests(
    cli: Runner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Requests stored before this change, as that code stored them: a valid request (its
    fingerprint the constant above) and a malformed line (fingerprinted by its text). Sent
    again after the upgrade - the valid one with its keys reversed, the malformed one as it
    was - each gets its first outcome; another body under the malformed one's id is still a
    conflict."""
    stored_error = {"code": "request.invalid", "rule": None, "message": "as stored", "details": {}}
    with cli.sessions() as session, session.begin():
        session.add_all(
            [
                RequestRecord(
                    request_id="ok-1", kind="upsert_order", actor="erp",
                    body_sha256=VALID_SHA256, body=json.dumps(VALID), status="succeeded",
                    result={"order": "SO-1", "as": "stored"}, attempts=1, finished_at=utcnow(),
                ),
                RequestRecord(
                    request_id="m-1", kind="upsert_order", actor="erp",
                    body_sha256=hashlib.sha256(MALFORMED_LINE.encode()).hexdigest(),
                    body=MALFORMED_LINE, status="rejected", error=stored_error, attempts=1,
                    finished_at=utcnow(),
                ),
            ]
        )  # fmt: skip
    text = f"{json.dumps(reversed_keys(VALID))}\n{MALFORMED_LINE}\n"
    _, (valid, malformed) = docpost_run(capsys, tmp_path / "after.jsonl", text)
    assert valid == {"request_id": "ok-1", "status": "succeeded", "result": {"order": "SO-1", "as": "stored"}}  # fmt: skip
    assert malformed == {"request_id": "m-1", "status": "rejected", "error": stored_error}
    other = json.dumps({**MALFORMED, "actor": "someone-else"})
    _, [conflict, _] = docpost_run(capsys, tmp_path / "other.jsonl", f"{other}\n{OTHER_LINE}\n")
    assert conflict["error"]["code"] == "request.conflict"


def test_contract_idempotency_http_and_the_cli_fingerprint_alike(
    cli: Runner,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same request through the HTTP service and through `docpost` is one request, both
    ways round: posted after `docpost run` it answers the stored outcome (not 409); recorded
    by POST /requests, `docpost run` of it with its keys reversed runs it (not a conflict).
    Another body under a used id is 409; a malformed body is 422 and stored nowhere (an HTTP
    caller has the answer in hand)."""
    published: list[Any] = []
    monkeypatch.setattr("docpost.tasks.client.publish_request", published.append)
    with cli.sessions() as session, session.begin():
        key = create_key(session, "erp")
    _, [ran] = docpost_run(capsys, tmp_path / "valid.jsonl", json.dumps(VALID) + "\n")
    assert ran["status"] == "succeeded", ran
    with TestClient(create_app(cli.sessions)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        answer = client.post("/requests", json=reversed_keys(VALID))
        assert answer.status_code == 202, answer.text
        assert {k: answer.json()[k] for k in ran} == ran
        changed = {**VALID, "payload": {**VALID["payload"], "customer": "US-001"}}
        refused = client.post("/requests", json=changed)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "request.conflict"
        malformed = client.post("/requests", json={**MALFORMED, "request_id": "m-http"})
        assert malformed.status_code == 422, malformed.text
        queued = client.post("/requests", json={**json.loads(OTHER_LINE), "request_id": "h-1"})
        assert queued.status_code == 202 and queued.json()["status"] == "queued", queued.text
    assert len(published) == 1  # only the new one; the stored outcome was answered as it is
    with cli.sessions() as session:
        assert session.get(RequestRecord, "m-http") is None
    reordered = json.dumps(reversed_keys({**json.loads(OTHER_LINE), "request_id": "h-1"}))
    _, [done] = docpost_run(capsys, tmp_path / "h.jsonl", reordered + "\n")
    assert done["request_id"] == "h-1" and done["status"] == "succeeded", done


def test_contract_idempotency_text_that_is_not_json_is_fingerprinted_normalised() -> None:
    """Text that is not JSON at all is hashed as text, whatever ends its lines and however
    much white space trails them; other text is another request. Bodies no column can hold
    (a NUL, a lone surrogate, bytes that are not UTF-8, keys JSON cannot sort) still get a
    fingerprint, and a body kept for inspection that a database can store."""
    same = {unparsed_fingerprint(t)[0] for t in ("{not json\nat all", "{not json  \r\nat all\r\n")}
    assert same == {unparsed_fingerprint(b"{not json\rat all\t\n\n")[0]}
    assert unparsed_fingerprint("{not json at all")[0] not in same
    for hostile in ("{\x00", {"a": "\ud800"}, b"\xff\xfe{", {1: "x", "a": "y"}):
        digest, kept = unparsed_fingerprint(hostile)
        assert len(digest) == 64
        assert "\x00" not in kept
        kept.encode("utf-8")  # no lone surrogate left
