"""The ledger (L1) and revenue schedules (B11) over HTTP (issue 18 item 2): GET /ledger with the
CLI's filters answers what `docpost ledger --json` prints; GET /revenue-schedules lists the
invoices with deferred revenue and GET /revenue-schedules/{invoice} is `docpost show schedule
--json`. The same access as the other reads (a key, the duty post_sales_documents; the browser's
cookie for a GET). In process, SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

import docpost.reports.render
from docpost.pipeline import clock, queries
from docpost.pipeline.config import get_settings
from docpost.pipeline.db import engine_for
from docpost.pipeline.entrypoints.cli.main import main
from docpost.pipeline.entrypoints.http.app import create_app
from docpost.pipeline.entrypoints.http.auth import create_key
from tests.conftest import Runner
from tests.services.test_usmf_example import run_all

FAKE_PDF = b"%PDF-1.7 not rendered by WeasyPrint in these tests\n"
READS = ["/ledger", "/revenue-schedules", "/revenue-schedules/INV-000001"]


@pytest.fixture
def posted(usmf: Runner, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """The USMF example run through the services, and an actor without any duty."""
    monkeypatch.setattr(docpost.reports.render, "render_pdf", lambda view, locale: FAKE_PDF)
    outcomes = run_all(usmf)
    assert {o["status"] for o in outcomes.values()} == {"succeeded"}, outcomes
    usmf.ok("upsert_catalog", {"actors": [{"actor": "auditor", "duties": []}]})
    return usmf


@pytest.fixture
def keys(posted: Runner) -> dict[str, str]:
    with posted.sessions() as session, session.begin():
        return {actor: create_key(session, actor) for actor in ("erp", "auditor")}


@pytest.fixture
def client(posted: Runner, keys: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(posted.sessions)) as client:
        client.headers["Authorization"] = f"Bearer {keys['erp']}"
        yield client


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """`docpost ...` on this test's database: (exit status, what --json printed)."""
    monkeypatch.setenv("DOCPOST_DATABASE_URL", db_url)
    get_settings.cache_clear()

    def run(*args: str) -> tuple[int, Any]:
        status = main([*args, "--json"])
        return status, json.loads(capsys.readouterr().out)

    yield run
    get_settings.cache_clear()
    engine_for(db_url).dispose()


# --- the ledger -------------------------------------------------------------------------------


def test_l1_the_ledger_over_http_is_docpost_ledger_json(client: TestClient, cli: Any) -> None:
    """L1: the entries, their trial balance (zero) and the VAT summary, as the CLI prints
    them; with each filter the CLI has."""
    answer = client.get("/ledger")
    assert answer.status_code == 200, answer.text
    ledger = answer.json()
    assert ledger["trial_balance"]["total"] == "0.00"
    assert cli("ledger") == (0, ledger)
    voucher = ledger["entries"][-1]["voucher"]
    for params, args in [
        ({"voucher": voucher}, ["--voucher", voucher]),
        ({"account": "1200"}, ["--account", "1200"]),
        (
            {"from": "2000-01-01", "to": "2999-12-31"},
            ["--from", "2000-01-01", "--to", "2999-12-31"],
        ),
        ({"voucher": voucher, "account": "1200"}, ["--voucher", voucher, "--account", "1200"]),
    ]:
        filtered = client.get("/ledger", params=params).json()
        assert cli("ledger", *args) == (0, filtered), params
        assert filtered["entries"]
    only = client.get("/ledger", params={"voucher": voucher}).json()["entries"]
    assert {e["voucher"] for e in only} == {voucher}
    receivable = client.get("/ledger", params={"account": "1200"}).json()["entries"]
    assert {e["account"] for e in receivable} == {"1200"}


