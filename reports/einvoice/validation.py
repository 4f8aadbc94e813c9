"""The official EN 16931 (CEN) and Peppol BIS 3.0 rules run on an e-invoice (DOMAIN.md E2).

The rules come compiled to XSLT (``../shared/einvoice/xslt``: test data, not docpost's; a user
points ``DOCPOST_EINVOICE_RULES`` at a copy of their own). Saxon-HE runs them through
``saxonche``; the SVRL report each one writes is read with lxml into ``Finding`` rows.

Saxon in a forking worker (Celery's prefork pool): the ``PySaxonProcessor`` is made in the
process that uses it, on first use, never at import time; a processor made before a fork
crashes when used after it (factur-x issue #77), so one made in another process (the pid
changed) is never reused. Compiling the two stylesheets takes seconds, so each process keeps
its compiled ones per rules folder.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

RULESETS = {"CEN": "CEN-EN16931-UBL.xslt", "PEPPOL": "PEPPOL-EN16931-UBL.xslt"}
SVRL = "http://purl.oclc.org/dsdl/svrl"


@dataclass(frozen=True)
class Finding:
    """One failed assertion: which rule set, the rule id, ``fatal`` or ``warning``, its text
    and where in the document (an XPath)."""

    ruleset: str
    rule: str
    flag: str
    message: str
    location: str = ""

    @property
    def fatal(self) -> bool:
        return self.flag != "warning"

    def __str__(self) -> str:
        return f"{self.ruleset} {self.flag} {self.rule}: {self.message}"


class RulesNotFound(FileNotFoundError):
    """The rules folder lacks a stylesheet."""


def rule_files(rules: str | Path) -> dict[str, Path]:
    """The two stylesheets of a rules folder: the folder itself or its ``xslt/`` (the layout
    of ``../shared/einvoice``)."""
    folder = Path(rules)
    if (folder / "xslt").is_dir():
        folder = folder / "xslt"
    files = {name: folder / file for name, file in RULESETS.items()}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise RulesNotFound(f"e-invoice rules not found: {', '.join(missing)}")
    return files


class _Saxon:
    """The processor of this process and the stylesheets it compiled, per file."""

    def __init__(self) -> None:
        from saxonche import PySaxonProcessor  # here, not at import: after any fork

        self.pid = os.getpid()
        self.processor = PySaxonProcessor(license=False)
        self.xslt = self.processor.new_xslt30_processor()
        self.compiled: dict[Path, Any] = {}

    def executable(self, stylesheet: Path) -> Any:
        key = stylesheet.resolve()
        if key not in self.compiled:
            self.compiled[key] = self.xslt.compile_stylesheet(stylesheet_file=str(key))
        return self.compiled[key]


_saxon: _Saxon | None = None
_lock = threading.Lock()


def _process_saxon() -> _Saxon:
    global _saxon
    with _lock:
        if _saxon is None or _saxon.pid != os.getpid():
            _saxon = _Saxon()
        return _saxon


def prepare(rules: str | Path) -> None:
    """Compile the rules now (a worker may do it once at start, a test once per session)."""
    saxon = _process_saxon()
    with _lock:
        for path in rule_files(rules).values():
            saxon.executable(path)


def validate(xml: bytes, rules: str | Path) -> list[Finding]:
    """Every failed assertion of both rule sets on a UBL document, CEN's first."""
    files = rule_files(rules)
    saxon = _process_saxon()
    with _lock:  # one processor per process: its calls are not made concurrent
        document = saxon.processor.parse_xml(xml_text=xml.decode("utf-8"))
        reports = {
            name: saxon.executable(path).transform_to_string(xdm_node=document)
            for name, path in files.items()
        }
    return [finding for name, report in reports.items() for finding in findings(name, report)]


def findings(ruleset: str, svrl: str) -> list[Finding]:
    """The failed assertions of one SVRL report (a missing ``flag`` is fatal, as Schematron's
    default)."""
    root = etree.fromstring(svrl.encode("utf-8"))
    return [
        Finding(
            ruleset=ruleset,
            rule=node.get("id") or "",
            flag=node.get("flag") or "fatal",
            message=" ".join("".join(node.findtext(f"{{{SVRL}}}text") or "").split()),
            location=node.get("location") or "",
        )
        for node in root.iter(f"{{{SVRL}}}failed-assert")
    ]


def fatal(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.fatal]


def summary(found: list[Finding]) -> str:
    """What a document stored ``invalid`` keeps and shows: one line per fatal finding, as
    ../shared/einvoice/validate.py prints them ("PEPPOL fatal NO-R-001: ..."); "" when none."""
    return "\n".join(str(f) for f in fatal(found))
