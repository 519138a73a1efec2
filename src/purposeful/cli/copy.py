"""``purposeful copy write``: a copy for the person of what was recorded about them, read from
the application's data sources in a purpose scope and logged as a disclosure to them
(Privacy Act 2020, IPP 11(1)(b)), written as a printable HTML page (or Markdown, or text).

The application is named as for ``purposeful bundle build``: ``module:attribute`` of its
`purposeful.access.SubjectAccess`, whose module configures purposeful (the disclosure log
among the rest) when it is imported.

What this module must not do: print the person's identifier or a value from their records,
or hold logic the library does not offer to code.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .. import _trail
from ..errors import AuditSinkError, SubjectAccessError
from ._common import CommandGroup, subject_from
from .ask import parse_level, parse_role
from .bundle import _load_app

__all__ = ["GROUP"]


def _copy_write(args: argparse.Namespace) -> int:
    from ..access.copies import PersonCopy, copy_for_person
    from ..actors import Actor

    subject = subject_from(args, required=True)
    # the copy is logged as handed over when it is made: check first that it can be written,
    # so that a file in the way or a missing folder logs nothing
    out = Path(args.out).absolute()
    if not out.parent.is_dir():
        raise SubjectAccessError(f"cannot write {out}: its folder does not exist")
    if out.is_dir():
        raise SubjectAccessError(f"{out} is a folder; --out names the file to write")
    if not os.access(out.parent, os.W_OK):
        raise SubjectAccessError(f"cannot write in {out.parent}: check its permissions")
    if out.exists() and not args.overwrite:
        raise SubjectAccessError(
            f"{out} exists; no copy was made or logged. Choose another name, or pass --overwrite"
        )
    access = _load_app(args.app)
    actor = Actor(args.actor, args.role, parse_level(args.clearance))
    roles = {role: parse_level(clearance) for role, clearance in args.see} if args.see else None
    unaudited: AuditSinkError | None = None
    try:
        copy = copy_for_person(
            access,
            subject,
            reference=args.reference,
            purpose=args.purpose,
            actor=actor,
            roles=roles,
        )
    except AuditSinkError as error:
        if not isinstance(error.result, PersonCopy):
            raise
        copy, unaudited = error.result, error  # logged: written all the same, then said
    path = copy.write(
        args.out, format=args.format, large_print=args.large_print, overwrite=args.overwrite
    )
    if unaudited is not None:  # the library's message names the failure, never its text
        why = str(unaudited).partition(_trail.HAND_OVER)[2] or str(unaudited)
        failed = AuditSinkError(
            f"{path} holds the copy, logged as handed over (disclosure log entries "
            f"{', '.join(copy.disclosures)}), but its audit failed: hand over that file, and "
            f"fix the audit before making another (running this again would log a second "
            f"copy). {why}"
        )
        for note in getattr(unaudited, "__notes__", ()):
            failed.add_note(note)
        raise failed
    shown = sum(1 for item in copy.items if item.shown)
    left_out = sum(1 for item in copy.items if not item.shown)
    print(f"copy:      {path} ({args.format}{', large print' if args.large_print else ''})")
    print(f"reference: {copy.reference}")
    print(f"items:     {shown} shown, {left_out} not shown (said on the page)")
    if copy.held_back:
        print("held back: information marked for safety review, until a reviewer decides")
    print(f"logged:    {len(copy.disclosures)} disclosure(s) to the person (IPP 11(1)(b))")
    return 0


def _add_copy_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    write = commands.add_parser(
        "write",
        help="write a copy for the person of what was recorded about them",
        description=(
            "Read the person's records from APP's data sources in a purpose scope, log the "
            "copy as a disclosure to them (IPP 11(1)(b)) and write it as a printable page."
        ),
    )
    write.add_argument("app", metavar="APP", help="module:attribute of your SubjectAccess")
    write.add_argument("--reference", required=True, metavar="REF", help="the copy's reference")
    write.add_argument("--subject-env", metavar="VAR", help="variable holding the person's id")
    write.add_argument("--subject", metavar="ID", help="the person's id (visible to ps)")
    write.add_argument("--purpose", required=True, help="the purpose the fields are read for")
    write.add_argument("--actor", required=True, metavar="ID", help="who hands the copy over")
    write.add_argument("--role", required=True, help="their role")
    write.add_argument("--clearance", required=True, help="their clearance, e.g. SENSITIVE")
    write.add_argument(
        "--see",
        action="append",
        type=parse_role,
        metavar="ROLE=CLEARANCE",
        help="a role for 'who may see it', e.g. caseworker=SENSITIVE; repeat (default: --role)",
    )
    write.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    write.add_argument(
        "--format", choices=("html", "markdown", "text"), default="html", help="default: html"
    )
    write.add_argument("--large-print", action="store_true", help="the large-print page")
    write.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    write.set_defaults(run=_copy_write)


GROUP = CommandGroup(
    "copy", "a copy for the person of what was recorded about them", _add_copy_commands
)
