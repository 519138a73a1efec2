"""Consent events: the append-only history of what a person (or someone for them) chose.

A `ConsentEvent` records one expression of consent for one subject and one purpose: given,
refused, withdrawn (by the person), revoked (by someone else) or renewed. Who expressed it is
the person, a `Representative` with a relationship and a reference to their authority (a
parent, a welfare guardian, an attorney under an enduring power of attorney), or the
`Agency` (for revocations). Expiry is a property of a grant, not an event: it takes effect
at its instant without anyone recording it.

Events are values; validation here is what one event can know about itself. Whether an
event fits the history (a renewal needs a grant before it) is checked by the store.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from .._hierarchy import check_id
from .._shared.checks import is_aware, is_text, repr_pretty, storable
from ..decisions import ConsentState
from ..errors import InvalidConsentEvent

__all__ = [
    "RECORDABLE_STATES",
    "ROW_FIELDS",
    "Agency",
    "ConsentEvent",
    "ConsentMethod",
    "Person",
    "Relationship",
    "Representative",
    "from_row",
    "to_row",
]

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


class Relationship(enum.Enum):
    """A representative's relationship to the person."""

    PARENT = "parent"
    GUARDIAN = "guardian"
    WELFARE_GUARDIAN = "welfare-guardian"
    """Appointed under the Protection of Personal and Property Rights Act 1988."""
    ATTORNEY = "attorney"
    """An attorney under an enduring power of attorney."""
    OTHER = "other"


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


def _relationship(
    instance: object, attribute: attrs.Attribute[Relationship], value: object
) -> None:
    if not isinstance(value, Relationship):
        raise InvalidConsentEvent(
            "a representative needs a relationship to the person, such as "
            "Relationship.PARENT or Relationship.WELFARE_GUARDIAN"
        )


@attrs.frozen
class Representative:
    """Someone acting for the person: a parent of a child, a welfare guardian, an attorney.

    Args:
        relationship: their relationship to the person.
        authority: a reference to what gives them authority (a court order number, the
            enduring power of attorney's reference, "parent of a child under 16"). A
            reference, not a copy: keep the document where it already lives.
        detail: for `Relationship.OTHER`, what the relationship is.

    Raises:
        InvalidConsentEvent: no relationship, an empty authority, or OTHER without detail.
    """

    relationship: Relationship = attrs.field(validator=_relationship)
    authority: str = attrs.field(validator=_text)
    detail: str | None = attrs.field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        if self.relationship is Relationship.OTHER and not (self.detail or "").strip():
            raise InvalidConsentEvent(
                "a representative with Relationship.OTHER needs detail= saying what the "
                "relationship is"
            )

    @property
    def kind(self) -> str:
        return "representative"


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


Expresser = Person | Representative | Agency
PERSON = Person()


def _aware(instance: object, attribute: attrs.Attribute[datetime], value: object) -> None:
    if value is None and attribute.name == "expires_at":
        return
    if not is_aware(value):
        raise InvalidConsentEvent(
            f"ConsentEvent.{attribute.name} must be a timezone-aware datetime "
            f"(e.g. datetime.now(UTC))"
        )


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo else value


def _state(instance: object, attribute: attrs.Attribute[ConsentState], value: object) -> None:
    if value not in RECORDABLE_STATES:
        raise InvalidConsentEvent(
            f"a consent event records given, refused, withdrawn, revoked or renewed, not "
            f"{getattr(value, 'value', value)!r}; expiry follows from a grant's expires_at"
        )


def _subject(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value):
        raise InvalidConsentEvent(
            "a consent event needs a non-empty subject id (the record's subject identifier)"
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
        by: the person, a `Representative`, or the `Agency` (for revocations).
        method: how it was expressed.
        notice_version: the version of the notice the person was shown.
        expires_at: for given and renewed consent, when it expires, if it does.
        evidence: a reference to the signed form or the recording, if any.
        event_id: a unique id; generated if not given.

    Raises:
        InvalidConsentEvent: anything an event can know is wrong about itself: an empty
            subject, a malformed purpose id, a naive time, an expiry not after the event, an
            expiry on a refusal or withdrawal, a withdrawal by the agency or a revocation by
            the person.
    """

    subject: str = attrs.field(validator=_subject)
    purpose: str = attrs.field(validator=_purpose_id)
    state: ConsentState = attrs.field(validator=_state)
    at: datetime = attrs.field(converter=_utc, validator=_aware)
    by: Expresser = attrs.field(default=PERSON)
    method: ConsentMethod = ConsentMethod.WRITTEN
    notice_version: str = attrs.field(default="unversioned", validator=_text)
    expires_at: datetime | None = attrs.field(default=None, converter=_utc, validator=_aware)
    evidence: str | None = attrs.field(default=None, validator=_optional_text)
    event_id: str = attrs.field(factory=lambda: uuid.uuid4().hex, validator=_text)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.by, Person | Representative | Agency):
            raise InvalidConsentEvent(
                "by= must be Person(), a Representative(...) or Agency(...), not "
                f"{type(self.by).__name__}"
            )
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
)


def to_row(event: ConsentEvent) -> tuple[Any, ...]:
    """*event* as flat values in `ROW_FIELDS` order, for a store to write."""
    by = event.by
    representative = by if isinstance(by, Representative) else None
    agency = by if isinstance(by, Agency) else None
    return (
        event.event_id,
        event.subject,
        event.purpose,
        event.state.value,
        event.at,
        event.expires_at,
        by.kind,
        representative.relationship.value if representative else None,
        representative.authority if representative else None,
        representative.detail if representative else None,
        agency.actor if agency else None,
        agency.reason if agency else None,
        event.method.value,
        event.notice_version,
        event.evidence,
    )


def from_row(row: Sequence[Any]) -> ConsentEvent:
    """The event a store's row of `ROW_FIELDS` values holds: the inverse of `to_row`.

    Raises:
        ValueError or TypeError: the row holds no valid event (it was changed outside
            purposeful); `InvalidConsentEvent` is a ValueError. Stores turn this into
            `StoreCorrupt` without the cause, which could quote the row.
    """
    (event_id, subject, purpose, state, at, expires_at, by_kind, relationship, authority,
     detail, actor, reason, method, notice_version, evidence) = row  # fmt: skip
    by: Expresser
    if by_kind == "person":
        by = PERSON
    elif by_kind == "representative":
        by = Representative(Relationship(relationship), authority, detail)
    elif by_kind == "agency":
        by = Agency(actor, reason)
    else:
        raise ValueError("unknown kind of expresser")
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