def test_l1_an_empty_period_is_a_listing_not_a_miss(client: TestClient) -> None:
    """As `docpost ledger --from --to`: the whole ledger of a period without vouchers is an
    empty listing (200), its trial balance zero."""
    answer = client.get("/ledger", params={"from": "2000-01-01", "to": "2000-12-31"})
    assert answer.status_code == 200
    found = answer.json()
    assert found["entries"] == []
    assert found["period"] == {"from": "2000-01-01", "to": "2000-12-31"}
    assert found["trial_balance"] == {"accounts": [], "total": "0.00"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"voucher": "VOU-999"}, "no ledger entries of voucher 'VOU-999'"),
        ({"account": "9999"}, "no ledger entries of account '9999'"),
        (
            {"voucher": "VOU-999", "from": "2026-01-01", "to": "2026-01-31"},
            "no ledger entries of voucher 'VOU-999' from 2026-01-01 to 2026-01-31",
        ),
        (
            {"account": "9999", "to": "2026-01-31"},
            "no ledger entries of account '9999' up to 2026-01-31",
        ),
    ],
)
def test_l1_a_voucher_or_account_without_entries_is_404_as_the_cli_says(
    client: TestClient, cli: Any, params: dict[str, str], message: str
) -> None:
    """The same lookup that found nothing as `docpost ledger --voucher VOU-999` (exit 1)."""
    answer = client.get("/ledger", params=params)
    assert answer.status_code == 404
    assert answer.json() == {
        "error": {"code": "not_found", "rule": None, "message": message, "details": {}}
    }
    args = [a for key, value in params.items() for a in (f"--{key}", value)]
    status, printed = cli("ledger", *args)
    assert status == 1
    assert message in json.dumps(printed)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"from": "31.01.2026"},
            "query.from",
            "from '31.01.2026' is not a date; write it YYYY-MM-DD, e.g. 2026-01-31",
        ),
        (
            {"to": "2026-02-30"},
            "query.to",
            "to '2026-02-30' is not a date; write it YYYY-MM-DD, e.g. 2026-01-31",
        ),
        (
            {"from": "2026-02-01", "to": "2026-01-31"},
            "query.from",
            "from 2026-02-01 is after to 2026-01-31; the period runs from its first day to "
            "its last",
        ),
    ],
)
def test_a_bad_period_is_refused_in_the_error_shape(
    client: TestClient, params: dict[str, str], field: str, message: str
) -> None:
    answer = client.get("/ledger", params=params)
    assert answer.status_code == 422
    assert answer.json() == {
        "error": {
            "code": "request.invalid",
            "rule": None,
            "message": f"invalid call: {field}: {message}",
            "details": {"problems": [{"field": field, "message": message}]},
        }
    }


def test_an_over_long_filter_is_refused_by_its_bound(client: TestClient) -> None:
    answer = client.get("/ledger", params={"voucher": "V" * 31})
    assert answer.status_code == 422
    assert "query.voucher" in answer.json()["error"]["message"]


# --- revenue schedules (B11) ------------------------------------------------------------------


def test_b11_revenue_schedules_list_what_is_deferred_and_released(
    posted: Runner, client: TestClient
) -> None:
    """B11: the USMF bundles' support is deferred over 12 months; the list says per invoice
    what was deferred, released and remains, and links the invoice's schedule; a release
    moves the amounts and the next period."""
    listed = client.get("/revenue-schedules").json()["schedules"]
    first = next(s for s in listed if s["invoice"] == "INV-000001")
    with posted.sessions() as session:
        schedule = queries.show_schedule(session, "INV-000001")
    assert (first["deferred"], first["released"], first["remaining"]) == (
        schedule["deferred"],
        schedule["released"],
        schedule["remaining"],
    )
    assert first["order"] == "SO-1001" and first["customer"] == "US-004"
    assert first["links"] == {"schedule": "/revenue-schedules/INV-000001"}
    assert first["next_period"] == min(ln["period"] for ln in schedule["lines"])
    assert schedule["released"] == "0"

    today = clock.company_today()
    posted.ok("recognize_revenue", {"as_of": today.isoformat()})
    after = next(
        s
        for s in client.get("/revenue-schedules").json()["schedules"]
        if s["invoice"] == "INV-000001"
    )
    with posted.sessions() as session:
        released = queries.show_schedule(session, "INV-000001")
    assert after["released"] == released["released"] != "0"
    assert after["remaining"] == released["remaining"]
    assert after["next_period"] is not None and after["next_period"] > first["next_period"]
    assert client.get("/revenue-schedules/INV-000001").json() == released


