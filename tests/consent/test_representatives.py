"""Representatives as the law has them: the authority a consent event carries.

Privacy Act 2020 s 22 (the principles) says nothing of representatives; whether someone may
act for the person is decided case by case (OPC guidance), with no age rule; a personal-care
attorney acts only once the person lacks capacity, and a property attorney is a different
thing. So: every kind with its evidence and verification, the two attorneys' limits, the
value's constructor under Hypothesis, the DPV export, and stores of schema version 1.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from purposeful.consent import (
    BaseConsentStore,
    ConsentEvent,
    ConsentState,
    Incapacity,
    LegacyRepresentative,
    MemoryConsentStore,
    Person,
    Relationship,
    Representative,
    export_records,
)
from purposeful.consent import sqlite as sqlite_module
from purposeful.consent.export import DPV_REPRESENTATIVES, UNTYPED_REPRESENTATIVE
from purposeful.consent.sqlite import SQLiteConsentStore
from purposeful.errors import InvalidConsentEvent, StoreCorrupt

SUBJECT = "client-7Q4X-private"
RESEARCH = "research"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
VERIFIED = T0 - 10 * DAY
EVIDENCE = "FAM-2021-485-000123"
CERTIFIED = Incapacity(T0 - 30 * DAY, "cert:2026-0091")

#: The kinds a new representative may have, and those of them that can act on consent.
CURRENT = [kind for kind in Relationship if kind not in (Relationship.ATTORNEY, Relationship.OTHER)]
ACTING = [kind for kind in CURRENT if kind is not Relationship.PROPERTY_ATTORNEY]


def representative(kind: Relationship, **changes: Any) -> Representative:
    """A representative of *kind* that can act at T0 where the kind can act at all."""
    fields: dict[str, Any] = {
        "evidence": EVIDENCE,
        "verified_by": "staff-0311",
        "verified_at": VERIFIED,
        "incapacity": CERTIFIED if kind is Relationship.PERSONAL_CARE_ATTORNEY else None,
    }
    fields.update(changes)
    return Representative(kind, **fields)


def event(by: Any, state: ConsentState = ConsentState.GIVEN, at: datetime = T0) -> ConsentEvent:
    return ConsentEvent(SUBJECT, RESEARCH, state, at, by=by)


# --- each kind, with valid and invalid evidence ---


@pytest.mark.parametrize("kind", ACTING, ids=lambda k: k.value)
def test_each_kind_that_can_act_is_recorded_with_its_authority_and_reads_back(
    store: BaseConsentStore, kind: Relationship
) -> None:
    by = representative(kind)
    recorded = store.give(SUBJECT, RESEARCH, at=T0, by=by)
    assert store.history(SUBJECT) == [recorded]
    assert store.history(SUBJECT)[0].by == by
    assert store.consent_in_force(SUBJECT, RESEARCH, T0)
    store.withdraw(SUBJECT, RESEARCH, at=T0 + DAY, by=by)
    assert not store.consent_in_force(SUBJECT, RESEARCH, T0 + DAY)


VALID_REFERENCES = [
    "FAM-2021-485-000123",
    "EPA-2019-0042",
    "doc:4471",
    "intake/2026-0117",
    "order#12",
    "A.B_C",
    "7",
    "x" * 128,
]


@pytest.mark.parametrize("reference", VALID_REFERENCES)
@pytest.mark.parametrize("kind", CURRENT, ids=lambda k: k.value)
def test_every_kind_takes_an_identifier_like_reference_as_evidence(
    kind: Relationship, reference: str
) -> None:
    assert representative(kind, evidence=reference).evidence == reference


INVALID_REFERENCES = {
    "empty": "",
    "blank": "   ",
    "a description": "mother of the child",
    "a sentence with a name": "Aroha Ngata's EPA",
    "a trailing separator": "ORDER-77-",
    "a leading separator": "-ORDER-77",
    "too long": "x" * 129,
    "a line break": "FAM\n2021",
    "a NUL character": "FAM\x002021",
    "an unpaired surrogate": "FAM\ud8002021",
    "a letter outside ASCII": "FAM-2021-ā",
    "not text": 2021,
    "None": None,
}


@pytest.mark.parametrize("case", list(INVALID_REFERENCES))
@pytest.mark.parametrize("kind", CURRENT, ids=lambda k: k.value)
def test_every_kind_refuses_evidence_that_is_not_a_reference_without_quoting_it(
    kind: Relationship, case: str
) -> None:
    evidence = INVALID_REFERENCES[case]
    with pytest.raises(InvalidConsentEvent, match="takes a reference") as refused:
        representative(kind, evidence=evidence)
    assert "Representative.evidence" in str(refused.value)
    if isinstance(evidence, str) and evidence.strip():
        assert evidence not in str(refused.value)


@pytest.mark.parametrize("case", ["a description", "a sentence with a name", "empty"])
def test_the_verifier_and_the_incapacity_evidence_are_references_too(case: str) -> None:
    text = INVALID_REFERENCES[case]
    with pytest.raises(InvalidConsentEvent, match=r"Representative\.verified_by"):
        representative(Relationship.PARENT, verified_by=text)
    with pytest.raises(InvalidConsentEvent, match=r"Incapacity\.evidence"):
        Incapacity(T0, text)  # type: ignore[arg-type]


@pytest.mark.parametrize("when", [datetime(2026, 1, 1), "2026-01-01T00:00:00+00:00", None])
def test_verification_and_incapacity_times_are_aware_datetimes(when: Any) -> None:
    with pytest.raises(InvalidConsentEvent, match="verified_at must be a timezone-aware"):
        representative(Relationship.GUARDIAN, verified_at=when)
    with pytest.raises(InvalidConsentEvent, match=r"Incapacity\.at must be a timezone-aware"):
        Incapacity(when, "cert:1")


def test_times_are_kept_in_utc() -> None:
    nz = timezone(timedelta(hours=13))
    by = representative(
        Relationship.PERSONAL_CARE_ATTORNEY,
        verified_at=T0.astimezone(nz),
        incapacity=Incapacity(T0.astimezone(nz) - DAY, "cert:1"),
    )
    assert by.verified_at == T0
    assert by.verified_at.utcoffset() == timedelta(0)
    assert by.incapacity is not None
    assert by.incapacity.at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        (Relationship.ATTORNEY, "PERSONAL_CARE_ATTORNEY"),
        (Relationship.OTHER, "WRITTEN_AUTHORITY"),
    ],
)
def test_a_new_representative_cannot_have_a_kind_kept_for_older_events(
    kind: Relationship, hint: str
) -> None:
    with pytest.raises(InvalidConsentEvent, match=hint):
        representative(kind)


@pytest.mark.parametrize("kind", [None, "parent", 1])
def test_a_representative_needs_a_relationship_value(kind: Any) -> None:
    with pytest.raises(InvalidConsentEvent, match="needs the kind of their authority"):
        representative(kind)


def test_no_age_rule_is_built_in() -> None:
    # A parent is recorded with the evidence of the case-by-case decision, whatever the
    # person's age; nothing about 16 (s 49(1)(c) is a withholding ground) is assumed.
    assert "16" not in " ".join(kind.value for kind in Relationship)
    by = representative(Relationship.PARENT)
    assert event(by).by == by


# --- the attorneys ---


@pytest.mark.parametrize(
    "state",
    [ConsentState.GIVEN, ConsentState.REFUSED, ConsentState.WITHDRAWN, ConsentState.RENEWED],
    ids=lambda s: s.value,
)
def test_a_personal_care_attorney_without_recorded_incapacity_cannot_act(
    state: ConsentState,
) -> None:
    by = representative(Relationship.PERSONAL_CARE_ATTORNEY, incapacity=None)
    with pytest.raises(InvalidConsentEvent, match="acts only once the person lacks capacity"):
        event(by, state)


def test_a_personal_care_attorney_acts_from_the_recorded_incapacity_on() -> None:
    certified = Incapacity(T0, "cert:2026-0091")
    by = representative(Relationship.PERSONAL_CARE_ATTORNEY, incapacity=certified)
    assert event(by, at=T0).by == by  # from the instant itself
    assert event(by, at=T0 + DAY).by == by
    with pytest.raises(InvalidConsentEvent, match="cannot act before it"):
        event(by, at=T0 - timedelta(microseconds=1))


def test_incapacity_is_recorded_for_a_personal_care_attorney_only() -> None:
    for kind in CURRENT:
        if kind is not Relationship.PERSONAL_CARE_ATTORNEY:
            with pytest.raises(InvalidConsentEvent, match="leave it out"):
                representative(kind, incapacity=CERTIFIED)
    with pytest.raises(InvalidConsentEvent, match="takes an Incapacity"):
        representative(Relationship.PERSONAL_CARE_ATTORNEY, incapacity="certified")


@pytest.mark.parametrize(
    "state",
    [ConsentState.GIVEN, ConsentState.REFUSED, ConsentState.WITHDRAWN, ConsentState.RENEWED],
    ids=lambda s: s.value,
)
def test_a_property_attorney_is_refused_for_a_personal_information_consent(
    state: ConsentState,
) -> None:
    by = representative(Relationship.PROPERTY_ATTORNEY)
    with pytest.raises(InvalidConsentEvent, match="property") as refused:
        event(by, state)
    assert "personal care and welfare" in str(refused.value)  # how to fix it
    assert EVIDENCE not in str(refused.value)


def test_refused_attorneys_write_nothing_in_any_store(store: BaseConsentStore) -> None:
    store.give(SUBJECT, RESEARCH, at=T0 - DAY)
    before = store.history(SUBJECT)
    attempts = [
        lambda: store.withdraw(
            SUBJECT, RESEARCH, at=T0, by=representative(Relationship.PROPERTY_ATTORNEY)
        ),
        lambda: store.withdraw(
            SUBJECT,
            RESEARCH,
            at=T0,
            by=representative(Relationship.PERSONAL_CARE_ATTORNEY, incapacity=None),
        ),
        lambda: store.renew(
            SUBJECT,
            RESEARCH,
            at=T0,
            by=representative(
                Relationship.PERSONAL_CARE_ATTORNEY, incapacity=Incapacity(T0 + DAY, "cert:9")
            ),
        ),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidConsentEvent) as refused:
            attempt()
        assert SUBJECT not in str(refused.value)
    assert store.history(SUBJECT) == before
    assert store.consent_in_force(SUBJECT, RESEARCH, T0 + DAY)


def test_a_legacy_representative_is_never_recorded_anew(store: BaseConsentStore) -> None:
    legacy = LegacyRepresentative(Relationship.PARENT, "parent of the child")
    with pytest.raises(InvalidConsentEvent, match=r"Representative\(relationship, evidence"):
        store.record(event(legacy))
    assert store.history(SUBJECT) == []


def test_a_representative_repr_leaves_the_evidence_out() -> None:
    by = representative(Relationship.PERSONAL_CARE_ATTORNEY)
    assert EVIDENCE not in repr(by)
    assert "cert:2026-0091" not in repr(by)
    assert "personal-care-attorney" in repr(by)
    assert "parent of" not in repr(LegacyRepresentative(Relationship.PARENT, "parent of"))


# --- the constructor under Hypothesis: a value or a typed error, nothing else ---

_TIMES = st.one_of(
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=13))])),
    st.datetimes(),  # naive
    st.none(),
    st.text(max_size=5),
)
#: Text marked with a comet: never a reference, so if it reaches a message the comet does.
_MARKED = st.text(max_size=140).map(lambda text: text + "\u2604")
_REFERENCES = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/:#-]{0,20}[A-Za-z0-9]", fullmatch=True),
    st.text(max_size=140),
    _MARKED,
    st.none(),
    st.integers(),
)
_INCAPACITIES = st.one_of(
    st.none(),
    st.builds(
        Incapacity,
        st.datetimes(datetime(1970, 1, 1), datetime(2199, 12, 31), timezones=st.just(UTC)),
        st.just("cert:1"),
    ),
    st.text(max_size=5),
)


@given(
    kind=st.one_of(st.sampled_from(list(Relationship)), st.none(), st.text(max_size=10)),
    evidence=_REFERENCES,
    verified_by=_REFERENCES,
    verified_at=_TIMES,
    incapacity=_INCAPACITIES,
)
def test_the_constructor_gives_a_sound_value_or_invalid_consent_event(
    kind: Any, evidence: Any, verified_by: Any, verified_at: Any, incapacity: Any
) -> None:
    refusal: InvalidConsentEvent | None = None
    try:
        by = Representative(kind, evidence, verified_by, verified_at, incapacity)
    except InvalidConsentEvent as refused:
        refusal = refused
    if refusal is not None:
        assert "\u2604" not in str(refusal)
        return
    assert by.relationship in CURRENT
    assert by.verified_at.utcoffset() == timedelta(0)
    assert (by.incapacity is None) or by.relationship is Relationship.PERSONAL_CARE_ATTORNEY
    try:
        event(by)
    except InvalidConsentEvent:
        assert by.relationship is Relationship.PROPERTY_ATTORNEY or (
            by.relationship is Relationship.PERSONAL_CARE_ATTORNEY
            and (by.incapacity is None or by.incapacity.at > T0)
        )


@given(at=_TIMES, evidence=_REFERENCES)
def test_the_incapacity_constructor_gives_a_value_or_invalid_consent_event(
    at: Any, evidence: Any
) -> None:
    try:
        found = Incapacity(at, evidence)
    except InvalidConsentEvent:
        return
    assert found.at.utcoffset() == timedelta(0)


# --- the ISO/IEC 27560 export names the representative in DPV terms ---

EXPECTED_DPV = {
    Relationship.PARENT: "dpv:ParentOfDataSubject",
    Relationship.GUARDIAN: "dpv:GuardianOfDataSubject",
    Relationship.WELFARE_GUARDIAN: "dpv:GuardianOfDataSubject",
    Relationship.PERSONAL_CARE_ATTORNEY: UNTYPED_REPRESENTATIVE,
    Relationship.PROPERTY_ATTORNEY: UNTYPED_REPRESENTATIVE,
    Relationship.WRITTEN_AUTHORITY: UNTYPED_REPRESENTATIVE,
    Relationship.COURT_APPOINTED: UNTYPED_REPRESENTATIVE,
    Relationship.ATTORNEY: UNTYPED_REPRESENTATIVE,
    Relationship.OTHER: UNTYPED_REPRESENTATIVE,
}


def test_every_kind_has_its_dpv_type_and_dpvs_controller_representative_is_never_used() -> None:
    assert set(EXPECTED_DPV) == set(Relationship)
    for kind, expected in EXPECTED_DPV.items():
        assert DPV_REPRESENTATIVES.get(kind, UNTYPED_REPRESENTATIVE) == expected
    assert "dpv:Representative" not in DPV_REPRESENTATIVES.values()


@pytest.mark.parametrize("kind", ACTING, ids=lambda k: k.value)
def test_the_export_names_the_representative_with_its_authority(kind: Relationship) -> None:
    store = MemoryConsentStore()
    store.give(SUBJECT, RESEARCH, at=T0, by=representative(kind))
    (record,) = export_records(store.history(SUBJECT), store.registry)
    expected: dict[str, Any] = {
        "type": EXPECTED_DPV[kind],
        "relationship": kind.value,
        "evidence": EVIDENCE,
        "verified_by": "staff-0311",
        "verified_at": "2026-02-20T09:00:00+00:00",
    }
    if kind is Relationship.PERSONAL_CARE_ATTORNEY:
        expected["incapacity"] = {"at": "2026-01-31T09:00:00+00:00", "evidence": "cert:2026-0091"}
    assert record["isIndicatedBy"] == expected


# --- stores written before representatives carried their authority (schema version 1) ---

_V1_INSERT = (
    "INSERT INTO consent_events (event_id, subject, purpose, state, at_us, expires_us, "
    "by_kind, relationship, authority, detail, actor, reason, method, notice_version, "
    "evidence) VALUES (?, ?, 'research', ?, ?, NULL, ?, ?, ?, ?, ?, ?, 'written', "
    "'unversioned', NULL)"
)


def _micros(moment: datetime) -> int:
    return sqlite_module.micros(moment)


def write_version_1_store(path: Path) -> None:
    """A consent store as purposeful wrote it before schema version 2, with every kind of
    expresser it could hold (a parent with a free-text authority among them)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in sqlite_module._SCHEMA_V1:
            connection.execute(statement)
        connection.execute("PRAGMA user_version = 1")
        rows = [
            ("e1", "given", T0, "representative", "parent", "parent of a child", None),
            ("e2", "withdrawn", T0 + DAY, "representative", "attorney", "EPA 2019/42", None),
            ("e3", "given", T0 + 2 * DAY, "representative", "other", "named at intake", "kuia"),
            ("e4", "given", T0 + 3 * DAY, "representative", "welfare-guardian", "order", None),
            ("e5", "refused", T0 + 4 * DAY, "person", None, None, None),
        ]
        for event_id, state, at, by_kind, relationship, authority, detail in rows:
            connection.execute(
                _V1_INSERT,
                (event_id, SUBJECT, state, _micros(at), by_kind, relationship, authority, detail,
                 None, None),
            )  # fmt: skip
        connection.execute(
            _V1_INSERT.replace("'research'", "'service-delivery'"),
            ("e6", SUBJECT, "revoked", _micros(T0), "agency", None, None, None, "staff-7", "why"),
        )
    finally:
        connection.close()


