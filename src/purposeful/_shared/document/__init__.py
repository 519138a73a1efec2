"""One document renderer: a small tree of blocks, written as HTML, Markdown or plain text.

Build a `Document` from blocks (`Heading`, `Paragraph`, `Table`, `Bullets`, `Definitions`,
`BarChart`) holding plain text, then render it with `render_html`, `render_markdown` or
`render_text`. Each renderer escapes every piece of text where it writes it, so callers
never escape anything: no text, whoever wrote it, becomes markup. A document of names read
from files anyone could have written (an audit report) is made ``exact``: every format then
shows each character that is not printable as its escape, as text always does.

- `blocks`: the blocks and the document; `paragraphs` and `fill` for the agency's wording,
  `split_sections` to cut blocks at their level-2 headings;
- `html`: a self-contained, accessible page that loads nothing, and `PAGE_STYLE`, the
  style of the pages written for people (with `LARGE_PRINT_STYLE` added for large print);
- `markdown`: CommonMark with tables, through one escaper (`escape_markdown`);
- `spreadsheet`: CSV cells a spreadsheet will not run as a formula (`neutralise`);
- `text`: for a terminal, with control characters shown as escapes (`printable`, and
  `visible`, which keeps whitespace, for HTML).

In every format and every document, a character that is not printable (a control
character, an escape sequence, a bidirectional override, a lone surrogate) is shown as its
Python escape (``\\x1b``, ``\\u202e``), never written as it is: no text can act on a terminal,
reorder what a page shows, or fail to encode.

Nothing here reads a record, the locale or the clock, or imports a room of the library.
"""

from .blocks import (
    BarChart,
    Block,
    Bullets,
    Definitions,
    Document,
    Heading,
    Paragraph,
    Section,
    Table,
    fill,
    paragraphs,
    split_sections,
)
from .html import LARGE_PRINT_STYLE, PAGE_STYLE, render_html
from .markdown import escape as escape_markdown
from .markdown import render_markdown
from .spreadsheet import neutralise
from .text import printable, render_text, visible

__all__ = [
    "LARGE_PRINT_STYLE",
    "PAGE_STYLE",
    "BarChart",
    "Block",
    "Bullets",
    "Definitions",
    "Document",
    "Heading",
    "Paragraph",
    "Section",
    "Table",
    "escape_markdown",
    "fill",
    "neutralise",
    "paragraphs",
    "printable",
    "render_html",
    "render_markdown",
    "render_text",
    "split_sections",
    "visible",
]
