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
read from other people's. Where the inputs do not say (older ones, capped or missing
pseudonyms, missing parts), the answer says it is incomplete, and why. A subject in the
inputs that is not a pseudonym (``<key id>:<32 hex digits>``), such as a raw identifier
written by a service with another pseudonymiser, is counted, never kept or shown.

What this module must not do: hold, return or print a subject identifier (only
pseudonyms, and of other people's pseudonyms only their key ids); show what a scope read
for other people; keep every scope in memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import attrs

from .._shared.keys import PseudonymKey
from ..errors import ConfigurationError
from .report.reading import LEDGER_INPUT, input_size, read_ledger
from .report.records import ScopeRecord, ScopesInParts

__all__ = [
    "SubjectAccess",
    "SubjectAnswer",
    "SubjectHistory",
    "SubjectQuery",
    "access_history",
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


@attrs.frozen
class SubjectAccess:
    """One scope that read the person asked about.

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

    @property
    def complete(self) -> bool:
        """True when every scope that could have read the person says which of their
        information it read, and every part of every scope is there."""
        return not (
            self.overflowed_scopes
            or self.unlisted_scopes
            or self.scopes_without_subjects
            or self.other_key_ids
            or self.unitemised_scopes
            or self.incomplete_scopes
            or self.non_pseudonym_scopes
        )


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

    def add(self, scope: ScopeRecord, wanted: frozenset[str]) -> None:
        """Note what one scope record (a whole scope, or a part) says about the person."""
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
        if seen.listed:
            self.unitemised += not seen.fields_known
            self.accesses.append(
                SubjectAccess(
                    scope.opened,
                    scope.closed,
                    scope.purpose,
                    scope.actor_id,
                    scope.actor_role,
                    tuple(sorted(seen.fields)),
                    fields_known=seen.fields_known,
                    parts_missing=parts_missing,
                    upstream=scope.upstream,
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

    def add(self, scope: ScopeRecord, source: str = "") -> None:
        """Note what one scope, or one part of a scope, read from a file of kind *source*,
        says about the person."""
        if scope.subjects is not None:
            self._key_ids.update(
                _key_id(pseudonym) for pseudonym in scope.subjects if _is_pseudonym(pseudonym)
            )
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
        )


def access_history(
    subject: SubjectQuery, ledgers: Iterable[str | os.PathLike[str]]
) -> SubjectAnswer:
    """Who read the person's information, as the ledger files say: their access history.

    The ledgers are read one line at a time, in order, and only what the person's answer
    needs is kept. They are not verified: run ``purposeful audit verify`` for that.

    Args:
        subject: the person, as pseudonyms under each key the ledgers were written with.
        ledgers: ledger files (see `purposeful.audit.report.read_ledger`).

    Raises:
        ReportInputError: a file is missing or unreadable (found before anything is read),
            or holds something that cannot be read; names the file and line.
    """
    paths = [Path(path) for path in ledgers]
    for path in paths:
        input_size(path)
    history = SubjectHistory(subject)
    for path in paths:
        for entry in read_ledger(path):
            if isinstance(entry, ScopeRecord):
                history.add(entry, LEDGER_INPUT)
    return history.answer()
