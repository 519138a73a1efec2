"""What a ledger line is: canonical JSON, the mac chain, the kinds of line, and decoding.

The ledger file (canonical JSON: sorted keys, no spaces, ASCII; one object per line)::

    {"created":…,"format":"purposeful-ledger/2","key":"sha256:…","ledger":…,"mac":…,
     "seq":0,"type":"header"}
    {"actor":"staff-0042","decisions":[{"basis":"service-agreement","category":"health",
     "count":1,"field":"diagnosis","outcome":"allowed","reasons":[],"record":"Client",
     "sensitivity":"SENSITIVE"}],"failed":false,"fields":["Client.diagnosis",
     "Client.name"],"final":true,"mac":…,"opened":…,"part":0,
     "purpose":"service-delivery.case-management","reads":[[0,1],[1]],"role":"caseworker",
     "scope":"5f0c…0001","seq":1,"subjects":["k1:3a…","k1:9b…"],"subjects_count":2,
     "subjects_overflow":0,"time":…,"type":"scope"}

One line per scope, or per *part* of a long scope (``scope`` and ``part`` say which;
``final`` is true on the last). ``reads`` is aligned with ``subjects``: for each person,
the positions in ``fields`` of the fields read from that person's records. A ledger
created as ``purposeful-ledger/1`` (lines without ``scope``, ``fields`` and ``reads``) is
continued after a ``{"format":"purposeful-ledger/2","type":"format",…}`` line. The chain
and checkpoint constructions below are the same in both formats.

- ``mac`` of the header = HMAC-SHA256(key=genesis, msg=canonical JSON of the header without
  ``mac``), where genesis = SHA-256(``b"purposeful-ledger/1 genesis\\0"`` + ledger id);
- ``mac`` of line *n* = HMAC-SHA256(key=the bytes of line *n-1*'s mac, msg=canonical JSON of
  line *n* without ``mac``).

The chain has no secret: anyone can verify it, and anyone can recompute it. What an attacker
who rewrites the file cannot recompute are the checkpoints (``<ledger>.checkpoints``)::

    {"head":…,"key":"sha256:…","ledger":…,"seq":1000,"signature":…,"time":…,
     "type":"checkpoint"}

signed with Ed25519 over ``b"purposeful-ledger/1 checkpoint\\0"`` + the canonical JSON of
the checkpoint without ``signature``. A checkpoint of seq 0 (the header) is written when a
ledger is created, before the header itself; its ``time`` is the header's ``created``, so
it holds everything the header holds and the header can be rebuilt from it
(`interrupted_creation`) when a crash stopped the writer between the two. The checkpoint
`Ledger.close` writes also holds ``"closed":true``: no line may follow it. A writer that
opens a closed ledger again first signs a checkpoint of the same seq and head without
``closed``, so the lines it adds are its own; a checkpoint has a higher seq than the one
before it, or the same seq and head after or before a closed one. Ledgers written before
checkpoints said ``closed`` have none, and read as ever. The stored line is exactly its
canonical JSON, so every byte of either file matters: a line that parses but is not in
canonical form is reported as changed.

A writer that finds the ledger's last line torn (no newline: a process killed while writing
it) copies those bytes to a side file beside the ledger, cuts them off, and records it in
the chain with a recovery line (`recovery_line`)::

    {"file":"audit.jsonl.torn-8-20260302T090000.123456Z","mac":…,"seq":8,
     "sha256":…,"size":1234,"time":…,"torn_seq":8,"type":"recovery"}

``file`` is the side file's name (in the ledger's folder), ``size`` and ``sha256`` are those
of the bytes it holds, ``torn_seq`` the seq the torn line would have had.

Disposal (IPP 9, `purposeful.retention`) writes evidence as ``disposal`` lines
(`disposal_line`), one before a record is disposed of (``stage`` ``begun``) and one after
(``done``, or ``failed``)::

    {"actor":"staff-02","authority":null,"disposal":"k1:…","kept_until":"2027-03-01",
     "mac":…,"method":"delete","record":"CaseNote","rule":"service-delivery: 7 years after
     …","seq":9,"source":"case-notes","stage":"begun","subject":"k1:…","time":…,
     "type":"disposal"}

``disposal`` is a keyed pseudonym of the record's identity, the same at every attempt, so
a ``begun`` a crash left open is closed by the ``done`` of the next run.

Reading a chained line (`chained_entry`) costs a full decode, and an encode to check the
canonical form, only for the first line of each shape: lines of a shape already seen are
read from their bytes (`_Shapes` says why that is exact), which is what makes verifying a
ledger fast.

The keys and format names are in `purposeful.audit.conventions`. This module is shared by
the writer (`purposeful.audit.ledger.writer`), the verifier
(`purposeful.audit.ledger.verifier`) and the report's ledger reader.

What this module must not do: open, write or lock a file (the writer and the verifier do);
put a field's value or a subject identifier in a line (a `ScopeReport` holds neither, and
the format has no place for them; a disposal line holds the pseudonyms it is given);
change a construction above: every ledger ever written is checked with it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import operator
import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, NoReturn

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ...decisions import Decision, Outcome, ScopeReport
from ...errors import ConfigurationError
from ..conventions import LEDGER_FORMAT, DecisionKey, LedgerKey, LineType, SiteKey, UpstreamKey

__all__ = [
    "Entry",
    "canonical",
    "chained_entry",
    "checkpoint_line",
    "checkpoint_message",
    "decode",
    "default_checkpoints_path",
    "disposal_line",
    "entry_of",
    "format_line",
    "format_time",
    "genesis",
    "header_line",
    "interrupted_creation",
    "is_mac",
    "is_signature",
    "key_digest",
    "parse_time",
    "recovery_line",
    "scope_line",
    "seal",
    "written_as",
]

# Both tags are part of every mac and signature ever made: they never change, whatever
# the format is called.
_GENESIS: Final = b"purposeful-ledger/1 genesis\x00"
_SIGNED: Final = b"purposeful-ledger/1 checkpoint\x00"
_MAC = re.compile(r"[0-9a-f]{64}\Z")
_SIGNATURE = re.compile(r"[0-9a-f]{128}\Z")


def default_checkpoints_path(ledger: str | os.PathLike[str]) -> Path:
    """Where the checkpoints of *ledger* go unless told otherwise: ``<ledger>.checkpoints``."""
    path = Path(ledger)
    return path.with_name(path.name + ".checkpoints")


# --- canonical JSON -------------------------------------------------------------------------


def canonical(document: Mapping[str, Any]) -> bytes:
    """The one byte form of a JSON object that the ledger stores and its macs cover."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")


