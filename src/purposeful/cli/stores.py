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

from .._shared.sqlite import application_id, has_table, verify_file
from ..errors import StoreCorrupt, StoreError, StoreUnavailable
from ._common import CommandGroup, shown

__all__ = ["GROUP"]


def _kinds() -> dict[int, tuple[str, str]]:
    """Application id → (the kind of store, its table), for every SQLite store purposeful
    writes."""
    from ..consent.sqlite import APPLICATION_ID as CONSENT
    from ..corrections.sqlite import APPLICATION_ID as CORRECTIONS
    from ..holds.sqlite import APPLICATION_ID as HOLDS
    from ..sharing.sqlite import APPLICATION_ID as SHARING

    return {
        CONSENT: ("consent store", "consent_events"),
        CORRECTIONS: ("correction store", "corrections"),
        SHARING: ("sharing store", "disclosures"),
        HOLDS: ("hold register", "holds"),
    }


_MAGIC = b"SQLite format 3\x00"


def _stamped_id(path: Path) -> int | None:
    """The application id in the file's own header (bytes 68–71), read without SQLite, so
    that a store whose header SQLite refuses is still known as a store; None for a file
    that is not a SQLite database."""
    if not path.is_file():
        raise StoreUnavailable(f"{path} is not a file; give the path of a purposeful store file")
    try:
        with path.open("rb") as file:
            head = file.read(100)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot read {path} ({type(exc).__name__}); check the path and its permissions"
        ) from None
    if len(head) < 100 or not head.startswith(_MAGIC):
        return None
    return int.from_bytes(head[68:72], "big")


def _store_verify(args: argparse.Namespace) -> int:
    path = Path(args.path).absolute()
    stamped = _stamped_id(path)
    found = _kinds().get(stamped or 0)
    if found is None:
        raise StoreCorrupt(
            f"{path} is not a purposeful store file (a consent, correction or sharing store "
            f"in SQLite); check the path"
        )
    kind, table = found
    try:
        if application_id(path, StoreError) != stamped:
            raise StoreCorrupt(
                f"the {kind} {path} is damaged (SQLite cannot read its header); restore the "
                f"file from a backup"
            )
        if not has_table(path, table, StoreError):
            holds = False
        else:
            holds = True
            verify_file(path, kind=kind, error=StoreError)
    except StoreCorrupt as damaged:
        print(shown(str(damaged)))
        return 1
    if not holds:
        raise StoreCorrupt(
            f"{path} is stamped as a purposeful {kind} but holds none of its tables, so it is "
            f"not a store file; check the path"
        )
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
