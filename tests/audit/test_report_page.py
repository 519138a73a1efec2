"""``purposeful audit report --html OUT`` writes its page like every other file the library
writes: a temporary file then a rename, mode 0600, an existing file replaced only with
``--overwrite``, and a symbolic link never followed onto another file."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from purposeful.cli import main

EMPTY_TRACES = '{"resourceSpans":[]}\n'


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    path = tmp_path / "t.jsonl"
    path.write_text(EMPTY_TRACES)
    return path


def report(traces: Path, page: Path, *more: str) -> int:
    return main(["audit", "report", str(traces), "--html", str(page), *more])


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_new_page_is_created_readable_by_its_owner_only(
    traces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    old = os.umask(0)
    try:
        assert report(traces, page) == 0
    finally:
        os.umask(old)
    assert mode(page) == 0o600
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_existing_page_is_replaced_only_with_overwrite_and_then_0600(
    traces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    page.write_text("kept")
    page.chmod(0o644)
    assert report(traces, page) == 2
    assert "already exists" in capsys.readouterr().err
    assert page.read_text() == "kept"
    assert report(traces, page, "--overwrite") == 0
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert mode(page) == 0o600


def test_a_symbolic_link_is_never_followed_onto_another_file(
    traces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("VICTIM")
    victim.chmod(0o644)
    page = tmp_path / "report.html"
    page.symlink_to(victim)
    assert report(traces, page) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert page.is_symlink()
    assert report(traces, page, "--overwrite") == 0  # replaces the link, not its target
    assert not page.is_symlink()
    assert mode(page) == 0o600
    assert (victim.read_text(), mode(victim)) == ("VICTIM", 0o644)


def test_a_dangling_symbolic_link_is_not_written_through(
    traces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    page.symlink_to(tmp_path / "elsewhere.html")
    assert report(traces, page) == 2
    assert not (tmp_path / "elsewhere.html").exists()


def test_a_failed_write_leaves_the_old_page_and_no_partial_file(
    traces: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = tmp_path / "report.html"
    page.write_text("kept")

    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    assert report(traces, page, "--overwrite") == 2
    err = capsys.readouterr().err
    assert "nothing was written" in err
    assert page.read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "t.jsonl"]


@pytest.mark.parametrize("where", ["a directory", "a missing directory"])
def test_a_page_that_cannot_be_a_file_there_is_refused(
    traces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    page = tmp_path if where == "a directory" else tmp_path / "nowhere" / "r.html"
    assert report(traces, page, "--overwrite") == 2
    err = capsys.readouterr().err
    assert ("is a directory" if where == "a directory" else "does not exist") in err