def decode(raw: bytes) -> dict[str, Any] | str:
    """The JSON object a stored line (without its newline) holds, or what is wrong with it."""
    if not raw:
        return "is empty"
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return "holds bytes that are not ASCII: it was changed after it was written"
    try:
        document = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        return f"is not JSON ({exc.msg}, column {exc.colno})"
    except (ValueError, RecursionError):
        return "is not JSON"
    if not isinstance(document, dict):
        return "is not a JSON object"
    try:
        stored = canonical(document)
    except ValueError:  # pragma: no cover - parse_constant already refuses NaN
        stored = b""
    if stored != raw:
        return (
            "is not in canonical form (sorted keys, no spaces, ASCII): it was changed after "
            "it was written"
        )
    return document


def format_time(moment: datetime) -> str:
    """A time as a line holds it: ISO 8601 in UTC, to the microsecond, ending in ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime | None:
    """A time a line holds, in UTC (a time without an offset is taken as UTC); None if
    *text* is not an ISO 8601 time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- the chain ------------------------------------------------------------------------------


@attrs.frozen
class Entry:
    """A ledger line as the chain sees it: its seq, its mac, and what the mac covers."""

    seq: int
    mac: str
    body: bytes
    kind: str = ""
    """The line's ``type``: `LineType.SCOPE`, `LineType.FORMAT`, `LineType.RECOVERY`, …"""

    def chains_from(self, previous_mac: str) -> bool:
        """True if this line's mac is right when keyed by *previous_mac* (hex)."""
        expected = hmac.digest(bytes.fromhex(previous_mac), self.body, "sha256").hex()
        return hmac.compare_digest(expected, self.mac)


