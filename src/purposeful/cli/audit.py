"""``purposeful audit verify|report|convert``: check a tamper-evident ledger, report on exported
traces and ledgers (or on one person's information, with ``--subject``), and convert them
once to a Parquet archive for repeated questions.

What this module must not do: print a subject identifier (only pseudonyms) or key
material, or hold logic the library does not offer to code.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..audit import load_pseudonym_key, load_public_key
from ..audit.history import SubjectQuery
from ..audit.ledger import default_index_path, verify_ledger
from ..audit.report import (
    ProgressBar,
    Report,
    ReportDatabase,
    build_report,
    render_html,
    render_text,
    render_would_deny_gate,
)
from ..audit.report.exports import write_csv, write_parquet
from ..audit.report.reading import files_read
from ..errors import ConfigurationError
from ._common import CommandGroup, subject_from, write_out
from ._ledgers import verify_ledgers

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["GROUP"]


#: The trace table the Collector's ClickHouse exporter writes, unless configured otherwise.
_TABLE = "otel_traces"


def _audit_verify(args: argparse.Namespace) -> int:
    if len(args.ledgers) > 1 and (args.checkpoints or args.index):
        raise ConfigurationError(
            "--checkpoints and --index name the files of one ledger: give one LEDGER with "
            "them, or leave them out to use each ledger's own (LEDGER.checkpoints)"
        )
    public_key = load_public_key(args.public_key)
    ok = True
    for ledger in args.ledgers:
        ok = _verify_one(args, ledger, public_key) and ok
    return 0 if ok else 1


def _verify_one(args: argparse.Namespace, ledger: str, public_key: Ed25519PublicKey) -> bool:
    index = None if args.no_index else Path(args.index or default_index_path(ledger))
    if index is not None and not os.access(index.parent, os.W_OK):
        print(f"note: {index.parent} cannot be written to: no index is written", file=sys.stderr)
        index = None
    result = verify_ledger(ledger, public_key, checkpoints=args.checkpoints, index=index)
    if len(args.ledgers) > 1:
        print(f"{ledger}:")
    print(result.describe())
    for note in result.notes:  # recoveries after a crash: worth knowing, not failures
        print(f"note: {note}")
    return result.ok


def _audit_report(args: argparse.Namespace) -> int:
    if args.clickhouse is not None:
        return _report_clickhouse(args)
    if args.table != _TABLE:
        raise ConfigurationError("--table names the trace table of --clickhouse: give both")
    if args.archive is not None and (args.traces or args.ledgers):
        raise ConfigurationError(
            "--from reads a Parquet archive made by purposeful audit convert: give it alone, "
            "without trace files or --ledger"
        )
    if args.archive is not None and args.engine == "stream":
        raise ConfigurationError("--from needs the DuckDB engine; leave out --engine stream")
    if args.archive is None and not args.traces and not args.ledgers:
        raise ConfigurationError(
            "nothing to report on: give OTLP JSON trace files, ledgers with --ledger, or a "
            "Parquet archive with --from"
        )
    subject = _subject(args)
    verified = verify_ledgers(args)
    if verified is None:
        return 1
    progress = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    report: Report
    with files_read() as read:
        if args.archive is not None:
            with ReportDatabase.from_parquet(args.archive) as database:
                report = database.report(subject=subject)
        elif args.engine == "stream":
            report = build_report(
                args.traces,
                verified.ledgers,
                subject=subject,
                progress=progress,
                ledgers_verified=verified.verified,
            )
        else:
            with ReportDatabase.from_files(
                args.traces,
                verified.ledgers,
                progress=progress,
                ledgers_verified=verified.verified,
                memory_limit=args.memory_limit,
            ) as database:
                report = database.report(subject=subject)
    if not verified.unchanged(read):
        return 1
    return _print_report(args, report)


def _subject(args: argparse.Namespace) -> SubjectQuery | None:
    """The person of --subject-env or --subject, by the pseudonyms of every --key-file;
    None without either."""
    subject = subject_from(args, required=False)
    if (subject is None) != (not args.key_files):
        raise ConfigurationError(
            "--subject-env (or --subject) and --key-file go together: the subject's "
            "pseudonyms are computed with the pseudonym keys the inputs were written with"
        )
    if subject is None:
        return None
    keys = [load_pseudonym_key(path, env=None) for path in args.key_files]
    return SubjectQuery.for_subject(subject, keys)


def _report_clickhouse(args: argparse.Namespace) -> int:
    """``--clickhouse URL``: every figure run on the server, over the exporter's table."""
    from ..audit.report.clickhouse_engine import connect, report_on_clickhouse

    if args.traces or args.ledgers or args.archive or args.public_key or args.engine != "duckdb":
        raise ConfigurationError(
            "--clickhouse reports on the spans in the server's trace table: give it without "
            "trace files, --ledger, --public-key, --from or --engine"
        )
    subject = _subject(args)
    run, label = connect(args.clickhouse)
    report = report_on_clickhouse(run, source=label, table=args.table, subject=subject)
    return _print_report(args, report)


def _print_report(args: argparse.Namespace, report: Report) -> int:
    if args.csv is not None:
        write_csv(report, args.csv)
    if args.parquet is not None:
        write_parquet(report, args.parquet)
    if args.html is None:
        print(render_text(report), end="")
    else:
        write_out(Path(args.html), render_html(report), overwrite=args.overwrite, what="the report")
        print(f"report: {args.html} ({_scopes(report.scopes)})")
    if not args.fail_on_would_deny:
        return 0
    print()
    print(render_would_deny_gate(report), end="")
    return 1 if report.would_deny else 0


