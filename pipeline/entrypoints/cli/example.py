"""`docpost example DIR`: the shipped examples (the USMF catalog and requests, the Norwegian
company with VAT) written out of the installed package into a folder, so the README's
`docpost load` and `docpost run` lines work after `pip install .` too, where the checkout's
pipeline/examples/ is not at hand (issue 18 item 4)."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from docpost.pipeline.entrypoints.cli.common import EXIT_OK, EXIT_USAGE, CommandFactory, fail

EXAMPLES = ("usmf", "norway")


def register_example_commands(command: CommandFactory) -> None:
    p = command(
        "example",
        cmd_example,
        "write the shipped examples into a folder: DIR/usmf/ and DIR/norway/, each with "
        "catalog.json and requests.jsonl (then `docpost load DIR/usmf/catalog.json` and "
        "`docpost run DIR/usmf/requests.jsonl`)",
    )
    p.add_argument(
        "folder",
        type=Path,
        metavar="DIR",
        help="the folder to write into (made if missing; default: the current folder)",
        nargs="?",
        default=Path("."),
    )
    p.add_argument(
        "--name",
        choices=EXAMPLES,
        action="append",
        help="only this example (may be given twice; default: all)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite files that are there already (default: refuse, changing nothing)",
    )


def shipped_files(name: str) -> list[tuple[str, bytes]]:
    """An example's files as the package holds them: (filename, content), by name."""
    folder = resources.files("docpost.pipeline") / "examples" / name
    return sorted((entry.name, entry.read_bytes()) for entry in folder.iterdir() if entry.is_file())


def cmd_example(args: argparse.Namespace) -> int:
    from docpost.pipeline.entrypoints.cli.output import print_json

    planned = [
        (args.folder / name / filename, content)
        for name in args.name or EXAMPLES
        for filename, content in shipped_files(name)
    ]
    there = [str(path) for path, _ in planned if path.exists()]
    if there and not args.force:
        return fail(
            args,
            f"would overwrite {', '.join(there)}; give --force, or another folder",
            "usage",
            EXIT_USAGE,
        )
    for path, content in planned:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    written = [str(path) for path, _ in planned]
    if args.json:
        print_json({"written": written})
    else:
        print("\n".join(f"wrote {path}" for path in written))
        first = args.folder / (args.name or EXAMPLES)[0]
        print(
            f"next: docpost load {first / 'catalog.json'} && docpost run {first / 'requests.jsonl'}"
        )
    return EXIT_OK
