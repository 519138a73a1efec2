"""The ledger's verifier as it was before lines were read by shape: the reference that
`verify_ledger` must agree with, finding for finding (tests/audit/test_ledger_same_verdicts.py).

It is the old module, with the old way of reading a chained line (`reference_chained_entry`:
decode in full, canonical form checked by encoding again) in place of
`purposeful.audit.ledger.format.chained_entry`; it has learnt since what the verifier learnt
about lines, not about reading them: recovery lines (and their notes), and a ledger whose
creation a crash interrupted (``not-started``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from purposeful.audit.conventions import LEDGER_FORMATS, LedgerKey, LineType
from purposeful.audit.ledger import VerifyReason, VerifyResult
from purposeful.audit.ledger.files import side_file_state
from purposeful.audit.ledger.format import (
    Entry,
    canonical,
    checkpoint_message,
    decode,
    default_checkpoints_path,
    entry_of,
    genesis,
    interrupted_creation,
    is_mac,
    is_signature,
    key_digest,
)
from purposeful.errors import ConfigurationError

__all__ = ["reference_chained_entry", "reference_verify"]


def reference_chained_entry(raw: bytes) -> Entry | str:
    """The entry of a line after the header, or what is wrong with it: the old way."""
    document = decode(raw)
    if isinstance(document, str):
        return document
    kinds = (LineType.SCOPE, LineType.FORMAT, LineType.RECOVERY, LineType.DISPOSAL)
    if document.get(LedgerKey.TYPE) not in kinds:
        return "is not a scope, format, recovery or disposal line"
    entry = entry_of(document)
    if entry is None:
        return "lacks a valid seq or mac"
    return entry


chained_entry = reference_chained_entry

#: How many lines after the first broken one `verify_ledger` reads to tell an edit from a
#: deletion, an insertion or a reordering.
_LOOKAHEAD: Final = 10_000


def reference_verify(
    path: str | os.PathLike[str],
    public_key: Ed25519PublicKey,
    *,
    checkpoints: str | os.PathLike[str] | None = None,
) -> VerifyResult:
    """Check a ledger's chain and its signed checkpoints; name the first line that breaks.

    Needs no secret: the chain is checked from the header on, each checkpoint's signature
    with *public_key*, and the chain head at each checkpointed line against the checkpoint.
    Verify a closed ledger, or a copy of both files. A ledger that is being written to can be
    verified too, but a line caught half-written shows as ``truncated``: verify again.

    Args:
        path: the ledger file.
        public_key: the public half of the key the ledger signs its checkpoints with.
        checkpoints: the checkpoint file; default: `default_checkpoints_path` of *path*. Pass
            the copy kept elsewhere when there is one.

    Raises:
        ConfigurationError: *public_key* is not an Ed25519 public key. Every problem with the
            files themselves is reported in the result, never raised.
    """
    if not isinstance(public_key, Ed25519PublicKey):
        raise ConfigurationError(
            f"verify_ledger() takes an Ed25519PublicKey (see purposeful.audit."
            f"load_public_key), not {type(public_key).__name__}"
        )
    checkpoints_path = (
        Path(checkpoints) if checkpoints is not None else default_checkpoints_path(path)
    )
    return _Verifier(Path(path), checkpoints_path, public_key).run()


@attrs.frozen
class _Header:
    ledger_id: str
    key: object
    mac: str


@attrs.frozen
class _Checkpoint:
    line: int
    seq: int
    head: str
    closed: bool = False


def _closed_at(checkpoints: list[_Checkpoint]) -> _Checkpoint | None:
    """The first checkpoint that closed the ledger and was not followed by a reopening
    (a checkpoint of the same seq that does not close it): no line may follow it."""
    for checkpoint, after in itertools.zip_longest(checkpoints, checkpoints[1:]):
        if checkpoint.closed and not (
            after is not None and after.seq == checkpoint.seq and not after.closed
        ):
            return checkpoint
    return None


class _Verifier:
    """One run of `verify_ledger`; it keeps the counts the result reports."""

    def __init__(self, path: Path, checkpoints: Path, public_key: Ed25519PublicKey) -> None:
        self.path = path
        self.checkpoints = checkpoints
        self.public_key = public_key
        self.fingerprint = key_digest(public_key)
        self.checked = 0
        self.last_checkpoint: int | None = None
        self.notes: list[str] = []

    def result(
        self, reason: VerifyReason, message: str, line: int | None, path: Path | None = None
    ) -> VerifyResult:
        return VerifyResult(
            ok=reason in (VerifyReason.OK, VerifyReason.NOT_STARTED),
            reason=reason,
            message=message,
            path=path if path is not None else self.path,
            line=line,
            lines_checked=self.checked,
            last_checkpoint=self.last_checkpoint,
            notes=tuple(self.notes),
        )

    def run(self) -> VerifyResult:
        try:
            with self.path.open("rb") as file:
                return self.walk(iter(file))
        except OSError as exc:
            return self.result(
                VerifyReason.UNREADABLE,
                f"cannot read the ledger ({exc.strerror}); check the path and permissions",
                None,
            )

    def walk(self, lines: Iterator[bytes]) -> VerifyResult:
        raw = next(lines, b"")
        header = self.header(raw)
        if isinstance(header, VerifyResult):
            return header
        self.checked = 1
        found = self.load_checkpoints(header)
        if isinstance(found, VerifyResult):
            if found.reason is VerifyReason.NO_CHECKPOINTS and next(lines, None) is None:
                return self.result(
                    VerifyReason.NOT_STARTED,
                    f"the ledger holds only its header, and {self.checkpoints} no checkpoint: "
                    f"it was created, and the process stopped before its first checkpoint. "
                    f"Nothing was recorded in it; the next Ledger() open signs it",
                    None,
                )
            return found
        by_seq = {checkpoint.seq: checkpoint for checkpoint in found}
        of_header = by_seq.get(0)
        if of_header is not None and of_header.head != header.mac:
            return self.mismatch(1, 0, of_header)
        closed = _closed_at(found)
        expected, previous, before = 1, header.mac, ""
        for number, raw in enumerate(lines, start=2):
            if not raw.endswith(b"\n"):
                return self.partial(number)
            entry = chained_entry(raw[:-1])
            if isinstance(entry, str):
                return self.result(VerifyReason.MALFORMED, f"line {number} {entry}", number)
            if entry.seq != expected or not entry.chains_from(previous):
                return self.diagnose(number, entry, expected, previous, before, lines)
            if closed is not None and entry.seq > closed.seq:
                return self.after_close(number, entry.seq, closed, lines)
            checkpoint = by_seq.get(entry.seq)
            if checkpoint is not None and checkpoint.head != entry.mac:
                return self.mismatch(number, entry.seq, checkpoint)
            document = decode(raw[:-1])
            if isinstance(document, dict) and document.get(LedgerKey.TYPE) == LineType.RECOVERY:
                self.note_recovery(number, raw)
            before, previous = previous, entry.mac
            expected += 1
            self.checked += 1
        last = expected - 1
        newest = found[-1]
        if newest.seq > last:
            return self.result(
                VerifyReason.TRUNCATED,
                f"the ledger ends at seq {last} (line {last + 1}), but the signed checkpoint "
                f"on line {newest.line} of {self.checkpoints} covers seq {newest.seq}: "
                f"{_lines(newest.seq - last)} deleted",
                last + 2,
            )
        after = last - newest.seq
        rest = (
            f"; {_lines(after)} written after it, and rest on the chain alone "
            f"until the next checkpoint"
            if after
            else ""
        )
        marked = " and marks the ledger closed" if newest.closed else ""
        recovered = (
            f"; {_count(len(self.notes), 'recovery line records', 'recovery lines record')} "
            f"a torn line set aside after a crash (see the notes)"
            if self.notes
            else ""
        )
        return self.result(
            VerifyReason.OK,
            f"{self.checked} lines verified (the header and seq 1 to {last}); the newest "
            f"signed checkpoint covers seq {newest.seq}{marked}{rest}{recovered}",
            None,
        )

    def note_recovery(self, number: int, raw: bytes) -> None:
        line = decode(raw[:-1])
        assert isinstance(line, dict)
        name, size, sha256, torn_seq = (
            line.get(key)
            for key in (LedgerKey.FILE, LedgerKey.SIZE, LedgerKey.SHA256, LedgerKey.TORN_SEQ)
        )
        state = side_file_state(self.path, name, size, sha256)
        self.notes.append(
            f"line {number} records that a writer, opening the ledger after a crash, set "
            f"aside a torn last line ({size!r} bytes, which would have been seq "
            f"{torn_seq!r}) to {name!r} beside the ledger; {state}"
        )

    def unstarted(self, raw: bytes) -> VerifyResult | None:
        try:
            data = self.checkpoints.read_bytes() if self.checkpoints.exists() else b""
        except OSError:
            return None
        if not data and not raw:
            return self.result(
                VerifyReason.NOT_STARTED,
                f"the ledger is empty and {self.checkpoints} holds no checkpoint: it was "
                f"created, and the process stopped before its header. Nothing was recorded "
                f"in it; the next Ledger() open writes its header and signs it",
                None,
            )
        header = interrupted_creation(data, self.public_key) if data else None
        if header is None or not (canonical(header) + b"\n").startswith(raw):
            return None
        self.last_checkpoint = 0
        return self.result(
            VerifyReason.NOT_STARTED,
            f"the ledger {'is empty' if not raw else 'holds the start of its header'}, and "
            f"{self.checkpoints} holds the signed checkpoint of that header alone: it was "
            f"created, and the process stopped before its header was written. Nothing was "
            f"recorded in it; the next Ledger() open writes its header",
            None,
        )

    def after_close(
        self, number: int, seq: int, closed: _Checkpoint, lines: Iterator[bytes]
    ) -> VerifyResult:
        more = sum(1 for _ in lines)
        following = f", and {_count(more, 'line follows', 'lines follow')} it" if more else ""
        return self.result(
            VerifyReason.WRITTEN_AFTER_CLOSE,
            f"line {number} (seq {seq}) was written after the ledger was closed{following}: "
            f"the signed checkpoint on line {closed.line} of {self.checkpoints} closed it at "
            f"seq {closed.seq}, and no writer signed its reopening. A Ledger opening a closed "
            f"ledger does, before its first line: these lines were added by something else",
            number,
        )

    def header(self, raw: bytes) -> _Header | VerifyResult:
        if not raw.endswith(b"\n"):
            unstarted = self.unstarted(raw)
            if unstarted is not None:
                return unstarted
        if not raw:
            return self.result(
                VerifyReason.TRUNCATED,
                "the ledger is empty: a ledger starts with its header line",
                1,
            )
        if not raw.endswith(b"\n"):
            return self.partial(1)
        parsed = decode(raw[:-1])
        if isinstance(parsed, str):
            return self.result(VerifyReason.MALFORMED, f"line 1 (the header) {parsed}", 1)
        if parsed.get(LedgerKey.TYPE) != LineType.HEADER:
            return self.result(
                VerifyReason.MALFORMED,
                "line 1 is not a ledger header: this is not a purposeful ledger",
                1,
            )
        if parsed.get(LedgerKey.FORMAT) not in LEDGER_FORMATS:
            return self.result(
                VerifyReason.UNSUPPORTED_FORMAT,
                f"the header says format {parsed.get(LedgerKey.FORMAT)!r}; this version of "
                f"purposeful reads {' and '.join(map(repr, LEDGER_FORMATS))}: upgrade "
                f"purposeful to verify it",
                1,
            )
        entry = entry_of(parsed)
        ledger_id = parsed.get(LedgerKey.LEDGER)
        if entry is None or entry.seq != 0 or not isinstance(ledger_id, str):
            return self.result(
                VerifyReason.MALFORMED, "line 1 (the header) lacks its ledger id, seq or mac", 1
            )
        if not entry.chains_from(genesis(ledger_id).hex()):
            return self.result(
                VerifyReason.EDITED,
                "line 1 (the header) does not match its mac: it was changed after it was written",
                1,
            )
        return _Header(ledger_id, parsed.get(LedgerKey.KEY), entry.mac)

    def load_checkpoints(self, header: _Header) -> list[_Checkpoint] | VerifyResult:
        where = self.checkpoints
        try:
            file = where.open("rb")
        except FileNotFoundError:
            return self.result(
                VerifyReason.NO_CHECKPOINTS,
                f"there is no checkpoint file at {where}; without the signed checkpoints a "
                f"ledger rewritten with a recomputed chain cannot be told apart. Pass "
                f"checkpoints= the copy kept elsewhere",
                None,
            )
        except OSError as exc:
            return self.result(
                VerifyReason.UNREADABLE,
                f"cannot read the checkpoint file {where} ({exc.strerror})",
                None,
            )
        found: list[_Checkpoint] = []
        with file:
            for number, raw in enumerate(file, start=1):
                checkpoint = self.checkpoint(number, raw, header)
                if isinstance(checkpoint, VerifyResult):
                    return checkpoint
                if found and checkpoint.seq == found[-1].seq:
                    if checkpoint.head != found[-1].head:
                        return self.result(
                            VerifyReason.CHECKPOINT_MALFORMED,
                            f"checkpoint line {number} covers seq {checkpoint.seq} like the "
                            f"line before, with another chain head: the two disagree",
                            number,
                            where,
                        )
                elif found and checkpoint.seq < found[-1].seq:
                    return self.result(
                        VerifyReason.CHECKPOINT_MALFORMED,
                        f"checkpoint line {number} covers seq {checkpoint.seq}, not after "
                        f"seq {found[-1].seq} of the line before: the checkpoint file was "
                        f"reordered",
                        number,
                        where,
                    )
                found.append(checkpoint)
                self.last_checkpoint = checkpoint.seq
        if not found:
            return self.result(
                VerifyReason.NO_CHECKPOINTS,
                f"the checkpoint file {where} is empty; a ledger writes its first checkpoint "
                f"when it is created. Pass checkpoints= the copy kept elsewhere",
                None,
            )
        return found

    def checkpoint(self, number: int, raw: bytes, header: _Header) -> _Checkpoint | VerifyResult:
        where = self.checkpoints

        def broken(problem: str) -> VerifyResult:
            return self.result(
                VerifyReason.CHECKPOINT_MALFORMED,
                f"checkpoint line {number} {problem}",
                number,
                where,
            )

        if not raw.endswith(b"\n"):
            return broken("is incomplete (no end of line): the checkpoint file was cut")
        parsed = decode(raw[:-1])
        if isinstance(parsed, str):
            return broken(parsed)
        seq, head, ledger_id, signature = (
            parsed.get(name)
            for name in (LedgerKey.SEQ, LedgerKey.HEAD, LedgerKey.LEDGER, LedgerKey.SIGNATURE)
        )
        closed = parsed.get(LedgerKey.CLOSED)
        if closed is not None and closed is not True:
            return broken("has a 'closed' that is not true")
        if (
            parsed.get(LedgerKey.TYPE) != LineType.CHECKPOINT
            or type(seq) is not int
            or seq < 0
            or not isinstance(head, str)
            or not is_mac(head)
            or not isinstance(ledger_id, str)
            or not isinstance(signature, str)
            or not is_signature(signature)
        ):
            return broken("is not a checkpoint: it lacks its seq, head, ledger id or signature")
        signed = {name: value for name, value in parsed.items() if name != LedgerKey.SIGNATURE}
        try:
            self.public_key.verify(bytes.fromhex(signature), checkpoint_message(signed))
        except InvalidSignature:
            named = (
                f"; the ledger's header names the key {header.key}"
                if header.key != self.fingerprint
                else ""
            )
            return self.result(
                VerifyReason.WRONG_KEY,
                f"the signature of checkpoint line {number} does not verify with the public "
                f"key given ({self.fingerprint}): wrong key or forged checkpoint{named}",
                number,
                where,
            )
        if ledger_id != header.ledger_id:
            return self.result(
                VerifyReason.CHECKPOINT_MISMATCH,
                f"the checkpoints in {where} are for ledger {ledger_id}, but this ledger's "
                f"header says {header.ledger_id}: the ledger was replaced, or these are "
                f"another ledger's checkpoints",
                1,
            )
        return _Checkpoint(number, seq, head, closed is True)

    def mismatch(self, number: int, seq: int, checkpoint: _Checkpoint) -> VerifyResult:
        what = "the header" if seq == 0 else f"seq {seq}"
        return self.result(
            VerifyReason.CHECKPOINT_MISMATCH,
            f"line {number} ({what}) chains correctly but does not match the signed "
            f"checkpoint on line {checkpoint.line} of {self.checkpoints}: the ledger was "
            f"changed at or before this line and its chain recomputed",
            number,
        )

    def partial(self, number: int) -> VerifyResult:
        covered = (
            f"; it comes after the newest checkpoint (seq {self.last_checkpoint}), so if a "
            f"writer was killed while writing it, the lines before it are intact, and the "
            f"next Ledger() open sets it aside to a side file and goes on"
            if self.last_checkpoint is not None and number - 1 > self.last_checkpoint
            else ""
        )
        return self.result(
            VerifyReason.TRUNCATED,
            f"line {number} is incomplete (no end of line): the file was cut, by a crash "
            f"mid-write or on purpose{covered}",
            number,
        )

    def diagnose(
        self,
        number: int,
        entry: Entry,
        expected: int,
        previous: str,
        before: str,
        lines: Iterator[bytes],
    ) -> VerifyResult:
        """Tell why line *number* breaks the chain, looking at the lines after it."""
        following: list[tuple[int, Entry]] = []
        for offset, raw in enumerate(itertools.islice(lines, _LOOKAHEAD), start=1):
            parsed = chained_entry(raw[:-1]) if raw.endswith(b"\n") else "is incomplete"
            if not isinstance(parsed, str):
                following.append((number + offset, parsed))
        after = following[0][1] if following and following[0][0] == number + 1 else None
        later: dict[int, tuple[int, Entry]] = {}
        for line, found in following:
            later.setdefault(found.seq, (line, found))
        seq = entry.seq

        def verdict(reason: VerifyReason, message: str, line: int = number) -> VerifyResult:
            return self.result(reason, message, line)

        if seq == expected:
            if after is not None and after.seq == seq and after.chains_from(previous):
                return verdict(
                    VerifyReason.INSERTED,
                    f"line {number} was inserted: the next line holds seq {seq} too and "
                    f"chains to line {number - 1}, and this one does not",
                )
            return verdict(
                VerifyReason.EDITED,
                f"line {number} (seq {seq}) does not match its mac: it was changed after it "
                f"was written (or line {number - 1} was changed and its mac recomputed)",
            )
        if after is not None and after.seq == expected + 1 and after.chains_from(entry.mac):
            return verdict(
                VerifyReason.EDITED,
                f"line {number} says seq {seq} where seq {expected} belongs, and the next "
                f"line chains to it: line {number} was changed after it was written",
            )
        if seq < expected:
            if seq == expected - 1 and before and entry.chains_from(before):
                self.checked -= 1
                return verdict(
                    VerifyReason.INSERTED,
                    f"line {number - 1} was inserted: line {number} holds seq {seq} again and "
                    f"chains to line {number - 2}, so line {number - 1} is not part of the "
                    f"ledger",
                    number - 1,
                )
            return verdict(
                VerifyReason.INSERTED,
                f"line {number} holds seq {seq}, which line {seq + 1} already holds: a copy "
                f"or a forgery was inserted",
            )
        behind = later.get(seq - 1)
        if behind is not None and entry.chains_from(behind[1].mac):
            return verdict(
                VerifyReason.REORDERED,
                f"line {number} holds seq {seq} where seq {expected} belongs; it chains to "
                f"line {behind[0]} (seq {seq - 1}): lines were reordered",
            )
        if after is not None and after.seq == expected and after.chains_from(previous):
            return verdict(
                VerifyReason.INSERTED,
                f"line {number} was inserted: the next line holds seq {expected} and chains "
                f"to line {number - 1}, and this one (seq {seq}) does not",
            )
        if expected in later:
            return verdict(
                VerifyReason.REORDERED,
                f"line {number} holds seq {seq} where seq {expected} belongs, and seq "
                f"{expected} is at line {later[expected][0]}: lines were reordered",
            )
        return verdict(
            VerifyReason.DELETED,
            f"line {number} holds seq {seq} where seq {expected} belongs: "
            f"{_lines(seq - expected, first=expected)} deleted before it",
        )


def _count(count: int, one: str, many: str) -> str:
    return f"1 {one}" if count == 1 else f"{count} {many}"


def _lines(count: int, *, first: int | None = None) -> str:
    """'the last line was', 'the last 3 lines were', 'the line of seq 6 was', 'the 3 lines of
    seq 6 to 8 were'."""
    if first is None:
        return "the last line was" if count == 1 else f"the last {count} lines were"
    if count == 1:
        return f"the line of seq {first} was"
    return f"the {count} lines of seq {first} to {first + count - 1} were"
