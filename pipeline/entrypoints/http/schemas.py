"""What the OpenAPI document says about bodies: the contract's own models, reused.

The request body is read raw and parsed by `docpost.pipeline.contract` (floats kept as decimal text,
its exact error messages), so FastAPI never validates it; the models here only describe it.
The views of orders, journals and traces are `docpost.pipeline.queries` dicts, passed through as
they are (a field added there shows up here without a change), so they are plain objects.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

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
    documents: list[DocumentInfo]


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
