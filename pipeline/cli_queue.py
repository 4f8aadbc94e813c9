"""The queue's commands: submit, worker, beat, demo, bulk-invoice (filled by the queue work)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

CommandFactory = Callable[[str, Callable[[argparse.Namespace], int], str], Any]


def register_queue_commands(command: CommandFactory) -> None:
    """Add the queue's subcommands with `command(name, handler, help)`, which returns the
    subparser to add arguments to."""
