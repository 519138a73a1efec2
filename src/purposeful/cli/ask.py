"""``purposeful ask use|share|table``: "may I use or share this?", answered before acting.

- ``purposeful ask use TYPE.FIELD --purpose P --role R --clearance C --records MODULE``:
  `purposeful.may_use`;
- ``purposeful ask share TYPE.FIELD --agreement ID --party NAME --role R --clearance C
  --records MODULE [--agreements FILE.toml]``: `purposeful.may_share`;
- ``purposeful ask table --role R=C ... --records MODULE``: who may see what
  (`purposeful.asking.who_may_see`), which exits 0 whatever it answers.

The record types (and the agreements at their modules' top level) are found as ``purposeful
notice build`` finds them (`purposeful.notices.import_declarations`). Text, or ``--json``.
The exit status says the answer: 0 for yes, 1 for anything else (no, a condition, a
would-deny), 2 for a usage error in one line. Questions about a type only: a question about
a named person is an audited use, asked in code inside a purpose scope.

What this module must not do: hold logic the library does not offer to code.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterable
from typing import Any

from .._shared.checks import is_module_name
from ..errors import ConfigurationError, PurposefulError
from ._common import CommandGroup, parse_moment, shown

__all__ = ["GROUP", "parse_level", "parse_role"]

#: Exit status of an answer that is not an unconditional yes.
NOT_YES = 1


def _type_field(text: str) -> tuple[str, str]:
    record_type, dot, field = text.rpartition(".")
    if not dot or not record_type or not field:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not TYPE.FIELD, like Client.address (the record type's name, a "
            f"dot, a managed field's name)"
        )
    return record_type, field


def _module_name(text: str) -> str:
    """A dotted module name (``myagency.records``), as ``--records`` takes it."""
    if not is_module_name(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a module name like myagency.records (names joined by dots, as "
            f"`import` takes them)"
        )
    return text


def parse_role(text: str) -> tuple[str, str]:
    """``ROLE=CLEARANCE`` (``caseworker=SENSITIVE``) as (role, clearance name)."""
    role, equals, clearance = text.partition("=")
    if not equals or not role.strip() or not clearance.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not ROLE=CLEARANCE, like caseworker=SENSITIVE"
        )
    return role.strip(), clearance.strip()


def parse_level(name: str) -> Any:
    """The level of the New Zealand classification called *name* (any case; ``_`` for
    ``-``).

    Raises:
        ConfigurationError: no such level; the message lists them.
    """
    from ..sensitivity import NZ_CLASSIFICATION

    return NZ_CLASSIFICATION[name.upper().replace("_", "-")]


def _declarations(args: argparse.Namespace) -> Any:
    from ..notices import import_declarations

    try:
        found = import_declarations(args.records, agreement_files=getattr(args, "agreements", ()))
    except PurposefulError:
        raise
    except (Exception, SystemExit) as failed:
        # the application's own module failed as it was imported: a traceback's exit status
        # (1), or its own sys.exit(0), would read as an answer
        raise ConfigurationError(_import_failed(args.records, failed)) from None
    if args.agency_kind:
        import purposeful

        kinds = purposeful.get_configuration().agency_kinds
        purposeful.configure(agency_kinds=[*kinds, *args.agency_kind])
    return found


def _import_failed(modules: list[str], failed: BaseException) -> str:
    """The line that says a ``--records`` module failed as it was imported: what it raised
    (its type and where, not its message, which the application wrote), and how to see it."""
    what = type(failed).__name__
    if isinstance(failed, SystemExit):
        what = f"SystemExit (it called sys.exit({failed.code!r}))"
    elif isinstance(failed, SyntaxError):
        what += f" at {os.path.basename(failed.filename or '?')}:{failed.lineno}"
    names = ", ".join(modules)
    return (
        f"importing {names} raised {what}; see the traceback with "
        f"python -c 'import {modules[0]}' (and each other module named)"
    )


def _print(answers: Iterable[Any], as_json: bool, *, table: bool = False) -> int:
    answers = list(answers)
    if as_json:
        found = [answer.to_dict() for answer in answers]
        text = json.dumps(found if table else found[0], indent=2, ensure_ascii=False)
        if not _encodable(text):  # a lone surrogate (argv bytes that were not UTF-8), or a
            # character the output's encoding lacks: escaped, the JSON reads back the same
            text = json.dumps(found if table else found[0], indent=2)
    elif table:
        rows = [
            (f"{a.record_type}.{a.field}", a.purpose.id, a.role, _VERDICTS[a.verdict.value])
            for a in answers
        ]
        widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
        lines = []
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append(shown("  ".join([*cells, row[3]])))
        text = "\n".join(lines)
    else:
        text = "\n".join(_text(answer) for answer in answers)
    if text:
        _write(text + "\n")
    return 0 if table or all(answer.allowed for answer in answers) else NOT_YES


def _encodable(text: str) -> bool:
    try:
        text.encode(getattr(sys.stdout, "encoding", None) or "utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _write(text: str) -> None:
    """Write *text* to standard output: a character it cannot encode (a macron on a cp1252
    console) as its escape; a reader that has gone (``| head -1``) leaves the exit status
    saying the answer."""
    stream = sys.stdout
    if stream is None:  # no console at all (pythonw): as print() does, write nothing
        return
    if not _encodable(text):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        text = text.encode(encoding, "backslashreplace").decode(encoding)
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        # what is still buffered would fail again as the interpreter exits
        with contextlib.suppress(OSError, ValueError):
            target = stream.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, target)
            os.close(devnull)


_VERDICTS = {
    "yes": "yes",
    "no": "no",
    "with-consent": "only with the person's consent",
    "with-justification": "only with a recorded justification",
    "would-deny": "no (monitor mode: a read is let through and recorded as a would-deny)",
}


def _text(answer: Any) -> str:
    what = f"{answer.record_type}.{answer.field}"
    to = f" to {answer.party} under {answer.agreement}" if answer.agreement else ""
    lines = [
        f"{what} for {answer.purpose.id}{to}, by {answer.role} ({answer.clearance.name}): "
        f"{_VERDICTS[answer.verdict.value]}",
    ]
    if answer.basis is not None:
        from ..bases import plain_description

        lines.append(f"  basis:   {plain_description(answer.basis)}")
    lines.append(f"  law:     {'; '.join(answer.law)}")
    if answer.reasons:
        lines.append(f"  reasons: {', '.join(answer.reasons)}")
    lines.append(f"  why:     {answer.explanation}")
    return "\n".join(shown(line) for line in lines)


def _add_ask_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``purposeful ask use|share|table``."""

    def ask_use(args: argparse.Namespace) -> int:
        import purposeful

        _declarations(args)
        record_type, field = args.field
        answer = purposeful.may_use(
            record_type,
            field,
            args.purpose,
            role=args.role,
            clearance=parse_level(args.clearance),
        )
        return _print([answer], args.json)

    def ask_share(args: argparse.Namespace) -> int:
        import purposeful

        found = _declarations(args)
        by_id = {agreement.id: agreement for agreement in found.agreements}
        agreement = by_id.get(args.agreement)
        if agreement is None:
            known = ", ".join(sorted(by_id)) or "none"
            raise ConfigurationError(
                f"no agreement has the id {args.agreement!r} in {', '.join(args.records)} or "
                f"--agreements (found: {known})"
            )
        record_type, field = args.field
        answer = purposeful.may_share(
            record_type,
            field,
            agreement=agreement,
            party=args.party,
            purpose=args.purpose,
            role=args.role,
            clearance=parse_level(args.clearance),
            at=args.at,
            justification=args.justification,
        )
        return _print([answer], args.json)

    def ask_table(args: argparse.Namespace) -> int:
        from ..asking import who_may_see

        found = _declarations(args)
        roles: dict[str, Any] = {}
        for role, clearance in args.role:
            level = parse_level(clearance)
            if roles.setdefault(role, level) != level:
                raise ConfigurationError(
                    f"--role {role!r} is given twice, as {roles[role].name} and {level.name}; "
                    f"give each role once, with its clearance"
                )
        records = args.type or found.records
        return _print(who_may_see(records, roles=roles), args.json, table=True)

    def common(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--records",
            action="append",
            required=True,
            type=_module_name,
            metavar="MODULE",
            help="a module that declares your record types; repeat for several",
        )
        parser.add_argument(
            "--agency-kind",
            action="append",
            default=[],
            metavar="KIND",
            help="a kind of agency a statute names (child-welfare-and-protection); repeat",
        )
        parser.add_argument("--json", action="store_true", help="print the answer as JSON")

    def who(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "field", type=_type_field, metavar="TYPE.FIELD", help="e.g. Client.address"
        )
        parser.add_argument("--role", required=True, help="the role of who would act")
        parser.add_argument(
            "--clearance", required=True, metavar="LEVEL", help="their clearance, e.g. SENSITIVE"
        )

    use_parser = commands.add_parser(
        "use",
        help="may this field be used for this purpose by this role?",
        description=(
            "Answer, from the rules a read is decided by, whether TYPE.FIELD may be used for "
            "--purpose by --role with --clearance: yes, no, only with the person's consent, "
            "only with a recorded justification, or a would-deny (monitor mode); the basis, "
            "the law and why. Exits 0 for yes, 1 otherwise."
        ),
    )
    who(use_parser)
    use_parser.add_argument("--purpose", required=True, help="the purpose's id")
    common(use_parser)
    use_parser.set_defaults(run=ask_use)

    share_parser = commands.add_parser(
        "share",
        help="may this field be disclosed to this party under this agreement?",
        description=(
            "Answer, from the rules disclose() applies, whether TYPE.FIELD may be disclosed "
            "to --party under --agreement (an agreement at the top level of a --records "
            "module, or in --agreements): the agreement's terms, whether it covers the field, "
            "and the field's own decision for the purpose. Exits 0 for yes, 1 otherwise."
        ),
    )
    who(share_parser)
    share_parser.add_argument("--agreement", required=True, metavar="ID", help="its id")
    share_parser.add_argument("--party", required=True, metavar="NAME", help="the recipient")
    share_parser.add_argument(
        "--purpose", help="the purpose of the disclosure (default: the agreement's only one)"
    )
    share_parser.add_argument(
        "--at", type=parse_moment, metavar="TIME", help="when, with its offset (default: now)"
    )
    share_parser.add_argument(
        "--justification", metavar="REF", help="where the belief on reasonable grounds is recorded"
    )
    share_parser.add_argument(
        "--agreements",
        action="append",
        default=[],
        metavar="FILE.toml",
        help="sharing agreements ([[agreement]] tables); repeat for several",
    )
    common(share_parser)
    share_parser.set_defaults(run=ask_share)

    table_parser = commands.add_parser(
        "table",
        help="who may see what: every field, purpose and role",
        description=(
            "For each managed field of the record types (--type, default: all those the "
            "--records modules declare), each purpose they are declared for and each --role, "
            "the answer 'ask use' gives."
        ),
    )
    table_parser.add_argument(
        "--role",
        action="append",
        required=True,
        type=parse_role,
        metavar="ROLE=CLEARANCE",
        help="a role and its clearance, e.g. caseworker=SENSITIVE; repeat for several",
    )
    table_parser.add_argument(
        "--type", action="append", metavar="TYPE", help="a record type's name; repeat"
    )
    common(table_parser)
    table_parser.set_defaults(run=ask_table)


GROUP = CommandGroup("ask", "may I use or share this? answered before acting", _add_ask_commands)
