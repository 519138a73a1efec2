"""The tamper-evident audit ledger: scope reports in an append-only, chained JSONL file.

`Ledger` is an `AuditSink`. Each `ScopeReport` becomes one line of the ledger file, and each
line carries an HMAC-SHA256 of its content keyed by the previous line's mac, so the lines
form a chain. Every ``checkpoint_every`` lines, and at `Ledger.close`, an Ed25519-signed
checkpoint of the chain head is appended to a separate checkpoint file. `verify_ledger`
checks both with the public key alone and names the first line that breaks.

The ledger file (canonical JSON: sorted keys, no spaces, ASCII; one object per line)::

    {"created":…,"format":"purposeful-ledger/2","key":"sha256:…","ledger":…,"mac":…,
     "seq":0,"type":"header"}
    {"actor":"staff-0042","decisions":[{"basis":"service-agreement","category":"health",
     "count":1,"field":"diagnosis","outcome":"allowed","reasons":[],"record":"Client",
     "sensitivity":"SENSITIVE"}],"failed":false,"fields":["Client.diagnosis",
     "Client.name"],"final":true,"mac":…,"opened":…,"part":0,
     "purpose":"service-delivery.case-management","reads":[[0,1],[1]],"role":"caseworker",
     "scope":"5f0c…0001","seq":1,"subjects":["k1:3a…","k1:9b…"],"subjects_count":2,
     "subjects_overflow":0,"time":…,"type":"scope"}

One line per scope, or per *part* of a long scope (``scope`` and ``part`` say which;
``final`` is true on the last). ``reads`` is aligned with ``subjects``: for each person,
the positions in ``fields`` of the fields read from that person's records. A ledger
created as ``purposeful-ledger/1`` (lines without ``scope``, ``fields`` and ``reads``) is
continued after a ``{"format":"purposeful-ledger/2","type":"format",…}`` line. The chain
and checkpoint constructions below are the same in both formats.

- ``mac`` of the header = HMAC-SHA256(key=genesis, msg=canonical JSON of the header without
  ``mac``), where genesis = SHA-256(``b"purposeful-ledger/1 genesis\\0"`` + ledger id);
- ``mac`` of line *n* = HMAC-SHA256(key=the bytes of line *n-1*'s mac, msg=canonical JSON of
  line *n* without ``mac``).

The chain has no secret: anyone can verify it, and anyone can recompute it. What an attacker
who rewrites the file cannot recompute are the checkpoints (``<ledger>.checkpoints``)::

    {"head":…,"key":"sha256:…","ledger":…,"seq":1000,"signature":…,"time":…,
     "type":"checkpoint"}

signed with Ed25519 over ``b"purposeful-ledger/1 checkpoint\\0"`` + the canonical JSON of
the checkpoint without ``signature``. A checkpoint of seq 0 (the header) is written when a
ledger is created. The stored line is exactly its canonical JSON, so every byte of either
file matters: a line that parses but is not in canonical form is reported as changed.

What this module must not do: write a field's value or a subject identifier (a
`ScopeReport` holds neither, and the line format has no place for them); change or remove a
line once written (a failed append is cut back to the last whole line, nothing more); let a
second writer append to a ledger; open a ledger whose last line is damaged, or repair it
silently; need the private key to verify.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import itertools
import json
import os
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal, NoReturn, TypeAlias

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .._files import sync_directory
from .._trail import flush
from ..decisions import Decision, Outcome, ScopeReport
from ..errors import (
    ConfigurationError,
    LedgerClosed,
    LedgerCorrupt,
    LedgerError,
    LedgerKeyMismatch,
    LedgerLocked,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "FORMAT",
    "FsyncPolicy",
    "Ledger",
    "VerifyReason",
    "VerifyResult",
    "default_checkpoints_path",
    "verify_ledger",
]

#: The ``format`` of the lines this module writes: a new ledger's header says it.
FORMAT: Final = "purposeful-ledger/2"
#: The formats it reads and continues: /1 lines do not say per person which fields a scope
#: read, and a /1 ledger continued by this version gets a ``format`` line saying that the
#: lines after it are /2.
FORMATS: Final = ("purposeful-ledger/1", FORMAT)

FsyncPolicy: TypeAlias = Literal["always", "checkpoint"]
"""When appends reach the disk: ``"always"`` (every line) or ``"checkpoint"``."""

_GENESIS: Final = b"purposeful-ledger/1 genesis\x00"
_SIGNED: Final = b"purposeful-ledger/1 checkpoint\x00"
_MAC = re.compile(r"[0-9a-f]{64}\Z")
_SIGNATURE = re.compile(r"[0-9a-f]{128}\Z")
_FSYNC_POLICIES: Final = ("always", "checkpoint")
#: How many lines after the first broken one `verify_ledger` reads to tell an edit from a
#: deletion, an insertion or a reordering.
_LOOKAHEAD: Final = 10_000
_CHUNK: Final = 65_536


def default_checkpoints_path(ledger: str | os.PathLike[str]) -> Path:
    """Where the checkpoints of *ledger* go unless told otherwise: ``<ledger>.checkpoints``."""
    path = Path(ledger)
    return path.with_name(path.name + ".checkpoints")


class Ledger:
    """An append-only, tamper-evident file of scope reports: an `AuditSink`.

    Each `emit` appends one line; every *checkpoint_every* lines, and at `close`, a checkpoint
    signed with *signing_key* is appended to the checkpoint file. Opening an existing ledger
    continues its chain. Appends from several threads take turns behind one lock; only one
    `Ledger` (in one process) may have a ledger file open at a time.

    Use it as a context manager, or call `close` when done: closing writes the final
    checkpoint, without which the lines since the last checkpoint could be deleted unnoticed.

    Args:
        path: the ledger file. It is created if missing (its directory must exist).
        signing_key: the Ed25519 private key that signs checkpoints; a ledger is always
            signed with the key it was created with.
        checkpoint_every: write a checkpoint after every this many lines.
        fsync: ``"always"`` (the default) forces every line to the disk before `emit`
            returns, so a line survives a power loss. ``"checkpoint"`` hands every line to
            the operating system before `emit` returns (it survives the process crashing) and
            forces the ledger to the disk at each checkpoint and at `close`: a power loss may
            lose the lines written since the last checkpoint.
        checkpoints: the checkpoint file; default: `default_checkpoints_path` of *path*.
            Keeping it on another disk or host is what makes the checkpoints worth having.

    Raises:
        ConfigurationError: an argument has the wrong type or value.
        LedgerLocked: another process, or another `Ledger` here, has the ledger open.
        LedgerKeyMismatch: the ledger was created with another signing key.
        LedgerCorrupt: the file is not a ledger, its last line is incomplete or damaged, it
            has fewer lines than its last checkpoint, or the checkpoint file belongs to
            another ledger. Run ``purposeful audit verify`` to see the first line that breaks.
        LedgerError: the files cannot be opened, read or written.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        signing_key: Ed25519PrivateKey,
        checkpoint_every: int = 1000,
        fsync: FsyncPolicy = "always",
        checkpoints: str | os.PathLike[str] | None = None,
    ) -> None:
        if not isinstance(signing_key, Ed25519PrivateKey):
            raise ConfigurationError(
                f"Ledger(signing_key=) takes an Ed25519PrivateKey (see purposeful.audit."
                f"load_signing_key), not {type(signing_key).__name__}"
            )
        if type(checkpoint_every) is not int or checkpoint_every < 1:
            raise ConfigurationError(
                f"Ledger(checkpoint_every=) takes a whole number of lines of at least 1, "
                f"not {checkpoint_every!r}"
            )
        if fsync not in _FSYNC_POLICIES:
            raise ConfigurationError(
                f'Ledger(fsync=) takes "always" or "checkpoint", not {fsync!r}'
            )
        self._path = Path(path)
        self._checkpoints_path = (
            Path(checkpoints) if checkpoints is not None else default_checkpoints_path(path)
        )
        if self._checkpoints_path.resolve() == self._path.resolve():
            raise ConfigurationError(
                f"Ledger(checkpoints=) must be another file than the ledger {self._path}"
            )
        self._key = signing_key
        self._fingerprint = _key_digest(signing_key.public_key())
        self._every = checkpoint_every
        self._sync_every_line = fsync == "always"
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._closed = False
        self._ledger_id = ""
        self._seq = 0
        self._head = ""
        self._checkpointed: int | None = None
        self._size = 0
        self._checkpoints_size = 0
        self._checkpoints_fd = -1
        self._fd = self._open(self._path, "the ledger")
        try:
            self._lock_file()
            self._size = os.fstat(self._fd).st_size
            if self._size == 0:
                self._create()
            else:
                self._continue()
        except BaseException:
            self._release()
            raise

    # --- what callers see -------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The ledger file."""
        return self._path

    @property
    def checkpoints_path(self) -> Path:
        """The checkpoint file."""
        return self._checkpoints_path

    @property
    def ledger_id(self) -> str:
        """The id in the ledger's header; its checkpoints carry it too."""
        return self._ledger_id

    @property
    def seq(self) -> int:
        """The sequence number of the last line written (0: only the header)."""
        return self._seq

    @property
    def checkpointed(self) -> int | None:
        """The sequence number of the last checkpoint written, or None if none is known."""
        return self._checkpointed

    @property
    def closed(self) -> bool:
        return self._closed

    def emit(self, report: ScopeReport) -> None:
        """Append one line for *report*; write a checkpoint if one is due.

        Raises:
            LedgerClosed: the ledger was closed.
            LedgerError: the line or its checkpoint could not be written. A line that could
                not be written is cut back off, so the file ends in a whole line; the message
                says whether the line was recorded.
        """
        body = _scope_line(report)  # built outside the lock: only the chain is serialised
        with self._lock:
            self._check_usable("record a scope report")
            self._write_line(body)

    def _write_line(self, body: dict[str, Any]) -> None:
        """Chain *body* to the head, append it, and checkpoint if one is due (under the
        lock, or while opening)."""
        seq = self._seq + 1
        body["seq"] = seq
        mac = _mac(self._head, body)
        body["mac"] = mac
        self._size = self._append(
            self._fd,
            self._size,
            _canonical(body) + b"\n",
            sync=self._sync_every_line,
            what=f"line {seq + 1} (seq {seq}) of the ledger {self._path}",
        )
        self._seq, self._head = seq, mac
        if seq % self._every == 0:
            self._write_checkpoint()

    def checkpoint(self) -> int:
        """Write a signed checkpoint of the newest line now, unless it already has one.

        Useful before copying the checkpoint file off the host. Returns the sequence number
        the newest checkpoint covers.

        Raises:
            LedgerClosed: the ledger was closed.
            LedgerError: the checkpoint could not be written.
        """
        with self._lock:
            self._check_usable("write a checkpoint")
            if self._checkpointed != self._seq:
                self._write_checkpoint()
            return self._seq

    def close(self) -> None:
        """Send what the audit trail holds unsent (`purposeful.audit.flush`), then write the
        final checkpoint, force everything to the disk and release the ledger.

        Closing twice does nothing. The files are released even if the checkpoint fails.

        Raises:
            LedgerError: the final checkpoint could not be written.
        """
        if not self._closed and os.getpid() == self._pid:
            flush()  # the last reads of open scopes and windows, to this ledger too
        with self._lock:
            if self._closed:
                return
            self._closed = True
            forked = os.getpid() != self._pid
            try:
                if not forked and self._checkpointed != self._seq:
                    self._write_checkpoint()
            finally:
                self._release()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Ledger {str(self._path)!r} seq={self._seq} {state}>"

    # --- opening ----------------------------------------------------------------------------

    def _open(self, path: Path, what: str) -> int:
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        try:
            return os.open(path, flags, 0o600)
        except OSError as exc:
            raise LedgerError(
                f"cannot open {what} {path}: {exc.strerror}; check that its directory exists "
                f"and that this process may write there"
            ) from None

    def _lock_file(self) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise LedgerError(
                f"cannot lock the ledger {self._path}: the ledger needs POSIX file locks "
                f"(fcntl), which this platform does not have"
            )
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LedgerLocked(
                f"the ledger {self._path} is already open for appending, by another process "
                f"or another Ledger in this one. Only one writer may append to a ledger: "
                f"close the other one, or give this process a ledger file of its own"
            ) from None
        except OSError as exc:
            raise LedgerError(
                f"cannot lock the ledger {self._path}: {exc.strerror}; keep ledgers on a "
                f"local file system that supports flock"
            ) from None

    def _create(self) -> None:
        """Write the header of a new ledger, then the checkpoint of seq 0."""
        if _size_of(self._checkpoints_path) > 0:
            raise LedgerCorrupt(
                f"the ledger {self._path} is empty, but its checkpoint file "
                f"{self._checkpoints_path} is not. If the ledger was emptied, that is "
                f"tampering: keep both files and run `purposeful audit verify`. If the "
                f"checkpoints are left from an old ledger, move them away first"
            )
        ledger_id = str(uuid.uuid4())
        header: dict[str, Any] = {
            "created": _time(datetime.now(UTC)),
            "format": FORMAT,
            "key": self._fingerprint,
            "ledger": ledger_id,
            "seq": 0,
            "type": "header",
        }
        header["mac"] = _mac(_genesis(ledger_id), header)
        self._size = self._append(
            self._fd,
            0,
            _canonical(header) + b"\n",
            sync=True,
            what=f"the header of the new ledger {self._path}",
        )
        self._ledger_id, self._seq, self._head = ledger_id, 0, header["mac"]
        self._checkpoints_fd = self._open(self._checkpoints_path, "the checkpoint file")
        self._checkpoints_size = os.fstat(self._checkpoints_fd).st_size
        self._write_checkpoint()
        for folder in {self._path.parent, self._checkpoints_path.parent}:
            sync_directory(folder)

    def _continue(self) -> None:
        """Read the header and the last line of an existing ledger, to continue its chain."""
        try:
            with self._path.open("rb") as reader:
                first = reader.readline()
                last = _last_line(reader, self._size)
        except OSError as exc:
            raise LedgerError(f"cannot read the ledger {self._path}: {exc.strerror}") from None
        verify = (
            f"run `purposeful audit verify {self._path} --public-key KEY` to find out what happened"
        )
        header = _decode(first[:-1]) if first.endswith(b"\n") else "is incomplete"
        if isinstance(header, str) or header.get("type") != "header":
            raise LedgerCorrupt(
                f"{self._path} is not a purposeful ledger: its first line "
                f"{header if isinstance(header, str) else 'is not a ledger header'}. "
                f"Give Ledger() a new file, or {verify}"
            )
        if header.get("format") not in FORMATS:
            raise LedgerCorrupt(
                f"the ledger {self._path} has format {header.get('format')!r}, and this "
                f"version of purposeful continues {' or '.join(map(repr, FORMATS))}: upgrade "
                f"purposeful, or start a new ledger file"
            )
        ledger_id = header.get("ledger")
        start = _entry_of(header)
        if (
            not isinstance(ledger_id, str)
            or start is None
            or not start.chains_from(_genesis(ledger_id).hex())
        ):
            raise LedgerCorrupt(f"the header of the ledger {self._path} was changed; {verify}")
        if header.get("key") != self._fingerprint:
            raise LedgerKeyMismatch(
                f"the ledger {self._path} is signed with the key {header.get('key')}, not with "
                f"the signing key given ({self._fingerprint}). Open it with the key it was "
                f"created with, or start a new ledger file for a new key"
            )
        if last is None:
            raise LedgerCorrupt(
                f"the last line of the ledger {self._path} is incomplete: a process stopped "
                f"while writing it, or the file was cut. Nothing was written; {verify}. If "
                f"only that last line is broken, remove it (the lines before it are intact) "
                f"and open the ledger again"
            )
        tail = start if last == first[:-1] else _event(last)
        if isinstance(tail, str) or (tail.seq == 0) != (tail is start):
            raise LedgerCorrupt(f"the last line of the ledger {self._path} is damaged; {verify}")
        self._ledger_id, self._seq, self._head = ledger_id, tail.seq, tail.mac
        self._checkpointed = self._last_checkpoint(verify)
        self._checkpoints_fd = self._open(self._checkpoints_path, "the checkpoint file")
        self._checkpoints_size = os.fstat(self._checkpoints_fd).st_size
        if header.get("format") != FORMAT and not _written_as(last, FORMAT):
            self._write_line({"format": FORMAT, "time": _time(datetime.now(UTC)), "type": "format"})

    def _last_checkpoint(self, verify: str) -> int | None:
        """The seq of the checkpoint file's last checkpoint, after checking it fits."""
        size = _size_of(self._checkpoints_path)
        if size == 0:
            return None
        try:
            with self._checkpoints_path.open("rb") as reader:
                last = _last_line(reader, size)
        except OSError as exc:
            raise LedgerError(
                f"cannot read the checkpoint file {self._checkpoints_path}: {exc.strerror}"
            ) from None
        found = _decode(last) if last is not None else "is incomplete"
        if isinstance(found, str) or not isinstance(found.get("seq"), int):
            raise LedgerCorrupt(
                f"the last checkpoint in {self._checkpoints_path} is damaged; {verify}"
            )
        if found.get("ledger") != self._ledger_id:
            raise LedgerCorrupt(
                f"the checkpoint file {self._checkpoints_path} belongs to another ledger "
                f"(id {found.get('ledger')}), not to {self._path} (id {self._ledger_id}). "
                f"Pass Ledger(checkpoints=) the right file; {verify}"
            )
        seq: int = found["seq"]
        if seq > self._seq or (seq == self._seq and found.get("head") != self._head):
            raise LedgerCorrupt(
                f"the ledger {self._path} does not reach its last checkpoint (seq {seq}): "
                f"lines were removed or changed; {verify}"
            )
        return seq

    # --- writing ----------------------------------------------------------------------------

    def _check_usable(self, doing: str) -> None:
        if self._closed:
            raise LedgerClosed(
                f"the ledger {self._path} is closed, so it cannot {doing}: open a new "
                f"Ledger on the same file to continue its chain"
            )
        if os.getpid() != self._pid:
            raise LedgerError(
                f"the ledger {self._path} was opened in another process (pid {self._pid}) "
                f"and cannot {doing} here: a Ledger must not cross fork. Give each process "
                f"its own ledger file"
            )

    def _write_checkpoint(self) -> None:
        """Sign the chain head and append it to the checkpoint file, once the lines it
        names are on the disk."""
        if not self._sync_every_line:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                raise LedgerError(
                    f"cannot force the ledger {self._path} to the disk ({exc.strerror}); "
                    f"its lines up to seq {self._seq} are written but may not survive a "
                    f"power loss, and no checkpoint was written"
                ) from None
        checkpoint: dict[str, Any] = {
            "head": self._head,
            "key": self._fingerprint,
            "ledger": self._ledger_id,
            "seq": self._seq,
            "time": _time(datetime.now(UTC)),
            "type": "checkpoint",
        }
        checkpoint["signature"] = self._key.sign(_SIGNED + _canonical(checkpoint)).hex()
        self._checkpoints_size = self._append(
            self._checkpoints_fd,
            self._checkpoints_size,
            _canonical(checkpoint) + b"\n",
            sync=True,
            what=(
                f"the checkpoint of seq {self._seq} to {self._checkpoints_path} (the ledger "
                f"line itself was recorded)"
            ),
        )
        self._checkpointed = self._seq

    def _append(self, fd: int, size: int, data: bytes, *, sync: bool, what: str) -> int:
        """Write *data* at the end of *fd* (whose length is *size*); return the new length.

        On failure the file is cut back to *size*, so it still ends in a whole line; if even
        that fails, the ledger closes itself rather than chain onto a broken line.
        """
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        except OSError as exc:
            try:
                os.ftruncate(fd, size)
            except OSError:
                self._closed = True
                self._release()
                raise LedgerError(
                    f"cannot write {what} ({exc.strerror}), nor cut the partial write back "
                    f"off; the ledger closed itself. Free space or fix the disk, then run "
                    f"`purposeful audit verify {self._path} --public-key KEY`"
                ) from None
            raise LedgerError(
                f"cannot write {what} ({exc.strerror}); nothing of it was kept. Free disk "
                f"space or fix permissions, then try again"
            ) from None
        return size + len(data)

    def _release(self) -> None:
        """Close both files; closing the ledger's releases its lock.

        Never unlock explicitly: a forked child shares the parent's lock, and unlocking its
        copy would take the lock away from the parent. Closing only drops the copy.
        """
        for fd in (self._fd, self._checkpoints_fd):
            if fd >= 0:
                os.close(fd)
        self._fd = self._checkpoints_fd = -1


