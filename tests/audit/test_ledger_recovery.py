"""A writer killed while it writes a line leaves a torn last line; the next `Ledger` to open
the ledger recovers without anyone's help: the torn bytes go to a side file, whole, the
ledger is cut back to its last whole line, and a recovery line in the chain records it.
Damage that is not a torn last line is refused as before, and nothing is set aside.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purposeful import SENSITIVE, Actor, ScopeReport
from purposeful.audit import PseudonymKey
from purposeful.audit.history import SubjectQuery, access_history
from purposeful.audit.ledger import (
    Ledger,
    VerifyReason,
    default_checkpoints_path,
    default_index_path,
    verify_ledger,
)
from purposeful.audit.ledger import writer as ledger_writer
from purposeful.audit.report import read_ledger
from purposeful.audit.report.records import Ignored, ScopeRecord
from purposeful.errors import LedgerCorrupt, LedgerError

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
STAFF = Actor("staff-1", "caseworker", SENSITIVE)


class Crash(BaseException):
    """The process stopping at this point: nothing after it runs, nothing is cleaned up."""


def report(number: int) -> ScopeReport:
    return ScopeReport(None, STAFF, NOW, NOW, (), scope_id=f"{number:032x}")


def documents(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def side_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if ".torn-" in path.name)


def killed(folder: Path, count: int, *, every: int = 3) -> Path:
    """A ledger of *count* lines as a writer killed after its last line leaves it: no
    closing checkpoint, every whole line handed to the system."""
    source = folder / "source.jsonl"
    ledger = Ledger(source, signing_key=KEY, checkpoint_every=every)
    for number in range(1, count + 1):
        ledger.emit(report(number))
    path = folder / "audit.jsonl"
    shutil.copyfile(source, path)
    shutil.copyfile(default_checkpoints_path(source), default_checkpoints_path(path))
    ledger.close()
    source.unlink()
    default_checkpoints_path(source).unlink()
    return path


_KILLED: dict[int, bytes] = {}
#: A line as a writer would have written it next: torn lines are prefixes of lines like it.
NEXT_LINE = (
    b'{"actor":"staff-1","decisions":[],"failed":false,"fields":[],"final":true,"mac":"'
    + b"ab" * 32
    + b'","opened":"2026-03-02T09:00:00.000000Z","part":0,"purpose":null,"reads":[],'
    b'"role":"caseworker","scope":"000000000000000000000000000000ff","seq":5,"subjects":[],'
    b'"subjects_count":0,"subjects_overflow":0,"time":"2026-03-02T09:00:00.000000Z",'
    b'"type":"scope"}'
)


def torn_ledger(folder: Path, count: int, torn: bytes) -> Path:
    """A killed writer's ledger of *count* lines, then the torn line *torn*."""
    if count not in _KILLED:
        with tempfile.TemporaryDirectory() as scratch:
            made = killed(Path(scratch), count)
            _KILLED[count] = made.read_bytes() + b"\0" + default_checkpoints_path(made).read_bytes()
    ledger, _, checkpoints = _KILLED[count].partition(b"\0")
    path = folder / "audit.jsonl"
    path.write_bytes(ledger + torn)
    default_checkpoints_path(path).write_bytes(checkpoints)
    return path


def assert_recovered(path: Path, torn: bytes, count: int) -> None:
    """*path*, a ledger of *count* whole lines and then *torn*, opens, sets *torn* aside and
    goes on; every check of what that leaves."""
    whole = path.read_bytes()[: -len(torn)]
    with Ledger(path, signing_key=KEY) as ledger:
        assert ledger.seq == count + 1  # the recovery line took the torn line's seq
        ledger.emit(report(999))
    [side] = side_files(path.parent)
    assert side.read_bytes() == torn
    assert stat.S_IMODE(side.stat().st_mode) == 0o600
    assert side.name.startswith(f"audit.jsonl.torn-{count + 1}-")
    data = path.read_bytes()
    assert data.startswith(whole)  # no whole line touched
    recovery = json.loads(data[len(whole) :].splitlines()[0])
    assert recovery["type"] == "recovery"
    assert recovery["seq"] == recovery["torn_seq"] == count + 1
    assert (recovery["file"], recovery["size"]) == (side.name, len(torn))
    assert recovery["sha256"] == hashlib.sha256(torn).hexdigest()
    result = verify_ledger(path, PUBLIC)
    assert (result.ok, result.reason) == (True, VerifyReason.OK), result.describe()
    [note] = result.notes
    assert f"line {count + 2} records" in note
    assert "the side file is there as recorded" in note
    assert "recovery line records a torn line" in result.message
    assert "\n" not in result.describe()


