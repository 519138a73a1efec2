"""The tamper-evident ledger: what it writes, what verify_ledger catches, and how it behaves
with threads, processes, reopening and failing disks.

The attacker in these tests works from the documented format alone (canonical JSON, the
HMAC chain, the genesis value), never from the module's private helpers, so the tests also
pin the format.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from _records import (
    ADMINISTRATOR,
    CASE_MANAGEMENT,
    CASEWORKER,
    FUNDER_JOB,
    AlwaysConsent,
    Case,
    NeverConsent,
)
from purposeful import Actor, Mode, PurposeViolation, ScopeReport, project, use
from purposeful.audit.conventions import LEDGER_FORMAT
from purposeful.audit.ledger import (
    Ledger,
    VerifyReason,
    VerifyResult,
    default_checkpoints_path,
    verify_ledger,
)
from purposeful.errors import (
    ConfigurationError,
    LedgerClosed,
    LedgerCorrupt,
    LedgerError,
    LedgerKeyMismatch,
    LedgerLocked,
)
from purposeful.typing import AuditSink

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
ATTACKER = Ed25519PrivateKey.generate()

PURPOSES = ("service-delivery", CASE_MANAGEMENT, "funder-reporting", "research")
ACTORS = (CASEWORKER, ADMINISTRATOR, FUNDER_JOB)

#: The ledger of the tamper tests: 20 scope reports, a checkpoint every 5 lines.
COUNT = 20
EVERY = 5


class Collect:
    """An audit sink that keeps the reports."""

    def __init__(self) -> None:
        self.reports: list[ScopeReport] = []

    def emit(self, report: ScopeReport) -> None:
        self.reports.append(report)


def real_reports(count: int, record: Case | None = None) -> list[ScopeReport]:
    """Reports of real scopes: allowed, denied and would-deny reads, and projections."""
    record = record if record is not None else Case("C-1001", "asthma", "1 Queen St", "notes")
    sink = Collect()
    with purposeful.configured(
        sinks=[sink], consent=AlwaysConsent(), purpose_modes={"research": Mode.MONITOR}
    ):
        number = 0
        while len(sink.reports) < count:
            purpose = PURPOSES[number % len(PURPOSES)]
            actor = ACTORS[number % len(ACTORS)]
            if number % 5 == 4:
                project(record, purpose, actor=actor)
            else:
                with use(purpose, actor=actor):
                    for name in ("diagnosis", "address", "case_notes", "region"):
                        with contextlib.suppress(PurposeViolation):
                            getattr(record, name)
            number += 1
    return sink.reports[:count]


REPORTS = real_reports(COUNT)


def write_ledger(path: Path, count: int = COUNT, **options: Any) -> Path:
    options.setdefault("checkpoint_every", EVERY)
    with Ledger(path, signing_key=KEY, **options) as ledger:
        for report in (REPORTS * (count // COUNT + 1))[:count]:
            ledger.emit(report)
    return path


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return write_ledger(tmp_path / "audit.jsonl")


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def documents(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines_of(path)]


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def mac_of(previous: str | bytes, document: dict[str, Any]) -> str:
    key = bytes.fromhex(previous) if isinstance(previous, str) else previous
    body = {name: value for name, value in document.items() if name != "mac"}
    return hmac.new(key, canonical(body), hashlib.sha256).hexdigest()


def genesis(ledger_id: str) -> bytes:
    return hashlib.sha256(b"purposeful-ledger/1 genesis\x00" + ledger_id.encode()).digest()


def stored(document: dict[str, Any]) -> bytes:
    return canonical(document) + b"\n"


def rechain(docs: list[dict[str, Any]], *, renumber: bool = True) -> list[bytes]:
    """What an attacker without the signing key can do: recompute every mac (and seq)."""
    header, *events = docs
    header["mac"] = mac_of(genesis(header["ledger"]), header)
    previous = header["mac"]
    out = [stored(header)]
    for seq, event in enumerate(events, start=1):
        if renumber:
            event["seq"] = seq
        event["mac"] = mac_of(previous, event)
        previous = event["mac"]
        out.append(stored(event))
    return out


def check(result: VerifyResult, reason: VerifyReason, line: int | None) -> None:
    assert (result.ok, result.reason, result.line) == (False, reason, line), result.describe()
    assert result.code == reason.value
    assert "\n" not in result.describe()


# --- what a ledger holds -----------------------------------------------------------------


def test_a_ledger_of_scope_reports_verifies(ledger_path: Path) -> None:
    result = verify_ledger(ledger_path, PUBLIC)
    assert result.ok, result.describe()
    assert result.reason is VerifyReason.OK
    assert result.line is None
    assert result.lines_checked == COUNT + 1
    assert result.last_checkpoint == COUNT
    assert result.path == ledger_path
    assert result.describe().startswith(f"{ledger_path}: ok: {COUNT + 1} lines verified")


def test_the_ledger_is_an_audit_sink_that_takes_real_scopes(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "audit.jsonl", signing_key=KEY)
    assert isinstance(ledger, AuditSink)
    purposeful.configure(sinks=[ledger])
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        Case("C-1001", "asthma", "1 Queen St", "notes").diagnosis  # noqa: B018
    ledger.close()
    header, line = documents(tmp_path / "audit.jsonl")
    assert header["type"] == "header"
    assert (line["seq"], line["purpose"], line["actor"], line["role"]) == (
        1,
        CASE_MANAGEMENT,
        "staff-0042",
        "caseworker",
    )
    assert line["decisions"] == [
        {
            "basis": "service-agreement",
            "category": "health",
            "count": 1,
            "field": "diagnosis",
            "outcome": "allowed",
            "reasons": [],
            "record": "Case",
            "sensitivity": "SENSITIVE",
        }
    ]
    assert (line["part"], line["final"], line["fields"]) == (0, True, ["Case.diagnosis"])
    assert len(line["scope"]) == 24
    assert verify_ledger(tmp_path / "audit.jsonl", PUBLIC).ok


def test_lines_follow_the_documented_format(ledger_path: Path) -> None:
    header, *events = documents(ledger_path)
    assert set(header) == {"created", "format", "key", "ledger", "mac", "seq", "type"}
    assert (header["type"], header["format"], header["seq"]) == ("header", LEDGER_FORMAT, 0)
    raw = PUBLIC.public_bytes_raw()
    assert header["key"] == "sha256:" + hashlib.sha256(raw).hexdigest()
    for seq, (event, report) in enumerate(zip(events, REPORTS, strict=True), start=1):
        assert set(event) == {
            *("actor", "decisions", "failed", "fields", "final", "mac", "opened", "part"),
            *("purpose", "reads", "role", "scope", "seq", "subjects", "subjects_count"),
            *("subjects_overflow", "time", "type"),
        }
        assert event["seq"] == seq
        assert event["type"] == "scope"
        assert event["purpose"] == (report.purpose.id if report.purpose else None)
        assert event["time"].endswith("Z")
        assert len(event["decisions"]) == len(report.decisions)
        for written, decision in zip(event["decisions"], report.decisions, strict=True):
            assert written["outcome"] == decision.outcome.value
            assert written["reasons"] == list(decision.reason_codes)
            assert written["sensitivity"] == decision.sensitivity.name
    outcomes = {d["outcome"] for event in events for d in event["decisions"]}
    assert outcomes == {"allowed", "denied", "would-deny", "withheld"}


def test_every_line_is_stored_as_its_canonical_json(ledger_path: Path) -> None:
    for line in lines_of(ledger_path) + lines_of(default_checkpoints_path(ledger_path)):
        assert line == stored(json.loads(line))


def test_the_chain_follows_the_documented_formula(ledger_path: Path) -> None:
    header, *events = documents(ledger_path)
    assert header["mac"] == mac_of(genesis(header["ledger"]), header)
    previous = header["mac"]
    for event in events:
        assert event["mac"] == mac_of(previous, event)
        previous = event["mac"]


def test_checkpoints_sign_the_chain_head_every_n_lines_and_at_close(ledger_path: Path) -> None:
    header, *events = documents(ledger_path)
    heads = {0: header["mac"], **{event["seq"]: event["mac"] for event in events}}
    checkpoints = documents(default_checkpoints_path(ledger_path))
    # the last line fell on a checkpoint: closing signs it again, marked closed
    assert [c["seq"] for c in checkpoints] == [0, 5, 10, 15, 20, 20]
    assert [c.get("closed") for c in checkpoints] == [None] * 5 + [True]
    for checkpoint in checkpoints:
        assert checkpoint["ledger"] == header["ledger"]
        assert checkpoint["head"] == heads[checkpoint["seq"]]
        signature = bytes.fromhex(checkpoint.pop("signature"))
        PUBLIC.verify(signature, b"purposeful-ledger/1 checkpoint\x00" + canonical(checkpoint))


def test_close_writes_a_checkpoint_of_the_last_line(tmp_path: Path) -> None:
    path = write_ledger(tmp_path / "audit.jsonl", count=7)
    checkpoints = documents(default_checkpoints_path(path))
    assert [(c["seq"], c.get("closed")) for c in checkpoints] == [(0, None), (5, None), (7, True)]
    assert verify_ledger(path, PUBLIC).last_checkpoint == 7


def test_the_checkpoint_file_can_live_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    checkpoints = tmp_path / "elsewhere" / "kept.checkpoints"
    path = write_ledger(tmp_path / "audit.jsonl", checkpoints=checkpoints)
    assert not default_checkpoints_path(path).exists()
    assert verify_ledger(path, PUBLIC, checkpoints=checkpoints).ok
    check(verify_ledger(path, PUBLIC), VerifyReason.NO_CHECKPOINTS, None)


def test_checkpoint_on_demand(tmp_path: Path) -> None:
    with Ledger(tmp_path / "audit.jsonl", signing_key=KEY) as ledger:
        ledger.emit(REPORTS[0])
        assert ledger.checkpoint() == 1
        assert ledger.checkpoint() == 1  # nothing new: no second checkpoint of seq 1
        assert ledger.checkpointed == 1
    checkpoints = documents(ledger.checkpoints_path)  # closing marks the ledger closed
    assert [(c["seq"], c.get("closed")) for c in checkpoints] == [(0, None), (1, None), (1, True)]


# --- tampering ----------------------------------------------------------------------------


def test_an_edited_field_names_its_line(ledger_path: Path) -> None:
    lines = lines_of(ledger_path)
    lines[6] = lines[6].replace(b'"role":"caseworker"', b'"role":"supervisor"')
    lines[6] = lines[6].replace(b'"role":"administrator"', b'"role":"supervisor"')
    lines[6] = lines[6].replace(b'"role":"funder-reporting-job"', b'"role":"supervisor"')
    assert b"supervisor" in lines[6]
    ledger_path.write_bytes(b"".join(lines))
    result = verify_ledger(ledger_path, PUBLIC)
    check(result, VerifyReason.EDITED, 7)
    assert result.lines_checked == 6
    assert result.last_checkpoint == COUNT


def test_an_edited_line_with_its_mac_recomputed_breaks_at_the_next_line(
    ledger_path: Path,
) -> None:
    docs = documents(ledger_path)
    docs[6]["failed"] = True
    docs[6]["mac"] = mac_of(docs[5]["mac"], docs[6])
    lines = lines_of(ledger_path)
    lines[6] = stored(docs[6])
    ledger_path.write_bytes(b"".join(lines))
    result = verify_ledger(ledger_path, PUBLIC)
    check(result, VerifyReason.EDITED, 8)
    assert "line 7 was changed and its mac recomputed" in result.message


def test_an_edited_seq_names_its_line(ledger_path: Path) -> None:
    lines = lines_of(ledger_path)
    lines[6] = lines[6].replace(b'"seq":6', b'"seq":9')
    ledger_path.write_bytes(b"".join(lines))
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.EDITED, 7)


def test_a_deleted_line_names_the_line_after_the_gap(ledger_path: Path) -> None:
    lines = lines_of(ledger_path)
    del lines[6]
    ledger_path.write_bytes(b"".join(lines))
    result = verify_ledger(ledger_path, PUBLIC)
    check(result, VerifyReason.DELETED, 7)
    assert "the line of seq 6 was deleted before it" in result.message


def test_two_swapped_lines_are_reordered(ledger_path: Path) -> None:
    lines = lines_of(ledger_path)
    lines[6], lines[7] = lines[7], lines[6]
    ledger_path.write_bytes(b"".join(lines))
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.REORDERED, 7)


def test_distant_swapped_lines_are_reordered(ledger_path: Path) -> None:
    lines = lines_of(ledger_path)
    lines[3], lines[12] = lines[12], lines[3]
    ledger_path.write_bytes(b"".join(lines))
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.REORDERED, 4)


def test_a_forged_line_is_inserted(ledger_path: Path) -> None:
    docs = documents(ledger_path)
    forged = dict(docs[6], actor="staff-9999", mac="0" * 64)
    lines = lines_of(ledger_path)
    lines.insert(6, stored(forged))
    ledger_path.write_bytes(b"".join(lines))
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.INSERTED, 7)


def test_a_forged_line_with_a_valid_mac_is_inserted(ledger_path: Path) -> None:
    docs = documents(ledger_path)
    forged = dict(docs[6], actor="staff-9999")
    forged["mac"] = mac_of(docs[5]["mac"], forged)  # chains to line 6, as a real line would
    lines = lines_of(ledger_path)
    lines.insert(6, stored(forged))
    ledger_path.write_bytes(b"".join(lines))
    result = verify_ledger(ledger_path, PUBLIC)
    check(result, VerifyReason.INSERTED, 7)
    assert result.lines_checked == 6


def test_a_copied_line_is_inserted(ledger_path: Path) -> None:
    lines = lines_of(ledger_path)
    lines.insert(9, lines[3])
    ledger_path.write_bytes(b"".join(lines))
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.INSERTED, 10)


def test_deleting_the_last_lines_is_caught_by_the_last_checkpoint(ledger_path: Path) -> None:
    lines = lines_of(ledger_path)
    ledger_path.write_bytes(b"".join(lines[:-3]))
    result = verify_ledger(ledger_path, PUBLIC)
    check(result, VerifyReason.TRUNCATED, 19)
    assert "the last 3 lines were deleted" in result.message


def test_a_half_written_last_line_is_truncated(ledger_path: Path) -> None:
    data = ledger_path.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    ledger_path.write_bytes(data[: last + (len(data) - last) // 2])
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.TRUNCATED, COUNT + 1)


def test_a_last_line_without_its_newline_is_truncated(ledger_path: Path) -> None:
    ledger_path.write_bytes(ledger_path.read_bytes()[:-1])
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.TRUNCATED, COUNT + 1)


def test_a_rewritten_ledger_with_a_recomputed_chain_fails_against_the_checkpoints(
    ledger_path: Path,
) -> None:
    docs = documents(ledger_path)
    docs[7]["actor"] = "staff-9999"  # seq 7; the next checkpoint is seq 10, on line 11
    ledger_path.write_bytes(b"".join(rechain(docs)))
    result = verify_ledger(ledger_path, PUBLIC)
    check(result, VerifyReason.CHECKPOINT_MISMATCH, 11)
    assert "chain recomputed" in result.message


def test_a_ledger_rewritten_without_a_line_fails_against_the_checkpoints(
    ledger_path: Path,
) -> None:
    docs = documents(ledger_path)
    del docs[12]
    ledger_path.write_bytes(b"".join(rechain(docs)))
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.CHECKPOINT_MISMATCH, 16)


def test_a_rewritten_header_fails_against_the_first_checkpoint(ledger_path: Path) -> None:
    docs = documents(ledger_path)
    docs[0]["created"] = "2020-01-01T00:00:00.000000Z"
    ledger_path.write_bytes(b"".join(rechain(docs)))
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.CHECKPOINT_MISMATCH, 1)


def test_a_replaced_ledger_fails_against_the_checkpoints(tmp_path: Path) -> None:
    path = write_ledger(tmp_path / "audit.jsonl")
    with Ledger(tmp_path / "forged.jsonl", signing_key=ATTACKER) as forged:
        for report in REPORTS:
            forged.emit(report)
    path.write_bytes((tmp_path / "forged.jsonl").read_bytes())
    result = verify_ledger(path, PUBLIC)
    check(result, VerifyReason.CHECKPOINT_MISMATCH, 1)
    assert "another ledger's checkpoints" in result.message


def test_the_wrong_public_key_fails_on_the_first_checkpoint(ledger_path: Path) -> None:
    result = verify_ledger(ledger_path, ATTACKER.public_key())
    check(result, VerifyReason.WRONG_KEY, 1)
    assert result.path == default_checkpoints_path(ledger_path)
    assert "wrong key or forged checkpoint" in result.message
    assert result.describe().startswith(f"{result.path}:1: wrong-key: ")


def test_a_checkpoint_signed_with_another_key_is_forged(ledger_path: Path) -> None:
    checkpoints = default_checkpoints_path(ledger_path)
    forged = {k: v for k, v in documents(checkpoints)[-1].items() if k != "signature"}
    forged["seq"] = COUNT + 5
    forged["signature"] = ATTACKER.sign(
        b"purposeful-ledger/1 checkpoint\x00" + canonical(forged)
    ).hex()
    with checkpoints.open("ab") as file:
        file.write(stored(forged))
    result = verify_ledger(ledger_path, PUBLIC)
    check(result, VerifyReason.WRONG_KEY, 7)  # after the 6 genuine checkpoints
    assert "wrong key or forged checkpoint" in result.message


def test_a_line_that_is_not_json_is_malformed(ledger_path: Path) -> None:
    lines = lines_of(ledger_path)
    lines[9] = b'{"seq": 9, oops\n'
    ledger_path.write_bytes(b"".join(lines))
    result = verify_ledger(ledger_path, PUBLIC)
    check(result, VerifyReason.MALFORMED, 10)
    assert result.message.startswith("line 10 is not JSON")


def test_a_line_that_is_not_canonical_is_malformed(ledger_path: Path) -> None:
    lines = lines_of(ledger_path)
    lines[4] = json.dumps(json.loads(lines[4])).encode() + b"\n"  # same content, with spaces
    ledger_path.write_bytes(b"".join(lines))
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.MALFORMED, 5)


def test_an_empty_line_is_malformed(ledger_path: Path) -> None:
    lines = lines_of(ledger_path)
    lines.insert(3, b"\n")
    ledger_path.write_bytes(b"".join(lines))
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.MALFORMED, 4)


def test_a_file_that_is_not_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("dear diary\n")
    check(verify_ledger(path, PUBLIC), VerifyReason.MALFORMED, 1)
    path.write_text("dear diary")
    check(verify_ledger(path, PUBLIC), VerifyReason.TRUNCATED, 1)
    path.write_text("")  # with no checkpoints: what an interrupted creation leaves
    assert verify_ledger(path, PUBLIC).reason is VerifyReason.NOT_STARTED
    default_checkpoints_path(path).write_text("dear diary\n")
    check(verify_ledger(path, PUBLIC), VerifyReason.TRUNCATED, 1)
    check(verify_ledger(tmp_path / "missing", PUBLIC), VerifyReason.UNREADABLE, None)


def test_a_newer_format_is_unsupported(ledger_path: Path) -> None:
    docs = documents(ledger_path)
    docs[0]["format"] = "purposeful-ledger/3"
    ledger_path.write_bytes(b"".join(rechain(docs)))
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.UNSUPPORTED_FORMAT, 1)


def test_missing_or_empty_checkpoints_fail(ledger_path: Path) -> None:
    checkpoints = default_checkpoints_path(ledger_path)
    checkpoints.write_bytes(b"")
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.NO_CHECKPOINTS, None)
    checkpoints.unlink()
    check(verify_ledger(ledger_path, PUBLIC), VerifyReason.NO_CHECKPOINTS, None)


def test_reordered_checkpoints_are_malformed(ledger_path: Path) -> None:
    checkpoints = default_checkpoints_path(ledger_path)
    lines = lines_of(checkpoints)
    lines[1], lines[2] = lines[2], lines[1]
    checkpoints.write_bytes(b"".join(lines))
    result = verify_ledger(ledger_path, PUBLIC)
    check(result, VerifyReason.CHECKPOINT_MALFORMED, 3)
    assert result.path == checkpoints


def test_deleting_both_tails_together_goes_unnoticed(ledger_path: Path) -> None:
    """The documented limit: the checkpoints must be kept where the attacker cannot reach."""
    checkpoints = default_checkpoints_path(ledger_path)
    ledger_path.write_bytes(b"".join(lines_of(ledger_path)[: 15 + 1]))
    checkpoints.write_bytes(b"".join(lines_of(checkpoints)[:-2]))  # 20, and 20 closed
    result = verify_ledger(ledger_path, PUBLIC)
    assert result.ok
    assert result.last_checkpoint == 15


def test_lines_after_the_last_checkpoint_rest_on_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    ledger = Ledger(path, signing_key=KEY, checkpoint_every=EVERY)
    for report in REPORTS[:7]:
        ledger.emit(report)
    result = verify_ledger(path, PUBLIC)  # while the ledger is still open
    assert result.ok
    assert result.last_checkpoint == 5
    assert "the last 2 lines were written after it, and rest on the chain" in result.describe()
    ledger.close()


# --- every byte matters -------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, bytes]:
    folder = tmp_path_factory.mktemp("flips")
    path = write_ledger(folder / "audit.jsonl", count=6, checkpoint_every=2)
    return folder, path.read_bytes(), default_checkpoints_path(path).read_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_flipping_any_byte_of_the_ledger_names_its_line(
    small_ledger: tuple[Path, bytes, bytes], data: st.DataObject
) -> None:
    folder, ledger, checkpoints = small_ledger
    at = data.draw(st.integers(0, len(ledger) - 1), label="at")
    mask = data.draw(st.integers(1, 255), label="mask")
    flipped = bytearray(ledger)
    flipped[at] ^= mask
    (folder / "flipped.jsonl").write_bytes(bytes(flipped))
    (folder / "flipped.jsonl.checkpoints").write_bytes(checkpoints)
    result = verify_ledger(folder / "flipped.jsonl", PUBLIC)
    assert not result.ok
    assert result.path == folder / "flipped.jsonl"
    assert result.line == ledger.count(b"\n", 0, at) + 1, result.describe()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_flipping_any_byte_of_the_checkpoints_names_its_line(
    small_ledger: tuple[Path, bytes, bytes], data: st.DataObject
) -> None:
    folder, ledger, checkpoints = small_ledger
    at = data.draw(st.integers(0, len(checkpoints) - 1), label="at")
    mask = data.draw(st.integers(1, 255), label="mask")
    flipped = bytearray(checkpoints)
    flipped[at] ^= mask
    (folder / "cp.jsonl").write_bytes(ledger)
    (folder / "cp.jsonl.checkpoints").write_bytes(bytes(flipped))
    result = verify_ledger(folder / "cp.jsonl", PUBLIC)
    assert not result.ok
    assert result.path == folder / "cp.jsonl.checkpoints"
    assert result.line == checkpoints.count(b"\n", 0, at) + 1, result.describe()


# --- no values ----------------------------------------------------------------------------

VALUE_MARK = "\u2603"
SUBJECT_MARK = "\u2604"
marked_values = st.text(min_size=1).map(lambda s: f"{VALUE_MARK}{s}{VALUE_MARK}")
marked_subjects = st.text(min_size=1).map(lambda s: f"{SUBJECT_MARK}{s}{SUBJECT_MARK}")


@settings(max_examples=40, deadline=None)
@given(
    subject=marked_subjects,
    values=st.lists(marked_values, min_size=4, max_size=4),
    mode=st.sampled_from([Mode.ENFORCE, Mode.MONITOR]),
    consent=st.booleans(),
)
def test_nothing_in_the_ledger_holds_a_value_or_a_subject_id(
    subject: str, values: list[str], mode: Mode, consent: bool
) -> None:
    record = Case(subject, *values)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.jsonl"
        ledger = Ledger(path, signing_key=KEY, checkpoint_every=3, fsync="checkpoint")
        checker = AlwaysConsent() if consent else NeverConsent()
        with purposeful.configured(sinks=[ledger], mode=mode, consent=checker):
            for purpose in PURPOSES:
                for actor in ACTORS:
                    with use(purpose, actor=actor):
                        for name in ("client_id", "diagnosis", "address", "case_notes"):
                            with contextlib.suppress(PurposeViolation):
                                getattr(record, name)
                    project(record, purpose, actor=actor)
            with contextlib.suppress(PurposeViolation):
                record.diagnosis  # noqa: B018 - a read outside any scope is reported alone
        ledger.close()
        written = path.read_bytes() + default_checkpoints_path(path).read_bytes()
        assert verify_ledger(path, PUBLIC).ok
    text = written.decode("ascii")
    for mark in (VALUE_MARK, SUBJECT_MARK):
        assert mark not in text
        assert json.dumps(mark)[1:-1] not in text  # the escaped form, \u2603
    for secret in (subject, *values):
        assert json.dumps(secret)[1:-1] not in text


# --- threads, processes, reopening ------------------------------------------------------


@pytest.mark.parametrize("fsync", ["always", "checkpoint"])
def test_eight_threads_appending_at_once_keep_every_line_and_the_chain(
    tmp_path: Path, fsync: Any
) -> None:
    path = tmp_path / "audit.jsonl"
    ledger = Ledger(path, signing_key=KEY, checkpoint_every=16, fsync=fsync)
    per_thread = 40
    start = threading.Barrier(8)

    def append(number: int) -> None:
        actor = Actor(f"staff-{number}", "caseworker", CASEWORKER.clearance)
        report = ScopeReport(None, actor, REPORTS[0].opened_at, REPORTS[0].closed_at, ())
        start.wait()
        for _ in range(per_thread):
            ledger.emit(report)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ledger.close()
    _header, *events = documents(path)
    assert [e["seq"] for e in events] == list(range(1, 8 * per_thread + 1))
    assert Counter(e["actor"] for e in events) == {f"staff-{n}": per_thread for n in range(8)}
    result = verify_ledger(path, PUBLIC)
    assert result.ok, result.describe()
    assert result.last_checkpoint == 8 * per_thread


def test_reopening_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with Ledger(path, signing_key=KEY, checkpoint_every=4) as first:
        for report in REPORTS[:5]:
            first.emit(report)
    with Ledger(path, signing_key=KEY, checkpoint_every=4) as second:
        assert (second.ledger_id, second.seq, second.checkpointed) == (first.ledger_id, 5, 5)
        for report in REPORTS[5:11]:
            second.emit(report)
    # closed at 5, reopened at 5 before the first new line, closed again at 11
    checkpoints = documents(second.checkpoints_path)
    assert [(c["seq"], c.get("closed")) for c in checkpoints] == [
        (0, None),
        (4, None),
        (5, True),
        (5, None),
        (8, None),
        (11, True),
    ]
    assert [d["seq"] for d in documents(path)] == list(range(12))
    result = verify_ledger(path, PUBLIC)
    assert result.ok, result.describe()
    assert result.lines_checked == 12


def test_reopening_a_ledger_with_only_its_header(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    Ledger(path, signing_key=KEY).close()
    with Ledger(path, signing_key=KEY) as ledger:
        assert ledger.seq == 0
        ledger.emit(REPORTS[0])
    assert verify_ledger(path, PUBLIC).ok


CRASHING_WRITER = """
import os, sys
from datetime import UTC, datetime
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from purposeful import SENSITIVE, Actor, ScopeReport
from purposeful.audit.ledger import Ledger
key = load_pem_private_key(sys.stdin.buffer.read(), None)
ledger = Ledger(sys.argv[1], signing_key=key, checkpoint_every=5)
now = datetime.now(UTC)
for _ in range(7):
    ledger.emit(ScopeReport(None, Actor("staff-1", "caseworker", SENSITIVE), now, now, ()))
