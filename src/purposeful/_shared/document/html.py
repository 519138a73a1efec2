"""A `Document` as one self-contained HTML page.

The page loads nothing: no scripts, images, fonts or style sheets from anywhere, and a
content security policy that forbids every fetch should a later edit add one. It is
accessible: a ``lang`` on the page and on every block in another language (a paragraph's
text in a ``span``, any other block on its own element), tables with captions and header
cells (a row's first cell too, for a table with row headers), landmarks (``header``,
``main``, ``section``, ``footer``).

Every piece of text goes through `_escape` (``html.escape``, quotes included) here, where it
is written, and nowhere else: no text can become a tag, an attribute or an entity. Every
character that is not printable and not whitespace is shown as its escape first
(`text.visible`): no control character or bidirectional override acts on the page, and a
lone surrogate (which UTF-8 cannot encode) is shown as ``\\ud800``. An *exact* document's
text shows its whitespace as escapes too (`text.printable`). The markup around the text is
this module's own, and the style is the document's trusted CSS. The classes it writes, for
the style to use: ``note`` (a note paragraph), ``number`` (a cell of a numeric column).

This module must not build markup from text any other way.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable

from .blocks import BarChart, Block, Bullets, Definitions, Document, Heading, Paragraph, Table
from .text import printable, visible

__all__ = ["LARGE_PRINT_STYLE", "PAGE_STYLE", "render_html"]

#: The style of the pages written for people (the subject-access page, the notices, the copy
#: for the person): plain, readable, printable. Colours meet WCAG 2.1 AA contrast (text
#: #111 on white, 18.9:1; header cells on #eee, 16.9:1). In print: black on white, the page's
#: margins, a table's header row on every page it runs over, no heading alone at a page's
#: foot, and a row or a labelled value never split across pages.
PAGE_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;
max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;background:#fff;
overflow-wrap:break-word}
h1{font-size:1.8rem}h2{margin-top:2.5rem;border-bottom:2px solid #333}
table{border-collapse:collapse;width:100%;margin:1rem 0}
caption{text-align:left;font-weight:bold;padding:.25rem 0;overflow-wrap:anywhere}
th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top;
overflow-wrap:anywhere;white-space:pre-wrap}
th{background:#eee}
dt{font-weight:bold}dd{margin:0 0 .5rem 1.5rem;white-space:pre-wrap;overflow-wrap:anywhere}
.note{font-style:italic}
@media print{@page{margin:2cm}body{margin:0;max-width:none;padding:0;color:#000;font-size:12pt}
h1,h2,h3,h4{break-after:avoid}h2{margin-top:1.5rem}thead{display:table-header-group}
tr,dt,dd,li{break-inside:avoid}th{background:#eee;print-color-adjust:exact}
a::after{content:" (" attr(href) ")"}}
""".strip()

#: Added to `PAGE_STYLE` for a large-print page (the copy for the person offers one): text
#: half as large again on screen and 18 point on paper (the RNIB's large-print threshold),
#: more space between lines, and tables that wrap rather than run off the page.
LARGE_PRINT_STYLE = """
body{font-size:1.5rem;line-height:1.6;max-width:48rem}h1{font-size:2.2rem}h2{font-size:1.9rem}
h3{font-size:1.6rem}th,td{padding:.5rem}
@media print{body{font-size:18pt;line-height:1.5}h1{font-size:26pt}h2{font-size:22pt}
h3{font-size:20pt}}
""".strip()

#: Each series' colour, in order; later series take the last. Each has a contrast of 3:1 or
#: more with the white page (WCAG 2.2, 1.4.11 non-text contrast).
_COLOURS = ("#3f6fb5", "#c0392b", "#b07400", "#4a5568")


def _escape(text: str) -> str:
    return html.escape(visible(text), quote=True)


def _escape_exactly(text: str) -> str:
    return html.escape(printable(text, exact=True), quote=True)


def _escaper(document: Document) -> Callable[[str], str]:
    """How *document*'s texts are written: escaped, with what is not printable shown as its
    escape (whitespace too if the document is exact)."""
    return _escape_exactly if document.exact else _escape