def is_mac(value: object) -> bool:
    """True if *value* has the form of a mac: 64 lowercase hex digits."""
    return isinstance(value, str) and _MAC.match(value) is not None


def is_signature(value: object) -> bool:
    """True if *value* has the form of a checkpoint's signature: 128 lowercase hex digits."""
    return isinstance(value, str) and _SIGNATURE.match(value) is not None


def genesis(ledger_id: str) -> bytes:
    """The key of the header's mac, derived from the ledger id."""
    return hashlib.sha256(_GENESIS + ledger_id.encode("utf-8")).digest()


def _mac(previous: str | bytes, body: Mapping[str, Any]) -> str:
    key = bytes.fromhex(previous) if isinstance(previous, str) else previous
    return hmac.new(key, canonical(body), hashlib.sha256).hexdigest()


def seal(body: dict[str, Any], seq: int, previous_mac: str) -> tuple[bytes, str]:
    """Give *body* its seq and its mac, chained to *previous_mac*; return the stored line
    (with its newline) and the mac."""
    body[LedgerKey.SEQ] = seq
    mac = _mac(previous_mac, body)
    body[LedgerKey.MAC] = mac
    return canonical(body) + b"\n", mac


def entry_of(document: Mapping[str, Any]) -> Entry | None:
    """The chain's view of a decoded line, or None if it has no usable seq or mac."""
    seq = document.get(LedgerKey.SEQ)
    mac = document.get(LedgerKey.MAC)
    if type(seq) is not int or seq < 0 or not isinstance(mac, str) or not is_mac(mac):
        return None
    body = {name: value for name, value in document.items() if name != LedgerKey.MAC}
    kind = document.get(LedgerKey.TYPE)
    return Entry(seq, mac, canonical(body), kind if isinstance(kind, str) else "")


def chained_entry(raw: bytes) -> Entry | str:
    """The entry of a line after the header (without its newline), or what is wrong with it.

    A line of a shape already seen decoded is read without decoding it again (see
    `_Shapes`); any other, or anything unusual, is decoded in full. Both give the same
    answer for every line.
    """
    entry = _SHAPES.entry(raw)
    return entry if entry is not None else _decoded_entry(raw)


def _decoded_entry(raw: bytes) -> Entry | str:
    """`chained_entry` by decoding *raw* in full; teaches `_SHAPES` the line's shape."""
    document = decode(raw)
    if isinstance(document, str):
        return document
    if document.get(LedgerKey.TYPE) not in _CHAINED:
        return "is not a scope, format, recovery or disposal line"
    entry = entry_of(document)
    if entry is None:
        return "lacks a valid seq or mac"
    _SHAPES.learn(raw)
    return entry


# --- reading a chained line quickly ---------------------------------------------------------

#: The bytes a line read quickly may hold: printable ASCII but the backslash, so every
#: string is its own canonical form and no string holds a quote.
_PLAIN: Final = bytes(range(0x20, 0x7F)).replace(b"\\", b"")
#: Digits 1 to 9 read as 1 in a shape: an integer's value does not change its form.
_DIGITS: Final = bytes.maketrans(b"23456789", b"11111111")
_MAC_MEMBER: Final = b'"mac":"'
#: The types of the lines after the header, as `chained_entry` accepts them.
_CHAINED: Final = (LineType.SCOPE, LineType.FORMAT, LineType.RECOVERY, LineType.DISPOSAL)
_CHAINED_BYTES: Final = {kind.encode("ascii"): kind for kind in _CHAINED}
_SHAPES_KEPT: Final = 4096