def test_a_version_1_store_opens_and_reads_its_representatives_back_as_legacy(
    tmp_path: Path,
) -> None:
    path = tmp_path / "consent.sqlite3"
    write_version_1_store(path)
    with SQLiteConsentStore(path) as store:
        history = store.history(SUBJECT)
        assert [e.event_id for e in history] == ["e1", "e2", "e3", "e4", "e5", "e6"]
        assert [e.by for e in history[:4]] == [
            LegacyRepresentative(Relationship.PARENT, "parent of a child"),
            LegacyRepresentative(Relationship.ATTORNEY, "EPA 2019/42"),
            LegacyRepresentative(Relationship.OTHER, "named at intake", "kuia"),
            LegacyRepresentative(Relationship.WELFARE_GUARDIAN, "order"),
        ]
        assert history[4].by == Person()
        assert store.consent_status(SUBJECT, RESEARCH, T0 + 3 * DAY).in_force
        types = [r["isIndicatedBy"]["type"] for r in store.export(SUBJECT)]
        assert types[:4] == [
            "dpv:ParentOfDataSubject",
            UNTYPED_REPRESENTATIVE,
            UNTYPED_REPRESENTATIVE,
            "dpv:GuardianOfDataSubject",
        ]
        assert store.export(SUBJECT)[2]["isIndicatedBy"]["detail"] == "kuia"
        # new events carry the verified authority, beside the old ones
        attorney = representative(Relationship.PERSONAL_CARE_ATTORNEY)
        store.give(SUBJECT, RESEARCH, at=T0 + 5 * DAY, by=attorney)
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 2
    finally:
        connection.close()
    with SQLiteConsentStore(path) as again:
        assert again.history(SUBJECT)[:6] == history
        assert again.history(SUBJECT)[-1].by == attorney


def test_a_verified_row_with_a_legacy_detail_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "consent.sqlite3"
    with SQLiteConsentStore(path) as store:
        store.give(SUBJECT, RESEARCH, at=T0, by=representative(Relationship.GUARDIAN))
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("UPDATE consent_events SET detail = 'kuia'")
    connection.close()
    with SQLiteConsentStore(path) as store, pytest.raises(StoreCorrupt) as corrupt:
        store.history(SUBJECT)
    assert "kuia" not in str(corrupt.value)
