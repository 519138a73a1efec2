"""The sharing store's rules: the base every backend builds on, `BaseSharingStore`.

A sharing store keeps three durable lists, each append-only but for one status change:

- **Disclosures.** One `Disclosure` per record handed to a partner agency: when, to whom,
  under which agreement, for which purpose and on what basis, which fields, and which
  statements of correction went with them. Subject-access bundles read them through
  `BaseSharingStore.for_subject` (the `purposeful.typing.DisclosureSource` protocol), and
  `purposeful.disclose` appends them (the `purposeful.typing.DisclosureLog` protocol).
- **Correction notices (IPP 7).** When a field is corrected, or a statement of correction
  is attached to it, the agency tells, where reasonably practicable, the parties it
  disclosed the field to. `BaseSharingStore.recipients_of` lists them, `still_to_tell` those
  not yet told of a given correction, and `record_told` records a `CorrectionNotice`.
- **Collections (IPP 3A).** Information about a person collected from someone else: the
  person must be made aware of it as soon as reasonably practicable, unless an exception
  applies. `record_collection` puts a `Collection` on the list (`still_to_be_told`);
  `mark_told` or `mark_exception` takes it off, once: two processes cannot both resolve it.
  IPP 3A applies to information collected on or after 1 May 2026 (`purposeful.sharing.
  exchange.receive` records earlier collections as an exception); the store records any.

- **Provenance.** Fields of our records filled from a partner's referral
  (`purposeful.sharing.prefill`): from which party, under which agreement, received when,
  which fields, and the statements of correction that came with them (IPP 7).
  `record_provenance` keeps one, with the IPP 3A collection it is, in one write;
  `provenance` reads a person's back, for subject-access bundles and the copy of what was
  recorded that a person is handed.

`BaseSharingStore` holds the rules and the messages; a backend (`memory`, `sqlite`,
`postgres`) implements nine small atomic steps and `_close`.

What this module must not do: put a subject id, a record key, or any text the caller stored
(how a party was told, an exception relied on, a law, a statement of correction) in an
error message or a repr.
Messages name ids, record types, field names, parties, statuses and dates only.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from .._shared.checks import is_text, storable, utc_moment
from .._shared.store import ClosableStore
from ..corrections.values import Correction, CorrectionStatus
from ..errors import ConfigurationError, SharingStoreError
from .ipp3a import ExceptionReliedOn, IPP3AException, exception_text
from .values import (
    TO_THE_PERSON_LAW,
    Collection,
    CollectionStatus,
    CorrectionNotice,
    Disclosure,
    DisclosureEntry,
    Provenance,
    is_field_name,
    is_id,
    is_record_type,
    new_id,
)

__all__ = [
    "BaseSharingStore",
    "duplicate_notice",
    "refuse_another",
    "statements_text",
    "stored_json",
    "stored_statements",
]


def statements_text(kept: Provenance | Collection) -> str:
    """*kept*'s statements of correction as a store keeps them: the JSON text of an array
    of [field, [statement, ...]] pairs."""
    return json.dumps([[field, list(said)] for field, said in kept.statements])


def stored_json(stored: str) -> Any:
    """The JSON value of *stored*, a column a store wrote as JSON text. Text that is not
    JSON, or nests deeper than Python decodes, is a ValueError (a damaged row: the backend
    says it is corrupt), never a RecursionError."""
    try:
        return json.loads(stored)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def stored_statements(stored: object) -> list[tuple[str, tuple[str, ...]]]:
    """The (field, statements) pairs of `statements_text` as a store kept it; anything else
    is a ValueError or TypeError (a damaged row: the backend says it is corrupt)."""
    if not isinstance(stored, str):
        raise TypeError("not text")
    pairs = stored_json(stored)
    if not isinstance(pairs, list):
        raise TypeError("not an array")
    found = []
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], list)):
            raise TypeError("not a [field, statements] pair")
        found.append((pair[0], tuple(pair[1])))
    return found


def refuse_another(logged: Disclosure, given: Disclosure) -> None:
    """Raise unless *logged*, found under *given*'s id, is *given* (a retry): a backend
    calls it inside its transaction, so a refused batch writes nothing."""
    if logged != given:
        raise SharingStoreError(
            f"disclosure {given.id} is logged already, with other details; a logged "
            f"disclosure is never changed: log a new Disclosure with id=new_id()"
        )


class BaseSharingStore(ClosableStore):
    """Shared behaviour of the sharing stores: use `MemorySharingStore`,
    `SQLiteSharingStore` or `PostgresSharingStore`.

    Every method raises `StoreClosed` after `close()`. Times are aware datetimes (a naive
    one is a `ConfigurationError`), default now, and come back in UTC. Lists come oldest
    first, then in the order recorded. A store can be used as a context manager, which
    closes it.
    """

    # --- what a backend implements ---

    @abstractmethod
    def _append_disclosures(self, disclosures: Sequence[Disclosure]) -> None:
        """Atomically, all or none: append each of *disclosures* unless a disclosure with
        its id is logged (a retry: nothing written for it). One logged with the same id and
        other details is refused (`refuse_another`), and then nothing is written."""

    @abstractmethod
    def _disclosures(
        self, subject: str, record_type: str | None = None, record_key: str | None = None
    ) -> list[Disclosure]:
        """The disclosures about *subject* (of that record, if given), oldest first."""

    @abstractmethod
    def _append_notice(
        self,
        disclosure_id: str,
        correction_id: str,
        make: Callable[[Disclosure, CorrectionNotice | None], CorrectionNotice],
    ) -> CorrectionNotice | None:
        """Atomically: load the disclosure (return None if there is none) and any notice
        of this correction for it, call *make* with both (it raises to refuse), and append
        the notice it returns. Nothing is written if anything raises."""

    @abstractmethod
    def _notices(self, correction_id: str) -> list[CorrectionNotice]:
        """The notices of this correction, oldest first."""

    @abstractmethod
    def _append_collection(self, collection: Collection) -> None:
        """Append a new collection."""

    @abstractmethod
    def _resolve(
        self, collection_id: str, change: Callable[[Collection], Collection]
    ) -> Collection | None:
        """Atomically, holding the write lock throughout: load the collection (return None
        if there is none), call *change* with it (it raises to refuse), and store what it
        returns in its place, only if it is still as loaded. Nothing is written if
        anything raises."""

    @abstractmethod
    def _append_provenance(self, provenance: Provenance, collection: Collection | None) -> None:
        """Atomically: append *provenance* and, if given, *collection*; both or neither."""

    @abstractmethod
    def _provenance(
        self, subject: str, record_type: str | None, record_key: str | None
    ) -> list[Provenance]:
        """The provenance about *subject* (of that record, if given), oldest first."""

    @abstractmethod
    def _collections(
        self, subject: str | None, status: CollectionStatus | None
    ) -> list[Collection]:
        """The collections about *subject* and/or in *status* (None: any), oldest first."""

    # --- disclosures ---

    def log(self, disclosure: Disclosure) -> Disclosure:
        """Append *disclosure* to the log, in one transaction, and return it.

        Logging the same disclosure again (a retry) writes nothing and returns it.

        Raises:
            ConfigurationError: not a `Disclosure`.
            SharingStoreError: another disclosure is logged with the same id; or the
                backend failed, and nothing was written.
        """
        self.log_all([disclosure])
        return disclosure

    def log_all(self, disclosures: Iterable[Disclosure]) -> list[Disclosure]:
        """Append *disclosures* to the log in one transaction, all or none, and return them:
        what one hand-over disclosed of several records (a copy given to the person) is
        logged whole or not at all.

        Logging a disclosure again (a retry) writes nothing for it.

        Raises:
            ConfigurationError: something that is not a `Disclosure`, or *disclosures* is
                not an iterable of them (one `Disclosure` on its own: use `log`).
            SharingStoreError: another disclosure is logged with the same id as one of
                them; or the backend failed. Nothing was written.
        """
        self._check_open()
        if isinstance(disclosures, Disclosure) or not isinstance(disclosures, Iterable):
            raise ConfigurationError(
                f"log_all() takes a list of Disclosure values, not "
                f"{type(disclosures).__name__}; log() logs one"
            )
        given = list(disclosures)
        for disclosure in given:
            if not isinstance(disclosure, Disclosure):
                raise ConfigurationError(
                    f"log() takes a Disclosure, not {type(disclosure).__name__}; or use "
                    f"purposeful.disclose(), which logs what it discloses"
                )
        if given:
            self._append_disclosures(given)
        return given

    def for_subject(self, subject: str) -> list[DisclosureEntry]:
        """Every disclosure about *subject*, oldest first, as subject-access bundles show
        them (the `purposeful.typing.DisclosureSource` protocol)."""
        return [disclosure.entry() for disclosure in self.disclosures(subject)]

    def disclosures(self, subject: str) -> list[Disclosure]:
        """Every disclosure about *subject*, oldest first.

        Raises:
            ConfigurationError: *subject* is not a non-empty string.
        """
        self._check_open()
        subject = _subject(subject)
        return self._disclosures(subject) if storable(subject) else []

    def recipients_of(
        self, subject: str, record_type: str, record_key: str, field: str
    ) -> list[Disclosure]:
        """Every disclosure of *field* of the record *record_type*/*record_key* about
        *subject*, oldest first: the parties to tell of a correction to it (IPP 7).

        Raises:
            ConfigurationError: an argument that is not as described (*field* is a field's
                name, such as ``"address"``).
        """
        self._check_open()
        subject, record_type, record_key, field = _record_field(
            subject, record_type, record_key, field
        )
        if not (storable(subject) and storable(record_key)):
            return []
        found = self._disclosures(subject, record_type, record_key)
        return [disclosure for disclosure in found if field in disclosure.fields]

    def still_to_tell(
        self, correction_id: str, subject: str, record_type: str, record_key: str, field: str
    ) -> list[Disclosure]:
        """The disclosures of *field* of that record whose party has not been recorded as
        told of correction *correction_id*, oldest first.

        A disclosure that carried the correction's statement (its id is in
        `Disclosure.statements`) is left out: its party has it already.

        Raises:
            ConfigurationError: an argument that is not as described.
        """
        self._check_open()
        correction_id = _correction_id(correction_id)
        disclosed = self.recipients_of(subject, record_type, record_key, field)
        if not disclosed:
            return []
        told = {notice.disclosure_id for notice in self._notices(correction_id)}
        return [
            disclosure
            for disclosure in disclosed
            if disclosure.id not in told and correction_id not in disclosure.statements
        ]

    def parties_to_tell(self, correction: Correction) -> list[Disclosure]:
        """The disclosures whose party must still be told of *correction* (IPP 7), oldest
        first: the field went to them before the correction was applied, or without the
        statement of correction, and they have not been recorded as told.

        *correction* is a `purposeful.corrections.Correction`. A request not yet decided, or
        declined without a statement, has nothing to tell; a disclosure made after the
        correction was applied carried the corrected value. A statement reached the party
        only if the disclosure carried it (its id is in `Disclosure.statements`), whenever
        it was made: one made after the statement was attached by a service without the
        correction store configured did not. A copy given to the person themselves
        (`TO_THE_PERSON_LAW`) is no party to tell.

        Raises:
            ConfigurationError: *correction* is not a correction.
        """
        if not isinstance(correction, Correction):
            raise ConfigurationError("parties_to_tell() takes a purposeful.corrections.Correction")
        declined = correction.status is CorrectionStatus.DECLINED
        took_effect = correction.statement_at if declined else correction.decided_at
        if took_effect is None or correction.status is CorrectionStatus.REQUESTED:
            return []
        where = (correction.record_type, correction.record_key, correction.field)
        return [
            disclosure
            for disclosure in self.still_to_tell(correction.id, correction.subject, *where)
            # still_to_tell leaves out a disclosure that carried the statement
            if (declined or disclosure.at < took_effect)
            and disclosure.agreement != TO_THE_PERSON_LAW
        ]

    def record_told(
        self, disclosure_id: str, correction_id: str, *, how: str, at: datetime | None = None
    ) -> CorrectionNotice:
        """Record that the party of *disclosure_id* was told of correction *correction_id*.

        Args:
            how: how they were told (``"email to their privacy officer"``).
            at: when (aware, not before the disclosure); default now.

        Raises:
            SharingStoreError: no disclosure has that id, or its party was already recorded
                as told of that correction (a party is told once).
            ConfigurationError: an argument that is not as described.
        """
        self._check_open()
        correction_id = _correction_id(correction_id)
        how = _words(how, "how", "how the party was told")
        when = _when(at)

        def make(disclosure: Disclosure, existing: CorrectionNotice | None) -> CorrectionNotice:
            if existing is not None:
                raise SharingStoreError(
                    f"{existing.recipient!r} was recorded as told of correction "
                    f"{correction_id} about disclosure {disclosure.id} on "
                    f"{_day(existing.told_at)} already; a party is told once: see notices()"
                )
            if when < disclosure.at:
                raise ConfigurationError(
                    f"disclosure {disclosure.id} was made on {_day(disclosure.at)}; its party "
                    f"cannot be told of a correction before: pass at= on or after it"
                )
            return CorrectionNotice(disclosure.id, correction_id, disclosure.recipient, when, how)

        found = (
            self._append_notice(disclosure_id, correction_id, make)
            if is_id(disclosure_id)
            else None
        )
        if found is None:
            raise _unknown("disclosure", disclosure_id, "disclosures() or recipients_of()")
        return found

    def notices(self, correction_id: str) -> list[CorrectionNotice]:
        """The parties recorded as told of correction *correction_id*, oldest first.

        Raises:
            ConfigurationError: *correction_id* is not a correction id.
        """
        self._check_open()
        return self._notices(_correction_id(correction_id))

    # --- collections (IPP 3A) ---

    def record_collection(
        self,
        subject: str,
        *,
        record_type: str,
        record_key: str,
        source: str,
        purpose: str,
        law: str | None = None,
        at: datetime | None = None,
        exception: ExceptionReliedOn | IPP3AException | str | None = None,
        statements: Mapping[str, Sequence[str]] | None = None,
    ) -> Collection:
        """Record that information about *subject* was collected from *source*: the person
        is now on the list of people still to be told (IPP 3A), unless *exception* says why
        they need not be (recorded at once, in the same write).

        Args:
            record_type: the record class's ``__qualname__``.
            record_key: the record's key.
            source: the party it came from (its name).
            purpose: the purpose id it was collected for.
            law: any law that authorises or requires the collection, in words.
            at: when it was collected (aware); default now.
            exception: the IPP 3A exception relied on, if the person need not be told (as
                `mark_exception` takes it).
            statements: the statements of correction that came with the information, field
                name → statements (`Collection.statements`); `purposeful.receive` checks
                them against the record first.

        Raises:
            UnknownIPP3AException: an exception given as free text.
            ConfigurationError: an argument that is not as described.
        """
        self._check_open()
        when = _when(at)
        how = exception_text(exception) if exception is not None else None
        collection = Collection(
            id=new_id(),
            subject=subject,
            record_type=record_type,
            record_key=record_key,
            source=source,
            purpose=purpose,
            collected_at=when,
            law=law,
            status=CollectionStatus.TO_TELL,
            statements=statements or (),
        )
        if how is not None:
            collection = attrs.evolve(
                collection,
                status=CollectionStatus.EXCEPTION,
                resolved_at=when,
                how=how,
            )
        self._append_collection(collection)
        return collection

    def still_to_be_told(self, subject: str | None = None) -> list[Collection]:
        """The collections whose person is still to be told, oldest first: of *subject*, or
        of everyone (the agency's IPP 3A queue)."""
        self._check_open()
        if subject is not None:
            subject = _subject(subject)
            if not storable(subject):
                return []
        return self._collections(subject, CollectionStatus.TO_TELL)

    def collections(self, subject: str) -> list[Collection]:
        """Every collection about *subject*, whatever its status, oldest first."""
        self._check_open()
        subject = _subject(subject)
        return self._collections(subject, None) if storable(subject) else []

    def mark_told(self, collection_id: str, *, how: str, at: datetime | None = None) -> Collection:
        """Record that the person was made aware of collection *collection_id*.

        Args:
            how: how they were told (``"letter of 3 May 2026"``).
            at: when (aware, not before the collection); default now.

        Raises:
            SharingStoreError: no collection has that id, or it is resolved already (told,
                or an exception); of two writers at once, one wins.
            ConfigurationError: an argument that is not as described.
        """
        return self._mark(
            collection_id, CollectionStatus.TOLD, _words(how, "how", "how the person was told"), at
        )

    def mark_exception(
        self,
        collection_id: str,
        *,
        exception: ExceptionReliedOn | IPP3AException | str,
        at: datetime | None = None,
    ) -> Collection:
        """Record that the person will not be told of collection *collection_id*, and the
        IPP 3A exception relied on: an `IPP3AException` (``IPP3AException.ALREADY_AWARE``),
        or an `ExceptionReliedOn` with a reference to where the reasons are kept.

        Raises:
            UnknownIPP3AException: free text, or anything but one of those values.
            SharingStoreError, ConfigurationError: as for `mark_told`.
        """
        return self._mark(collection_id, CollectionStatus.EXCEPTION, exception_text(exception), at)

    # --- provenance (referrals in) ---

    def record_provenance(
        self, provenance: Provenance, collection: Collection | None = None
    ) -> Provenance:
        """Keep *provenance* and, if given, the IPP 3A *collection* it is, in one write:
        both are kept or neither. `purposeful.sharing.prefill` calls it.

        Raises:
            ConfigurationError: not a `Provenance` (or a `Collection`), or a collection
                about another person or record.
            SharingStoreError: the backend failed; nothing was written.
        """
        self._check_open()
        if not isinstance(provenance, Provenance):
            raise ConfigurationError(
                f"record_provenance() takes a Provenance, not {type(provenance).__name__}; or "
                f"use purposeful.sharing.prefill(), which records what it fills"
            )
        if collection is not None:
            if not isinstance(collection, Collection):
                raise ConfigurationError("record_provenance(collection=) takes a Collection")
            same = (collection.subject, collection.record_type, collection.record_key) == (
                provenance.subject,
                provenance.record_type,
                provenance.record_key,
            )
            if not same or provenance.collection != collection.id:
                raise ConfigurationError(
                    "record_provenance(): the collection must be of the same person and record, "
                    "and the provenance must name its id (Provenance.collection)"
                )
        self._append_provenance(provenance, collection)
        return provenance

    def provenance(
        self, subject: str, record_type: str | None = None, record_key: str | None = None
    ) -> list[Provenance]:
        """Where *subject*'s information came from: every `Provenance` about them (of one
        record, with *record_type* and *record_key*), oldest first. Each says which fields
        of which record were filled from which party's referral, under which agreement,
        and when (`Provenance.describe()`: "from Te Whare Āwhina's referral of 3 March
        2026").

        Raises:
            ConfigurationError: an argument that is not as described (both *record_type*
                and *record_key*, or neither).
        """
        self._check_open()
        subject = _subject(subject)
        if (record_type is None) != (record_key is None):
            raise ConfigurationError(
                "provenance() takes record_type= and record_key= together, or neither"
            )
        if record_type is not None:
            if not is_record_type(record_type):
                raise ConfigurationError(
                    "record_type= takes a record type's name, such as 'CaseNote'"
                )
            if not is_text(record_key):
                raise ConfigurationError("record_key= takes the record's key, as non-empty text")
            if not storable(record_key):
                return []
        return self._provenance(subject, record_type, record_key) if storable(subject) else []

    # --- helpers ---

    def _mark(
        self, collection_id: str, status: CollectionStatus, how: str, at: datetime | None
    ) -> Collection:
        self._check_open()
        when = _when(at)

        def change(current: Collection) -> Collection:
            if current.status is not CollectionStatus.TO_TELL:
                raise SharingStoreError(
                    f"collection {current.id} is resolved already: {current.status.value} on "
                    f"{_day(current.resolved_at)}; a collection is resolved once: record a "
                    f"new collection if the information is collected again"
                )
            if when < current.collected_at:
                raise ConfigurationError(
                    f"collection {current.id} was made on {_day(current.collected_at)}; it "
                    f"cannot be resolved before: pass at= on or after it"
                )
            return attrs.evolve(current, status=status, resolved_at=when, how=how)

        found = self._resolve(collection_id, change) if is_id(collection_id) else None
        if found is None:
            raise _unknown("collection", collection_id, "collections() or still_to_be_told()")
        return found


def _subject(subject: object) -> str:
    if not is_text(subject):
        raise ConfigurationError("subject= takes the person's identifier, as a non-empty string")
    return subject


def _record_field(
    subject: object, record_type: object, record_key: object, field: object
) -> tuple[str, str, str, str]:
    if not is_record_type(record_type):
        raise ConfigurationError(
            "record_type= takes a record class's __qualname__, such as 'CaseNote'"
        )
    if not is_text(record_key):
        raise ConfigurationError("record_key= takes the record's key, as a non-empty string")
    if not is_field_name(field):
        raise ConfigurationError(
            "field= takes a field's name (an identifier such as 'address'), not 'Type.field'"
        )
    return _subject(subject), record_type, record_key, field


def _correction_id(correction_id: object) -> str:
    if not is_id(correction_id):
        raise ConfigurationError(
            "correction_id= takes a Correction.id (32 lower-case hexadecimal digits)"
        )
    return correction_id


def _words(value: object, name: str, meaning: str) -> str:
    if not is_text(value):
        raise ConfigurationError(f"{name}= takes {meaning}, as non-empty text")
    if not storable(value):
        raise ConfigurationError(
            f"{name}= holds a NUL character or an unpaired surrogate, which a sharing store "
            f"cannot keep; remove it"
        )
    return value


def _when(at: object) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return utc_moment(at, "at=", ConfigurationError)


def _day(when: datetime | None) -> str:
    return "an unknown date" if when is None else f"{when:%Y-%m-%d}"


def _unknown(what: str, ident: object, where: str) -> SharingStoreError:
    # The store's ids are uuids: not personal. Anything else may be (a subject id passed by
    # mistake), so it is not echoed.
    shown = (
        f"the id {ident!r}"
        if is_id(ident)
        else f"the id given ({what} ids are 32 lower-case hexadecimal digits)"
    )
    return SharingStoreError(f"no {what} has {shown}; use the id from {where}")


def duplicate_notice(disclosure_id: str, correction_id: str) -> SharingStoreError:
    """The error when another writer recorded the same notice meanwhile."""
    return SharingStoreError(
        f"the party of disclosure {disclosure_id} was recorded as told of correction "
        f"{correction_id} by another writer meanwhile; a party is told once: see notices()"
    )
