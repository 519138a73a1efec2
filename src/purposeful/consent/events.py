"""Consent events: the append-only history of what a person (or someone for them) chose.

A `ConsentEvent` records one expression of consent for one subject and one purpose: given,
refused, withdrawn (by the person), revoked (by someone else) or renewed. Who expressed it is
the person, a `Representative` whose authority the agency checked, or the `Agency` (for
revocations). Expiry is a property of a grant, not an event: it takes effect at its instant
without anyone recording it.

Representatives follow the law as written: the information privacy principles (Privacy
Act 2020 s 22) say nothing of representatives, and whether a parent or anyone else may act
for a person is decided case by case (the Privacy Commissioner's guidance), with no age
rule. The Act's under-16 figure belongs to s 49(1)(c), a ground for withholding from a
requester, and nothing here uses it. So a `Representative` carries what the agency found:
the kind of authority, a reference to its evidence, who verified it and when, and, for an
attorney for personal care and welfare, the recorded lack of capacity without which that
attorney cannot act.

Events are values; validation here is what one event can know about itself. Whether an
event fits the history (a renewal needs a grant before it) is checked by the store.

What this module must not do: quote a subject id, a reference or any other recorded text in
an error message, nor a subject id or an evidence reference in a ``repr``.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from .._hierarchy import check_id
from .._shared.checks import (
    LATEST,
    RECORDABLE,
    is_aware,
    is_text,
    recordable,
    repr_pretty,
    storable,
)
from ..decisions import ConsentState
from ..errors import InvalidConsentEvent

__all__ = [
    "NEVER",
    "RECORDABLE_STATES",
    "ROW_FIELDS",
    "Agency",
    "ConsentEvent",
    "ConsentMethod",
    "Incapacity",
    "LegacyRepresentative",
    "Person",
    "Relationship",
    "Representative",
    "from_row",
    "to_row",
]

#: A grant that never expires: ``give(..., expires_at=NEVER)`` reads better than leaving
#: ``expires_at`` out, and means the same. A far-off time (``datetime.max``) is refused: it
#: is not a time purposeful records.
NEVER: Final = None

#: The states an event can record; `ConsentState.EXPIRED` is derived from a grant's expiry.
RECORDABLE_STATES = frozenset(
    {
        ConsentState.GIVEN,
        ConsentState.REFUSED,
        ConsentState.WITHDRAWN,
        ConsentState.REVOKED,
        ConsentState.RENEWED,
    }
)


class ConsentMethod(enum.Enum):
    """How the consent was expressed."""

    WRITTEN = "written"
    VERBAL_RECORDED_BY_STAFF = "verbal-recorded-by-staff"
    ONLINE = "online"
    NOT_RECORDED = "not-recorded"
    """The default: nobody said how. The evidence a person (or the Privacy Commissioner) is
    given must not state a method nobody recorded."""


class Relationship(enum.Enum):
    """The kind of authority that lets a representative act for the person.

    None of them follows from a relationship alone: whether a parent, a guardian or anyone
    else may act for this person, now, is decided case by case (Privacy Commissioner's
    guidance; the information privacy principles in Privacy Act 2020 s 22 say nothing of
    representatives, and there is no age rule). A `Representative` records that decision
    with its evidence.
    """

    PARENT = "parent"
    """A parent of the person."""
    GUARDIAN = "guardian"
    """A guardian of the person (of a child, say)."""
    WELFARE_GUARDIAN = "welfare-guardian"
    """A welfare guardian appointed under the Protection of Personal and Property Rights Act
    1988."""
    PERSONAL_CARE_ATTORNEY = "personal-care-attorney"
    """An attorney under an enduring power of attorney for personal care and welfare. Acts
    only once the person lacks capacity, recorded as `Incapacity`."""
    PROPERTY_ATTORNEY = "property-attorney"
    """An attorney under an enduring power of attorney for property. Acts on the person's
    property, not on their consent to the use of their personal information: a consent
    event by one is refused."""
    WRITTEN_AUTHORITY = "written-authority"
    """Someone the person authorised in writing to act for them."""
    COURT_APPOINTED = "court-appointed"
    """Someone else a court appointed to act for the person."""
    ATTORNEY = "attorney"
    """Read back from events recorded before schema version 2 (`LegacyRepresentative`): an
    attorney, without saying for what. A new `Representative` names
    `PERSONAL_CARE_ATTORNEY` or `PROPERTY_ATTORNEY`."""
    OTHER = "other"
    """Read back from events recorded before schema version 2 (`LegacyRepresentative`),
    with a detail. A new `Representative` names the authority itself: `WRITTEN_AUTHORITY`
    or `COURT_APPOINTED`."""


#: Kinds a new `Representative` may not have: they exist to read older events back.
LEGACY_RELATIONSHIPS = frozenset({Relationship.ATTORNEY, Relationship.OTHER})


@attrs.frozen
class Person:
    """The person the information is about, expressing their own choice."""

    @property
    def kind(self) -> str:
        return "person"


def _storable(where: str, value: str) -> None:
    """Refuse text that some store cannot hold: NUL characters and unpaired surrogates."""
    if not storable(value):
        raise InvalidConsentEvent(
            f"{where} holds a NUL character or an unpaired surrogate, which a consent store "
            f"cannot keep; remove it"
        )


def _text(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value):
        raise InvalidConsentEvent(
            f"{type(instance).__name__}.{attribute.name} must be a non-empty string"
        )
    _storable(f"{type(instance).__name__}.{attribute.name}", value)


def _optional_text(instance: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        _text(instance, attribute, value)  # type: ignore[arg-type]


#: A reference: letters and digits, with ``. _ - / : #`` between them, at most 128
#: characters. No spaces, so a sentence (which could hold a name or a diagnosis) is not one.
_REFERENCE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._/:#-]{0,126}[A-Za-z0-9])?")


def _reference(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or _REFERENCE.fullmatch(value) is None:
        raise InvalidConsentEvent(
            f"{type(instance).__name__}.{attribute.name} takes a reference, not a "
            f"description: letters and digits joined by . _ - / : or #, with no spaces, at "
            f"most 128 characters (for example 'FAM-2021-485-000123' or 'doc:4471'). Keep "
            f"the document where it already lives and record its identifier"
        )


def _moment(instance: object, attribute: attrs.Attribute[datetime], value: object) -> None:
    if not is_aware(value):
        raise InvalidConsentEvent(
            f"{type(instance).__name__}.{attribute.name} must be a timezone-aware datetime "
            f"(e.g. datetime.now(UTC))"
        )
    if recordable(value) is None:
        never = (
            "; for a grant that never expires, leave expires_at out or pass "
            "purposeful.consent.NEVER"
            if attribute.name == "expires_at"
            else ""
        )
        raise InvalidConsentEvent(
            f"{type(instance).__name__}.{attribute.name} is outside the times purposeful "
            f"records, {RECORDABLE}{never}"
        )


def _utc(value: datetime | None) -> datetime | None:
    """*value* in UTC when it is an aware, recordable time; else as it is, for the validator
    to refuse (a time whose zone gives no offset is not taken as local time)."""
    if isinstance(value, datetime) and is_aware(value):
        return recordable(value) or value
    return value


def _relationship(
    instance: object, attribute: attrs.Attribute[Relationship], value: object
) -> None:
    if not isinstance(value, Relationship):
        raise InvalidConsentEvent(
            "a representative needs the kind of their authority, a Relationship such as "
            "Relationship.PARENT or Relationship.WELFARE_GUARDIAN"
        )


def _current_relationship(
    instance: object, attribute: attrs.Attribute[Relationship], value: object
) -> None:
    _relationship(instance, attribute, value)
    if value is Relationship.ATTORNEY:
        raise InvalidConsentEvent(
            "Relationship.ATTORNEY does not say what the enduring power of attorney covers: "
            "use Relationship.PERSONAL_CARE_ATTORNEY (personal care and welfare) or "
            "Relationship.PROPERTY_ATTORNEY (property)"
        )
    if value is Relationship.OTHER:
        raise InvalidConsentEvent(
            "Relationship.OTHER is kept for events recorded before representatives carried "
            "their authority: name the authority instead, Relationship.WRITTEN_AUTHORITY "
            "(the person's written authority) or Relationship.COURT_APPOINTED"
        )


@attrs.frozen
class Incapacity:
    """The person's lack of capacity, as recorded: what lets a personal-care attorney act.

    An attorney under an enduring power of attorney for personal care and welfare acts only
    once the person lacks capacity; record when that was established and where the
    evidence (a health practitioner's certificate, say) is kept.

    Args:
        at: when the lack of capacity was established (timezone-aware; kept in UTC).
        evidence: a reference to the evidence, such as a certificate's document id. A
            reference, not a description: no spaces.

    Raises:
        InvalidConsentEvent: a naive time, or evidence that is not a reference.
    """

    at: datetime = attrs.field(converter=_utc, validator=_moment)
    evidence: str = attrs.field(validator=_reference)

    _repr_pretty_ = repr_pretty

    def __repr__(self) -> str:
        return f"<Incapacity recorded from {self.at.isoformat()}>"


def _incapacity(
    instance: object, attribute: attrs.Attribute[Incapacity | None], value: object
) -> None:
    if value is not None and not isinstance(value, Incapacity):
        raise InvalidConsentEvent(
            "incapacity= takes an Incapacity(at=..., evidence=...) or None, not "
            f"{type(value).__name__}"
        )


@attrs.frozen
class Representative:
    """Someone acting for the person, with the authority the agency verified.

    Whether someone may act for the person is decided case by case, never by age or by
    relationship alone: record what was decided, with its evidence. A consent event by a
    representative carries this value, and is refused when the authority cannot act on
    consent (see `ConsentEvent`).

    Args:
        relationship: the kind of authority: parent, guardian, welfare guardian, attorney
            for personal care and welfare, attorney for property, the person's written
            authority, or another court appointment.
        evidence: a reference to what shows the authority (a court order number, the
            enduring power of attorney's document id, the written authority's file
            reference). A reference, not a copy nor a description: no spaces.
        verified_by: the staff or system identifier of whoever checked the evidence.
        verified_at: when they checked it (timezone-aware; kept in UTC).
        incapacity: for `Relationship.PERSONAL_CARE_ATTORNEY`, the recorded lack of
            capacity without which the attorney cannot act; for no other kind.

    Raises:
        InvalidConsentEvent: a missing or legacy relationship (`ATTORNEY`, `OTHER`),
            evidence or a verifier that is not a reference, a naive time, or an
            incapacity on a kind other than a personal-care attorney.
    """

    relationship: Relationship = attrs.field(validator=_current_relationship)
    evidence: str = attrs.field(validator=_reference)
    verified_by: str = attrs.field(validator=_reference)
    verified_at: datetime = attrs.field(converter=_utc, validator=_moment)
    incapacity: Incapacity | None = attrs.field(default=None, validator=_incapacity)

    def __attrs_post_init__(self) -> None:
        if (
            self.incapacity is not None
            and self.relationship is not Relationship.PERSONAL_CARE_ATTORNEY
        ):
            raise InvalidConsentEvent(
                "incapacity= is recorded for an attorney for personal care and welfare "
                f"(Relationship.PERSONAL_CARE_ATTORNEY), not for a {self.relationship.value}; "
                "leave it out"
            )

    @property
    def kind(self) -> str:
        return "representative"

    _repr_pretty_ = repr_pretty

    def __repr__(self) -> str:
        # The evidence reference can point at a court file: keep it out of logs.
        extra = f", {self.incapacity!r}" if self.incapacity is not None else ""
        return (
            f"<Representative {self.relationship.value} verified by {self.verified_by} at "
            f"{self.verified_at.isoformat()}{extra}>"
        )


def _cannot_consent(representative: Representative, at: datetime) -> str | None:
    """Why *representative*'s authority cannot act on consent at *at*, or None if it can.

    Nobody can before their authority was verified. An attorney for property never can:
    consent to the use of personal information is not a property matter. An attorney for
    personal care and welfare can once the person's lack of capacity is recorded from *at*
    or earlier.
    """
    if representative.verified_at > at:
        return (
            "the representative's authority is recorded as verified after this event: "
            "consent through a representative takes effect once their authority is checked; "
            "record the event at or after verified_at, or check verified_at"
        )
    if representative.relationship is Relationship.PROPERTY_ATTORNEY:
        return (
            "an attorney under an enduring power of attorney for property acts on the "
            "person's property, not on consent to the use of their personal information: "
            "record this consent from the person, or from a representative whose "
            "authority covers their personal care and welfare"
        )
    if representative.relationship is Relationship.PERSONAL_CARE_ATTORNEY:
        if representative.incapacity is None:
            return (
                "an attorney for personal care and welfare acts only once the person "
                "lacks capacity, and none is recorded: add incapacity=Incapacity(at=..., "
                "evidence=...) with a reference to its evidence, or record the consent "
                "from the person"
            )
        if representative.incapacity.at > at:
            return (
                "the person's lack of capacity is recorded from after this event: an "
                "attorney for personal care and welfare cannot act before it; check "
                "incapacity.at and the event's at"
            )
    return None


@attrs.frozen
class LegacyRepresentative:
    """A representative as recorded before schema version 2: read back, never recorded anew.

    Stores written by an earlier purposeful hold a relationship and a free-text authority,
    with nobody recorded as having verified it. Their events read back with this value, so
    a history stays whole; a store refuses to record a new event with one. Record a
    `Representative` instead.

    Args:
        relationship: their relationship to the person, as recorded.
        authority: the reference to their authority, as recorded.
        detail: for `Relationship.OTHER`, what the relationship is.
    """

    relationship: Relationship = attrs.field(validator=_relationship)
    authority: str = attrs.field(validator=_text)
    detail: str | None = attrs.field(default=None, validator=_optional_text)

    @property
    def kind(self) -> str:
        return "representative"

    _repr_pretty_ = repr_pretty

    def __repr__(self) -> str:
        return f"<LegacyRepresentative {self.relationship.value}>"


@attrs.frozen
class Agency:
    """The agency itself, or a member of staff for it, ending a consent (revocation).

    Args:
        actor: the staff or system identifier that recorded the revocation.
        reason: why, in a few words ("consent was obtained without a current notice").
    """

    actor: str = attrs.field(validator=_text)
    reason: str = attrs.field(validator=_text)

    @property
    def kind(self) -> str:
        return "agency"


Expresser = Person | Representative | LegacyRepresentative | Agency
PERSON = Person()


def _aware(instance: object, attribute: attrs.Attribute[datetime], value: object) -> None:
    if value is None and attribute.name == "expires_at":
        return
    _moment(instance, attribute, value)


def _state(instance: object, attribute: attrs.Attribute[ConsentState], value: object) -> None:
    if value not in RECORDABLE_STATES:
        raise InvalidConsentEvent(
            f"a consent event records given, refused, withdrawn, revoked or renewed, not "
            f"{getattr(value, 'value', value)!r}; expiry follows from a grant's expires_at"
        )


def _subject(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value):
        hint = ""  # never the value itself: it is a subject id
        if isinstance(value, int) and not isinstance(value, bool):
            hint = (
                ": it was an int; a record whose subject id is a number is asked about by "
                "its text, so pass str() of the id"
            )
        elif not isinstance(value, str):
            hint = f": it was {type(value).__name__}"
        raise InvalidConsentEvent(
            "a consent event needs a non-empty subject id as a str (the record's subject "
            f"identifier){hint}"
        )
    _storable("the subject id", value)


def _purpose_id(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    try:
        check_id("purpose", value)
    except ValueError as exc:
        raise InvalidConsentEvent(str(exc)) from None


@attrs.frozen
class ConsentEvent:
    """One expression of consent, as recorded.

    Args:
        subject: the subject identifier, as the record's subject field holds it (a string).
        purpose: the purpose id the choice is about; it covers the purpose's descendants.
        state: given, refused, withdrawn, revoked or renewed.
        at: when it was expressed (timezone-aware; stored in UTC).
        by: the person, a `Representative` (with the authority the agency verified), or
            the `Agency` (for revocations). A `LegacyRepresentative` is what events recorded
            before schema version 2 read back with; stores do not record new ones.
        method: how it was expressed.
        notice_version: the version of the notice the person was shown.
        expires_at: for given and renewed consent, when it expires, if it does.
        evidence: a reference to the signed form or the recording, if any.
        event_id: a unique id; generated if not given.

    Raises:
        InvalidConsentEvent: anything an event can know is wrong about itself: an empty
            subject, a malformed purpose id, a naive time, an expiry not after the event, an
            expiry on a refusal or withdrawal, a withdrawal by the agency or a revocation by
            the person; and a representative whose authority cannot act on consent: an
            attorney for property (consent to the use of personal information is not a
            property matter), or an attorney for personal care and welfare with no lack of
            capacity recorded by the event's time.
    """

    subject: str = attrs.field(validator=_subject)
    purpose: str = attrs.field(validator=_purpose_id)
    state: ConsentState = attrs.field(validator=_state)
    at: datetime = attrs.field(converter=_utc, validator=_aware)
    by: Expresser = attrs.field(default=PERSON)
    method: ConsentMethod = ConsentMethod.NOT_RECORDED
    notice_version: str = attrs.field(default="unversioned", validator=_text)
    expires_at: datetime | None = attrs.field(default=None, converter=_utc, validator=_aware)
    evidence: str | None = attrs.field(default=None, validator=_optional_text)
    event_id: str = attrs.field(factory=lambda: uuid.uuid4().hex, validator=_text)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.by, Person | Representative | LegacyRepresentative | Agency):
            raise InvalidConsentEvent(
                "by= must be Person(), a Representative(...) or Agency(...), not "
                f"{type(self.by).__name__}"
            )
        if isinstance(self.by, Representative):
            problem = _cannot_consent(self.by, self.at)
            if problem is not None:
                raise InvalidConsentEvent(problem)
        if not isinstance(self.method, ConsentMethod):
            raise InvalidConsentEvent("method= must be a ConsentMethod")
        if self.expires_at is not None:
            if not self.state.in_force:
                raise InvalidConsentEvent(
                    f"only given or renewed consent can expire, not {self.state.value} consent"
                )
            if self.expires_at <= self.at:
                raise InvalidConsentEvent(
                    "a consent's expiry must come after it is given; check expires_at"
                )
        if self.state is ConsentState.WITHDRAWN and isinstance(self.by, Agency):
            raise InvalidConsentEvent(
                "the agency does not withdraw consent, it revokes it: use state REVOKED"
            )
        if self.state is ConsentState.REVOKED and not isinstance(self.by, Agency):
            raise InvalidConsentEvent(
                "the person (or their representative) withdraws consent; a revocation is by "
                "Agency(actor=..., reason=...)"
            )
        if self.state in (ConsentState.GIVEN, ConsentState.REFUSED) and isinstance(self.by, Agency):
            raise InvalidConsentEvent(
                "only the person or their representative can give or refuse consent"
            )

    _repr_pretty_ = repr_pretty

    def __repr__(self) -> str:
        # The subject id is personal information: keep it out of logs and tracebacks.
        return (
            f"<ConsentEvent {self.state.value} {self.purpose!r} at {self.at.isoformat()} "
            f"by {self.by.kind} id={self.event_id}>"
        )


#: The flat fields every store keeps for an event, in `to_row` order. Times are aware UTC
#: datetimes; a store may encode them (SQLite keeps integer microseconds).
ROW_FIELDS = (
    "event_id",
    "subject",
    "purpose",
    "state",
    "at",
    "expires_at",
    "by_kind",
    "relationship",
    "authority",
    "detail",
    "actor",
    "reason",
    "method",
    "notice_version",
    "evidence",
    "verified_by",
    "verified_at",
    "incapacity_at",
    "incapacity_evidence",
)


def to_row(event: ConsentEvent) -> tuple[Any, ...]:
    """*event* as flat values in `ROW_FIELDS` order, for a store to write.

    A representative's kind goes in ``relationship`` and their evidence in ``authority``
    (the columns schema version 1 had); ``verified_by`` is set for every `Representative`
    and for no `LegacyRepresentative`, which is how `from_row` tells them apart.
    """
    by = event.by
    agency = by if isinstance(by, Agency) else None
    relationship = authority = detail = verified_by = verified_at = None
    incapacity_at = incapacity_evidence = None
    if isinstance(by, Representative):
        relationship, authority = by.relationship.value, by.evidence
        verified_by, verified_at = by.verified_by, by.verified_at
        if by.incapacity is not None:
            incapacity_at, incapacity_evidence = by.incapacity.at, by.incapacity.evidence
    elif isinstance(by, LegacyRepresentative):
        relationship, authority, detail = by.relationship.value, by.authority, by.detail
    return (
        event.event_id,
        event.subject,
        event.purpose,
        event.state.value,
        event.at,
        event.expires_at,
        by.kind,
        relationship,
        authority,
        detail,
        agency.actor if agency else None,
        agency.reason if agency else None,
        event.method.value,
        event.notice_version,
        event.evidence,
        verified_by,
        verified_at,
        incapacity_at,
        incapacity_evidence,
    )


def from_row(row: Sequence[Any]) -> ConsentEvent:
    """The event a store's row of `ROW_FIELDS` values holds: the inverse of `to_row`.

    A row written under schema version 1 has no verification (the migration adds the
    columns empty): its representative reads back as a `LegacyRepresentative`.

    Raises:
        ValueError or TypeError: the row holds no valid event (it was changed outside
            purposeful); `InvalidConsentEvent` is a ValueError. Stores turn this into
            `StoreCorrupt` without the cause, which could quote the row.
    """
    (event_id, subject, purpose, state, at, expires_at, by_kind, relationship, authority,
     detail, actor, reason, method, notice_version, evidence, verified_by, verified_at,
     incapacity_at, incapacity_evidence) = row  # fmt: skip
    by: Expresser
    if by_kind == "person":
        by = PERSON
    elif by_kind == "representative" and verified_by is None:
        by = LegacyRepresentative(Relationship(relationship), authority, detail)
    elif by_kind == "representative":
        if detail is not None:
            raise ValueError("a verified representative has no detail")
        incapacity = None
        if incapacity_at is not None or incapacity_evidence is not None:
            incapacity = Incapacity(incapacity_at, incapacity_evidence)
        by = Representative(
            Relationship(relationship), authority, verified_by, verified_at, incapacity
        )
    elif by_kind == "agency":
        by = Agency(actor, reason)
    else:
        raise ValueError("unknown kind of expresser")
    if isinstance(expires_at, datetime) and is_aware(expires_at) and expires_at >= LATEST:
        expires_at = NEVER  # "never", as older versions let it be written (datetime.max)
    return ConsentEvent(
        subject=subject,
        purpose=purpose,
        state=ConsentState(state),
        at=at,
        by=by,
        method=ConsentMethod(method),
        notice_version=notice_version,
        expires_at=expires_at,
        evidence=evidence,
        event_id=event_id,
    )
