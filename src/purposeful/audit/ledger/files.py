"""The ledger's files: reading a file backwards from its end, putting a new file in place
whole, and the side files a torn last line is set aside to.

A process killed while it writes a line (the OOM killer, ``kill -9``; a power loss with
``fsync="checkpoint"``) can leave the ledger ending in part of a line: a *torn* line. The
writer that opens the ledger next keeps those bytes, never deletes them: it copies them to a
**side file** beside the ledger, ``<ledger>.torn-<seq>-<UTC time>`` (mode 0600, written
whole and forced to the disk, the folder synced: `set_aside`), and only then cuts the ledger
back to its last whole line and records the side file in the chain with a recovery line
(`purposeful.audit.ledger.format.recovery_line`). ``<seq>`` is the seq the torn line would
have had.

The chain records only a side file the writer set aside in that same open: a file found
beside the ledger under a side file's name may have been put there by anyone, so a side file
left by a writer killed between setting it aside and recording it stays beside the ledger,
kept, and recorded nowhere. `side_file_state` tells the verifier whether a recorded side file
is still there as recorded.

What this module must not do: delete or change a side file, or a byte of the ledger (the
writer cuts the ledger, after `set_aside` returns); decide that a ledger may be recovered
(the writer checks its whole lines first: only a torn tail is set aside); read a file the
ledger's folder does not hold under a side file's name; follow a link.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Final

from ..._shared.files import put_in_place, sync_directory, write_temporary
from ...errors import LedgerError

__all__ = [
    "last_line",
    "lines_backwards",
    "put_new",
    "set_aside",
    "side_file_state",
    "size_of",
    "torn_tail",
]

_CHUNK: Final = 65_536
#: Every side file is readable only by the writer's user, like the ledger.
_MODE: Final = 0o600


def size_of(path: Path) -> int:
    """The size of the file at *path*; 0 if there is none.

    Raises:
        LedgerError: it cannot be read.
    """
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise LedgerError(f"cannot read {path}: {exc.strerror}") from None


def torn_tail(reader: BinaryIO, size: int) -> bytes:
    """The bytes of a file of *size* bytes after its last newline: a torn last line, or
    nothing. Reads backwards from the end, a chunk at a time."""
    end = size
    while end > 0:
        start = max(0, end - _CHUNK)
        reader.seek(start)
        cut = reader.read(end - start).rfind(b"\n")
        if cut >= 0:
            end = start + cut + 1
            break
        end = start
    reader.seek(end)
    return reader.read(size - end)


def last_line(reader: BinaryIO, size: int) -> bytes | None:
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


def lines_backwards(reader: BinaryIO, size: int) -> Iterator[tuple[int, bytes]]:
    """The lines of a file of *size* bytes that ends in a newline, last first: each line's
    offset and its bytes, without the newline. Reads *_CHUNK* bytes at a time."""
    position, buffer = size - 1, b""  # *buffer* holds the bytes from *position* on
    while position > 0 or buffer:
        cut = buffer.rfind(b"\n")
        if cut >= 0:
            yield position + cut + 1, buffer[cut + 1 :]
            buffer = buffer[:cut]
        elif position == 0:
            yield 0, buffer
            return
        else:
            start = max(0, position - _CHUNK)
            reader.seek(start)
            buffer = reader.read(position - start) + buffer
            position = start


def put_new(target: Path, data: bytes) -> bool:
    """Put a file holding *data* (mode 0600) at *target*, whole and on the disk, its folder
    synced; False, writing nothing, if *target* exists and is not empty.

    Raises:
        OSError: it cannot be written; nothing was put in place.
    """
    folder = target.parent
    temporary = write_temporary(folder, target.name, data, _MODE)
    try:  # an empty file there (a crash of an older version) may be replaced, nothing else
        empty = target.is_file() and not target.is_symlink() and target.stat().st_size == 0
        placed = put_in_place(temporary, target, force=empty)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()  # after a hard link, the name that is left over
    if placed:
        sync_directory(folder)
    return placed


def _prefix(ledger: Path, seq: int) -> str:
    return f"{ledger.name}.torn-{seq}-"


def _candidates(ledger: Path, seq: int, size: int | None) -> list[tuple[str, Path]]:
    """The regular files beside *ledger* named as side files of seq *seq* (of *size* bytes,
    if given: a file of another size cannot hold the same torn line, and is never read)."""
    prefix = _prefix(ledger, seq)
    folder = ledger.parent
    found = []
    for name in sorted(os.listdir(folder)):
        path = folder / name
        if (
            name.startswith(prefix)
            and path.is_file()
            and not path.is_symlink()
            and (size is None or path.stat().st_size == size)
        ):
            found.append((name, path))
    return found


def set_aside(ledger: Path, torn: bytes, seq: int) -> str:
    """Copy *torn*, the bytes after the ledger's last newline, to a side file of seq *seq*
    (or find the one an interrupted recovery already made with the same bytes); return its
    name. The file is on the disk, and its name in the folder, when this returns.

    Raises:
        OSError: the side file cannot be written; the ledger is untouched.
    """
    for name, path in _candidates(ledger, seq, len(torn)):
        if path.read_bytes() == torn:
            return name
    folder = ledger.parent
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    for attempt in range(100):
        name = f"{_prefix(ledger, seq)}{stamp}" + (f"-{attempt}" if attempt else "")
        temporary = write_temporary(folder, name, torn, _MODE)
        try:
            placed = put_in_place(temporary, folder / name, force=False)
        finally:
            with contextlib.suppress(OSError):
                temporary.unlink()  # after a hard link, the name that is left over
        if placed:
            sync_directory(folder)
            return name
    raise FileExistsError(folder / name)  # pragma: no cover - 100 names taken in one microsecond


def side_file_state(ledger: Path, name: object, size: object, sha256: object) -> str:
    """Whether the side file a recovery line names is beside *ledger* with the *size* and
    *sha256* the line records: a few words for the verifier's note."""
    if (
        not isinstance(name, str)
        or not name.startswith(f"{ledger.name}.torn-")
        or "/" in name
        or os.sep in name
        or name in (".", "..")
    ):
        return "the line names no side file beside the ledger"
    path = ledger.parent / name
    try:
        if path.is_symlink() or not path.is_file():
            return "the side file is not there"
        digest = hashlib.sha256()
        length = 0
        with path.open("rb") as reader:
            while block := reader.read(_CHUNK):
                digest.update(block)
                length += len(block)
    except OSError as exc:
        return f"the side file cannot be read ({exc.strerror})"
    if length != size or digest.hexdigest() != sha256:
        return "the side file does not hold what the line records"
    return "the side file is there as recorded"
