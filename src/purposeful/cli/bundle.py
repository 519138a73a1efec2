"""``purposeful bundle due|build|verify|decrypt``: answer an access request: its due dates
(and, with ``--correction``, a correction request's), the signed bundle (encrypted as an
age file if asked), checking one, decrypting one.

What this module must not do: print the person's identifier (only its pseudonym), a
passphrase or a key, or hold logic the library does not offer to code.
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

from ..audit import load_signing_key
from ..errors import BundleDecryptionError, BundleInvalid, ConfigurationError
from ._common import (
    CommandGroup,
    load_app,
    parse_date,
    parse_moment,
    secret_from_env,
    subject_from,
)

if TYPE_CHECKING:
    from ..access.clock import Extension, ResponseClock

__all__ = ["GROUP"]

_EXTENSION_FORM = "LIMIT:GROUND:DAYS:NOTICE-DATE, e.g. decision:complexity:10:2026-12-17"


def _extension(text: str) -> Extension:
    """An ``--extension`` option's value, parsed strictly into an `Extension`."""
    from ..access.clock import Extension, ExtensionGround, TimeLimit

    parts = text.split(":")
    if len(parts) != 4:
        raise ConfigurationError(f"--extension takes {_EXTENSION_FORM}, not {text!r}")
    limit, ground, days, notice = parts
    limits = {member.value: member for member in TimeLimit}
    grounds = {member.value: member for member in ExtensionGround}
    if limit not in limits:
        raise ConfigurationError(
            f"--extension {text!r}: LIMIT is {' or '.join(limits)} (the time limit extended), "
            f"not {limit!r}"
        )
    if ground not in grounds:
        raise ConfigurationError(
            f"--extension {text!r}: GROUND is {', '.join(grounds)} (s 48(1)(a), (b), (c)), not "
            f"{ground!r}"
        )
    if re.fullmatch(r"[1-9][0-9]{0,3}", days) is None:
        raise ConfigurationError(
            f"--extension {text!r}: DAYS is the period in working days, a whole number from 1"
        )
    try:
        sent = date.fromisoformat(notice) if re.fullmatch(r"\d{4}-\d\d-\d\d", notice) else None
    except ValueError:
        sent = None
    if sent is None:
        raise ConfigurationError(
            f"--extension {text!r}: NOTICE-DATE is the day the notice was sent, like 2026-12-17"
        )
    return Extension(limits[limit], grounds[ground], int(days), sent)


def _due_lines(clock: ResponseClock) -> list[str]:
    """What ``bundle due`` prints for *clock*; every date is computed before anything is
    printed, so a date the calendar cannot give prints nothing."""
    from .._shared.nztime import long_date
    from ..access.clock import RequestKind, TimeLimit

    kind, extending = clock.kind, clock.kind.extension_section
    decision = "answer" if kind is RequestKind.ACCESS else "decision"
    lines = [
        f"received:        {long_date(clock.received)}"
        + ("" if kind is RequestKind.ACCESS else " (a correction request)")
    ]
    for label, limit, days in (
        ("transfer", TimeLimit.TRANSFER, 10),
        (decision, TimeLimit.DECISION, 20),
    ):
        extended = clock.extended(limit)
        more = f" + {extended} extended" if extended else ""
        sections = kind.section(limit) + (f", {extending}" if extended else "")
        label = f"{label} due by:".ljust(17)
        lines.append(
            f"{label}{long_date(clock.due_for(limit))} ({days} working days{more}, {sections})"
        )
    for extension in clock.extensions:
        lines.append(
            f"extension:       {extension.limit.value} + {extension.working_days} working days, "
            f"{extending}(1)({extension.ground.paragraph}) {extension.ground.value}; notice "
            f"sent {long_date(extension.notice_sent)}"
        )
    lines.append(
        f"notice by:       {long_date(clock.extension_notice_due)} (the last day to give "
        f"notice of an extension, {extending}(3))"
    )
    return lines


def _bundle_due(args: argparse.Namespace) -> int:
    from ..access.clock import RequestKind, ResponseClock

    kind = RequestKind.CORRECTION if args.correction else RequestKind.ACCESS
    extensions = [_extension(text) for text in args.extension]
    with warnings.catch_warnings():  # --extended-by: the note below says it, once
        warnings.simplefilter("ignore", DeprecationWarning)
        clock = ResponseClock(args.received, args.extended_by, kind=kind, extensions=extensions)
    lines = _due_lines(clock)
    if args.extended_by:
        print(
            "purposeful: --extended-by is deprecated and goes in the next release; give "
            f"--extension {_EXTENSION_FORM}",
            file=sys.stderr,
        )
    print("\n".join(lines))
    return 0


def _load_app(spec: str) -> Any:
    """The `SubjectAccess` named by ``module:attribute`` (or a function returning one)."""
    from ..access.request import SubjectAccess

    return load_app(
        spec,
        SubjectAccess,
        example="myapp.access:access",
        what="the object your application sets up with its data sources",
    )