# --- a torn last line of any size is recovered -----------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(count=st.sampled_from([0, 1, 3, 4]), cut=st.integers(1, len(NEXT_LINE)))
def test_any_start_of_a_line_torn_off_is_set_aside_and_the_chain_goes_on(
    count: int, cut: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        torn = NEXT_LINE[:cut]
        assert_recovered(torn_ledger(Path(folder), count, torn), torn, count)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.sampled_from([0, 2, 3]),
    torn=st.binary(min_size=1, max_size=300).map(lambda b: b.replace(b"\n", b"")).filter(bool),
)
def test_any_bytes_after_the_last_newline_are_set_aside_exactly(count: int, torn: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        assert_recovered(torn_ledger(Path(folder), count, torn), torn, count)


def test_a_torn_line_larger_than_a_read_chunk_is_set_aside_whole(tmp_path: Path) -> None:
    torn = b'{"actor":"staff-1","subjects":["' + b"0" * 300_000
    assert_recovered(torn_ledger(tmp_path, 4, torn), torn, 4)


def test_a_torn_line_right_after_the_header_is_recovered(tmp_path: Path) -> None:
    path = torn_ledger(tmp_path, 0, b'{"act')
    assert_recovered(path, b'{"act', 0)
    assert [d["type"] for d in documents(path)] == ["header", "recovery", "scope"]


def test_the_reader_counts_a_recovery_line_with_other_ledger_lines(tmp_path: Path) -> None:
    path = torn_ledger(tmp_path, 2, b'{"actor":"sta')
    Ledger(path, signing_key=KEY).close()
    entries = list(read_ledger(path))
    assert [e.what for e in entries if isinstance(e, Ignored)] == [
        "ledger headers",
        "other ledger lines",
    ]
    assert sum(isinstance(e, ScopeRecord) for e in entries) == 2


def test_a_recovery_line_sits_after_a_closed_ledgers_reopening(tmp_path: Path) -> None:
    """A writer reopening a closed ledger signs the reopening, then may be killed mid-line."""
    source = tmp_path / "source.jsonl"
    Ledger(source, signing_key=KEY).close()
    ledger = Ledger(source, signing_key=KEY)
    ledger.emit(report(1))  # the reopening's checkpoint is signed before this line
    path = tmp_path / "audit.jsonl"  # the files as the killed writer left them, torn
    path.write_bytes(source.read_bytes() + NEXT_LINE[:40])
    shutil.copyfile(default_checkpoints_path(source), default_checkpoints_path(path))
    ledger.close()
    source.unlink()
    default_checkpoints_path(source).unlink()
    assert_recovered(path, NEXT_LINE[:40], 1)


def test_a_recovered_ledger_answers_a_persons_access_history(tmp_path: Path) -> None:
    people = PseudonymKey.generate()

    def reading(number: int) -> ScopeReport:
        aroha = frozenset({people.pseudonym("C-4410")})
        return ScopeReport(
            None, STAFF, NOW, NOW, (), subject_count=1, subjects=aroha, scope_id=f"{number:032x}"
        )

    source = tmp_path / "source.jsonl"
    ledger = Ledger(source, signing_key=KEY)
    ledger.emit(reading(1))
    path = tmp_path / "audit.jsonl"
    path.write_bytes(source.read_bytes() + NEXT_LINE[:60])
    shutil.copyfile(default_checkpoints_path(source), default_checkpoints_path(path))
    ledger.close()
    with Ledger(path, signing_key=KEY) as ledger:
        ledger.emit(reading(2))
    answer = access_history(SubjectQuery.for_subject("C-4410", [people]), [path], public_key=PUBLIC)
    assert len(answer.accesses) == 2
    assert default_index_path(path).exists()


# --- what verify says before and after ------------------------------------------------------


def test_verify_says_truncated_until_a_writer_opens_it(tmp_path: Path) -> None:
    path = torn_ledger(tmp_path, 4, NEXT_LINE[:50])
    result = verify_ledger(path, PUBLIC)
    assert (result.ok, result.reason, result.line) == (False, VerifyReason.TRUNCATED, 6)
    assert "the next Ledger() open sets it aside" in result.message


@pytest.mark.parametrize("how", ["removed", "changed"])
def test_a_side_file_gone_or_changed_is_noted_not_failed(tmp_path: Path, how: str) -> None:
    path = torn_ledger(tmp_path, 2, NEXT_LINE[:50])
    Ledger(path, signing_key=KEY).close()
    [side] = side_files(tmp_path)
    if how == "removed":
        side.unlink()
    else:
        side.write_bytes(b"something else")
    result = verify_ledger(path, PUBLIC)
    assert result.ok, result.describe()
    [note] = result.notes
    expected = "is not there" if how == "removed" else "does not hold what the line records"
    assert expected in note


def test_a_recovery_line_naming_a_file_elsewhere_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verifier reads only side files beside the ledger, named after it."""
    (tmp_path / "inner").mkdir()
    path = torn_ledger(tmp_path / "inner", 2, NEXT_LINE[:50])
    (tmp_path / "secret").write_bytes(b"not a side file")
    real = ledger_writer.recovery_line

    def elsewhere(**fields: Any) -> dict[str, Any]:
        return {**real(**fields), "file": "../secret"}

    monkeypatch.setattr(ledger_writer, "recovery_line", elsewhere)
    Ledger(path, signing_key=KEY).close()
    result = verify_ledger(path, PUBLIC)
    assert result.ok
    assert "names no side file beside the ledger" in result.notes[0]


# --- damage that is not a torn last line is refused, and nothing is set aside ----------------


def refused(path: Path, match: str) -> None:
    before = path.read_bytes(), default_checkpoints_path(path).read_bytes()
    with pytest.raises(LedgerCorrupt, match=match):
        Ledger(path, signing_key=KEY)
    assert (path.read_bytes(), default_checkpoints_path(path).read_bytes()) == before
    assert side_files(path.parent) == []


def test_a_torn_line_after_a_damaged_whole_line_is_refused(tmp_path: Path) -> None:
    path = torn_ledger(tmp_path, 4, NEXT_LINE[:30])
    path.write_bytes(path.read_bytes().replace(b'"staff-1"', b'"staff-2"'))
    refused(path, "damaged|do not follow on|does not reach")


def test_a_torn_line_after_a_deleted_line_is_refused(tmp_path: Path) -> None:
    path = torn_ledger(tmp_path, 5, NEXT_LINE[:30])  # a checkpoint at 3; 4 and 5 after it
    lines = path.read_bytes().splitlines(keepends=True)
    del lines[4]  # seq 4
    path.write_bytes(b"".join(lines))
    refused(path, "do not follow on from each other: seq 5 follows seq 3")


def test_a_whole_line_that_does_not_verify_is_refused(tmp_path: Path) -> None:
    path = torn_ledger(tmp_path, 4, b"")
    path.write_bytes(path.read_bytes() + b"not json\n")
    refused(path, "last line of the ledger .* is damaged")


def test_a_torn_line_after_a_closed_ledger_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with Ledger(path, signing_key=KEY) as ledger:
        ledger.emit(report(1))
    path.write_bytes(path.read_bytes() + NEXT_LINE[:30])
    refused(path, "part of a line was added .* after it was closed")


def test_a_torn_line_after_lines_no_checkpoint_vouches_for_is_refused(tmp_path: Path) -> None:
    path = torn_ledger(tmp_path, 2, NEXT_LINE[:30])
    default_checkpoints_path(path).write_bytes(b"")
    refused(path, "checkpoint file .* is missing or empty")


def test_a_side_file_that_cannot_be_written_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = torn_ledger(tmp_path, 2, NEXT_LINE[:30])
    before = path.read_bytes()

    def full_disk(*args: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("purposeful.audit.ledger.files.write_temporary", full_disk)
    with pytest.raises(LedgerError, match=r"cannot set aside the torn last line .* not changed"):
        Ledger(path, signing_key=KEY)
    assert path.read_bytes() == before
    assert side_files(tmp_path) == []
    monkeypatch.undo()
    assert_recovered(path, NEXT_LINE[:30], 2)  # once the disk has room


# --- a crash during the recovery itself ------------------------------------------------------


def test_a_crash_after_the_side_file_is_written_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = torn_ledger(tmp_path, 2, NEXT_LINE[:30])

    def crash(*args: object) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(os, "ftruncate", crash)
        with pytest.raises(Crash):
            Ledger(path, signing_key=KEY)
    assert len(side_files(tmp_path)) == 1  # set aside; the ledger not cut yet
    assert path.read_bytes().endswith(NEXT_LINE[:30])
    assert_recovered(path, NEXT_LINE[:30], 2)  # the same side file, recorded once


def test_a_crash_before_the_recovery_line_is_written_leaves_the_side_file_unrecorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the next open cannot tell this side file from one anyone put beside the ledger, so
    # the chain does not say it was torn: the file is kept, as evidence, and the chain goes on
    path = torn_ledger(tmp_path, 2, NEXT_LINE[:30])

    def crash(*args: object, **kwargs: object) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(ledger_writer, "recovery_line", crash)
        with pytest.raises(Crash):
            Ledger(path, signing_key=KEY)
    assert path.read_bytes().endswith(b"}\n")  # cut back to its whole lines
    [side] = side_files(tmp_path)  # set aside, and recorded nowhere
    with Ledger(path, signing_key=KEY) as ledger:
        assert ledger.seq == 2
    assert [d["type"] for d in documents(path)][-1] != "recovery"
    assert side.read_bytes() == NEXT_LINE[:30]
    result = verify_ledger(path, PUBLIC)
    assert result.ok
    assert not result.notes


def test_a_recovery_line_torn_in_its_turn_is_set_aside_too(tmp_path: Path) -> None:
    path = torn_ledger(tmp_path, 2, NEXT_LINE[:30])
    whole = path.read_bytes()[:-30]
    Ledger(path, signing_key=KEY).close()
    recovery = path.read_bytes()[len(whole) :].splitlines(keepends=True)[0]
    path.write_bytes(whole + recovery[:25])  # killed while writing the recovery line
    checkpoints = default_checkpoints_path(path)
    checkpoints.write_bytes(b"".join(checkpoints.read_bytes().splitlines(keepends=True)[:-1]))
    with Ledger(path, signing_key=KEY) as ledger:
        assert ledger.seq == 3  # a recovery line for what this open set aside
    [line] = documents(path)[3:]
    assert (line["type"], line["torn_seq"]) == ("recovery", 3)
    assert (tmp_path / line["file"]).read_bytes() == recovery[:25]
    kept = {side.read_bytes() for side in side_files(tmp_path)}
    assert kept == {NEXT_LINE[:30], recovery[:25]}  # the first side file is kept too
    result = verify_ledger(path, PUBLIC)
    assert result.ok
    assert len(result.notes) == 1


# --- killed for real -------------------------------------------------------------------------

APPENDING_WRITER = """
import os, sys, time
from datetime import UTC, datetime
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from purposeful import SENSITIVE, Actor, ScopeReport
from purposeful.audit.ledger import Ledger

with open(sys.argv[3], "rb") as pem:
    key = load_pem_private_key(pem.read(), None)
real_write = os.write


def slow_write(fd, data):  # a slow disk: a kill lands in the middle of a line
    time.sleep(0.0003)
    return real_write(fd, bytes(data[:4096]))


os.write = slow_write
ledger = Ledger(sys.argv[1], signing_key=key, checkpoint_every=4, fsync="checkpoint")
now = datetime.now(UTC)
people = frozenset(f"0000000{n % 10}:{n:032x}" for n in range(4000))
print("ready", flush=True)
for number in range(100_000):
    scope = f"{sys.argv[2]}{number:024x}"
    ledger.emit(
        ScopeReport(None, Actor("staff-1", "caseworker", SENSITIVE), now, now, (),
                    subject_count=len(people), subjects=people, scope_id=scope)
    )
    print(scope, flush=True)  # emit returned: the line is committed
"""
SCOPE = re.compile(rb'"scope":"([0-9a-f]{32})"')


def test_a_writer_killed_at_random_moments_loses_and_repeats_no_committed_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "ledger").mkdir()
    path = tmp_path / "ledger" / "audit.jsonl"
    key = tmp_path / "signing-key.pem"
    key.write_bytes(
        KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    chance = random.Random(20260302)
    committed: list[str] = []
    started = time.monotonic()
    kills = 0
    while kills < 12 and time.monotonic() - started < 20:
        with subprocess.Popen(
            [sys.executable, "-c", APPENDING_WRITER, str(path), f"{kills:08x}", str(key)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as child:
            assert child.stdout is not None
            ready = child.stdout.readline()
            if ready != b"ready\n":
                pytest.fail(child.communicate(timeout=30)[1].decode())
            time.sleep(chance.uniform(0.02, 0.3))
            child.kill()  # SIGKILL: no cleanup, no closing checkpoint
            out, _ = child.communicate(timeout=30)
        kills += 1
        committed += out.decode().split()
        Ledger(path, signing_key=KEY, checkpoint_every=4).close()  # nobody's help
        result = verify_ledger(path, PUBLIC)
        assert result.ok, result.describe()
        scopes = Counter(match.decode() for match in SCOPE.findall(path.read_bytes()))
        assert all(count == 1 for count in scopes.values())  # nothing repeated
        assert set(committed) <= set(scopes)  # nothing committed lost
    recovered = side_files(path.parent)
    assert kills >= 5
    assert recovered, "no kill landed mid-line: the test did not test recovery"
    recovery_lines = [d for d in documents(path) if d["type"] == "recovery"]
    assert sorted(d["file"] for d in recovery_lines) == [side.name for side in recovered]
    for side in recovered:
        assert b"\n" not in side.read_bytes()
        assert side.read_bytes().startswith(b'{"actor":"staff-1"')
