"""``purposeful store verify PATH``: SQLite's full integrity check of a store file."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from purposeful.cli import main
from purposeful.consent.sqlite import SQLiteConsentStore
from purposeful.corrections.sqlite import SQLiteCorrectionStore
from purposeful.errors import StoreClosed
from purposeful.sharing.sqlite import SQLiteSharingStore

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SUBJECT = "client-verify-private"


def consent_file(path: Path, people: int = 3000) -> Path:
    with SQLiteConsentStore(path, synchronous="NORMAL") as store:
        for n in range(people):
            store.give(f"{SUBJECT}-{n:05d}", "research", at=T0)
    return path


def test_a_whole_store_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = consent_file(tmp_path / "consent.sqlite3", people=10)
    assert main(["store", "verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "consent store" in out
    assert "passed" in out
    assert SUBJECT not in out


@pytest.mark.parametrize("store", [SQLiteCorrectionStore, SQLiteSharingStore])
def test_the_other_stores_files_are_recognised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store: type
) -> None:
    path = tmp_path / "store.sqlite3"
    store(path).close()
    assert main(["store", "verify", str(path)]) == 0
    assert "passed" in capsys.readouterr().out


def test_a_file_damaged_in_the_middle_fails_with_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = consent_file(tmp_path / "consent.sqlite3")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8192] = bytes(range(256)) * 32
    path.write_bytes(bytes(data))
    SQLiteConsentStore(path).close()  # opening does not see it
    assert main(["store", "verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert "damaged" in out
    assert "restore the file from a backup" in out
    assert SUBJECT not in out


def test_a_file_that_is_not_a_store_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (x)")
    connection.close()
    assert main(["store", "verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "not a purposeful store file" in err


@pytest.mark.parametrize("content", [None, b"plain text, not a database" * 10])
def test_a_missing_or_foreign_file_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None
) -> None:
    path = tmp_path / "missing.sqlite3"
    if content is not None:
        path.write_bytes(content)
    assert main(["store", "verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("purposeful: error: ")
    assert err.count("\n") == 1
    assert str(path) in err


@pytest.mark.parametrize("store", [SQLiteConsentStore, SQLiteCorrectionStore, SQLiteSharingStore])
def test_every_sqlite_store_verifies_its_own_file(tmp_path: Path, store: type) -> None:
    opened = store(tmp_path / "store.sqlite3")
    try:
        opened.verify()  # whole: nothing raised
    finally:
        opened.close()
    with pytest.raises(StoreClosed):
        opened.verify()
