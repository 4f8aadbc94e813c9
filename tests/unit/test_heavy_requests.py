"""Heavy requests do not starve the interactive queue (issue 13, item 6): catalog loads go to
`bulk`. That a request past the soft time limit is rejected as too large instead of retried
needs a database: tests/queue/test_soft_time_limit.py."""

from __future__ import annotations

from pathlib import Path

import yaml

from docpost.tasks.routing import BULK, EXECUTE_REQUEST, POSTING, queue_for_request, route_task

ROOT = Path(__file__).resolve().parents[2]


# --- catalog loads off the posting queue -----------------------------------------------------


def test_catalog_loads_go_to_the_bulk_queue() -> None:
    """A 13 MB catalog took 3 min 23 s on `posting`, ahead of every packing slip behind it."""
    assert queue_for_request({"kind": "upsert_catalog"}) == BULK
    assert route_task(EXECUTE_REQUEST, [{"kind": "upsert_catalog"}], {}, {}) == {"queue": BULK}
    # Negative control: interactive requests stay on `posting`.
    for kind in ("upsert_order", "confirm_order", "post_packing_slip", "change_serial"):
        assert queue_for_request({"kind": kind}) == POSTING


def test_every_worker_that_takes_postings_takes_bulk_too() -> None:
    """A catalog load on `bulk` must find a consumer wherever postings do: docker-compose's
    workers, and `docpost worker` without -Q (all three queues)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    queues_of = {}
    for name, service in compose["services"].items():
        command = service.get("command") or []
        if "worker" in command:
            given = (
                command[command.index("-Q") + 1] if "-Q" in command else "posting,bulk,documents"
            )
            queues_of[name] = set(given.split(","))
    assert any(POSTING in queues for queues in queues_of.values())
    for name, queues in queues_of.items():
        if POSTING in queues:
            assert BULK in queues, f"{name} consumes posting but not bulk"
