"""A closed ledger stays closed: `Ledger.close` signs a checkpoint marking it closed, a line
added after it is `written-after-close`, and a writer opening a ledger checks the lines
since its last checkpoint before it signs anything over them.

The attacker here works from the documented format alone: recomputing a mac needs no key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purposeful import SENSITIVE, Actor, ScopeReport
from purposeful.audit.ledger import Ledger, VerifyReason, default_checkpoints_path, verify_ledger
from purposeful.audit.ledger import files as ledger_files
from purposeful.cli import main
from purposeful.errors import LedgerCorrupt

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
REPORT = ScopeReport(None, Actor("staff-1", "caseworker", SENSITIVE), NOW, NOW, ())


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def documents(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def write(path: Path, count: int, *, every: int = 3, close: bool = True) -> Ledger:
    ledger = Ledger(path, signing_key=KEY, checkpoint_every=every)
    for _ in range(count):
        ledger.emit(REPORT)
    if close:
        ledger.close()
    return ledger


def forge_after(path: Path, count: int = 1) -> None:
    """Append *count* lines chained correctly to the last one: what anyone can do."""
    last = documents(path)[-1]
    with path.open("ab") as file:
        for _ in range(count):
            forged = {k: v for k, v in last.items() if k != "mac"}
            forged["seq"] = last["seq"] + 1
            forged["actor"], forged["type"] = "staff-9999-framed", "scope"
            forged["mac"] = hmac.new(
                bytes.fromhex(last["mac"]), canonical(forged), hashlib.sha256
            ).hexdigest()
            file.write(canonical(forged) + b"\n")
            last = forged


def crash_copy(path: Path, to: Path) -> Path:
    """The files as a process that stopped without closing leaves them."""
    shutil.copyfile(path, to)
    shutil.copyfile(default_checkpoints_path(path), default_checkpoints_path(to))
    return to


def files(path: Path) -> tuple[bytes, bytes]:
    return path.read_bytes(), default_checkpoints_path(path).read_bytes()


# --- closing -------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 2, 3, 4])
def test_close_leaves_the_ledger_covered_by_a_checkpoint_marking_it_closed(
    tmp_path: Path, count: int
) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, count)
    last = documents(default_checkpoints_path(path))[-1]
    assert (last["seq"], last["head"], last["closed"]) == (count, documents(path)[-1]["mac"], True)
    result = verify_ledger(path, PUBLIC)
    assert result.ok, result.describe()
    assert "marks the ledger closed" in result.message


def test_a_line_forged_onto_a_closed_ledger_is_not_ok(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 4)
    forge_after(path, 2)
    result = verify_ledger(path, PUBLIC)
    assert (result.ok, result.reason, result.line) == (False, VerifyReason.WRITTEN_AFTER_CLOSE, 6)
    assert result.code == "written-after-close"
    assert "and 1 line follows it" in result.message
    public = tmp_path / "pub.pem"
    public.write_bytes(PUBLIC.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    capsys.readouterr()
    assert main(["audit", "verify", str(path), "--public-key", str(public)]) == 1
    assert "written-after-close" in capsys.readouterr().out


def test_a_writer_refuses_to_sign_over_lines_forged_after_close(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 4)
    forge_after(path)
    before = files(path)
    with pytest.raises(LedgerCorrupt, match=r"1 line was added .* after it was closed.*verify"):
        Ledger(path, signing_key=KEY)
    assert files(path) == before  # nothing signed, nothing written


def test_a_seq_gap_since_the_last_checkpoint_is_refused_not_signed(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write(crash_source := tmp_path / "source.jsonl", 5, close=False)
    crash_copy(crash_source, path)  # checkpoint at 3; seq 4 and 5 after it
    docs = documents(path)
    docs[-1]["seq"] = 99  # renumbered, and rechained: no key needed
    docs[-1].pop("mac")
    docs[-1]["mac"] = hmac.new(
        bytes.fromhex(docs[-2]["mac"]), canonical(docs[-1]), hashlib.sha256
    ).hexdigest()
    path.write_bytes(b"".join(canonical(doc) + b"\n" for doc in docs))
    before = files(path)
    with pytest.raises(LedgerCorrupt, match=r"since its last checkpoint \(seq 3\).*seq 99 follows"):
        Ledger(path, signing_key=KEY)
    assert files(path) == before
    assert verify_ledger(path, PUBLIC).reason is VerifyReason.DELETED


def test_a_broken_chain_since_the_last_checkpoint_is_refused(tmp_path: Path) -> None:
    path = crash_copy(write(tmp_path / "source.jsonl", 5, close=False).path, tmp_path / "a.jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    lines[-2] = lines[-2].replace(b"staff-1", b"staff-2")  # seq 4, after the checkpoint
    path.write_bytes(b"".join(lines))
    with pytest.raises(LedgerCorrupt, match="do not follow on from each other"):
        Ledger(path, signing_key=KEY)


def test_a_ledger_not_reaching_its_last_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 3)
    docs = documents(path)[:-1]  # seq 3 deleted: the checkpoint of seq 3 has nothing to sign
    path.write_bytes(b"".join(canonical(doc) + b"\n" for doc in docs))
    with pytest.raises(LedgerCorrupt, match=r"does not reach its last checkpoint \(seq 3\)"):
        Ledger(path, signing_key=KEY)


def test_a_closed_mark_removed_from_the_checkpoints_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 4)
    checkpoints = default_checkpoints_path(path)
    docs = documents(checkpoints)
    del docs[-1]["closed"]
    checkpoints.write_bytes(b"".join(canonical(doc) + b"\n" for doc in docs))
    forge_after(path)
    assert verify_ledger(path, PUBLIC).reason is VerifyReason.WRONG_KEY
    with pytest.raises(LedgerCorrupt, match="does not verify with the signing key"):
        Ledger(path, signing_key=KEY)


# --- what must keep working ----------------------------------------------------------------


def test_a_crashed_writers_lines_after_its_last_checkpoint_still_open_and_continue(
    tmp_path: Path,
) -> None:
    source = write(tmp_path / "source.jsonl", 5, close=False)  # checkpoint at 3
    path = crash_copy(source.path, tmp_path / "audit.jsonl")
    source.close()
    with Ledger(path, signing_key=KEY, checkpoint_every=3) as ledger:
        assert (ledger.seq, ledger.checkpointed) == (5, 3)
        ledger.emit(REPORT)
    result = verify_ledger(path, PUBLIC)
    assert result.ok, result.describe()
    assert result.last_checkpoint == 6


def test_a_closed_ledger_opened_again_signs_its_reopening_before_its_first_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 4)
    ledger = Ledger(path, signing_key=KEY, checkpoint_every=3)
    ledger.emit(REPORT)
    marks = [(c["seq"], c.get("closed")) for c in documents(default_checkpoints_path(path))]
    assert marks[-2:] == [(4, True), (4, None)]
    crashed = crash_copy(path, tmp_path / "crashed.jsonl")  # stops before closing
    ledger.close()
    assert verify_ledger(path, PUBLIC).ok
    assert verify_ledger(crashed, PUBLIC).ok  # seq 5 rests on the chain, as after any crash
    with Ledger(crashed, signing_key=KEY) as again:
        assert again.seq == 5
        again.emit(REPORT)
    assert verify_ledger(crashed, PUBLIC).ok


def test_opening_and_closing_a_closed_ledger_adds_no_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 4)
    before = files(path)
    with Ledger(path, signing_key=KEY) as ledger:
        assert ledger.checkpoint() == 4
    assert files(path) == before


def test_a_ledger_whose_checkpoints_never_say_closed_verifies_and_continues(
    tmp_path: Path,
) -> None:
    """Ledgers written before checkpoints said ``closed`` read as they always did."""
    path = tmp_path / "audit.jsonl"
    write(path, 4)
    checkpoints = default_checkpoints_path(path)
    old = []
    for doc in documents(checkpoints):
        if doc.pop("closed", None):
            continue  # an older writer signed the last line once
        doc.pop("signature")
        doc["signature"] = KEY.sign(b"purposeful-ledger/1 checkpoint\x00" + canonical(doc)).hex()
        old.append(doc)
    checkpoints.write_bytes(b"".join(canonical(doc) + b"\n" for doc in old))
    assert [doc["seq"] for doc in old] == [0, 3]
    forge_after(path)  # without a closed mark, a line after the checkpoint is not refused
    assert verify_ledger(path, PUBLIC).ok
    with Ledger(path, signing_key=KEY) as ledger:
        ledger.emit(REPORT)
    assert verify_ledger(path, PUBLIC).ok


def test_a_checkpoint_signed_past_a_closed_one_without_reopening_is_after_close(
    tmp_path: Path,
) -> None:
    """A writer that signed over lines added after close (no reopening checkpoint)."""
    path = tmp_path / "audit.jsonl"
    write(path, 3)
    forge_after(path)
    checkpoints = default_checkpoints_path(path)
    signed = {k: v for k, v in documents(checkpoints)[-1].items() if k not in ("signature",)}
    signed.pop("closed")
    signed.update(seq=4, head=documents(path)[-1]["mac"])
    signed["signature"] = KEY.sign(b"purposeful-ledger/1 checkpoint\x00" + canonical(signed)).hex()
    with checkpoints.open("ab") as file:
        file.write(canonical(signed) + b"\n")
    result = verify_ledger(path, PUBLIC)
    assert (result.reason, result.line) == (VerifyReason.WRITTEN_AFTER_CLOSE, 5)


# --- properties ----------------------------------------------------------------------------

sessions = st.lists(
    st.tuples(st.integers(min_value=0, max_value=5), st.booleans()), min_size=1, max_size=5
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sessions=sessions, every=st.integers(min_value=1, max_value=4), forged=st.integers(0, 2))
def test_sessions_verify_and_only_forgeries_after_close_are_refused(
    tmp_path_factory: pytest.TempPathFactory,
    sessions: list[tuple[int, bool]],
    every: int,
    forged: int,
) -> None:
    folder = tmp_path_factory.mktemp("sessions")
    path = folder / "audit-0.jsonl"
    for number, (count, closes) in enumerate(sessions):
        ledger = write(path, count, every=every, close=closes)
        result = verify_ledger(path, PUBLIC)
        assert result.ok, result.describe()
        if not closes:  # a crash: carry on from the files it left
            path = crash_copy(path, folder / f"audit-{number + 1}.jsonl")
            ledger.close()
    if not sessions[-1][1]:
        return
    forge_after(path, forged)
    result = verify_ledger(path, PUBLIC)
    if forged:
        assert result.reason is VerifyReason.WRITTEN_AFTER_CLOSE
        with pytest.raises(LedgerCorrupt, match="after it was closed"):
            Ledger(path, signing_key=KEY)
    else:
        assert result.ok


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000])
def test_the_lines_since_the_checkpoint_are_read_back_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Opening reads the file backwards a chunk at a time: any chunk size reads it whole."""
    monkeypatch.setattr(ledger_files, "_CHUNK", chunk)
    source = write(tmp_path / "source.jsonl", 8, every=3, close=False)  # checkpoint at 6
    path = crash_copy(source.path, tmp_path / "audit.jsonl")
    source.close()
    with Ledger(path, signing_key=KEY, checkpoint_every=3) as ledger:
        assert (ledger.seq, ledger.checkpointed) == (8, 6)
    forge_after(path)
    with pytest.raises(LedgerCorrupt, match="after it was closed"):
        Ledger(path, signing_key=KEY)


