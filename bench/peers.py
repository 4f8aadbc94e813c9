"""PDF peers: docpost's render beside headless Chromium and wkhtmltopdf, on the same HTML.

    python -m bench.peers [--runs 10] [--long-runs 3] [--locale en_US]

Each renderer gets the HTML ``render_html`` gives for the sample invoice (one page, and 200
lines), with the same stylesheet (static/document.css) and the same bundled fonts:

* **docpost**: ``render_pdf(view)`` in this process, after a warm-up (its figure also pays the
  Jinja2 step that made the peers' HTML, a few ms at 200 lines). CPU: ``time.process_time``.
* **Chromium**: one headless Chromium started by chromedriver through Selenium, as the browser
  tests start it, kept running ("warm"). Each document is a fresh navigation to its file://
  URL (parse, style, layout and font loading count, as they do in WeasyPrint's figure) and
  then the DevTools command ``Page.printToPDF`` (A4 from the CSS, backgrounds). CPU: user +
  system time of every descendant of chromedriver (browser, zygotes, renderer, GPU and utility
  processes, including those that exited and were reaped: cutime/cstime) from /proc, plus
  this process's (Selenium's client, base64). chromedriver's own relaying (10-30 ms a
  document here, about 3 %) is left out: a service would talk DevTools to the browser
  directly. Not counted either: Chromium's crash handler, which detaches from the tree (it
  idles unless something crashes).
* **wkhtmltopdf**: ``/usr/bin/wkhtmltopdf`` (Debian's, built on Qt without the wkhtmltopdf
  patches), one process per document; "warm" means its binary and libraries are in the page
  cache (a first run before measuring). CPU: ``RUSAGE_CHILDREN`` deltas plus this process's.

The renderers take turns, run by run (as bench.pdf's median_ms), and the figures are medians.
A peer that is not installed is reported as absent (None). Ratios are docpost / peer, by CPU:
below 1, docpost spends less. CPU is the steadier figure on a shared machine; /proc counts in
clock ticks (10 ms) per process, so one Chromium sample is a few ticks coarse and only the
median over several runs means much.

What each output has (compare like for like):

* docpost: @page margin boxes: the running header (title and number, from ``string()``; not on
  the first page), the company at the bottom left and "Page x of y" at the bottom right.
* Chromium ignores @page margin boxes; the same three are given to it as printToPDF's
  ``headerTemplate``/``footerTemplate`` (pageNumber/totalPages), in Docpost Sans: the
  templates cannot load a web font, so the bundled fonts are also made system fonts for
  Chromium through a fontconfig file of our own (FONTCONFIG_FILE). What still differs: the
  header is on every page, the first too; the PDF embeds the regular face twice (web font and
  system font subsets). The page breaks are the same (repeated table head, lines kept whole).
* wkhtmltopdf (unpatched Qt) has no headers or footers at all (``--footer-*`` needs the
  patched Qt) and ignores @page boxes: its output has no running header, company or page
  numbers. It also ignores ``--zoom`` and ``--disable-smart-shrinking`` and shrinks the
  content by about 1/1.3, so it is given one more rule, ``html { zoom: 1.3 }``, which brings
  the type to docpost's size and the 200 lines to about as many pages. It neither repeats the
  table head on each page nor keeps a line with its serial numbers together, and draws its text
  as outlines (no fonts in the PDF; an strace shows it reading the bundled Docpost Sans).
"""

from __future__ import annotations

import argparse
import base64
import html as html_escape
import io
import os
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from bench.chromium import CHROMIUM_FLAGS
from docpost.reports.fetcher import FONTS_DIR, STATIC_DIR
from docpost.reports.labels import LABELS, normalize_locale
from docpost.reports.render import STYLESHEET, render_html, render_pdf
from docpost.reports.samples import sample_view

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WKHTMLTOPDF = Path("/usr/bin/wkhtmltopdf")
# Debian's wkhtmltopdf draws everything ~1/1.3 of its CSS size whatever --zoom says (see the
# module docstring); measured on the letterhead's 85 mm recipient box.
WKHTMLTOPDF_ZOOM = 1.3
PEERS = ("chromium", "wkhtmltopdf")
DOCUMENTS = ("one_page", "200_lines")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- CPU of a process tree ------------------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of the process and its reaped children), from /proc."""
    table: dict[int, tuple[int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                data = stat.read()
        except OSError:  # exited since the listing
            continue
        # the command name (field 2) is in parentheses and may hold spaces or ')'
        fields = data[data.rindex(b")") + 2 :].split()
        # fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17
        ticks = sum(int(value) for value in fields[11:15])
        table[int(entry.name)] = (int(fields[1]), ticks / _CLOCK_TICKS)
    return table


def tree_cpu_seconds(root: int, *, include_root: bool = False) -> float:
    """User + system CPU seconds of every live descendant of ``root`` (and of ``root`` if
    ``include_root``), each with its reaped children's (cutime/cstime), so that processes that
    came and went are counted by their parents."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total = table[root][1] if include_root and root in table else 0.0
    todo = list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        total += table[pid][1]
        todo.extend(children.get(pid, ()))
    return total