def test_b11_remaining_lists_only_what_is_left_to_release(
    posted: Runner, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """?remaining=1: invoices with revenue still to release; all of it released (as of the
    last period), none remains; without the filter they are still listed."""
    everything = client.get("/revenue-schedules").json()["schedules"]
    assert client.get("/revenue-schedules", params={"remaining": 1}).json()["schedules"] == [
        s for s in everything if Decimal(s["remaining"]) != 0
    ]
    last = max(dt.date.fromisoformat(s["next_period"]) for s in everything if s["next_period"])
    far = last.replace(year=last.year + 2)
    # Released on the day itself (B11 never releases ahead of today).
    monkeypatch.setattr(clock, "company_today", lambda *zone: far)
    posted.ok("recognize_revenue", {"as_of": far.isoformat()})
    assert client.get("/revenue-schedules", params={"remaining": "true"}).json() == {
        "schedules": []
    }
    done = client.get("/revenue-schedules").json()["schedules"]
    assert {s["invoice"] for s in done} == {s["invoice"] for s in everything}
    assert all(s["next_period"] is None for s in done)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/revenue-schedules/INV-999999", "invoice 'INV-999999' does not exist"),
        ("/revenue-schedules/PS-000001", "invoice 'PS-000001' does not exist"),
        ("/revenue-schedules/a%00b", "invoice 'a\\x00b' does not exist"),
    ],
)
def test_b11_an_unknown_invoice_has_no_schedule(
    client: TestClient, path: str, message: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.json()["error"] == {
        "code": "not_found",
        "rule": None,
        "message": message,
        "details": {},
    }


# --- who may read them -----------------------------------------------------------------------


@pytest.mark.parametrize("path", READS)
def test_m5_the_ledger_and_schedules_need_a_key_and_the_read_duty(
    posted: Runner, keys: dict[str, str], path: str
) -> None:
    """As every read (tests/http/test_refusals.py's table): no key 401, a key without
    post_sales_documents 403, a reader 200; a key in a cookie is no key (401)."""
    with TestClient(create_app(posted.sessions)) as anonymous:
        missing = anonymous.get(path)
        auditor = anonymous.get(path, headers={"Authorization": f"Bearer {keys['auditor']}"})
        reader = anonymous.get(path, headers={"Authorization": f"Bearer {keys['erp']}"})
        anonymous.cookies.set("docpost_key", keys["erp"])
        cookie = anonymous.get(path)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "auth.missing"
    assert auditor.status_code == 403
    assert auditor.json()["error"] == {
        "code": "actor.missing_duty",
        "rule": "M5",
        "message": "actor 'auditor' may not read orders, journals, documents or traces; that "
        "needs the duty post_sales_documents",
        "details": {"duty": "post_sales_documents"},
    }
    assert reader.status_code == 200
    assert (cookie.status_code, cookie.json()["error"]["code"]) == (401, "auth.missing")


@pytest.mark.parametrize(
    ("misspelt", "unknown", "takes", "right"),
    [
        ("/ledger?limt=5", "limt", "account, from, to, voucher", "/ledger?from=2026-01-01"),
        ("/documents?lmit=2", "lmit", "after, journal, limit", "/documents?limit=2"),
        (
            "/revenue-schedules?remaning=1",
            "remaning",
            "remaining",
            "/revenue-schedules?remaining=1",
        ),
    ],
)
def test_an_unknown_query_parameter_is_refused_by_name(
    client: TestClient, misspelt: str, unknown: str, takes: str, right: str
) -> None:
    """A misspelt query parameter is refused (422) instead of silently answering with the
    default, naming it and what the call takes. Negative controls: the same call spelt right
    answers 200; /health is not held to it."""
    answer = client.get(misspelt)
    assert answer.status_code == 422
    assert answer.json()["error"]["message"] == (
        f"invalid call: unknown query parameter(s) {unknown!r}; this call takes: {takes}"
    )
    assert client.get(right).status_code == 200
    assert client.get("/health?probe=1").status_code in (200, 503)
