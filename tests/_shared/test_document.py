"""The document renderer: text in any block, whoever wrote it, never becomes markup.

The HTML and Markdown properties compare two renderings of one document: with its texts,
and with every text replaced by a marker. The markup around the texts must be the same in
both, and each text must read back exactly (HTML, through ``html.parser``) or as the one
escaper writes it (Markdown), in its place.
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import attrs
import cmarkgfm
import pytest
from hypothesis import given
from hypothesis import strategies as st

from purposeful._shared.document import (
    PAGE_STYLE,
    BarChart,
    Block,
    Bullets,
    Definitions,
    Document,
    Heading,
    Paragraph,
    Section,
    Table,
    escape_markdown,
    fill,
    paragraphs,
    printable,
    render_html,
    render_markdown,
    render_text,
    split_sections,
    visible,
)

#: What marks a text's place in `with_markers`: printable, so that every renderer writes
#: it as it is, and never in a text here.
MARKS = ("\ua500", "\ua501", "\ua502")
#: Any character Python can hold and UTF-8 can write (no lone surrogates), but the marks.
ANY = st.characters(exclude_categories=("Cs",), exclude_characters=MARKS)
TEXT = st.text(ANY, max_size=20)
MARKUP = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "' onmouseover='alert(1)",
        "&lt;b&gt; &amp; &#x3C;",
        "</p></section><h1>",
        "[click](javascript:alert(1))",
        "![x](http://example.com/x.png)",
        "*bold* _it_ `code` ~~gone~~ | cell |",
        "# heading",
        "- item",
        "1. item",
        "2) item",
        "> quoted",
        "===",
        "---",
        "    indented code",
        "```",
        "<!-- comment -->",
        "\\<b>\\",
        "line\nbreak\r\nand\rmore",
        "\x1b[31mred\x1b[0m \u202egnp.exe",
        "[ref]: http://example.com",
        "www.example.com",
        "WWW.EXAMPLE.COM/x",
        "https://example.com/login",
        "(http://example.com)",
        "ftp://example.com",
        "help@example.com",
        "a_b@c.d",
        "mailto:a@b.c",
        "xmpp:a@b.c/x",
        "\x00\x7f\x85\u200e\u2066\u061c\x1c",
    ]
)
#: Text that often holds markup, and sometimes is only that.
HOSTILE = st.one_of(TEXT, MARKUP, st.builds(lambda a, m, b: a + m + b, TEXT, MARKUP, TEXT))
#: As `HOSTILE`, with lone surrogates too: what a name read from JSON may hold.
ANY_NAME = st.one_of(
    HOSTILE, st.text(st.characters(), max_size=20), st.sampled_from(["\ud800", "a\udcff b"])
)


def blocks(text: st.SearchStrategy[str]) -> st.SearchStrategy[Block]:
    row = st.lists(text, min_size=1, max_size=3)
    return st.one_of(
        st.builds(Heading, st.integers(1, 6), text),
        st.builds(Paragraph, text, st.none() | text, st.booleans()),
        row.flatmap(
            lambda header: st.builds(
                Table,
                st.just(header),
                st.lists(st.lists(text, min_size=len(header), max_size=len(header)), max_size=3),
                st.none() | text,
                st.sets(st.integers(0, len(header) - 1)),
            )
        ),
        st.builds(Bullets, st.lists(text, max_size=3)),
        st.builds(Definitions, st.lists(st.tuples(text, text), max_size=3)),
        st.tuples(st.lists(text, min_size=1, max_size=3), st.integers(8, 16)).flatmap(
            lambda shape: st.builds(
                BarChart,
                text,
                st.just(shape[0]),
                st.lists(
                    st.tuples(
                        # labels of one length: how often the chart labels its bars
                        # depends on it
                        st.text(ANY, min_size=shape[1], max_size=shape[1]),
                        st.lists(
                            st.integers(0, 10**6),
                            min_size=len(shape[0]),
                            max_size=len(shape[0]),
                        ),
                    ),
                    max_size=4,
                ),
            )
        ),
    )


def documents(text: st.SearchStrategy[str]) -> st.SearchStrategy[Document]:
    some = st.lists(blocks(text), max_size=4)
    return st.builds(
        Document,
        title=text,
        lang=text,
        header=some,
        sections=st.lists(st.builds(Section, some), max_size=3),
        footer=some,
        style=st.just(PAGE_STYLE),
    )


def map_texts(document: Document, change: Callable[[str], str]) -> Document:
    """*document* with every text in it passed through *change*, in reading order."""

    def block(item: Block) -> Block:
        if isinstance(item, Heading):
            return attrs.evolve(item, text=change(item.text))
        if isinstance(item, Paragraph):
            lang = None if item.lang is None else change(item.lang)
            return attrs.evolve(item, text=change(item.text), lang=lang)
        if isinstance(item, Table):
            caption = None if item.caption is None else change(item.caption)
            return attrs.evolve(
                item,
                caption=caption,
                header=[change(h) for h in item.header],
                rows=[[change(c) for c in row] for row in item.rows],
            )
        if isinstance(item, Bullets):
            return Bullets([change(i) for i in item.items])
        if isinstance(item, Definitions):
            return Definitions([(change(a), change(b)) for a, b in item.items])
        return BarChart(
            change(item.title),
            [change(s) for s in item.series],
            [(change(label), counts) for label, counts in item.bars],
        )

    return attrs.evolve(
        document,
        title=change(document.title),
        lang=change(document.lang),
        header=[block(b) for b in document.header],
        sections=[Section([block(b) for b in s.blocks]) for s in document.sections],
        footer=[block(b) for b in document.footer],
    )


def with_markers(document: Document) -> tuple[Document, dict[str, str]]:
    """*document* with each text replaced by a marker no text holds (as long as the text,
    where the text is long enough), and the texts."""
    texts: dict[str, str] = {}
    numbers = itertools.count()

    def mark(text: str) -> str:
        number = str(next(numbers))
        marker = MARKS[0] + number.ljust(len(visible(text)) - 2, MARKS[2]) + MARKS[1]
        texts[marker] = text
        return marker

    return map_texts(document, mark), texts


_MARKER = re.compile(f"{MARKS[0]}[0-9]+{MARKS[2]}*{MARKS[1]}")


def put_back(text: str, texts: dict[str, str], write: Callable[[str], str] = str) -> str:
    return _MARKER.sub(lambda m: write(texts[m[0]]), text)


class Events(HTMLParser):
    """Start and end tags with their attributes, and the text between them (merged)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, tuple(attributes)))

    def handle_startendtag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, tuple(attributes)))
        self.events.append(("end", tag))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag))

    def handle_data(self, data: str) -> None:
        if self.events and self.events[-1][0] == "data":
            self.events[-1] = ("data", self.events[-1][1] + data)
        else:
            self.events.append(("data", data))

    def handle_comment(self, data: str) -> None:
        self.events.append(("comment", data))

    def handle_decl(self, decl: str) -> None:
        self.events.append(("decl", decl))

    def unknown_decl(self, data: str) -> None:
        self.events.append(("unknown", data))

    def handle_pi(self, data: str) -> None:
        self.events.append(("pi", data))