def _audit_convert(args: argparse.Namespace) -> int:
    if not args.traces and not args.ledgers:
        raise ConfigurationError(
            "nothing to convert: give OTLP JSON trace files, or ledgers with --ledger"
        )
    verified = verify_ledgers(args)
    if verified is None:
        return 1
    with (
        files_read() as read,
        ReportDatabase.from_files(
            args.traces,
            verified.ledgers,
            progress=ProgressBar(sys.stderr) if sys.stderr.isatty() else None,
            ledgers_verified=verified.verified if args.ledgers else None,
            memory_limit=args.memory_limit,
        ) as database,
    ):
        if not verified.unchanged(read):
            return 1
        database.to_parquet(args.to)
        (scopes,) = database.query("SELECT COUNT(*) FROM scopes")[0]
    print(f"converted: {args.to} ({_scopes(scopes)})")
    return 0


def _add_audit_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = commands.add_parser(
        "verify",
        help="check a tamper-evident ledger against its signed checkpoints",
        description=(
            "Check LEDGER's chain line by line and against its signed checkpoints. Prints "
            "'ok', or the first line that breaks and why (edited, deleted, reordered, "
            "inserted, truncated, wrong key, malformed), then a note for each torn line a "
            "writer set aside after a crash. Given several ledgers, checks each with its own "
            "checkpoints. Exits 0 when every ledger verifies, or holds nothing yet because a "
            "crash stopped its creation ('not-started'), 1 when one does not verify, 2 on a "
            "usage error."
        ),
    )
    verify.add_argument(
        "ledgers", nargs="+", metavar="LEDGER", help="the ledger file (JSONL); or several"
    )
    verify.add_argument(
        "--public-key", required=True, metavar="K", help="the signing key's public key (PEM)"
    )
    verify.add_argument(
        "--checkpoints",
        metavar="FILE",
        default=None,
        help="the checkpoint file (default: LEDGER.checkpoints)",
    )
    verify.add_argument(
        "--index",
        metavar="FILE",
        default=None,
        help=(
            "where to write the verified index that access histories read through "
            "(default: LEDGER.index); written only when the ledger verifies"
        ),
    )
    verify.add_argument("--no-index", action="store_true", help="verify only: write no index")
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
    _add_inputs(report)
    report.add_argument(
        "--from",
        dest="archive",
        metavar="DIR",
        help="report on a Parquet archive made by purposeful audit convert, instead of files",
    )
    report.add_argument(
        "--clickhouse",
        metavar="URL",
        help="report on the spans in a ClickHouse server's trace table, every figure run on "
        "the server: http(s)://user@host:port/database; the password from the environment "
        "variable PURPOSEFUL_CLICKHOUSE_PASSWORD (purposeful[clickhouse])",
    )
    report.add_argument(
        "--table",
        default=_TABLE,
        metavar="NAME",
        help="with --clickhouse: the Collector exporter's traces table (default otel_traces)",
    )
    report.add_argument(
        "--engine",
        choices=("duckdb", "stream"),
        default="duckdb",
        help="duckdb (the default, purposeful[report]) or stream (no extra, slower)",
    )
    report.add_argument(
        "--subject-env",
        metavar="VAR",
        help="the environment variable holding the subject id of the person to answer about "
        "(needs --key-file); it stays out of the process list and shell history",
    )
    report.add_argument(
        "--subject",
        metavar="ID",
        help="as --subject-env, the subject id on the command line",
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
        "--html",
        metavar="OUT.html",
        help="write a self-contained HTML page instead of text (mode 0600)",
    )
    report.add_argument("--overwrite", action="store_true", help="replace OUT.html if it exists")
    report.add_argument(
        "--csv", metavar="DIR", help="also write each table as DIR/<table>.csv (a new directory)"
    )
    report.add_argument(
        "--parquet",
        metavar="DIR",
        help="also write each table as DIR/<table>.parquet (a new directory)",
    )
    report.add_argument(
        "--fail-on-would-deny",
        action="store_true",
        help="list monitor-mode would-denies and exit 1 if there are any",
    )
    report.set_defaults(run=_audit_report)

    convert = commands.add_parser(
        "convert",
        help="convert trace files and ledgers once to a Parquet archive for repeated reports",
        description=(
            "Read OTLP JSON trace files (FILES) and ledger files (--ledger), check them as "
            "purposeful audit report does, and write the report's tables as one Parquet file "
            "each into DIR (a new directory). Then purposeful audit report --from DIR answers "
            "from the archive. Needs purposeful[report]. Exits 0, 1 when a ledger does not "
            "verify, 2 on bad input or usage."
        ),
    )
    _add_inputs(convert)
    convert.add_argument("--to", required=True, metavar="DIR", help="the archive to write")
    convert.set_defaults(run=_audit_convert)


def _add_inputs(command: argparse.ArgumentParser) -> None:
    """The inputs of report and convert: files, ledgers, and how to verify and hold them."""
    command.add_argument(
        "traces", nargs="*", metavar="FILES", help="OTLP JSON trace files (JSON lines)"
    )
    command.add_argument(
        "--ledger",
        dest="ledgers",
        action="extend",
        nargs="+",
        default=[],
        metavar="LEDGER",
        help="ledger files (JSONL): several may follow one --ledger (a shell pattern such "
        "as audit-*.jsonl), or repeat it",
    )
    command.add_argument(
        "--public-key",
        metavar="K",
        help="verify every ledger against its signed checkpoints (LEDGER.checkpoints) with "
        "this public key (PEM) first; without it the report says they were not verified",
    )
    command.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="DuckDB's memory limit, such as 512MB (beyond it, it spills to disk)",
    )


GROUP = CommandGroup("audit", "verify the audit trail and report on it", _add_audit_commands)


def _scopes(count: int) -> str:
    return "1 scope" if count == 1 else f"{count:,} scopes"
