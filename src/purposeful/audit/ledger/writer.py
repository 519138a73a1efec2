"""The ledger's writer: `Ledger`, the audit sink that appends one chained line per scope.

`Ledger` is an `AuditSink`. Each `ScopeReport` becomes one line of the ledger file, and each
line carries an HMAC-SHA256 of its content keyed by the previous line's mac, so the lines
form a chain. Every ``checkpoint_every`` lines, and at `Ledger.close`, an Ed25519-signed
checkpoint of the chain head is appended to a separate checkpoint file. What a line is, and
how the chain and the checkpoints are made, is in `purposeful.audit.ledger.format`; checking
them is `purposeful.audit.ledger.verifier`'s.

What this module must not do: write a field's value or a subject identifier (a
`ScopeReport` holds neither, and the line format has no place for them); change or remove a
line once written (a failed append is cut back to the last whole line, nothing more); let a
second writer append to a ledger; open a ledger whose last whole line is damaged, or
repair anything silently (a torn last line, the one thing opening recovers, is set aside to
a side file first and recorded in the chain: `purposeful.audit.ledger.files`); sign a
checkpoint over lines it has not checked (on opening, the lines since the last checkpoint are
checked against it, and a closed ledger must end at its closing one).
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..._shared.files import sync_directory
from ..._trail import flush
from ...decisions import ScopeReport
from ...errors import (
    ConfigurationError,
    LedgerClosed,
    LedgerCorrupt,
    LedgerError,
    LedgerKeyMismatch,
    LedgerLocked,
)
from ..conventions import LEDGER_FORMAT, LEDGER_FORMATS, LedgerKey, LineType
from .disposals import ReadsDisposals
from .files import (
    last_line,
    lines_backwards,
    put_new,
    set_aside,
    size_of,
    torn_tail,
)
from .format import (
    Entry,
    canonical,
    chained_entry,
    checkpoint_line,
    checkpoint_message,
    decode,
    default_checkpoints_path,
    disposal_line,
    entry_of,
    format_line,
    genesis,
    header_line,
    interrupted_creation,
    is_mac,
    is_signature,
    key_digest,
    recovery_line,
    scope_line,
    seal,
    written_as,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl
    fcntl = None  # type: ignore[assignment]

__all__ = ["FsyncPolicy", "Ledger"]

FsyncPolicy: TypeAlias = Literal["always", "checkpoint"]
"""When appends reach the disk: ``"always"`` (every line) or ``"checkpoint"``."""

_FSYNC_POLICIES: Final = ("always", "checkpoint")
#: The most a header line can take, and a checkpoint file that holds only the first checkpoint.
_FIRST_LINE: Final = 65_536


class Ledger(ReadsDisposals):
    """An append-only, tamper-evident file of scope reports: an `AuditSink`.

    Each `emit` appends one line; every *checkpoint_every* lines, and at `close`, a checkpoint
    signed with *signing_key* is appended to the checkpoint file. Opening an existing ledger
    continues its chain. Appends from several threads take turns behind one lock; only one
    `Ledger` (in one process) may have a ledger file open at a time.

    Use it as a context manager, or call `close` when done: closing writes the final
    checkpoint, marked closed, without which the lines since the last checkpoint could be
    deleted unnoticed, and after which no line can be added unnoticed. Opening a closed
    ledger again signs a checkpoint saying so before its first new line.

    Opening recovers, without anyone's help, what a crash of the writing process leaves: a
    torn last line (the process was killed while writing it) is set aside to a side file
    beside the ledger, ``<ledger>.torn-<seq>-<UTC time>``, cut off, and recorded in the chain
    with a ``recovery`` line; a creation the crash interrupted is finished.

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
        LedgerCorrupt: the file is not a ledger, its last whole line is damaged, the lines
            since its last checkpoint do not follow on from it (a gap in the seqs, a broken
            chain, fewer lines than the checkpoint), lines (whole or torn) follow the
            checkpoint that closed it, or the checkpoint file is damaged or belongs to
            another ledger. Nothing is written. Run ``purposeful audit verify`` to see the
            first line that breaks.
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
        self._fingerprint = key_digest(signing_key.public_key())
        self._every = checkpoint_every
        self._sync_every_line = fsync == "always"
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._closed = False
        self._ledger_id = ""
        self._seq = 0
        self._head = ""
        self._checkpointed: int | None = None
        self._closed_mark = False  # the newest checkpoint marks the ledger closed
        self._size = 0
        self._checkpoints_size = 0
        self._checkpoints_fd = -1
        self._fd = self._open(self._path, "the ledger")
        try:
            self._lock_file()
            self._size = os.fstat(self._fd).st_size
            start = self._read_start()
            if b"\n" not in start:  # empty, or a creation a crash stopped
                self._create(start)
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
        body = scope_line(report)  # built outside the lock: only the chain is serialised
        with self._lock:
            self._check_usable("record a scope report")
            self._write_line(body)

    def record_disposal(self, **evidence: Any) -> None:
        """Append a ``disposal`` line (IPP 9; `purposeful.typing.DisposalLedger`), its parts
        `disposal_line`'s. Raises as `emit` does, and ConfigurationError for a wrong part."""
        body = disposal_line(**evidence)
        with self._lock:
            self._check_usable("record a disposal")
            self._write_line(body)

    def _write_line(self, body: dict[str, Any]) -> None:
        """Chain *body* to the head, append it, and checkpoint if one is due (under the
        lock, or while opening)."""
        if self._closed_mark:  # reopened: say so, signed, before adding to a closed ledger
            self._write_checkpoint()
        seq = self._seq + 1
        line, mac = seal(body, seq, self._head)
        self._size = self._append(
            self._fd,
            self._size,
            line,
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
        final checkpoint, marked closed, force everything to the disk and release the ledger.

        A line added after the closing checkpoint (by anything but a `Ledger` opening the
        file again) is reported by `verify_ledger` (``written-after-close``), and refused
        by the next `Ledger` to open the file.

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
                if not forked and (self._checkpointed != self._seq or not self._closed_mark):
                    self._write_checkpoint(closed=True)
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

    def _read_start(self) -> bytes:
        """The first bytes of the ledger file: enough to hold its header line."""
        try:
            with self._path.open("rb") as reader:
                return reader.read(min(self._size, _FIRST_LINE))
        except OSError as exc:
            raise LedgerError(f"cannot read the ledger {self._path}: {exc.strerror}") from None

    def _create(self, written: bytes) -> None:
        """Create a new ledger in the empty file: the signed checkpoint of its header first,
        put in place whole, then the header.

        A crash between the two leaves the checkpoint alone. It holds all the header holds,
        so opening again rebuilds the header from it and writes it (after what a power loss
        left of it, *written*, when that is the start of it): the same ledger, as if nothing
        had happened.
        """
        verify = (
            f"run `purposeful audit verify {self._path} --public-key KEY` to find out what happened"
        )
        if self._size != len(written):
            raise LedgerCorrupt(
                f"{self._path} is not a purposeful ledger: its first line is not a ledger "
                f"header. Give Ledger() a new file, or {verify}"
            )
        header = self._interrupted_header(written, verify)
        if header is None:
            if written:
                raise LedgerCorrupt(
                    f"{self._path} is not a purposeful ledger: its first line is incomplete. "
                    f"Give Ledger() a new file, or {verify}"
                )
            created = datetime.now(UTC)
            header = header_line(str(uuid.uuid4()), self._fingerprint, created)
            first = checkpoint_line(
                self._key,
                ledger_id=header[LedgerKey.LEDGER],
                key=self._fingerprint,
                seq=0,
                head=header[LedgerKey.MAC],
                time=created,
            )
            self._put_first_checkpoint(canonical(first) + b"\n")
        line = canonical(header) + b"\n"
        if not line.startswith(written):
            raise LedgerCorrupt(
                f"{self._path} holds the start of a line that is not the header its checkpoint "
                f"file {self._checkpoints_path} signed. Nothing was written; {verify}"
            )
        self._size = self._append(
            self._fd,
            len(written),
            line[len(written) :],
            sync=True,
            what=f"the header of the new ledger {self._path}",
        )
        sync_directory(self._path.parent)
        self._ledger_id, self._seq, self._head = (
            header[LedgerKey.LEDGER],
            0,
            header[LedgerKey.MAC],
        )
        self._checkpointed = 0
        self._checkpoints_fd = self._open(self._checkpoints_path, "the checkpoint file")
        self._checkpoints_size = os.fstat(self._checkpoints_fd).st_size

    def _interrupted_header(self, written: bytes, verify: str) -> dict[str, Any] | None:
        """The header of a creation a crash stopped after its first checkpoint, rebuilt from
        that checkpoint; None if the checkpoint file is missing or empty."""
        size = size_of(self._checkpoints_path)
        if size == 0:
            return None
        try:
            data = self._checkpoints_path.read_bytes() if size <= _FIRST_LINE else b""
        except OSError as exc:
            raise LedgerError(
                f"cannot read the checkpoint file {self._checkpoints_path}: {exc.strerror}"
            ) from None
        header = interrupted_creation(data, self._key.public_key())
        if header is None:
            holds = "is empty" if not written else "holds only the start of a line"
            raise LedgerCorrupt(
                f"the ledger {self._path} {holds}, but its checkpoint file "
                f"{self._checkpoints_path} holds more than the first checkpoint of a new "
                f"ledger signed with this key. If the ledger was emptied, that is tampering: "
                f"keep both files and {verify}. If the checkpoints are left from an old "
                f"ledger, move them away first"
            )
        return header

    def _put_first_checkpoint(self, data: bytes) -> None:
        """Put the checkpoint file of a new ledger in place, whole and on the disk."""
        try:
            placed = put_new(self._checkpoints_path, data)
        except OSError as exc:
            raise LedgerError(
                f"cannot write the first checkpoint of the new ledger {self._path} to "
                f"{self._checkpoints_path} ({exc.strerror}); nothing was written. Check that "
                f"its directory exists and may be written to"
            ) from None
        if not placed:
            raise LedgerCorrupt(
                f"the checkpoint file {self._checkpoints_path} appeared while the ledger "
                f"{self._path} was being created: another process writes there. Nothing was "
                f"written to it"
            )

    def _continue(self) -> None:
        """Read the header of an existing ledger and check its lines since the last
        checkpoint, to continue its chain."""
        try:
            with self._path.open("rb") as reader:
                first = reader.readline()
        except OSError as exc:
            raise LedgerError(f"cannot read the ledger {self._path}: {exc.strerror}") from None
        verify = (
            f"run `purposeful audit verify {self._path} --public-key KEY` to find out what happened"
        )
        header = decode(first[:-1]) if first.endswith(b"\n") else "is incomplete"
        if isinstance(header, str) or header.get(LedgerKey.TYPE) != LineType.HEADER:
            raise LedgerCorrupt(
                f"{self._path} is not a purposeful ledger: its first line "
                f"{header if isinstance(header, str) else 'is not a ledger header'}. "
                f"Give Ledger() a new file, or {verify}"
            )
        if header.get(LedgerKey.FORMAT) not in LEDGER_FORMATS:
            raise LedgerCorrupt(
                f"the ledger {self._path} has format {header.get(LedgerKey.FORMAT)!r}, and this "
                f"version of purposeful continues {' or '.join(map(repr, LEDGER_FORMATS))}: "
                f"upgrade purposeful, or start a new ledger file"
            )
        ledger_id = header.get(LedgerKey.LEDGER)
        start = entry_of(header)
        if (
            not isinstance(ledger_id, str)
            or start is None
            or not start.chains_from(genesis(ledger_id).hex())
        ):
            raise LedgerCorrupt(f"the header of the ledger {self._path} was changed; {verify}")
        if header.get(LedgerKey.KEY) != self._fingerprint:
            raise LedgerKeyMismatch(
                f"the ledger {self._path} is signed with the key {header.get(LedgerKey.KEY)}, "
                f"not with the signing key given ({self._fingerprint}). Open it with the key "
                f"it was created with, or start a new ledger file for a new key"
            )
        self._ledger_id = ledger_id
        mark = self._last_checkpoint(verify)
        last, raw_last, torn = self._check_tail(start, mark, verify)
        # a torn last line, and only that: the whole lines before it hold
        side = self._set_aside(torn, last.seq + 1) if torn else None
        self._seq, self._head = last.seq, last.mac
        self._checkpointed = mark.seq if mark is not None else None
        self._closed_mark = mark is not None and mark.closed
        self._checkpoints_fd = self._open(self._checkpoints_path, "the checkpoint file")
        self._checkpoints_size = os.fstat(self._checkpoints_fd).st_size
        if mark is None:  # a crash between the header and its checkpoint: sign the header
            self._write_checkpoint()
        if side is not None:  # only what this open set aside: a file found beside the
            # ledger may have been put there by anyone, and the chain never says it was torn
            self._write_line(
                recovery_line(file=side, torn=torn, torn_seq=last.seq + 1, time=datetime.now(UTC))
            )
        if header.get(LedgerKey.FORMAT) != LEDGER_FORMAT and not written_as(
            raw_last, LEDGER_FORMAT
        ):
            self._write_line(format_line(datetime.now(UTC)))

    def _set_aside(self, torn: bytes, seq: int) -> str:
        """Copy the torn last line *torn* (it would have been seq *seq*) to a side file, on
        the disk, then cut it off the ledger; return the side file's name."""
        whole = self._size - len(torn)
        try:
            name = set_aside(self._path, torn, seq)
            os.ftruncate(self._fd, whole)
            os.fsync(self._fd)
        except OSError as exc:
            raise LedgerError(
                f"cannot set aside the torn last line of the ledger {self._path} to a side "
                f"file beside it ({exc.strerror}); the ledger was not changed. Free space or "
                f"fix the folder's permissions, then open it again"
            ) from None
        self._size = whole
        return name

    def _check_tail(
        self, start: Entry, mark: _Mark | None, verify: str
    ) -> tuple[Entry, bytes, bytes]:
        """The ledger's last whole line (as an entry, and as stored), and the bytes of a torn
        line after it, after checking that the lines since the checkpoint *mark* follow on
        from the line it signed, one seq at a time and each chained to the one before, and
        that nothing follows a closing one.

        Without a checkpoint, only the last line is checked. The file is read backwards
        from its end, so opening costs the lines since the last checkpoint, not the ledger.
        """
        broken = (
            f"Lines were removed, inserted or changed, and a checkpoint signed now would "
            f"hide it: nothing was written. Keep both files as they are and {verify}"
        )
        since = f"since its last checkpoint (seq {mark.seq})" if mark is not None else ""
        later: Entry | None = None
        last: tuple[Entry, bytes] | None = None
        anchor: Entry | None = None
        try:
            with self._path.open("rb") as reader:
                torn = torn_tail(reader, self._size)
                for offset, raw in lines_backwards(reader, self._size - len(torn)):
                    entry = start if offset == 0 else chained_entry(raw)
                    if isinstance(entry, str) or (entry.seq == 0) != (offset == 0):
                        what = "last line" if last is None else f"a line {since}"
                        raise LedgerCorrupt(
                            f"the {what} of the ledger {self._path} is damaged; {verify}"
                        )
                    if later is not None and (
                        later.seq != entry.seq + 1 or not later.chains_from(entry.mac)
                    ):
                        gap = (
                            f"seq {later.seq} follows seq {entry.seq}"
                            if later.seq != entry.seq + 1
                            else f"seq {later.seq} does not chain to seq {entry.seq}"
                        )
                        raise LedgerCorrupt(
                            f"the lines of the ledger {self._path} {since} do not follow on "
                            f"from each other: {gap}. {broken}"
                        )
                    if last is None:
                        last = (entry, raw)
                    if mark is None or entry.seq <= mark.seq:
                        anchor = entry
                        break
                    later = entry
        except OSError as exc:
            raise LedgerError(f"cannot read the ledger {self._path}: {exc.strerror}") from None
        if last is None or anchor is None:  # pragma: no cover - the header is a line, seq 0
            raise LedgerCorrupt(f"the ledger {self._path} holds no line; {verify}")
        if mark is None:
            if last[0].seq > 0:  # a ledger is created with its checkpoint of seq 0
                raise LedgerCorrupt(
                    f"the ledger {self._path} holds {_count(last[0].seq, 'line', 'lines')} "
                    f"but its checkpoint file {self._checkpoints_path} is missing or empty, "
                    f"and a checkpoint signed now would vouch for lines nothing vouches for. "
                    f"Nothing was written. Find the checkpoint file (pass it as "
                    f"Ledger(checkpoints=...)), or keep the ledger as evidence, {verify}, and "
                    f"record to a new ledger file"
                )
            return (*last, torn)
        if anchor.seq != mark.seq or anchor.mac != mark.head:
            raise LedgerCorrupt(
                f"the ledger {self._path} does not reach its last checkpoint (seq {mark.seq}) "
                f"intact: it ends at seq {last[0].seq}, or the line the checkpoint signed was "
                f"changed. {broken}"
            )
        added = last[0].seq - mark.seq
        if mark.closed and (added or torn):
            lines = _count(added, "line was", "lines were") if added else "part of a line was"
            raise LedgerCorrupt(
                f"{lines} added to the ledger {self._path} "
                f"after it was closed (after seq {mark.seq}, which its last checkpoint marks "
                f"closed). A Ledger opening a closed ledger signs a checkpoint before its "
                f"first line, so these were written by something else: nothing was written. "
                f"Keep both files as evidence and {verify}; record to a new ledger file"
            )
        return (*last, torn)

    def _last_checkpoint(self, verify: str) -> _Mark | None:
        """The checkpoint file's last checkpoint, after checking its signature and that it
        is this ledger's; None if the file is missing or empty."""
        size = size_of(self._checkpoints_path)
        if size == 0:
            return None
        try:
            with self._checkpoints_path.open("rb") as reader:
                last = last_line(reader, size)
        except OSError as exc:
            raise LedgerError(
                f"cannot read the checkpoint file {self._checkpoints_path}: {exc.strerror}"
            ) from None
        damaged = f"the last checkpoint in {self._checkpoints_path} is damaged; {verify}"
        found = decode(last) if last is not None else "is incomplete"
        if isinstance(found, str):
            raise LedgerCorrupt(damaged)
        seq, head, signature, closed = (
            found.get(name)
            for name in (LedgerKey.SEQ, LedgerKey.HEAD, LedgerKey.SIGNATURE, LedgerKey.CLOSED)
        )
        if (
            type(seq) is not int
            or not isinstance(head, str)
            or not is_mac(head)
            or not isinstance(signature, str)
            or not is_signature(signature)
            or closed not in (None, True)
        ):
            raise LedgerCorrupt(damaged)
        if found.get(LedgerKey.LEDGER) != self._ledger_id:
            raise LedgerCorrupt(
                f"the checkpoint file {self._checkpoints_path} belongs to another ledger "
                f"(id {found.get(LedgerKey.LEDGER)}), not to {self._path} (id {self._ledger_id}). "
                f"Pass Ledger(checkpoints=) the right file; {verify}"
            )
        signed = {name: value for name, value in found.items() if name != LedgerKey.SIGNATURE}
        try:
            self._key.public_key().verify(bytes.fromhex(signature), checkpoint_message(signed))
        except InvalidSignature:
            raise LedgerCorrupt(
                f"the last checkpoint in {self._checkpoints_path} does not verify with the "
                f"signing key: it was changed or forged after it was written; {verify}"
            ) from None
        self._check_checkpoint_order(size, verify)
        return _Mark(seq, head, closed is True)

    def _check_checkpoint_order(self, size: int, verify: str) -> None:
        """Refuse a checkpoint file whose checkpoints go back in seq, disagree on a seq's
        head, or go on after a closing checkpoint other than by the reopening's own mark
        (the same seq and head, not closing): copied, moved or replayed checkpoints."""
        previous: tuple[int, str, bool] | None = None
        try:
            with self._checkpoints_path.open("rb") as reader:
                for number, raw in enumerate(reader.read(size).splitlines(), 1):
                    problem, previous = _checkpoint_in_order(decode(raw), number, previous)
                    if problem is not None:
                        raise LedgerCorrupt(
                            f"the checkpoint file {self._checkpoints_path} is out of order: "
                            f"{problem}, so checkpoints were copied, moved or removed. "
                            f"Nothing was written; {verify}"
                        )
        except OSError as exc:
            raise LedgerError(
                f"cannot read the checkpoint file {self._checkpoints_path}: {exc.strerror}"
            ) from None

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

    def _write_checkpoint(self, *, closed: bool = False) -> None:
        """Sign the chain head and append it to the checkpoint file, once the lines it
        names are on the disk; *closed* marks the ledger closed at it."""
        if not self._sync_every_line:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                raise LedgerError(
                    f"cannot force the ledger {self._path} to the disk ({exc.strerror}); "
                    f"its lines up to seq {self._seq} are written but may not survive a "
                    f"power loss, and no checkpoint was written"
                ) from None
        checkpoint = checkpoint_line(
            self._key,
            ledger_id=self._ledger_id,
            key=self._fingerprint,
            seq=self._seq,
            head=self._head,
            closed=closed,
        )
        self._checkpoints_size = self._append(
            self._checkpoints_fd,
            self._checkpoints_size,
            canonical(checkpoint) + b"\n",
            sync=True,
            what=(
                f"the checkpoint of seq {self._seq} to {self._checkpoints_path} (the ledger "
                f"line itself was recorded)"
            ),
        )
        self._checkpointed = self._seq
        self._closed_mark = closed

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


@attrs.frozen
class _Mark:
    """The newest checkpoint, as opening a ledger needs it."""

    seq: int
    head: str
    closed: bool


def _checkpoint_in_order(
    found: dict[str, Any] | str, number: int, previous: tuple[int, str, bool] | None
) -> tuple[str | None, tuple[int, str, bool] | None]:
    """What is wrong with checkpoint *number* coming after *previous* (its seq, head and
    whether it closed the ledger), or None; and what the next one must follow."""
    if isinstance(found, str):
        return f"checkpoint {number} is damaged", previous
    seq, head = found.get(LedgerKey.SEQ), found.get(LedgerKey.HEAD)
    if type(seq) is not int or not isinstance(head, str):
        return f"checkpoint {number} is damaged", previous
    closed = found.get(LedgerKey.CLOSED) is True
    if previous is not None:
        if seq < previous[0] or (seq == previous[0] and head != previous[1]):
            return f"checkpoint {number} goes back on the one before it", previous
        if previous[2] and (seq != previous[0] or closed):
            return f"checkpoint {number} follows a closing one", previous
    return None, (seq, head, closed)


def _count(count: int, one: str, many: str) -> str:
    return f"1 {one}" if count == 1 else f"{count} {many}"
