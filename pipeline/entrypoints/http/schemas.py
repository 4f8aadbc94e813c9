"""What the OpenAPI document says about bodies: the contract's own models, reused.

The request body is read raw and parsed by `docpost.pipeline.contract` (floats kept as decimal text,
its exact error messages), so FastAPI never validates it; the models here only describe it.
The views of orders, journals, traces, documents, the ledger and revenue schedules are
`docpost.pipeline.queries` dicts, sent as they are (exactly `docpost show ... --json`): the
models below only describe them in OpenAPI. tests/http/test_api_schemas.py validates real
answers against the served document with every object closed, so a field added to a query
and not here (or the other way round) fails there rather than drifting.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from docpost.pipeline.contract import PAYLOADS, RequestId

MAX_BATCH = 1000


def _request_model(kind: str, payload: type[BaseModel]) -> type[BaseModel]:
    name = "".join(part.title() for part in kind.split("_")) + "Request"
    model: type[BaseModel] = create_model(
        name,
        __config__=ConfigDict(extra="forbid"),
        request_id=(RequestId, ...),
        kind=(Literal[kind], ...),  # type: ignore[valid-type]
        actor=(
            Annotated[
                str | None,
                Field(
                    min_length=1,
                    max_length=100,
                    description="optional: the key's actor; any other actor is refused (403)",
                ),
            ],
            None,
        ),
        payload=(payload, ...),
    )
    return model


_REQUEST_MODELS = [_request_model(kind, model) for kind, model in PAYLOADS.items()]


def request_body_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """(schema of the body, component schemas it refers to): one request or an array."""
    one = Annotated[
        _union(_REQUEST_MODELS),
        Field(discriminator="kind"),
    ]
    body = TypeAdapter(one | Annotated[list[one], Field(min_length=1, max_length=MAX_BATCH)])  # type: ignore[valid-type]
    schema = _standard_keywords(body.json_schema(ref_template="#/components/schemas/{model}"))
    return schema, schema.pop("$defs", {})


# pydantic writes the bounds of a constrained type wrapped in a BeforeValidator (the
# contract's LineNo, Count...) as its own keywords; JSON Schema spells them differently.
_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _standard_keywords(node: Any) -> Any:
    if isinstance(node, list):
        return [_standard_keywords(item) for item in node]
    if not isinstance(node, dict):
        return node
    is_schema = node.get("type") in ("integer", "number")
    return {
        (_BOUNDS.get(key, key) if is_schema else key): _standard_keywords(value)
        for key, value in node.items()
    }


def _union(models: list[type[BaseModel]]) -> Any:
    union: Any = models[0]
    for model in models[1:]:
        union = union | model
    return union


# --- responses -------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(description="stable dotted code, e.g. request.invalid, auth.missing")
    rule: str | None = Field(None, description="the DOMAIN.md rule cited, if any")
    message: str
    details: dict[str, Any] = {}


class ErrorBody(BaseModel):
    error: ErrorDetail


class OutcomeLinks(BaseModel):
    outcome: str = Field(description="GET this for the outcome (with ?wait=S to long-poll)")


class Accepted(BaseModel):
    """A request taken into the queue, or one seen before (then its stored outcome)."""

    request_id: str
    status: Literal["queued", "running", "succeeded", "rejected", "failed"]
    result: dict[str, Any] | None = None
    error: ErrorDetail | None = None
    links: OutcomeLinks


class Outcome(BaseModel):
    """A request's outcome (CONTRACT.md Outcomes)."""

    request_id: str
    status: Literal["queued", "running", "succeeded", "rejected", "failed"]
    result: dict[str, Any] | None = None
    error: ErrorDetail | None = None


class Finding(BaseModel):
    """One failed assertion of the official e-invoice rules (E2)."""

    ruleset: str
    rule: str
    flag: str
    message: str
    location: str = ""


class DocumentInfo(BaseModel):
    id: int
    kind: str
    # "pdf", or "ubl": the journal's EHF / Peppol BIS 3.0 e-invoice (E1)
    format: Literal["pdf", "ubl"]
    media_type: str
    journal: str
    revision: int
    filename: str
    # invalid: an e-invoice with a fatal finding of the official rules (E2), not to be sent
    status: Literal["pending", "rendered", "invalid", "failed"]
    sha256: str | None
    size: int | None
    attempts: int
    error: str | None
    # An e-invoice's findings (warnings too); null when it was not checked, and on PDFs.
    findings: list[Finding] | None
    rendered_at: str | None
    links: dict[str, str]


