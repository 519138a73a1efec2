"""The audit report's chart, for whoever cannot see it: its counts are also a table at the end
of the page, and its colours stand out from the page. These need no browser."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import _pages

from purposeful._shared.document import BarChart, Document, Section, render_html
from purposeful.audit.report import render_text


class _Tables(HTMLParser):
    """Each table's caption and rows of cell texts, and the level-2 headings, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.headings: list[str] = []
        self._where: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(("", []))
        elif tag == "tr":
            self.tables[-1][1].append([])
        elif tag in {"caption", "th", "td", "h2"}:
            self._where = tag
            if tag in {"th", "td"}:
                self.tables[-1][1][-1].append("")
            elif tag == "h2":
                self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._where:
            self._where = None

    def handle_data(self, data: str) -> None:
        if self._where == "caption":
            caption, rows = self.tables[-1]
            self.tables[-1] = (caption + data, rows)
        elif self._where in {"th", "td"}:
            self.tables[-1][1][-1][-1] += data
        elif self._where == "h2":
            self.headings[-1] += data


def parse(page: str) -> _Tables:
    parser = _Tables()
    parser.feed(page)
    return parser


def test_the_timeline_counts_are_a_table_at_the_end_of_the_report_page(tmp_path: Path) -> None:
    page = parse(_pages.report_page(tmp_path))
    caption, rows = page.tables[-1]
    assert caption == "Scopes and refusals per hour (UTC)"
    assert page.headings[0] == "Over time, per hour"
    assert page.headings[-1] == "Over time, per hour: the counts"
    assert rows == [
        ["hour (UTC)", "scopes", "denied", "would-deny"],
        ["2026-03-02 09:00", "3", "2", "0"],
        *([f"2026-03-02 {hour}:00", "1", "0", "0"] for hour in range(10, 15)),
    ]


def test_the_answer_about_one_person_has_neither_chart_nor_timeline(tmp_path: Path) -> None:
    page = _pages.subject_report_page(tmp_path)
    assert "<svg" not in page
    assert "Over time" not in page


def test_the_text_report_has_no_timeline(tmp_path: Path) -> None:
    assert "Over time" not in render_text(_pages.report(tmp_path))


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_series_colour_has_a_contrast_of_three_to_one_with_the_page() -> None:
    series = tuple(f"series {n}" for n in range(6))
    chart = render_html(
        Document("t", "en", sections=[Section([BarChart("t", series, [("a", (1,) * 6)])])])
    )
    colours = set(re.findall(r'fill="(#[0-9a-f]{6})"', chart))
    assert len(colours) >= 4
    for colour in colours:
        assert (1.05) / (_luminance(colour) + 0.05) >= 3, colour
