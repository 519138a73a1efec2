"""The ledger's verifier: `verify_ledger` names the first line of a ledger that breaks.

It checks the chain from the header on, each checkpoint's signature with the public key,
the chain head at each checkpointed line against the checkpoint, and that no line follows
a checkpoint that closed the ledger unless a writer signed its reopening (what the lines
and the constructions are: `purposeful.audit.ledger.format`). When a line breaks, it reads on a
little to tell an edit from a deletion, an insertion or a reordering.

Asked to, it leaves an index of what it verified beside the ledger
(`purposeful.audit.ledger.index`), and it can go on from such an index's checkpoint
(`verify_from`), verifying only what follows it.

Two states a crash leaves are not failures. A ledger whose creation a crash interrupted
holds nothing (``not-started``), and a ``recovery`` line, which a writer adds after setting a
torn last line aside (`purposeful.audit.ledger.files`), is a member of the chain like any
other: each one is reported as a note.

What this module must not do: need the private key; write to either file (the index is a
third); raise for a problem with the files (every one is a `VerifyResult`); say a ledger
is whole when any byte of it changed; index lines it has not verified.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Final

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ...errors import ConfigurationError, LedgerIndexError
from ..conventions import LEDGER_FORMATS, LedgerKey, LineType
from .files import side_file_state
from .format import (
    Entry,
    canonical,
    chained_entry,
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
from .index import IndexBuilder, Mark

__all__ = ["VerifyReason", "VerifyResult", "verify_from", "verify_ledger"]

#: How many lines after the first broken one `verify_ledger` reads to tell an edit from a
#: deletion, an insertion or a reordering.
_LOOKAHEAD: Final = 10_000


class VerifyReason(enum.Enum):
    """What `verify_ledger` found; the value is the stable machine-readable code."""

    OK = "ok"
    """Every line chains to the one before and matches every signed checkpoint."""
    MALFORMED = "malformed"
    """A line is not JSON, not in canonical form, or lacks its seq or mac."""
    UNSUPPORTED_FORMAT = "unsupported-format"
    """The header names a format this version of purposeful cannot read."""
    EDITED = "edited"
    """A line does not match its mac: its content was changed after it was written."""
    DELETED = "deleted"
    """Lines are missing before this line: its seq jumps ahead."""
    REORDERED = "reordered"
    """This line belongs elsewhere in the ledger."""
    INSERTED = "inserted"
    """This line is not part of the chain: a copy or a forgery was put in."""
    TRUNCATED = "truncated"
    """The ledger stops short: a partial last line, or fewer lines than the last checkpoint."""
    WRONG_KEY = "wrong-key"
    """A checkpoint's signature does not verify: the wrong public key, or a forged checkpoint."""
    CHECKPOINT_MISMATCH = "checkpoint-mismatch"
    """The chain is whole but disagrees with a signed checkpoint: it was recomputed after a
    change, or the checkpoints belong to another ledger."""
    CHECKPOINT_MALFORMED = "checkpoint-malformed"
    """A line of the checkpoint file is damaged or out of order."""
    WRITTEN_AFTER_CLOSE = "written-after-close"
    """This line comes after the signed checkpoint that closed the ledger, and no writer
    signed a reopening: it was added by something other than a `Ledger`."""
    NO_CHECKPOINTS = "no-checkpoints"
    """The checkpoint file is missing or empty, so a rewritten ledger could not be told apart."""
    UNREADABLE = "unreadable"
    """A file could not be read."""
    NOT_STARTED = "not-started"
    """The ledger was created, and the process stopped before its first checkpoint (or
    before its header): nothing was recorded in it, and the next `Ledger` to open it
    finishes creating it. Not a failure: ``ok`` is true."""


