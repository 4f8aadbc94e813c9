"""Documents: the PDF of each posted journal (DOMAIN.md D1-D6, S14).

- ``build_view(session, document | journal | id)``: the reports view model of a document.
- ``render_document(sessions, document_id)``: render a pending document and store it
  (idempotent; what the render task calls).
- ``render_pending(sessions)``: render every pending document in this process (embedded mode).
- ``export_documents(sessions, folder)``: write every rendered revision into a folder.
- ``list_documents`` / ``stored_pdf``: what ``docpost documents`` and ``download`` read.

A document is a PDF or (format ``ubl``, E1) an EHF e-invoice: ``einvoice_render`` makes it.

``snapshot`` reads a journal into plain data, ``view`` turns it into the view model (pure),
``store`` renders and stores. WeasyPrint is imported only when a document is rendered.
"""

from docpost.pipeline.documents.store import (
    DocumentNotFound,
    StoredPdf,
    build_view,
    export_documents,
    list_documents,
    render_document,
    render_pending,
    stored_pdf,
)
from docpost.pipeline.documents.view import UnprintableJournal

__all__ = [
    "DocumentNotFound",
    "StoredPdf",
    "UnprintableJournal",
    "build_view",
    "export_documents",
    "list_documents",
    "render_document",
    "render_pending",
    "stored_pdf",
]
