"""The published table: cells that are protected already, and the ways to hand it over.

A `Table` is what leaves the agency. It holds the published (rounded) value of each cell,
None for a suppressed cell, the category values grouped by, and notes. It never holds a
raw count, a record value other than a category grouped by, or a subject identifier: this
module only formats what `crosstab` and `count` decided to publish. Its Markdown is a
document rendered by `purposeful._shared.document`: it must not escape anything or write
markup itself.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal

import attrs

from .._shared.document import Bullets, Document, Section, neutralise, render_markdown
from .._shared.document import Table as DocumentTable
from ..errors import ConfigurationError

__all__ = ["TOTAL", "Cell", "Table", "Total"]

#: How the published columns of `Table.to_rows` are named, after the dimensions.
COUNT_COLUMN = "count"
SUPPRESSED_COLUMN = "suppressed"


class Total(enum.Enum):
    """The type of `TOTAL`, the key for a dimension summed over in a margin."""

    TOTAL = "Total"

    def __repr__(self) -> str:
        return "TOTAL"


#: Stands for a summed dimension in a cell key: ``table.cells[("Northland", TOTAL)]`` is
#: Northland's row total, ``table.cells[(TOTAL, TOTAL)]`` the grand total.
TOTAL = Total.TOTAL

Key = tuple[object, ...]


def _check_cell(cell: Cell, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in (None, "primary", "secondary"):
        raise ConfigurationError(
            f"Cell.suppressed is None, 'primary' or 'secondary', not {type(value).__name__}"
        )


@attrs.frozen
class Cell:
    """One published cell of a `Table`.

    Attributes:
        value: the published count (rounded to base 3 when the table is rounded), or None
            when the cell is suppressed.
        suppressed: None for a published cell; "primary" for a count below the threshold;
            "secondary" for a cell suppressed so that a primary one cannot be worked out
            from the totals. Exports say only that a cell is suppressed, not why: see
            `Table.to_rows`.
    """

    value: int | None
    suppressed: Literal["primary", "secondary"] | None = attrs.field(
        default=None, validator=_check_cell
    )

    def __attrs_post_init__(self) -> None:
        if (self.value is None) is (self.suppressed is None):
            raise ConfigurationError(
                "a Cell has a value when it is published and none when it is suppressed"
            )

    @property
    def published(self) -> bool:
        """True unless the cell is suppressed."""
        return self.suppressed is None


def _frozen_cells(cells: Mapping[Key, Cell]) -> Mapping[Key, Cell]:
    return MappingProxyType(dict(cells))


@attrs.frozen(repr=False, hash=False)
class Table:
    """A protected table of counts, ready to hand over.

    Attributes:
        dimensions: the fields grouped by, in order; empty for `count`.
        categories: per dimension, its category values in the table's order.
        cells: cell key → `Cell`. A key has one value per dimension; `TOTAL` in a
            position marks a margin summed over that dimension. Ordered: categories in
            order, totals last.
        purpose: the id of the purpose the counts were computed under.
        threshold: counts from 1 to ``threshold - 1`` were suppressed.
        rounding: "RR3" when published counts are randomly rounded to base 3, else None.
        seed_given: True if the rounding was seeded (the same seed and data give the same
            table); the seed itself is not kept.
        community_sensitivity: labels for the ethnicity or iwi breakdowns in the table (or
            the other categories the caller named).
        margins: True if the table includes its totals.
    """

    dimensions: tuple[str, ...]
    categories: tuple[tuple[object, ...], ...]
    cells: Mapping[Key, Cell] = attrs.field(converter=_frozen_cells)
    purpose: str
    threshold: int
    rounding: Literal["RR3"] | None
    seed_given: bool
    community_sensitivity: tuple[str, ...] = ()
    margins: bool = True

    @property
    def total(self) -> Cell | None:
        """The grand total (the only cell of a `count`), or None without margins."""
        return self.cells.get((TOTAL,) * len(self.dimensions) if self.dimensions else ())

    def notes(self) -> tuple[str, ...]:
        """What a reader needs to read the table right, in plain words."""
        notes = [f"Counts of records, for the purpose {self.purpose!r}. A 0 is a true zero."]
        if self.threshold > 1:
            notes.append(
                f"S: suppressed. A count from 1 to {self.threshold - 1} is suppressed, and "
                f"so is any other cell that would let one be worked out from the totals."
            )
        if self.rounding == "RR3":
            rounded = "Counts are randomly rounded to base 3 (RR3)"
            if self.margins and self.dimensions:
                rounded += (
                    ", each on its own: cells need not add up to the totals, which are "
                    "rounded from the exact sums"
                )
            notes.append(rounded + ".")
        else:
            notes.append("Counts are not rounded.")
        notes.extend(self.community_sensitivity)
        return tuple(notes)

    def to_rows(self) -> list[dict[str, object]]:
        """One dict per cell, for `csv.DictWriter`: the dimensions, then ``count`` and
        ``suppressed``.

        A margin's summed dimension reads "Total". A suppressed cell has ``count`` None
        (an empty CSV field) and ``suppressed`` True. Why it was suppressed (primary or
        secondary) is left out on purpose: knowing which hidden cells are below the
        threshold and which are not narrows what a reader can work out.

        A category value that is text and starts as a spreadsheet formula would (``=``,
        ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe, as the
        subject-access bundle's CSV files do, so that ``=HYPERLINK(...)`` is shown, never
        run. `to_json` keeps the exact values.
        """
        return self._rows(neutralise)

    def _rows(self, cell_text: Callable[[str], str] = str) -> list[dict[str, object]]:
        """`to_rows`, with each category value that is text passed through *cell_text*."""
        rows: list[dict[str, object]] = []
        for key, cell in self.cells.items():
            row: dict[str, object] = {}
            for dim, value in zip(self.dimensions, key, strict=True):
                shown = _json_value(value)
                row[dim] = cell_text(shown) if isinstance(shown, str) else shown
            row[COUNT_COLUMN] = cell.value
            row[SUPPRESSED_COLUMN] = not cell.published
            rows.append(row)
        return rows

    def to_json(self) -> dict[str, object]:
        """The table as a JSON-ready dict: its settings, notes and its rows as `to_rows`
        gives them, but with every value exact (no apostrophe before a formula)."""
        return {
            "dimensions": list(self.dimensions),
            "categories": {
                dim: [_json_value(v) for v in values]
                for dim, values in zip(self.dimensions, self.categories, strict=True)
            },
            "purpose": self.purpose,
            "threshold": self.threshold,
            "rounding": self.rounding,
            "seed_given": self.seed_given,
            "margins": self.margins,
            "community_sensitivity": list(self.community_sensitivity),
            "notes": list(self.notes()),
            "cells": self._rows(),
        }

    def to_markdown(self) -> str:
        """A readable Markdown table, with "S" for a suppressed cell, followed by the notes.

        One dimension: a column of counts. Two: a grid, the first dimension down the side.
        None or three and more: one row per cell. No label or note becomes markup: the
        renderer escapes each.
        """
        table = self._grid() if len(self.dimensions) == 2 else self._list()
        page = Document(
            "Counts of records",
            "en",
            sections=[Section([table, Bullets(self.notes())])],
        )
        return render_markdown(page)

    def _list(self) -> DocumentTable:
        """One row per cell: its categories, then its count."""
        return DocumentTable(
            (*self.dimensions, COUNT_COLUMN),
            [(*map(_label, key), _shown(cell)) for key, cell in self.cells.items()],
            numeric={len(self.dimensions)},
        )

    def _grid(self) -> DocumentTable:
        """The first dimension down the side, the second across, totals last."""
        rows, columns = (list(values) for values in self.categories)
        if self.margins:
            rows.append(TOTAL)
            columns.append(TOTAL)
        return DocumentTable(
            (f"{self.dimensions[0]} \\ {self.dimensions[1]}", *map(_label, columns)),
            [
                (_label(row), *(_shown(self.cells[(row, column)]) for column in columns))
                for row in rows
            ],
            numeric=range(1, len(columns) + 1),
        )

    def __repr__(self) -> str:
        shape = " × ".join(self.dimensions) or "count"
        hidden = sum(1 for cell in self.cells.values() if not cell.published)
        rounding = self.rounding or "unrounded"
        return (
            f"<Table {shape} for {self.purpose!r}: {len(self.cells)} cells, {hidden} "
            f"suppressed, {rounding}, threshold {self.threshold}>"
        )


def _shown(cell: Cell) -> str:
    return "S" if cell.value is None else str(cell.value)


def _label(value: object) -> str:
    """How a category value reads in a table."""
    if value is None:
        return "(none)"
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def _json_value(value: object) -> object:
    """A category value as JSON can carry it: text, a number, a boolean or null."""
    if value is TOTAL:
        return TOTAL.value
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
