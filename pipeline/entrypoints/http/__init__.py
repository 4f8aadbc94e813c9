"""The HTTP service (`docpost serve`): FastAPI over the same pipeline as the command line.

- ``app``: ``create_app()``, the error shape, the OpenAPI document.
- ``auth``: API keys per actor, Bearer for clients, a cookie for people; the read rules.
- ``routes_requests``: POST /requests, GET /requests/{id} (long-poll with ?wait=).
- ``routes_read``, ``routes_documents``: orders, journals, traces, documents and PDFs.
- ``health``: GET /health. ``pages``: the HTML page at ``/``.

FastAPI is imported only here, never by the command line's other commands.
"""

from docpost.pipeline.entrypoints.http.app import create_app

__all__ = ["create_app"]
