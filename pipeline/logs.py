"""Logging, configured in one place for every process: the CLI, `docpost serve`, and Celery's
worker and beat (tasks.observability hands Celery's setup_logging signal to
`configure_logging`, so Celery does not install a format of its own).

DOCPOST_LOG_FORMAT picks the format: `text` (the default; Celery's layout, for people) or
`json` (one JSON object per line, for a log collector). A record may carry structured fields
in `extra={"fields": {...}}`: JSON puts them at the top level of its object, text appends
them as `key=value`. The one structured line per request outcome is `log_outcome`'s.

Not here: the levels of WeasyPrint's loggers, set where rendering is configured
(reports.render).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

LOG_FORMATS = ("text", "json")
# Celery's worker layout, so a text log reads as it did before logging was configured here.
TEXT_FORMAT = "[%(asctime)s: %(levelname)s/%(processName)s] %(name)s: %(message)s"

# The logger of the outcome lines: a collector can select them by it.
OUTCOME_LOGGER = "docpost.outcome"
outcome_log = logging.getLogger(OUTCOME_LOGGER)

# Marks the handler configure_logging installs, so a second call replaces it (no doubles).
_HANDLER_NAME = "docpost"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, process, message, the
    record's structured fields at the top level, and the traceback as `exc_info` text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "process": record.processName,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            # The fixed keys above win: a field named `message` cannot hide the message.
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT, with a record's structured fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping) and fields:
            text += " " + " ".join(f"{k}={_text_value(v)}" for k, v in fields.items())
        return text


def _text_value(value: Any) -> str:
    if value is None:
        return "-"
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (not text or " " in text) else text


def formatter(log_format: str) -> logging.Formatter:
    if log_format not in LOG_FORMATS:
        raise ValueError(f"unknown log format {log_format!r}: use one of {', '.join(LOG_FORMATS)}")
    return JsonFormatter() if log_format == "json" else TextFormatter()


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record is written (as logging's last-resort
    handler does), not to the stream it was at set-up: the CLI runs inside other programs and
    tests that replace sys.stderr."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(
    level: int | str | None = logging.INFO,
    log_format: str | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """The root logger writes `level` and above (None: the root's level stays) to `stream`
    (stderr) in `log_format` (DOCPOST_LOG_FORMAT when None). Called again, it replaces its own
    handler only, so a test's or a host's handlers stay."""
    if log_format is None:
        from docpost.pipeline.config import get_settings

        log_format = get_settings().log_format
    handler = logging.StreamHandler(stream) if stream is not None else StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    if level is not None:
        root.setLevel(level if isinstance(level, int) else level.upper())
    return handler


def configure_cli_logging(daemon: bool = False) -> None:
    """The CLI's logging: DOCPOST_LOG_LEVEL when set; else INFO for the long-running commands
    (`serve`; the worker and beat are configured again by Celery's signal with --loglevel),
    and the root's own level (WARNING) for the others, whose stderr is for their messages."""
    from docpost.pipeline.config import get_settings

    level = get_settings().log_level or (logging.INFO if daemon else None)
    configure_logging(level)


def log_outcome(fields: Mapping[str, Any]) -> None:
    """The one line of a request's outcome (pipeline.runner.outcome_log)."""
    outcome_log.info(
        "request %s %s", fields.get("request_id"), fields.get("status"), extra={"fields": fields}
    )