@attrs.frozen
class VerifyResult:
    """What `verify_ledger` found: ok, or the first line that breaks and why.

    Attributes:
        ok: True when the whole ledger verifies against its checkpoints (``ok``), or holds
            nothing yet (``not-started``).
        reason: what was found; ``reason.value`` (also `code`) is a stable string.
        message: one or two sentences for people: what is wrong and where.
        path: the file `line` refers to: the ledger, or the checkpoint file for a problem
            with a checkpoint.
        line: the 1-based line of *path* that breaks (line 1 of the ledger is its header, so
            seq *n* is line *n + 1*), or None when no line is to blame.
        lines_checked: how many ledger lines verified, header included.
        last_checkpoint: the seq covered by the newest checkpoint whose signature verified,
            or None.
        notes: what is worth knowing and is not a failure, one sentence each: each
            recovery line verified (a torn last line a writer set aside after a crash:
            where to, and whether the side file is still there as recorded).
    """

    ok: bool
    reason: VerifyReason
    message: str
    path: Path
    line: int | None
    lines_checked: int
    last_checkpoint: int | None
    notes: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        """The stable machine-readable code of `reason`, such as ``"edited"``."""
        return self.reason.value

    def describe(self) -> str:
        """One line of text for a terminal or a log: the file, the line, the code and why."""
        if self.ok:
            return f"{self.path}: {self.code}: {self.message}"
        where = f"{self.path}:{self.line}" if self.line is not None else f"{self.path}"
        return f"{where}: {self.code}: {self.message}"


def verify_ledger(
    path: str | os.PathLike[str],
    public_key: Ed25519PublicKey,
    *,
    checkpoints: str | os.PathLike[str] | None = None,
    index: str | os.PathLike[str] | None = None,
) -> VerifyResult:
    """Check a ledger's chain and its signed checkpoints; name the first line that breaks.

    Needs no secret: the chain is checked from the header on, each checkpoint's signature
    with *public_key*, and the chain head at each checkpointed line against the checkpoint.
    Verify a closed ledger, or a copy of both files. A ledger that is being written to can be
    verified too, but a line caught half-written shows as ``truncated``: verify again.
    A ledger whose creation a crash stopped is ``not-started``, which is ok; each recovery
    line (a torn last line a writer set aside after a crash) is in the result's ``notes``.

    Args:
        path: the ledger file.
        public_key: the public half of the key the ledger signs its checkpoints with.
        checkpoints: the checkpoint file; default: `default_checkpoints_path` of *path*. Pass
            the copy kept elsewhere when there is one.
        index: where to write the ledger's verified index (`purposeful.audit.ledger.index`;
            usually `default_index_path` of *path*), when the ledger verifies and a signed
            checkpoint covers a line after the header; None (the default) writes none. An
            index already there is replaced.

    Raises:
        ConfigurationError: *public_key* is not an Ed25519 public key. Every problem with the
            files themselves is reported in the result, never raised.
        LedgerIndexError: the index could not be written (the message starts with the
            ledger's verdict).
    """
    if not isinstance(public_key, Ed25519PublicKey):
        raise ConfigurationError(
            f"verify_ledger() takes an Ed25519PublicKey (see purposeful.audit."
            f"load_public_key), not {type(public_key).__name__}"
        )
    checkpoints_path = (
        Path(checkpoints) if checkpoints is not None else default_checkpoints_path(path)
    )
    verifier = _Verifier(Path(path), checkpoints_path, public_key, index=index is not None)
    result = verifier.run()
    if index is not None and result.ok and verifier.builder is not None:
        try:
            verifier.builder.write(Path(index), result.last_checkpoint)
        except OSError as exc:
            raise LedgerIndexError(
                f"{result.describe()}; but its index could not be written to {index} "
                f"({exc.strerror}): check the folder exists and may be written to, or "
                f"verify without an index"
            ) from None
    return result


