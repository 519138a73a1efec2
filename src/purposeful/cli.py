"""The ``purposeful`` command: ``purposeful GROUP COMMAND [options]``.

Commands come in groups, each built by one function in `GROUPS`:

- ``purposeful keys new DIR``: create the audit trail's signing and pseudonym keys;
- ``purposeful audit verify LEDGER``: check a tamper-evident ledger;
- ``purposeful audit report [FILES...] [--ledger LEDGER]``: report on exported traces and
  ledgers, or on one person's information with ``--subject``;
- ``purposeful bundle due|build|verify|decrypt``: answer an access request: its due dates,
  the signed bundle, checking one, decrypting one; ``purposeful keys recipient DIR``: a key
  pair to encrypt bundles to;
- ``purposeful notice build|check MODULE...``: the privacy notice, register and fides
  crosswalk from the annotations, and the drift check against a published register.

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
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import attrs

from .audit import generate_keys, load_pseudonym_key, load_public_key, load_signing_key
from .audit.history import SubjectQuery
from .audit.ledger import verify_ledger
from .audit.report import (
    ProgressBar,
    build_report,
    render_html,
    render_text,
    render_would_deny_gate,
)
from .errors import (
    BundleDecryptionError,
    BundleInvalid,
    ConfigurationError,
    PassphraseError,
    PurposefulError,
)

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
    passphrase = _secret_env(args.passphrase_env, "the signing key")
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

    recipient = commands.add_parser(
        "recipient",
        help="create an age key pair that subject-access bundles can be encrypted to",
        description=(
            "Create an age key pair in DIR: recipient-key.txt (the private key, "
            "AGE-SECRET-KEY-1..., mode 0600, as age-keygen writes it) and "
            "recipient-key.pub.txt (the public key, age1...). Give the public key to whoever "
            "encrypts bundles for you (purposeful bundle build --encrypt-to); keep the private "
            "key to decrypt them, with purposeful or with age -d -i. Needs purposeful[age]."
        ),
    )
    recipient.add_argument("directory", metavar="DIR", help="where to write the keys")
    recipient.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="encrypt the private key with the passphrase in environment variable VAR "
        "(age -d -i asks for it too)",
    )
    recipient.set_defaults(run=_keys_recipient)


def _keys_recipient(args: argparse.Namespace) -> int:
    from .access.recipients import generate_recipient_keys

    private, public = generate_recipient_keys(
        args.directory, passphrase=_secret_env(args.passphrase_env, "the private key")
    )
    print(f"private key: {private} (keep it secret: it decrypts bundles)")
    print(f"public key:  {public} (give it to whoever encrypts bundles for you)")
    return 0


def _secret_env(var: str | None, what: str) -> str | None:
    """The secret in environment variable *var* (None when *var* is None)."""
    if var is None:
        return None
    value = os.environ.get(var)
    if not value:
        raise PassphraseError(
            f"${var} is not set or is empty: set it to the passphrase for {what}, or leave out "
            f"the option that names it",
            source=f"${var}",
        )
    return value


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


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-10") from None


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time with its offset, like 2026-12-20T09:00:00+13:00"
        )
    return moment


def _bundle_due(args: argparse.Namespace) -> int:
    from ._shared.nztime import long_date
    from .access.clock import ResponseClock

    clock = ResponseClock(args.received, args.extended_by)
    transfer_due, due = clock.transfer_due, clock.due  # both first: all or nothing printed
    extension = f", extended by {args.extended_by}" if args.extended_by else ""
    print(f"received:        {long_date(clock.received)}")
    print(f"transfer due by: {long_date(transfer_due)} (10 working days, s 43)")
    print(f"answer due by:   {long_date(due)} (20 working days{extension}, s 44)")
    return 0


def _load_app(spec: str) -> Any:
    """The `SubjectAccess` named by ``module:attribute`` (or a function returning one)."""
    from .access.request import SubjectAccess

    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(
            f"APP must be module:attribute naming your SubjectAccess, e.g. myapp.access:access, "
            f"not {spec!r}"
        )
    sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(
            f"cannot import {module_name!r} ({exc}); run from your project's directory or "
            f"install it"
        ) from None
    finally:
        sys.path.remove(os.getcwd())
    found = getattr(module, attribute, None)
    if callable(found) and not isinstance(found, SubjectAccess):
        found = found()
    if not isinstance(found, SubjectAccess):
        raise ConfigurationError(
            f"{spec} is not a SubjectAccess (nor a function returning one); point APP at the "
            f"object your application sets up with its data sources"
        )
    return found


def _bundle_build(args: argparse.Namespace) -> int:
    from .access.recipients import load_recipient_public_key
    from .access.request import AccessRequest

    if (args.subject is None) == (args.subject_env is None):
        raise ConfigurationError(
            "give the person's identifier with --subject-env VAR (it stays out of the process "
            "list and shell history) or --subject ID"
        )
    subject = args.subject
    if args.subject_env is not None:
        subject = os.environ.get(args.subject_env)
        if not subject:
            raise ConfigurationError(f"${args.subject_env} is not set or is empty")
    access = _load_app(args.app)
    key = load_signing_key(
        args.signing_key,
        passphrase=_secret_env(args.signing_key_passphrase_env, "the signing key"),
    )
    encrypt_to: Any = None
    if args.encrypt_to is not None:
        encrypt_to = load_recipient_public_key(args.encrypt_to)
    elif args.encrypt_passphrase_env is not None:
        encrypt_to = _secret_env(args.encrypt_passphrase_env, "the bundle")
    request = AccessRequest(args.request_id, subject, args.received, args.extended_by)
    progress = _RecordCounter(sys.stderr) if sys.stderr.isatty() else None
    info = access.build(
        request,
        args.out,
        signing_key=key,
        created=args.created,
        encrypt_to=encrypt_to,
        overwrite=args.overwrite,
        progress=progress,
    )
    if progress is not None:
        progress.done()
    records = sum(info.records.values())
    print(f"bundle:   {info.path} ({'encrypted, ' if info.encrypted else ''}sha256 {info.sha256})")
    print(f"request:  {info.request_id}, answer due by {request.due.isoformat()}")
    print(f"subject:  {info.subject} (pseudonym)")
    kinds = f"{len(info.records)} record type{'' if len(info.records) == 1 else 's'}"
    print(f"records:  {records:,} in {kinds}; {info.withheld:,} withheld")
    print(f"signed:   key id {info.key_id}")
    return 0


class _RecordCounter:
    """Progress on a terminal: records read so far."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __call__(self, count: int) -> None:
        self._stream.write(f"\rreading records: {count:,}")
        self._stream.flush()

    def done(self) -> None:
        self._stream.write("\n")
        self._stream.flush()