os._exit(0)  # stop without closing: no final checkpoint
"""


def test_reopening_after_a_crash_without_a_final_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    pem = KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    run = subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, str(path)],
        input=pem,
        capture_output=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr.decode()
    result = verify_ledger(path, PUBLIC)
    assert result.ok
    assert result.last_checkpoint == 5
    with Ledger(path, signing_key=KEY, checkpoint_every=5) as ledger:
        assert (ledger.seq, ledger.checkpointed) == (7, 5)
        ledger.emit(REPORTS[0])
    assert verify_ledger(path, PUBLIC).last_checkpoint == 8


def test_reopening_a_ledger_whose_checkpointed_last_line_was_cut_is_refused(
    ledger_path: Path,
) -> None:
    """A checkpoint signed the last line whole: cutting it is no crash, and is not recovered
    (a torn line after the last checkpoint is: tests/audit/test_ledger_recovery.py)."""
    data = ledger_path.read_bytes()
    ledger_path.write_bytes(data[:-40])
    with pytest.raises(LedgerCorrupt, match=r"does not reach its last checkpoint.*audit verify"):
        Ledger(ledger_path, signing_key=KEY)
    assert ledger_path.read_bytes() == data[:-40]  # nothing written
    assert sorted(path.name for path in ledger_path.parent.iterdir()) == [
        "audit.jsonl",
        "audit.jsonl.checkpoints",
    ]  # nothing set aside


def test_reopening_a_ledger_whose_last_line_is_damaged_is_refused(ledger_path: Path) -> None:
    lines = lines_of(ledger_path)
    lines[-1] = b"not json\n"
    ledger_path.write_bytes(b"".join(lines))
    with pytest.raises(LedgerCorrupt, match=r"last line of the ledger .* is damaged"):
        Ledger(ledger_path, signing_key=KEY)


def test_reopening_a_ledger_shorter_than_its_checkpoints_is_refused(ledger_path: Path) -> None:
    ledger_path.write_bytes(b"".join(lines_of(ledger_path)[:-2]))
    with pytest.raises(LedgerCorrupt, match="does not reach its last checkpoint"):
        Ledger(ledger_path, signing_key=KEY)


def test_reopening_with_another_key_is_refused(ledger_path: Path) -> None:
    with pytest.raises(LedgerKeyMismatch, match="is signed with the key sha256:"):
        Ledger(ledger_path, signing_key=ATTACKER)


def test_reopening_a_file_that_is_not_a_ledger_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("dear diary\n")
    with pytest.raises(LedgerCorrupt, match="is not a purposeful ledger"):
        Ledger(path, signing_key=KEY)
    assert path.read_text() == "dear diary\n"


def test_an_emptied_ledger_with_checkpoints_is_refused(ledger_path: Path) -> None:
    ledger_path.write_bytes(b"")
    with pytest.raises(LedgerCorrupt, match="is empty, but its checkpoint file"):
        Ledger(ledger_path, signing_key=KEY)
    assert ledger_path.read_bytes() == b""


def test_a_closed_ledger_refuses_to_emit(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "audit.jsonl", signing_key=KEY)
    ledger.close()
    ledger.close()  # closing twice does nothing
    assert ledger.closed
    with pytest.raises(LedgerClosed, match="is closed"):
        ledger.emit(REPORTS[0])
    with pytest.raises(LedgerClosed):
        ledger.checkpoint()


def test_a_second_ledger_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with (
        Ledger(path, signing_key=KEY),
        pytest.raises(LedgerLocked, match="already open for appending"),
    ):
        Ledger(path, signing_key=KEY)
    Ledger(path, signing_key=KEY).close()  # free again once closed


def test_a_second_process_is_refused_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    code = (
        "import sys\n"
        "from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey\n"
        "from purposeful.audit.ledger import Ledger\n"
        "from purposeful.errors import LedgerLocked\n"
        "try:\n"
        "    Ledger(sys.argv[1], signing_key=Ed25519PrivateKey.generate()).close()\n"
        "except LedgerLocked:\n"
        "    print('locked')\n"
        "else:\n"
        "    print('opened')\n"
    )

    def other_process() -> str:
        run = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    with Ledger(path, signing_key=KEY) as ledger:
        ledger.emit(REPORTS[0])
        before = path.read_bytes()
        assert other_process() == "locked"
        assert path.read_bytes() == before
    assert verify_ledger(path, PUBLIC).ok


# --- durability ---------------------------------------------------------------------------


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


def test_fsync_always_forces_every_line(tmp_path: Path, fsyncs: list[int]) -> None:
    with Ledger(tmp_path / "audit.jsonl", signing_key=KEY, checkpoint_every=100) as ledger:
        fsyncs.clear()
        for report in REPORTS[:10]:
            ledger.emit(report)
        assert len(fsyncs) == 10


def test_fsync_checkpoint_forces_only_at_checkpoints(tmp_path: Path, fsyncs: list[int]) -> None:
    path = tmp_path / "audit.jsonl"
    with Ledger(path, signing_key=KEY, checkpoint_every=5, fsync="checkpoint") as ledger:
        fsyncs.clear()
        for report in REPORTS[:4]:
            ledger.emit(report)
        assert fsyncs == []
        assert len(lines_of(path)) == 5  # handed to the system at once: survives a crash
        ledger.emit(REPORTS[4])
        assert len(fsyncs) == 2  # the ledger, then the checkpoint file
    assert verify_ledger(path, PUBLIC).ok


def test_a_failed_write_is_cut_back_and_the_ledger_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    ledger = Ledger(path, signing_key=KEY)
    ledger.emit(REPORTS[0])
    before = path.read_bytes()
    real_write = os.write

    def half_then_fail(fd: int, data: Any) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_fail)
    with pytest.raises(LedgerError, match=r"No space left on device.*nothing of it was kept"):
        ledger.emit(REPORTS[1])
    monkeypatch.setattr(os, "write", real_write)
    assert path.read_bytes() == before
    ledger.emit(REPORTS[1])
    ledger.close()
    assert [d["seq"] for d in documents(path)] == [0, 1, 2]
    assert verify_ledger(path, PUBLIC).ok


# --- arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"signing_key": PUBLIC},
        {"signing_key": b"secret"},
        {"signing_key": KEY, "checkpoint_every": 0},
        {"signing_key": KEY, "checkpoint_every": 1.5},
        {"signing_key": KEY, "fsync": "never"},
    ],
    ids=["public-key", "bytes", "zero", "float", "fsync"],
)
def test_wrong_arguments_are_configuration_errors(tmp_path: Path, options: Any) -> None:
    with pytest.raises(ConfigurationError):
        Ledger(tmp_path / "audit.jsonl", **options)
    assert not (tmp_path / "audit.jsonl").exists()


def test_verify_needs_a_public_key(ledger_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Ed25519PublicKey"):
        verify_ledger(ledger_path, KEY)  # type: ignore[arg-type]


def test_a_missing_directory_is_a_ledger_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="check that its directory exists"):
        Ledger(tmp_path / "nowhere" / "audit.jsonl", signing_key=KEY)


# --- formats: a purposeful-ledger/1 file is continued, after a format line -----------------


def _as_version_1(path: Path) -> None:
    """Rewrite *path* as an older version wrote it: a /1 header and /1 scope lines (no scope
    id, part, fields, reads or counts), chained and checkpointed again."""
    docs = documents(path)
    docs[0]["format"] = "purposeful-ledger/1"
    for doc in docs[1:]:
        for key in ("scope", "part", "final", "fields", "reads"):
            doc.pop(key, None)
        for decision in doc["decisions"]:
            decision.pop("count", None)
    lines = rechain(docs)
    path.write_bytes(b"".join(lines))
    checkpoints = default_checkpoints_path(path)
    checkpoint = {k: v for k, v in documents(checkpoints)[-1].items() if k != "signature"}
    last = json.loads(lines[-1])
    checkpoint.update(seq=last["seq"], head=last["mac"])
    checkpoint.pop("closed", None)
    checkpoint["signature"] = KEY.sign(
        b"purposeful-ledger/1 checkpoint\x00" + canonical(checkpoint)
    ).hex()
    checkpoints.write_bytes(stored(checkpoint))  # signed again, as the older version signed
    ledger = Ledger(path, signing_key=KEY)
    ledger.close()


def test_a_version_1_ledger_is_continued_after_a_format_line(ledger_path: Path) -> None:
    _as_version_1(ledger_path)
    before = documents(ledger_path)
    assert before[0]["format"] == "purposeful-ledger/1"
    marker = before[-1]
    assert (marker["type"], marker["format"]) == ("format", LEDGER_FORMAT)
    with Ledger(ledger_path, signing_key=KEY) as ledger:  # opened again: no second marker
        ledger.emit(REPORTS[0])
    after = documents(ledger_path)
    assert after[: len(before)] == before
    assert [doc["type"] for doc in after[len(before) :]] == ["scope"]
    assert {"reads", "scope"} <= set(after[-1])
    assert verify_ledger(ledger_path, PUBLIC).ok
    with Ledger(ledger_path, signing_key=KEY):
        pass
    assert len(documents(ledger_path)) == len(after)  # already /2 at its end: no marker


def test_a_ledger_line_says_per_person_which_fields_were_read(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "audit.jsonl", signing_key=KEY)
    purposeful.configure(sinks=[ledger], pseudonymise=lambda subject: f"k1:{subject[::2]}x")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        first, second = Case("C-1001", "asthma", "1 Queen St", "n"), Case("C-2002", "", "", "")
        _ = first.diagnosis, first.address, second.address
    ledger.close()
    _, line = documents(tmp_path / "audit.jsonl")
    assert line["fields"] == ["Case.address", "Case.diagnosis"]
    by_person = dict(zip(line["subjects"], line["reads"], strict=True))
    assert by_person == {"k1:C10x": [0, 1], "k1:C20x": [0]}
