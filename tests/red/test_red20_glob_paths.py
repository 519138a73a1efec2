"""DuckDB reads a path with ``*``, ``?`` or ``[...]`` in it as a pattern: a trace file named
``traces[1].jsonl`` read ``traces1.jsonl`` instead, and an archive folder ``audit-?`` read
``audit-?`` and ``audit-2`` as one, so the report counted another file's scopes (or both
files'). A path given is read as the one file it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from _audit_inputs import HandPart, HandScope, write_traces
from purposeful.audit.report import ReportDatabase

pytest.importorskip("duckdb")

PERSON = "0a0b0c0d:" + "1" * 32

#: A name with pattern characters, and a sibling the pattern matches.
NAMES = {
    "question mark": ("audit-?", "audit-2"),
    "star": ("audit*", "audit-2026"),
    "brackets": ("audit[1]", "audit1"),
    "a bracket alone": ("audit[x", "audit[x"),
}


def _traces(path: Path, scopes: int) -> Path:
    written = [
        HandScope(f"{path.name}-{i}", (HandPart(reads={PERSON: frozenset({"Case.address"})}),))
        for i in range(scopes)
    ]
    return write_traces(path, written)


@pytest.mark.parametrize("names", NAMES.values(), ids=NAMES.keys())
def test_a_trace_file_whose_name_is_a_pattern_is_read_alone(
    tmp_path: Path, names: tuple[str, str]
) -> None:
    named, sibling = names
    given = _traces(tmp_path / f"{named}.jsonl", 1)
    if sibling != named:
        _traces(tmp_path / f"{sibling}.jsonl", 3)
    with ReportDatabase.from_files([given]) as database:
        assert database.report().scopes == 1


@pytest.mark.parametrize("names", NAMES.values(), ids=NAMES.keys())
def test_an_archive_whose_folder_is_a_pattern_is_read_alone(
    tmp_path: Path, names: tuple[str, str]
) -> None:
    named, sibling = names
    for folder, scopes in {sibling: 3, named: 1}.items():  # the same folder once
        traces = _traces(tmp_path / f"traces-{scopes}.jsonl", scopes)
        with ReportDatabase.from_files([traces]) as database:
            database.to_parquet(tmp_path / folder)
    with ReportDatabase.from_parquet(tmp_path / named) as database:
        assert database.report().scopes == 1
