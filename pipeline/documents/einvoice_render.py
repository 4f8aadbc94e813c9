"""An e-invoice document's content (E1, E2): the journal's e-invoice as UBL, checked by the
official rules when DOCPOST_EINVOICE_RULES names them.

What ``store.render_document`` runs for a document row of format ``ubl``, outside any database
transaction, from the snapshot and the PDF's view model it read (the same figures as the PDF:
E3). With rules, the bytes are validated before they are stored: a fatal finding makes the
document ``invalid`` (its bytes kept, for diagnosis, never handed out as an e-invoice to
send); warnings are kept in the findings of a ``rendered`` one. The Saxon processor and the
compiled rules are made once per process (reports.einvoice.validation): by a worker's pool
process as it starts (tasks.app.prepare_einvoice_rules), else on the first call.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from docpost.pipeline.documents.einvoice_view import einvoice_view
from docpost.pipeline.documents.snapshot import JournalSnapshot
from docpost.reports.einvoice.ubl import invoice_xml
from docpost.reports.einvoice.validation import fatal, validate
from docpost.reports.viewmodel import DocumentView

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    """A document's bytes and how they are stored: ``rendered`` or ``invalid``, with the
    findings of the rules (None: not checked)."""

    content: bytes
    status: str = "rendered"
    findings: list[dict[str, Any]] | None = None


def render_einvoice(
    snapshot: JournalSnapshot, view: DocumentView, locale: str, rules: str | None
) -> Rendered:
    """The e-invoice of a journal whose PDF prints `view`; NoEInvoice / NotAnEInvoice when it
    can have none (a journal E1 does not cover: posting decided otherwise, see
    rules.einvoice_recipients)."""
    xml = invoice_xml(einvoice_view(snapshot, view, locale))
    if not rules:
        return Rendered(xml)
    found = validate(xml, rules)
    findings = [asdict(finding) for finding in found]
    if fatal(found):
        log.warning(
            "e-invoice %s is invalid: %s",
            snapshot.number,
            "; ".join(str(finding) for finding in fatal(found)),
        )
        return Rendered(xml, "invalid", findings)
    return Rendered(xml, "rendered", findings)