def _decryption_secret(args: argparse.Namespace) -> dict[str, Any]:
    from .access.recipients import load_recipient_private_key

    if args.private_key is not None:
        return {
            "private_key": load_recipient_private_key(
                args.private_key,
                passphrase=_secret_env(args.private_key_passphrase_env, "the private key"),
            )
        }
    return {"passphrase": _secret_env(args.passphrase_env, "the bundle")}


def _bundle_verify(args: argparse.Namespace) -> int:
    from .access.encryption import MAGIC, is_encrypted
    from .access.verify import verify_bundle

    secret = _decryption_secret(args)
    if secret.get("passphrase") is None and "private_key" not in secret:
        try:
            with open(args.bundle, "rb") as file:
                encrypted = is_encrypted(file.read(len(MAGIC)))
        except OSError:
            encrypted = False  # verify_bundle says what is wrong with the file
        if encrypted:
            raise ConfigurationError(
                f"{args.bundle} is encrypted: give --passphrase-env VAR or --private-key F"
            )
    try:
        verified = verify_bundle(args.bundle, args.public_key, **secret)
    except (BundleInvalid, BundleDecryptionError) as failure:
        # a wrong secret, or an encrypted file changed or cut short: it does not verify
        print(f"FAILED: {failure}")
        return 1
    records = sum(verified.records.values())
    print(
        f"ok: {len(verified.files)} files match the manifest, signed by key id "
        f"{verified.key_id}; request {verified.request_id} from {verified.agency}, "
        f"{records:,} records"
    )
    return 0


def _bundle_decrypt(args: argparse.Namespace) -> int:
    from .access.encryption import decrypt_file

    secret = _decryption_secret(args)
    if secret.get("passphrase") is None and "private_key" not in secret:
        raise ConfigurationError("give --passphrase-env VAR or --private-key F")
    path = decrypt_file(args.bundle, args.out, overwrite=args.overwrite, **secret)
    print(f"decrypted: {path}; check it with purposeful bundle verify")
    return 0


def _add_secret_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="the passphrase an encrypted bundle was encrypted to",
    )
    parser.add_argument(
        "--private-key",
        metavar="F",
        help="the recipient's age identity file (AGE-SECRET-KEY-1...) it was encrypted to",
    )
    parser.add_argument(
        "--private-key-passphrase-env", metavar="VAR", help="the passphrase of --private-key"
    )


