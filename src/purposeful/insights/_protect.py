"""Confidentiality for a grid of counts: primary and secondary suppression, and RR3.

The grid is a table with its margins, flattened row-major: dimension ``i`` has ``sizes[i]``
positions, its categories and then its total (always last). Every line along a dimension
(all the other coordinates fixed) is an additive constraint: its categories add up to its
total. What a reader can learn from published cells and totals is what these constraints
give, so suppression is judged against them, margins included, whether or not the margins
end up in the output (a total is usually published somewhere: the same report's count,
last quarter's table).

This module sees counts only: never records, purposes or category values.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from typing import Literal

__all__ = ["Grid", "rr3", "suppress"]

Suppression = Literal["primary", "secondary"]

#: A draw below this picks the nearer multiple of 3: it is chosen with probability 2/3.
_NEARER = 2 / 3


def rr3(count: int, rng: random.Random) -> int:
    """Randomly round *count* to base 3, drawing one number from *rng* whatever the count.

    A multiple of 3 stays as it is. Otherwise the count goes to one of the two nearest
    multiples of 3: the nearer with probability 2/3, the farther with probability 1/3, so the
    expected result is the count itself (1 → 0 or 3, 2 → 3 or 0, 7 → 6 or 9).

    Drawing for every count, multiples of 3 included, keeps the draws of a table lined up
    with its cells, so the pattern of draws says nothing about which counts were multiples.
    """
    draw = rng.random()
    remainder = count % 3
    if remainder == 0:
        return count
    if remainder == 1:
        return count - 1 if draw < _NEARER else count + 2
    return count + 1 if draw < _NEARER else count - 2


class Grid:
    """The shape of a table with margins: sizes, strides and the lines along each dimension.

    Args:
        sizes: per dimension, its number of categories plus one (the total, last).
    """

    __slots__ = ("lines", "n_totals", "sizes", "strides")

    def __init__(self, sizes: Sequence[int]) -> None:
        self.sizes = tuple(sizes)
        strides = [1] * len(self.sizes)
        for i in range(len(self.sizes) - 2, -1, -1):
            strides[i] = strides[i + 1] * self.sizes[i + 1]
        self.strides = tuple(strides)
        #: per dimension, the members of each line along it (flat indices, the total last)
        self.lines: tuple[tuple[tuple[int, ...], ...], ...] = tuple(
            self._lines_along(i) for i in range(len(self.sizes))
        )
        #: per cell, how many of its coordinates are totals (0 for an inner cell)
        self.n_totals: tuple[int, ...] = tuple(
            sum(1 for i, at in enumerate(coords) if at == self.sizes[i] - 1)
            for coords in self.coordinates()
        )

    def __len__(self) -> int:
        return math.prod(self.sizes)

    def coordinates(self) -> itertools.product[tuple[int, ...]]:
        """Every cell's coordinates, in flat (row-major) order."""
        return itertools.product(*(range(n) for n in self.sizes))

    def _lines_along(self, dim: int) -> tuple[tuple[int, ...], ...]:
        others = [range(n) if i != dim else range(1) for i, n in enumerate(self.sizes)]
        stride, size = self.strides[dim], self.sizes[dim]
        lines = []
        for coords in itertools.product(*others):
            start = sum(at * s for at, s in zip(coords, self.strides, strict=True))
            lines.append(tuple(range(start, start + size * stride, stride)))
        return tuple(lines)

    def add_margins(self, counts: list[int]) -> None:
        """Fill the total positions of *counts* (inner cells given, totals ignored).

        Dimension by dimension: after step ``k`` every cell whose totals are all in
        dimensions ``0..k`` holds its sum, which is what step ``k + 1`` adds up.
        """
        for lines in self.lines:
            for line in lines:
                counts[line[-1]] = sum(counts[m] for m in line[:-1])


