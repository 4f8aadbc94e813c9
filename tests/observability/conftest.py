"""Observability tests: log lines and metrics read back as a collector would read them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from docpost.pipeline.logs import OUTCOME_LOGGER, configure_logging


class JsonLog:
    """The JSON lines written through pipeline.logs.configure_logging during a test."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]

    def outcomes(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["logger"] == OUTCOME_LOGGER]


@pytest.fixture
def json_log() -> Iterator[JsonLog]:
    """configure_logging(INFO, json) into a buffer; the root logger restored afterwards."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure_logging(logging.INFO, "json", stream=stream)
    yield JsonLog(stream)
    root.removeHandler(handler)
    root.setLevel(level)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition: (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(scraped: dict[Any, float], name: str, **labels: str) -> float:
    """A sample's value; 0 for a labelled series not exposed yet (a counter never moved)."""
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)
