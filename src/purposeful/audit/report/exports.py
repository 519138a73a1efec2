"""The report's tables as files a privacy team opens in its own tools: CSV, or Parquet.

`report_tables` lays a `Report` out as named tables of plain values (one per table of the
text report); `write_csv` and `write_parquet` write each as ``<table>.csv`` or
``<table>.parquet`` into a new or empty directory, mode 0600 (the tables name staff and
pseudonyms). With a subject asked about, only the sources and the answer about that person
are written, as on the page.

What this module must not do: write anything the `Report` does not hold (a subject
identifier, a field's value); leave a half-written table (each file is written whole).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from ..._shared.document.spreadsheet import neutralise
from ..._shared.files import atomic_directory, write_temporary
from .building import Report

__all__ = ["report_tables", "write_csv", "write_parquet"]

Table = tuple[tuple[str, ...], list[tuple[Any, ...]]]

_LIST: Final = ", "


def _time(moment: object) -> object:
    return None if moment is None else moment.isoformat()  # type: ignore[attr-defined]


def report_tables(report: Report) -> dict[str, Table]:
    """The report's tables by name, each (column names, rows of str, int, bool or None)."""
    tables: dict[str, Table] = {
        "sources": (
            ("file", "format", "scopes", "ignored"),
            [
                (s.path, s.format, s.scopes, _LIST.join(f"{n} {what}" for what, n in s.ignored))
                for s in report.sources
            ],
        )
    }
    if report.subject is not None:
        tables["subject_accesses"] = (
            (
                "opened",
                "closed",
                "actor",
                "role",
                "purpose",
                "fields_read",
                "fields_known",
                "parts_missing",
                "upstream_service",
                "upstream_scope_id",
                "shared",
                "fields_would_deny",
            ),
            [
                (
                    _time(a.opened),
                    _time(a.closed),
                    a.actor_id,
                    a.actor_role,
                    a.purpose,
                    _LIST.join(a.fields_read),
                    a.fields_known,
                    a.parts_missing,
                    *(a.upstream or (None, None)),
                    "; ".join(disclosure.describe() for disclosure in a.disclosures),
                    _LIST.join(a.fields_would_deny),
                )
                for a in report.subject.accesses
            ],
        )
        return tables
    tables["accesses"] = (
        ("purpose", "record_type", "actor", "role", "scopes", "fields_read"),
        [
            (
                r.purpose,
                r.record_type,
                r.actor_id,
                r.actor_role,
                r.scopes,
                _LIST.join(r.fields_read),
            )
            for r in report.accesses
        ],
    )
    tables["refusals"] = (
        ("outcome", "purpose", "record_type", "field", "reasons", "reads"),
        [
            (r.outcome, r.purpose, r.record_type, r.field, _LIST.join(r.reasons), r.count)
            for r in report.refusals
        ],
    )
    tables["disclosures"] = (
        ("recipient", "agreement", "purpose", "record_type", "disclosures", "statements", "fields"),
        [
            (*_disclosure_key(r), r.disclosures, r.statements, _LIST.join(r.fields))
            for r in report.disclosures
        ],
    )
    tables["busiest_actors"] = (
        ("actor", "roles", "scopes", "people_at_least", "people_at_most", "scopes_not_saying_whom"),
        [
            (
                r.actor_id,
                _LIST.join(r.roles),
                r.scopes,
                r.people_at_least,
                r.people_at_most,
                r.scopes_without_subjects,
            )
            for r in report.busiest_actors
        ],
    )
    tables["unscoped_sites"] = (
        ("file", "function", "line", "fields_read", "reads"),
        [
            (*(r.site or (None, None, None)), _LIST.join(r.fields_read), r.reads)
            for r in report.unscoped_sites
        ],
    )
    tables["timeline"] = (
        ("start", "scopes", "denied", "would_deny"),
        [(_time(b.start), b.scopes, b.denied, b.would_deny) for b in report.timeline],
    )
    return tables


def _disclosure_key(row: Any) -> tuple[Any, ...]:
    return (row.recipient, row.agreement, row.purpose, row.record_type)


def write_csv(report: Report, directory: str | os.PathLike[str]) -> list[Path]:
    """Write each table of *report* as ``<table>.csv`` (UTF-8, a header row) into
    *directory*, new or empty; returns the files. An empty cell is a value the report does
    not have (``-`` on the page).

    Raises:
        ConfigurationError: *directory* holds files, or cannot be made.
    """
    folder = Path(directory)
    names = []
    with atomic_directory(folder) as temporary:
        for name, (columns, rows) in report_tables(report).items():
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(_cells(row) for row in rows)
            data = text.getvalue().encode("utf-8", "backslashreplace")
            write_temporary(temporary, name, data, 0o600).rename(temporary / f"{name}.csv")
            names.append(f"{name}.csv")
    return [folder / name for name in names]


def _cells(row: Sequence[Any]) -> list[object]:
    return [_cell(value) for value in row]


def _cell(value: object) -> object:
    """One CSV cell: none is empty, a flag is ``true``/``false``, and text a spreadsheet
    would run as a formula (an actor id or a role a trail holds) is neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return neutralise(value)
    return value


def write_parquet(report: Report, directory: str | os.PathLike[str]) -> list[Path]:
    """Write each table of *report* as ``<table>.parquet`` into *directory*, new or empty;
    returns the files. Needs DuckDB (``purposeful[report]``).

    Raises:
        ConfigurationError: *directory* holds files, or cannot be made.
        MissingExtra: DuckDB is not installed.
    """
    from .duckdb_engine import write_rows_parquet

    folder = Path(directory)
    names = []
    with atomic_directory(folder) as temporary:
        for name, (columns, rows) in report_tables(report).items():
            write_rows_parquet(temporary / f"{name}.parquet", columns, rows)
            names.append(f"{name}.parquet")
    return [folder / name for name in names]
