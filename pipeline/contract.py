"""The request contract (CONTRACT.md): parse a request into a typed command, or reject it.

Parsing happens before anything is written. Every malformed request gets `request.invalid`
with the path of each bad field and what would be right.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
)

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.money import quantity_text
from docpost.pipeline.rules.serials import MAX_SERIAL_LENGTH, registrations_given
from docpost.pipeline.rules.text import printable_text
from docpost.pipeline.rules.warranty import MAX_WARRANTY_MONTHS

MAX_QUANTITY = Decimal("1000000000")
MAX_PRICE = Decimal("1000000000000")
MAX_LIST = 100_000


# A decimal as text: optional sign, ASCII digits, optional point and digits. Not Python's
# Decimal() syntax, which also takes "1_000", other scripts' digits ("\u0665"), "NaN",
# "Infinity" and exponents ("1e3"): a quantity is written out, as it is printed.
_DECIMAL_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def _decimal(value: Any) -> Decimal:
    """Amounts and quantities are decimal strings; JSON numbers are read as their text."""
    if isinstance(value, bool):
        raise ValueError("must be a decimal number, not true/false")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        if len(value) > 40 or not _DECIMAL_TEXT.fullmatch(value):
            raise ValueError(
                f'must be a decimal number such as "5" or "2300.00", got {value[:50]!r}: '
                "only the digits 0-9 with an optional sign and decimal point (no spaces, "
                "exponents or digit separators)"
            )
        number = Decimal(value)
    else:
        raise ValueError('must be a decimal number such as "5" or "2300.00"')
    if not number.is_finite():
        raise ValueError("must be a finite number")
    return number


def _places(limit: int) -> Any:
    def check(number: Decimal) -> Decimal:
        # Range is checked first, so quantize cannot overflow here.
        if number != number.quantize(Decimal(1).scaleb(-limit)):
            raise ValueError(f"may have at most {limit} decimals, got {number}")
        return number

    return AfterValidator(check)


def _between(low: Decimal, high: Decimal, *, low_open: bool = False) -> Any:
    def check(number: Decimal) -> Decimal:
        if number < low or (low_open and number == low):
            raise ValueError(f"must be greater than {'' if low_open else 'or equal to '}{low}")
        if number > high:
            raise ValueError(f"must be at most {high}")
        return number

    return AfterValidator(check)


def _printable(text: str) -> str:
    return printable_text(text)


def _printable_lines(text: str) -> str:
    return printable_text(text, multiline=True)


# Text that prints on a document or in a message: no control or format characters (S4 for
# serials, the same for every other text; pipeline.rules.text).
Printable = AfterValidator(_printable)


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    return value


Quantity = Annotated[
    Decimal,
    BeforeValidator(_decimal),
    _between(Decimal(0), MAX_QUANTITY, low_open=True),
    _places(6),
]
Price = Annotated[Decimal, BeforeValidator(_decimal), _between(Decimal(0), MAX_PRICE), _places(6)]
Percent = Annotated[
    Decimal, BeforeValidator(_decimal), _between(Decimal(0), Decimal(100)), _places(2)
]
LineNo = Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=1_000_000)]
Count = Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=MAX_LIST)]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), Printable
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Printable
]
# Serials are normalised and checked by the posting services (pipeline.rules.serials), whose
# messages name the order, line and item.
RawSerial = Annotated[str, StringConstraints(max_length=MAX_SERIAL_LENGTH)]
JournalNo = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30), Printable
]
# T7: company currency per unit of the order's currency; positivity is rules.tax's refusal
# (currency.exchange_rate_not_positive), so the contract only bounds its size.
ExchangeRate = Annotated[
    Decimal, BeforeValidator(_decimal), _between(Decimal(0), MAX_PRICE), _places(10)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- master data -----------------------------------------------------------------------------


class TrackingGroupIn(Strict):
    code: Code
    name: Name
    serial_active_in_sales_process: bool = False
    serial_number_control: bool = False
    blank_issue_allowed: bool = False
    serial_primary_stocking: bool = False
    serial_physical_inventory: bool = False
    serial_financial_inventory: bool = False


class RevenueScheduleIn(Strict):
    code: Code
    name: Name
    occurrences: Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=600)]


def _warranty_months(months: int) -> int:
    # S15: 0 would be a warranty of the delivery day alone: an item without one leaves it out.
    if not 1 <= months <= MAX_WARRANTY_MONTHS:
        raise ValueError(
            f"{months} is no warranty period; give whole months from 1 to "
            f"{MAX_WARRANTY_MONTHS}, or leave warranty_months out for an item without warranty"
        )
    return months


WarrantyMonths = Annotated[
    int,
    BeforeValidator(_no_bool),
    AfterValidator(_warranty_months),
    Field(json_schema_extra={"minimum": 1, "maximum": MAX_WARRANTY_MONTHS}),
]


class ItemIn(Strict):
    item: Code
    name: Name
    unit: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20), Printable
    ]
    base_sales_price: Price
    tracking_group: Code | None = None
    catch_weight: bool = False
    bundle: bool = False
    revenue_schedule: Code | None = None
    tax_code: Code | None = None  # M8: the tax code its sales lines carry
    # S15: the warranty in whole months from delivery; left out (or null): no warranty.
    warranty_months: WarrantyMonths | None = None


class BomComponentIn(Strict):
    item: Code
    quantity: Quantity


class BomIn(Strict):
    bundle: Code
    components: Annotated[list[BomComponentIn], Field(min_length=1, max_length=100)]


# --- parties and tax codes (M6-M8) -------------------------------------------------------------
# Values with a checker of their own (organisation numbers, VAT ids, bank accounts, countries,
# currencies, time zones, categories, ...) are taken here as plain text and checked by
# pipeline.rules.parties and pipeline.rules.masterdata, whose refusals name the rule (M6-M8).

ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), Printable
]
# Five lines of at most 99 characters join (with line feeds) into the 500 characters of the
# customers' address column.
AddressLine = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=99), Printable
]
Postcode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20), Printable
]
City = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Printable
]
PeppolEndpoint = City  # "scheme:identifier", up to 100 characters like a city
Account = Postcode  # a ledger account, up to 20 characters like a postcode
PaymentTerms = Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=365)]


class AddressIn(Strict):
    """A postal address in parts (M6, M7); `country` an ISO 3166 alpha-2 code."""

    lines: Annotated[list[AddressLine], Field(max_length=5)] = []
    postcode: Postcode | None = None
    city: City | None = None
    country: ShortText | None = None


# An address as one string (as before issue 15): its lines, as written; line feeds in it are its
# line breaks (CR LF and CR are read as LF).
LegacyAddress = Annotated[str, StringConstraints(max_length=500), AfterValidator(_printable_lines)]


def _address_form(value: Any) -> str:
    return _ADDRESS_AS_TEXT if isinstance(value, str) else _ADDRESS_IN_PARTS


# Tags of the two forms of a customer's address: the form is chosen by the value's type, so a
# refusal names only what is wrong with the form given (_describe leaves the tags out of the
# field's path).
_ADDRESS_AS_TEXT, _ADDRESS_IN_PARTS = "address as text", "address in parts"
UNION_TAGS = frozenset({_ADDRESS_AS_TEXT, _ADDRESS_IN_PARTS})
CustomerAddress = Annotated[
    Annotated[AddressIn, Tag(_ADDRESS_IN_PARTS)] | Annotated[LegacyAddress, Tag(_ADDRESS_AS_TEXT)],
    Discriminator(_address_form),
]


class CompanyIn(Strict):
    """The seller on every document (M6)."""

    name: Name
    address: AddressIn = AddressIn()
    organisation_number: ShortText | None = None
    vat_registered: bool = False
    foretaksregisteret: bool = False
    currency: ShortText
    bank_account: ShortText | None = None
    iban: ShortText | None = None
    bic: ShortText | None = None
    peppol_endpoint: PeppolEndpoint | None = None
    time_zone: ShortText = "UTC"
    payment_terms_days: PaymentTerms = 30
    kid_scheme: ShortText = "MOD10"


class TaxRateIn(Strict):
    # Range and decimals are M8's, checked by pipeline.rules.masterdata.plan_tax_code.
    rate: Annotated[Decimal, BeforeValidator(_decimal)]
    valid_from: dt.date


class TaxCodeIn(Strict):
    """A tax code (M8): its EN 16931 category, its rates by date, its output VAT account."""

    code: Code
    name: Name
    category: ShortText
    rates: Annotated[list[TaxRateIn], Field(min_length=1, max_length=1_000)]
    account: Account | None = None


class CustomerIn(Strict):
    customer: Code
    name: Name
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    # An object in parts (M7), or one string as before (address_parts reads it as its lines).
    address: CustomerAddress = ""
    organisation_number: ShortText | None = None
    vat_id: ShortText | None = None
    peppol_endpoint: PeppolEndpoint | None = None
    payment_terms_days: PaymentTerms | None = None
    tax_treatment: ShortText = "domestic"
    language: ShortText | None = None

    @property
    def address_parts(self) -> AddressIn:
        """The address in parts: a string given is its lines, as written."""
        if isinstance(self.address, AddressIn):
            return self.address
        return AddressIn.model_construct(lines=[self.address] if self.address else [])


# pipeline.duties.ALL_DUTIES (M5), spelled out for the schema.
Duty = Literal[
    "post_sales_documents",
    "maintain_sales_orders",
    "maintain_master_data",
    "manage_actors",
    "recognize_revenue",
    "register_non_readable_serials",
    "correct_serial_numbers",
]


class ActorIn(Strict):
    actor: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Printable
    ]
    duties: list[Duty] = []


class UpsertCatalog(Strict):
    company: CompanyIn | None = None
    tax_codes: Annotated[list[TaxCodeIn], Field(max_length=10_000)] = []
    tracking_groups: Annotated[list[TrackingGroupIn], Field(max_length=10_000)] = []
    revenue_schedules: Annotated[list[RevenueScheduleIn], Field(max_length=10_000)] = []
    items: Annotated[list[ItemIn], Field(max_length=100_000)] = []
    boms: Annotated[list[BomIn], Field(max_length=10_000)] = []
    customers: Annotated[list[CustomerIn], Field(max_length=100_000)] = []
    actors: Annotated[list[ActorIn], Field(max_length=10_000)] = []


# --- orders ----------------------------------------------------------------------------------


class PricedLineIn(Strict):
    """What prices a sales line, alike on an order line and on a point-of-sale line: both
    become sales lines whose net amount is reckoned from these fields alone."""

    item: Code
    quantity: Quantity
    unit_price: Price
    discount_percent: Percent = Decimal(0)
    discount_amount: Price = Decimal(0)


class _NumberedLine(Strict):
    line: LineNo


# Bases in this order keep `line` the first field (pydantic lists the fields of the last base
# first), as CONTRACT.md writes it: a request's problems are reported in field order.
class OrderLineIn(PricedLineIn, _NumberedLine):
    # B14: a bundle parent line may leave its price out (it takes the bundle item's base sales
    # price); any other line still needs one. Only the catalog knows which item is a bundle, so
    # upsert_order decides (rules.orders.entered_unit_price), naming the line and item.
    unit_price: Price | None = Field(
        None,
        description="required, except on a bundle parent line (B14): left out (or null), it "
        "is the bundle item's base sales price",
    )
    site: Code | None = None
    warehouse: Code | None = None


class UpsertOrder(Strict):
    order: Code
    customer: Code
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    lines: Annotated[list[OrderLineIn], Field(max_length=10_000)] = []
    remove_lines: Annotated[list[LineNo], Field(max_length=10_000)] = []
    # Additions for real invoices (P3, T7): None keeps what the order has.
    buyer_reference: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Printable
        ]
        | None
    ) = None
    exchange_rate: ExchangeRate | None = None


class ConfirmOrder(Strict):
    order: Code
    document_date: dt.date | None = None  # P1: default today in the company's time zone


class Scan(Strict):
    value: RawSerial
    mode: Literal["add", "remove"]


class SerialInput(Strict):
    """The serial fields a posting line may carry; several add up (CONTRACT.md)."""

    serials: Annotated[list[RawSerial], Field(max_length=MAX_LIST)] = []
    scans: Annotated[list[Scan], Field(max_length=MAX_LIST)] = []
    scan_stream: Annotated[str, StringConstraints(max_length=1_000_000)] = ""
    not_readable: Count = 0

    @property
    def has_serial_input(self) -> bool:
        return bool(self.serials or self.scans or self.scan_stream or self.not_readable)


class PostingLineIn(SerialInput):
    line: LineNo
    item: Code | None = None  # addresses a bundle component as {line: parent, item: component}
    quantity: Quantity


class PostPackingSlip(Strict):
    order: Code
    lines: Annotated[list[PostingLineIn], Field(min_length=1, max_length=10_000)] | None = None
    document_date: dt.date | None = None  # P1


class PostInvoice(Strict):
    order: Code
    packing_slips: Annotated[list[JournalNo], Field(min_length=1, max_length=1_000)] | None = None
    lines: Annotated[list[PostingLineIn], Field(min_length=1, max_length=10_000)] | None = None
    document_date: dt.date | None = None  # P1


class CreditLineIn(Strict):
    line: LineNo
    item: Code | None = None
    quantity: Quantity
    serials: Annotated[list[RawSerial], Field(max_length=MAX_LIST)] = []


class PostCreditNote(Strict):
    invoice: JournalNo
    lines: Annotated[list[CreditLineIn], Field(min_length=1, max_length=10_000)] | None = None
    document_date: dt.date | None = None  # P1


class CancelPackingSlip(Strict):
    packing_slip: JournalNo


class ChangeSerial(Strict):
    order: Code
    line: LineNo
    item: Code | None = None
    old: RawSerial | None
    new: RawSerial | None


class PosLineIn(PricedLineIn):
    serial: RawSerial | None = None
    not_readable: bool = False


class PostPosSale(Strict):
    store: Code | None = None
    customer: Code | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    lines: Annotated[list[PosLineIn], Field(min_length=1, max_length=1_000)]
    document_date: dt.date | None = None  # P1


class BulkInvoice(Strict):
    customer: Code | None = None
    orders: Annotated[list[Code], Field(min_length=1, max_length=100_000)] | None = None


class RecognizeRevenue(Strict):
    """Beyond CONTRACT.md (B11): release deferred revenue due by `as_of`."""

    as_of: dt.date


PAYLOADS: dict[str, type[Strict]] = {
    "upsert_catalog": UpsertCatalog,
    "upsert_order": UpsertOrder,
    "confirm_order": ConfirmOrder,
    "post_packing_slip": PostPackingSlip,
    "post_invoice": PostInvoice,
    "post_credit_note": PostCreditNote,
    "cancel_packing_slip": CancelPackingSlip,
    "change_serial": ChangeSerial,
    "post_pos_sale": PostPosSale,
    "bulk_invoice": BulkInvoice,
    "recognize_revenue": RecognizeRevenue,
}

RequestId = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x20-\x7e]+$")
]


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: RequestId
    kind: str
    actor: Annotated[str, StringConstraints(min_length=1, max_length=100), Printable]
    payload: dict[str, Any]


class Request(BaseModel):
    """A parsed request: the envelope and its typed command."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    request_id: str
    kind: str
    actor: str
    command: Strict
    body_sha256: str
    body: str

    def record_fields(self) -> dict[str, str]:
        """What the request's row (schema.RequestRecord) keeps of it, besides its status."""
        return {
            "request_id": self.request_id,
            "kind": self.kind,
            "actor": self.actor,
            "body_sha256": self.body_sha256,
            "body": self.body,
        }