def html_events(page: str, fill_in: Callable[[str], str] = str) -> list[tuple[Any, ...]]:
    parser = Events()
    parser.feed(page)
    parser.close()
    out: list[tuple[Any, ...]] = []
    for event in parser.events:
        if event[0] == "start":
            attributes = tuple((k, v if v is None else fill_in(v)) for k, v in event[2])
            out.append(("start", event[1], attributes))
        elif event[0] == "data":
            data = fill_in(event[1])
            if data:  # an empty text leaves no data between its tags
                if out and out[-1][0] == "data":
                    out[-1] = ("data", out[-1][1] + data)
                else:
                    out.append(("data", data))
        else:
            out.append(event)
    return out


# --- HTML -----------------------------------------------------------------------------------


@given(documents(HOSTILE))
def test_no_text_in_any_block_becomes_markup_in_html_and_every_text_reads_back(
    document: Document,
) -> None:
    marked, texts = with_markers(document)
    expected = html_events(render_html(marked), lambda text: put_back(text, texts, visible))
    assert html_events(render_html(document)) == expected


def test_a_page_loads_nothing_and_says_its_language_and_title() -> None:
    page = render_html(Document(title="Kia ora <b>", lang="mi", style=PAGE_STYLE))
    assert page.startswith('<!DOCTYPE html>\n<html lang="mi">\n<head>\n<meta charset="utf-8">')
    assert "<title>Kia ora &lt;b&gt;</title>" in page
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
    ) in page
    assert page.endswith("</body>\n</html>\n")


