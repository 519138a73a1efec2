"""The disclosure log: what went to whom, who must hear of a correction, who must be told.

A sharing store keeps three durable lists, each append-only but for one status change:

- **Disclosures.** One `Disclosure` per record handed to a partner agency: when, to whom,
  under which agreement, for which purpose and on what basis, which fields, and which
  statements of correction went with them. Subject-access bundles read them through
  `BaseSharingStore.for_subject` (the `purposeful.access.DisclosureLog` protocol), and
  `purposeful.disclose` appends them (the `purposeful.typing.DisclosureRecorder` protocol).
- **Correction notices (IPP 7).** When a field is corrected, or a statement of correction
  is attached to it, the agency tells, where reasonably practicable, the parties it
  disclosed the field to. `BaseSharingStore.recipients_of` lists them, `still_to_tell` those
  not yet told of a given correction, and `record_told` records a `CorrectionNotice`.
- **Collections (IPP 3A).** Information about a person collected from someone else: the
  person must be made aware of it as soon as reasonably practicable, unless an exception
  applies. `record_collection` puts a `Collection` on the list (`still_to_be_told`);
  `mark_told` or `mark_exception` takes it off, once: two processes cannot both resolve it.
  IPP 3A applies to information collected on or after 1 May 2026 (`purposeful.sharing.
  disclose.receive` records earlier collections as an exception); the store records any.

`BaseSharingStore` holds the rules and the messages; a backend (`MemorySharingStore` here,
`SQLiteSharingStore` and `PostgresSharingStore` beside it) implements small atomic steps.

What this module must not do: put a subject id, a record key, or any text the caller stored
(how a party was told, an exception relied on, a law) in an error message or a repr.
Messages name ids, record types, field names, parties, statuses and dates only.
"""

from __future__ import annotations

import enum
import re
import threading
import uuid
from abc import abstractmethod
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import attrs
from typing_extensions import TypeIs

from .._shared.store import ClosableStore
from ..access.sources import DisclosureEntry
from ..errors import ConfigurationError, SharingStoreError

__all__ = [
    "BaseSharingStore",
    "Collection",
    "CollectionStatus",
    "CorrectionNotice",
    "Disclosure",
    "MemorySharingStore",
    "new_id",
]

_ID = re.compile(r"[0-9a-f]{32}\Z")


def new_id() -> str:
    """A new id for a `Disclosure`: 32 lower-case hexadecimal digits (a random uuid4)."""
    return uuid.uuid4().hex


# --- checking values ---


def storable(text: str) -> bool:
    """True if every store can hold *text*: no NUL character, no unpaired surrogate."""
    # ASCII (the common case, checked in C) holds no surrogates.
    return "\x00" not in text and (
        text.isascii() or not any("\ud800" <= ch <= "\udfff" for ch in text)
    )


def is_id(value: object) -> TypeIs[str]:
    """True if *value* has the form of the ids the store uses (and so may be shown)."""
    return isinstance(value, str) and _ID.match(value) is not None


def is_record_type(value: object) -> TypeIs[str]:
    """True if *value* has the form of a class's ``__qualname__`` (``Outer.Inner``)."""
    return isinstance(value, str) and all(
        part.isidentifier() or part == "<locals>" for part in value.split(".")
    )


def is_field_name(value: object) -> TypeIs[str]:
    """True if *value* has the form of a field's name (an identifier)."""
    return isinstance(value, str) and value.isidentifier()


def _named(instance: object, attribute: attrs.Attribute[Any]) -> str:
    return f"{type(instance).__name__}.{attribute.name}"


def _text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{_named(instance, attribute)} must be non-empty text")
    if not storable(value):
        raise ConfigurationError(
            f"{_named(instance, attribute)} holds a NUL character or an unpaired surrogate, "
            f"which a sharing store cannot keep; remove it"
        )


def _optional_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _text(instance, attribute, value)


def _id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not is_id(value):
        raise ConfigurationError(
            f"{_named(instance, attribute)} must be 32 lower-case hexadecimal digits (a "
            f"uuid4's hex); make one with purposeful.sharing.log.new_id()"
        )