# --- the documents, as files for the peers --------------------------------------------------


@dataclass(frozen=True)
class Document:
    name: str  # "one_page" or "200_lines"
    view: Mapping[str, Any]
    html: Path  # render_html's output with document.css linked, beside it in static/
    header: str  # what the running header shows: title and number
    company: str
    page_label: str  # "Page {page} of {pages}" in the locale


def _linked(html: str, *extra: str) -> str:
    # render_pdf passes document.css as a stylesheet of its own; a file needs it linked.
    # Relative to static/, where it lies, so that its url("../fonts/...") resolve as for us.
    head = ['<link rel="stylesheet" href="document.css" />', *extra]
    return html.replace("</head>", "\n".join(head) + "\n</head>", 1)


def page_margins() -> tuple[str, str, str, str]:
    """The @page margin of document.css (top, right, bottom, left), for wkhtmltopdf."""
    css = STYLESHEET.read_text(encoding="utf-8")
    found = re.search(r"@page\s*\{[^@}]*?\bmargin:\s*([^;]+);", css)
    if found is None:
        raise ValueError("document.css has no @page margin")
    values = found.group(1).split()
    # the CSS shorthand: one to four values
    if len(values) == 1:
        return values[0], values[0], values[0], values[0]
    if len(values) == 2:
        return values[0], values[1], values[0], values[1]
    if len(values) == 3:
        return values[0], values[1], values[2], values[1]
    top, right, bottom, left = values[:4]
    return top, right, bottom, left


def write_site(folder: Path, views: Mapping[str, Mapping[str, Any]], locale: str) -> list[Document]:
    """The static and fonts folders copied into ``folder``, and each view's HTML in static/."""
    shutil.copytree(STATIC_DIR, folder / "static")
    shutil.copytree(FONTS_DIR, folder / "fonts")
    labels = LABELS[normalize_locale(locale)]
    documents = []
    for name, view in views.items():
        html = render_html(view, locale)
        path = folder / "static" / f"{name}.html"
        path.write_text(_linked(html), encoding="utf-8")
        (folder / "static" / f"{name}.wkhtmltopdf.html").write_text(
            _linked(html, f"<style>html {{ zoom: {WKHTMLTOPDF_ZOOM} }}</style>"), encoding="utf-8"
        )
        title = re.search(r"<title>(.*?)</title>", html, re.S)
        documents.append(
            Document(
                name=name,
                view=view,
                html=path,
                header=html_escape.unescape(title.group(1)).strip() if title else "",
                company=view["company"]["name"],
                page_label=labels["page_of"],
            )
        )
    # Docpost Sans as a system font too, for Chromium's header and footer templates
    (folder / "fonts.conf").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        "<fontconfig>\n"
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{folder / 'fonts'}</dir>\n"
        f"  <cachedir>{folder / 'fontconfig-cache'}</cachedir>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return documents


# --- the renderers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    cpu: float  # seconds
    wall: float
    pdf: bytes


class Docpost:
    name = "docpost"

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def render(self, document: Document) -> Sample:
        wall, cpu = time.perf_counter(), time.process_time()
        pdf = render_pdf(document.view, self.locale)
        return Sample(time.process_time() - cpu, time.perf_counter() - wall, pdf)


_TEMPLATE_STYLE = (
    "width: 100%; margin: 0 {right} 0 {left}; font-family: 'Docpost Sans'; color: #555;"
)


