"""Reading the disposal evidence back from a ledger: what was disposed of, and what a crash
left begun and not done.

`read_disposals` yields every ``disposal`` line of a ledger as a `DisposalEvidence`;
`unfinished_disposals` the disposals whose latest line is not ``done`` (begun and then
interrupted, or failed): the records to look at, which the next disposal run finishes.
Neither verifies the ledger: run `verify_ledger` (``purposeful audit verify``) first, and
trust the evidence only of a ledger that verifies.

What this module must not do: write to the ledger; show anything but what the line holds
(pseudonyms, names, rules and dates; no line holds a value).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import attrs

from ...errors import LedgerCorrupt, LedgerError
from ..conventions import LedgerKey, LineType
from .format import decode, parse_time

__all__ = ["DisposalEvidence", "ReadsDisposals", "read_disposals", "unfinished_disposals"]


@attrs.frozen
class DisposalEvidence:
    """One ``disposal`` line.

    Attributes:
        seq: the line's seq.
        stage: ``"begun"``, ``"done"`` or ``"failed"``.
        disposal: the record's pseudonym (the same at every attempt).
        source, record_type: where the record was, and its type.
        subject: the person's pseudonym.
        rule: the rule that made the record due, in words.
        kept_until: the last day it was kept.
        method: ``"delete"`` or ``"de-identify"``.
        authority: the disposal authority's reference, or None.
        actor: who ran the disposal.
        time: when the line was written (UTC).
    """

    seq: int
    stage: str
    disposal: str
    source: str
    record_type: str
    subject: str
    rule: str
    kept_until: date
    method: str
    authority: str | None
    actor: str
    time: datetime


def read_disposals(path: str | os.PathLike[str]) -> Iterator[DisposalEvidence]:
    """Every disposal line of the ledger *path*, in order.

    Raises:
        LedgerError: the file cannot be read.
        LedgerCorrupt: the file is not a ledger (its first line is not a ledger header), or
            a disposal line is malformed (names its line).
    """
    file = Path(path)
    try:
        reader = file.open("rb")
    except OSError as exc:
        raise LedgerError(f"cannot read the ledger {file} ({exc.strerror})") from None
    with reader:
        for number, raw in enumerate(reader, start=1):
            if number == 1 and not _is_header(raw):
                # another file given as the ledger (a trace file, a typo) holds no evidence:
                # said, rather than read as a ledger with nothing unfinished
                raise LedgerCorrupt(
                    f"{file} is not a purposeful ledger: line 1 is not a ledger header; give "
                    f"the ledger file (Ledger(path) wrote it)"
                )
            if b'"type":"disposal"' not in raw:
                continue
            document = decode(raw.rstrip(b"\n"))
            if not isinstance(document, dict) or document.get(LedgerKey.TYPE) != LineType.DISPOSAL:
                continue
            yield _evidence(document, file, number)


def _is_header(raw: bytes) -> bool:
    document = decode(raw.rstrip(b"\n"))
    return isinstance(document, dict) and document.get(LedgerKey.TYPE) == LineType.HEADER


def _evidence(document: dict[str, object], file: Path, number: int) -> DisposalEvidence:
    try:
        kept = document[LedgerKey.KEPT_UNTIL]
        time = document[LedgerKey.TIME]
        authority = document[LedgerKey.AUTHORITY]
        texts = [
            document[key]
            for key in (
                LedgerKey.STAGE,
                LedgerKey.DISPOSAL,
                LedgerKey.SOURCE,
                LedgerKey.RECORD,
                LedgerKey.SUBJECT,
                LedgerKey.RULE,
                LedgerKey.METHOD,
                LedgerKey.ACTOR,
            )
        ]
        seq = document[LedgerKey.SEQ]
        moment = parse_time(time) if isinstance(time, str) else None
        if (
            not all(isinstance(text, str) for text in texts)
            or not isinstance(kept, str)
            or moment is None
            or type(seq) is not int
            or not (authority is None or isinstance(authority, str))
        ):
            raise TypeError
        stage, disposal, source, record, subject, rule, method, actor = (str(t) for t in texts)
        return DisposalEvidence(
            seq, stage, disposal, source, record, subject, rule, date.fromisoformat(kept),
            method, authority, actor, moment,
        )  # fmt: skip
    except (KeyError, TypeError, ValueError):
        raise LedgerCorrupt(
            f"{file}: line {number} is a disposal line without its parts; run "
            f"`purposeful audit verify` on the ledger"
        ) from None


def unfinished_disposals(path: str | os.PathLike[str]) -> list[DisposalEvidence]:
    """The latest line of each disposal whose latest line is not ``done``, in order.

    Raises:
        LedgerError, LedgerCorrupt: as `read_disposals`.
    """
    latest: dict[str, DisposalEvidence] = {}
    for evidence in read_disposals(path):
        latest.pop(evidence.disposal, None)
        latest[evidence.disposal] = evidence
    return [evidence for evidence in latest.values() if evidence.stage != "done"]


class ReadsDisposals:
    """What a `purposeful.audit.Ledger` reads back of its own disposal evidence."""

    _path: Path

    def unfinished_disposals(self) -> list[DisposalEvidence]:
        """The disposals this ledger holds as begun (or failed) and never done: what a
        crash, or a ``done`` line that could not be written, left open
        (`unfinished_disposals` of its file). `purposeful.retention.dispose_due` finishes
        them.

        Raises:
            LedgerError, LedgerCorrupt: as `read_disposals`.
        """
        return unfinished_disposals(self._path)
