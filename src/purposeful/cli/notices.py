"""``purposeful notice build|check MODULE...``: the privacy notice, its register and the
fides crosswalk from the annotations, and the drift check against a published register.

What this module must not do: hold logic the library does not offer to code.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._common import CommandGroup, shown
from .ask import parse_level, parse_role

__all__ = ["GROUP"]


def _add_notice_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``purposeful notice build|check``: the notice, its register and the drift check."""

    def declarations(args: argparse.Namespace) -> Any:
        from ..notices import import_declarations

        return import_declarations(args.modules, agreement_files=args.agreements)

    def build(args: argparse.Namespace) -> int:
        from ..notices import AgencyDetails, build_notice

        agency = AgencyDetails(
            name=args.agency_name,
            email=args.agency_email,
            phone=args.agency_phone,
            postal_address=args.agency_address,
            website=args.agency_website,
        )
        found = declarations(args)
        notice = build_notice(
            agency=agency,
            records=found.records,
            agreements=found.agreements,
            version=args.notice_version,
            roles={role: parse_level(level) for role, level in args.role} or None,
        )
        for kind, path in notice.write(args.out).items():
            print(f"{kind + ':':<10}{shown(str(path))}")
        fields = sum(len(record.fields) for record in notice.records)
        counts = [
            (len(notice.records), "record type"),
            (fields, "field"),
            (len(notice.agreements), "agreement"),
        ]
        said = ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in counts)
        print(f"version:  {shown(notice.version)} ({said})")
        return 0

    def check(args: argparse.Namespace) -> int:
        from ..notices import DriftKind, build_notice, check_drift, read_register

        published = read_register(args.published)
        found = declarations(args)
        notice = build_notice(
            agency=published.agency, records=found.records, agreements=found.agreements
        )
        drifts = check_drift(published, notice)
        for drift in drifts:
            print(shown(drift.describe()))
        version = shown(published.notice_version)  # read from the file: shown, never acted on
        undeclared = sum(d.kind is DriftKind.SUPPLY_UNDECLARED for d in drifts)
        changes = len(drifts) - undeclared
        if changes:
            print(
                f"{changes} change{'s' if changes != 1 else ''} since the notice "
                f"published as {version}: publish a new notice "
                f"(purposeful notice build) before relying on them",
                file=sys.stderr,
            )
        if undeclared:
            # not a change since publication: a new notice would not say it either
            print(
                f"{undeclared} field{'s do' if undeclared != 1 else ' does'} not declare "
                f"whether people must give {'them' if undeclared != 1 else 'it'} (IPP 3(1)): "
                f"declare supply= in the code, then build and publish the notice again "
                f"(building it again before that does not help)",
                file=sys.stderr,
            )
        if drifts:
            return 1
        print(f"no drift: the notice published as {version} tells it all")
        return 0

    def inputs(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "modules", nargs="+", metavar="MODULE", help="modules that declare your records"
        )
        parser.add_argument(
            "--agreements",
            action="append",
            default=[],
            metavar="FILE.toml",
            help="sharing agreements ([[agreement]] tables); repeat for several",
        )

    build_parser = commands.add_parser(
        "build",
        help="write the notice (Markdown, HTML), its register and the fides dataset",
        description=(
            "Import MODULE... (from the working directory first), then write notice.md, "
            "notice.html, register.json and fides-dataset.yml to --out, from the record types "
            "they declare and the sharing agreements at their top level and in --agreements. "
            "Publish register.json with the notice: 'purposeful notice check' compares with "
            "it."
        ),
    )
    inputs(build_parser)
    build_parser.add_argument("--agency-name", required=True, metavar="NAME", help="who we are")
    build_parser.add_argument("--agency-email", metavar="E", help="the privacy officer's email")
    build_parser.add_argument("--agency-phone", metavar="P", help="the privacy officer's phone")
    build_parser.add_argument("--agency-address", metavar="A", help="our postal address")
    build_parser.add_argument("--agency-website", metavar="URL", help="our website")
    build_parser.add_argument(
        "--notice-version", metavar="V", help="the notice's version (default: a digest)"
    )
    build_parser.add_argument(
        "--role",
        action="append",
        default=[],
        type=parse_role,
        metavar="ROLE=CLEARANCE",
        help="a role and its clearance for the 'who may see what' section; repeat",
    )
    build_parser.add_argument("--out", required=True, metavar="DIR", help="where to write")
    build_parser.set_defaults(run=build)

    check_parser = commands.add_parser(
        "check",
        help="fail when the code does something the published notice does not tell",
        description=(
            "Import MODULE... and compare what they declare with the published register "
            "(--published register.json): a field now used for a purpose the notice does "
            "not mention, a new field, a new data category, consent no longer asked, a new "
            "agreement, recipient, sharing purpose or shared information. One line per "
            "change. Exits 0 when there is none, 1 when there is, 2 on a usage error or a "
            "malformed register."
        ),
    )
    inputs(check_parser)
    check_parser.add_argument(
        "--published", required=True, metavar="register.json", help="the published register"
    )
    check_parser.set_defaults(run=check)


GROUP = CommandGroup(
    "notice", "write the notice and register; check for drift", _add_notice_commands
)