def test_a_table_has_a_caption_header_cells_and_numbers_marked() -> None:
    table = Table(["Name", "Count"], [["Aroha", "3"]], caption="People", numeric={1})
    page = render_html(Document(title="t", lang="en", sections=[Section([table])]))
    assert (
        "<table>\n<caption>People</caption>\n<thead><tr>\n"
        '<th scope="col">Name</th>\n<th scope="col">Count</th>\n</tr></thead>\n<tbody>\n'
        '<tr><td>Aroha</td><td class="number">3</td></tr>\n</tbody>\n</table>'
    ) in page


def test_regions_are_landmarks_and_a_passage_in_another_language_says_so() -> None:
    document = Document(
        title="t",
        lang="en-NZ",
        header=[Paragraph("Kia ora", lang="mi"), Heading(1, "Title")],
        sections=[Section([Heading(2, "One"), Paragraph("A note.", note=True)])],
        footer=[Paragraph("Version 1.")],
    )
    page = render_html(document)
    assert (
        '<header>\n<p><span lang="mi">Kia ora</span></p>\n<h1>Title</h1>\n</header>\n'
        '<main>\n<section>\n<h2>One</h2>\n<p class="note">A note.</p>\n</section>\n</main>\n'
        "<footer>\n<p>Version 1.</p>\n</footer>"
    ) in page


def test_a_chart_is_inline_svg_with_a_bar_for_each_count() -> None:
    chart = BarChart("Reads per day", ["scopes", "denied"], [("1 May", [3, 1]), ("2 May", [0, 2])])
    page = render_html(Document(title="t", lang="en", sections=[Section([chart])]))
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert page.count("<rect ") == 4 + 2  # a bar per count, and a key per series
    assert "<title>1 May: 3 scopes</title>" in page


def test_a_style_that_could_end_its_element_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot hold '<'"):
        Document(title="t", lang="en", style="p{}</style><script>")


# --- Markdown -------------------------------------------------------------------------------

#: What CommonMark (with GitHub's tables and strikethrough) reads as markup anywhere in a
#: line: backslash escapes, code spans and fences, emphasis, strikethrough, links, images,
#: link reference definitions, autolinks and raw HTML, table cells, headings, block quotes.
ANYWHERE = set("\\`*_~[]<>|#")
#: What opens a block at the start of a line: list items, setext underlines and rules
#: (``*``, ``_``, ``#``, ``>``, ``|`` and fences are escaped anywhere).
LINE_START = re.compile(r"[-+=]|\d{1,9}[.)]")
#: Entity and numeric character references.
REFERENCE = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
ASCII_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def unescape(line: str) -> str:
    """*line* as CommonMark reads a backslash before ASCII punctuation: the character."""
    return re.sub(r"\\(.)", lambda m: m[1] if m[1] in ASCII_PUNCTUATION else m[0], line)


def escaped_everywhere(line: str) -> bool:
    """True if every markup character of *line* is escaped (after an odd run of \\)."""
    index = 0
    while index < len(line):
        if line[index] == "\\":
            if index + 1 < len(line) and line[index + 1] in ASCII_PUNCTUATION:
                index += 2
                continue
            return False  # a backslash escaping nothing: a hard line break at the end
        if line[index] in ANYWHERE:
            return False
        if line[index] == "&" and REFERENCE.match(line, index):
            return False
        index += 1
    return True


#: The code span the escaper writes an email address's ``@`` as (never escaped: every
#: backtick of a text is).
_AT = re.compile(r"(?<!\\)`@`")


@given(HOSTILE)
def test_the_markdown_escaper_leaves_no_markup_and_reads_back_as_the_text(text: str) -> None:
    line = escape_markdown(text)
    assert "\n" not in line
    assert "\r" not in line
    assert line == line.strip()  # no indented code, no hard line break
    assert escaped_everywhere(_AT.sub("@", line))
    assert not LINE_START.match(line)
    assert unescape(_AT.sub("@", line)) == printable(text)


#: Text full of what GitHub links by itself: addresses, schemes, email addresses.
LINKISH = st.lists(
    st.sampled_from(
        [
            "www.",
            "WWW.",
            "http",
            "https",
            "ftp",
            "mailto",
            "xmpp",
            "://",
            ":",
            "//",
            "@",
            ".",
            "a",
            "Z",
            "0",
            "-",
            "_",
            "+",
            "example",
            ".com",
            ".nz",
            "/x",
            " ",
            "(",
            ")",
            "<",
            ">",
            "*",
            "~",
            "\\",
            "&#64;",
            "`",
            "\n",
        ]
    ),
    max_size=12,
).map("".join)