def _bundle_build(args: argparse.Namespace) -> int:
    from ..access.recipients import load_recipient_public_key
    from ..access.request import AccessRequest

    subject = subject_from(args, required=True)
    access = _load_app(args.app)
    key = load_signing_key(
        args.signing_key,
        passphrase=secret_from_env(args.signing_key_passphrase_env, "the signing key"),
    )
    encrypt_to: Any = None
    if args.encrypt_to is not None:
        encrypt_to = load_recipient_public_key(args.encrypt_to)
    elif args.encrypt_passphrase_env is not None:
        encrypt_to = secret_from_env(args.encrypt_passphrase_env, "the bundle")
    request = AccessRequest(args.request_id, subject, args.received, args.extended_by)
    request = attrs.evolve(request, **_release_records(args))
    progress = _RecordCounter(sys.stderr) if sys.stderr.isatty() else None
    info = access.build(
        request,
        args.out,
        signing_key=key,
        created=args.created,
        encrypt_to=encrypt_to,
        overwrite=args.overwrite,
        progress=progress,
        draft=args.draft,
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
    if info.draft:
        print("draft:    for your review only; not an answer to give anyone")
    return 0


def _release_records(args: argparse.Namespace) -> dict[str, Any]:
    """Who asked and the s 57 checks, as the options give them."""
    from ..access.release import Check, Requester

    found: dict[str, Any] = {}
    if args.requester is not None:
        found["requester"] = Requester.parse(args.requester)
    for name in ("identity", "no_threat", "delivery"):
        text = getattr(args, name)
        if text is not None:
            found[name] = Check.parse(text)
    return found


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
    from ..access.recipients import load_recipient_private_key

    if args.private_key is not None:
        return {
            "private_key": load_recipient_private_key(
                args.private_key,
                passphrase=secret_from_env(args.private_key_passphrase_env, "the private key"),
            )
        }
    return {"passphrase": secret_from_env(args.passphrase_env, "the bundle")}


def _bundle_verify(args: argparse.Namespace) -> int:
    from ..access.verify import encrypted_bundle, verify_bundle

    secret = _decryption_secret(args)
    # a BundleError (unreadable, or a pipe or a device) is a usage error: exit 2
    if (
        secret.get("passphrase") is None
        and "private_key" not in secret
        and encrypted_bundle(args.bundle)
    ):
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
        f"{records:,} record{'' if records == 1 else 's'}"
    )
    return 0


def _bundle_decrypt(args: argparse.Namespace) -> int:
    from ..access.encryption import decrypt_file

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
        help="the due dates of an access (or correction) request received on a day",
        description=(
            "Print the last day to transfer a request (10 working days, Privacy Act 2020 "
            "s 43) and to answer it (20 working days, s 44), with any extensions (s 48), "
            "and the last day to give notice of an extension, counting working days as s 7 "
            "defines them. With --correction, the same for a correction request (ss 62, 63 "
            "and 65). A bad option exits 2 with one line."
        ),
    )
    due.add_argument("received", type=parse_date, metavar="RECEIVED", help="e.g. 2026-12-10")
    due.add_argument(
        "--correction",
        action="store_true",
        help="a correction request (IPP 7): transfer s 62, decision s 63, extensions s 65",
    )
    due.add_argument(
        "--extension",
        action="append",
        default=[],
        metavar="LIMIT:GROUND:DAYS:NOTICE-DATE",
        help=(
            "an extension: LIMIT transfer or decision; GROUND large-quantity, consultations "
            "or complexity (s 48(1)(a)-(c)); DAYS working days; NOTICE-DATE the day notice "
            "was sent, e.g. decision:complexity:10:2026-12-17. Repeat for more"
        ),
    )
    due.add_argument(
        "--extended-by",
        type=int,
        default=0,
        metavar="DAYS",
        help="deprecated: give --extension",
    )
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
    build.add_argument(
        "--received", required=True, type=parse_date, metavar="DATE", help="YYYY-MM-DD"
    )
    build.add_argument("--extended-by", type=int, default=0, metavar="DAYS", help="an extension")
    build.add_argument("--subject-env", metavar="VAR", help="variable holding the person's id")
    build.add_argument("--subject", metavar="ID", help="the person's id (visible to ps)")
    build.add_argument("--out", required=True, metavar="FILE", help="the bundle to write")
    build.add_argument("--signing-key", required=True, metavar="F", help="signing-key.pem")
    build.add_argument("--signing-key-passphrase-env", metavar="VAR", help="its passphrase")
    build.add_argument("--created", type=parse_moment, metavar="TIME", help="fix the created time")
    build.add_argument(
        "--encrypt-to", metavar="PUB", help="encrypt to the age public key (age1...) in this file"
    )
    build.add_argument(
        "--encrypt-passphrase-env", metavar="VAR", help="encrypt to the passphrase in VAR"
    )
    build.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    build.add_argument(
        "--requester", metavar="WHO", help="person, or agent:written-authority:REF (s 57)"
    )
    build.add_argument("--identity", metavar="BY:HOW[:EV]", help="identity confirmed (s 57)")
    build.add_argument(
        "--no-threat", metavar="BY:HOW[:EV]", help="no grounds to believe a threat (s 57)"
    )
    build.add_argument("--delivery", metavar="BY:HOW[:EV]", help="reaches only them (s 57)")
    build.add_argument("--draft", action="store_true", help="a draft, not for release")
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


GROUP = CommandGroup("bundle", "answer access requests: due dates, bundles", _add_bundle_commands)