@attrs.frozen
class _Slots:
    """Where, in a line of a known shape, the top-level mac, seq and type are.

    ``mac`` and ``type`` index the line's strings (split at its quotes, every second
    piece); ``seq`` indexes the pieces between them.
    """

    mac: int
    seq: int
    type: int


class _Shapes:
    """The shapes of lines already decoded in full and found sound: read others like them
    without decoding them again.

    A line with no backslash and only printable ASCII splits at its quotes into strings
    and the pieces between them. Its *shape* is the pieces between, joined by ``""`` with
    every digit 1 to 9 read as 1; with the strings that are keys (those followed by
    ``:``), the shape says everything that decides whether the line is canonical: its
    structure, the whitespace, the keys and their order, and the form of every integer
    (sign, leading zero, length). A line with a fraction or an exponent is not learnt: two
    numbers of the same form, ``0.30000000000000004`` and ``0.10000000000000001``, need
    not both be canonical. A line whose shape and keys are those
    of a line `_decoded_entry` accepted differs from it only in the contents of strings
    that are not keys (printable, without a quote or a backslash: their own canonical
    form) and in digits 1 to 9 of numbers: it is canonical too, holds the same top-level
    members, and each where that line held it. Only the type, which must still be a scope,
    format or recovery line, and the mac, which must still look like one, are checked again.

    A shape is learnt only from a line that has exactly one key named ``mac``, ``seq``
    and ``type`` each (so the top-level ones), and at most `_SHAPES_KEPT` are kept.
    """

    def __init__(self) -> None:
        self._keys: dict[bytes, Callable[[list[bytes]], tuple[bytes, ...]]] = {}
        self._slots: dict[tuple[bytes, tuple[bytes, ...]], _Slots] = {}

    @staticmethod
    def _split(raw: bytes) -> tuple[bytes, list[bytes], list[bytes]] | None:
        """The line's shape, its strings and the pieces between them; None if it cannot
        be read quickly."""
        if raw.translate(None, _PLAIN):  # anything else is left
            return None
        pieces = raw.split(b'"')
        if len(pieces) % 2 == 0:  # a quote without its pair
            return None
        between = pieces[0::2]
        return b'""'.join(between).translate(_DIGITS), pieces[1::2], between

    @staticmethod
    def _key_slots(between: list[bytes]) -> list[int]:
        """Which strings are keys: those followed by a colon."""
        return [i for i, after in enumerate(between[1:]) if after.startswith(b":")]

    def _keep(self, cache: dict[Any, Any], key: object, value: object) -> None:
        if len(cache) >= _SHAPES_KEPT:
            cache.clear()
        cache[key] = value

    def learn(self, raw: bytes) -> None:
        """Note the shape of *raw*, a line `_decoded_entry` accepted."""
        split = self._split(raw)
        if split is None:
            return
        shape, strings, between = split
        if b"." in shape or b"e+" in shape or b"e-" in shape:
            return  # a fraction: two of the same form are not both canonical
        slots = self._key_slots(between)
        keys = tuple(strings[i] for i in slots)
        found = [
            [i for i, key in enumerate(keys) if key == name] for name in (b"mac", b"seq", b"type")
        ]
        if any(len(at) != 1 for at in found):
            return
        mac, seq, kind = (slots[at[0]] for at in found)
        # three keys at least, so the getter gives a tuple
        self._keep(self._keys, shape, operator.itemgetter(*slots))
        self._keep(self._slots, (shape, keys), _Slots(mac + 1, seq + 1, kind + 1))

    def entry(self, raw: bytes) -> Entry | None:
        """The entry of *raw* if it has a shape already learnt and its type and mac are
        sound; None to decode it in full."""
        split = self._split(raw)
        if split is None:
            return None
        shape, strings, between = split
        keys = self._keys.get(shape)
        if keys is None:
            return None
        slots = self._slots.get((shape, keys(strings)))
        kind = _CHAINED_BYTES.get(strings[slots.type]) if slots is not None else None
        if slots is None or kind is None:
            return None
        mac = strings[slots.mac].decode("ascii")
        if _MAC.match(mac) is None:
            return None
        seq = int(between[slots.seq][1:].rstrip(b",]}"))
        start = raw.find(_MAC_MEMBER)
        end = start + len(_MAC_MEMBER) + 65
        if raw[end : end + 1] == b",":
            body = raw[:start] + raw[end + 1 :]
        else:  # the last member: drop the comma before it
            body = raw[: start - 1] + raw[end:]
        return Entry(seq, mac, body, kind)


