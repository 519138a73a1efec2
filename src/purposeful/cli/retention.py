"""``purposeful retention due|dispose|hold|release|holds``: retention and disposal (IPP 9).

- ``due APP``: what is past retention for every purpose it is held for, today in New
  Zealand (or ``--today``), as text, CSV or JSON; counts and record types, the rule that
  made records due, and the holds that keep them. With ``--pseudonym-key``, one line per
  record under its person's pseudonym; never a subject id. ``--subject-env VAR`` asks
  about one person (their id read from the environment, out of the process list).
  ``--ledger`` adds the disposals the ledger holds as begun and never done (interrupted),
  which the next ``dispose`` finishes.
- ``dispose APP``: dispose of what is due through the sources' hooks, with evidence in the
  ledger (``--ledger``, signed with ``--signing-key``) under pseudonyms
  (``--pseudonym-key``); ``--authority`` cites the disposal authority (required with
  ``--public-office``).
- ``hold``, ``release``, ``holds``: the hold register (a SQLite file, ``--holds``): place a
  legal hold, release one, list them (without subjects or reasons).

APP is ``module:attribute`` naming the application's `purposeful.retention.RetentionSources`
(or a function returning them); importing the module configures purposeful as the
application does (its registry, its agency kinds).

What this module must not do: print a subject id, a record's key, a value or a hold's
reason; hold logic the library does not offer to code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ._common import (
    CommandGroup,
    load_app,
    parse_date,
    secret_from_env,
    shown,
    subject_from,
    write_out,
)

__all__ = ["GROUP"]


def _load_sources(spec: str) -> Any:
    """The `RetentionSources` named by ``module:attribute`` (or a function returning them)."""
    from ..retention import RetentionSources

    return load_app(
        spec,
        RetentionSources,
        example="myapp.retention:sources",
        what="the object your application registers its retention sources in",
    )


def _stores(args: argparse.Namespace) -> dict[str, Any]:
    """The hold register and correction store the options name, opened."""
    from ..corrections.sqlite import SQLiteCorrectionStore
    from ..holds.sqlite import SQLiteHoldStore

    found: dict[str, Any] = {}
    if args.holds is not None:
        found["holds"] = SQLiteHoldStore(_existing(args.holds, "--holds"))
    if args.corrections is not None:
        found["corrections"] = SQLiteCorrectionStore(_existing(args.corrections, "--corrections"))
    return found


def _existing(path: str, option: str) -> Path:
    if Path(path).is_dir():
        raise ConfigurationError(
            f"{option} {shown(path)} is a directory; give the store's file inside it"
        )
    if not Path(path).is_file():
        raise ConfigurationError(f"{option} {shown(path)}: no such file; give the store's file")
    return Path(path)


def _close(stores: dict[str, Any]) -> None:
    for store in stores.values():
        store.close()


def _due(args: argparse.Namespace) -> int:
    from ..audit import load_pseudonym_key
    from ..retention import due_csv, due_json, due_text, retention_due

    sources = _load_sources(args.app)
    pseudonymise = None
    if args.pseudonym_key is not None:
        pseudonymise = load_pseudonym_key(args.pseudonym_key, env=None).pseudonym
    subject = subject_from(args, required=False)
    interrupted: list[Any] = []
    if args.ledger is not None:
        from ..audit.ledger import unfinished_disposals

        interrupted = unfinished_disposals(_existing(args.ledger, "--ledger"))
    stores = _stores(args)
    try:
        report = retention_due(
            sources, today=args.today, subject=subject, interrupted=interrupted, **stores
        )
    finally:
        _close(stores)
    render = {"text": due_text, "csv": due_csv, "json": due_json}[args.format]
    output = render(report, pseudonymise=pseudonymise)
    if args.out is None:
        sys.stdout.write(output)
        return 0
    write_out(Path(args.out), output, overwrite=args.overwrite, what="the list")
    print(
        f"written: {shown(args.out)} ({len(report.due)} due, {len(report.held)} held, "
        f"{len(report.interrupted)} interrupted)"
    )
    return 0


def _dispose(args: argparse.Namespace) -> int:
    from ..audit import Ledger, load_pseudonym_key, load_signing_key
    from ..retention import dispose_due
    from ..retention.disposal import disposal_day

    disposal_day(args.today)  # a day ahead is refused before anything, the ledger, is made
    sources = _load_sources(args.app)
    key = load_signing_key(
        args.signing_key,
        passphrase=secret_from_env(args.signing_key_passphrase_env, "the signing key"),
    )
    pseudonym_key = load_pseudonym_key(args.pseudonym_key, env=None)
    stores = _stores(args)
    try:
        with Ledger(args.ledger, signing_key=key) as ledger:
            summary = dispose_due(
                sources,
                ledger=ledger,
                by=args.by,
                today=args.today,
                authority=args.authority,
                public_office=True if args.public_office else None,
                pseudonymise=pseudonym_key.pseudonym,
                other_record_types=args.other_record_type or (),
                **stores,
            )
    finally:
        _close(stores)
    for (source, record_type), count in sorted(summary.disposed.items()):
        print(f"disposed: {count:,} {shown(record_type)} from {shown(source)}")
    for (source, record_type), count in sorted(summary.held.items()):
        print(f"held:     {count:,} {shown(record_type)} from {shown(source)}")
    for (source, record_type), count in sorted(summary.finished.items()):
        print(
            f"finished: {count:,} interrupted disposals of {shown(record_type)} "
            f"from {shown(source)}"
        )
    if not summary.disposed:
        print("disposed: nothing was due")
    if summary.interrupted:
        print(
            f"interrupted: {summary.interrupted:,} disposals stay open (held or kept now); "
            f"`purposeful retention due --ledger` lists them"
        )
    print(f"evidence: {shown(args.ledger)}")
    return 0


def _register(args: argparse.Namespace, *, create: bool = False) -> Any:
    """The hold register of ``--holds``; only placing a hold may create it (a mistyped path
    must not list "no holds" from a new, empty register)."""
    from ..holds.sqlite import SQLiteHoldStore

    return SQLiteHoldStore(args.holds if create else _existing(args.holds, "--holds"))


def _hold(args: argparse.Namespace) -> int:
    subject = subject_from(args, required=False)
    with _register(args, create=True) as register:
        hold = register.place(
            reason=args.reason,
            by=args.by,
            subject=subject,
            record_type=args.record_type,
            until=args.until,
        )
    print(shown(f"placed: {hold.describe()}"))
    return 0


def _release(args: argparse.Namespace) -> int:
    with _register(args) as register:
        hold = register.release(args.hold_id, by=args.by)
    print(shown(f"released: {hold.describe()}"))
    return 0


def _holds(args: argparse.Namespace) -> int:
    with _register(args) as register:
        holds = register.holds()
    for hold in holds:
        whose = "one person's" if hold.subject is not None else "everyone's"
        kinds = hold.record_type if hold.record_type is not None else "every record type"
        print(shown(f"{hold.describe()}; {whose} records, {kinds}"))
    if not holds:
        print("no holds")
    return 0


def _add_sources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app", metavar="APP", help="module:attribute of your RetentionSources")
    parser.add_argument(
        "--today", type=parse_date, metavar="YYYY-MM-DD", help="the New Zealand day to assess"
    )
    parser.add_argument("--holds", metavar="PATH", help="the hold register (SQLite file)")
    parser.add_argument(
        "--corrections",
        metavar="PATH",
        help="a correction store (SQLite file): its pending requests hold their person's records",
    )


def _add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    due = commands.add_parser(
        "due",
        help="what is past retention, due or held",
        description=(
            "List what is past retention for every purpose it is held for (New Zealand "
            "days), with the rule that made it due and the holds that keep it: counts and "
            "record types, never values or subject ids."
        ),
    )
    _add_sources(due)
    due.add_argument("--format", choices=("text", "csv", "json"), default="text")
    due.add_argument(
        "--pseudonym-key",
        metavar="F",
        help="list each record under its person's keyed pseudonym (pseudonym.key)",
    )
    due.add_argument(
        "--subject-env",
        metavar="VAR",
        help="only the records of the person whose id is in this environment variable",
    )
    due.add_argument(
        "--ledger",
        metavar="LEDGER",
        help="the audit ledger: list the disposals it holds as begun and never done",
    )
    due.add_argument("--out", metavar="FILE", help="write to FILE (atomically) instead")
    due.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    due.set_defaults(run=_due)

    dispose = commands.add_parser(
        "dispose",
        help="dispose of what is due, with evidence in the ledger",
        description=(
            "Delete or de-identify every record past retention that no hold keeps, through "
            "each source's hook, writing evidence to the audit ledger before and after each."
        ),
    )
    _add_sources(dispose)
    dispose.add_argument("--ledger", required=True, metavar="LEDGER", help="the audit ledger")
    dispose.add_argument("--signing-key", required=True, metavar="F", help="signing-key.pem")
    dispose.add_argument("--signing-key-passphrase-env", metavar="VAR", help="its passphrase")
    dispose.add_argument("--pseudonym-key", required=True, metavar="F", help="pseudonym.key")
    dispose.add_argument("--by", required=True, metavar="ACTOR", help="who runs the disposal")
    dispose.add_argument("--authority", metavar="REF", help="the disposal authority's reference")
    dispose.add_argument(
        "--public-office",
        action="store_true",
        help="the agency is a public office (Public Records Act 2005): --authority is required",
    )
    dispose.add_argument(
        "--other-record-type",
        action="append",
        metavar="NAME",
        help="a record type another service keeps holds on in a shared hold register "
        "(repeat for each): a hold naming it is not taken for a mistyped one",
    )
    dispose.set_defaults(run=_dispose)

    hold = commands.add_parser("hold", help="place a legal hold")
    hold.add_argument("--holds", required=True, metavar="PATH", help="the hold register")
    hold.add_argument("--reason", required=True, help="why, in words (kept in the register)")
    hold.add_argument("--by", required=True, metavar="ACTOR", help="who places it")
    hold.add_argument("--subject-env", metavar="VAR", help="hold this person's records only")
    hold.add_argument("--subject", metavar="ID", help="as --subject-env, on the command line")
    hold.add_argument("--record-type", metavar="TYPE", help="hold this record type only")
    hold.add_argument("--until", type=parse_date, metavar="YYYY-MM-DD", help="last day it holds")
    hold.set_defaults(run=_hold)

    release = commands.add_parser("release", help="release a hold")
    release.add_argument("hold_id", metavar="HOLD", help="the hold's id")
    release.add_argument("--holds", required=True, metavar="PATH", help="the hold register")
    release.add_argument("--by", required=True, metavar="ACTOR", help="who releases it")
    release.set_defaults(run=_release)

    holds = commands.add_parser("holds", help="list the holds")
    holds.add_argument("--holds", required=True, metavar="PATH", help="the hold register")
    holds.set_defaults(run=_holds)


GROUP = CommandGroup("retention", "retention and disposal (IPP 9)", _add_commands)
