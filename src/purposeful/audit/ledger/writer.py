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
second writer append to a ledger; open a ledger whose last line is damaged, or repair it
silently.
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal, TypeAlias

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
from .format import (
    canonical,
    chained_entry,
    checkpoint_line,
    decode,
    default_checkpoints_path,
    entry_of,
    format_line,
    genesis,
    header_line,
    key_digest,
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
_CHUNK: Final = 65_536


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
        body = scope_line(report)  # built outside the lock: only the chain is serialised
        with self._lock:
            self._check_usable("record a scope report")
            self._write_line(body)

    def _write_line(self, body: dict[str, Any]) -> None:
        """Chain *body* to the head, append it, and checkpoint if one is due (under the
        lock, or while opening)."""
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
        header = header_line(ledger_id, self._fingerprint, datetime.now(UTC))
        self._size = self._append(
            self._fd,
            0,
            canonical(header) + b"\n",
            sync=True,
            what=f"the header of the new ledger {self._path}",
        )
        self._ledger_id, self._seq, self._head = ledger_id, 0, header[LedgerKey.MAC]
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
        if last is None:
            raise LedgerCorrupt(
                f"the last line of the ledger {self._path} is incomplete: a process stopped "
                f"while writing it, or the file was cut. Nothing was written; {verify}. If "
                f"only that last line is broken, remove it (the lines before it are intact) "
                f"and open the ledger again"
            )
        tail = start if last == first[:-1] else chained_entry(last)
        if isinstance(tail, str) or (tail.seq == 0) != (tail is start):
            raise LedgerCorrupt(f"the last line of the ledger {self._path} is damaged; {verify}")
        self._ledger_id, self._seq, self._head = ledger_id, tail.seq, tail.mac
        self._checkpointed = self._last_checkpoint(verify)
        self._checkpoints_fd = self._open(self._checkpoints_path, "the checkpoint file")
        self._checkpoints_size = os.fstat(self._checkpoints_fd).st_size
        if header.get(LedgerKey.FORMAT) != LEDGER_FORMAT and not written_as(last, LEDGER_FORMAT):
            self._write_line(format_line(datetime.now(UTC)))

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
        found = decode(last) if last is not None else "is incomplete"
        if isinstance(found, str) or not isinstance(found.get(LedgerKey.SEQ), int):
            raise LedgerCorrupt(
                f"the last checkpoint in {self._checkpoints_path} is damaged; {verify}"
            )
        if found.get(LedgerKey.LEDGER) != self._ledger_id:
            raise LedgerCorrupt(
                f"the checkpoint file {self._checkpoints_path} belongs to another ledger "
                f"(id {found.get(LedgerKey.LEDGER)}), not to {self._path} (id {self._ledger_id}). "
                f"Pass Ledger(checkpoints=) the right file; {verify}"
            )
        seq: int = found[LedgerKey.SEQ]
        if seq > self._seq or (seq == self._seq and found.get(LedgerKey.HEAD) != self._head):
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
        checkpoint = checkpoint_line(
            self._key,
            ledger_id=self._ledger_id,
            key=self._fingerprint,
            seq=self._seq,
            head=self._head,
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
