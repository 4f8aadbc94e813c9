"""PDF speed: the cached renderer against plain WeasyPrint, and a 200-line invoice.

    python -m bench.pdf [--runs 20] [--locale en_US]

*cached*: ``render_pdf`` — bundled subset font, one FontConfiguration and one CSS per process,
the cyclic GC paused during the render and, on WeasyPrint 70 only (render.FAST_PATH), the
template's XHTML read by expat and a user-agent sheet cut to our elements (reports/render.py).
*public*: ``render_pdf`` on the path every other WeasyPrint version takes (FAST_PATH off):
WeasyPrint's public API only, with the same caches.
*plain*: the same HTML and stylesheet, but with the system's full DejaVu Sans and a new
FontConfiguration and CSS for each document, as ``weasyprint.HTML(string=...).write_pdf()``
does it. Both include the Jinja2 step. Prints the median of ``--runs`` after one warm-up each.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from docpost.reports import render as render_module
from docpost.reports.render import STYLESHEET, render_html, render_pdf
from docpost.reports.samples import sample_view

# the stylesheet without our @font-face rules, pointing at the installed system font
_SYSTEM_FONT_CSS = re.sub(
    r"@font-face\s*\{[^}]*\}", "", STYLESHEET.read_text(encoding="utf-8")
).replace('"Docpost Sans"', '"DejaVu Sans"')


def plain_render(view: dict, locale: str) -> bytes:
    html = render_html(view, locale)
    font_config = FontConfiguration()
    css = CSS(string=_SYSTEM_FONT_CSS, font_config=font_config)
    return HTML(string=html).write_pdf(stylesheets=[css], font_config=font_config)


def public_render(view: dict, locale: str) -> bytes:
    """``render_pdf`` through WeasyPrint's public API only (as on any version but 70)."""
    fast_path = render_module.FAST_PATH
    render_module.FAST_PATH = False
    try:
        return render_pdf(view, locale)
    finally:
        render_module.FAST_PATH = fast_path


def median_ms(*renders: Callable[[], bytes], runs: int) -> list[float]:
    """The median ms of each render. They take turns, run by run, so that a load from other
    processes on the machine falls on all of them alike rather than on whichever ran last."""
    for render in renders:
        render()  # warm-up: imports, caches, the first font registration
    times: list[list[float]] = [[] for _ in renders]
    for _ in range(runs):
        for render, spent in zip(renders, times, strict=True):
            start = time.perf_counter()
            render()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) * 1000 for spent in times]


def measure(runs: int = 20, long_runs: int = 5, locale: str = "en_US") -> dict[str, float]:
    """Median ms of a one-page invoice (cached, public and plain) and of a 200-line invoice."""
    view = sample_view("invoice")
    long_view = sample_view("invoice", line_count=200)
    cached, public, plain = median_ms(
        lambda: render_pdf(view, locale),
        lambda: public_render(view, locale),
        lambda: plain_render(view, locale),
        runs=runs,
    )
    long_cached, long_public, long_plain = median_ms(
        lambda: render_pdf(long_view, locale),
        lambda: public_render(long_view, locale),
        lambda: plain_render(long_view, locale),
        runs=long_runs,
    )
    return {
        "pdf_one_page_ms": round(cached, 1),
        "pdf_one_page_public_ms": round(public, 1),
        "pdf_one_page_plain_ms": round(plain, 1),
        "pdf_speedup": round(plain / cached, 2),
        "pdf_200_lines_ms": round(long_cached, 1),
        "pdf_200_lines_public_ms": round(long_public, 1),
        "pdf_200_lines_plain_ms": round(long_plain, 1),
        "pdf_200_lines_speedup": round(long_plain / long_cached, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--locale", default="en_US")
    args = parser.parse_args()
    figures = measure(args.runs, max(3, args.runs // 4), args.locale)
    print(f"one-page invoice, median of {args.runs} after warm-up ({args.locale})")
    print(
        f"cached renderer (render_pdf, see reports/render.py):           "
        f"{figures['pdf_one_page_ms']:7.1f} ms"
    )
    print(
        f"public API path (render.FAST_PATH off, any other WeasyPrint):  "
        f"{figures['pdf_one_page_public_ms']:7.1f} ms"
    )
    print(
        f"plain WeasyPrint (system DejaVu Sans, new FontConfiguration):  "
        f"{figures['pdf_one_page_plain_ms']:7.1f} ms"
    )
    print(f"speed-up: {figures['pdf_speedup']:.1f}x")
    print(
        f"200-line invoice: cached {figures['pdf_200_lines_ms']:.1f} ms, public "
        f"{figures['pdf_200_lines_public_ms']:.1f} ms, plain "
        f"{figures['pdf_200_lines_plain_ms']:.1f} ms ({figures['pdf_200_lines_speedup']:.1f}x)"
    )


if __name__ == "__main__":
    main()
