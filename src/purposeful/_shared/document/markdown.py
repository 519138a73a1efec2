"""A `Document` as Markdown (CommonMark, with GitHub's tables), readable as plain text too.

Every piece of text goes through `escape`, the library's one Markdown escaper, where it is
written: whitespace is collapsed (a line break in a cell would end the row), every other
character that is not printable (a control character, an escape sequence, a bidirectional
override, a lone surrogate) is shown as its escape (`text.printable`), and every character
that could start markup is backslash-escaped, so no text becomes emphasis, code, a link, an
image, raw HTML, an entity, a table cell, a heading, a list, a block quote or a rule.

GitHub's and GitLab's extended autolinks are defused too, though they are not CommonMark:
``www.`` is written ``www\\.``, and the colon of ``scheme://`` ``\\:``, which no GFM
renderer links. An email address is linked from any run of text, escapes or not, so the
``@`` of one is written as code (`` `@` ``): it reads, and copies, as the same address, but
is not a link. An *exact* document's text keeps its line breaks and tabs, shown as
escapes. Each paragraph is written on one line (Markdown reads a line break in a
paragraph as a space); a blank one is left out.

What Markdown cannot say is left out: a table's caption (put a heading before the table),
a passage's language. A note paragraph and the footer's paragraphs are in italics; the
footer follows a rule.

This module must not build Markdown from text any other way.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .blocks import BarChart, Block, Bullets, Definitions, Document, Heading, Paragraph, Table
from .text import printable

__all__ = ["escape", "render_markdown"]

#: Characters that start or end inline markup anywhere on a line: escapes, code, emphasis,
#: links and images, raw HTML and autolinks, table cells, headings, strikethrough.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
#: An ampersand that would start an entity or a character reference.
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
#: What starts a block at the start of a line: a list item (``-``, ``+``, ``1.``, ``1)``),
#: a setext underline or a rule (``=``, ``-``).
_LEADING = re.compile(r"^(?:([-+=])|(\d{1,9})([.)]))")
#: GFM's extended autolinks by address: ``www.`` and the colon of ``http://`` (any
#: scheme, in any case: renderers differ in which they link).
_WWW = re.compile(r"(www)\.", re.IGNORECASE)
_SCHEME = re.compile(r"(?<=[A-Za-z0-9]):(?=//)")
#: The ``@`` of an email address: after a character an address can hold, or after the
#: colon of a ``mailto:`` or ``xmpp:`` autolink, whose address may start with it. Text is
#: escaped already: a ``_`` before it is ``\_``.
_EMAIL_AT = re.compile(r"(?<=[A-Za-z0-9.+\-_:])@")


def escape(text: str) -> str:
    """*text* as literal Markdown on one line: whitespace collapsed to single spaces, what
    is not printable shown as its escape, every character that could start markup
    backslash-escaped, and every autolink defused."""
    line = _SPECIAL.sub(r"\\\1", printable(text))
    line = _ENTITY.sub(r"\\&", line)
    line = _SCHEME.sub(r"\\:", _WWW.sub(r"\1\\.", line))
    line = _EMAIL_AT.sub("`@`", line)
    return _LEADING.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", line, count=1)


def render_markdown(document: Document) -> str:
    """*document* as Markdown, ending with one newline. The title is not repeated: the
    level-1 heading says it."""
    write = _escape_exactly if document.exact else escape
    out: list[str] = []
    for block in document.header:
        out += _block(block, write)
    for section in document.sections:
        for block in section.blocks:
            out += _block(block, write)
    if document.footer:
        out += ["---", ""]
        for block in document.footer:
            out += _block(block, write, emphasis=True)
    return "\n".join(out).rstrip("\n") + "\n"


def _escape_exactly(text: str) -> str:
    return escape(printable(text, exact=True))


def _block(block: Block, write: Callable[[str], str], *, emphasis: bool = False) -> list[str]:
    if isinstance(block, Heading):
        return ["#" * block.level + " " + write(block.text), ""]
    if isinstance(block, Paragraph):
        line = write(block.text)
        if not line:
            return []
        return [f"*{line}*" if block.note or emphasis else line, ""]
    if isinstance(block, Table):
        return _table(block, write)
    if isinstance(block, Bullets):
        return [*(f"- {write(item)}" for item in block.items), ""]
    if isinstance(block, Definitions):
        return [*(f"- **{write(label)}:** {write(value)}" for label, value in block.items), ""]
    assert isinstance(block, BarChart)
    return [write(block.title), "", *_table(block.as_table(), write)]


def _table(table: Table, write: Callable[[str], str]) -> list[str]:
    if not table.header:
        return []
    rule = "".join("---:|" if i in table.numeric else "---|" for i in range(len(table.header)))
    out = ["| " + " | ".join(write(heading) for heading in table.header) + " |", "|" + rule]
    out += ["| " + " | ".join(write(cell) for cell in row) + " |" for row in table.rows]
    out.append("")
    return out
