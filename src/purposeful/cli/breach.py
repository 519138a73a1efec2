"""``purposeful breach assess``: what a compromised credential, role, service or record type
reached, from the audit trail (Privacy Act 2020, Part 6).

It prints the assessment (or writes it with ``--out``), and on request writes the people to
contact (``--people``, by re-hashing the ids of ``--subject-ids`` with ``--key-file``) and a
draft notification for them (``--notification``).

What this module must not do: print a subject identifier (the people go only to the file
named by ``--people``), or hold logic the library does not offer to code.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Iterator
from pathlib import Path

from .._shared.agency import AgencyDetails
from ..audit import PseudonymKey, load_pseudonym_key
from ..audit.report.reading import files_read
from ..breach import (
    Assessment,
    Compromise,
    Notification,
    Trail,
    assess,
    assessment_document,
    name_people,
    notification_document,
    nz_moment,
    render_html,
    render_markdown,
    render_text,
)
from ..errors import BreachAssessmentError
from ._common import CommandGroup, write_out
from ._ledgers import verify_ledgers

__all__ = ["GROUP"]

_RENDER = {"text": render_text, "markdown": render_markdown, "html": render_html}
_SUFFIX = {".md": "markdown", ".html": "html", ".htm": "html"}


def _trail(args: argparse.Namespace) -> Trail | None:
    """The trail the arguments name; None if a ledger did not verify (said why)."""
    if args.clickhouse is not None:
        if args.traces or args.ledgers or args.archive or args.public_key:
            raise BreachAssessmentError(
                "--clickhouse reads the server's trace table: give it without trace files, "
                "--ledger, --archive or --public-key"
            )
        return Trail.on_clickhouse(args.clickhouse, table=args.table)
    if args.archive is not None:
        if args.traces or args.ledgers or args.engine == "stdlib":
            raise BreachAssessmentError(
                "--archive reads a Parquet archive with DuckDB: give it alone, without trace "
                "files, --ledger or --engine stdlib"
            )
        return Trail.from_archive(args.archive)
    verified = verify_ledgers(args)
    if verified is None:
        return None
    engine = args.engine
    if engine == "auto":
        engine = "duckdb" if importlib.util.find_spec("duckdb") is not None else "stdlib"
    with files_read() as read:
        trail = Trail.from_files(
            args.traces,
            verified.ledgers,
            engine=engine,
            ledgers_verified=verified.verified if args.ledgers else None,
        )
    if verified.unchanged(read):
        return trail
    trail.close()
    return None


def _records(args: argparse.Namespace) -> tuple[type, ...]:
    if not args.records:
        return ()
    from ..notices import import_declarations

    return import_declarations(args.records).records


def _ids(path: str) -> Iterator[str]:
    try:
        with open(path, encoding="utf-8") as file:
            for line in file:
                subject = line.rstrip("\r\n")
                if subject:
                    yield subject
    except OSError as error:
        raise BreachAssessmentError(
            f"cannot read the subject ids in {path} ({type(error).__name__}); give a file "
            "of one id a line"
        ) from None
    except UnicodeDecodeError:
        raise BreachAssessmentError(f"{path} is not UTF-8 text of one id a line") from None


def _check_outputs(args: argparse.Namespace) -> list[PseudonymKey] | None:
    """Every option of what is written besides the assessment, checked (and the keys
    loaded) before anything is: a wrong combination writes nothing. The keys to name the
    people with, if they are to be named."""
    given = [args.people is not None, args.subject_ids is not None, bool(args.key_files)]
    if any(given) and not all(given):
        raise BreachAssessmentError(
            "--people, --subject-ids and --key-file go together: the ids are re-hashed with "
            "the pseudonym keys to find the people, who are written to the --people file"
        )
    if args.notification is not None and not (
        args.agency and args.contact and args.what_happened and args.what_we_did
    ):
        raise BreachAssessmentError(
            "--notification needs --agency, --contact, --what-happened and --what-we-did: "
            "the agency's own words for what happened and what it has done"
        )
    if not all(given):
        return None
    return [load_pseudonym_key(path, env=None) for path in args.key_files]


def _name(
    args: argparse.Namespace, assessment: Assessment, keys: list[PseudonymKey] | None
) -> None:
    if keys is None:
        return
    named = name_people(
        assessment, _ids(args.subject_ids), keys, args.people, overwrite=args.overwrite
    )
    print(named.describe())


def _notify(args: argparse.Namespace, assessment: Assessment) -> None:
    if args.notification is None:
        return
    agency = AgencyDetails(args.agency, email=args.contact)
    wording = Notification(
        agency,
        args.what_happened,
        args.what_we_did,
        args.what_you_can_do,
        commissioner_told=args.commissioner_told,
    )
    target = Path(args.notification)
    form = _SUFFIX.get(target.suffix.lower(), "text")
    page = _RENDER[form](notification_document(assessment, wording))
    write_out(target, page, overwrite=args.overwrite, what="the notification")
    print(f"draft notification: {target}")


def _assess(args: argparse.Namespace) -> int:
    compromise = Compromise(
        nz_moment(args.start),
        nz_moment(args.end, end=True),
        actors=args.actors,
        roles=args.roles,
        services=args.services,
        record_types=args.record_types,
    )
    records = _records(args)
    keys = _check_outputs(args)
    trail = _trail(args)
    if trail is None:
        return 1
    with trail:
        assessment = assess(trail, compromise, records=records)
    page = _RENDER[args.format](assessment_document(assessment))
    if args.out is None:
        print(page, end="")
    else:
        write_out(Path(args.out), page, overwrite=args.overwrite, what="the assessment")
        print(f"assessment: {args.out} ({assessment.people} people)")
    _name(args, assessment, keys)
    _notify(args, assessment)
    return 0


def _add_breach_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "assess",
        help="what a compromise reached, from the audit trail",
        description="Assess a breach from the audit trail: how many people, which "
        "information and purposes, what was disclosed, and what the trail cannot see. "
        "Whether serious harm is likely stays a person's decision.",
    )
    command.add_argument("traces", nargs="*", metavar="FILES", help="OTLP JSON trace files")
    command.add_argument(
        "--ledger", dest="ledgers", action="extend", nargs="+", default=[], metavar="LEDGER"
    )
    command.add_argument("--public-key", metavar="K", help="verify the ledgers with it first")
    command.add_argument("--archive", metavar="DIR", help="a Parquet archive (audit convert)")
    command.add_argument("--clickhouse", metavar="URL", help="the Collector's ClickHouse")
    command.add_argument("--table", default="otel_traces", help="the ClickHouse trace table")
    command.add_argument(
        "--engine",
        choices=("auto", "duckdb", "stdlib"),
        default="auto",
        help="DuckDB (purposeful[report]) or the standard library's SQLite; auto: DuckDB "
        "when installed",
    )
    window = command.add_argument_group("the window, in New Zealand time unless an offset is given")
    window.add_argument(
        "--from", dest="start", required=True, metavar="WHEN", help="2026-12-02 or 2026-12-02T09:30"
    )
    window.add_argument(
        "--to", dest="end", required=True, metavar="WHEN", help="a date includes the whole day"
    )
    what = command.add_argument_group("what was compromised (repeat each; at least one)")
    for flag, dest in (
        ("--actor", "actors"),
        ("--role", "roles"),
        ("--service", "services"),
        ("--record-type", "record_types"),
    ):
        what.add_argument(flag, dest=dest, action="append", default=[], metavar="NAME")
    command.add_argument(
        "--records",
        action="append",
        default=[],
        metavar="MODULE",
        help="a module declaring the record classes, for categories and sensitivity",
    )
    command.add_argument("--format", choices=tuple(_RENDER), default="text")
    command.add_argument("--out", metavar="FILE", help="write the assessment here")
    command.add_argument("--overwrite", action="store_true", help="replace files that exist")
    people = command.add_argument_group("naming the people (written only to --people)")
    people.add_argument("--people", metavar="FILE", help="the file to write the people to")
    people.add_argument("--subject-ids", metavar="FILE", help="the agency's ids, one a line")
    people.add_argument("--key-file", dest="key_files", action="append", default=[], metavar="K")
    notify = command.add_argument_group("a draft notification for the people affected")
    notify.add_argument("--notification", metavar="FILE", help=".txt, .md or .html")
    notify.add_argument("--agency", metavar="NAME")
    notify.add_argument("--contact", metavar="EMAIL", help="the privacy officer's email")
    notify.add_argument("--what-happened", metavar="TEXT")
    notify.add_argument("--what-we-did", metavar="TEXT")
    notify.add_argument("--what-you-can-do", metavar="TEXT")
    notify.add_argument(
        "--commissioner-told",
        action="store_true",
        help="the Privacy Commissioner has been notified already (the draft says so; by "
        "default it says the agency is telling them)",
    )
    command.set_defaults(run=_assess)


GROUP = CommandGroup("breach", "assess a privacy breach from the audit trail", _add_breach_commands)
