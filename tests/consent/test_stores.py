"""The behaviour every consent store shares, run against each backend (`store` fixture)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from purposeful.consent import (
    Agency,
    BaseConsentStore,
    ConsentEvent,
    ConsentMethod,
    ConsentState,
    ConsentStatus,
    ConsentStore,
    ExpiringConsent,
    Person,
    Relationship,
    Representative,
)
from purposeful.errors import (
    ConsentError,
    InvalidConsentEvent,
    StoreClosed,
    StoreError,
    UnknownPurpose,
)

SUBJECT = "client-7Q4X-private"
OTHER = "client-8R5Y-private"
CASE_MANAGEMENT = "service-delivery.case-management"
REFERRAL = "service-delivery.referral"
T0 = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
DAY = timedelta(days=1)
NZ = timezone(timedelta(hours=13), "NZDT")
GUARDIAN = Representative(
    Relationship.WELFARE_GUARDIAN,
    evidence="FAM-2023-485-000777",
    verified_by="staff-0311",
    verified_at=datetime(2025, 2, 1, tzinfo=UTC),
)
WHANAU = Representative(
    Relationship.WRITTEN_AUTHORITY,
    evidence="intake/2025-0042",
    verified_by="staff-0007",
    verified_at=datetime(2025, 2, 27, 23, 0, tzinfo=timezone(timedelta(hours=13))),
)
AGENCY = Agency("staff-0007", "consent was obtained without a current notice")


def messages(error: BaseException) -> str:
    """The text of an exception and of everything chained to it."""
    texts = []
    seen: BaseException | None = error
    while seen is not None:
        texts.append(str(seen))
        texts.extend(getattr(seen, "__notes__", []))
        seen = seen.__cause__ or seen.__context__
    return "\n".join(texts)


# --- recording and reading back ---


def test_every_store_is_a_consent_store(store: BaseConsentStore) -> None:
    assert isinstance(store, ConsentStore)
    assert not store.closed


def test_every_kind_of_event_round_trips_through_history_in_recorded_order(
    store: BaseConsentStore,
) -> None:
    recorded = [
        store.give(
            SUBJECT,
            CASE_MANAGEMENT,
            at=T0,
            method=ConsentMethod.ONLINE,
            notice_version="2025-02",
            expires_at=T0 + 365 * DAY,
            evidence="form-0001",
        ),
        store.refuse(SUBJECT, "research", at=T0 + DAY, by=GUARDIAN),
        store.renew(
            SUBJECT,
            CASE_MANAGEMENT,
            at=T0 + 300 * DAY,
            expires_at=T0 + 730 * DAY,
            method=ConsentMethod.VERBAL_RECORDED_BY_STAFF,
        ),
        store.withdraw(SUBJECT, CASE_MANAGEMENT, at=T0 + 400 * DAY, by=WHANAU),
        store.give(SUBJECT, REFERRAL, at=T0 + 401 * DAY),
        store.revoke(SUBJECT, REFERRAL, at=T0 + 402 * DAY, by=AGENCY, evidence="memo-12"),
    ]
    assert [e.state for e in recorded] == [
        ConsentState.GIVEN,
        ConsentState.REFUSED,
        ConsentState.RENEWED,
        ConsentState.WITHDRAWN,
        ConsentState.GIVEN,
        ConsentState.REVOKED,
    ]
    assert store.history(SUBJECT) == recorded
    assert [e.event_id for e in store.history(SUBJECT)] == [e.event_id for e in recorded]


def test_a_recorded_event_round_trips_with_every_detail(store: BaseConsentStore) -> None:
    event = ConsentEvent(
        subject=SUBJECT,
        purpose=CASE_MANAGEMENT,
        state=ConsentState.GIVEN,
        at=T0,
        by=WHANAU,
        method=ConsentMethod.VERBAL_RECORDED_BY_STAFF,
        notice_version="2024-07",
        expires_at=T0 + 90 * DAY,
        evidence="recording-0042",
        event_id="evt-round-trip-1",
    )
    assert store.record(event) is event
    (back,) = store.history(SUBJECT)
    assert back == event
    assert back.by == WHANAU
    assert back.at.utcoffset() == timedelta(0)
    assert back.expires_at is not None
    assert back.expires_at.utcoffset() == timedelta(0)


def test_times_given_in_another_timezone_are_kept_as_the_same_instant_in_utc(
    store: BaseConsentStore,
) -> None:
    event = store.give(SUBJECT, CASE_MANAGEMENT, at=T0.astimezone(NZ), expires_at=T0 + DAY)
    (back,) = store.history(SUBJECT)
    assert back.at == T0
    assert back.at.utcoffset() == timedelta(0)
    assert back == event


def test_history_keeps_the_order_recorded_not_the_order_of_instants(
    store: BaseConsentStore,
) -> None:
    later = store.give(SUBJECT, CASE_MANAGEMENT, at=T0 + 10 * DAY)
    earlier = store.refuse(SUBJECT, CASE_MANAGEMENT, at=T0)
    same_instant = store.withdraw(SUBJECT, CASE_MANAGEMENT, at=T0)
    assert store.history(SUBJECT) == [later, earlier, same_instant]


def test_the_history_handed_back_is_a_copy(store: BaseConsentStore) -> None:
    event = store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    store.history(SUBJECT).clear()
    store.history(SUBJECT).append(event)
    assert store.history(SUBJECT) == [event]


def test_events_of_other_subjects_are_invisible(store: BaseConsentStore) -> None:
    mine = store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    theirs = store.refuse(OTHER, CASE_MANAGEMENT, at=T0 + DAY)
    assert store.history(SUBJECT) == [mine]
    assert store.history(OTHER) == [theirs]
    assert store.history("client-nobody") == []
    assert store.consent_in_force(SUBJECT, CASE_MANAGEMENT, T0 + 2 * DAY)
    assert not store.consent_in_force(OTHER, CASE_MANAGEMENT, T0 + 2 * DAY)
    assert [r["record_id"] for r in store.export(SUBJECT)] == [mine.event_id]


def test_consent_status_and_consent_in_force_agree(store: BaseConsentStore) -> None:
    store.give(SUBJECT, "service-delivery", at=T0, expires_at=T0 + 30 * DAY)
    store.withdraw(SUBJECT, REFERRAL, at=T0 + DAY)
    cases = {
        (CASE_MANAGEMENT, T0 + 2 * DAY): ConsentStatus(
            True, ConsentState.GIVEN, "service-delivery", T0, T0 + 30 * DAY
        ),
        (REFERRAL, T0 + 2 * DAY): ConsentStatus(False, ConsentState.WITHDRAWN, REFERRAL, T0 + DAY),
        (CASE_MANAGEMENT, T0 + 30 * DAY): ConsentStatus(
            False, ConsentState.EXPIRED, "service-delivery", T0 + 30 * DAY
        ),
        ("research", T0 + 2 * DAY): ConsentStatus(False),
    }
    for (purpose, at), expected in cases.items():
        assert store.consent_status(SUBJECT, purpose, at) == expected
        assert store.consent_in_force(SUBJECT, purpose, at) is expected.in_force


def test_consent_status_takes_a_registered_purpose_object(store: BaseConsentStore) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    purpose = store.registry.get(CASE_MANAGEMENT)
    assert store.consent_in_force(SUBJECT, purpose, T0)
    assert store.give(OTHER, purpose, at=T0).purpose == CASE_MANAGEMENT


def test_the_time_defaults_to_now(store: BaseConsentStore) -> None:
    before = datetime.now(UTC)
    event = store.give(SUBJECT, CASE_MANAGEMENT)
    assert before <= event.at <= datetime.now(UTC)
    assert store.consent_in_force(SUBJECT, CASE_MANAGEMENT)
    store.withdraw(SUBJECT, CASE_MANAGEMENT)
    assert store.consent_status(SUBJECT, CASE_MANAGEMENT).state is ConsentState.WITHDRAWN


# --- consents about to expire ---

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)


def test_expiring_lists_exactly_the_consents_in_force_expiring_in_the_window_soonest_first(
    store: BaseConsentStore,
) -> None:
    long_ago = NOW - 300 * DAY

    def give(subject: str, expires: datetime, purpose: str = CASE_MANAGEMENT) -> None:
        store.give(subject, purpose, at=long_ago, expires_at=expires)

    give("C-in-5-days", NOW + 5 * DAY)
    give("C-in-2-days", NOW + 2 * DAY)
    give("C-two-purposes", NOW + 15 * DAY, REFERRAL)
    give("C-two-purposes", NOW + 15 * DAY, "research")
    give("C-renewed-within", NOW + 3 * DAY)
    store.renew("C-renewed-within", CASE_MANAGEMENT, at=NOW - 2 * DAY, expires_at=NOW + 20 * DAY)
    # Not listed:
    give("C-after-the-window", NOW + 40 * DAY)
    give("C-at-the-end-of-the-window", NOW + WINDOW)
    give("C-expires-now", NOW)
    give("C-already-expired", NOW - DAY)
    store.give("C-no-expiry", CASE_MANAGEMENT, at=long_ago)
    give("C-withdrawn", NOW + 10 * DAY)
    store.withdraw("C-withdrawn", CASE_MANAGEMENT, at=NOW - DAY)
    give("C-revoked", NOW + 6 * DAY)
    store.revoke("C-revoked", CASE_MANAGEMENT, at=NOW - DAY, by=AGENCY)
    give("C-renewed-beyond", NOW + 3 * DAY)
    store.renew("C-renewed-beyond", CASE_MANAGEMENT, at=NOW - 2 * DAY, expires_at=NOW + 200 * DAY)
    store.give("C-given-later", CASE_MANAGEMENT, at=NOW + DAY, expires_at=NOW + 9 * DAY)

    expected = [
        ExpiringConsent("C-in-2-days", CASE_MANAGEMENT, NOW + 2 * DAY),
        ExpiringConsent("C-in-5-days", CASE_MANAGEMENT, NOW + 5 * DAY),
        ExpiringConsent("C-two-purposes", "research", NOW + 15 * DAY),
        ExpiringConsent("C-two-purposes", REFERRAL, NOW + 15 * DAY),
        ExpiringConsent("C-renewed-within", CASE_MANAGEMENT, NOW + 20 * DAY),
    ]
    assert store.expiring(WINDOW, at=NOW) == expected
    assert store.expiring(WINDOW, at=NOW.astimezone(NZ)) == expected
    assert store.expiring(timedelta(days=3), at=NOW) == expected[:1]


def test_expiring_is_empty_when_nothing_expires(store: BaseConsentStore) -> None:
    assert store.expiring(WINDOW, at=NOW) == []
    store.give(SUBJECT, CASE_MANAGEMENT, at=NOW - DAY)
    assert store.expiring(WINDOW, at=NOW) == []


def test_expiring_defaults_to_now(store: BaseConsentStore) -> None:
    now = datetime.now(UTC)
    store.give(SUBJECT, CASE_MANAGEMENT, at=now - DAY, expires_at=now + DAY)
    assert store.expiring(2 * DAY) == [ExpiringConsent(SUBJECT, CASE_MANAGEMENT, now + DAY)]


def test_expiring_orders_consents_expiring_together_by_purpose_then_subject(
    store: BaseConsentStore,
) -> None:
    expires = NOW + 7 * DAY
    for subject in ("C-b", "C-c", "C-a"):
        for purpose in (REFERRAL, "research"):
            store.give(subject, purpose, at=NOW - DAY, expires_at=expires)
    assert [(c.purpose, c.subject) for c in store.expiring(WINDOW, at=NOW)] == [
        ("research", "C-a"),
        ("research", "C-b"),
        ("research", "C-c"),
        (REFERRAL, "C-a"),
        (REFERRAL, "C-b"),
        (REFERRAL, "C-c"),
    ]


def test_expiring_with_a_window_past_the_last_date_is_refused(store: BaseConsentStore) -> None:
    with pytest.raises(InvalidConsentEvent, match="shorter window"):
        store.expiring(timedelta.max, at=NOW)


@pytest.mark.parametrize("within", [timedelta(0), -DAY, 30, None])
def test_expiring_needs_a_positive_timedelta(store: BaseConsentStore, within: Any) -> None:
    with pytest.raises(InvalidConsentEvent, match="positive timedelta"):
        store.expiring(within, at=NOW)


# --- export as ISO/IEC TS 27560 consent records ---

RECORD_KEYS = {
    "schema_version",
    "record_id",
    "hasDataSubject",
    "hasPurpose",
    "hasConsentStatus",
    "state",
    "isIndicatedBy",
    "isIndicatedAtTime",
    "hasIndicationMethod",
    "hasNotice",
    "expiry_time",
    "evidence",
}


def test_export_gives_one_consent_record_per_event_in_iso_27560_shape(
    store: BaseConsentStore,
) -> None:
    events = [
        store.give(
            SUBJECT,
            CASE_MANAGEMENT,
            at=T0,
            expires_at=T0 + 365 * DAY,
            notice_version="2025-02",
            evidence="form-0001",
        ),
        store.renew(SUBJECT, CASE_MANAGEMENT, at=T0 + 300 * DAY, by=GUARDIAN),
        store.withdraw(SUBJECT, CASE_MANAGEMENT, at=T0 + 400 * DAY, by=WHANAU),
        store.refuse(SUBJECT, "research", at=T0 + DAY, method=ConsentMethod.ONLINE),
        store.give(SUBJECT, REFERRAL, at=T0 + DAY),
        store.revoke(SUBJECT, REFERRAL, at=T0 + 2 * DAY, by=AGENCY),
    ]
    store.give(OTHER, CASE_MANAGEMENT, at=T0)
    records = store.export(SUBJECT)
    json.dumps(records)  # JSON-ready

    assert [r["record_id"] for r in records] == [e.event_id for e in events]
    for record, event in zip(records, events, strict=True):
        assert set(record) == RECORD_KEYS
        assert record["schema_version"].startswith("ISO/IEC TS 27560:2023")
        assert record["hasDataSubject"] == SUBJECT
        assert record["hasPurpose"]["id"] == event.purpose
        assert record["hasPurpose"]["title"] == store.registry.get(event.purpose).title
        assert record["state"] == event.state.value
        assert datetime.fromisoformat(record["isIndicatedAtTime"]) == event.at
        assert record["hasIndicationMethod"] == event.method.value
        assert record["hasNotice"] == {"version": event.notice_version}
    assert [r["hasConsentStatus"] for r in records] == [
        "dpv:ConsentGiven",
        "dpv:RenewedConsentGiven",
        "dpv:ConsentWithdrawn",
        "dpv:ConsentRefused",
        "dpv:ConsentGiven",
        "dpv:ConsentRevoked",
    ]
    first, renewal, withdrawal, _refusal, _grant, revocation = records
    assert first["isIndicatedBy"] == {"type": "dpv:DataSubject"}
    assert datetime.fromisoformat(first["expiry_time"]) == T0 + 365 * DAY
    assert first["evidence"] == "form-0001"
    assert first["hasNotice"] == {"version": "2025-02"}
    assert renewal["isIndicatedBy"] == {
        "type": "dpv:GuardianOfDataSubject",
        "relationship": "welfare-guardian",
        "evidence": "FAM-2023-485-000777",
        "verified_by": "staff-0311",
        "verified_at": "2025-02-01T00:00:00+00:00",
    }
    assert withdrawal["isIndicatedBy"] == {
        "type": "representative-of-data-subject",
        "relationship": "written-authority",
        "evidence": "intake/2025-0042",
        "verified_by": "staff-0007",
        "verified_at": "2025-02-27T10:00:00+00:00",
    }
    assert withdrawal["expiry_time"] is None
    assert revocation["isIndicatedBy"] == {
        "type": "dpv:DataController",
        "actor": "staff-0007",
        "reason": "consent was obtained without a current notice",
    }


def test_export_of_a_subject_with_no_history_is_empty(store: BaseConsentStore) -> None:
    assert store.export(SUBJECT) == []


# --- bad input: a typed error, and nothing written ---


def _seed(store: BaseConsentStore) -> list[ConsentEvent]:
    return [
        store.give(SUBJECT, CASE_MANAGEMENT, at=T0, expires_at=T0 + 365 * DAY),
        store.withdraw(SUBJECT, REFERRAL, at=T0),
        store.give(SUBJECT, "service-delivery", at=T0, by=GUARDIAN),
    ]


BadCall = Callable[[BaseConsentStore, list[ConsentEvent]], object]
NAIVE = datetime(2025, 3, 2, 9, 0)

BAD_WRITES: dict[str, tuple[BadCall, type[Exception]]] = {
    "unknown purpose": (
        lambda s, _: s.give(SUBJECT, "not-a-declared-purpose", at=T0 + DAY),
        UnknownPurpose,
    ),
    "unknown child of a known purpose": (
        lambda s, _: s.withdraw(SUBJECT, "research.unheard-of", at=T0 + DAY),
        UnknownPurpose,
    ),
    "unknown purpose in a recorded event": (
        lambda s, _: s.record(
            ConsentEvent(SUBJECT, "made-up", ConsentState.GIVEN, T0 + DAY, event_id="x1")
        ),
        UnknownPurpose,
    ),
    "malformed purpose id": (
        lambda s, _: s.give(SUBJECT, "Case Management", at=T0 + DAY),
        UnknownPurpose,
    ),
    "expiry before the grant": (
        lambda s, _: s.give(SUBJECT, "research", at=T0 + DAY, expires_at=T0),
        InvalidConsentEvent,
    ),
    "expiry at the instant of the grant": (
        lambda s, _: s.give(SUBJECT, "research", at=T0 + DAY, expires_at=T0 + DAY),
        InvalidConsentEvent,
    ),
    "renewal expiring before it is made": (
        lambda s, _: s.renew(SUBJECT, CASE_MANAGEMENT, at=T0 + DAY, expires_at=T0),
        InvalidConsentEvent,
    ),
    "expiry on a refusal": (
        lambda s, _: s.record(
            ConsentEvent(
                SUBJECT, "research", ConsentState.REFUSED, T0 + DAY, expires_at=T0 + 2 * DAY
            )
        ),
        InvalidConsentEvent,
    ),
    "a representative with no relationship": (
        lambda s, _: s.give(
            SUBJECT,
            "research",
            at=T0 + DAY,
            by=Representative(None, "FAM-123", "staff-1", T0),  # type: ignore[arg-type]
        ),
        InvalidConsentEvent,
    ),
    "a representative whose relationship is plain text": (
        lambda s, _: s.give(
            SUBJECT,
            "research",
            at=T0 + DAY,
            by=Representative("parent", "FAM-123", "staff-1", T0),  # type: ignore[arg-type]
        ),
        InvalidConsentEvent,
    ),
    "a representative with no evidence": (
        lambda s, _: s.give(
            SUBJECT,
            "research",
            at=T0 + DAY,
            by=Representative(Relationship.PARENT, " ", "staff-1", T0),
        ),
        InvalidConsentEvent,
    ),
    "by= that is not a person, representative or agency": (
        lambda s, _: s.give(SUBJECT, "research", at=T0 + DAY, by="mother"),  # type: ignore[arg-type]
        InvalidConsentEvent,
    ),
    "an empty subject id": (
        lambda s, _: s.give("", "research", at=T0 + DAY),
        InvalidConsentEvent,
    ),
    "a blank subject id": (
        lambda s, _: s.give("   ", "research", at=T0 + DAY),
        InvalidConsentEvent,
    ),
    "a subject id that is not a string": (
        lambda s, _: s.give(1001, "research", at=T0 + DAY),  # type: ignore[arg-type]
        InvalidConsentEvent,
    ),
    "renewal with nothing to renew": (
        lambda s, _: s.renew(SUBJECT, "research", at=T0 + DAY),
        InvalidConsentEvent,
    ),
    "renewal after a withdrawal": (
        lambda s, _: s.renew(SUBJECT, REFERRAL, at=T0 + DAY),
        InvalidConsentEvent,
    ),
    "renewal dated before the grant": (
        lambda s, _: s.renew(SUBJECT, CASE_MANAGEMENT, at=T0 - DAY),
        InvalidConsentEvent,
    ),
    "renewal of a child purpose under its parent's grant": (
        lambda s, _: s.renew(SUBJECT, "service-delivery.eligibility-assessment", at=T0 + DAY),
        InvalidConsentEvent,
    ),
    "duplicate event id": (
        lambda s, seeded: s.record(seeded[0]),
        InvalidConsentEvent,
    ),
    "duplicate event id on a different event": (
        lambda s, seeded: s.record(
            attrs.evolve(seeded[0], state=ConsentState.REFUSED, at=T0 + DAY, expires_at=None)
        ),
        InvalidConsentEvent,
    ),
    "a NUL character in the subject id": (
        lambda s, _: s.give(SUBJECT + "\x00", "research", at=T0 + DAY),
        InvalidConsentEvent,
    ),
    "a NUL character in the evidence": (
        lambda s, _: s.give(SUBJECT, "research", at=T0 + DAY, evidence="form\x00 1"),
        InvalidConsentEvent,
    ),
    "an unpaired surrogate in a representative's evidence": (
        lambda s, _: s.give(
            SUBJECT,
            "research",
            at=T0 + DAY,
            by=Representative(Relationship.PARENT, "\ud800", "staff-1", T0),
        ),
        InvalidConsentEvent,
    ),
    "a revocation by the person": (
        lambda s, _: s.revoke(SUBJECT, CASE_MANAGEMENT, at=T0 + DAY, by=Person()),  # type: ignore[arg-type]
        InvalidConsentEvent,
    ),
    "a revocation by a representative": (
        lambda s, _: s.revoke(SUBJECT, CASE_MANAGEMENT, at=T0 + DAY, by=GUARDIAN),  # type: ignore[arg-type]
        InvalidConsentEvent,
    ),
    "a withdrawal by the agency": (
        lambda s, _: s.withdraw(SUBJECT, CASE_MANAGEMENT, at=T0 + DAY, by=AGENCY),
        InvalidConsentEvent,
    ),
    "a grant by the agency": (
        lambda s, _: s.give(SUBJECT, "research", at=T0 + DAY, by=AGENCY),
        InvalidConsentEvent,
    ),
    "a naive time": (
        lambda s, _: s.give(SUBJECT, "research", at=NAIVE),
        InvalidConsentEvent,
    ),
    "a naive expiry": (
        lambda s, _: s.give(SUBJECT, "research", at=T0 + DAY, expires_at=NAIVE),
        InvalidConsentEvent,
    ),
    "a naive time on a withdrawal": (
        lambda s, _: s.withdraw(SUBJECT, CASE_MANAGEMENT, at=NAIVE),
        InvalidConsentEvent,
    ),
    "a time that is not a datetime": (
        lambda s, _: s.give(SUBJECT, "research", at="2025-03-02T09:00:00+00:00"),  # type: ignore[arg-type]
        InvalidConsentEvent,
    ),
    "an expired state recorded as an event": (
        lambda s, _: s.record(ConsentEvent(SUBJECT, "research", ConsentState.EXPIRED, T0 + DAY)),
        InvalidConsentEvent,
    ),
    "record() given something that is not an event": (
        lambda s, _: s.record({"subject": SUBJECT, "purpose": "research"}),  # type: ignore[arg-type]
        InvalidConsentEvent,
    ),
}


@pytest.mark.parametrize("case", list(BAD_WRITES))
def test_bad_input_gets_a_typed_error_and_writes_nothing(
    store: BaseConsentStore, case: str
) -> None:
    call, error = BAD_WRITES[case]
    seeded = _seed(store)
    expiring = store.expiring(400 * DAY, at=T0)
    with pytest.raises(error) as raised:
        call(store, seeded)
    assert store.history(SUBJECT) == seeded
    assert store.expiring(400 * DAY, at=T0) == expiring
    assert store.consent_in_force(SUBJECT, CASE_MANAGEMENT, T0 + DAY)
    assert SUBJECT not in messages(raised.value)


BAD_QUERIES: dict[str, tuple[Callable[[BaseConsentStore], object], type[Exception]]] = {
    "history of an empty subject id": (lambda s: s.history(""), InvalidConsentEvent),
    "status of a blank subject id": (
        lambda s: s.consent_status(" ", CASE_MANAGEMENT, T0),
        InvalidConsentEvent,
    ),
    "status for an unknown purpose": (
        lambda s: s.consent_status(SUBJECT, "not-a-declared-purpose", T0),
        UnknownPurpose,
    ),
    "status at a naive time": (
        lambda s: s.consent_status(SUBJECT, CASE_MANAGEMENT, NAIVE),
        InvalidConsentEvent,
    ),
    "in force at a naive time": (
        lambda s: s.consent_in_force(SUBJECT, CASE_MANAGEMENT, NAIVE),
        InvalidConsentEvent,
    ),
    "expiring from a naive time": (lambda s: s.expiring(DAY, at=NAIVE), InvalidConsentEvent),
    "export of an empty subject id": (lambda s: s.export(""), InvalidConsentEvent),
}


@pytest.mark.parametrize("case", list(BAD_QUERIES))
def test_bad_questions_get_a_typed_error(store: BaseConsentStore, case: str) -> None:
    call, error = BAD_QUERIES[case]
    seeded = _seed(store)
    with pytest.raises(error) as raised:
        call(store)
    assert SUBJECT not in messages(raised.value)
    assert store.history(SUBJECT) == seeded


@pytest.mark.parametrize(
    ("subject", "said"),
    [
        (4711, "it was an int; a record whose subject id is a number is asked about by its text"),
        (None, "it was NoneType"),
        (b"4711", "it was bytes"),
        ("", "needs a non-empty subject id as a str"),
    ],
)
def test_a_subject_id_that_is_not_text_is_named_by_its_type_never_its_value(
    store: BaseConsentStore, subject: object, said: str
) -> None:
    with pytest.raises(InvalidConsentEvent) as raised:
        store.give(subject, CASE_MANAGEMENT, at=T0)  # type: ignore[arg-type]
    assert said in str(raised.value)
    assert "4711" not in messages(raised.value)
    assert store.history(SUBJECT) == []


def test_an_event_id_recorded_for_one_subject_is_not_recorded_again_for_another(
    store: BaseConsentStore,
) -> None:
    first = store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    with pytest.raises(InvalidConsentEvent, match="already recorded"):
        store.record(attrs.evolve(first, subject=OTHER))
    assert store.history(OTHER) == []
    assert store.history(SUBJECT) == [first]


def test_consent_errors_and_store_errors_are_told_apart(store: BaseConsentStore) -> None:
    # What the history refuses is about consent; what the store cannot do is a StoreError,
    # shared with every other store, so one `except StoreError` covers them all.
    with pytest.raises(ConsentError):
        store.renew(SUBJECT, CASE_MANAGEMENT, at=T0)
    store.close()
    with pytest.raises(StoreError) as caught:
        store.history(SUBJECT)
    assert not isinstance(caught.value, ConsentError)


# --- closing ---

EVERY_METHOD: dict[str, Callable[[BaseConsentStore], object]] = {
    "record": lambda s: s.record(ConsentEvent(SUBJECT, CASE_MANAGEMENT, ConsentState.GIVEN, T0)),
    "give": lambda s: s.give(SUBJECT, CASE_MANAGEMENT, at=T0),
    "renew": lambda s: s.renew(SUBJECT, CASE_MANAGEMENT, at=T0 + DAY),
    "refuse": lambda s: s.refuse(SUBJECT, CASE_MANAGEMENT, at=T0),
    "withdraw": lambda s: s.withdraw(SUBJECT, CASE_MANAGEMENT, at=T0),
    "revoke": lambda s: s.revoke(SUBJECT, CASE_MANAGEMENT, at=T0, by=AGENCY),
    "history": lambda s: s.history(SUBJECT),
    "consent_status": lambda s: s.consent_status(SUBJECT, CASE_MANAGEMENT, T0),
    "consent_in_force": lambda s: s.consent_in_force(SUBJECT, CASE_MANAGEMENT, T0),
    "expiring": lambda s: s.expiring(WINDOW, at=NOW),
    "export": lambda s: s.export(SUBJECT),
    "with": lambda s: s.__enter__(),
}


@pytest.mark.parametrize("method", list(EVERY_METHOD))
def test_a_closed_store_refuses_every_method_with_store_closed(
    store: BaseConsentStore, method: str
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0 - DAY)
    store.close()
    assert store.closed
    with pytest.raises(StoreClosed) as raised:
        EVERY_METHOD[method](store)
    assert SUBJECT not in messages(raised.value)


def test_closing_twice_is_harmless(store: BaseConsentStore) -> None:
    store.close()
    store.close()
    assert store.closed


def test_a_store_used_as_a_context_manager_is_closed_afterwards(
    store: BaseConsentStore,
) -> None:
    with store as entered:
        assert entered is store
        entered.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    assert store.closed
    with pytest.raises(StoreClosed):
        store.history(SUBJECT)


def test_a_store_used_as_a_context_manager_is_closed_when_the_block_raises(
    store: BaseConsentStore,
) -> None:
    with pytest.raises(RuntimeError, match="boom"), store:
        raise RuntimeError("boom")
    assert store.closed


# --- threads ---


def test_threads_recording_concurrently_lose_no_event(store: BaseConsentStore) -> None:
    threads, each = 8, 15
    start = threading.Barrier(threads)
    mine: dict[int, list[ConsentEvent]] = {}
    shared: list[ConsentEvent] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        try:
            start.wait()
            own: list[ConsentEvent] = []
            for i in range(each):
                at = T0 + timedelta(minutes=i)
                own.append(store.give(f"client-thread-{n}", CASE_MANAGEMENT, at=at))
                own.append(store.renew(f"client-thread-{n}", CASE_MANAGEMENT, at=at))
                event = store.give("client-shared", REFERRAL, at=at, evidence=f"t{n}-{i}")
                with lock:
                    shared.append(event)
            mine[n] = own
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert failures == []
    assert not any(worker.is_alive() for worker in workers)
    for n in range(threads):
        assert store.history(f"client-thread-{n}") == mine[n]
    together = store.history("client-shared")
    assert len(together) == threads * each
    assert {e.event_id for e in together} == {e.event_id for e in shared}


def test_concurrent_duplicates_of_one_event_are_recorded_once(store: BaseConsentStore) -> None:
    event = ConsentEvent(SUBJECT, CASE_MANAGEMENT, ConsentState.GIVEN, T0, event_id="evt-once")
    threads = 6
    start = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        start.wait()
        try:
            store.record(event)
            outcome = "recorded"
        except InvalidConsentEvent:
            outcome = "refused"
        except BaseException as exc:
            outcome = f"unexpected {type(exc).__name__}"
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(outcomes) == ["recorded"] + ["refused"] * (threads - 1)
    assert store.history(SUBJECT) == [event]


# --- no subject identifier where it could leak ---


def test_no_subject_id_in_the_repr_of_events_statuses_or_expiring_consents(
    store: BaseConsentStore,
) -> None:
    events = [
        store.give(SUBJECT, CASE_MANAGEMENT, at=NOW - DAY, expires_at=NOW + DAY, by=GUARDIAN),
        store.withdraw(SUBJECT, REFERRAL, at=NOW - DAY, by=WHANAU),
        store.revoke(SUBJECT, "research", at=NOW - DAY, by=AGENCY),
    ]
    shown = [
        repr(events),
        str(events[0]),
        repr(store.history(SUBJECT)),
        repr(store.consent_status(SUBJECT, CASE_MANAGEMENT, NOW)),
        store.consent_status(SUBJECT, REFERRAL, NOW).describe(),
        repr(store.expiring(WINDOW, at=NOW)),
        str(store.expiring(WINDOW, at=NOW)),
        repr(store),
    ]
    assert store.expiring(WINDOW, at=NOW)[0].subject == SUBJECT
    for text in shown:
        assert SUBJECT not in text
