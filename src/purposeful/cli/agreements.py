"""``purposeful agreement schema ID``: what a sharing agreement lets a party send, as JSON.

- ``purposeful agreement schema ID --records MODULE [--agreements FILE.toml] [--type TYPE]
  [--out FILE]``: the agreement's JSON Schema (draft 2020-12,
  `purposeful.sharing.referral_schema`), for a partner agency to validate referral payloads
  against; printed, or written to ``--out`` atomically (``--force`` to replace a file).

The record types (and the agreements at their modules' top level) are found as ``purposeful
notice build`` finds them (`purposeful.notices.import_declarations`).

What this module must not do: hold logic the library does not offer to code.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import ConfigurationError
from ._common import CommandGroup, shown, write_out

__all__ = ["GROUP"]


def _add_agreement_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``purposeful agreement schema``."""

    def schema(args: argparse.Namespace) -> int:
        from ..notices import import_declarations
        from ..sharing import referral_schema

        found = import_declarations(args.records, agreement_files=args.agreements)
        by_id = {agreement.id: agreement for agreement in found.agreements}
        agreement = by_id.get(args.agreement)
        if agreement is None:
            known = ", ".join(sorted(by_id)) or "none"
            raise ConfigurationError(
                f"no agreement has the id {args.agreement!r} in {', '.join(args.records)} or "
                f"--agreements (found: {known})"
            )
        text = json.dumps(referral_schema(agreement, args.type), indent=2, ensure_ascii=False)
        if args.out is None:
            sys.stdout.write(text + "\n")
            return 0
        target = Path(args.out)
        write_out(target, text + "\n", overwrite=args.force, what="the schema", flag="--force")
        print(f"wrote {shown(str(target))}")
        return 0

    parser = commands.add_parser(
        "schema",
        help="the JSON Schema of what an agreement lets a party send",
        description=(
            "Write the JSON Schema (draft 2020-12) of what agreement ID lets one party send "
            "another: per record type, the fields it covers, their types, plain labels, and "
            "x-purposeful-* keys for the purposes, basis and sensitivity. A partner validates "
            "referral payloads against it."
        ),
    )
    parser.add_argument("agreement", metavar="ID", help="the agreement's id")
    parser.add_argument(
        "--records",
        action="append",
        required=True,
        metavar="MODULE",
        help="a module that declares your record types; repeat for several",
    )
    parser.add_argument(
        "--agreements",
        action="append",
        default=[],
        metavar="FILE.toml",
        help="sharing agreements ([[agreement]] tables); repeat for several",
    )
    parser.add_argument("--type", metavar="TYPE", help="only this record type (its name)")
    parser.add_argument("--out", metavar="FILE", help="write it here (default: print it)")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    parser.set_defaults(run=schema)


GROUP = CommandGroup(
    "agreement", "sharing agreements: what one lets a party send", _add_agreement_commands
)