def gfm(markdown: str) -> str:
    """*markdown* as GitHub renders it (cmark-gfm, with its extensions and raw HTML kept)."""
    return str(
        cmarkgfm.github_flavored_markdown_to_html(
            markdown, options=cmarkgfm.Options.CMARK_OPT_UNSAFE
        )
    )


@given(st.one_of(LINKISH, HOSTILE))
def test_github_reads_no_text_as_a_link_or_markup(text: str) -> None:
    # GitHub's own parser: its extended autolinks (www., http://, email addresses) as well
    # as CommonMark's markup; the text reads back as it was, escapes shown
    text = text if text.split() else text + "x"
    page = gfm(escape_markdown(text))
    assert page.startswith("<p>")
    assert page.endswith("</p>\n")
    inside = page[len("<p>") : -len("</p>\n")]
    assert "<" not in inside.replace("<code>@</code>", "@")
    assert html.unescape(inside.replace("<code>@</code>", "@")) == printable(text)


@given(documents(st.one_of(LINKISH, HOSTILE)))
def test_github_finds_no_link_in_a_document(document: Document) -> None:
    page = gfm(render_markdown(document))
    assert "<a " not in page
    assert "<img" not in page
    assert "<script" not in page


# --- what is not printable, in every format -------------------------------------------------


@given(documents(ANY_NAME))
def test_every_format_shows_what_is_not_printable_as_escapes(document: Document) -> None:
    # a control character, an escape sequence, a bidirectional override or a lone
    # surrogate is never written as it is, exact document or not
    page = render_html(document)
    assert all(
        ch.isprintable() or ch in "\t\n\r" or unicodedata.category(ch) in ("Zs", "Zl", "Zp")
        for ch in page
    )
    page.encode("utf-8")
    for written in (render_markdown(document), render_text(document)):
        assert all(ch == "\n" or ch.isprintable() for ch in written)
        written.encode("utf-8")


def test_a_control_or_bidi_character_reads_as_its_escape_in_every_format() -> None:
    document = Document(
        title="t",
        lang="en",
        sections=[Section([Paragraph("a\u202eb\x1bc\x00d\ud800e"), Table(["x\u2066"], [])])],
    )
    for written in (render_html(document), render_markdown(document), render_text(document)):
        for shown in ("u202e", "x1b", "x00", "ud800", "u2066"):
            assert shown in written
        assert not any(ch in written for ch in "\u202e\x1b\x00\ud800\u2066")


def test_html_keeps_whitespace_as_whitespace() -> None:
    page = render_html(
        Document(title="t", lang="en", sections=[Section([Paragraph("a\nb\tc\xa0d")])])
    )
    assert "<p>a\nb\tc\xa0d</p>" in page


@given(documents(HOSTILE.map(lambda text: text if text.split() else text + "x")))
def test_no_text_in_any_block_changes_the_markdown_around_it(document: Document) -> None:
    # a blank paragraph is left out: every text here has something in it
    marked, texts = with_markers(document)
    expected = put_back(render_markdown(marked), texts, escape_markdown)
    assert render_markdown(document) == expected


def test_markdown_blocks() -> None:
    document = Document(
        title="t",
        lang="en",
        header=[Paragraph("Kia ora", lang="mi"), Heading(1, "How *we* work")],
        sections=[
            Section(
                [
                    Heading(2, "What"),
                    Paragraph("1. One line,\nnot two"),
                    Paragraph("- not a list"),
                    Table(["Name", "Count"], [["A|B", "3"]], caption="dropped", numeric={1}),
                    Bullets(["one", "two"]),
                    Definitions([("Email", "a_b@example.nz")]),
                    Paragraph("A note.", note=True),
                ]
            )
        ],
        footer=[Paragraph("Notice version 2.")],
    )
    assert render_markdown(document) == (
        "Kia ora\n\n# How \\*we\\* work\n\n## What\n\n1\\. One line, not two\n\n"
        "\\- not a list\n\n"
        "| Name | Count |\n|---|---:|\n| A\\|B | 3 |\n\n- one\n- two\n\n"
        "- **Email:** a\\_b`@`example.nz\n\n*A note.*\n\n---\n\n*Notice version 2.*\n"
    )


# --- exact documents ------------------------------------------------------------------------


def shown_printable(document: Document) -> Document:
    """*document* not exact, with each text shown as an exact document shows it."""
    shown = map_texts(document, lambda text: printable(text, exact=True))
    return attrs.evolve(shown, exact=False)


