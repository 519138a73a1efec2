"""The blocks a document is made of, and the document itself.

A document is a title, a language, a trusted style, and three regions of blocks: a header,
a main part in sections, and a footer. The blocks are few, frozen, and hold plain text only:
a heading, a paragraph (optionally set apart as a note), a table (caption, column headings,
rows), a bulleted list, labelled values, and a bar chart of counts. Every block of text
takes a ``lang``: the language of a passage that is not in the document's (te reo Māori
text an agency supplies, ``"mi"``), which HTML marks so a screen reader speaks it right.

Text in a block is never markup, whoever wrote it: the person, the agency or the library.
Each renderer (`html`, `markdown`, `text`) escapes it where it writes it, so no caller
escapes anything, and no text can become a tag, a link, a heading or a control sequence.
The document's *style* is the one exception: it is the library's own CSS, never data. A
document marked *exact* (names read from files anyone could have written) is shown exactly
in every format: what is not printable, as its escape.

This module builds values only; it must not render, escape, or read the locale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

import attrs

__all__ = [
    "BarChart",
    "Block",
    "Bullets",
    "Definitions",
    "Document",
    "Heading",
    "Paragraph",
    "Section",
    "Table",
    "fill",
    "paragraphs",
    "split_sections",
]


def _is_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(
            f"{type(instance).__name__}.{attribute.name} takes text, not {type(value).__name__}"
        )


def _texts(values: Iterable[str]) -> tuple[str, ...]:
    found = tuple(values)
    for value in found:
        if not isinstance(value, str):
            raise TypeError(f"a document holds text, not {type(value).__name__}")
    return found


def _rows(rows: Iterable[Iterable[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(_texts(row) for row in rows)


def _pairs(items: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    found = []
    for label, value in items:
        label_text, value_text = _texts((label, value))
        found.append((label_text, value_text))
    return tuple(found)


def _columns(values: Iterable[int]) -> frozenset[int]:
    return frozenset(values)


def _bars(bars: Iterable[tuple[str, Iterable[int]]]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    return tuple((label, tuple(counts)) for label, counts in bars)


@attrs.frozen
class Heading:
    """A heading; *level* 1 is the document's own, 2 a section's, and so on to 6. *lang*:
    its language (BCP 47) when it is not the document's."""

    level: int = attrs.field(validator=[attrs.validators.ge(1), attrs.validators.le(6)])
    text: str = attrs.field(validator=_is_text)
    lang: str | None = attrs.field(default=None, validator=attrs.validators.optional(_is_text))


@attrs.frozen
class Paragraph:
    """One paragraph of text. Line breaks in it are kept where the format can keep them.

    Attributes:
        text: the paragraph.
        lang: the language of the passage (BCP 47), when it is not the document's, e.g.
            ``"mi"`` for a greeting in te reo Māori.
        note: set apart from what it follows (a remark about a table, say): in italics.
    """

    text: str = attrs.field(validator=_is_text)
    lang: str | None = attrs.field(default=None, validator=attrs.validators.optional(_is_text))
    note: bool = False


@attrs.frozen
class Table:
    """A table of text.

    Attributes:
        header: the column headings.
        rows: the cells, row by row.
        caption: what the table is; said by screen readers in HTML and shown in text.
            Markdown has no caption: put a heading before the table to say it there too.
        numeric: the indexes of the columns that hold numbers, aligned right.
        lang: the table's language (BCP 47) when it is not the document's.
        row_headers: the first cell of each row names the row (HTML: a row header cell).
    """

    header: tuple[str, ...] = attrs.field(converter=_texts)
    rows: tuple[tuple[str, ...], ...] = attrs.field(converter=_rows)
    caption: str | None = attrs.field(default=None, validator=attrs.validators.optional(_is_text))
    numeric: frozenset[int] = attrs.field(default=frozenset(), converter=_columns)
    lang: str | None = attrs.field(default=None, validator=attrs.validators.optional(_is_text))
    row_headers: bool = False


@attrs.frozen
class Bullets:
    """A list of items, in no particular order of importance. *lang*: the list's language
    (BCP 47) when it is not the document's."""

    items: tuple[str, ...] = attrs.field(converter=_texts)
    lang: str | None = attrs.field(default=None, validator=attrs.validators.optional(_is_text))


@attrs.frozen
class Definitions:
    """Labelled values: ("Email", "privacy@example.nz"), ("Received", "2 March 2026").
    *lang*: their language (BCP 47) when it is not the document's."""

    items: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs)
    lang: str | None = attrs.field(default=None, validator=attrs.validators.optional(_is_text))


