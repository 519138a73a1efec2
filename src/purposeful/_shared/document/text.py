"""A `Document` as plain text, for a terminal or a file.

Headings are underlined (``=`` for level 1, ``-`` below), paragraphs wrapped, tables set in
aligned columns (numbers to the right), list items and labelled values one a line.

Text may come from files anyone could have written, and a terminal acts on control
characters. So every piece of text goes through `printable` where it is written: whitespace
(line breaks included) is collapsed to single spaces, and every other character that is not
printable (control characters, escape sequences, bidirectional overrides, lone surrogates)
is shown as its Python escape (``\\x1b``, ``\\u202e``) rather than sent. In an *exact*
document nothing is collapsed: a line break or a tab is shown as its escape too, and spaces
are kept (a paragraph still wraps at its spaces).

This module must not write text any other way.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata

from .blocks import BarChart, Block, Bullets, Definitions, Document, Heading, Paragraph, Table

__all__ = ["printable", "render_text", "visible"]

#: Where paragraphs wrap unless told otherwise.
WIDTH = 96


def printable(text: str, *, exact: bool = False) -> str:
    """*text* on one line, with nothing a terminal could act on: every character that is
    not printable shown as its escape.

    Whitespace (line breaks included) is first collapsed to single spaces, as for prose.
    With *exact*, for a name that must read as it is, it is not: spaces are kept, and a
    line break or a tab is shown as its escape like any other.
    """
    line = text if exact else " ".join(text.split())
    if line.isprintable():
        return line
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in line)


def visible(text: str) -> str:
    """*text* with its whitespace as it is (line breaks, tabs, spaces of every width) and
    every other character that is not printable shown as its escape: for HTML, where
    whitespace is only whitespace but a control character, a bidirectional override or a
    lone surrogate would act on the page or fail to encode."""
    # the common case (prose, with line breaks and tabs), checked in C
    if text.isprintable() or _LINE_BREAKS_AND_TABS.sub("", text).isprintable():
        return text
    return "".join(ch if ch.isprintable() or _is_space(ch) else ascii(ch)[1:-1] for ch in text)


def _is_space(ch: str) -> bool:
    """A tab, a line break, or a space or separator of Unicode's: not a control character
    (Python counts the file, group, record and unit separators as whitespace too)."""
    return ch in "\t\n\r" or unicodedata.category(ch) in _SPACES


_SPACES = frozenset({"Zs", "Zl", "Zp"})
_LINE_BREAKS_AND_TABS = re.compile("[\t\n\r]+")


def render_text(document: Document, *, width: int = WIDTH) -> str:
    """*document* as plain text wrapped at *width*, ending with one newline. The title is
    not repeated: the level-1 heading says it."""
    exact = document.exact
    chunks: list[list[str]] = [_block(block, width, exact) for block in document.header]
    for section in document.sections:
        chunks += [_block(block, width, exact) for block in section.blocks]
    if document.footer:
        chunks.append(["-" * min(width, 40)])
        chunks += [_block(block, width, exact) for block in document.footer]
    return "\n\n".join("\n".join(chunk) for chunk in chunks if chunk).rstrip("\n") + "\n"


def _wrap(text: str, width: int, exact: bool, *, indent: str = "", hang: str = "") -> list[str]:
    line = printable(text, exact=exact)
    if not line:
        return []
    return textwrap.wrap(
        line, width=width, initial_indent=indent, subsequent_indent=hang, break_on_hyphens=False
    )


def _block(block: Block, width: int, exact: bool) -> list[str]:
    if isinstance(block, Heading):
        text = printable(block.text, exact=exact)
        return [text, ("=" if block.level == 1 else "-") * len(text)]
    if isinstance(block, Paragraph):
        out: list[str] = []
        # exact: the paragraph is one line, its line breaks shown as escapes
        for line in [block.text] if exact else block.text.splitlines():
            out += _wrap(line, width, exact)
        return out
    if isinstance(block, Table):
        return _table(block, exact)
    if isinstance(block, Bullets):
        out = []
        for item in block.items:
            out += _wrap(item, width, exact, indent="- ", hang="  ") or ["-"]
        return out
    if isinstance(block, Definitions):
        out = []
        for label, value in block.items:
            out += _wrap(f"{label}: {value}", width, exact, hang="  ")
        return out
    assert isinstance(block, BarChart)
    return _table(block.as_table(), exact)


def _table(table: Table, exact: bool) -> list[str]:
    out = [printable(table.caption, exact=exact)] if table.caption is not None else []
    columns = len(table.header)
    if not columns:
        return out
    cells = [
        [printable(cell, exact=exact) for cell in row][:columns] + [""] * (columns - len(row))
        for row in (table.header, *table.rows)
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(columns)]
    for row in cells:
        padded = [
            cell.rjust(width) if i in table.numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(padded).rstrip())
    return out
