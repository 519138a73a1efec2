"""``purposeful store verify PATH``: check a SQLite store file (consent, correction or
sharing) with SQLite's full integrity check.

Opening a store checks only the file's header and schema, so that a process starts in
milliseconds whatever the size of the file; run this from a maintenance job (or after a
crash, a disk error or a restore) to find a page damaged anywhere in the file.

What this module must not do: print anything stored in the file (only its path and kind),
write to the file, or hold logic the library does not offer to code.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .._shared.sqlite import application_id, verify_file
from ..errors import StoreCorrupt, StoreError
from ._common import CommandGroup, shown

__all__ = ["GROUP"]


def _kinds() -> dict[int, str]:
    """Application id → the kind of store, for every SQLite store purposeful writes."""
    from ..consent.sqlite import APPLICATION_ID as CONSENT
    from ..corrections.sqlite import APPLICATION_ID as CORRECTIONS
    from ..sharing.sqlite import APPLICATION_ID as SHARING

    return {CONSENT: "consent store", CORRECTIONS: "correction store", SHARING: "sharing store"}


def _store_verify(args: argparse.Namespace) -> int:
    path = Path(args.path).absolute()
    kind = _kinds().get(application_id(path, StoreError))
    if kind is None:
        raise StoreCorrupt(
            f"{path} is not a purposeful store file (a consent, correction or sharing store "
            f"in SQLite); check the path"
        )
    try:
        verify_file(path, kind=kind, error=StoreError)
    except StoreCorrupt as damaged:
        print(shown(str(damaged)))
        return 1
    print(shown(f"{path}: a purposeful {kind}; SQLite's integrity check passed"))
    return 0


def _add_store_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = commands.add_parser(
        "verify",
        help="check a SQLite store file with SQLite's full integrity check",
        description=(
            "Check a purposeful SQLite store file (consent, correction or sharing) with "
            "SQLite's full integrity check, read-only, while the store may be in use. "
            "Exit status: 0 when the file is whole, 1 when it is damaged (restore it from a "
            "backup), 2 when PATH is not a purposeful store file."
        ),
    )
    verify.add_argument("path", metavar="PATH", help="the store's SQLite file")
    verify.set_defaults(run=_store_verify)


GROUP = CommandGroup("store", "check a store's SQLite file", _add_store_commands)