# --- a checkpoint file taken away or rearranged ----------------------------------------------


@pytest.mark.parametrize("how", ["deleted", "emptied", "another file"])
def test_a_ledger_with_lines_and_no_checkpoints_is_refused_not_signed(
    tmp_path: Path, how: str
) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 4)
    forge_after(path)
    checkpoints = default_checkpoints_path(path)
    if how == "deleted":
        checkpoints.unlink()
    elif how == "emptied":
        checkpoints.write_bytes(b"")
    before = path.read_bytes()
    other = tmp_path / "new.checkpoints"
    with pytest.raises(LedgerCorrupt, match=r"checkpoint file .* is missing or empty"):
        Ledger(path, signing_key=KEY, checkpoints=other if how == "another file" else None)
    assert path.read_bytes() == before  # nothing signed over the forged line
    assert not other.exists() or other.read_bytes() == b""
    assert not verify_ledger(path, PUBLIC).ok


def test_a_ledger_whose_creation_stopped_before_its_first_checkpoint_opens_and_signs_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 0)
    default_checkpoints_path(path).unlink()  # as a crash after the header leaves it
    path.write_bytes(path.read_bytes().splitlines(keepends=True)[0])
    with Ledger(path, signing_key=KEY) as ledger:
        ledger.emit(REPORT)
    result = verify_ledger(path, PUBLIC)
    assert result.ok, result.describe()
    assert documents(default_checkpoints_path(path))[0]["seq"] == 0


@pytest.mark.parametrize("how", ["an earlier one copied last", "the closing one moved first"])
def test_a_checkpoint_file_out_of_order_is_refused_not_signed(tmp_path: Path, how: str) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 7, every=3)
    checkpoints = default_checkpoints_path(path)
    lines = checkpoints.read_bytes().splitlines(keepends=True)
    assert len(lines) >= 3
    if how == "an earlier one copied last":
        lines.append(lines[-2])
    else:
        lines.insert(0, lines.pop())
    checkpoints.write_bytes(b"".join(lines))
    forge_after(path)
    before = files(path)
    with pytest.raises(LedgerCorrupt, match="out of order"):
        Ledger(path, signing_key=KEY)
    assert files(path) == before