def suppress(counts: Sequence[int], grid: Grid, threshold: int) -> list[Suppression | None]:
    """Which cells of *counts* (a grid with its margins) to suppress, and why.

    1. Primary: a count from 1 to ``threshold - 1``, inner cell or total. Zero is not
       suppressed: it is published as 0.
    2. Secondary, until nothing changes:

       a. no line may have exactly one suppressed cell, and the suppressed cells of a line
          must add up to at least the threshold. Such a line gets another: a published
          non-zero cell, preferring one that also gives another such line its second
          (fewer cells end up suppressed), then the smallest count, then an inner cell
          before a total, then the first in flat order. The sum rule is for readers who
          reason with bounds: zeros are published, so every suppressed cell is at least 1,
          and two suppressed cells that add up to 2 are 1 and 1;
       b. no suppressed cell may be worked out from the published cells by linear
          arithmetic over all the lines at once; in a two-way table, not even with the
          bound every suppressed cell has (at least 1, as zeros are published): each must
          lie on a cycle of suppressed cells that can move by one either way and keep
          every suppressed cell at 1 or more. A cell can be pinned down even when every
          line has two suppressed: one that links two otherwise separate groups of
          suppressed cells, say. For the first such cell, a cell in one of its lines is
          suppressed (chosen as in (a)), and (a) runs again.

    Every suppressed cell is non-zero, so in a two-way table each suppressed cell lies on a
    cycle of suppressed cells that can be moved by ±1 and still fit every published figure.
    The loop ends: each round suppresses one more cell, and once every non-zero cell is
    suppressed none can be worked out (adding one to a cell and to all its totals changes
    nothing published).
    """
    run = _Suppression(counts, grid, threshold)
    if not grid.sizes:
        return run.status
    while True:
        run.apply_line_rule()
        determined = _determined(grid, run.status)
        if not determined and len(grid.sizes) == 2:
            determined = _bounded(grid, counts, run.status)
        if not determined:
            return run.status
        cell = determined[0]
        neighbours = sorted({m for line in run.lines_of[cell] for m in run.lines[line]})
        chosen = run.partner(neighbours)
        if chosen is None:  # its lines are all suppressed or zero: widen the search
            chosen = run.partner(range(len(counts)))
        if chosen is None:  # pragma: no cover - impossible: see the docstring
            raise AssertionError("suppression found no cell left to suppress")
        run.hide(chosen)


class _Suppression:
    """One run of `suppress`: each cell's status, and how many cells each line hides."""

    def __init__(self, counts: Sequence[int], grid: Grid, threshold: int) -> None:
        self.counts = counts
        self.n_totals = grid.n_totals
        self.status: list[Suppression | None] = [
            "primary" if 0 < count < threshold else None for count in counts
        ]
        self.lines = [line for lines in grid.lines for line in lines]
        self.lines_of: list[list[int]] = [[] for _ in counts]
        for number, line in enumerate(self.lines):
            for member in line:
                self.lines_of[member].append(number)
        self.hidden_in = [sum(1 for m in line if self.status[m]) for line in self.lines]
        self.threshold = threshold

    def hide(self, cell: int) -> None:
        self.status[cell] = "secondary"
        for line in self.lines_of[cell]:
            self.hidden_in[line] += 1

    def exposed(self, line: int) -> bool:
        """True if *line*'s suppressed cells could be worked out from it alone.

        Exactly one suppressed cell is worked out by subtraction. Several, with the line's
        total published, add up to a known sum; as each is at least 1 (zeros are
        published), a sum below the threshold, or no more than the number of suppressed
        cells, bounds them too tightly: two that add up to 2 are 1 and 1.
        """
        hidden = self.hidden_in[line]
        if hidden == 1:
            return True
        members = self.lines[line]
        if hidden == 0 or self.status[members[-1]]:
            return False  # a suppressed total leaves the sum unknown
        inner = sum(self.counts[m] for m in members[:-1] if self.status[m])
        return inner < max(self.threshold, hidden + 1)

    def partner(self, candidates: Sequence[int] | range) -> int | None:
        """The candidate to suppress next (see `suppress`), or None if none is published and
        non-zero."""
        best: tuple[int, int, int, int] | None = None
        for m in candidates:
            if self.status[m] is None and self.counts[m] > 0:
                completes = sum(1 for line in self.lines_of[m] if self.exposed(line))
                rank = (-completes, self.counts[m], self.n_totals[m], m)
                if best is None or rank < best:
                    best = rank
        return None if best is None else best[3]

    def apply_line_rule(self) -> None:
        """Step (a): until stable, give every exposed line another suppressed cell."""
        changed = True
        while changed:
            changed = False
            for number, line in enumerate(self.lines):
                if not self.exposed(number):
                    continue
                chosen = self.partner(line)
                if chosen is None:
                    if self.hidden_in[number] == 1:  # pragma: no cover - the sum makes one
                        raise AssertionError("a line with one suppressed cell has no partner")
                    continue  # every non-zero cell of the line is suppressed already
                self.hide(chosen)
                changed = True