_SHAPES: Final = _Shapes()


def key_digest(public_key: Ed25519PublicKey) -> str:
    """``sha256:`` and the SHA-256 of the raw public key, in hex.

    Its first 8 hex digits are the key's `purposeful.audit.signing_key_id`.
    """
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# --- the kinds of line ----------------------------------------------------------------------


def header_line(ledger_id: str, key: str, created: datetime) -> dict[str, Any]:
    """The header of a new ledger, mac included: the first line, seq 0."""
    header: dict[str, Any] = {
        LedgerKey.CREATED: format_time(created),
        LedgerKey.FORMAT: LEDGER_FORMAT,
        LedgerKey.KEY: key,
        LedgerKey.LEDGER: ledger_id,
        LedgerKey.SEQ: 0,
        LedgerKey.TYPE: LineType.HEADER,
    }
    header[LedgerKey.MAC] = _mac(genesis(ledger_id), header)
    return header


def format_line(time: datetime) -> dict[str, Any]:
    """The line, before its seq and mac, that says the lines after it are `LEDGER_FORMAT`."""
    return {
        LedgerKey.FORMAT: LEDGER_FORMAT,
        LedgerKey.TIME: format_time(time),
        LedgerKey.TYPE: LineType.FORMAT,
    }


def written_as(last: bytes | None, format: str) -> bool:
    """True if the ledger's last line shows it is already written in *format*: a ``format``
    line saying so, or a scope line of that format (one with a scope id)."""
    found = decode(last) if last is not None else None
    if not isinstance(found, dict):
        return False
    if found.get(LedgerKey.TYPE) == LineType.FORMAT:
        return found.get(LedgerKey.FORMAT) == format
    return found.get(LedgerKey.TYPE) == LineType.SCOPE and LedgerKey.SCOPE in found


def checkpoint_message(checkpoint: Mapping[str, Any]) -> bytes:
    """What a checkpoint's signature covers: its line without ``signature``."""
    return _SIGNED + canonical(checkpoint)


def checkpoint_line(
    signing_key: Ed25519PrivateKey,
    *,
    ledger_id: str,
    key: str,
    seq: int,
    head: str,
    closed: bool = False,
    time: datetime | None = None,
) -> dict[str, Any]:
    """The signed checkpoint of the chain head *head*, the mac of line seq *seq*; *closed*
    marks the ledger closed at it. *time* is now unless given (the first checkpoint takes
    the header's ``created``)."""
    checkpoint: dict[str, Any] = {
        LedgerKey.HEAD: head,
        LedgerKey.KEY: key,
        LedgerKey.LEDGER: ledger_id,
        LedgerKey.SEQ: seq,
        LedgerKey.TIME: format_time(time if time is not None else datetime.now(UTC)),
        LedgerKey.TYPE: LineType.CHECKPOINT,
    }
    if closed:  # only then: other checkpoints stay exactly as they were
        checkpoint[LedgerKey.CLOSED] = True
    checkpoint[LedgerKey.SIGNATURE] = signing_key.sign(checkpoint_message(checkpoint)).hex()
    return checkpoint


