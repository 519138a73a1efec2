"""The ``purposeful`` command: ``purposeful GROUP COMMAND [options]``.

Commands come in groups, one module each, thin over the library:

- `purposeful.cli.keys`: ``purposeful keys new DIR``, the audit trail's signing and
  pseudonym keys; ``purposeful keys recipient DIR``, an age key pair to encrypt bundles to;
- `purposeful.cli.audit`: ``purposeful audit verify LEDGER...``, check a tamper-evident
  ledger; ``purposeful audit report [FILES...] [--ledger LEDGER...]``, report on exported
  traces and ledgers, or on one person's information with ``--subject``;
- `purposeful.cli.bundle`: ``purposeful bundle due|build|verify|decrypt``, answer an
  access request: its due dates, the signed bundle, checking one, decrypting one;
- `purposeful.cli.copy`: ``purposeful copy write APP``, a copy for the person of what was
  recorded about them, logged as a disclosure to them;
- `purposeful.cli.notices`: ``purposeful notice build|check MODULE...``, the privacy
  notice, register and fides crosswalk from the annotations, and the drift check against a
  published register;
- `purposeful.cli.ask`: ``purposeful ask use|share|table``, "may I use or share this?"
  answered from the rules a read and a disclosure are decided by, before acting, and who
  may see what;
- `purposeful.cli.agreements`: ``purposeful agreement schema ID``, the JSON Schema of what a
  sharing agreement lets a party send, for a partner to validate referrals against;
- `purposeful.cli.retention`: ``purposeful retention due|dispose|hold|release|holds``,
  what is past retention, disposal with evidence in the ledger, and the hold register;
- `purposeful.cli.stores`: ``purposeful store verify PATH``, SQLite's full integrity check
  of a consent, correction or sharing store file;
- `purposeful.cli.breach`: ``purposeful breach assess``, what a compromise reached, from
  the audit trail (Privacy Act 2020, Part 6).

Each module ends with its `CommandGroup`, ``GROUP``; `GROUPS` lists them. To add a group,
write a module whose builder adds its commands to the group's subparsers, each with
``set_defaults(run=function)`` where *function* takes the parsed arguments and returns the
exit status, and list its ``GROUP`` in `GROUPS`.

The commands parse strings into values at this edge (`purposeful.cli._common`), call the
library and print what it returns. A user error (any `PurposefulError`) is one line on
stderr (control characters shown as escapes) and exit status 2, never a traceback. An
interrupt (Ctrl-C, SIGINT) or a request to stop (SIGTERM) unwinds like an error, so every
file being written is discarded as it would be on one, and ends with one line on stderr and
exit status 130 (SIGINT) or 143 (SIGTERM). `main` installs the handlers for as long as it
runs; the library installs none. What this package must not do: print a secret (a key, a
passphrase, a subject identifier), or hold logic the library does not offer to code.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import Any

from ..errors import PurposefulError
from . import agreements, ask, audit, breach, bundle, copy, keys, notices, retention, stores
from ._common import USAGE_ERROR, CommandGroup
from ._common import error_line as _error_line

__all__ = ["GROUPS", "CommandGroup", "build_parser", "main"]

#: The command groups, in the order ``purposeful --help`` lists them.
GROUPS: tuple[CommandGroup, ...] = (
    keys.GROUP,
    audit.GROUP,
    bundle.GROUP,
    copy.GROUP,
    notices.GROUP,
    ask.GROUP,
    agreements.GROUP,
    retention.GROUP,
    stores.GROUP,
    breach.GROUP,
)


class _Parser(argparse.ArgumentParser):
    """A parser that takes no abbreviated option: ``--subject C-1001`` must never be read as
    ``--subject-env`` (a person's id taken for a variable's name, and repeated in the
    error). Subcommands' parsers are of the same class (argparse makes them with
    ``type(parent)``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The ``purposeful`` argument parser, with every group in `GROUPS`."""
    parser: argparse.ArgumentParser = _Parser(
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
        with _interrupts_unwind():
            return run(args)
    except PurposefulError as error:
        print(_error_line(error), file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt as stop:
        number = stop.signal if isinstance(stop, _Interrupted) else signal.SIGINT
        name = signal.Signals(number).name
        said = "".join(f"; {note}" for note in getattr(stop, "__notes__", ()))  # what it left
        print(
            f"purposeful: interrupted ({name}); nothing was finished, and any file being "
            f"written was discarded{said}",
            file=sys.stderr,
        )
        return _INTERRUPTED + number


#: An interrupted command exits with this plus the signal's number, as shells report it.
_INTERRUPTED = 128


class _Interrupted(KeyboardInterrupt):
    """Raised where the command was when a signal asked it to stop."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.signal = number


def _raise_interrupted(number: int, frame: FrameType | None) -> None:
    raise _Interrupted(number)


@contextlib.contextmanager
def _interrupts_unwind() -> Iterator[None]:
    """While the block runs, SIGINT and SIGTERM raise `_Interrupted` where the command is,
    so `finally` blocks and context managers discard what was being written, exactly as on
    an error. The handlers before are put back after (Python can set handlers in the main
    thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    numbers = (signal.SIGINT, signal.SIGTERM)
    before = {number: signal.getsignal(number) for number in numbers}
    for number in numbers:
        signal.signal(number, _raise_interrupted)
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
