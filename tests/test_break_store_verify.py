"""Red-team findings against ``purposeful store verify PATH`` with hostile files.

Each pins a finding that was fixed, or what held under attack: one line, never a
traceback, never a stored value.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from purposeful.cli import main
from purposeful.consent.sqlite import APPLICATION_ID, SQLiteConsentStore
from purposeful.errors import StoreCorrupt

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SUBJECT = "client-break-verify"


def _store(path: Path, people: int = 300) -> Path:
    with SQLiteConsentStore(path) as store:
        for n in range(people):
            store.give(f"{SUBJECT}-{n:04d}", "research", at=T0)
    return path


def test_a_file_with_the_stores_application_id_but_not_its_schema_is_not_a_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "impostor.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    connection.execute("CREATE TABLE unrelated (a)")
    connection.commit()
    connection.close()
    with pytest.raises(StoreCorrupt):
        SQLiteConsentStore(path)
    assert main(["store", "verify", str(path)]) == 2
    assert "passed" not in capsys.readouterr().out


def _damage_header(path: Path, offset: int, value: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[offset : offset + len(value)] = value
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("offset", "value"),
    [(16, (1).to_bytes(2, "big")), (28, (10**9).to_bytes(4, "big"))],
    ids=["page-size", "page-count"],
)
def test_a_store_with_a_damaged_header_fails_with_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], offset: int, value: bytes
) -> None:
    path = _store(tmp_path / "consent.sqlite3")
    _damage_header(path, offset, value)
    assert main(["store", "verify", str(path)]) == 1
    assert SUBJECT not in capsys.readouterr().out


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: p.write_bytes(b"SQLite format 3\x00" + os.urandom(5000)), id="hdr"),
        pytest.param(lambda p: p.write_bytes(b""), id="empty"),
        pytest.param(lambda p: os.mkfifo(p), id="fifo"),
        pytest.param(lambda p: p.mkdir(), id="directory"),
        pytest.param(lambda p: p.symlink_to(p), id="symlink-loop"),
    ],
)
def test_hostile_files_exit_2_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object
) -> None:
    path = tmp_path / "hostile\n\x1b[2Jname.sqlite3"
    make(path)  # type: ignore[operator]
    assert main(["store", "verify", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "\x1b" not in captured.err
    assert "Traceback" not in captured.err


def test_a_garbage_write_ahead_log_beside_a_whole_store_is_ignored_as_sqlite_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _store(tmp_path / "consent.sqlite3", people=20)
    Path(f"{path}-wal").write_bytes(os.urandom(10_000))
    assert main(["store", "verify", str(path)]) == 0
    assert SUBJECT not in capsys.readouterr().out