def render_html(document: Document) -> str:
    """*document* as one HTML page (text: encode it as UTF-8), ending with a newline."""
    escape = _escaper(document)
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(document.lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing may load: a policy that forbids every fetch, should a future edit add one.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        f"<title>{escape(document.title)}</title>",
    ]
    if document.style:
        out.append(f"<style>{document.style}</style>")  # trusted: the library's own CSS
    out += ["</head>", "<body>"]
    if document.header:
        out += ["<header>", *_blocks(document.header, escape), "</header>"]
    if document.sections:
        out.append("<main>")
        for section in document.sections:
            out += ["<section>", *_blocks(section.blocks, escape), "</section>"]
        out.append("</main>")
    if document.footer:
        out += ["<footer>", *_blocks(document.footer, escape), "</footer>"]
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _blocks(blocks: tuple[Block, ...], escape: Callable[[str], str]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        out += _block(block, escape)
    return out


def _lang(lang: str | None, escape: Callable[[str], str]) -> str:
    """A ``lang`` attribute for a block in another language, or nothing."""
    return "" if lang is None else f' lang="{escape(lang)}"'


def _block(block: Block, escape: Callable[[str], str]) -> list[str]:
    if isinstance(block, Heading):
        lang = _lang(block.lang, escape)
        return [f"<h{block.level}{lang}>{escape(block.text)}</h{block.level}>"]
    if isinstance(block, Paragraph):
        text = escape(block.text)
        if block.lang is not None:
            text = f'<span lang="{escape(block.lang)}">{text}</span>'
        return [f'<p class="note">{text}</p>' if block.note else f"<p>{text}</p>"]
    if isinstance(block, Table):
        return _table(block, escape)
    if isinstance(block, Bullets):
        lang = _lang(block.lang, escape)
        return [f"<ul{lang}>", *(f"<li>{escape(item)}</li>" for item in block.items), "</ul>"]
    if isinstance(block, Definitions):
        pairs = (f"<dt>{escape(term)}</dt><dd>{escape(value)}</dd>" for term, value in block.items)
        return [f"<dl{_lang(block.lang, escape)}>", *pairs, "</dl>"]
    return [_chart(block, escape)]


def _table(table: Table, escape: Callable[[str], str]) -> list[str]:
    out = [f"<table{_lang(table.lang, escape)}>"]
    if table.caption is not None:
        out.append(f"<caption>{escape(table.caption)}</caption>")
    out.append("<thead><tr>")
    out += [f'<th scope="col">{escape(heading)}</th>' for heading in table.header]
    out += ["</tr></thead>", "<tbody>"]
    for row in table.rows:
        cells = (
            f'<th scope="row">{escape(cell)}</th>'
            if index == 0 and table.row_headers
            else f'<td class="number">{escape(cell)}</td>'
            if index in table.numeric
            else f"<td>{escape(cell)}</td>"
            for index, cell in enumerate(row)
        )
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table>"]
    return out


def _chart(chart: BarChart, escape: Callable[[str], str]) -> str:
    """An inline SVG bar chart: a group of bars per label, a colour per series."""
    width, height = 960, 300
    left, right, top, bottom = 48, 56, 34, 40
    plot_width, plot_height = width - left - right, height - top - bottom
    baseline = top + plot_height
    title = escape(chart.title)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{title}">',
        f"<title>{title}</title>",
    ]
    highest = max((max(counts, default=0) for _, counts in chart.bars), default=0) or 1
    for fraction in (0.0, 0.5, 1.0):
        value = round(highest * fraction)
        y = baseline - plot_height * value / highest
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{"#8a94a6" if value == 0 else "#e3e7ee"}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    colours = [_COLOURS[min(i, len(_COLOURS) - 1)] for i in range(len(chart.series))]
    if chart.bars and chart.series:
        slot = min(plot_width / len(chart.bars), 72)  # a few labels get bars, not walls
        bar = slot * 0.8 / len(chart.series)
        # Labels are about 7 px a character, with a gap: label only every so many slots.
        # (A label is as long as it is shown: as the escaper writes it, read back.)
        shown = max(len(html.unescape(escape(label))) for label, _ in chart.bars)
        label_width = 7 * shown + 24
        label_every = max(1, math.ceil(label_width / slot))  # labels never overlap
        for i, (label, counts) in enumerate(chart.bars):
            for j, (name, colour, value) in enumerate(
                zip(chart.series, colours, counts, strict=True)
            ):
                bar_height = plot_height * value / highest
                parts.append(
                    f'<rect x="{left + i * slot + slot * 0.1 + j * bar:.2f}" '
                    f'y="{baseline - bar_height:.2f}" width="{bar:.2f}" '
                    f'height="{bar_height:.2f}" fill="{colour}">'
                    f"<title>{escape(f'{label}: {value} {name}')}</title></rect>"
                )
            if i % label_every == 0:
                parts.append(
                    f'<text x="{left + (i + 0.5) * slot:.1f}" y="{baseline + 18}" '
                    f'text-anchor="middle">{escape(label)}</text>'
                )
    for j, (name, colour) in enumerate(zip(chart.series, colours, strict=True)):
        parts.append(
            f'<rect x="{left + j * 120}" y="8" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + j * 120 + 18}" y="18">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
