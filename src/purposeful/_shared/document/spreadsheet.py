"""Cells for a spreadsheet: text a spreadsheet will show, never run as a formula.

A CSV file is opened in a spreadsheet, which runs a cell that starts with ``=`` (or ``+``,
``-``, ``@``, a tab or a carriage return) as a formula: ``=HYPERLINK(...)`` becomes a link,
and worse. Every CSV cell of text the library hands over (the subject-access bundle's
records, the insights tables' rows) goes through `neutralise`, once, here.

This module must not write files or read records.
"""

from __future__ import annotations

__all__ = ["neutralise"]

#: What a spreadsheet reads as the start of a formula (OWASP's CSV injection advice).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP's CSV injection advice).

    A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading apostrophe, which spreadsheets show as text; the writer should also quote every
    cell. Keep the exact value elsewhere (JSON) where it matters: ``-3`` becomes ``'-3``.
    """
    return "'" + cell if cell.startswith(_FORMULA_START) else cell