def _record_type(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not is_record_type(value):
        raise ConfigurationError(
            f"{_named(instance, attribute)} must be a record class's __qualname__, such as "
            f"'CaseNote'"
        )


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ConfigurationError(
            f"{_named(instance, attribute)} must be a timezone-aware datetime; pass an aware "
            f"datetime, e.g. datetime.now(UTC)"
        )


def _optional_aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _aware(instance, attribute, value)


def _status(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, CollectionStatus):
        raise ConfigurationError(
            f"{_named(instance, attribute)} must be a CollectionStatus, such as "
            f"CollectionStatus.TO_TELL"
        )


def _names(values: Iterable[str] | str) -> tuple[str, ...]:
    """A tuple of the names given; one name on its own is one name, not its letters."""
    if isinstance(values, str):
        return (values,)
    try:
        return tuple(values)
    except TypeError:
        raise ConfigurationError(
            "fields= and statements= take a tuple of names (a single name is accepted too)"
        ) from None


def _field_names(instance: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    where = _named(instance, attribute)
    if not value:
        raise ConfigurationError(f"{where} must name at least one field that was disclosed")
    if not all(is_field_name(name) for name in value):
        raise ConfigurationError(
            f"{where} takes field names (identifiers such as 'address'), not 'Type.field'"
        )
    if len(set(value)) != len(value):
        raise ConfigurationError(f"{where} names a field twice; name each once")


def _correction_ids(
    instance: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]
) -> None:
    where = _named(instance, attribute)
    if not all(is_id(ident) for ident in value):
        raise ConfigurationError(
            f"{where} takes correction ids (Correction.id: 32 lower-case hexadecimal digits)"
        )
    if len(set(value)) != len(value):
        raise ConfigurationError(f"{where} names a correction twice; name each once")


def _in_utc(instance: object, *names: str) -> None:
    """Hold every time in UTC, so values read back from any store are the values logged."""
    for name in names:
        value = getattr(instance, name)
        if value is not None and value.tzinfo is not UTC:
            object.__setattr__(instance, name, value.astimezone(UTC))


class _SafeRepr:
    """hypothesis and IPython print through `_repr_pretty_`; keep them to the safe repr."""

    __slots__ = ()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


# --- the values ---


@attrs.frozen(repr=False)
class Disclosure(_SafeRepr):
    """One disclosure of one record's fields to one party, as the log keeps it.

    Holds the subject id and the record's key: its repr shows only the ids, the record
    type, the party and the fields.

    Attributes:
        id: 32 lower-case hexadecimal digits; make one with `new_id` (a repeated id is
            refused unless it is the same disclosure again).
        subject: the person the record is about.
        at: when it was disclosed (aware; held in UTC).
        recipient: the party it went to (its name).
        agreement: the sharing agreement's id.
        agreement_name: the agreement's name, as people know it.
        purpose: the purpose id it was disclosed for.
        basis: the lawful basis, described (`LawfulBasis.describe()`).
        record_type: the record class's ``__qualname__``.
        record_key: the record's key.
        fields: the names of the fields disclosed (``"address"``, not ``"Note.address"``).
        statements: the ids of the corrections whose statements of correction went with it.

    Raises:
        ConfigurationError: a value that is not as described.
    """

    id: str = attrs.field(validator=_id)
    subject: str = attrs.field(validator=_text)
    at: datetime = attrs.field(validator=_aware)
    recipient: str = attrs.field(validator=_text)
    agreement: str = attrs.field(validator=_text)
    agreement_name: str = attrs.field(validator=_text)
    purpose: str = attrs.field(validator=_text)
    basis: str = attrs.field(validator=_text)
    record_type: str = attrs.field(validator=_record_type)
    record_key: str = attrs.field(validator=_text)
    fields: tuple[str, ...] = attrs.field(converter=_names, validator=_field_names)
    statements: tuple[str, ...] = attrs.field(
        default=(), converter=_names, validator=_correction_ids
    )

    def __attrs_post_init__(self) -> None:
        _in_utc(self, "at")

    def entry(self) -> DisclosureEntry:
        """The disclosure as a subject-access bundle shows it: fields as ``"Type.field"``,
        the agreement by its name."""
        fields: Any = tuple(f"{self.record_type}.{name}" for name in self.fields)
        # `Any`: DisclosureEntry converts with `tuple`, whose item type mypy cannot bind.
        return DisclosureEntry(
            at=self.at,
            recipient=self.recipient,
            purpose=self.purpose,
            basis=self.basis,
            fields=fields,
            agreement=self.agreement_name,
        )

    def __repr__(self) -> str:
        return (
            f"Disclosure(id={self.id!r}, recipient={self.recipient!r}, "
            f"agreement={self.agreement!r}, purpose={self.purpose!r}, "
            f"record_type={self.record_type!r}, fields={self.fields!r})"
        )


@attrs.frozen(repr=False)
class CorrectionNotice(_SafeRepr):
    """A party told that a field it received was corrected, or has a statement of
    correction attached (IPP 7).

    Its repr shows the ids and the party, not how they were told.

    Attributes:
        disclosure_id: the disclosure through which the party received the field.
        correction_id: the correction (`Correction.id`) they were told of.
        recipient: the party told (the disclosure's recipient).
        told_at: when (aware; held in UTC).
        how: how they were told (``"email to their privacy officer"``).
    """

    disclosure_id: str = attrs.field(validator=_id)
    correction_id: str = attrs.field(validator=_id)
    recipient: str = attrs.field(validator=_text)
    told_at: datetime = attrs.field(validator=_aware)
    how: str = attrs.field(validator=_text)

    def __attrs_post_init__(self) -> None:
        _in_utc(self, "told_at")

    def __repr__(self) -> str:
        return (
            f"CorrectionNotice(disclosure_id={self.disclosure_id!r}, "
            f"correction_id={self.correction_id!r}, recipient={self.recipient!r})"
        )


class CollectionStatus(enum.Enum):
    """Where a collection stands under IPP 3A; the values are stable machine names."""

    TO_TELL = "to-tell"
    """The person is still to be made aware of the collection."""
    TOLD = "told"
    """The person was told (`Collection.how` says how)."""
    EXCEPTION = "exception"
    """The person was not told, under an exception (`Collection.how` names it)."""


@attrs.frozen(repr=False)
class Collection(_SafeRepr):
    """Information about a person collected from someone else (IPP 3A), and whether the
    person has been made aware of it.

    Holds the subject id, the record's key, the law and how the person was told: its repr
    shows only the id, the record type, the source, the purpose and the status.

    Attributes:
        source: the party the information came from (its name).
        purpose: the purpose id it was collected for.
        collected_at: when (aware; held in UTC).
        law: any law that authorises or requires the collection, in words.
        status: `CollectionStatus.TO_TELL` until `mark_told` or `mark_exception`.
        resolved_at: when the person was told, or the exception was decided on.
        how: how the person was told, or the exception relied on.

    Raises:
        ConfigurationError: a value that is not as described, or a status that does not
            agree with *resolved_at* and *how* (both set once resolved, neither before).
    """

    id: str = attrs.field(validator=_id)
    subject: str = attrs.field(validator=_text)
    record_type: str = attrs.field(validator=_record_type)
    record_key: str = attrs.field(validator=_text)
    source: str = attrs.field(validator=_text)
    purpose: str = attrs.field(validator=_text)
    collected_at: datetime = attrs.field(validator=_aware)
    law: str | None = attrs.field(validator=_optional_text)
    status: CollectionStatus = attrs.field(validator=_status)
    resolved_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    how: str | None = attrs.field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        resolved = self.status is not CollectionStatus.TO_TELL
        if resolved != (self.resolved_at is not None) or resolved != (self.how is not None):
            raise ConfigurationError(
                f"a collection that is {self.status.value} must have "
                + ("both resolved_at and how" if resolved else "neither resolved_at nor how")
            )
        _in_utc(self, "collected_at", "resolved_at")

    def __repr__(self) -> str:
        return (
            f"Collection(id={self.id!r}, record_type={self.record_type!r}, "
            f"source={self.source!r}, purpose={self.purpose!r}, status={self.status})"
        )


# --- the store ---


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
    def _append_disclosure(self, disclosure: Disclosure) -> Disclosure:
        """Atomically: if a disclosure with this id is logged, return it and write nothing;
        otherwise append *disclosure* and return it."""

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
        self._check_open()
        if not isinstance(disclosure, Disclosure):
            raise ConfigurationError(
                f"log() takes a Disclosure, not {type(disclosure).__name__}; or use "
                f"purposeful.disclose(), which logs what it discloses"
            )
        logged = self._append_disclosure(disclosure)
        if logged != disclosure:
            raise SharingStoreError(
                f"disclosure {disclosure.id} is logged already, with other details; a logged "
                f"disclosure is never changed: log a new Disclosure with id=new_id()"
            )
        return logged

    def for_subject(self, subject: str) -> list[DisclosureEntry]:
        """Every disclosure about *subject*, oldest first, as subject-access bundles show
        them (the `purposeful.access.DisclosureLog` protocol)."""
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

    def parties_to_tell(self, correction: Any) -> list[Disclosure]:
        """The disclosures whose party must still be told of *correction* (IPP 7), oldest
        first: the field went to them before the correction was applied, or before the
        statement of correction was attached, and they have not been recorded as told.

        *correction* is a `purposeful.access.Correction`. A request not yet decided, or
        declined without a statement, has nothing to tell; a disclosure made after the
        correction took effect carried the corrected value or the statement already.

        Raises:
            ConfigurationError: *correction* is not a correction.
        """
        try:
            status = correction.status.value
            took_effect = correction.statement_at if status == "declined" else correction.decided_at
            ident, subject = correction.id, correction.subject
            where = (correction.record_type, correction.record_key, correction.field)
        except AttributeError:
            raise ConfigurationError(
                "parties_to_tell() takes a purposeful.access.Correction"
            ) from None
        if took_effect is None or status not in ("applied", "declined"):
            return []
        return [
            disclosure
            for disclosure in self.still_to_tell(ident, subject, *where)
            if disclosure.at < took_effect
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
        exception: str | None = None,
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
            exception: the exception relied on, if the person need not be told.

        Raises:
            ConfigurationError: an argument that is not as described.
        """
        self._check_open()
        when = _when(at)
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
        )
        if exception is not None:
            collection = attrs.evolve(
                collection,
                status=CollectionStatus.EXCEPTION,
                resolved_at=when,
                how=_words(exception, "exception", "the exception relied on"),
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
        self, collection_id: str, *, exception: str, at: datetime | None = None
    ) -> Collection:
        """Record that the person will not be told of collection *collection_id*, and the
        IPP 3A exception relied on (``"the person already knows"``).

        Raises:
            SharingStoreError, ConfigurationError: as for `mark_told`.
        """
        return self._mark(
            collection_id,
            CollectionStatus.EXCEPTION,
            _words(exception, "exception", "the exception relied on"),
            at,
        )

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
    if not isinstance(subject, str) or not subject.strip():
        raise ConfigurationError("subject= takes the person's identifier, as a non-empty string")
    return subject


def _record_field(
    subject: object, record_type: object, record_key: object, field: object
) -> tuple[str, str, str, str]:
    if not is_record_type(record_type):
        raise ConfigurationError(
            "record_type= takes a record class's __qualname__, such as 'CaseNote'"
        )
    if not isinstance(record_key, str) or not record_key.strip():
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
    if not isinstance(value, str) or not value.strip():
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
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise ConfigurationError(
            "at= takes a timezone-aware datetime; pass an aware datetime, e.g. datetime.now(UTC)"
        )
    return at.astimezone(UTC)


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


class MemorySharingStore(BaseSharingStore):
    """A sharing store held in lists and dicts, for tests and short-lived tools.

    Nothing survives the process. Safe to share between threads: every operation holds one
    lock, so a check and a write are one step.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._disclosed: dict[str, Disclosure] = {}  # in the order logged
        self._told: dict[tuple[str, str], CorrectionNotice] = {}  # in the order recorded
        self._collected: dict[str, Collection] = {}  # in the order recorded

    def _append_disclosure(self, disclosure: Disclosure) -> Disclosure:
        with self._lock:
            return self._disclosed.setdefault(disclosure.id, disclosure)

    def _disclosures(
        self, subject: str, record_type: str | None = None, record_key: str | None = None
    ) -> list[Disclosure]:
        with self._lock:
            everything = list(self._disclosed.values())
        found = [
            d
            for d in everything
            if d.subject == subject
            and (record_type is None or d.record_type == record_type)
            and (record_key is None or d.record_key == record_key)
        ]
        return sorted(found, key=lambda d: d.at)  # stable: ties keep their order

    def _append_notice(
        self,
        disclosure_id: str,
        correction_id: str,
        make: Callable[[Disclosure, CorrectionNotice | None], CorrectionNotice],
    ) -> CorrectionNotice | None:
        with self._lock:
            disclosure = self._disclosed.get(disclosure_id)
            if disclosure is None:
                return None
            key = (disclosure_id, correction_id)
            self._told[key] = notice = make(disclosure, self._told.get(key))
            return notice

    def _notices(self, correction_id: str) -> list[CorrectionNotice]:
        with self._lock:
            everything = list(self._told.values())
        found = [n for n in everything if n.correction_id == correction_id]
        return sorted(found, key=lambda n: n.told_at)

    def _append_collection(self, collection: Collection) -> None:
        with self._lock:
            self._collected[collection.id] = collection

    def _resolve(
        self, collection_id: str, change: Callable[[Collection], Collection]
    ) -> Collection | None:
        with self._lock:
            current = self._collected.get(collection_id)
            if current is None:
                return None
            self._collected[collection_id] = changed = change(current)
            return changed

    def _collections(
        self, subject: str | None, status: CollectionStatus | None
    ) -> list[Collection]:
        with self._lock:
            everything = list(self._collected.values())
        found = [
            c
            for c in everything
            if (subject is None or c.subject == subject) and (status is None or c.status is status)
        ]
        return sorted(found, key=lambda c: c.collected_at)

    def _close(self) -> None:
        with self._lock:
            self._disclosed = {}
            self._told = {}
            self._collected = {}