class DocumentList(BaseModel):
    """A page of documents, oldest first (keyset paging by id)."""

    documents: list[DocumentInfo]
    next: str | None = Field(
        description="the next page's address (`/documents?after=<last id>&limit=<limit>`, "
        "with `journal` when given), also in the `Link` header; null on the last page",
        examples=["/documents?after=100&limit=100"],
    )


# --- the views of pipeline.queries ------------------------------------------------------------

# Amounts and quantities are decimal text, as in requests (CONTRACT.md): "2300.00", "5", "-1".
DecimalText = Annotated[
    str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", examples=["2300.00"], description="a decimal")
]
Date = Annotated[str, Field(json_schema_extra={"format": "date"}, examples=["2026-01-31"])]
DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
JournalKind = Literal["confirmation", "packing_slip", "invoice", "credit_note"]


class SerialState(BaseModel):
    """A serial registration of an order line; `serial` null is a not-readable blank."""

    serial: str | None
    not_readable: bool
    state: Literal["registered", "shipped", "invoiced", "credited"]


class OrderLine(BaseModel):
    line: int
    item: str
    name: str
    quantity: DecimalText
    unit_price: DecimalText | None
    discount_percent: DecimalText | None
    discount_amount: DecimalText | None
    net_amount: DecimalText | None
    status: str = Field(description="open or canceled")
    bundle_parent: int | None = Field(description="the bundle parent's line, on a component")
    bom_quantity: DecimalText | None
    bundle_net_amount: DecimalText | None
    delivered: DecimalText | None
    invoiced: DecimalText | None
    invoiced_amount: DecimalText | None
    credited: DecimalText | None
    serials: list[SerialState]


class OrderView(BaseModel):
    """`docpost show order ORDER --json`."""

    order: str
    customer: str
    customer_name: str
    currency: str
    origin: str = Field(description="order, or pos (a POS sale)")
    store: str | None
    confirmed_at: DateTime | None
    lines: list[OrderLine]


class Registration(BaseModel):
    """S11: one registration a journal line included; a blank is `{null, true}`."""

    serial: str | None
    not_readable: bool


class JournalLineView(BaseModel):
    position: int
    line: int
    item: str
    name: str
    quantity: DecimalText
    unit_price: DecimalText | None
    discount_percent: DecimalText | None
    discount_amount: DecimalText | None
    amount: DecimalText | None
    bundle_line: int | None
    bundle_item: str | None
    bundle_parent: bool
    serials: list[str | None] = Field(description="S11, null for a not-readable blank")
    registrations: list[Registration]
    tax_code: str | None
    vat_category: str | None
    vat_rate: DecimalText | None


class VatPart(BaseModel):
    """T3: one tax code's base and VAT; the company_ amounts in the company currency (T7)."""

    tax_code: str
    category: str
    rate: DecimalText
    taxable_amount: DecimalText
    vat_amount: DecimalText
    company_taxable_amount: DecimalText | None
    company_vat_amount: DecimalText | None


class JournalDocumentLinks(BaseModel):
    pdf: str | None = Field(None, description="the PDF's bytes")
    xml: str | None = Field(None, description="the e-invoice's bytes (E1)")


class JournalDocument(BaseModel):
    id: int
    revision: int
    filename: str
    status: Literal["pending", "rendered", "invalid", "failed"]
    format: Literal["pdf", "ubl"]
    media_type: str
    findings: list[Finding] | None
    links: JournalDocumentLinks


class JournalLinks(BaseModel):
    pdf: str = Field(description="the latest rendered PDF")
    documents: str = Field(description="the journal's documents")
    xml: str | None = Field(None, description="its e-invoice, when it has one (E1)")


class JournalView(BaseModel):
    """`docpost show journal NUMBER --json` (the S11 inquiry), with links. A confirmation,
    invoice or credit note also has the VAT breakdown and totals (T3, P1, P2, T7)."""

    journal: str
    kind: JournalKind
    order: str | None
    customer: str
    currency: str
    posting_date: Date
    request_id: str
    actor: str
    reverses: str | None
    reversed_by: str | None
    total_amount: DecimalText | None
    document_date: Date | None
    vat: list[VatPart] | None = None
    net_total: DecimalText | None = None
    vat_total: DecimalText | None = None
    total: DecimalText | None = None
    due_date: Date | None = None
    kid: str | None = None
    exchange_rate: DecimalText | None = None
    buyer_reference: str | None = None
    lines: list[JournalLineView]
    documents: list[JournalDocument]
    links: JournalLinks