def _add_bundle_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    due = commands.add_parser(
        "due",
        help="the due dates of an access request received on a day",
        description=(
            "Print the last day to transfer a request (10 working days, Privacy Act 2020 "
            "s 43) and to answer it (20 working days, s 44), counting working days as s 7 "
            "defines them."
        ),
    )
    due.add_argument("received", type=_date, metavar="RECEIVED", help="e.g. 2026-12-10")
    due.add_argument("--extended-by", type=int, default=0, metavar="DAYS", help="an extension")
    due.set_defaults(run=_bundle_due)

    build = commands.add_parser(
        "build",
        help="write the signed subject-access bundle answering one request",
        description=(
            "Write the signed bundle answering an access request, reading the person's "
            "records from the data sources of APP (module:attribute naming your "
            "SubjectAccess). Shows progress on a terminal. Prints the bundle's SHA-256; "
            "the person's identifier is never printed."
        ),
    )
    build.add_argument("app", metavar="APP", help="module:attribute of your SubjectAccess")
    build.add_argument("--request-id", required=True, metavar="ID", help="your reference")
    build.add_argument("--received", required=True, type=_date, metavar="DATE", help="YYYY-MM-DD")
    build.add_argument("--extended-by", type=int, default=0, metavar="DAYS", help="an extension")
    build.add_argument("--subject-env", metavar="VAR", help="variable holding the person's id")
    build.add_argument("--subject", metavar="ID", help="the person's id (visible to ps)")
    build.add_argument("--out", required=True, metavar="FILE", help="the bundle to write")
    build.add_argument("--signing-key", required=True, metavar="F", help="signing-key.pem")
    build.add_argument("--signing-key-passphrase-env", metavar="VAR", help="its passphrase")
    build.add_argument("--created", type=_moment, metavar="TIME", help="fix the created time")
    build.add_argument(
        "--encrypt-to", metavar="PUB", help="encrypt to the age public key (age1...) in this file"
    )
    build.add_argument(
        "--encrypt-passphrase-env", metavar="VAR", help="encrypt to the passphrase in VAR"
    )
    build.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    build.set_defaults(run=_bundle_build)

    verify = commands.add_parser(
        "verify",
        help="check a bundle's hashes and signature",
        description=(
            "Check every member of BUNDLE against the signed manifest, and the signature "
            "with the agency's public key. Prints 'ok', or the member that fails and why. "
            "Reads in memory; never extracts. Exits 0 when it verifies, 1 when it does not "
            "(including an encrypted bundle that cannot be decrypted with the secret given), "
            "2 on a usage error (a missing key or secret)."
        ),
    )
    verify.add_argument("bundle", metavar="BUNDLE", help="the bundle (.zip, or an age file)")
    verify.add_argument(
        "--public-key", required=True, metavar="K", help="the agency's public signing key"
    )
    _add_secret_options(verify)
    verify.set_defaults(run=_bundle_verify)

    decrypt = commands.add_parser(
        "decrypt",
        help="decrypt an encrypted bundle to a zip",
        description=(
            "Decrypt BUNDLE, an age file, to OUT (written whole or not at all). Without "
            "purposeful, age -d does the same."
        ),
    )
    decrypt.add_argument("bundle", metavar="BUNDLE", help="the encrypted bundle")
    decrypt.add_argument("out", metavar="OUT", help="the zip to write")
    decrypt.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    _add_secret_options(decrypt)
    decrypt.set_defaults(run=_bundle_decrypt)


def _add_notice_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``purposeful notice build|check``: the notice, its register and the drift check."""

    def declarations(args: argparse.Namespace) -> Any:
        from .notices import import_declarations

        return import_declarations(args.modules, agreement_files=args.agreements)

    def build(args: argparse.Namespace) -> int:
        from .notices import AgencyDetails, build_notice

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
        )
        for kind, path in notice.write(args.out).items():
            print(f"{kind + ':':<10}{path}")
        fields = sum(len(record.fields) for record in notice.records)
        counts = [
            (len(notice.records), "record type"),
            (fields, "field"),
            (len(notice.agreements), "agreement"),
        ]
        said = ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in counts)
        print(f"version:  {notice.version} ({said})")
        return 0

    def check(args: argparse.Namespace) -> int:
        from .notices import build_notice, check_drift, read_register

        published = read_register(args.published)
        found = declarations(args)
        notice = build_notice(
            agency=published.agency, records=found.records, agreements=found.agreements
        )
        drifts = check_drift(published, notice)
        for drift in drifts:
            print(drift.describe())
        if drifts:
            print(
                f"{len(drifts)} change{'s' if len(drifts) != 1 else ''} since the notice "
                f"published as {published.notice_version}: publish a new notice "
                f"(purposeful notice build) before relying on them",
                file=sys.stderr,
            )
            return 1
        print(f"no drift: the notice published as {published.notice_version} tells it all")
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


#: The command groups, in the order ``purposeful --help`` lists them.
GROUPS: tuple[CommandGroup, ...] = (
    CommandGroup("keys", "create signing, pseudonym and recipient keys", _add_keys_commands),
    CommandGroup("audit", "verify the audit trail and report on it", _add_audit_commands),
    CommandGroup("bundle", "answer access requests: due dates, bundles", _add_bundle_commands),
    CommandGroup("notice", "write the notice and register; check for drift", _add_notice_commands),
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
