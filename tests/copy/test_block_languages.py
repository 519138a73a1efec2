"""Blocks in another language, row headers and the large-print style (`_shared.document`)."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from purposeful._shared.document import (
    LARGE_PRINT_STYLE,
    PAGE_STYLE,
    Bullets,
    Definitions,
    Document,
    Heading,
    Section,
    Table,
    render_html,
    render_markdown,
    render_text,
    visible,
)


def _page(*blocks: object) -> str:
    document = Document(title="T", lang="en-NZ", sections=[Section(blocks)])  # type: ignore[arg-type]
    return render_html(document)


def test_each_text_block_can_say_its_language() -> None:
    page = _page(
        Heading(2, "Ō mātou mahi", lang="mi"),
        Bullets(["Kia ora"], lang="mi"),
        Definitions([("Ingoa", "Aroha")], lang="mi"),
        Table(["Pou"], [["Tahi"]], caption="Ripanga", lang="mi"),
    )
    assert '<h2 lang="mi">Ō mātou mahi</h2>' in page
    assert '<ul lang="mi">' in page
    assert '<dl lang="mi">' in page
    assert '<table lang="mi">' in page


def test_without_a_language_the_markup_is_as_before() -> None:
    page = _page(Heading(2, "Heading"), Bullets(["a"]), Definitions([("k", "v")]), Table(["h"], []))
    assert "<h2>Heading</h2>" in page
    assert "<ul>" in page
    assert "<dl>" in page
    assert "<table>" in page


@given(st.text())
def test_a_language_is_escaped_like_any_text(lang: str) -> None:
    page = _page(Heading(2, "x", lang=lang), Bullets(["y"], lang=lang))
    attribute = html.escape(visible(lang), quote=True)
    assert f'<h2 lang="{attribute}">x</h2>' in page
    assert f'<ul lang="{attribute}">' in page
    assert '"' not in attribute
    assert "<" not in attribute


def test_a_language_must_be_text() -> None:
    with pytest.raises(TypeError, match="takes text"):
        Heading(2, "x", lang=3)  # type: ignore[arg-type]


def test_row_headers_name_each_row() -> None:
    page = _page(Table(["Item", "Value"], [["Name", "Aroha"]], row_headers=True))
    assert '<tr><th scope="row">Name</th><td>Aroha</td></tr>' in page
    document = Document(title="T", lang="en", sections=[Section([Table(["a"], [["b"]])])])
    assert "b" in render_markdown(document)
    assert "b" in render_text(document)


def test_the_styles_print_and_large_print() -> None:
    assert "@media print" in PAGE_STYLE
    assert "table-header-group" in PAGE_STYLE
    assert "18pt" in LARGE_PRINT_STYLE
    assert "<" not in LARGE_PRINT_STYLE
    Document(title="T", lang="en", style=PAGE_STYLE + LARGE_PRINT_STYLE)