# --- verifying ------------------------------------------------------------------------------


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
    NO_CHECKPOINTS = "no-checkpoints"
    """The checkpoint file is missing or empty, so a rewritten ledger could not be told apart."""
    UNREADABLE = "unreadable"
    """A file could not be read."""


@attrs.frozen
class VerifyResult:
    """What `verify_ledger` found: ok, or the first line that breaks and why.

    Attributes:
        ok: True when the whole ledger verifies against its checkpoints.
        reason: what was found; ``reason.value`` (also `code`) is a stable string.
        message: one or two sentences for people: what is wrong and where.
        path: the file `line` refers to: the ledger, or the checkpoint file for a problem
            with a checkpoint.
        line: the 1-based line of *path* that breaks (line 1 of the ledger is its header, so
            seq *n* is line *n + 1*), or None when no line is to blame.
        lines_checked: how many ledger lines verified, header included.
        last_checkpoint: the seq covered by the newest checkpoint whose signature verified,
            or None.
    """

    ok: bool
    reason: VerifyReason
    message: str
    path: Path
    line: int | None
    lines_checked: int
    last_checkpoint: int | None

    @property
    def code(self) -> str:
        """The stable machine-readable code of `reason`, such as ``"edited"``."""
        return self.reason.value

    def describe(self) -> str:
        """One line of text for a terminal or a log: the file, the line, the code and why."""
        if self.ok:
            return f"{self.path}: ok: {self.message}"
        where = f"{self.path}:{self.line}" if self.line is not None else f"{self.path}"
        return f"{where}: {self.code}: {self.message}"


