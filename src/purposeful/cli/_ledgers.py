"""The ledgers a report is made from, verified first (``--ledger`` with ``--public-key``).

A ledger is read twice: verified against its signed checkpoints, then read for the report
(`audit report`, `audit convert`, `breach assess`). So each must be a file (a pipe would be
empty the second time), each is read by its real path, resolved once (a symbolic link
swapped while the report reads would lead the reading elsewhere), and each must be the same
file, unchanged, when its reading for the report is done: its size, times and a digest of
its bytes are taken before it is verified and compared after (`Verified.unchanged`), or
the report says it was not what was verified. A file that does not verify is named a trace
file given after ``--ledger`` (an argument-order slip, a usage error) only when nothing
says it is a ledger: no signed checkpoints beside it, and its start is an OTLP JSON
document's.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

import attrs

from ..audit import load_public_key
from ..audit.conventions import LedgerKey
from ..audit.ledger import verify_ledger
from ..audit.ledger.format import default_checkpoints_path
from ..errors import ConfigurationError, ReportInputError

__all__ = ["Verified", "verify_ledgers"]

#: How much of a file's start is read to tell a trace file given by mistake.
_SNIFFED = 1 << 20
#: An OTLP JSON document's start, written on one line or indented.
_OTLP_START = re.compile(rb'\s*\{\s*"resourceSpans"\s*:')

_State = tuple[int, int, int, int, int, str]


@attrs.frozen
class Verified:
    """What `verify_ledgers` found: whether the ledgers were verified with a key, the
    paths to read them by (their real paths, when verified), and each one's state."""

    verified: bool
    ledgers: tuple[str, ...]
    states: tuple[tuple[str, _State | None], ...] = ()

    def unchanged(self, read: Mapping[str, set[tuple[int, int]]]) -> bool:
        """True if every ledger verified is as it was then, and is the file the report read
        (*read*, by `reading.files_read`); else says which is not, and why there is no
        report."""
        for path, before in self.states:
            if (
                before is None
                or _state(path) != before
                or read.get(str(Path(path)), set()) != {(before[0], before[1])}
            ):
                print(
                    f"{path}: changed while it was being verified and read for the report "
                    f"(a service still writing it, or an edit)"
                )
                print(
                    "No report: what was read is not what was verified. Report on a ledger "
                    "no longer written (a rotated one) or on a copy."
                )
                return False
        return True


def verify_ledgers(args: argparse.Namespace) -> Verified | None:
    """Verify every ledger of ``args.ledgers`` with ``args.public_key``: `Verified` if they
    all verify (not verified when there is no key), None after saying why if one does not.

    Raises:
        ConfigurationError: --public-key without a ledger, a ledger that is not a file,
            or one given twice.
        ReportInputError: a trace file given after --ledger.
    """
    _refuse_repeats(args.ledgers)
    if args.public_key is None:
        return Verified(False, tuple(args.ledgers))
    if not args.ledgers:
        raise ConfigurationError("--public-key verifies ledgers: give them with --ledger")
    public_key = load_public_key(args.public_key)
    for ledger in args.ledgers:
        _refuse_if_not_a_file(ledger)
    real = tuple(os.path.realpath(ledger) for ledger in args.ledgers)
    states = tuple((path, _state(path)) for path in real)
    for given, path in zip(args.ledgers, real, strict=True):
        result = verify_ledger(path, public_key)
        if not result.ok:
            if _trace_file(path):
                raise ReportInputError(
                    "is OTLP JSON, not a ledger line; pass trace files without --ledger "
                    "(before it)",
                    path=given,
                    line=1,
                )
            print(f"{given}: {result.describe()}")
            print("No report: a ledger that does not verify may have been edited.")
            return None
    return Verified(True, real, states)


def _refuse_repeats(ledgers: list[str]) -> None:
    """Refuse one ledger given twice (a file and a link to it, both matched by a shell
    pattern): its scopes would be counted twice.

    Raises:
        ConfigurationError: two of *ledgers* are the same file.
    """
    seen: dict[str, str] = {}
    for ledger in ledgers:
        real = os.path.realpath(ledger)
        if real in seen:
            raise ConfigurationError(
                f"{seen[real]} and {ledger} are the same ledger; give it once (its scopes "
                f"would be counted twice)"
            )
        seen[real] = ledger


def _refuse_if_not_a_file(path: str) -> None:
    """Refuse a ledger that is not a file (a pipe, ``<(zcat audit.jsonl.gz)``): it is read
    twice, and the second reading would find it empty.

    Raises:
        ConfigurationError: it is a pipe, a socket, a device or a directory.
    """
    with contextlib.suppress(OSError):  # missing or unreadable: the verification says
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ConfigurationError(
                f"{path} is not a file (a pipe?): a ledger is read twice, to verify it and "
                f"to report on it; write it to a file first (zcat audit.jsonl.gz > "
                f"audit.jsonl) and give that"
            )


def _state(path: str) -> _State | None:
    """*path*'s file, as far as a change to it shows: which file, its size, its times, and
    a digest of its bytes; None if it cannot be read, or is a symbolic link now."""
    try:
        with open(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as file:
            found = os.fstat(file.fileno())
            digest = hashlib.file_digest(file, "blake2b").hexdigest()
    except OSError:
        return None
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns, digest)


def _trace_file(path: str) -> bool:
    """Whether a file that did not verify as a ledger is a trace file given after
    ``--ledger`` (which takes several files), an argument-order slip rather than an edited
    ledger: no signed checkpoints beside it (a ledger verified with a key has them), and it
    starts as an OTLP JSON document, whose first line, if it is whole, has no ledger
    line's type (as the report's reader judges a line)."""
    try:
        if default_checkpoints_path(path).exists():
            return False
    except OSError:  # a name too long for checkpoints beside it: not known to be none
        return False
    with contextlib.suppress(OSError), open(path, "rb") as file:
        head = file.read(_SNIFFED)
        first = head.split(b"\n", 1)[0]
        with contextlib.suppress(ValueError):
            line = json.loads(first)
            return isinstance(line, dict) and "resourceSpans" in line and LedgerKey.TYPE not in line
        return _OTLP_START.match(head) is not None
    return False
