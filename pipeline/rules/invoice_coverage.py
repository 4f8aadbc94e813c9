"""S8 per packing slip: how much of each packing slip an invoice includes, and which units an
invoice that names no serials takes so that S8 holds. Pure: plain values in, no database.

A packing slip is counted over all its serialized lines, not only the lines being invoiced:
it is included in full when every serialized unit it shipped is on this invoice or was
invoiced before. An invoice may take serials from several packing slips, but at most one of
those it takes serials from may be partly included (DOMAIN.md S8). A packing slip it takes no
serialized unit from is not one of "those packing slips", whatever is left on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from docpost.pipeline.errors import Rejection

# Nodes the search for a plan may visit before it gives up and keeps oldest-first (which the
# check then refuses, naming the packing slips): orders with that many packing slips open for
# one invoice are rare, and a refused request can always name its serials.
SEARCH_BUDGET = 4096


@dataclass(frozen=True)
class SlipUnits:
    """One packing slip's serialized units not yet invoiced, per line (`open`), and those this
    invoice already takes by the request's own selection (`fixed`). Lines are named by the
    caller (their names appear in messages)."""

    packing_slip: str
    open: Mapping[str, int]
    fixed: Mapping[str, int] = field(default_factory=dict)


Taken = dict[tuple[str, str], int]  # (packing slip, line) -> units this invoice takes


def left_out(slip: SlipUnits, taken: Mapping[tuple[str, str], int]) -> dict[str, int]:
    """Line -> the serialized units of `slip` neither on this invoice nor invoiced before."""
    left = {}
    for line, units in slip.open.items():
        rest = units - slip.fixed.get(line, 0) - taken.get((slip.packing_slip, line), 0)
        if rest > 0:
            left[line] = rest
    return left


def takes_from(slip: SlipUnits, taken: Mapping[tuple[str, str], int]) -> bool:
    return any(slip.fixed.values()) or any(
        taken.get((slip.packing_slip, line), 0) > 0 for line in slip.open
    )


def partly_included(
    slips: Sequence[SlipUnits], taken: Mapping[tuple[str, str], int]
) -> list[tuple[str, dict[str, int]]]:
    """S8: the packing slips the invoice takes serials from but not all of them, with what
    each leaves out, in the order given."""
    return [
        (slip.packing_slip, left)
        for slip in slips
        if takes_from(slip, taken) and (left := left_out(slip, taken))
    ]


def check_coverage(slips: Sequence[SlipUnits], taken: Mapping[tuple[str, str], int]) -> None:
    """S8: at most one packing slip of the invoice may be partly included, counting all of
    each packing slip's serialized lines. The message names the packing slips and what each
    leaves out, so whoever sent the request sees which line makes a packing slip partial."""
    partial = partly_included(slips, taken)
    if len(partial) <= 1:
        return
    names = [name for name, _ in partial]
    detail = "; ".join(
        f"{name} {', '.join(f'{units} of {line}' for line, units in left.items())}"
        for name, left in partial
    )
    raise Rejection(
        "serial.partial_packing_slips",
        f"the invoice takes part of the serials of packing slips {', '.join(names)}; only one "
        "packing slip may be partly invoiced, invoice the others in full (serialized units "
        f"left out: {detail})",
        rule="S8",
        packing_slips=names,
        left_out={name: left for name, left in partial},
    )


def allocate(slips: Sequence[SlipUnits], wanted: Mapping[str, int]) -> Taken:
    """Which packing slips (oldest first in `slips`) the units `wanted` per line come from,
    when the request names no serials for those lines: oldest first where that keeps S8,
    else a choice of packing slips taken whole with the rest from one packing slip (S8 then
    holds: every other one is whole or untouched). When no such choice exists (or the search
    runs out of budget), oldest first, which check_coverage refuses."""
    oldest = _oldest_first(slips, wanted)
    if len(partly_included(slips, oldest)) <= 1:
        return oldest
    search = _Search(slips, wanted)
    found = search.run(0, dict(wanted), [], [])
    return found if found is not None else oldest


def _oldest_first(slips: Sequence[SlipUnits], wanted: Mapping[str, int]) -> Taken:
    taken: Taken = {}
    for line, units in wanted.items():
        remaining = units
        for slip in slips:
            take = min(remaining, slip.open.get(line, 0) - slip.fixed.get(line, 0))
            if take > 0:
                taken[(slip.packing_slip, line)] = take
                remaining -= take
    return taken


class _Search:
    """Depth first over the packing slips, oldest first: each one that the wanted lines can
    complete is taken whole or skipped; what is left of `wanted` at the end must fit in one
    skipped packing slip. The first plan with at most one partly included packing slip wins."""

    def __init__(self, slips: Sequence[SlipUnits], wanted: Mapping[str, int]) -> None:
        self.slips = slips
        self.wanted = wanted
        self.budget = SEARCH_BUDGET

    def room(self, slip: SlipUnits, line: str) -> int:
        return slip.open.get(line, 0) - slip.fixed.get(line, 0)

    def completable(self, slip: SlipUnits) -> bool:
        """Taking all of its wanted lines makes it whole: its other lines are fixed in full."""
        return all(line in self.wanted or self.room(slip, line) <= 0 for line in slip.open) and any(
            self.room(slip, line) > 0 for line in self.wanted
        )

    def run(
        self, index: int, remaining: dict[str, int], whole: list[int], skipped: list[int]
    ) -> Taken | None:
        self.budget -= 1
        if self.budget < 0:
            return None
        if index == len(self.slips):
            return self.finish(remaining, whole, skipped)
        slip = self.slips[index]
        if self.completable(slip) and all(
            self.room(slip, line) <= remaining[line] for line in self.wanted
        ):
            rest = {line: remaining[line] - max(self.room(slip, line), 0) for line in remaining}
            found = self.run(index + 1, rest, [*whole, index], skipped)
            if found is not None:
                return found
        return self.run(index + 1, remaining, whole, [*skipped, index])

    def finish(
        self, remaining: dict[str, int], whole: list[int], skipped: list[int]
    ) -> Taken | None:
        taken: Taken = {}
        for index in whole:
            slip = self.slips[index]
            for line in self.wanted:
                if self.room(slip, line) > 0:
                    taken[(slip.packing_slip, line)] = self.room(slip, line)
        rest = {line: units for line, units in remaining.items() if units > 0}
        candidates = [None] if not rest else skipped
        for index in candidates:
            plan = dict(taken)
            if index is not None:
                slip = self.slips[index]
                if any(self.room(slip, line) < units for line, units in rest.items()):
                    continue
                plan.update({(slip.packing_slip, line): units for line, units in rest.items()})
            if len(partly_included(self.slips, plan)) <= 1:
                return plan
        return None