# --- parsing ---------------------------------------------------------------------------------


def load_body(raw: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """The request as a JSON object, floats kept as their decimal text."""
    if isinstance(raw, dict):
        return _valid_unicode(raw)
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejection("request.invalid", "request body is not UTF-8 text") from None
    try:
        body = json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise Rejection(
            "request.invalid", f"request body is not valid JSON: {str(exc)[:200]}"
        ) from None
    if not isinstance(body, dict):
        raise Rejection(
            "request.invalid",
            f"a request is one JSON object, got {type(body).__name__}",
        )
    return _valid_unicode(body)


def _valid_unicode(body: dict[str, Any]) -> dict[str, Any]:
    """JSON text may escape half a UTF-16 surrogate pair ("\\udcff"); Python keeps it as a
    lone surrogate, which no database column can hold. Refuse it here, like any malformed
    text."""
    try:
        json.dumps(body, default=str, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Rejection(
            "request.invalid",
            "request body holds a lone UTF-16 surrogate (an escape in \\ud800-\\udfff without "
            "its pair), which is not text; send valid Unicode",
        ) from None
    return body


def canonical_json(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def fallback_request_id(raw: Any) -> str:
    """An id to file the outcome of a request whose own request_id is unusable under."""
    if isinstance(raw, dict):
        text = canonical_json(raw)
    elif isinstance(raw, bytes):
        text = raw.decode("utf-8", "replace")
    else:
        text = str(raw)
    return "invalid-" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def _describe(error: ValidationError, prefix: str) -> tuple[str, list[dict[str, str]]]:
    problems = []
    for item in error.errors(include_url=False):
        path = prefix + "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}"
            for part in item["loc"]
            if part not in UNION_TAGS
        )
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        elif item["type"] == "missing":
            message = "required field is missing"
        problems.append({"field": path.lstrip("."), "message": message})
    shown = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return shown + more, problems


def _find_nul(node: Any, path: str = "") -> str | None:
    """The path of the first text holding a NUL character: no database column can store one."""
    if isinstance(node, str):
        return path if "\x00" in node else None
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        if isinstance(key, str) and "\x00" in key:
            return f"{path}.{key!r}"
        found = _find_nul(value, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}")
        if found is not None:
            return found
    return None


def refuse_too_many_registrations(command: Strict) -> None:
    """S3 before any work: a line giving more registrations than its quantity can never be
    posted, so it is refused here, before its serials are normalised and checked one by one
    and before the order is locked. Only where the count is exact: a line whose serial input
    is valid at all holds exactly `registrations_given` (pipeline.rules.serials); a line
    whose input is invalid is refused anyway. The services check S3 again, with the item."""
    if isinstance(command, PostPackingSlip | PostInvoice):
        where, lines = f"order {command.order}", command.lines or []
        counts = [
            (
                line,
                registrations_given(
                    len(line.serials),
                    line.scan_stream,
                    sum(1 for scan in line.scans if scan.mode == "add"),
                    sum(1 for scan in line.scans if scan.mode == "remove"),
                    line.not_readable,
                ),
            )
            for line in lines
        ]
    elif isinstance(command, PostCreditNote):
        # Each serial named is one credited unit (a serial named twice is refused anyway).
        where, lines = f"invoice {command.invoice}", command.lines or []
        counts = [(line, len(line.serials)) for line in lines]
    else:
        return
    for line, registrations in counts:
        if registrations > line.quantity:
            item = f" (item {line.item})" if line.item else ""
            raise Rejection(
                "serial.too_many",
                f"{where} line {line.line}{item}: {registrations} serial registrations for "
                f"quantity {quantity_text(line.quantity)}; more registrations than units can "
                "never be posted",
                rule="S3",
                registrations=registrations,
                quantity=quantity_text(line.quantity),
            )


def parse_request(raw: str | bytes | dict[str, Any]) -> Request:
    """Parse and validate one request. Raises Rejection('request.invalid', ...)."""
    body = load_body(raw)
    nul_at = _find_nul(body)
    if nul_at is not None:
        raise Rejection(
            "request.invalid",
            f"invalid request: {nul_at.lstrip('.')}: text may not contain NUL (U+0000) characters",
        )
    try:
        envelope = Envelope.model_validate(body)
    except ValidationError as exc:
        text, problems = _describe(exc, "")
        raise Rejection("request.invalid", f"invalid request: {text}", problems=problems) from None
    payload_model = PAYLOADS.get(envelope.kind)
    if payload_model is None:
        raise Rejection(
            "request.unknown_kind",
            f"unknown request kind {envelope.kind[:60]!r}; "
            f"expected one of: {', '.join(sorted(PAYLOADS))}",
        )
    try:
        command = payload_model.model_validate(envelope.payload)
    except ValidationError as exc:
        text, problems = _describe(exc, "payload")
        raise Rejection(
            "request.invalid", f"invalid {envelope.kind} request: {text}", problems=problems
        ) from None
    refuse_too_many_registrations(command)
    canonical = canonical_json(
        {"kind": envelope.kind, "actor": envelope.actor, "payload": envelope.payload}
    )
    return Request(
        request_id=envelope.request_id,
        kind=envelope.kind,
        actor=envelope.actor,
        command=command,
        body_sha256=hashlib.sha256(canonical.encode()).hexdigest(),
        body=canonical_json(body),
    )
