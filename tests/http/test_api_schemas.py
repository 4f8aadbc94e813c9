"""The OpenAPI document says what the reads answer (issue 18 item 2): orders, journals (with
their VAT, registrations and documents), traces (with S15's warranty), documents, the ledger,
revenue schedules and outcomes each have a response schema, and real answers are validated
against the served document with every object closed, so neither side can drift: a field a
query adds without the schema, or one the schema promises and the query lacks, fails here.

In process (the app over this test's database, SQLite and PostgreSQL): the USMF example run
through the services; the Norwegian e-invoice shop for VAT, e-invoices and their findings.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import pytest
from fastapi.openapi.utils import get_openapi
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

import docpost.reports.render
from docpost.pipeline import queries
from docpost.pipeline.documents import render_pending
from docpost.pipeline.entrypoints.http.app import create_app
from docpost.pipeline.entrypoints.http.auth import create_key
from docpost.pipeline.entrypoints.http.schemas import request_body_schema
from docpost.reports.einvoice.validation import Finding
from docpost.schema import Document, Journal, SalesOrder, SerialRegistration
from tests.conftest import Runner
from tests.einvoice.conftest import shop
from tests.services.test_usmf_example import run_all

__all__ = ["shop"]  # the fixture: the Norwegian example with e-invoices (E1)

FAKE_PDF = b"%PDF-1.7 not rendered by WeasyPrint in these tests\n"


# --- the served document, closed -------------------------------------------------------------


def closed(node: Any) -> Any:
    """A schema with every object that lists its properties closed to others: the test's
    reading, so an undeclared field fails (the served document stays open to additions)."""
    if isinstance(node, list):
        return [closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    found = {key: closed(value) for key, value in node.items()}
    if "properties" in found and "additionalProperties" not in found:
        found["additionalProperties"] = False
    return found


@dataclass
class Api:
    client: TestClient
    document: dict[str, Any]
    sessions: sessionmaker[Any]

    def schema_of(self, path: str, method: str = "get", status: str = "200") -> dict[str, Any]:
        operation = self.document["paths"][path][method]
        schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"][
            "schema"
        ]
        return schema

    def check(self, response: Any, path: str, method: str = "get", status: str = "200") -> Any:
        """The answer's JSON, valid under the operation's schema with every object closed."""
        assert response.status_code == int(status), response.text
        body = response.json()
        problems = self.problems(body, path, method, status)
        assert problems == [], f"{response.request.url}: {problems}"
        return body

    def problems(self, body: Any, path: str, method: str = "get", status: str = "200") -> list[str]:
        schema = closed(self.schema_of(path, method, status))
        components = closed(self.document["components"])
        validator = jsonschema_rs.Draft202012Validator(
            {**schema, "components": components}, validate_formats=True
        )
        return [
            f"{'/'.join(map(str, error.instance_path))}: {error.message}"
            for error in validator.iter_errors(body)
        ]


def api_for(run: Runner) -> Iterator[Api]:
    with run.sessions() as session, session.begin():
        key = create_key(session, "erp")
    app = create_app(run.sessions)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield Api(client, app.openapi(), run.sessions)


@pytest.fixture
def fake_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The PDFs' bytes are not under test here: WeasyPrint's seconds are spared."""
    monkeypatch.setattr(docpost.reports.render, "render_pdf", lambda view, locale: FAKE_PDF)


@pytest.fixture
def usmf_api(usmf: Runner, fake_pdf: None) -> Iterator[Api]:
    """The USMF example run through the services (bundles, serials, a correction, bulk
    invoicing, a credit note, a POS sale), its PDFs rendered."""
    outcomes = run_all(usmf)
    assert {o["status"] for o in outcomes.values()} == {"succeeded"}, outcomes
    render_pending(usmf.sessions)
    yield from api_for(usmf)


