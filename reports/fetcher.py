"""The only way a rendered document reaches outside its HTML: the bundled assets.

Document data comes from customers and upstream systems. Even with autoescaping, WeasyPrint
would otherwise follow any URL it meets (file:, http:, data:), so a stray ``<img>`` or CSS
``url()`` could read local files into a PDF or make the worker call the network. This fetcher
serves regular files under ``reports/static/`` and ``reports/fonts/`` and refuses everything
else. A refusal is an ordinary exception, which WeasyPrint logs and treats as a missing resource,
so the document still renders.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
FONTS_DIR = PACKAGE_DIR / "fonts"
ALLOWED_DIRS: tuple[Path, ...] = (STATIC_DIR, FONTS_DIR)

# Relative URLs in templates and CSS resolve against this (see render.py).
BASE_URL = STATIC_DIR.as_uri() + "/"

_MIME_TYPES = {".ttf": "font/ttf", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}


class AssetRefused(ValueError):
    """A URL outside the bundled assets was requested. Not fatal for WeasyPrint."""


class BundledAssetFetcher(URLFetcher):
    """A WeasyPrint URL fetcher limited to the package's static and font folders.

    WeasyPrint 70 expects a ``URLFetcher`` instance (it reads ``_fail_on_errors`` from it), so
    this subclasses it and replaces ``fetch``; nothing of urllib's opener is ever used.
    """

    def __init__(self, allowed_dirs: tuple[Path, ...] = ALLOWED_DIRS) -> None:
        super().__init__(fail_on_errors=False)
        self._allowed_dirs = tuple(Path(os.path.realpath(d)) for d in allowed_dirs)

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        path = self.resolve(url)
        return URLFetcherResponse(
            path.as_uri(),
            body=path.read_bytes(),
            headers={"Content-Type": _content_type(path)},
        )

    def resolve(self, url: str) -> Path:
        """The local file ``url`` names, if it is a bundled asset; else ``AssetRefused``."""
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise AssetRefused(f"refused to fetch {url!r}: malformed URL") from exc
        if parts.scheme.lower() != "file":
            raise AssetRefused(f"refused to fetch {url!r}: only bundled assets are allowed")
        if parts.netloc not in ("", "localhost"):
            raise AssetRefused(f"refused to fetch {url!r}: remote file host")
        # realpath after unquoting: "%2e%2e/" and symlinks cannot step out of the folders.
        path = Path(os.path.realpath(url2pathname(parts.path)))
        if not any(path.is_relative_to(folder) for folder in self._allowed_dirs):
            raise AssetRefused(f"refused to fetch {url!r}: not a bundled asset")
        if not path.is_file():
            raise AssetRefused(f"refused to fetch {url!r}: no such bundled asset")
        return path


def _content_type(path: Path) -> str:
    return _MIME_TYPES.get(path.suffix.lower()) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
