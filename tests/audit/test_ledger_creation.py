"""A crash while a ledger is being created leaves a state the next `Ledger` finishes, and
that `verify_ledger` reports as ``not-started``, never as tampering; ``purposeful audit
verify`` exits 0 on it, and on a ledger recovered from a torn line (1 before the recovery).

Creation signs the checkpoint of the header first, and puts it in place whole; then it
writes the header. Each test stops the writer after one step (a `Crash` raised where the
step ends: the files are then as a killed process leaves them).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import purposeful.audit.ledger.files as ledger_files
from purposeful import SENSITIVE, Actor, ScopeReport
from purposeful.audit import PseudonymKey
from purposeful.audit.history import SubjectQuery, access_history
from purposeful.audit.ledger import Ledger, VerifyReason, default_checkpoints_path, verify_ledger
from purposeful.audit.ledger import writer as ledger_writer
from purposeful.cli import main
from purposeful.errors import LedgerCorrupt

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
STAFF = Actor("staff-1", "caseworker", SENSITIVE)


class Crash(BaseException):
    """The process stopping at this point: nothing after it runs, nothing is cleaned up."""


def report() -> ScopeReport:
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    return ScopeReport(None, STAFF, now, now, ())


def documents(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def header_of(checkpoint: dict[str, Any]) -> bytes:
    """The header the first checkpoint signs, rebuilt from the documented format alone."""
    header = {
        "created": checkpoint["time"],
        "format": "purposeful-ledger/2",
        "key": checkpoint["key"],
        "ledger": checkpoint["ledger"],
        "seq": 0,
        "type": "header",
    }
    genesis = hashlib.sha256(b"purposeful-ledger/1 genesis\x00" + header["ledger"].encode())
    header["mac"] = hmac.new(genesis.digest(), canonical(header), hashlib.sha256).hexdigest()
    return canonical(header) + b"\n"


def after(target: Callable[..., Any]) -> Callable[..., Any]:
    """*target*, which then crashes."""

    def crashing(*args: Any, **kwargs: Any) -> Any:
        target(*args, **kwargs)
        raise Crash

    return crashing


def before(*args: Any, **kwargs: Any) -> Any:
    raise Crash


def stop_before_the_checkpoint(patch: pytest.MonkeyPatch, path: Path) -> None:
    patch.setattr(ledger_writer, "put_new", before)


def stop_before_the_checkpoint_is_in_place(patch: pytest.MonkeyPatch, path: Path) -> None:
    patch.setattr(ledger_files, "write_temporary", after(ledger_files.write_temporary))


def stop_before_the_header(patch: pytest.MonkeyPatch, path: Path) -> None:
    patch.setattr(Ledger, "_append", before)


def stop_before_the_folder_is_synced(patch: pytest.MonkeyPatch, path: Path) -> None:
    patch.setattr(ledger_writer, "sync_directory", after(ledger_writer.sync_directory))


STEPS = {
    "before the checkpoint": (stop_before_the_checkpoint, VerifyReason.NOT_STARTED),
    "before the checkpoint is in place": (
        stop_before_the_checkpoint_is_in_place,
        VerifyReason.NOT_STARTED,
    ),
    "before the header": (stop_before_the_header, VerifyReason.NOT_STARTED),
    "before the folder is synced": (stop_before_the_folder_is_synced, VerifyReason.OK),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_a_crash_between_the_steps_of_creation_is_finished_by_the_next_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    stop, reason = STEPS[step]
    path = tmp_path / "audit.jsonl"
    with monkeypatch.context() as patch:
        stop(patch, path)
        with pytest.raises(Crash):
            Ledger(path, signing_key=KEY)
    checkpoints = default_checkpoints_path(path)
    signed = checkpoints.read_bytes() if checkpoints.exists() else b""
    left = sorted(p.name for p in tmp_path.iterdir())
    if step == "before the checkpoint is in place":  # its temporary file, written, is left
        assert left[0].startswith(".audit.jsonl.checkpoints.")
        assert left[1:] == ["audit.jsonl"]
    result = verify_ledger(path, PUBLIC)
    assert (result.ok, result.reason) == (True, reason), result.describe()
    if reason is VerifyReason.NOT_STARTED:
        assert "Nothing was recorded in it" in result.message
        assert result.line is None
    with Ledger(path, signing_key=KEY) as ledger:
        ledger.emit(report())
    result = verify_ledger(path, PUBLIC)
    assert (result.ok, result.reason, result.lines_checked) == (True, VerifyReason.OK, 2)
    if signed:  # the same ledger, finished: its first checkpoint is the one signed before
        assert default_checkpoints_path(path).read_bytes().startswith(signed)
        assert documents(path)[0]["ledger"] == json.loads(signed)["ledger"]
    assert [p.name for p in tmp_path.iterdir() if ".torn-" in p.name] == []


def test_creation_puts_the_signed_checkpoint_in_place_before_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    with monkeypatch.context() as patch:
        stop_before_the_header(patch, path)
        with pytest.raises(Crash):
            Ledger(path, signing_key=KEY)
    assert path.read_bytes() == b""
    [checkpoint] = documents(default_checkpoints_path(path))
    assert (checkpoint["seq"], checkpoint.get("closed")) == (0, None)
    Ledger(path, signing_key=KEY).close()
    assert path.read_bytes().splitlines(keepends=True)[0] == header_of(checkpoint)
    assert documents(path)[0]["created"] == checkpoint["time"]


@pytest.mark.parametrize("kept", [1, 40, 100])
def test_a_header_a_power_loss_cut_short_is_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int
) -> None:
    path = tmp_path / "audit.jsonl"
    with monkeypatch.context() as patch:
        stop_before_the_header(patch, path)
        with pytest.raises(Crash):
            Ledger(path, signing_key=KEY)
    header = header_of(documents(default_checkpoints_path(path))[0])
    path.write_bytes(header[:kept])
    result = verify_ledger(path, PUBLIC)
    assert (result.ok, result.reason, result.last_checkpoint) == (True, VerifyReason.NOT_STARTED, 0)
    assert "holds the start of its header" in result.message
    Ledger(path, signing_key=KEY).close()
    assert path.read_bytes().splitlines(keepends=True)[0] == header
    assert verify_ledger(path, PUBLIC).reason is VerifyReason.OK


def test_a_header_without_its_checkpoint_is_not_started_and_the_next_open_signs_it(
    tmp_path: Path,
) -> None:
    """What an older version's crash between its header and its first checkpoint leaves."""
    path = tmp_path / "audit.jsonl"
    Ledger(path, signing_key=KEY).close()
    default_checkpoints_path(path).unlink()
    result = verify_ledger(path, PUBLIC)
    assert (result.ok, result.reason, result.lines_checked) == (True, VerifyReason.NOT_STARTED, 1)
    assert "holds only its header" in result.message
    Ledger(path, signing_key=KEY).close()
    assert verify_ledger(path, PUBLIC).reason is VerifyReason.OK


