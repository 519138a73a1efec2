"""The ``purposeful`` command: ``purposeful GROUP COMMAND [options]``.

Commands come in groups, each built by one function in `GROUPS`:

- ``purposeful keys new DIR``: create the audit trail's signing and pseudonym keys;
- ``purposeful audit verify LEDGER``: check a tamper-evident ledger;
- ``purposeful audit report [FILES...] [--ledger LEDGER]``: report on exported traces and
  ledgers, or on one person's information with ``--subject``.

To add a group, write a builder that adds its commands to the group's subparsers, each with
``set_defaults(run=function)`` where *function* takes the parsed arguments and returns the
exit status, and list it in `GROUPS`.

The commands are thin: they parse strings into values at this edge, call the library and
print what it returns. A user error (any `PurposefulError`) is one line on stderr and exit
status 2, never a traceback. What this module must not do: print a secret (a key, a
passphrase, a subject identifier), or hold logic the library does not offer to code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

import attrs

from .audit.keys import generate_keys, load_pseudonym_key, load_public_key
from .audit.ledger import verify_ledger
from .audit.report import (
    ProgressBar,
    SubjectQuery,
    build_report,
    render_html,
    render_text,
    render_would_deny_gate,
)
from .errors import ConfigurationError, PassphraseError, PurposefulError

__all__ = ["GROUPS", "CommandGroup", "build_parser", "main"]

#: Exit status of a user error: bad arguments, a refused or failed operation.
USAGE_ERROR = 2


@attrs.frozen
class CommandGroup:
    """One group of subcommands, such as ``keys``.

    Attributes:
        name: the word after ``purposeful``.
        help: one line for ``purposeful --help``.
        add_commands: adds the group's commands to the subparsers it is given.
    """

    name: str
    help: str
    add_commands: Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]


def _keys_new(args: argparse.Namespace) -> int:
    passphrase = None
    if args.passphrase_env is not None:
        passphrase = os.environ.get(args.passphrase_env)
        if not passphrase:
            raise PassphraseError(
                f"${args.passphrase_env} is not set or is empty: set it to the passphrase "
                "for the signing key, or leave out --passphrase-env",
                source=f"${args.passphrase_env}",
            )
    files = generate_keys(args.directory, passphrase=passphrase, force=args.force)
    protection = "encrypted with the passphrase" if files.encrypted else "not encrypted"
    print(f"signing key:   {files.signing_key} (key id {files.signing_key_id}, {protection})")
    print(f"public key:    {files.public_key} (key id {files.signing_key_id})")
    print(f"pseudonym key: {files.pseudonym_key} (key id {files.pseudonym_key_id})")
    print(
        "Keep the signing and pseudonym keys secret; give the public key to whoever "
        "verifies checkpoints and bundles."
    )
    return 0


def _add_keys_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    new = commands.add_parser(
        "new",
        help="create a signing key pair and a pseudonym key",
        description=(
            "Create an Ed25519 signing key pair (signing-key.pem, mode 0600, and "
            "signing-key.pub.pem, mode 0644) and a pseudonym key (pseudonym.key, mode 0600) "
            "in DIR. Existing keys are never replaced without --force."
        ),
    )
    new.add_argument("directory", metavar="DIR", help="where to write the keys")
    new.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="encrypt the signing key with the passphrase in environment variable VAR",
    )
    new.add_argument(
        "--force", action="store_true", help="replace existing key files (keep the old ones!)"
    )
    new.set_defaults(run=_keys_new)


def _audit_verify(args: argparse.Namespace) -> int:
    result = verify_ledger(
        args.ledger, load_public_key(args.public_key), checkpoints=args.checkpoints
    )
    print(result.describe())
    return 0 if result.ok else 1


def _audit_report(args: argparse.Namespace) -> int:
    if not args.traces and not args.ledgers:
        raise ConfigurationError(
            "nothing to report on: give OTLP JSON trace files, or ledgers with --ledger"
        )
    if (args.subject is None) != (not args.key_files):
        raise ConfigurationError(
            "--subject and --key-file go together: the subject's pseudonyms are computed "
            "with the pseudonym keys the inputs were written with"
        )
    subject = None
    if args.subject is not None:
        keys = [load_pseudonym_key(path, env=None) for path in args.key_files]
        subject = SubjectQuery.for_subject(args.subject, keys)
    report = build_report(
        args.traces,
        args.ledgers,
        subject=subject,
        progress=ProgressBar(sys.stderr) if sys.stderr.isatty() else None,
    )
    if args.html is None:
        print(render_text(report), end="")
    else:
        try:
            # 0600, as for the ledger: the page names staff and pseudonyms
            descriptor = os.open(args.html, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(descriptor, "w", encoding="utf-8") as page:
                page.write(render_html(report))
        except OSError as exc:
            raise ConfigurationError(
                f"cannot write the report to {args.html} ({exc.strerror}); check the path"
            ) from None
        print(f"report: {args.html} ({report.scopes} scopes)")
    if not args.fail_on_would_deny:
        return 0
    print()
    print(render_would_deny_gate(report), end="")
    return 1 if report.would_deny else 0


def _add_audit_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = commands.add_parser(
        "verify",
        help="check a tamper-evident ledger against its signed checkpoints",
        description=(
            "Check LEDGER's chain line by line and against its signed checkpoints. Prints "
            "'ok', or the first line that breaks and why (edited, deleted, reordered, "
            "inserted, truncated, wrong key, malformed). Exits 0 when the ledger verifies, "
            "1 when it does not, 2 on a usage error."
        ),
    )
    verify.add_argument("ledger", metavar="LEDGER", help="the ledger file (JSONL)")
    verify.add_argument(
        "--public-key", required=True, metavar="K", help="the signing key's public key (PEM)"
    )
    verify.add_argument(
        "--checkpoints",
        metavar="FILE",
        default=None,
        help="the checkpoint file (default: LEDGER.checkpoints)",
    )
    verify.set_defaults(run=_audit_verify)

    report = commands.add_parser(
        "report",
        help="report who used which information, for what, and what was refused",
        description=(
            "Read OTLP JSON trace files (FILES, as the OpenTelemetry file exporters write "
            "them) and ledger files (--ledger), and print: accesses by purpose, record type "
            "and actor; denials and would-denies with their reasons; the actors who read the "
            "most distinct people; or, with --subject, only who read that person's "
            "information, when and for what. Subject ids are never printed, only their "
            "pseudonyms. Exits 0, 1 when --fail-on-would-deny finds a would-deny, 2 on bad "
            "input or usage."
        ),
    )
    report.add_argument(
        "traces", nargs="*", metavar="FILES", help="OTLP JSON trace files (JSON lines)"
    )
    report.add_argument(
        "--ledger",
        dest="ledgers",
        action="append",
        default=[],
        metavar="LEDGER",
        help="a ledger file (JSONL); repeat for several",
    )
    report.add_argument(
        "--subject",
        metavar="ID",
        help="the subject id of the person to answer about (needs --key-file)",
    )
    report.add_argument(
        "--key-file",
        dest="key_files",
        action="append",
        default=[],
        metavar="F",
        help="a pseudonym key file; repeat with every key of the period (rotated keys)",
    )
    report.add_argument(
        "--html", metavar="OUT.html", help="write a self-contained HTML page instead of text"
    )
    report.add_argument(
        "--fail-on-would-deny",
        action="store_true",
        help="list monitor-mode would-denies and exit 1 if there are any",
    )
    report.set_defaults(run=_audit_report)


#: The command groups, in the order ``purposeful --help`` lists them.
GROUPS: tuple[CommandGroup, ...] = (
    CommandGroup("keys", "create the audit trail's keys", _add_keys_commands),
    CommandGroup("audit", "verify the audit trail and report on it", _add_audit_commands),
)


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
        print(f"purposeful: error: {error}", file=sys.stderr)
        return USAGE_ERROR