def interrupted_creation(checkpoints: bytes, public_key: Ed25519PublicKey) -> dict[str, Any] | None:
    """The header a crash kept a writer from writing, rebuilt from the checkpoint file
    (its bytes, *checkpoints*) when that holds nothing but the signed checkpoint of a new
    ledger's header; None if it holds anything else.

    That checkpoint (seq 0, not closing, signed with *public_key*, its ``time`` the
    header's ``created``) names the ledger, the key, the time and the header's mac: the
    header is rebuilt from it and must have that mac.
    """
    first, newline, rest = checkpoints.partition(b"\n")
    found = decode(first) if newline and not rest else None
    if not isinstance(found, dict) or found.get(LedgerKey.TYPE) != LineType.CHECKPOINT:
        return None
    ledger_id, key, time, head, signature = (
        found.get(name)
        for name in (
            LedgerKey.LEDGER,
            LedgerKey.KEY,
            LedgerKey.TIME,
            LedgerKey.HEAD,
            LedgerKey.SIGNATURE,
        )
    )
    created = parse_time(time) if isinstance(time, str) else None
    if (
        found.get(LedgerKey.SEQ) != 0
        or type(found.get(LedgerKey.SEQ)) is not int
        or LedgerKey.CLOSED in found
        or not isinstance(ledger_id, str)
        or key != key_digest(public_key)
        or created is None
        or not is_mac(head)
        or not is_signature(signature)
    ):
        return None
    signed = {name: value for name, value in found.items() if name != LedgerKey.SIGNATURE}
    try:
        public_key.verify(bytes.fromhex(str(signature)), checkpoint_message(signed))
    except InvalidSignature:
        return None
    header = header_line(ledger_id, key, created)
    if header[LedgerKey.MAC] != head or header[LedgerKey.CREATED] != time:
        return None
    return header


def recovery_line(*, file: str, torn: bytes, torn_seq: int, time: datetime) -> dict[str, Any]:
    """The line, before its seq and mac, that records the torn last line *torn* (the seq
    it would have had: *torn_seq*) set aside to the side file named *file*."""
    return {
        LedgerKey.FILE: file,
        LedgerKey.SHA256: hashlib.sha256(torn).hexdigest(),
        LedgerKey.SIZE: len(torn),
        LedgerKey.TIME: format_time(time),
        LedgerKey.TORN_SEQ: torn_seq,
        LedgerKey.TYPE: LineType.RECOVERY,
    }


#: The stages of a disposal line: evidence before the source's hook runs, and after.
DISPOSAL_STAGES: Final = ("begun", "done", "failed")


def disposal_line(
    *,
    stage: str,
    disposal: str,
    source: str,
    record_type: str,
    subject: str,
    rule: str,
    kept_until: date,
    method: str,
    authority: str | None,
    actor: str,
    time: datetime,
) -> dict[str, Any]:
    """The evidence of one disposal (IPP 9), before its seq and mac: the record's type and
    source, the rule that made it due and the last day it was kept, the method, the
    disposal authority (or null), who and when; the record and the person as pseudonyms.

    Raises:
        ConfigurationError: a part is missing or of the wrong kind.
    """
    texts = {"disposal": disposal, "source": source, "record_type": record_type,
             "subject": subject, "rule": rule, "method": method, "actor": actor}  # fmt: skip
    wrong = [name for name, value in texts.items() if not isinstance(value, str) or not value]
    if stage not in DISPOSAL_STAGES:
        wrong.append("stage")
    if authority is not None and (not isinstance(authority, str) or not authority):
        wrong.append("authority")
    if not isinstance(kept_until, date) or isinstance(kept_until, datetime):
        wrong.append("kept_until")
    if not isinstance(time, datetime) or time.tzinfo is None:
        wrong.append("time")
    if wrong:
        raise ConfigurationError(
            f"a disposal line needs {', '.join(wrong)}: non-empty text (stage one of "
            f"{', '.join(DISPOSAL_STAGES)}), kept_until a date and time an aware datetime"
        )
    return {
        LedgerKey.ACTOR: actor,
        LedgerKey.AUTHORITY: authority,
        LedgerKey.DISPOSAL: disposal,
        LedgerKey.KEPT_UNTIL: kept_until.isoformat(),
        LedgerKey.METHOD: method,
        LedgerKey.RECORD: record_type,
        LedgerKey.RULE: rule,
        LedgerKey.SOURCE: source,
        LedgerKey.STAGE: stage,
        LedgerKey.SUBJECT: subject,
        LedgerKey.TIME: format_time(time),
        LedgerKey.TYPE: LineType.DISPOSAL,
    }