@pytest.fixture
def norway_api(shop: Runner, fake_pdf: None) -> Iterator[Api]:
    """The Norwegian shop (company, tax codes, Peppol): an invoice with its e-invoice and a
    credit note, rendered; the e-invoice with a finding of the official rules as E2 stores
    them (the rules themselves are not run here)."""
    shop.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "NO-1001",
            "lines": [
                {"line": 1, "item": "KNIV-1", "quantity": "2", "unit_price": "249.00"},
                {"line": 2, "item": "OST-1", "quantity": "1", "unit_price": "189.00"},
            ],
        },
    )
    shop.ok("confirm_order", {"order": "SO-1"})
    shop.ok("post_invoice", {"order": "SO-1"})
    shop.ok("post_credit_note", {"invoice": "INV-000001", "lines": [{"line": 2, "quantity": "1"}]})
    render_pending(shop.sessions)
    finding = Finding("PEPPOL", "PEPPOL-EN16931-R004", "warning", "a warning", "/Invoice")
    with shop.sessions() as session, session.begin():
        row = session.scalars(
            select(Document)
            .join(Journal, Journal.id == Document.journal_id)
            .where(Journal.number == "INV-000001", Document.format == "ubl")
        ).one()
        row.findings = [asdict(finding)]
    yield from api_for(shop)


# --- every read, validated -------------------------------------------------------------------


def journals(api: Api) -> list[str]:
    with api.sessions() as session:
        return list(session.scalars(select(Journal.number).order_by(Journal.id)))


def test_every_order_journal_and_trace_of_the_usmf_example_fits_its_schema(
    usmf_api: Api,
) -> None:
    """Every order, every journal (confirmations, packing slips, invoices, a credit note, a
    POS sale), every serial's trace: valid under the served schema, closed."""
    with usmf_api.sessions() as session:
        orders = list(session.scalars(select(SalesOrder.order_no)))
        serials = set(session.scalars(select(SerialRegistration.serial))) - {None}
    numbers = journals(usmf_api)
    assert {"CONF-000001", "PS-000001", "INV-000001", "CN-000001"} <= set(numbers)
    for order in orders:
        usmf_api.check(usmf_api.client.get(f"/orders/{quote(order)}"), "/orders/{order}")
    for number in numbers:
        journal = usmf_api.check(usmf_api.client.get(f"/journals/{number}"), "/journals/{number}")
        assert journal["documents"], number
    assert serials
    for serial in sorted(serials):
        trace = usmf_api.check(usmf_api.client.get(f"/trace/{serial}"), "/trace/{serial}")
        assert "warranty_valid" in trace and trace["sales"]


def test_documents_ledger_schedules_and_outcomes_fit_their_schemas(usmf_api: Api) -> None:
    client = usmf_api.client
    documents = usmf_api.check(client.get("/documents"), "/documents")
    assert documents["documents"] and documents["documents"][0]["status"] == "rendered"
    usmf_api.check(client.get("/documents?journal=INV-000001"), "/documents")
    ledger = usmf_api.check(client.get("/ledger"), "/ledger")
    assert ledger["entries"] and ledger["trial_balance"]["total"] == "0.00"
    voucher = ledger["entries"][0]["voucher"]
    usmf_api.check(client.get("/ledger", params={"voucher": voucher}), "/ledger")
    usmf_api.check(client.get("/ledger", params={"from": "2000-01-01"}), "/ledger")
    schedules = usmf_api.check(client.get("/revenue-schedules"), "/revenue-schedules")
    assert schedules["schedules"], "the USMF bundles defer their support (B11)"
    invoice = schedules["schedules"][0]["invoice"]
    usmf_api.check(client.get(f"/revenue-schedules/{invoice}"), "/revenue-schedules/{invoice}")
    usmf_api.check(client.get("/requests/usmf-001"), "/requests/{request_id}")
    usmf_api.check(client.get("/health"), "/health")


