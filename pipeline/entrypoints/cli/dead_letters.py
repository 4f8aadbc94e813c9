"""`docpost dead-letters`: the messages workers could not decode, kept for operators
(CONTRACT.md "Nothing accepted is lost"; pipeline.dead_letters)."""

from __future__ import annotations

import argparse
from typing import Any

from docpost.pipeline.entrypoints.cli.common import EXIT_OK, CommandFactory, sessions

SHOWN_HEAD = 60


def register_dead_letter_commands(command: CommandFactory) -> None:
    p = command(
        "dead-letters",
        cmd_dead_letters,
        "messages the workers could not decode (kept, not dropped): id, received, queue, "
        "task, size, reason and the start of the body",
    )
    p.add_argument(
        "--limit", type=int, default=None, metavar="N", help="only the newest N (default: all)"
    )


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from docpost.pipeline.dead_letters import count_dead_letters, list_dead_letters
    from docpost.pipeline.entrypoints.cli.output import print_json

    with sessions()() as session:
        letters = list_dead_letters(session, args.limit)
        total = count_dead_letters(session)
    if args.json:
        print_json({"count": total, "dead_letters": letters})
    else:
        print(_table(letters) if letters else "no dead letters")
    return EXIT_OK


def _table(letters: list[dict[str, Any]]) -> str:
    from docpost.pipeline.entrypoints.cli.output import readable_time
    from docpost.pipeline.entrypoints.cli.render_text import table

    return table(
        ["id", "received_at", "queue", "task", "size", "reason", "raw_head"],
        [
            [
                letter["id"],
                readable_time(letter["received_at"]),
                letter["queue"],
                letter["task"],
                letter["size"],
                _one_line(letter["reason"], 100),
                _one_line(letter["raw_head"], SHOWN_HEAD),
            ]
            for letter in letters
        ],
    )


def _one_line(text: str, limit: int) -> str:
    # Control characters would move the terminal's cursor: shown as their escapes.
    text = " ".join(text.split())
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
