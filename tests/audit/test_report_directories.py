"""A report's CSV and Parquet directories, and an archive, are written whole or not at all:
a fault part-way leaves no directory (and nothing beside it), so the next run is not
refused a half-written one as "not empty"."""

from __future__ import annotations

from pathlib import Path

import pytest

from _audit_inputs import HandPart, HandScope, write_traces
from purposeful._shared import files
from purposeful.audit.report import ReportDatabase, build_report
from purposeful.audit.report.exports import write_csv, write_parquet
from purposeful.errors import ConfigurationError


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    scope = HandScope("scope-1", (HandPart({"p:1": frozenset({"Client.name"})}),))
    return write_traces(tmp_path / "traces.jsonl", [scope])


def _fail_on_third(monkeypatch: pytest.MonkeyPatch) -> None:
    written = []
    original = files.write_temporary

    def failing(folder: Path, name: str, data: bytes, mode: int) -> Path:
        written.append(name)
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        return original(folder, name, data, mode)

    monkeypatch.setattr("purposeful.audit.report.exports.write_temporary", failing)


@pytest.mark.parametrize("existing", [False, True])
def test_a_csv_export_cut_short_leaves_nothing(
    tmp_path: Path, traces: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    report = build_report([traces])
    target = tmp_path / "out" / "csv"
    if existing:
        target.mkdir(parents=True)
    _fail_on_third(monkeypatch)
    with pytest.raises(ConfigurationError, match=r"No space left on device\); nothing was"):
        write_csv(report, target)
    assert target.exists() == existing
    if existing:
        assert list(target.iterdir()) == []
    if existing:
        assert [p.name for p in target.parent.iterdir()] == ["csv"]
    else:  # the parents it made are gone too
        assert not target.parent.exists()
    monkeypatch.undo()
    written = write_csv(report, target)  # the next run is not refused
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in written)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in written)
    assert target.stat().st_mode & 0o777 == 0o700


def test_a_directory_with_files_is_refused_and_left_alone(tmp_path: Path, traces: Path) -> None:
    report = build_report([traces])
    target = tmp_path / "full"
    target.mkdir()
    (target / "mine.txt").write_text("keep", encoding="utf-8")
    for write in (write_csv, write_parquet):
        with pytest.raises(ConfigurationError, match="not an empty directory"):
            write(report, target)
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "traces.jsonl"]


def test_an_archive_cut_short_leaves_nothing(
    tmp_path: Path, traces: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "archive"
    with ReportDatabase.from_files([traces], []) as database:
        calls = []
        real_chmod = Path.chmod

        def failing_chmod(self: Path, mode: int) -> None:
            calls.append(self)
            if len(calls) == 2:
                raise OSError(28, "No space left on device")
            real_chmod(self, mode)

        monkeypatch.setattr(Path, "chmod", failing_chmod)
        with pytest.raises(ConfigurationError, match="No space left on device"):
            database.to_parquet(target)
        monkeypatch.undo()
        assert not target.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["traces.jsonl"]
        database.to_parquet(target)
    assert len(list(target.iterdir())) > 2
