"""Reading a key file safely: a regular file, bounded, and (for a secret key) one only its
owner can open, checked on the file that was opened, not on whatever the path names by then.

Shared by `keys` (signing and pseudonym keys) and the recipient keys of encrypted bundles
(`purposeful.access.recipients`). What this module must not do: put a key's bytes in an
error message (errors name the file and what to do), or read a secret key file that other
users can open.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

from ..errors import KeyFileError

__all__ = ["NEW_KEYS_HINT", "read_key_file", "starts_with"]

#: What to do when there is no key file yet.
NEW_KEYS_HINT: Final = "create keys with `purposeful keys new DIR`"
#: A key file is a few hundred bytes; anything much bigger is not one.
_MAX_KEY_BYTES: Final = 64 * 1024


def starts_with(data: bytes, prefix: bytes) -> bool:
    """Whether key text *data* starts with *prefix*, after a byte-order mark and ``#``
    comment lines (which the key files' readers allow)."""
    lines = [line.strip() for line in data.removeprefix(b"\xef\xbb\xbf").splitlines()]
    meaningful = [line for line in lines if line and not line.startswith(b"#")]
    return bool(meaningful) and meaningful[0].startswith(prefix)


def _starts_with(descriptor: int, public: bytes) -> bool:
    """Whether the open file starts with *public* (`starts_with`)."""
    with os.fdopen(descriptor, "rb", closefd=False) as opened:
        return starts_with(opened.read(4096), public)


def read_key_file(
    file: Path,
    *,
    private: bool,
    hint: str = NEW_KEYS_HINT,
    public: bytes | None = None,
    public_problem: str = "holds a public key, not the private key; pass the private key file",
) -> bytes:
    """The bytes of a key file; a private one must be a regular file only its owner can open.

    *public* is how a public key of the kind starts (after ``#`` comment lines): a private
    key's path that names a readable public key file is told so (*public_problem*), rather
    than to ``chmod``.

    Raises:
        KeyFileError: the file is missing, unreadable, not a regular file, larger than any
            key file, or (*private*) open to other users; *hint* says how to make new keys.
    """
    problem = None
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(file, flags)
    except FileNotFoundError:
        problem = f"does not exist; check the path, or {hint}"
    except PermissionError:
        problem = "cannot be read by this process (permission denied); check its owner"
    except OSError as exc:
        problem = f"cannot be opened ({exc.strerror}); check the path"
    if problem is not None:
        raise KeyFileError(f"{file} {problem}", source=file)
    try:
        # The checks look at the file that was opened, not at whatever the path names now.
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            problem = "is not a regular file; pass the path of the key file itself"
        elif private and os.name == "posix" and mode & 0o077:
            problem = (
                f"is a secret key file that other users can open (mode "
                f"{stat.S_IMODE(mode):04o}); run `chmod 600 {file}` and try again"
            )
            if public is not None and _starts_with(descriptor, public):
                problem = public_problem
        else:
            with os.fdopen(descriptor, "rb", closefd=False) as opened:
                data = opened.read(_MAX_KEY_BYTES + 1)
            if len(data) <= _MAX_KEY_BYTES:
                return data
            problem = f"is too large to be a key file; pass the key file, {hint}"
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror}); check the file"
    finally:
        os.close(descriptor)
    raise KeyFileError(f"{file} {problem}", source=file)
