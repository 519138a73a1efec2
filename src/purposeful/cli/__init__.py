"""The ``purposeful`` command: ``purposeful GROUP COMMAND [options]``.

Commands come in groups, one module each, thin over the library:

- `purposeful.cli.keys`: ``purposeful keys new DIR``, the audit trail's signing and
  pseudonym keys; ``purposeful keys recipient DIR``, an age key pair to encrypt bundles to;
- `purposeful.cli.audit`: ``purposeful audit verify LEDGER``, check a tamper-evident
  ledger; ``purposeful audit report [FILES...] [--ledger LEDGER]``, report on exported
  traces and ledgers, or on one person's information with ``--subject``;
- `purposeful.cli.bundle`: ``purposeful bundle due|build|verify|decrypt``, answer an
  access request: its due dates, the signed bundle, checking one, decrypting one;
- `purposeful.cli.notices`: ``purposeful notice build|check MODULE...``, the privacy
  notice, register and fides crosswalk from the annotations, and the drift check against a
  published register.

Each module ends with its `CommandGroup`, ``GROUP``; `GROUPS` lists them. To add a group,
write a module whose builder adds its commands to the group's subparsers, each with
``set_defaults(run=function)`` where *function* takes the parsed arguments and returns the
exit status, and list its ``GROUP`` in `GROUPS`.

The commands parse strings into values at this edge (`purposeful.cli._common`), call the
library and print what it returns. A user error (any `PurposefulError`) is one line on
stderr (control characters shown as escapes) and exit status 2, never a traceback. What
this package must not do: print a secret (a key, a passphrase, a subject identifier), or
hold logic the library does not offer to code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ..errors import PurposefulError
from . import audit, bundle, keys, notices
from ._common import USAGE_ERROR, CommandGroup
from ._common import error_line as _error_line

__all__ = ["GROUPS", "CommandGroup", "build_parser", "main"]

#: The command groups, in the order ``purposeful --help`` lists them.
GROUPS: tuple[CommandGroup, ...] = (keys.GROUP, audit.GROUP, bundle.GROUP, notices.GROUP)


def build_parser() -> argparse.ArgumentParser:
    """The ``purposeful`` argument parser, with every group in `GROUPS`."""
    parser = argparse.ArgumentParser(
        prog="purposeful",
        description="Command-line tools for purposeful.",
    )
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True)
    for group in GROUPS:
        group_parser = groups.add_parser(group.name, help=group.help, description=group.help)
        commands = group_parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
        group.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``purposeful`` command with *argv* (default: ``sys.argv[1:]``).

    Returns the exit status: 0 on success, 2 on a user error (reported on stderr in one
    line, or by argparse with the usage).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error argparse has already printed
        return stop.code if isinstance(stop.code, int) else USAGE_ERROR
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except PurposefulError as error:
        print(_error_line(error), file=sys.stderr)
        return USAGE_ERROR
