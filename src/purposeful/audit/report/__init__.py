"""The privacy team's report: who used which information, for what, and what was refused.

``purposeful audit report`` turns what the audit sinks wrote into the answers a privacy team
is asked for. The work is a pipeline of small pieces that can be used and tested alone, one
module each:

1. `purposeful.audit.report.reading`: the readers, `read_otlp_json` and `read_ledger`,
   yield one normalised `ScopeRecord` (`purposeful.audit.report.records`) per scope or part
   of one, or an `Ignored` marker for anything else, and raise `ReportInputError` (naming
   the file and line) for input they cannot read;
2. `purposeful.audit.report.building`: `ReportBuilder` folds the records into a `Report`,
   one at a time, joining the parts of a scope; `build_report` runs the pipeline over files;
3. `purposeful.audit.report.rendering`: `render_text` and `render_html` turn the `Report`
   into a page;
4. `purposeful.audit.report.progress`: `ProgressBar`, for a terminal while files are read.

The same report as queries, for inputs of agency scale: `purposeful.audit.report.shape`
lays the readers' records out as tables (one row per part of a scope, child tables for
fields, people, per-person reads, refusals and disclosures), `purposeful.audit.report.sql`
holds every figure's SQL and builds the `Report` from their answers, and
`purposeful.audit.report.duckdb_engine` runs them on DuckDB (`ReportDatabase`, needing
``purposeful[report]``), from the files or from a Parquet archive of the tables, and
`purposeful.audit.report.clickhouse_engine` runs the same queries on ClickHouse over the
OpenTelemetry Collector's ``otel_traces`` table (``purposeful[clickhouse]``), the shape
spelled as views of that table.
`purposeful.audit.report.exports` writes a report's tables as CSV or Parquet.

Asking "who read this person's information?" is `purposeful.audit.history`'s:
`build_report(subject=SubjectQuery.for_subject(...))`.

The names above are importable from this package; each module loads when one of its names
is first used, so the readers (which `purposeful.audit.history` uses) load without the
builder or the renderers.

What this package must not do: hold, return or print a subject identifier or a field's
value (the inputs have neither); print anything it did not read as a name or code (a
foreign span's name may hold anything, so it is counted, never shown); skip input silently;
keep every scope in memory; import the OpenTelemetry SDK (it reads JSON), DuckDB before
a `ReportDatabase` is made, or a ClickHouse client before a ClickHouse report is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .building import (
        BUSIEST_ACTORS,
        BUSIEST_SITES,
        HOURLY_UP_TO,
        AccessRow,
        ActorRow,
        DisclosureRow,
        Progress,
        RefusalRow,
        Report,
        ReportBuilder,
        SiteRow,
        SourceSummary,
        TimeBucket,
        build_report,
    )
    from .duckdb_engine import ReportDatabase
    from .progress import ProgressBar
    from .reading import read_ledger, read_otlp_json
    from .records import Disclosure, Entry, Ignored, Refusal, RefusalOutcome, ScopeRecord
    from .rendering import render_html, render_text, render_would_deny_gate

__all__ = [
    "BUSIEST_ACTORS",
    "BUSIEST_SITES",
    "HOURLY_UP_TO",
    "AccessRow",
    "ActorRow",
    "Disclosure",
    "DisclosureRow",
    "Entry",
    "Ignored",
    "Progress",
    "ProgressBar",
    "Refusal",
    "RefusalOutcome",
    "RefusalRow",
    "Report",
    "ReportBuilder",
    "ReportDatabase",
    "ScopeRecord",
    "SiteRow",
    "SourceSummary",
    "TimeBucket",
    "build_report",
    "read_ledger",
    "read_otlp_json",
    "render_html",
    "render_text",
    "render_would_deny_gate",
]

#: The module each public name lives in.
_HOMES = {
    **dict.fromkeys(
        (
            "BUSIEST_ACTORS",
            "BUSIEST_SITES",
            "HOURLY_UP_TO",
            "AccessRow",
            "ActorRow",
            "DisclosureRow",
            "Progress",
            "RefusalRow",
            "Report",
            "ReportBuilder",
            "SiteRow",
            "SourceSummary",
            "TimeBucket",
            "build_report",
        ),
        "building",
    ),
    "ProgressBar": "progress",
    "ReportDatabase": "duckdb_engine",
    "read_ledger": "reading",
    "read_otlp_json": "reading",
    **dict.fromkeys(
        ("Disclosure", "Entry", "Ignored", "Refusal", "RefusalOutcome", "ScopeRecord"), "records"
    ),
    **dict.fromkeys(("render_html", "render_text", "render_would_deny_gate"), "rendering"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
