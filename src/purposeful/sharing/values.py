"""The disclosure log's values: a `Disclosure`, a `CorrectionNotice`, a `Collection` and its
`CollectionStatus`, a `Provenance` (where fields filled from a referral came from), the
`DisclosureEntry` a log hands to subject-access bundles, and the ids and names they hold.

Values check what one value can know about itself (ids of the right form, aware times held
in UTC, text every store can keep, field names that are identifiers); whether it fits what
the log holds already is the store's to check (`store`).

What this module must not do: put a subject id, a record key, or any text the caller stored
(how a party was told, an exception relied on, a law, a statement of correction) in an
error message or a repr.
Messages and reprs name ids, record types, field names, parties, statuses and dates only.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs
from typing_extensions import TypeIs

from .._shared.checks import SafeRepr, is_text, recordable, storable, utc_moment
from .._shared.nztime import long_date, nz_date
from ..care import CareNeed
from ..errors import ConfigurationError

__all__ = [
    "TO_THE_PERSON_LAW",
    "Collection",
    "CollectionStatus",
    "CorrectionNotice",
    "Disclosure",
    "DisclosureEntry",
    "Provenance",
    "is_field_name",
    "is_id",
    "is_record_type",
    "new_id",
]

_ID = re.compile(r"[0-9a-f]{32}\Z")

#: The agreement id of a disclosure to the person the information is about (IPP 11(1)(b)):
#: a copy for the person (`purposeful.access.copy_for_person`) is logged under it. The
#: person is not a party to tell of a correction they asked for (`parties_to_tell`).
TO_THE_PERSON_LAW = "privacy-act-2020-ipp-11-1-b"


def new_id() -> str:
    """A new id for a `Disclosure`: 32 lower-case hexadecimal digits (a random uuid4)."""
    return uuid.uuid4().hex


# --- checking values ---


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
    if not is_text(value):
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
            f"uuid4's hex); make one with purposeful.sharing.values.new_id()"
        )


def _record_type(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not is_record_type(value):
        raise ConfigurationError(
            f"{_named(instance, attribute)} must be a record class's __qualname__, such as "
            f"'CaseNote'"
        )


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    utc_moment(value, _named(instance, attribute), ConfigurationError)


def _optional_aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _aware(instance, attribute, value)


def _status(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, CollectionStatus):
        raise ConfigurationError(
            f"{_named(instance, attribute)} must be a CollectionStatus, such as "
            f"CollectionStatus.TO_TELL"
        )


def _names(values: Iterable[Any] | str) -> tuple[Any, ...]:
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


def _care_codes(values: Iterable[Any] | str) -> tuple[str, ...]:
    """The codes of the care needs met, sorted and once each (`CareNeed` values or codes)."""
    codes = [value.value if isinstance(value, CareNeed) else value for value in _names(values)]
    return tuple(sorted(set(codes), key=str))


def _care_needs(instance: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    known = {need.value for need in CareNeed}
    if not all(isinstance(code, str) and code in known for code in value):
        raise ConfigurationError(
            f"{_named(instance, attribute)} takes the codes of the care needs met: "
            f"{', '.join(sorted(known))}"
        )


def _in_utc(instance: object, *names: str) -> None:
    """Hold every time in UTC, so values read back from any store are the values logged."""
    for name in names:
        value = getattr(instance, name)
        if value is not None:  # validated already: aware and recordable
            object.__setattr__(instance, name, recordable(value) or value)


def _entry_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not is_text(value):
        raise ConfigurationError(f"DisclosureEntry.{attribute.name} must be non-empty text")


def _entry_time(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    utc_moment(value, "DisclosureEntry.at", ConfigurationError)


def _entry_fields(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


# --- the values ---


@attrs.frozen
class DisclosureEntry:
    """One disclosure of the person's information to another party, as a subject-access
    bundle shows it (``disclosures.json``).

    A sharing store's ``for_subject`` gives these (`Disclosure.entry`); an application with
    a disclosure log of its own adapts it by yielding them (the
    `purposeful.typing.DisclosureSource` protocol).

    Attributes:
        at: when it was disclosed (timezone-aware).
        recipient: who received it (an agency's name).
        purpose: the purpose id it was disclosed for.
        basis: the lawful basis, in words (`LawfulBasis.describe()`).
        fields: what was disclosed, as ``"RecordType.field"``.
        agreement: the sharing agreement it was made under, if any.

    Raises:
        ConfigurationError: a time that is not aware, or empty text.
    """

    at: datetime = attrs.field(validator=_entry_time)
    recipient: str = attrs.field(validator=_entry_text)
    purpose: str = attrs.field(validator=_entry_text)
    basis: str = attrs.field(validator=_entry_text)
    fields: tuple[str, ...] = attrs.field(converter=_entry_fields)
    agreement: str | None = None

    def __attrs_post_init__(self) -> None:
        _in_utc(self, "at")


@attrs.frozen(repr=False)
class Disclosure(SafeRepr):
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
        care_needs: for a person who needs more care, the codes of what the purpose and the
            agreement needed first and was there (``second-reviewer``, ``safety-review``,
            ``representative-consent``); empty otherwise. Never the person's flags. For the
            agency's own reads only: `entry` (the person's bundle) leaves it out, as it
            would say why.
        second_reviewer: the id of the second staff member who approved, when one was
            needed.
        safety_review: the reference to the recorded safety review, when one was needed.

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
    care_needs: tuple[str, ...] = attrs.field(
        default=(), converter=_care_codes, validator=_care_needs
    )
    second_reviewer: str | None = attrs.field(default=None, validator=_optional_text)
    safety_review: str | None = attrs.field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        _in_utc(self, "at")

    def entry(self) -> DisclosureEntry:
        """The disclosure as a subject-access bundle shows it: fields as ``"Type.field"``,
        the agreement by its name; never the care needs met, the second reviewer or the
        safety review (they would tell the person they carry a flag)."""
        return DisclosureEntry(
            at=self.at,
            recipient=self.recipient,
            purpose=self.purpose,
            basis=self.basis,
            fields=tuple(f"{self.record_type}.{name}" for name in self.fields),
            agreement=self.agreement_name,
        )

    def audited(self, pseudonym: str | None) -> dict[str, Any]:
        """The disclosure as the audit trail gives it (a ``purposeful.disclosure`` event):
        ids, names and codes, never values, and the person whose record it was by
        *pseudonym* only (left out without one). What it needed for a person who needs
        more care is the discloser's to add. (The names are `audit.conventions`'
        `DisclosureAttribute`, spelled out: a store imports no feature.)"""
        audited: dict[str, Any] = {
            "purposeful.disclosure.id": self.id,
            "purposeful.disclosure.agreement": self.agreement,
            "purposeful.disclosure.recipient": self.recipient,
            "purposeful.disclosure.record_type": self.record_type,
            "purposeful.disclosure.fields": list(self.fields),
            "purposeful.disclosure.statements.count": len(self.statements),
        }
        if pseudonym is not None:
            audited["purposeful.disclosure.subject"] = pseudonym
        return audited

    def __repr__(self) -> str:
        return (
            f"Disclosure(id={self.id!r}, recipient={self.recipient!r}, "
            f"agreement={self.agreement!r}, purpose={self.purpose!r}, "
            f"record_type={self.record_type!r}, fields={self.fields!r})"
        )


@attrs.frozen(repr=False)
class CorrectionNotice(SafeRepr):
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


def _statement_pairs(values: object) -> tuple[tuple[Any, tuple[Any, ...]], ...]:
    """Statements of correction as (field, statements) pairs, from a mapping or pairs."""
    if isinstance(values, Mapping):
        values = values.items()
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ConfigurationError(
            "statements= takes a mapping of field names to their statements of correction"
        )
    pairs = []
    for pair in values:
        pair = tuple(pair) if isinstance(pair, Iterable) and not isinstance(pair, str) else ()
        if len(pair) != 2:
            raise ConfigurationError("statements= takes (field, statements) pairs")
        field, said = pair
        if isinstance(said, str) or not isinstance(said, Iterable):
            raise ConfigurationError(
                "statements= takes, for each field, a list of statements (one statement on "
                "its own is a list of one)"
            )
        pairs.append((field, tuple(said)))
    return tuple(pairs)


def _statements(instance: Any, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    where = _named(instance, attribute)
    names = [field for field, _ in value]
    if not all(name in instance.fields for name in names) or len(set(names)) != len(names):
        raise ConfigurationError(
            f"{where} names each field once, and only fields filled (Provenance.fields)"
        )
    _statement_texts(where, value)


def _received_statements(
    instance: Any, attribute: attrs.Attribute[Any], value: tuple[Any, ...]
) -> None:
    where = _named(instance, attribute)
    names = [field for field, _ in value]
    if not all(is_field_name(name) for name in names) or len(set(names)) != len(names):
        raise ConfigurationError(f"{where} names each field once (identifiers such as 'phone')")
    _statement_texts(where, value)


def _statement_texts(where: str, value: tuple[Any, ...]) -> None:
    for _, said in value:
        if not said or not all(is_text(text) for text in said):
            raise ConfigurationError(f"{where} holds, for each field, non-empty text")
        if not all(storable(text) for text in said):
            raise ConfigurationError(
                f"{where} holds a NUL character or an unpaired surrogate, which a sharing "
                f"store cannot keep; remove it"
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
class Collection(SafeRepr):
    """Information about a person collected from someone else (IPP 3A), and whether the
    person has been made aware of it.

    Holds the subject id, the record's key, the law, how the person was told and any
    statements of correction: its repr shows only the id, the record type, the source, the
    purpose and the status.

    Attributes:
        source: the party the information came from (its name).
        purpose: the purpose id it was collected for.
        collected_at: when (aware; held in UTC).
        law: any law that authorises or requires the collection, in words.
        status: `CollectionStatus.TO_TELL` until `mark_told` or `mark_exception`.
        resolved_at: when the person was told, or the exception was decided on.
        how: how the person was told, or the exception relied on.
        statements: the statements of correction that came with the information (IPP 7:
            the person's own words, to be read with it), as (field, statements) pairs;
            ``dict(collection.statements)`` gives field → statements. Empty when none came.

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
    statements: tuple[tuple[str, tuple[str, ...]], ...] = attrs.field(
        default=(), converter=_statement_pairs, validator=_received_statements
    )

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


def _filled(instance: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    where = _named(instance, attribute)
    if not value or not all(is_field_name(name) for name in value):
        raise ConfigurationError(
            f"{where} takes the names of the fields filled (at least one; identifiers such as "
            f"'phone', not 'Type.field')"
        )
    if len(set(value)) != len(value):
        raise ConfigurationError(f"{where} names a field twice; name each once")


def _optional_day(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise ConfigurationError(f"{_named(instance, attribute)} must be a date or None")


def _optional_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _id(instance, attribute, value)


@attrs.frozen(repr=False)
class Provenance(SafeRepr):
    """Where fields of one of our records came from: a partner's referral, received under
    an agreement and used to fill them (`purposeful.sharing.prefill`).

    Holds the subject id, the record's key and any statements of correction: its repr shows
    only the id, the record type, the fields, the party and the agreement.

    Attributes:
        id: 32 lower-case hexadecimal digits (`new_id`).
        subject: the person the record is about.
        record_type: our record class's name (`RecordPolicy.name`).
        record_key: our record's key.
        fields: the names of our fields filled from the referral.
        source: the party the referral came from (its name).
        agreement: the sharing agreement's id.
        agreement_name: the agreement's name, as people know it.
        purpose: the purpose id it was received for.
        received_at: when it was received (aware; held in UTC).
        referred_on: the date of the partner's referral, when it says; else None.
        reference: the partner's reference for the referral, if it gave one.
        collection: the id of the IPP 3A `Collection` recorded with it.
        statements: the statements of correction that came with the fields filled (IPP 7:
            the person's own words, to be read with the information), as (field,
            statements) pairs in the referral's order; ``dict(provenance.statements)``
            gives field → statements. Empty when none came. Given as a mapping or pairs.

    Raises:
        ConfigurationError: a value that is not as described.
    """

    id: str = attrs.field(validator=_id)
    subject: str = attrs.field(validator=_text)
    record_type: str = attrs.field(validator=_record_type)
    record_key: str = attrs.field(validator=_text)
    fields: tuple[str, ...] = attrs.field(converter=_names, validator=_filled)
    source: str = attrs.field(validator=_text)
    agreement: str = attrs.field(validator=_text)
    agreement_name: str = attrs.field(validator=_text)
    purpose: str = attrs.field(validator=_text)
    received_at: datetime = attrs.field(validator=_aware)
    referred_on: date | None = attrs.field(default=None, validator=_optional_day)
    reference: str | None = attrs.field(default=None, validator=_optional_text)
    collection: str | None = attrs.field(default=None, validator=_optional_id)
    statements: tuple[tuple[str, tuple[str, ...]], ...] = attrs.field(
        default=(), converter=_statement_pairs, validator=_statements
    )

    def __attrs_post_init__(self) -> None:
        _in_utc(self, "received_at")

    def statements_for(self, field: str) -> tuple[str, ...]:
        """The statements of correction that came with *field* (our name), oldest first;
        empty if none did."""
        return next((said for name, said in self.statements if name == field), ())

    @property
    def day(self) -> date:
        """The referral's date: `referred_on`, or the New Zealand date it was received."""
        return self.referred_on if self.referred_on is not None else nz_date(self.received_at)

    def describe(self) -> str:
        """``"from Te Whare Āwhina's referral of 3 March 2026"``: where this came from, in
        the words a person reads."""
        return f"from {self.source}'s referral of {long_date(self.day)}"

    def __repr__(self) -> str:
        return (
            f"Provenance(id={self.id!r}, record_type={self.record_type!r}, "
            f"fields={self.fields!r}, source={self.source!r}, agreement={self.agreement!r})"
        )