def scope_line(report: ScopeReport) -> dict[str, Any]:
    """The content of a report's line, before its seq and mac: names, codes, counts and
    pseudonyms only. ``fields`` are the fields read in this part; ``reads`` is aligned with
    ``subjects``: for each person, the positions in ``fields`` of the fields read from their
    records."""
    fields = _fields_read(report)
    position = {name: i for i, name in enumerate(fields)}
    subjects = sorted(report.subjects)
    line: dict[str, Any] = {
        LedgerKey.ACTOR: report.actor.id if report.actor is not None else None,
        LedgerKey.DECISIONS: [
            _decision(decision, report.count_of(i)) for i, decision in enumerate(report.decisions)
        ],
        LedgerKey.FAILED: report.failed,
        LedgerKey.FIELDS: fields,
        LedgerKey.FINAL: report.final,
        LedgerKey.OPENED: format_time(report.opened_at),
        LedgerKey.PART: report.part,
        LedgerKey.PURPOSE: report.purpose.id if report.purpose is not None else None,
        LedgerKey.READS: [
            sorted(position[name] for name in report.reads.get(pseudonym, ()) if name in position)
            for pseudonym in subjects
        ],
        LedgerKey.ROLE: report.actor.role if report.actor is not None else None,
        LedgerKey.SCOPE: report.scope_id,
        LedgerKey.SUBJECTS: subjects,
        LedgerKey.SUBJECTS_COUNT: report.subject_count,
        LedgerKey.SUBJECTS_OVERFLOW: report.subject_count - len(report.subjects),
        LedgerKey.TIME: format_time(report.closed_at),
        LedgerKey.TYPE: LineType.SCOPE,
    }
    if report.disclosures:  # only then: older lines stay exactly as they were
        line[LedgerKey.DISCLOSURES] = [dict(disclosure) for disclosure in report.disclosures]
    if report.justification is not None:  # only then, as above: a reference, never text
        line[LedgerKey.JUSTIFICATION] = report.justification
    if report.upstream is not None:  # only then, as above
        line[LedgerKey.UPSTREAM] = {
            UpstreamKey.SCOPE: report.upstream.scope_id,
            UpstreamKey.SERVICE: report.upstream.service,
        }
    if report.site is not None:
        line[LedgerKey.SITE] = {
            SiteKey.FILE: report.site.file,
            SiteKey.FUNCTION: report.site.function,
            SiteKey.LINE: report.site.line,
        }
    return line


def _fields_read(report: ScopeReport) -> list[str]:
    """The fields read in *report*, sorted: those it lists, and those of its allowed and
    would-deny decisions (a report made by hand may list none)."""
    fields = set(report.fields_read)
    for decision in report.decisions:
        if decision.outcome is Outcome.ALLOWED or decision.outcome is Outcome.WOULD_DENY:
            fields.add(f"{decision.record_type}.{decision.field}")
    for names in report.reads.values():
        fields.update(names)
    return sorted(fields)


def _decision(decision: Decision, count: int) -> dict[str, Any]:
    return {
        DecisionKey.BASIS: decision.basis.kind.value if decision.basis is not None else None,
        DecisionKey.CATEGORY: decision.category.id if decision.category is not None else None,
        DecisionKey.COUNT: count,
        DecisionKey.FIELD: decision.field,
        DecisionKey.OUTCOME: decision.outcome.value,
        DecisionKey.REASONS: list(decision.reason_codes),
        DecisionKey.RECORD: decision.record_type,
        DecisionKey.SENSITIVITY: decision.sensitivity.name,
    }