@attrs.frozen
class BarChart:
    """Counts in bars: for each label (an hour, a day), one bar per series.

    HTML draws it (inline SVG, a colour per series, in order: blue, red, amber, then
    others); Markdown and text show the same counts as a table (`as_table`).

    Attributes:
        title: what the chart shows.
        series: the name of each series, e.g. ``("scopes", "denied")``.
        bars: (label, one count per series) for each label, in order.
    """

    title: str = attrs.field(validator=_is_text)
    series: tuple[str, ...] = attrs.field(converter=_texts)
    bars: tuple[tuple[str, tuple[int, ...]], ...] = attrs.field(converter=_bars)

    @bars.validator
    def _check_bars(self, attribute: object, bars: tuple[tuple[str, tuple[int, ...]], ...]) -> None:
        for label, counts in bars:
            _texts((label,))
            if len(counts) != len(self.series) or not all(
                isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts
            ):
                raise ValueError(
                    f"each bar of {self.title!r} takes one whole number, 0 or more, per series "
                    f"({len(self.series)})"
                )

    def as_table(self) -> Table:
        """The chart's counts as a table: a row per label, a column per series."""
        return Table(
            header=("", *self.series),
            rows=[(label, *map(str, counts)) for label, counts in self.bars],
            caption=self.title,
            numeric=range(1, len(self.series) + 1),
        )


Block: TypeAlias = Heading | Paragraph | Table | Bullets | Definitions | BarChart


def _blocks(values: Iterable[Block]) -> tuple[Block, ...]:
    found = tuple(values)
    for value in found:
        if not isinstance(value, Heading | Paragraph | Table | Bullets | Definitions | BarChart):
            raise TypeError(f"a document holds blocks, not {type(value).__name__}")
    return found


@attrs.frozen
class Section:
    """One part of the document's main region, usually opened by a level-2 heading."""

    blocks: tuple[Block, ...] = attrs.field(converter=_blocks)


def _sections(values: Iterable[Section]) -> tuple[Section, ...]:
    found = tuple(values)
    for value in found:
        if not isinstance(value, Section):
            raise TypeError(f"Document.sections holds Section values, not {type(value).__name__}")
    return found


def _style(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    _is_text(instance, attribute, value)
    if "<" in str(value):
        raise ValueError("Document.style is CSS and cannot hold '<': it would end the style")


@attrs.frozen
class Document:
    """A whole document.

    Attributes:
        title: the document's title (HTML's ``<title>``; the level-1 heading says it in the
            body).
        lang: the document's language (BCP 47), e.g. ``"en-NZ"``.
        header: what comes first: a greeting, the title's heading, an introduction.
        sections: the main part, a section at a time.
        footer: what comes last, set apart (a version line, say).
        style: CSS for HTML. Trusted: the library's own constant, never data.
        exact: its texts are names and codes, read from files anyone could have written,
            to be shown as they are and never acted on: every format shows each character
            that is not printable (a line break, a tab, a control character, a
            bidirectional override, a lone surrogate) as its escape (``\\n``, ``\\x1b``,
            ``\\u202e``), and text keeps runs of spaces. Otherwise Markdown and text
            collapse whitespace, and HTML writes every character as it is.
    """

    title: str = attrs.field(validator=_is_text)
    lang: str = attrs.field(validator=_is_text)
    header: tuple[Block, ...] = attrs.field(default=(), converter=_blocks)
    sections: tuple[Section, ...] = attrs.field(default=(), converter=_sections)
    footer: tuple[Block, ...] = attrs.field(default=(), converter=_blocks)
    style: str = attrs.field(default="", validator=_style)
    exact: bool = False


def split_sections(blocks: Iterable[Block]) -> tuple[Section, ...]:
    """*blocks* in sections, a new one at each level-2 heading."""
    sections: list[list[Block]] = []
    for block in blocks:
        if not sections or (isinstance(block, Heading) and block.level == 2):
            sections.append([])
        sections[-1].append(block)
    return tuple(Section(part) for part in sections)


def paragraphs(text: str, *, note: bool = False) -> tuple[Paragraph, ...]:
    """The paragraphs of *text*: a blank line separates them; blank ones are left out."""
    return tuple(Paragraph(part.strip(), note=note) for part in text.split("\n\n") if part.strip())


def fill(text: str, values: Mapping[str, str]) -> str:
    """*text* (an agency's wording) with ``{name}`` replaced from *values*; other braces are
    left as they are."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