@given(documents(ANY_NAME))
def test_an_exact_page_shows_what_is_not_printable_as_escapes_and_nothing_else_changes(
    document: Document,
) -> None:
    exact = attrs.evolve(document, exact=True)
    page = render_html(exact)
    assert page == render_html(shown_printable(exact))
    assert all(ch == "\n" or ch.isprintable() for ch in page)
    page.encode("utf-8")  # a lone surrogate is written as its escape


@given(documents(ANY_NAME))
def test_exact_markdown_shows_what_is_not_printable_as_escapes(document: Document) -> None:
    exact = attrs.evolve(document, exact=True)
    markdown = render_markdown(exact)
    assert markdown == render_markdown(shown_printable(exact))
    assert all(ch == "\n" or ch.isprintable() for ch in markdown)


@given(documents(ANY_NAME))
def test_exact_text_holds_nothing_a_terminal_acts_on(document: Document) -> None:
    out = render_text(attrs.evolve(document, exact=True))
    assert all(ch == "\n" or ch.isprintable() for ch in out)


def test_an_exact_document_shows_names_as_they_are_in_every_format() -> None:
    name = " staff  0042\n\t\x1b[2J\u202e\ud800"
    shown = "\\n\\t\\x1b[2J\\u202e\\ud800"
    assert printable(name, exact=True) == " staff  0042" + shown
    document = Document(
        title="t",
        lang="en",
        sections=[Section([Table(["actor", "n"], [[name, "1"]]), Paragraph(f"By {name}.")])],
        exact=True,
    )
    assert render_text(document) == (
        f"actor{' ' * 32}n\n staff  0042{shown}  1\n\nBy  staff  0042{shown}.\n"
    )
    assert f"<td> staff  0042{shown}</td>" in render_html(document)
    assert r"| staff 0042\\n\\t\\x1b\[2J\\u202e\\ud800 | 1 |" in render_markdown(document)


# --- text -----------------------------------------------------------------------------------


@given(documents(HOSTILE))
def test_text_output_holds_nothing_a_terminal_acts_on(document: Document) -> None:
    out = render_text(document)
    assert all(ch == "\n" or ch.isprintable() for ch in out)


def test_control_characters_are_shown_as_escapes() -> None:
    assert printable("\x1b[31mred\x1b[0m\u202e \t\nnext") == "\\x1b[31mred\\x1b[0m\\u202e next"


def test_text_underlines_headings_and_aligns_table_columns() -> None:
    document = Document(
        title="t",
        lang="en",
        header=[Heading(1, "Report")],
        sections=[
            Section(
                [
                    Heading(2, "Reads"),
                    Table(["actor", "reads"], [["aroha", "3"], ["wiremu", "120"]], numeric={1}),
                    Definitions([("Period", "1 May 2026 to 2 May 2026")]),
                    Bullets(["a " * 30]),
                ]
            )
        ],
    )
    assert render_text(document, width=40) == (
        "Report\n======\n\nReads\n-----\n\n"
        "actor   reads\naroha       3\nwiremu    120\n\n"
        "Period: 1 May 2026 to 2 May 2026\n\n"
        "- a a a a a a a a a a a a a a a a a a a\n  a a a a a a a a a a a\n"
    )


# --- building -------------------------------------------------------------------------------


def test_paragraphs_are_separated_by_a_blank_line() -> None:
    assert paragraphs(" One.\nStill one.\n\n\n  Two. \n\n") == (
        Paragraph("One.\nStill one."),
        Paragraph("Two."),
    )


def test_fill_replaces_named_placeholders_only() -> None:
    assert fill("{agency} {x} {unknown} {{}}", {"agency": "Te Whare", "x": "{agency}"}) == (
        "Te Whare {agency} {unknown} {{}}"
    )


def test_split_sections_starts_one_at_each_level_2_heading() -> None:
    one, two = Heading(2, "One"), Heading(2, "Two")
    assert split_sections([one, Heading(3, "a"), two]) == (
        Section([one, Heading(3, "a")]),
        Section([two]),
    )


def test_a_block_holds_text_only() -> None:
    with pytest.raises(TypeError, match="takes text"):
        Paragraph(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="holds text"):
        Table(["a"], [[None]])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="holds blocks"):
        Section(["text"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="one whole number"):
        BarChart("c", ["a", "b"], [("x", [1])])