def verify_ledger(
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
class _Entry:
    """A ledger line as the chain sees it: its seq, its mac, and what the mac covers."""

    seq: int
    mac: str
    body: bytes

    def chains_from(self, previous_mac: str) -> bool:
        """True if this line's mac is right when keyed by *previous_mac* (hex)."""
        expected = hmac.new(bytes.fromhex(previous_mac), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.mac)


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


class _Verifier:
    """One run of `verify_ledger`; it keeps the counts the result reports."""

    def __init__(self, path: Path, checkpoints: Path, public_key: Ed25519PublicKey) -> None:
        self.path = path
        self.checkpoints = checkpoints
        self.public_key = public_key
        self.fingerprint = _key_digest(public_key)
        self.checked = 0
        self.last_checkpoint: int | None = None

    def result(
        self, reason: VerifyReason, message: str, line: int | None, path: Path | None = None
    ) -> VerifyResult:
        return VerifyResult(
            ok=reason is VerifyReason.OK,
            reason=reason,
            message=message,
            path=path if path is not None else self.path,
            line=line,
            lines_checked=self.checked,
            last_checkpoint=self.last_checkpoint,
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
            return found
        by_seq = {checkpoint.seq: checkpoint for checkpoint in found}
        genesis = by_seq.get(0)
        if genesis is not None and genesis.head != header.mac:
            return self.mismatch(1, 0, genesis)
        expected, previous, before = 1, header.mac, ""
        for number, raw in enumerate(lines, start=2):
            if not raw.endswith(b"\n"):
                return self.partial(number)
            entry = _event(raw[:-1])
            if isinstance(entry, str):
                return self.result(VerifyReason.MALFORMED, f"line {number} {entry}", number)
            if entry.seq != expected or not entry.chains_from(previous):
                return self.diagnose(number, entry, expected, previous, before, lines)
            checkpoint = by_seq.get(entry.seq)
            if checkpoint is not None and checkpoint.head != entry.mac:
                return self.mismatch(number, entry.seq, checkpoint)
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
        return self.result(
            VerifyReason.OK,
            f"{self.checked} lines verified (the header and seq 1 to {last}); the newest "
            f"signed checkpoint covers seq {newest.seq}{rest}",
            None,
        )

    def header(self, raw: bytes) -> _Header | VerifyResult:
        if not raw:
            return self.result(
                VerifyReason.TRUNCATED,
                "the ledger is empty: a ledger starts with its header line",
                1,
            )
        if not raw.endswith(b"\n"):
            return self.partial(1)
        parsed = _decode(raw[:-1])
        if isinstance(parsed, str):
            return self.result(VerifyReason.MALFORMED, f"line 1 (the header) {parsed}", 1)
        if parsed.get("type") != "header":
            return self.result(
                VerifyReason.MALFORMED,
                "line 1 is not a ledger header: this is not a purposeful ledger",
                1,
            )
        if parsed.get("format") not in FORMATS:
            return self.result(
                VerifyReason.UNSUPPORTED_FORMAT,
                f"the header says format {parsed.get('format')!r}; this version of "
                f"purposeful reads {' and '.join(map(repr, FORMATS))}: upgrade purposeful to "
                f"verify it",
                1,
            )
        entry = _entry_of(parsed)
        ledger_id = parsed.get("ledger")
        if entry is None or entry.seq != 0 or not isinstance(ledger_id, str):
            return self.result(
                VerifyReason.MALFORMED, "line 1 (the header) lacks its ledger id, seq or mac", 1
            )
        if not entry.chains_from(_genesis(ledger_id).hex()):
            return self.result(
                VerifyReason.EDITED,
                "line 1 (the header) does not match its mac: it was changed after it was written",
                1,
            )
        return _Header(ledger_id, parsed.get("key"), entry.mac)

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
                if found and checkpoint.seq <= found[-1].seq:
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
        parsed = _decode(raw[:-1])
        if isinstance(parsed, str):
            return broken(parsed)
        seq, head, ledger_id, signature = (
            parsed.get(name) for name in ("seq", "head", "ledger", "signature")
        )
        if (
            parsed.get("type") != "checkpoint"
            or type(seq) is not int
            or seq < 0
            or not isinstance(head, str)
            or not _MAC.match(head)
            or not isinstance(ledger_id, str)
            or not isinstance(signature, str)
            or not _SIGNATURE.match(signature)
        ):
            return broken("is not a checkpoint: it lacks its seq, head, ledger id or signature")
        signed = {name: value for name, value in parsed.items() if name != "signature"}
        try:
            self.public_key.verify(bytes.fromhex(signature), _SIGNED + _canonical(signed))
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
        return _Checkpoint(number, seq, head)

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
            f"writer stopped abruptly, the lines before it are intact"
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
        entry: _Entry,
        expected: int,
        previous: str,
        before: str,
        lines: Iterator[bytes],
    ) -> VerifyResult:
        """Tell why line *number* breaks the chain, looking at the lines after it."""
        following: list[tuple[int, _Entry]] = []
        for offset, raw in enumerate(itertools.islice(lines, _LOOKAHEAD), start=1):
            parsed = _event(raw[:-1]) if raw.endswith(b"\n") else "is incomplete"
            if not isinstance(parsed, str):
                following.append((number + offset, parsed))
        after = following[0][1] if following and following[0][0] == number + 1 else None
        later: dict[int, tuple[int, _Entry]] = {}
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


def _lines(count: int, *, first: int | None = None) -> str:
    """'the last line was', 'the last 3 lines were', 'the line of seq 6 was', 'the 3 lines of
    seq 6 to 8 were'."""
    if first is None:
        return "the last line was" if count == 1 else f"the last {count} lines were"
    if count == 1:
        return f"the line of seq {first} was"
    return f"the {count} lines of seq {first} to {first + count - 1} were"


# --- the line format ------------------------------------------------------------------------


def _canonical(document: Mapping[str, Any]) -> bytes:
    """The one byte form of a JSON object that the ledger stores and its macs cover."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")


def _decode(raw: bytes) -> dict[str, Any] | str:
    """The JSON object a stored line (without its newline) holds, or what is wrong with it."""
    if not raw:
        return "is empty"
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return "holds bytes that are not ASCII: it was changed after it was written"
    try:
        document = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        return f"is not JSON ({exc.msg}, column {exc.colno})"
    except (ValueError, RecursionError):
        return "is not JSON"
    if not isinstance(document, dict):
        return "is not a JSON object"
    try:
        canonical = _canonical(document)
    except ValueError:  # pragma: no cover - parse_constant already refuses NaN
        canonical = b""
    if canonical != raw:
        return (
            "is not in canonical form (sorted keys, no spaces, ASCII): it was changed after "
            "it was written"
        )
    return document


def _entry_of(document: Mapping[str, Any]) -> _Entry | None:
    """The chain's view of a decoded line, or None if it has no usable seq or mac."""
    seq = document.get("seq")
    mac = document.get("mac")
    if type(seq) is not int or seq < 0 or not isinstance(mac, str) or not _MAC.match(mac):
        return None
    body = {name: value for name, value in document.items() if name != "mac"}
    return _Entry(seq, mac, _canonical(body))


def _event(raw: bytes) -> _Entry | str:
    """The entry of a line after the header (without its newline), or what is wrong with it."""
    document = _decode(raw)
    if isinstance(document, str):
        return document
    if document.get("type") not in ("scope", "format"):
        return "is not a scope or format line"
    entry = _entry_of(document)
    if entry is None:
        return "lacks a valid seq or mac"
    return entry


def _scope_line(report: ScopeReport) -> dict[str, Any]:
    """The content of a report's line, before its seq and mac: names, codes, counts and
    pseudonyms only. ``fields`` are the fields read in this part; ``reads`` is aligned with
    ``subjects``: for each person, the positions in ``fields`` of the fields read from their
    records."""
    fields = _fields_read(report)
    position = {name: i for i, name in enumerate(fields)}
    subjects = sorted(report.subjects)
    line: dict[str, Any] = {
        "actor": report.actor.id if report.actor is not None else None,
        "decisions": [
            _decision(decision, report.count_of(i)) for i, decision in enumerate(report.decisions)
        ],
        "failed": report.failed,
        "fields": fields,
        "final": report.final,
        "opened": _time(report.opened_at),
        "part": report.part,
        "purpose": report.purpose.id if report.purpose is not None else None,
        "reads": [
            sorted(position[name] for name in report.reads.get(pseudonym, ()) if name in position)
            for pseudonym in subjects
        ],
        "role": report.actor.role if report.actor is not None else None,
        "scope": report.scope_id,
        "subjects": subjects,
        "subjects_count": report.subject_count,
        "subjects_overflow": report.subject_count - len(report.subjects),
        "time": _time(report.closed_at),
        "type": "scope",
    }
    if report.disclosures:  # only then: older lines stay exactly as they were
        line["disclosures"] = [dict(disclosure) for disclosure in report.disclosures]
    if report.site is not None:
        line["site"] = {
            "file": report.site.file,
            "function": report.site.function,
            "line": report.site.line,
        }
    return line


def _fields_read(report: ScopeReport) -> list[str]:
    """The fields read in *report*, sorted: those it lists, and those of its allowed and
    would-deny decisions (a report made by hand may list none)."""
    fields = set(report.fields_read)
    for decision in report.decisions:
        if decision.outcome is Outcome.ALLOWED or decision.outcome is Outcome.WOULD_DENY:
            fields.add(f"{decision.record_type}.{decision.field}")
    for names in report.reads.values():
        fields.update(names)
    return sorted(fields)


def _decision(decision: Decision, count: int) -> dict[str, Any]:
    return {
        "basis": decision.basis.kind.value if decision.basis is not None else None,
        "category": decision.category.id if decision.category is not None else None,
        "count": count,
        "field": decision.field,
        "outcome": decision.outcome.value,
        "reasons": list(decision.reason_codes),
        "record": decision.record_type,
        "sensitivity": decision.sensitivity.name,
    }


def _written_as(last: bytes | None, format: str) -> bool:
    """True if the ledger's last line shows it is already written in *format*: a ``format``
    line saying so, or a scope line of that format (one with a scope id)."""
    found = _decode(last) if last is not None else None
    if not isinstance(found, dict):
        return False
    if found.get("type") == "format":
        return found.get("format") == format
    return found.get("type") == "scope" and "scope" in found


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _genesis(ledger_id: str) -> bytes:
    """The key of the header's mac, derived from the ledger id."""
    return hashlib.sha256(_GENESIS + ledger_id.encode("utf-8")).digest()


def _mac(previous: str | bytes, body: Mapping[str, Any]) -> str:
    key = bytes.fromhex(previous) if isinstance(previous, str) else previous
    return hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()


def _key_digest(public_key: Ed25519PublicKey) -> str:
    """``sha256:`` and the SHA-256 of the raw public key, in hex.

    Its first 8 hex digits are the key's `purposeful.audit.signing_key_id`.
    """
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# --- files ----------------------------------------------------------------------------------


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise LedgerError(f"cannot read {path}: {exc.strerror}") from None


def _last_line(reader: BinaryIO, size: int) -> bytes | None:
    """The last line of a file of *size* bytes, without its newline; None if it has none."""
    reader.seek(size - 1)
    if reader.read(1) != b"\n":
        return None
    end = size - 1
    tail = b""
    while end > 0:
        start = max(0, end - _CHUNK)
        reader.seek(start)
        tail = reader.read(end - start) + tail
        end = start
        cut = tail.rfind(b"\n")
        if cut >= 0:
            return tail[cut + 1 :]
    return tail