def test_an_empty_checkpoint_file_is_replaced_by_the_first_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    default_checkpoints_path(path).write_bytes(b"")
    Ledger(path, signing_key=KEY).close()
    assert verify_ledger(path, PUBLIC).reason is VerifyReason.OK


def test_a_creation_a_crash_stopped_answers_an_access_history_with_nothing(
    tmp_path: Path,
) -> None:
    path = first_checkpoint_alone(tmp_path)
    query = SubjectQuery.for_subject("C-4410", [PseudonymKey.generate()])
    assert access_history(query, [path], public_key=PUBLIC).accesses == ()


# --- what is not an interrupted creation is refused, and nothing is written ------------------


def refused(path: Path, match: str) -> None:
    checkpoints = default_checkpoints_path(path)
    before = path.read_bytes(), checkpoints.read_bytes()
    with pytest.raises(LedgerCorrupt, match=match):
        Ledger(path, signing_key=KEY)
    assert (path.read_bytes(), checkpoints.read_bytes()) == before


def first_checkpoint_alone(tmp_path: Path, key: Ed25519PrivateKey = KEY) -> Path:
    path = tmp_path / "audit.jsonl"
    with pytest.MonkeyPatch.context() as patch:
        stop_before_the_header(patch, path)
        with pytest.raises(Crash):
            Ledger(path, signing_key=key)
    return path