def test_a_vat_invoice_its_einvoice_findings_and_credit_fit_their_schemas(
    norway_api: Api,
) -> None:
    """T3, P1, P2, E1, E2: the VAT breakdown, totals, due date and KID; the e-invoice beside
    the PDF with its format, media type and findings; in the journal and the documents list."""
    client = norway_api.client
    invoice = norway_api.check(client.get("/journals/INV-000001"), "/journals/{number}")
    assert invoice["vat"] and invoice["kid"] and invoice["due_date"]
    assert invoice["lines"][0]["vat_rate"] is not None
    (xml,) = [d for d in invoice["documents"] if d["format"] == "ubl"]
    assert xml["media_type"] == "application/xml"
    assert xml["findings"][0]["rule"] == "PEPPOL-EN16931-R004"
    assert invoice["links"]["xml"] == "/journals/INV-000001/xml"
    for number in journals(norway_api):
        norway_api.check(client.get(f"/journals/{number}"), "/journals/{number}")
    norway_api.check(client.get("/documents"), "/documents")
    ledger = norway_api.check(client.get("/ledger"), "/ledger")
    assert ledger["vat_summary"] and ledger["currency"] == "NOK"
    norway_api.check(client.get("/orders/SO-1"), "/orders/{order}")


def test_the_answers_are_the_queries_dicts_unfiltered(usmf_api: Api) -> None:
    """The response models describe; they do not filter: the answer is `docpost show
    --json` (the journal with its links), field for field."""
    with usmf_api.sessions() as session:
        order = queries.show_order(session, "SO-1001")
        journal = queries.show_journal(session, "INV-000001")
        schedule = queries.show_schedule(session, "INV-000001")
    assert usmf_api.client.get("/orders/SO-1001").json() == order
    answered = usmf_api.client.get("/journals/INV-000001").json()
    assert answered.pop("links") == {
        "pdf": "/journals/INV-000001/pdf",
        "documents": "/documents?journal=INV-000001",
    }
    for document in answered["documents"]:
        document.pop("links")
    assert answered == journal
    assert usmf_api.client.get("/revenue-schedules/INV-000001").json() == schedule


# --- the check itself: it fails where it should ----------------------------------------------


def test_negative_control_an_undeclared_or_missing_field_fails_validation(usmf_api: Api) -> None:
    """Without this, a schema of `{}` would pass every test above."""
    journal = usmf_api.check(usmf_api.client.get("/journals/INV-000001"), "/journals/{number}")
    added = copy.deepcopy(journal)
    added["lines"][0]["surprise"] = 1
    assert usmf_api.problems(added, "/journals/{number}") == [
        "lines/0: Additional properties are not allowed ('surprise' was unexpected)"
    ]
    missing = copy.deepcopy(journal)
    del missing["documents"][0]["media_type"]
    assert usmf_api.problems(missing, "/journals/{number}") == [
        'documents/0: "media_type" is a required property'
    ]
    trace = usmf_api.client.get("/trace/SP-0001").json()
    trace["warranty_valid"] = "yes"
    assert usmf_api.problems(trace, "/trace/{serial}") != []
    order = usmf_api.client.get("/orders/SO-1001").json()
    order["lines"][0]["quantity"] = "five"
    assert usmf_api.problems(order, "/orders/{order}") != []


def test_every_json_answer_of_the_api_has_a_named_schema(usmf_api: Api) -> None:
    """No operation answers an untyped object: every 2xx JSON answer refers to a component
    (or a choice of components), and every error to the error shape."""
    untyped = []
    for path, operations in usmf_api.document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema is None:
                    continue
                refs = [schema, *schema.get("anyOf", []), *[schema.get("items", {})]]
                if not any("$ref" in s for s in refs):
                    untyped.append(f"{method.upper()} {path} {status}: {schema}")
    assert untyped == []


def test_request_body_components_do_not_replace_the_response_components() -> None:
    """app.py adds the request body's components to FastAPI's: no name may be in both, or
    a response schema would silently become a request's."""
    app = create_app(sessionmaker())
    responses = get_openapi(title="t", version="1", routes=app.routes)["components"]["schemas"]
    _, request_components = request_body_schema()
    assert "JournalView" in responses and "ConfirmOrderRequest" in request_components
    assert set(responses) & set(request_components) == set()
