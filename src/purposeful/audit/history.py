"""One person's access history: who read their information, when, for what, and which of it.

A person asking for their information (a subject-access request) is owed the uses of it
that the audit trail recorded. `access_history` answers that from the ledgers, and
``purposeful audit report --subject`` from traces or ledgers (its `ReportBuilder` folds
with a `SubjectHistory` too):

- `SubjectQuery` holds the person's pseudonyms, one per pseudonym key, computed locally;
  the identifier itself is not kept;
- `SubjectHistory` folds scope records (`purposeful.audit.report.records`) into a
  `SubjectAnswer`, one at a time, joining the parts of a long scope and keeping, for a
  scope still missing parts, only what it says about this person;
- `access_history` reads ledger files one line at a time into a `SubjectHistory`: nothing
  else of the report is computed.

Each access lists the fields read from this person's records, never what the same scope
read from other people's, which of them were read in monitor mode under a decision that
enforce mode would have refused (`would_deny_marks` says when the trail shows that), and
what of their records it disclosed to other agencies (a disclosure names the person by
pseudonym). Where the inputs do not say (older ones, capped
or missing pseudonyms, missing parts, disclosures that name nobody), the answer says it is
incomplete, and why. A subject in the inputs that is not a pseudonym (``<key id>:<32 hex
digits>``), such as a raw identifier written by a service with another pseudonymiser, is
counted, never kept or shown.

What this module must not do: hold, return or print a subject identifier (only
pseudonyms, and of other people's pseudonyms only their key ids); show what a scope read
for other people; keep every scope in memory.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import chain
from pathlib import Path

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .._shared.keys import PseudonymKey
from ..decisions import Reason
from ..errors import ConfigurationError, LedgerUnverified, ReportInputError
from .conventions import LedgerKey
from .ledger import default_checkpoints_path, default_index_path
from .ledger.format import decode, key_digest
from .ledger.index import IndexBuilder, LedgerIndex, read_index
from .ledger.verifier import verify_from
from .report.reading import LEDGER_INPUT, input_size, read_ledger
from .report.records import Refusal, ScopeRecord, ScopesInParts

__all__ = [
    "SubjectAccess",
    "SubjectAnswer",
    "SubjectDisclosure",
    "SubjectHistory",
    "SubjectQuery",
    "access_history",
    "attributed_in_scope",
    "would_deny_for_everyone",
    "would_deny_marks",
]


@attrs.frozen
class SubjectQuery:
    """ "Who read this person's information?", held as the person's pseudonyms only.

    Make one with `SubjectQuery.for_subject`; the identifier itself is not kept.

    Attributes:
        pseudonyms: the person's pseudonym under each key, ``"<key id>:<hex>"``.
    """

    pseudonyms: tuple[str, ...]

    @classmethod
    def for_subject(cls, subject: str, keys: Iterable[PseudonymKey]) -> SubjectQuery:
        """The query for *subject*, with its pseudonym under each of *keys*.

        Give every key of the period the inputs cover: after a key rotation, older scopes
        hold pseudonyms made with the older key.

        Raises:
            ConfigurationError: *subject* is not a non-empty string, or no key was given.
        """
        if not isinstance(subject, str) or not subject:
            raise ConfigurationError("the subject to look for must be a non-empty string")
        pseudonyms = tuple(dict.fromkeys(key.pseudonym(subject) for key in keys))
        if not pseudonyms:
            raise ConfigurationError(
                "looking for a subject needs the pseudonym key (or keys) the inputs were "
                "written with: pass each key file with --key-file"
            )
        return cls(pseudonyms)

    @property
    def key_ids(self) -> frozenset[str]:
        """The ids of the keys the pseudonyms were made with."""
        return frozenset(_key_id(pseudonym) for pseudonym in self.pseudonyms)


def _key_id(pseudonym: str) -> str:
    return pseudonym.partition(":")[0]


#: What `purposeful.audit.PseudonymKey.pseudonym` makes: a key id, a colon, 32 hex digits.
_PSEUDONYM = re.compile(r"[0-9a-f]{8}:[0-9a-f]{32}\Z")


def _is_pseudonym(subject: str) -> bool:
    """True if *subject* has the form of a pseudonym; anything else may be an identifier."""
    return _PSEUDONYM.match(subject) is not None


@attrs.frozen(order=True)
class SubjectDisclosure:
    """What a scope disclosed of the person's records to another agency: names only.

    Attributes:
        recipient: the party it went to.
        agreement: the sharing agreement it was made under.
        record_type: the record type disclosed.
        fields: the fields disclosed, sorted.
    """

    recipient: str
    agreement: str
    record_type: str
    fields: tuple[str, ...]

    def describe(self) -> str:
        """``shared with <recipient> under <agreement>: <fields>``."""
        fields = ", ".join(self.fields) or "(none)"
        return f"shared with {self.recipient} under {self.agreement}: {fields}"


@attrs.frozen
class SubjectAccess:
    """One scope that read the person asked about, or disclosed their records.

    Attributes:
        opened, closed: when the scope opened and closed (UTC).
        purpose: the purpose id; None for a read outside any scope.
        actor_id, actor_role: who.
        fields_read: the fields read from this person's records, as far as the inputs say;
            never another person's.
        fields_known: False when the scope (or a part of it) lists the person but does not
            say which fields it read for whom (inputs written before purposeful recorded
            that): more of the person's information may have been read.
        parts_missing: True when some parts of the scope's record are missing (the process
            ended abruptly, or the scope was still running): it may have read more of the
            person's information than *fields_read* says.
        upstream: when the scope worked for a request from another service, that service
            and its scope id (follow the request there); else None.
        disclosures: what the scope disclosed of the person's records to other agencies
            (`purposeful.disclose`), sorted; a scope that disclosed them is an access even
            if it lists no field read for them.
        fields_would_deny: those of *fields_read* that were read in monitor mode under a
            decision enforce mode would have refused (a would-deny), in the order of
            *fields_read*: information of this person's used where policy said it should
            not have been. See `would_deny_marks` for when the trail shows it.
    """

    opened: datetime
    closed: datetime
    purpose: str | None
    actor_id: str | None
    actor_role: str | None
    fields_read: tuple[str, ...]
    fields_known: bool = True
    parts_missing: bool = False
    upstream: tuple[str, str] | None = None
    disclosures: tuple[SubjectDisclosure, ...] = ()
    fields_would_deny: tuple[str, ...] = ()


@attrs.frozen
class SubjectAnswer:
    """Who read one person's information, when, for what purpose, and which of it.

    Attributes:
        pseudonyms: the person's pseudonyms, one per key given.
        accesses: the scopes that list one of them, oldest first.
        overflowed_scopes: scopes that read more people than they list, in a part that
            does not list this person: any of them may have read the person (or more of
            their information) too.
        unlisted_scopes: scopes that read people but list none of them, because the
            service that made them had no pseudonymiser configured.
        scopes_without_subjects: scopes that do not say whom they read (older inputs).
        other_key_ids: ids of keys the inputs' pseudonyms were made with that none of the
            keys given has: scopes written under those keys cannot be matched.
        unitemised_scopes: scopes that list the person but do not say which fields they
            read for whom (older inputs); their accesses have ``fields_known`` False.
        incomplete_scopes: scopes written in parts of which some are missing (no last part,
            or a gap): each may have read the person, or more of their information, in a
            part that is not there.
        non_pseudonym_scopes: scopes that list subjects that are not pseudonyms: raw
            identifiers, or what a pseudonymiser other than
            `purposeful.audit.PseudonymKey.pseudonym` made. They cannot be matched to the
            person, and are counted, never shown.
        unattributed_disclosures: disclosures to other agencies that do not name the
            person whose record they were by pseudonym (written with no pseudonymiser, or
            before purposeful recorded it): any of them may have been of this person's
            records.
    """

    pseudonyms: tuple[str, ...]
    accesses: tuple[SubjectAccess, ...]
    overflowed_scopes: int
    unlisted_scopes: int
    scopes_without_subjects: int
    other_key_ids: tuple[str, ...]
    unitemised_scopes: int = 0
    incomplete_scopes: int = 0
    non_pseudonym_scopes: int = 0
    unattributed_disclosures: int = 0

    @property
    def complete(self) -> bool:
        """True when every scope that could have read the person says which of their
        information it read, every disclosure says whose record it was, and every part of
        every scope is there."""
        return not (
            self.overflowed_scopes
            or self.unlisted_scopes
            or self.scopes_without_subjects
            or self.other_key_ids
            or self.unitemised_scopes
            or self.incomplete_scopes
            or self.non_pseudonym_scopes
            or self.unattributed_disclosures
        )


#: Reason codes that hold for every read of the field in the scope, whoever it was about:
#: the purpose, the actor's clearance, the basis, the scope. Any other code (consent, care,
#: and any code this version does not know) may differ from one person to the next.
_FOR_EVERYONE: frozenset[str] = frozenset(
    reason.value
    for reason in (
        Reason.PURPOSE_NOT_DECLARED,
        Reason.CLEARANCE_TOO_LOW,
        Reason.NO_CONSENT_CHECKER,
        Reason.NO_SCOPE,
        Reason.SCOPE_CLOSED,
        Reason.NOT_ENTITLED_TO_BASIS,
        Reason.JUSTIFICATION_MISSING,
    )
)


def would_deny_for_everyone(reasons: Iterable[str]) -> bool:
    """Whether a would-deny decision with *reasons* held for every read of its field in its
    scope: one of them does not depend on whose record was read."""
    return any(reason in _FOR_EVERYONE for reason in reasons)


def would_deny_marks(
    fields_read: Iterable[str],
    for_everyone: Iterable[str],
    attributed: Iterable[str],
) -> tuple[str, ...]:
    """Which of a person's *fields_read* in one scope were read under a would-deny decision.

    A scope decides a field once, for the whole scope (its parts are only how it is
    sent), so a would-deny decision whose reasons hold for everyone (*for_everyone*: the
    names, ``RecordType.field``, of the scope's would-deny decisions of any part that
    `would_deny_for_everyone`) marks the person's read of that field in any part. A
    decision that turned on the person (consent, care) is made once per person and names
    nobody: *attributed* holds the fields `attributed_in_scope` found to be this person's.

    Returns the marked fields, in the order of *fields_read*.
    """
    marked = set(for_everyone) | set(attributed)
    return tuple(name for name in fields_read if name in marked)


def attributed_in_scope(would_deny: int, readers: int, *, complete: bool) -> bool:
    """Whether the would-deny decisions on a field in one scope are this person's too.

    A decision that turned on the person (consent, care) is made once per person, and the
    trail does not say whose it was, nor always which part (a part may be sent between a
    read's decision and the note of whose record it was, so the decision goes out a part
    ahead of the read). When every part of the scope is in the inputs and lists everyone
    it read (*complete*), and the scope's would-deny decisions on the field (*would_deny*:
    how many reads they stand for, in all its parts) are as many as the people its parts
    list reading the field (*readers*, summed over the parts), every one of those people
    was refused, this person among them. When they are fewer, the trail does not say
    whose they were, and nobody is marked.
    """
    return complete and readers > 0 and would_deny == readers


@attrs.define
class _Sightings:
    """What the parts of one scope say about the person asked about, until it is settled."""

    listed: bool = False
    fields: set[str] = attrs.Factory(set)
    fields_known: bool = True
    overflowed: bool = False
    unlisted: bool = False
    without_subjects: bool = False
    not_pseudonyms: bool = False
    shared: list[SubjectDisclosure] = attrs.Factory(list)
    #: the fields of the scope's would-deny decisions that hold for everyone, in any part
    refused_for_everyone: set[str] = attrs.Factory(set)
    #: per field, how many reads the scope's would-deny decisions stand for, in all parts
    would_deny: dict[str, int] = attrs.Factory(dict)
    #: per field, how many people the scope's parts list reading it, summed over the parts
    readers: Counter[str] = attrs.Factory(Counter)
    #: whether every part so far listed everyone it read, with the fields of each
    all_listed: bool = True

    def add(self, scope: ScopeRecord, wanted: frozenset[str]) -> None:
        """Note what one scope record (a whole scope, or a part) says about the person."""
        _would_deny(scope.refusals, self.refused_for_everyone, self.would_deny)
        if scope.subjects is None or scope.reads is None or scope.subjects_overflow:
            self.all_listed = False
        elif self.all_listed:  # each person and field once a part, as the engines count
            if len(set(scope.subjects)) == len(scope.subjects):  # as a part is written
                self.readers.update(chain.from_iterable(scope.reads))
            else:
                reads: dict[str, set[str]] = {}
                for subject, names in zip(scope.subjects, scope.reads, strict=True):
                    reads.setdefault(subject, set()).update(names)
                self.readers.update(chain.from_iterable(reads.values()))
        for disclosure in scope.disclosures:
            if disclosure.subject in wanted:
                self.shared.append(
                    SubjectDisclosure(
                        disclosure.recipient,
                        disclosure.agreement,
                        disclosure.record_type,
                        tuple(sorted(set(disclosure.fields))),
                    )
                )
        if scope.subjects is None:
            self.without_subjects = True
            return
        if not all(_is_pseudonym(subject) for subject in scope.subjects):
            self.not_pseudonyms = True
        at = [i for i, pseudonym in enumerate(scope.subjects) if pseudonym in wanted]
        if at:
            self.listed = True
            if scope.reads is None:  # older inputs: whose fields they were is not known
                self.fields_known = False
            else:
                for i in at:
                    self.fields.update(scope.reads[i])
        elif scope.subjects_overflow and scope.subjects:
            self.overflowed = True
        elif scope.subjects_overflow:
            self.unlisted = True

    def theirs(self, *, parts_missing: bool) -> set[str]:
        """The fields the scope shows this person was read for under a would-deny
        decision that may have turned on them (`attributed_in_scope`)."""
        complete = self.all_listed and not parts_missing
        return {
            name
            for name in self.fields
            if attributed_in_scope(
                self.would_deny.get(name, 0), self.readers[name], complete=complete
            )
        }


def _would_deny(
    refusals: Iterable[Refusal], for_everyone: set[str], counts: dict[str, int]
) -> None:
    """Add to *counts* the fields (``RecordType.field``) of *refusals*' would-deny
    decisions, with how many reads they stand for, and to *for_everyone* those whose
    reasons hold for everyone."""
    for refusal in refusals:
        if refusal.outcome != "would-deny":
            continue
        name = f"{refusal.record_type}.{refusal.field}"
        counts[name] = counts.get(name, 0) + refusal.count
        if would_deny_for_everyone(refusal.reasons):
            for_everyone.add(name)


@attrs.define
class _ScopeIdentity:
    """What every part of a scope shares, and when its latest part was written."""

    opened: datetime
    closed: datetime
    purpose: str | None
    actor_id: str | None
    actor_role: str | None
    upstream: tuple[str, str] | None

    @classmethod
    def of(cls, scope: ScopeRecord) -> _ScopeIdentity:
        return cls(
            scope.opened,
            scope.closed,
            scope.purpose,
            scope.actor_id,
            scope.actor_role,
            scope.upstream,
        )


@attrs.define
class _AnswerTally:
    """The answer about one person, as the scopes are settled."""

    accesses: list[SubjectAccess] = attrs.Factory(list)
    overflowed: int = 0
    unlisted: int = 0
    without_subjects: int = 0
    unitemised: int = 0
    incomplete: int = 0
    not_pseudonyms: int = 0

    def settle(self, seen: _Sightings, scope: _ScopeIdentity, *, parts_missing: bool) -> None:
        """Count one whole scope, all of whose parts have been seen (or all there will be)."""
        self.incomplete += parts_missing
        self.not_pseudonyms += seen.not_pseudonyms
        if seen.without_subjects:
            self.without_subjects += 1
        if seen.listed or seen.shared:
            self.unitemised += seen.listed and not seen.fields_known
            fields = tuple(sorted(seen.fields))
            self.accesses.append(
                SubjectAccess(
                    scope.opened,
                    scope.closed,
                    scope.purpose,
                    scope.actor_id,
                    scope.actor_role,
                    fields,
                    fields_known=seen.fields_known,
                    parts_missing=parts_missing,
                    upstream=scope.upstream,
                    disclosures=tuple(sorted(seen.shared)),
                    fields_would_deny=would_deny_marks(
                        fields,
                        seen.refused_for_everyone,
                        seen.theirs(parts_missing=parts_missing),
                    ),
                )
            )
        if seen.unlisted:
            self.unlisted += 1
        elif seen.overflowed:
            self.overflowed += 1


@attrs.define
class _Kept:
    """What is kept about a scope written in parts until all its parts are seen."""

    identity: _ScopeIdentity
    sightings: _Sightings = attrs.Factory(_Sightings)

    @classmethod
    def of(cls, scope: ScopeRecord) -> _Kept:
        return cls(_ScopeIdentity.of(scope))


class SubjectHistory:
    """Folds scope records into the answer about one person, one at a time.

    A scope written whole is settled as it comes and not kept. Of a scope written in
    parts, only what its parts say about this person is kept, until its parts from 0 to
    the last have all been seen; one still missing some when the answer is asked for is
    counted as it is, and noted as incomplete. Parts are joined by scope id within each
    kind of file (*source*).

    Args:
        subject: the person to answer about.
    """

    def __init__(self, subject: SubjectQuery) -> None:
        self._query = subject
        self._wanted = frozenset(subject.pseudonyms)
        self._open: ScopesInParts[_Kept] = ScopesInParts(_Kept.of)
        self._answer = _AnswerTally()
        self._key_ids: set[str] = set()
        self._unattributed = 0

    def add(self, scope: ScopeRecord, source: str = "") -> None:
        """Note what one scope, or one part of a scope, read from a file of kind *source*,
        says about the person."""
        if scope.subjects is not None:
            self._key_ids.update(
                _key_id(pseudonym) for pseudonym in scope.subjects if _is_pseudonym(pseudonym)
            )
        for disclosure in scope.disclosures:
            if disclosure.subject is not None and _is_pseudonym(disclosure.subject):
                self._key_ids.add(_key_id(disclosure.subject))
            else:
                self._unattributed += 1
        parts, _ = self._open.add(scope, source)
        if parts is None:
            seen = _Sightings()
            seen.add(scope, self._wanted)
            self._answer.settle(seen, _ScopeIdentity.of(scope), parts_missing=False)
            return
        kept = parts.kept
        kept.identity.closed = max(kept.identity.closed, scope.closed)
        kept.sightings.add(scope, self._wanted)
        if parts.complete:
            self._answer.settle(kept.sightings, kept.identity, parts_missing=False)

    def answer(self) -> SubjectAnswer:
        """The answer about the person, with the scopes still missing parts settled as
        they are, into a copy: more parts may yet be added."""
        answer = attrs.evolve(self._answer, accesses=list(self._answer.accesses))
        for parts in self._open:
            answer.settle(parts.kept.sightings, parts.kept.identity, parts_missing=True)
        return SubjectAnswer(
            pseudonyms=self._query.pseudonyms,
            accesses=tuple(sorted(answer.accesses, key=lambda access: access.opened)),
            overflowed_scopes=answer.overflowed,
            unlisted_scopes=answer.unlisted,
            scopes_without_subjects=answer.without_subjects,
            other_key_ids=tuple(sorted(self._key_ids - self._query.key_ids)),
            unitemised_scopes=answer.unitemised,
            incomplete_scopes=answer.incomplete,
            non_pseudonym_scopes=answer.not_pseudonyms,
            unattributed_disclosures=self._unattributed,
        )


def access_history(
    subject: SubjectQuery,
    ledgers: Iterable[str | os.PathLike[str]],
    *,
    public_key: Ed25519PublicKey | None = None,
) -> SubjectAnswer:
    """Who read the person's information, as the ledger files say: their access history.

    With *public_key*, each ledger is verified first, and answered from its verified index
    (`purposeful.audit.ledger.index`, ``<ledger>.index``, written by ``purposeful audit
    verify`` or here on first use): only the lines that name the person (and the few every
    answer needs) are read, each checked against the index, after checking that the
    ledger is unchanged up to the checkpoint the index covers and verifying what follows
    it. An index that is missing, stale or damaged is rebuilt from a full verification,
    never trusted; one that cannot be written is done without. The answer is the same as
    reading every line.

    Without *public_key*, the ledgers are read one line at a time, in order, and are not
    verified: run ``purposeful audit verify`` for that.

    Args:
        subject: the person, as pseudonyms under each key the ledgers were written with.
        ledgers: ledger files (see `purposeful.audit.report.read_ledger`), with their
            checkpoints beside them (``<ledger>.checkpoints``).
        public_key: the public key the ledgers sign their checkpoints with.

    Raises:
        ReportInputError: a file is missing or unreadable (found before anything is read),
            or holds something that cannot be read; names the file and line.
        LedgerUnverified: with *public_key*, a ledger does not verify; nothing is answered.
        ConfigurationError: *public_key* is not an Ed25519 public key.
    """
    if public_key is not None and not isinstance(public_key, Ed25519PublicKey):
        raise ConfigurationError(
            f"access_history(public_key=) takes an Ed25519PublicKey (see purposeful.audit."
            f"load_public_key), not {type(public_key).__name__}"
        )
    paths = [Path(path) for path in ledgers]
    for path in paths:
        input_size(path)
    history = SubjectHistory(subject)
    for path in paths:
        if public_key is None:
            _read_every_line(history, path)
        elif len(history._open):  # a scope still open may go on in this ledger: read it all
            _verified(path, public_key, index=True)
            _read_every_line(history, path)
        else:
            _read_indexed(history, path, public_key)
    return history.answer()


def _read_every_line(history: SubjectHistory, path: Path) -> None:
    for entry in read_ledger(path):
        if isinstance(entry, ScopeRecord):
            history.add(entry, LEDGER_INPUT)


def _verified(path: Path, public_key: Ed25519PublicKey, *, index: bool) -> None:
    """Verify *path* in full, writing its index with *index* if it can; raise if it fails."""
    result, builder = verify_from(
        path, public_key, checkpoints=default_checkpoints_path(path), mark=None, index=index
    )
    if not result.ok:
        raise LedgerUnverified(
            f"{result.describe()}. A person's access history is answered only from a "
            f"ledger that verifies: keep the files as they are and run `purposeful audit "
            f"verify` to see what happened"
        )
    if builder is not None:
        with contextlib.suppress(OSError):  # the index is a help: go on without it
            builder.write(default_index_path(path), result.last_checkpoint)


def _read_indexed(history: SubjectHistory, path: Path, public_key: Ed25519PublicKey) -> None:
    """Fold the lines of *path* that the answer needs, through its verified index."""
    for attempt in range(2):
        found = _index_of(path, public_key)
        if found is not None:
            index, tail = found
            scopes = _scopes_through(index, path, tail, history._query.pseudonyms)
            if scopes is not None:
                history._key_ids.update(index.key_ids)
                for scope in scopes:
                    history.add(scope, LEDGER_INPUT)
                return
        if attempt == 0:
            _verified(path, public_key, index=True)  # rebuilds the index, or raises
    # verified, but no index could be written or used: read every line
    _read_every_line(history, path)


def _index_of(path: Path, public_key: Ed25519PublicKey) -> tuple[LedgerIndex, list[bytes]] | None:
    """The index of *path* if it still holds, and the verified lines after its checkpoint;
    None if there is none that holds, or the ledger does not verify from it."""
    ledger_id = _ledger_id(path)
    if ledger_id is None:
        return None
    index_path = default_index_path(path)
    index = read_index(index_path, ledger_id=ledger_id, key=key_digest(public_key))
    if index is None:
        return None
    try:
        with path.open("rb") as reader:
            if not index.holds_for(reader):
                return None
    except OSError:
        return None
    tail: list[bytes] = []
    checkpoints = default_checkpoints_path(path)
    result, _ = verify_from(
        path,
        public_key,
        checkpoints=checkpoints,
        mark=index.mark,
        on_line=lambda _seq, _offset, raw: tail.append(raw),
    )
    if not result.ok:
        return None  # the full verification says why
    if result.last_checkpoint is not None and result.last_checkpoint > index.mark.seq:
        # newer signed checkpoints: take the index on to the newest, for next time
        _, builder = verify_from(
            path,
            public_key,
            checkpoints=checkpoints,
            mark=index.mark,
            index=True,
            builder=IndexBuilder.extending(index),
        )
        if builder is not None:
            with contextlib.suppress(OSError):
                builder.write(index_path, result.last_checkpoint)
    return index, tail


def _scopes_through(
    index: LedgerIndex, path: Path, tail: list[bytes], pseudonyms: Iterable[str]
) -> list[ScopeRecord] | None:
    """The scopes of the lines that name the person and those every answer needs, then
    those after the index's checkpoint; None if a line no longer matches the index or a
    line cannot be read (reading every line then says where)."""
    wanted = index.seqs_of(pseudonyms) | set(index.always)
    try:
        with path.open("rb") as reader:
            lines = index.read_lines(reader, wanted)
    except OSError:
        return None
    if lines is None:
        return None
    try:
        with _lines_file([*lines, *tail]) as selected:
            return [entry for entry in read_ledger(selected) if isinstance(entry, ScopeRecord)]
    except ReportInputError:
        return None


def _ledger_id(path: Path) -> str | None:
    """The ledger id its header names, or None."""
    try:
        with path.open("rb") as reader:
            first = reader.readline()
    except OSError:
        return None
    header = decode(first[:-1]) if first.endswith(b"\n") else None
    ledger_id = header.get(LedgerKey.LEDGER) if isinstance(header, dict) else None
    return ledger_id if isinstance(ledger_id, str) else None


@contextlib.contextmanager
def _lines_file(lines: list[bytes]) -> Iterator[Path]:
    """A file holding *lines*, for `read_ledger` (the one reader of ledger lines): in
    memory where the platform allows it, else in a private temporary folder."""
    data = b"".join(lines)
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None and Path("/proc/self/fd").is_dir():
        descriptor = memfd_create("purposeful-access-history", os.MFD_CLOEXEC)
        try:
            with os.fdopen(descriptor, "wb", closefd=False) as file:
                file.write(data)
            yield Path(f"/proc/self/fd/{descriptor}")
        finally:
            os.close(descriptor)
        return
    with tempfile.TemporaryDirectory() as folder:  # pragma: no cover - not Linux
        selected = Path(folder) / "lines.jsonl"
        selected.write_bytes(data)
        yield selected
