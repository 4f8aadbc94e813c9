"""Summarise py-spy's collapsed stacks (`--format raw`) of a bench worker.

    python -m bench.profile FILE [--top 25] [--focus FUNCTION] [--main]

`python -m bench --profile DIR` records them (py-spy must be installed: `pip install py-spy`).
Only the pool processes' samples count, unless --main: then only the worker's main process's
(it receives, acks and sends the task events of every task: the queue floor's share of a
posting's worker CPU).
Prints where the time goes: by area (time waiting on PostgreSQL, SQLAlchemy, Celery, ...),
then the functions with most time inclusive (by file:function, each counted once per
sample) and most time in themselves.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

# Leaf-first: the first pattern matching a sample's innermost frames names its area.
AREAS: list[tuple[str, re.Pattern[str]]] = [
    ("waiting on PostgreSQL (psycopg2 execute/commit)", re.compile(r"do_execute|do_commit|"
     r"_execute_context.*default\.py|do_executemany|do_rollback|do_begin|psycopg2")),
    ("Redis / kombu I/O", re.compile(r"redis/|kombu/")),
    ("WeasyPrint / pydyf / fonts", re.compile(r"weasyprint/|pydyf/|tinycss2|cssselect2|fontTools")),
    ("Jinja2", re.compile(r"jinja2/")),
    ("SQLAlchemy (ORM, compile, rows)", re.compile(r"sqlalchemy/")),
    ("pydantic", re.compile(r"pydantic")),
    ("json", re.compile(r"json/")),
    ("Celery / billiard", re.compile(r"celery/|billiard/|vine/")),
    ("logging", re.compile(r"logging/")),
]  # fmt: skip


def samples(path: Path, main: bool = False) -> Iterator[tuple[list[str], int]]:
    """(frames of a pool process's sample, outermost first, without the process frames), count.
    `main`: the worker's main process's samples instead."""
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        processes = [f for f in frames if f.startswith("process ")]
        if (len(processes) < 2) != main:
            continue  # the worker's main process, or (main) a pool process
        yield [f for f in frames if not f.startswith("process ")], int(count)


def _name(frame: str) -> str:
    """`function (path/file.py:123)` -> `path/file.py:function`."""
    match = re.match(r"(.*) \((.*?):\d+\)$", frame)
    if not match:
        return frame
    function, file = match.groups()
    parts = file.split("/")
    return f"{'/'.join(parts[-2:])}:{function}"


def area_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for area, pattern in AREAS:
            if pattern.search(frame):
                return area
        if "site-packages" not in frame and ("pipeline/" in frame or "reports/" in frame):
            return "docpost code (pipeline/, reports/, tasks/)"
    return "other Python"


def summarise(path: Path, top: int = 25, focus: str | None = None, main: bool = False) -> str:
    total = 0
    areas: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in samples(path, main):
        if focus is not None:
            at = next((i for i, f in enumerate(frames) if focus in f), None)
            if at is None:
                continue
            frames = frames[at:]
        total += count
        areas[area_of(frames)] += count
        for name in {_name(f) for f in frames}:
            inclusive[name] += count
        if frames:
            own[_name(frames[-1])] += count
    where = "the main process" if main else "pool processes"
    if not total:
        return f"no samples from {where}"
    lines = [f"{total} samples in {where}" + (f" under {focus!r}" if focus else "")]
    lines.append("by area (innermost matching frame):")
    lines += [f"  {100 * n / total:5.1f}%  {area}" for area, n in areas.most_common()]
    lines.append("inclusive:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    lines.append("own time:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--focus", help="only samples under this frame (a substring)")
    parser.add_argument("--main", action="store_true", help="the worker's main process instead")
    args = parser.parse_args()
    print(summarise(args.file, args.top, args.focus, args.main))


if __name__ == "__main__":
    main()