class Chromium:
    """One headless Chromium, kept running; a document is a navigation and a printToPDF."""

    name = "chromium"

    def __init__(self, folder: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={folder / 'chromium-profile'}"]:
            options.add_argument(flag)
        service = Service(
            executable_path=str(CHROMEDRIVER),
            log_output=os.devnull,
            env={**os.environ, "FONTCONFIG_FILE": str(folder / "fonts.conf")},
        )
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(60)
        self.driver_pid: int = self.driver.service.process.pid
        _, right, _, left = page_margins()
        self._style = _TEMPLATE_STYLE.format(right=right, left=left)

    def close(self) -> None:
        self.driver.quit()

    def print_options(self, document: Document) -> dict[str, Any]:
        style = self._style
        page = html_escape.escape(document.page_label).format(
            page='<span class="pageNumber"></span>', pages='<span class="totalPages"></span>'
        )
        return {
            "printBackground": True,
            "preferCSSPageSize": True,  # A4 and the margins from document.css's @page
            "displayHeaderFooter": True,
            "headerTemplate": f'<div style="{style} font-size: 8pt; text-align: right;">'
            f"{html_escape.escape(document.header)}</div>",
            "footerTemplate": f'<div style="{style} font-size: 7.5pt; display: flex; '
            f'justify-content: space-between;"><span>{html_escape.escape(document.company)}'
            f"</span><span>{page}</span></div>",
        }

    def render(self, document: Document) -> Sample:
        options = self.print_options(document)
        tree, wall, cpu = (
            tree_cpu_seconds(self.driver_pid),
            time.perf_counter(),
            time.process_time(),
        )
        self.driver.get(document.html.as_uri())
        pdf = base64.b64decode(self.driver.execute_cdp_cmd("Page.printToPDF", options)["data"])
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        cpu += tree_cpu_seconds(self.driver_pid) - tree
        return Sample(cpu, wall, pdf)


class Wkhtmltopdf:
    """/usr/bin/wkhtmltopdf, one process per document."""

    name = "wkhtmltopdf"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        top, right, bottom, left = page_margins()
        self.options = [
            "--quiet",
            "--enable-local-file-access",
            "--page-size", "A4",
            "--margin-top", top, "--margin-right", right,
            "--margin-bottom", bottom, "--margin-left", left,
        ]  # fmt: skip
        runtime = folder / "xdg-runtime"  # Qt warns without one
        runtime.mkdir(mode=0o700, exist_ok=True)
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}

    def close(self) -> None:
        pass

    def render(self, document: Document) -> Sample:
        source = document.html.with_name(f"{document.name}.wkhtmltopdf.html")
        out = self.folder / f"{document.name}.wkhtmltopdf.pdf"
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, cpu = time.perf_counter(), time.process_time()
        subprocess.run(
            [str(WKHTMLTOPDF), *self.options, str(source), str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self.env,
        )
        pdf = out.read_bytes()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        return Sample(cpu, wall, pdf)


def installed_peers() -> dict[str, bool]:
    """Which peers this machine has (Chromium needs chromedriver and Selenium too)."""
    try:
        import selenium  # noqa: F401

        has_selenium = True
    except ImportError:
        has_selenium = False
    return {
        "chromium": CHROMIUM.exists() and CHROMEDRIVER.exists() and has_selenium,
        "wkhtmltopdf": WKHTMLTOPDF.exists(),
    }


# --- PDFs -----------------------------------------------------------------------------------


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def font_names(pdf: bytes) -> set[str]:
    """The base fonts a PDF's pages use (subset prefixes "ABCDEF+" dropped), in form XObjects
    too."""
    names: set[str] = set()

    def walk(resources: Any, seen: set[int]) -> None:
        if resources is None or id(resources) in seen:
            return
        seen.add(id(resources))
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            base = str(font.get_object().get("/BaseFont", ""))
            names.add(base.lstrip("/").split("+", 1)[-1])
        for xobject in (resources.get("/XObject") or {}).values():
            walk(xobject.get_object().get("/Resources"), seen)

    for page in PdfReader(io.BytesIO(pdf)).pages:
        walk(page.get("/Resources"), set())
    names.discard("")
    return names


# --- the measurement ------------------------------------------------------------------------


@dataclass
class Figures:
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    pdf: bytes = b""

    def add(self, sample: Sample) -> None:
        self.cpu.append(sample.cpu)
        self.wall.append(sample.wall)
        self.pdf = sample.pdf


def take_turns(renderers: list[Any], document: Document, runs: int) -> dict[str, Figures]:
    """Each renderer renders ``document`` once to warm up, then ``runs`` times, in turn."""
    figures = {renderer.name: Figures() for renderer in renderers}
    for renderer in renderers:
        renderer.render(document)
    for _ in range(runs):
        for renderer in renderers:
            figures[renderer.name].add(renderer.render(document))
    return figures


@contextmanager
def renderers(folder: Path, locale: str, peers: Mapping[str, bool]) -> Iterator[list[Any]]:
    with ExitStack() as stack:
        chosen: list[Any] = [Docpost(locale)]
        if peers.get("chromium"):
            chromium = Chromium(folder)
            stack.callback(chromium.close)
            chosen.append(chromium)
        if peers.get("wkhtmltopdf"):
            chosen.append(Wkhtmltopdf(folder))
        yield chosen


def measure(
    runs: int = 10,
    long_runs: int = 3,
    locale: str = "en_US",
    *,
    peers: Mapping[str, bool] | None = None,
    pdfs: dict[tuple[str, str], bytes] | None = None,
) -> dict[str, float | int | None]:
    """Median CPU and wall ms per document of docpost and each installed peer, their pages,
    and docpost's CPU over each peer's, for the one-page and the 200-line invoice.

    ``peers``: which to run (default: those installed); ``pdfs``, if given, receives the last
    PDF of each (document, renderer), e.g. ("200_lines", "chromium")."""
    peers = installed_peers() if peers is None else peers
    views = {
        "one_page": sample_view("invoice"),
        "200_lines": sample_view("invoice", line_count=200),
    }
    result: dict[str, float | int | None] = {}
    with tempfile.TemporaryDirectory(prefix="docpost-peers-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        documents = write_site(folder, views, locale)
        chosen = stack.enter_context(renderers(folder, locale, peers))
        for document in documents:
            figures = take_turns(
                chosen, document, runs if document.name == "one_page" else long_runs
            )
            ours = figures["docpost"]
            key = f"pdf_{document.name}"
            cpu = statistics.median(ours.cpu) * 1000
            result[f"{key}_cpu_ms"] = round(cpu, 1)
            result[f"{key}_wall_ms"] = round(statistics.median(ours.wall) * 1000, 1)
            result[f"{key}_pages"] = page_count(ours.pdf)
            for peer in PEERS:
                theirs = figures.get(peer)
                peer_cpu = statistics.median(theirs.cpu) * 1000 if theirs else None
                result[f"{key}_{peer}_cpu_ms"] = round(peer_cpu, 1) if peer_cpu else None
                result[f"{key}_{peer}_wall_ms"] = (
                    round(statistics.median(theirs.wall) * 1000, 1) if theirs else None
                )
                result[f"{key}_{peer}_pages"] = page_count(theirs.pdf) if theirs else None
                result[f"{key}_{peer}_ratio"] = round(cpu / peer_cpu, 2) if peer_cpu else None
            if pdfs is not None:
                for name, figure in figures.items():
                    pdfs[(document.name, name)] = figure.pdf
    return result


def _cell(value: float | int | None, width: int, digits: int = 1) -> str:
    if value is None:
        return "absent".rjust(width)
    return f"{value:{width}.{digits}f}" if isinstance(value, float) else f"{value:{width}d}"


def table(figures: Mapping[str, Any], fonts: Mapping[tuple[str, str], set[str]]) -> str:
    block = "   CPU ms  wall ms  pages  ratio"
    rows = [
        f"{'':22}{'one-page invoice':^{len(block)}}  {'200-line invoice':^{len(block)}}",
        f"{'':22}{block}  {block}",
    ]
    for name, label in (
        ("", "docpost (render_pdf)"),
        ("chromium", "Chromium (warm, CDP)"),
        ("wkhtmltopdf", "wkhtmltopdf"),
    ):
        cells = []
        for document in DOCUMENTS:
            key = f"pdf_{document}_{name}_" if name else f"pdf_{document}_"
            ratio = figures.get(f"{key}ratio") if name else None
            cells.append(
                _cell(figures.get(f"{key}cpu_ms"), 9)
                + _cell(figures.get(f"{key}wall_ms"), 9)
                + _cell(figures.get(f"{key}pages"), 7)
                + (_cell(ratio, 7, 2) if name else "       ")
            )
        rows.append(f"{label:22}" + "  ".join(cells))
    rows.append("ratio: docpost's CPU ms over the peer's (below 1: docpost spends less)")
    for (document, name), names in sorted(fonts.items()):
        if document == "one_page":
            rows.append(f"fonts in {name}'s PDF: {', '.join(sorted(names)) or '(none: outlines)'}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="one-page runs (default 10)")
    parser.add_argument("--long-runs", type=int, default=None, help="200-line runs")
    parser.add_argument("--locale", default="en_US")
    args = parser.parse_args(argv)
    long_runs = args.long_runs if args.long_runs is not None else max(3, args.runs // 3)
    pdfs: dict[tuple[str, str], bytes] = {}
    figures = measure(args.runs, long_runs, args.locale, pdfs=pdfs)
    print(f"median of {args.runs} (one page) and {long_runs} (200 lines) runs after a warm-up")
    print(table(figures, {key: font_names(pdf) for key, pdf in pdfs.items()}))


if __name__ == "__main__":
    main()
