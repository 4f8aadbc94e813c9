"""`docpost actor-key --list` and `--revoke KEY_ID`: keys can be listed (never shown) and
revoked, and the HTTP service refuses a revoked key (401) from its next call on."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.entrypoints.cli.output import readable_time
from docpost.pipeline.entrypoints.cli.serve import main
from docpost.pipeline.entrypoints.http.auth import caller_for_key, create_key
from tests.http.conftest import Posted, run_cli
from tests.http.test_pages import sign_in


def _make(sessions: sessionmaker[Session], actor: str) -> str:
    with sessions() as session, session.begin():
        return create_key(session, actor)


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_list_shows_each_key_without_the_key(
    usmf_sqlite: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    erp, warehouse = _make(usmf_sqlite, "erp"), _make(usmf_sqlite, "warehouse-1")
    assert main(["actor-key", "--list", "--json"]) == 0
    out = capsys.readouterr().out
    listed = json.loads(out)["keys"]
    assert [(k["id"], k["actor"], k["prefix"], k["revoked_at"]) for k in listed] == [
        (1, "erp", erp[:12], None),
        (2, "warehouse-1", warehouse[:12], None),
    ]
    assert all(k["created_at"] for k in listed)
    assert erp not in out and warehouse not in out

    assert main(["actor-key", "--list", "warehouse-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "actor", "prefix", "created", "revoked"]
    assert len(lines) == 3 and lines[2].split()[:3] == ["2", "warehouse-1", warehouse[:12] + "..."]

    assert main(["actor-key", "--list", "supervisor"]) == 0
    assert capsys.readouterr().out.strip() == "no API keys for supervisor"


def test_revoke_refuses_the_key_and_says_so(
    usmf_sqlite: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    erp, other = _make(usmf_sqlite, "erp"), _make(usmf_sqlite, "erp")
    assert main(["actor-key", "--revoke", "1"]) == 0
    assert capsys.readouterr().out.strip() == f"revoked API key 1 ({erp[:12]}...) of erp"
    with usmf_sqlite() as session:
        assert caller_for_key(session, erp) is None
        # Negative control: the actor's other key still works.
        assert caller_for_key(session, other) is not None

    assert main(["actor-key", "--list", "--json"]) == 0
    revoked_at = _json(capsys)["keys"][0]["revoked_at"]
    assert revoked_at is not None

    assert main(["actor-key", "--revoke", "1"]) == 0  # again: nothing changes
    assert capsys.readouterr().out.strip() == (
        f"API key 1 ({erp[:12]}...) of erp was already revoked at {readable_time(revoked_at)}"
    )
    assert readable_time(revoked_at).endswith(" UTC")  # people's time, not ISO 8601


def test_revoke_an_unknown_key_fails(
    usmf_sqlite: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["actor-key", "--revoke", "99"]) == 1
    assert capsys.readouterr().err.strip() == (
        "docpost: no API key has the id 99; `docpost actor-key --list` lists them"
    )
    assert main(["actor-key", "--revoke", "99", "--json"]) == 1
    assert _json(capsys)["error"]["code"] == "key.unknown"


def test_actor_key_usage_errors(
    usmf_sqlite: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["actor-key"]) == 2
    assert capsys.readouterr().err.strip() == (
        "docpost actor-key: name an ACTOR to make a key for, or use --list or --revoke KEY_ID"
    )
    assert main(["actor-key", "erp", "--revoke", "1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "docpost actor-key: --revoke takes a key id and no ACTOR"
    )
    with pytest.raises(SystemExit) as usage:
        main(["actor-key", "--list", "--revoke", "1"])
    assert usage.value.code == 2


@pytest.mark.postgres
@pytest.mark.redis
def test_the_service_refuses_a_revoked_key(posted: Posted) -> None:
    stack = posted.stack
    key = stack.new_key("erp")
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        bearer = {"Authorization": f"Bearer {key}"}
        assert client.get("/orders/SO-1001", headers=bearer).status_code == 200
        # A person signed in to the page with the same key (a session cookie holding no key).
        with stack.client() as signing_in:
            sign_in(signing_in, key)
            session_cookie = signing_in.cookies["docpost_session"]
        with stack.client(cookies={"docpost_session": session_cookie}) as browser:
            # Negative control: the session is signed in before the revocation.
            assert browser.get("/").status_code == 200

        listed = run_cli(
            "docpost.pipeline.entrypoints.cli.serve",
            "actor-key",
            "--list",
            "erp",
            "--json",
            env=stack.env,
        )
        assert listed.returncode == 0, listed.stderr
        assert key not in listed.stdout
        (key_id,) = [k["id"] for k in json.loads(listed.stdout)["keys"] if k["prefix"] == key[:12]]
        revoked = run_cli(
            "docpost.pipeline.entrypoints.cli.serve",
            "actor-key",
            "--revoke",
            str(key_id),
            env=stack.env,
        )
        assert revoked.returncode == 0, revoked.stderr

        refused = client.get("/orders/SO-1001", headers=bearer)
        posted_with_it = client.post(
            "/requests",
            headers=bearer,
            json={"request_id": "revoked-1", "kind": "confirm_order", "payload": {"order": "X"}},
        )
        with stack.client(cookies={"docpost_session": session_cookie}) as browser:
            page = browser.get("/")
            download = browser.get("/office/documents/1")
        # Negative control: the actor's other key is still taken.
        other = client.get(
            "/orders/SO-1001", headers={"Authorization": f"Bearer {stack.keys['erp']}"}
        )
    for response in (refused, posted_with_it):
        assert response.status_code == 401
        assert response.json()["error"] == {
            "code": "auth.revoked",
            "rule": None,
            "message": "the API key was revoked; ask an operator for a new one "
            "(`docpost actor-key ACTOR`)",
            "details": {},
        }
    # The session of a revoked key ends at once (its key is looked up on every request).
    assert page.status_code == 401 and "Sign in with your API key." in page.text
    assert download.status_code == 401
    assert other.status_code == 200
