"""Fixed column widths for the documents' small two-column tables, measured in Python.

Why: a table with ``table-layout: auto`` makes WeasyPrint measure the min- and max-content
width of every cell (a Pango layout each) before it lays the cells out again; for the one-page
invoice, the document details (.meta) and the totals (.totals) cost ~11 % of the render that
way (py-spy, issue 19). Their texts are short, in the bundled Docpost Sans, and never wrap when
they fit, so their widths can be measured here exactly as HarfBuzz shapes them: the fonts'
advance widths plus their kern pairs (the subset fonts have a ``kern`` table and no GPOS, no
ligatures), to within 0.01 px of WeasyPrint's own measure. The templates then give such a
table ``table-layout: fixed`` with the widths auto layout would have found, so the page looks
the same (tests/reports/test_reports_columns.py compares both layouts' text positions).

Whenever the measure could be wrong, ``None`` is returned and the table keeps auto layout:
text with a character the bundled font lacks (Pango would fall back to another font) or a table
that would not fit its room (auto layout wraps a cell then).

The font sizes and weights below repeat static/document.css's rules for these tables; the test
fails when they drift apart.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont

from docpost.reports.fetcher import FONTS_DIR

PX_PER_PT = 96 / 72
PX_PER_MM = 96 / 25.4


@dataclass(frozen=True)
class _Face:
    cmap: dict[int, str]
    advances: dict[str, int]
    kerning: dict[tuple[str, str], int]
    units_per_em: int


@functools.cache
def _face(bold: bool) -> _Face:
    font = TTFont(Path(FONTS_DIR, "DocpostSans-Bold.ttf" if bold else "DocpostSans.ttf"))
    kerning: dict[tuple[str, str], int] = {}
    if "kern" in font:
        for table in font["kern"].kernTables:
            kerning.update(table.kernTable)
    return _Face(
        cmap=font.getBestCmap(),
        advances={glyph: advance for glyph, (advance, _) in font["hmtx"].metrics.items()},
        kerning=kerning,
        units_per_em=font["head"].unitsPerEm,
    )


def text_width_px(text: str, size_pt: float, bold: bool = False) -> float | None:
    """The width of ``text`` on one line in Docpost Sans, in CSS px; None if the font lacks a
    character of it. White space is collapsed as HTML collapses it in a cell."""
    face = _face(bold)
    total = 0
    previous: str | None = None
    for char in " ".join(text.split()):
        glyph = face.cmap.get(ord(char))
        if glyph is None:
            return None
        total += face.advances[glyph]
        if previous is not None:
            total += face.kerning.get((previous, glyph), 0)
        previous = glyph
    return total / face.units_per_em * size_pt * PX_PER_PT


@dataclass(frozen=True)
class Style:
    """The font of a cell, as document.css sets it."""

    size_pt: float
    bold: bool


@dataclass(frozen=True)
class Fit:
    """Fixed layout for a two-column table: its width and its first column's content width,
    in CSS px as the template prints them."""

    table: str
    first: str


# Added to each measured column before rounding up to 0.001 px: the measure is within 0.005 px
# of Pango's either way, and a column even a hair narrower than its text wraps the text.
_SLACK_PX = 0.01


def _up(value: float) -> float:
    return math.ceil((value + _SLACK_PX) * 1000) / 1000


def _widest(cells: Iterable[tuple[str, Style]]) -> float | None:
    widest = 0.0
    for text, style in cells:
        width = text_width_px(str(text), style.size_pt, style.bold)
        if width is None:
            return None
        widest = max(widest, width)
    return widest


def _px(value: float) -> str:
    return f"{value:.3f}"


# static/document.css: .meta th (8pt, bold as every th), .meta td (the document's 9pt), and
# the due date's row (tr.due-date: bold).
_META_LABEL = Style(8, bold=True)
_META_VALUE = Style(9, bold=False)
_META_VALUE_BOLD = Style(9, bold=True)
# .meta td's padding-left (5mm; th's is 0, both have no right padding)
_META_GAP_PX = 5 * PX_PER_MM
# The .details cell's width: the page's content (210mm - 18mm - 16mm) less the recipient's
# cell (85mm + 2 x 4mm padding + 0.8mm border). Wider tables wrap a cell: left to auto layout.
_META_ROOM_PX = (210 - 18 - 16 - (85 + 2 * 4 + 0.8)) * PX_PER_MM


def fit_meta(rows: Sequence[tuple[str, object, object]]) -> Fit | None:
    """Fixed layout for the document details table (.meta), or None for auto layout.

    ``rows``: (the row's class, label, value) as the template prints them.
    """
    labels = _widest((str(label), _META_LABEL) for _, label, _ in rows)
    values = _widest(
        (str(value), _META_VALUE_BOLD if row_class == "due-date" else _META_VALUE)
        for row_class, _, value in rows
    )
    if labels is None or values is None:
        return None
    # auto layout: each column as wide as its widest cell, the table as wide as its columns
    first = _up(labels)
    width = _up(first + _META_GAP_PX + values)
    if width > _META_ROOM_PX - 1:  # a pixel to spare: near the edge, let auto layout decide
        return None
    return Fit(table=_px(width), first=_px(first))


# .totals th, td: the document's 9pt (th bold); tr.total and tr.due: 11pt bold; tr.vat-company:
# 8pt. Padding 2mm left and right in both cells.
_TOTALS_STYLES = {
    "total": (Style(11, True), Style(11, True)),
    "due": (Style(11, True), Style(11, True)),
    "vat-company": (Style(8, True), Style(8, False)),
}
_TOTALS_DEFAULT = (Style(9, True), Style(9, False))
_TOTALS_PADDING_PX = 2 * 2 * PX_PER_MM  # per cell
_TOTALS_WIDTH_PX = 78 * PX_PER_MM  # .totals { width: 78mm }


def fit_totals(rows: Sequence[tuple[str, object, object]]) -> Fit | None:
    """Fixed layout for the totals table (.totals), or None for auto layout.

    ``rows``: (the row's class, label, amount) as the template prints them. The table is 78 mm
    wide either way; its labels are left-aligned and its amounts right-aligned (and never
    wrapped), so where the column edge falls does not show as long as both columns fit: the
    labels' column is given their widest, the amounts the rest.
    """
    labels = _widest(
        (str(label), _TOTALS_STYLES.get(c, _TOTALS_DEFAULT)[0]) for c, label, _ in rows
    )
    amounts = _widest(
        (str(amount), _TOTALS_STYLES.get(c, _TOTALS_DEFAULT)[1]) for c, _, amount in rows
    )
    if labels is None or amounts is None:
        return None
    if labels + amounts + 2 * _TOTALS_PADDING_PX > _TOTALS_WIDTH_PX - 1:
        return None
    return Fit(table=_px(_TOTALS_WIDTH_PX), first=_px(_up(labels)))


# .doc-title 20pt bold, .doc-number 10pt bold, .doc-credits 8.5pt; the float's room is the
# letterhead's width (the page's content, 176mm) less its 8mm margin-left.
_HEADING_ROOM_PX = (210 - 18 - 16 - 8) * PX_PER_MM


def fit_heading(title: str, number: object, credits: str | None) -> str | None:
    """The width of the floated document heading (.doc-heading), or None to let WeasyPrint
    shrink it to fit. A float with ``width: auto`` is as wide as its widest line when that
    fits, which is what this measures; WeasyPrint then skips measuring its content."""
    cells = [(title, Style(20, True)), (str(number), Style(10, True))]
    if credits is not None:
        cells.append((credits, Style(8.5, False)))
    widest = _widest(cells)
    if widest is None or widest > _HEADING_ROOM_PX - 1:
        return None
    return _px(_up(widest))
