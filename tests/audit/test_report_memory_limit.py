"""DuckDB's memory limit, given by the user: a value DuckDB does not take, or one too small
for the report, is a typed error and the CLI's one line with exit status 2 (a red team found
DuckDB's own traceback and exit status 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from purposeful.cli import main
from purposeful.errors import ConfigurationError

pytest.importorskip("duckdb")

from purposeful.audit.report import ReportDatabase


@pytest.fixture
def trace_file(tmp_path: Path) -> Path:
    path = tmp_path / "traces.jsonl"
    path.write_text(json.dumps({"resourceSpans": []}) + "\n", encoding="utf-8")
    return path


def _one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("limit", ["abc", "5 elephants", "MB"])
def test_a_memory_limit_duckdb_does_not_take_is_one_line_and_exit_2(
    trace_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], limit: str
) -> None:
    for argv in (
        ["audit", "report", f"--memory-limit={limit}", str(trace_file)],
        [
            "audit",
            "convert",
            f"--memory-limit={limit}",
            str(trace_file),
            "--to",
            str(tmp_path / "a"),
        ],
    ):
        assert "as a memory limit" in _one_line(argv, capsys)


@pytest.mark.parametrize("limit", ["1KB", "2MB"])
def test_a_memory_limit_too_small_for_the_report_is_one_line_and_exit_2(
    trace_file: Path, capsys: pytest.CaptureFixture[str], limit: str
) -> None:
    err = _one_line(["audit", "report", f"--memory-limit={limit}", str(trace_file)], capsys)
    assert "ran out of the memory" in err


def test_the_database_raises_the_typed_error(trace_file: Path) -> None:
    with pytest.raises(ConfigurationError, match="such as 512MB"):
        ReportDatabase(memory_limit="lots")
    with ReportDatabase.from_files([trace_file], memory_limit="64MB") as database:
        assert database.report().scopes == 0