class Correction(BaseModel):
    """S9: a serial corrected on this registration."""

    old: str | None
    new: str | None
    actor: str
    at: DateTime


class Sale(BaseModel):
    serial: str | None
    item: str
    item_name: str
    customer: str
    customer_name: str
    order: str
    line: int
    packing_slip: str | None
    invoice: str | None
    credit_note: str | None
    date: Date | None
    credited: bool
    state: Literal["registered", "shipped", "invoiced", "credited"]
    corrections: list[Correction]
    warranty_months: int | None
    warranty_from: Date | None
    warranty_until: Date | None
    warranty_valid: bool | None = Field(description="S15: null when the item has no warranty")
    current: bool = Field(description="the sale the trace's own warranty fields are of")


class TraceView(BaseModel):
    """`docpost trace SERIAL --json` (S11, S15): each sale, the current one last."""

    serial: str
    item: str | None
    on: Date
    warranty_until: Date | None
    warranty_valid: bool | None
    sales: list[Sale]


class Period(BaseModel):
    from_: Date | None = Field(alias="from")
    to: Date | None


class LedgerEntryView(BaseModel):
    voucher: str
    journal: str | None
    date: Date
    account: str
    account_name: str
    debit: DecimalText | None
    credit: DecimalText | None
    text: str | None
    currency: str | None = Field(None, description="T7: the journal's currency, if foreign")
    document_amount: DecimalText | None = Field(None, description="T7: in that currency")


class AccountBalance(BaseModel):
    account: str
    name: str
    balance: DecimalText


class TrialBalance(BaseModel):
    accounts: list[AccountBalance]
    total: DecimalText


class VatSummaryRow(BaseModel):
    tax_code: str
    category: str
    rate: DecimalText
    taxable_amount: DecimalText
    vat_amount: DecimalText


class VatTotals(BaseModel):
    taxable_amount: DecimalText
    vat_amount: DecimalText


class LedgerView(BaseModel):
    """`docpost ledger --json` (L1): the entries, their trial balance, the VAT summary."""

    period: Period
    currency: str | None
    entries: list[LedgerEntryView]
    trial_balance: TrialBalance
    vat_summary: list[VatSummaryRow]
    vat_totals: VatTotals


class ScheduleLine(BaseModel):
    line: int
    item: str
    schedule: str
    occurrence: int
    period: Date
    amount: DecimalText
    credit_note: str | None = Field(description="the credit note that took this amount back")
    released: str | None = Field(description="the voucher that released it (B11)")


class ScheduleView(BaseModel):
    """`docpost show schedule INVOICE --json` (B11)."""

    invoice: str
    lines: list[ScheduleLine]
    deferred: DecimalText
    released: DecimalText
    remaining: DecimalText


class ScheduleSummary(BaseModel):
    invoice: str
    order: str | None
    customer: str
    deferred: DecimalText
    released: DecimalText
    remaining: DecimalText
    next_period: Date | None = Field(description="the first period not yet released")
    links: dict[str, str]


class ScheduleList(BaseModel):
    """The invoices with deferred revenue (B11), oldest first."""

    schedules: list[ScheduleSummary]


# --- operation ids ----------------------------------------------------------------------------

OPERATION_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def operation_id(route: APIRoute) -> str:
    """An operation's id in OpenAPI (what generated clients name their methods): the route
    function's own name, `get_journal`, not FastAPI's `get_journal_journals__number__get`."""
    return route.name


class Part(BaseModel):
    ok: bool
    detail: str | None = None


class Backlog(BaseModel):
    """Requests and documents overdue by DOCPOST_REPUBLISH_AFTER, and dead letters kept."""

    ok: bool
    detail: str | None = None
    queued_overdue: int | None = None
    pending_documents_overdue: int | None = None
    dead_letters: int | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    database: Part
    broker: Part
    workers: Part
    backlog: Backlog


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for error statuses, all in the error shape."""
    text = {
        400: "the body is not JSON",
        401: "no API key, or an unknown one",
        403: "the key's actor lacks the duty, or the body names another actor",
        404: "no such resource (or not visible to this key)",
        409: "request_id already used for another body; or the PDF is not rendered yet",
        413: "the body is too large",
        422: "the request breaks the contract (the specific messages of pipeline.contract)",
        503: "the database or the broker is unavailable",
    }
    return {status: {"model": ErrorBody, "description": text[status]} for status in statuses}
