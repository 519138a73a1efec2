"""Red team 18: a Parquet archive given to ``audit report --from`` (or
`ReportDatabase.from_parquet`) is outside input: one whose files are not Parquet, whose
columns have other types than ``audit convert`` writes, or that holds values it never
writes, is a `ReportInputError` naming the archive (exit 2, one line), not DuckDB's
exception or a ``TypeError`` from building the page."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from _audit_inputs import HandPart, HandScope, write_traces
from purposeful.audit.history import SubjectQuery
from purposeful.audit.report import ReportDatabase
from purposeful.cli import main
from purposeful.errors import ReportInputError

duckdb = pytest.importorskip("duckdb")

PERSON = "0a0b0c0d:" + "1" * 32


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("archive")
    scope = HandScope(
        "s1",
        (
            HandPart(
                reads={PERSON: frozenset({"Case.address"})},
                refusals=(("denied", "Case.diagnosis", 1),),
            ),
        ),
    )
    traces = write_traces(folder / "traces.jsonl", [scope])
    with ReportDatabase.from_files([traces]) as database:
        database.to_parquet(folder / "archive")
    return folder / "archive"


def _rewritten(table: str, select: str) -> Callable[[Path], None]:
    """Replace *table*'s file by *select* over it (``{src}``: the file)."""

    def damage(folder: Path) -> None:
        file = folder / f"{table}.parquet"
        target = folder / "rewritten.parquet"
        connection = duckdb.connect()
        source = "read_parquet('" + str(file).replace("'", "''") + "')"
        connection.execute(f"COPY ({select.format(src=source)}) TO '{target}' (FORMAT parquet)")
        connection.close()
        target.replace(file)

    return damage


def _garbage(folder: Path) -> None:
    (folder / "sources.parquet").write_bytes(b"PAR1 not a parquet file PAR1")


DAMAGE = {
    "not parquet": _garbage,
    "a key as text": _rewritten(
        "scope_parts", "SELECT * REPLACE (CAST(part_key AS VARCHAR) || 'x' AS part_key) FROM {src}"
    ),
    "a time as text": _rewritten(
        "scope_parts", "SELECT * REPLACE (CAST(opened AS VARCHAR) AS opened) FROM {src}"
    ),
    "reasons cut short": _rewritten(
        "part_refusals", "SELECT * REPLACE (chr(2) AS reasons) FROM {src}"
    ),
    "a source without its path": _rewritten(
        "sources", "SELECT * REPLACE (CAST(NULL AS VARCHAR) AS path) FROM {src}"
    ),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
@pytest.mark.parametrize("person", [None, PERSON])
def test_a_damaged_archive_is_a_report_input_error(
    archive: Path,
    tmp_path: Path,
    damage: Callable[[Path], None],
    person: str | None,
) -> None:
    folder = tmp_path / "damaged"
    shutil.copytree(archive, folder)
    damage(folder)
    subject = None if person is None else SubjectQuery((person,))
    with pytest.raises(ReportInputError) as raised, ReportDatabase.from_parquet(folder) as database:
        database.report(subject=subject)
    assert str(folder) in str(raised.value)
    assert "convert" in str(raised.value)


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_audit_report_from_a_damaged_archive_exits_2_with_one_line(
    archive: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[Path], None],
) -> None:
    folder = tmp_path / "damaged"
    shutil.copytree(archive, folder)
    damage(folder)
    capsys.readouterr()
    assert main(["audit", "report", "--from", str(folder)]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert captured.err.startswith("purposeful: error: "), captured.err


def test_the_archive_as_written_still_reports(archive: Path) -> None:
    with ReportDatabase.from_parquet(archive) as database:
        assert database.report().scopes == 1


def test_a_breach_assessed_from_an_archive_holding_text_convert_never_stores_exits_2(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """U+D7FF starts an escape of the stored text (a lone surrogate, or U+D7FF itself); one
    followed by a character below U+E000 was a ``ValueError`` from ``chr`` in the breach
    assessment over the archive, whose queries do not go through the report."""
    folder = tmp_path / "damaged"
    shutil.copytree(archive, folder)
    _rewritten("scope_parts", "SELECT * REPLACE (chr(55295) || 'a' AS actor_id) FROM {src}")(folder)
    capsys.readouterr()
    window = ["--from", "2026-03-01", "--to", "2026-03-03", "--role", "caseworker"]
    assert main(["breach", "assess", "--archive", str(folder), *window]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert "convert" in captured.err
