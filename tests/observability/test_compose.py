"""docker-compose.yml exposes the metrics and checks the workers' health (issue 18 item 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def services() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])


def workers() -> dict[str, Any]:
    return {name: s for name, s in services().items() if "worker" in (s.get("command") or [])}


def test_every_worker_exports_metrics_and_keeps_the_shared_settings() -> None:
    """Each worker serves /metrics on DOCPOST_METRICS_PORT from a multiprocess folder. Its
    environment adds to the shared one (a service's own `environment:` would otherwise
    replace the shared block, database and broker included)."""
    shared = set(services()["api"]["environment"])
    assert {"DOCPOST_DATABASE_URL", "DOCPOST_BROKER_URL", "DOCPOST_LOG_FORMAT"} <= shared
    assert set(workers()) == {"worker", "renderer"}
    for name, worker in workers().items():
        environment = worker["environment"]
        assert shared <= set(environment), name
        assert environment["DOCPOST_METRICS_PORT"] == "9808", name
        assert environment["PROMETHEUS_MULTIPROC_DIR"], name
        assert worker["expose"] == ["9808"], name


def test_every_worker_has_a_health_check_pinging_its_own_node() -> None:
    for name, worker in workers().items():
        kind, command = worker["healthcheck"]["test"]
        assert kind == "CMD-SHELL", name
        assert command.startswith("celery -A docpost.tasks.app inspect ping"), name
        assert "-d celery@$$HOSTNAME" in command, name  # its own node, not any worker


def test_the_http_service_publishes_its_port_for_metrics() -> None:
    assert services()["api"]["ports"] == ["8000:8000"]