_CYCLES_TRIED = 2000  # per cell; a cell with no valid cycle among them counts as pinned


def _bounded(grid: Grid, counts: Sequence[int], status: Sequence[Suppression | None]) -> list[int]:
    """The suppressed cells of a two-way table that a reader who knows each suppressed cell
    is at least 1 can pin down: those on no cycle of suppressed cells along which adding
    and taking one in turn (a total counting against its inner cells) keeps every one of
    them at 1 or more, either way round."""
    rows, columns = grid.sizes
    hidden = [m for m, why in enumerate(status) if why is not None]
    by_node: dict[tuple[int, int], list[int]] = {}
    for m in hidden:
        r, c = divmod(m, columns)
        by_node.setdefault((0, r), []).append(m)
        by_node.setdefault((1, c), []).append(m)

    def sign(m: int) -> int:
        r, c = divmod(m, columns)
        return -1 if (r == rows - 1) != (c == columns - 1) else 1

    def movable(cell: int) -> bool:
        r, c = divmod(cell, columns)
        start, goal = (0, r), (1, c)
        stack: list[tuple[tuple[int, int], list[int], set[tuple[int, int]]]] = [
            (start, [], {start})
        ]
        tried = 0
        while stack and tried < _CYCLES_TRIED:
            node, path, seen = stack.pop()
            if node == goal:
                tried += 1
                cycle = [cell, *reversed(path)]
                for direction in (1, -1):
                    if all(
                        counts[m] + (1 if i % 2 == 0 else -1) * sign(m) * direction >= 1
                        for i, m in enumerate(cycle)
                    ):
                        return True
                continue
            for m in by_node.get(node, []):
                if m == cell or m in path:
                    continue
                mr, mc = divmod(m, columns)
                nxt = (1, mc) if node[0] == 0 else (0, mr)
                if nxt not in seen:
                    stack.append((nxt, [*path, m], seen | {nxt}))
        return False

    return [m for m in hidden if not movable(m)]


def _determined(grid: Grid, status: Sequence[Suppression | None]) -> list[int]:
    """The suppressed cells that the lines pin down, in flat order.

    Each line with a suppressed member is a linear equation in the suppressed cells (its
    published members are constants): the inner members with coefficient 1, the total
    with -1. Gauss-Jordan elimination, exact (integer rows scaled to keep them integral),
    gives the reduced row echelon form; a cell is determined exactly when it is a pivot
    whose row has no other entry (any other entry is a free cell it could move with).
    """
    hidden = {m for m, why in enumerate(status) if why is not None}
    pivots: dict[int, dict[int, int]] = {}
    for lines in grid.lines:
        for line in lines:
            row = {m: 1 for m in line[:-1] if m in hidden}
            if line[-1] in hidden:
                row[line[-1]] = -1
            if row:
                _eliminate(pivots, row)
    return sorted(m for m, row in pivots.items() if len(row) == 1)


def _eliminate(pivots: dict[int, dict[int, int]], row: dict[int, int]) -> None:
    """Add *row* to the reduced row echelon form *pivots* (pivot column → its row)."""
    for column in [c for c in row if c in pivots]:
        if row.get(column):
            row = _cancel(row, pivots[column], column)
    if not row:
        return
    pivot = min(row)
    for column, other in pivots.items():
        if other.get(pivot):
            pivots[column] = _cancel(other, row, pivot)
    pivots[pivot] = row


def _cancel(row: dict[int, int], by: dict[int, int], column: int) -> dict[int, int]:
    """An integer multiple of *row* minus one of *by* that is 0 in *column*, with the zeros
    dropped and the common factor divided out."""
    g = math.gcd(row[column], by[column])
    keep, take = by[column] // g, row[column] // g
    result = {c: v * keep for c, v in row.items()}
    for c, v in by.items():
        value = result.get(c, 0) - v * take
        if value:
            result[c] = value
        else:
            result.pop(c, None)
    common = math.gcd(*result.values())
    if common > 1:
        result = {c: v // common for c, v in result.items()}
    return result
