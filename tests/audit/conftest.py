"""Every report the audit tests build is built a second time by the DuckDB engine, from the
same files, and must be the same (`Report` for `Report`, and its text byte for byte): the
engine is checked against every input the streaming report is tested on."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from purposeful.audit.report import Report, ReportBuilder, ReportDatabase, render_text
from purposeful.audit.report.reading import LEDGER_INPUT, OTLP_JSON_INPUT
from purposeful.audit.report.records import ScopeRecord
from purposeful.errors import ReportInputError


def as_asked(report: Report) -> Report:
    """*report* as the engine answers it: about one person, only what the page shows."""
    if report.subject is None:
        return report
    return attrs.evolve(
        report,
        accesses=(),
        busiest_actors=(),
        timeline=(),
        unscoped_sites=(),
        unscoped_site_count=0,
        disclosures=(),
    )


@pytest.fixture(autouse=True)
def _every_report_also_from_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    build, add = ReportBuilder.build, ReportBuilder.add

    def add_by_hand(self: ReportBuilder, scope: ScopeRecord) -> None:
        self._by_hand = True  # type: ignore[attr-defined]
        add(self, scope)

    def build_twice(self: ReportBuilder, *, ledgers_verified: bool | None = None) -> object:
        report = build(self, ledgers_verified=ledgers_verified)
        formats = [source.format for source in report.sources]
        if (
            getattr(self, "_by_hand", False)
            or formats != sorted(formats, key=[LEDGER_INPUT, OTLP_JSON_INPUT].index)
            or not all(Path(source.path).is_file() for source in report.sources)
        ):
            return report
        history = self._history
        try:
            database = ReportDatabase.from_files(
                [s.path for s in report.sources if s.format == OTLP_JSON_INPUT],
                [s.path for s in report.sources if s.format == LEDGER_INPUT],
                ledgers_verified=ledgers_verified,
            )
        except ReportInputError:  # entries handed to add_source by hand, not the file's
            return report
        with database:
            again = database.report(subject=None if history is None else history._query)
        assert again == as_asked(report)
        assert render_text(again) == render_text(report)
        return report

    monkeypatch.setattr(ReportBuilder, "add", add_by_hand)
    monkeypatch.setattr(ReportBuilder, "build", build_twice)