def test_a_first_checkpoint_signed_with_another_key_is_refused(tmp_path: Path) -> None:
    path = first_checkpoint_alone(tmp_path, Ed25519PrivateKey.generate())
    refused(path, "is empty, but its checkpoint file .* holds more than the first checkpoint")
    assert verify_ledger(path, PUBLIC).reason is VerifyReason.TRUNCATED


def test_a_first_checkpoint_that_was_changed_is_refused(tmp_path: Path) -> None:
    path = first_checkpoint_alone(tmp_path)
    checkpoints = default_checkpoints_path(path)
    checkpoints.write_bytes(checkpoints.read_bytes().replace(b'"seq":0', b'"seq":1'))
    refused(path, "is empty, but its checkpoint file")
    assert not verify_ledger(path, PUBLIC).ok


def test_the_start_of_another_line_before_a_first_checkpoint_is_refused(tmp_path: Path) -> None:
    path = first_checkpoint_alone(tmp_path)
    path.write_bytes(b'{"created":"1999')
    refused(path, "holds the start of a line that is not the header")
    assert verify_ledger(path, PUBLIC).reason is VerifyReason.TRUNCATED


def test_an_emptied_ledger_is_refused_while_its_checkpoints_say_more(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with Ledger(path, signing_key=KEY) as ledger:
        ledger.emit(report())
    path.write_bytes(b"")
    refused(path, "is empty, but its checkpoint file")
    assert verify_ledger(path, PUBLIC).reason is VerifyReason.TRUNCATED


def test_cutting_both_files_back_to_their_creation_is_caught_by_the_checkpoints_kept_elsewhere(
    tmp_path: Path,
) -> None:
    """The documented limit: an attacker who can write both files can make them look like a
    creation a crash stopped, as they can cut both back to any checkpoint; the copy of the
    checkpoints kept elsewhere says what was there."""
    path = tmp_path / "audit.jsonl"
    with Ledger(path, signing_key=KEY, checkpoint_every=2) as ledger:
        for _ in range(4):
            ledger.emit(report())
    kept = tmp_path / "kept.checkpoints"
    shutil.copyfile(default_checkpoints_path(path), kept)
    checkpoints = default_checkpoints_path(path)
    checkpoints.write_bytes(checkpoints.read_bytes().splitlines(keepends=True)[0])
    path.write_bytes(b"")
    assert verify_ledger(path, PUBLIC).reason is VerifyReason.NOT_STARTED
    result = verify_ledger(path, PUBLIC, checkpoints=kept)
    assert (result.ok, result.reason) == (False, VerifyReason.TRUNCATED)


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def public_key(tmp_path: Path) -> Path:
    pem = tmp_path / "signing-key.pub.pem"
    pem.write_bytes(
        PUBLIC.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pem


def verify(path: Path, public_key: Path) -> int:
    return main(["audit", "verify", str(path), "--public-key", str(public_key), "--no-index"])


def test_audit_verify_exits_0_on_a_creation_a_crash_stopped(
    tmp_path: Path, public_key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = first_checkpoint_alone(tmp_path)
    capsys.readouterr()
    assert verify(path, public_key) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: not-started: ")
    assert out.count("\n") == 1


def test_audit_verify_exits_1_on_a_torn_line_and_0_with_a_note_once_recovered(
    tmp_path: Path, public_key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.jsonl"
    ledger = Ledger(path, signing_key=KEY, checkpoint_every=1)
    ledger.emit(report())
    killed = tmp_path / "killed.jsonl"
    killed.write_bytes(path.read_bytes() + b'{"actor":"staff-1","dec')
    shutil.copyfile(default_checkpoints_path(path), default_checkpoints_path(killed))
    ledger.close()
    capsys.readouterr()
    assert verify(killed, public_key) == 1
    assert f"{killed}:3: truncated: " in capsys.readouterr().out
    Ledger(killed, signing_key=KEY).close()
    assert verify(killed, public_key) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{killed}: ok: ")
    assert out[1].startswith("note: line 3 records that a writer, opening the ledger after a")
    assert "killed.jsonl.torn-2-" in out[1]
    assert len(out) == 2