def verify_from(
    path: Path,
    public_key: Ed25519PublicKey,
    *,
    checkpoints: Path,
    mark: Mark | None,
    on_line: Callable[[int, int, bytes], None] | None = None,
    index: bool = False,
    builder: IndexBuilder | None = None,
) -> tuple[VerifyResult, IndexBuilder | None]:
    """`verify_ledger`, going on from *mark* when it still holds (its checkpoint is still
    signed, with its head): the lines up to it are taken as verified, and the header, the
    checkpoints and the lines after it are checked. *on_line* is told the seq, offset and
    bytes of every line checked after the header; with *index*, a builder takes them
    (*builder*, to go on with an index, or a new one).

    A result that is not ok, when going on from *mark*, may not be the one a full
    verification gives: verify in full for the verdict.
    """
    verifier = _Verifier(path, checkpoints, public_key, index=index, on_line=on_line)
    verifier.builder = builder
    return verifier.run(mark), verifier.builder


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

    def __init__(
        self,
        path: Path,
        checkpoints: Path,
        public_key: Ed25519PublicKey,
        *,
        index: bool = False,
        on_line: Callable[[int, int, bytes], None] | None = None,
    ) -> None:
        self.path = path
        self.checkpoints = checkpoints
        self.public_key = public_key
        self.fingerprint = key_digest(public_key)
        self.checked = 0
        self.last_checkpoint: int | None = None
        self.indexing = index
        self.builder: IndexBuilder | None = None
        self.on_line = on_line
        self.resumed = False
        self.notes: list[str] = []

    def result(
        self, reason: VerifyReason, message: str, line: int | None, path: Path | None = None
    ) -> VerifyResult:
        return VerifyResult(
            ok=reason is VerifyReason.OK or reason is VerifyReason.NOT_STARTED,
            reason=reason,
            message=message,
            path=path if path is not None else self.path,
            line=line,
            lines_checked=self.checked,
            last_checkpoint=self.last_checkpoint,
            notes=tuple(self.notes),
        )

    def run(self, mark: Mark | None = None) -> VerifyResult:
        try:
            with self.path.open("rb") as file:
                return self.walk(file, mark)
        except OSError as exc:
            return self.result(
                VerifyReason.UNREADABLE,
                f"cannot read the ledger ({exc.strerror}); check the path and permissions",
                None,
            )

    def walk(self, file: BinaryIO, mark: Mark | None) -> VerifyResult:
        lines: Iterator[bytes] = iter(file)
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
        if self.indexing and self.builder is None:
            self.builder = IndexBuilder(header.ledger_id, self.fingerprint)
        closed = _closed_at(found)
        expected, previous, before, offset = 1, header.mac, "", len(raw)
        if mark is not None:
            signed = by_seq.get(mark.seq)
            if mark.seq == 0 or signed is None or signed.head != mark.head:
                return self.result(
                    VerifyReason.CHECKPOINT_MISMATCH,
                    f"the checkpoint of seq {mark.seq} the index covers is not in "
                    f"{self.checkpoints}: verify the ledger in full",
                    None,
                )
            file.seek(mark.end)
            lines = iter(file)
            expected, previous, offset = mark.seq + 1, mark.head, mark.end
            self.checked, self.resumed = mark.seq + 1, True
        builder, on_line = self.builder, self.on_line
        for number, raw in enumerate(lines, start=expected + 1):
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
            if entry.kind == LineType.RECOVERY:
                self.note_recovery(number, raw)
            if on_line is not None:
                on_line(entry.seq, offset, raw)
            if builder is not None:
                builder.add(entry.seq, offset, raw)
                if checkpoint is not None:
                    line = hashlib.sha256(raw).hexdigest()
                    builder.checkpointed(
                        Mark(entry.seq, entry.mac, offset, offset + len(raw), line)
                    )
            offset += len(raw)
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
        """Note the recovery line *number*: the torn line it records, and its side file."""
        line = decode(raw[:-1])
        if not isinstance(line, dict):  # pragma: no cover - the chain verified it
            return
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

    def unstarted(self, raw: bytes) -> VerifyResult | None:
        """The verdict on a ledger that is empty, or holds the start of a line (*raw*), when
        that is what a creation a crash stopped leaves; None if it is not."""
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
