"""Red team: care flags, retention and disposal, breach response, used only as their pages
describe, with the inputs a careless or hostile caller would give."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import CONSENT, DIRECTLY_RELATED_PURPOSE, SENSITIVE, Actor, ServiceAgreement
from purposeful.audit import Ledger, generate_keys, load_pseudonym_key, load_signing_key
from purposeful.audit.ledger import read_disposals
from purposeful.breach import nz_moment, nz_window
from purposeful.consent import MemoryConsentStore, Relationship, Representative
from purposeful.errors import BreachWindowError, ConfigurationError, DisclosureRefused
from purposeful.holds import MemoryHoldStore
from purposeful.retention import dispose_due, due_csv, due_json, due_text, retention_due
from purposeful.sharing import MemorySharingStore, Party, SharingAgreement

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "retention"))
from _retention import REGISTRY, ArchivedLetter, DictSource, RetainedNote, RetainedVisit, sources_of

AGREEMENT = ServiceAgreement("Service delivery agreement")
CASEWORKER = Actor("staff-17", "caseworker", SENSITIVE)
RESEARCHER = Actor("staff-31", "researcher", SENSITIVE)
NOW = datetime.now(UTC)


@purposeful.record(subject="client_id")
class RedStewardChild:
    client_id: str
    wellbeing: int = purposeful.field(purposes={"service-delivery": AGREEMENT, "research": CONSENT})


@purposeful.record(subject="client_id")
class RedStewardReferral:
    client_id: str
    region: str = purposeful.field(purposes={"service-delivery.referral": DIRECTLY_RELATED_PURPOSE})


US, SHELTER = Party("Te Whare Āwhina"), Party("Women's Refuge")
REFUGE = SharingAgreement(
    id="red-refuge",
    name="Refuge referrals",
    parties=(US, SHELTER),
    purposes=("service-delivery.referral",),
    basis=DIRECTLY_RELATED_PURPOSE,
    starts=date(2026, 1, 1),
    expires=date(2030, 12, 31),
    review=date(2028, 1, 1),
    fields=("RedStewardReferral.region",),
)


class Flags:
    """Every person carries *flags*."""

    def __init__(self, *flags: str) -> None:
        self.flags = set(flags)

    def care_flags(self, subjects: list[str]) -> dict[str, set[str]]:
        return {subject: set(self.flags) for subject in subjects}


class LazyFailingFlags:
    """Answers each person's flags lazily, and the database goes away while they are read."""

    def care_flags(self, subjects: list[str]) -> dict[str, Iterator[str]]:
        def lazily() -> Iterator[str]:
            yield "family-violence-safety"
            raise RuntimeError("connection lost reading W-2's flags")

        return {subject: lazily() for subject in subjects}


def _mother(at: datetime) -> Representative:
    return Representative(
        Relationship.PARENT, evidence="intake-2026-0117", verified_by="staff-07", verified_at=at
    )


# -- care: a second reviewer who is the actor ---------------------------------------------


@pytest.mark.parametrize(
    "reviewer", ["staff-17 ", " staff-17", "staff-17\n", "staff-17\u200b", "STAFF-17"]
)
def test_red_actor_cannot_second_review_own_disclosure_with_padded_id(reviewer: str) -> None:
    purposeful.configure(
        care_flags=Flags("family-violence-safety"), disclosure_log=MemorySharingStore()
    )
    with pytest.raises(DisclosureRefused) as refused:
        purposeful.disclose(
            RedStewardReferral("W-2", "Waikato"),
            to=SHELTER,
            under=REFUGE,
            actor=CASEWORKER,
            second_reviewer=reviewer,
            safety_review="SR-2026-0042",
        )
    assert refused.value.reasons == ("second-reviewer-needed",)


@pytest.mark.parametrize("reviewer", ["", "   ", Actor("staff-17", "team-leader", SENSITIVE)])
def test_red_empty_or_same_actor_reviewer_is_refused(reviewer: object) -> None:
    purposeful.configure(
        care_flags=Flags("family-violence-safety"), disclosure_log=MemorySharingStore()
    )
    with pytest.raises((DisclosureRefused, ConfigurationError)):
        purposeful.disclose(
            RedStewardReferral("W-2", "Waikato"),
            to=SHELTER,
            under=REFUGE,
            actor=CASEWORKER,
            second_reviewer=reviewer,  # type: ignore[arg-type]
            safety_review="SR-2026-0042",
        )


# -- care: a flag source that fails ---------------------------------------------------------


def test_red_lazy_flag_answer_that_fails_refuses_the_disclosure_typed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Fixed: a generator of flags that raised escaped as a bare RuntimeError."""
    purposeful.configure(care_flags=LazyFailingFlags(), disclosure_log=MemorySharingStore())
    with (
        caplog.at_level(logging.ERROR, logger="purposeful"),
        pytest.raises(DisclosureRefused) as refused,
    ):
        purposeful.disclose(
            RedStewardReferral("W-2", "Waikato"), to=SHELTER, under=REFUGE, actor=CASEWORKER
        )
    assert refused.value.reasons == ("care-flags-unavailable",)
    assert "W-2" not in str(refused.value)
    assert "W-2" not in caplog.text
    assert "family-violence" not in caplog.text


def test_red_lazy_flag_answer_that_fails_refuses_the_read() -> None:
    consent = MemoryConsentStore()
    consent.give("W-1", "research", at=NOW - timedelta(hours=1))
    purposeful.configure(consent=consent, care_flags=LazyFailingFlags())
    with (
        pytest.raises(purposeful.PurposeViolation) as refused,
        purposeful.use("research", actor=RESEARCHER),
    ):
        _ = RedStewardChild("W-1", 8).wellbeing
    assert "W-1" not in refused.value.decision.explain()


# -- care: the person's own consent never stands in for a representative's ----------------


def _own(store: MemoryConsentStore) -> None:
    store.give("K", "research", at=NOW - timedelta(hours=2))


def _withdrawn_then_regiven_by_self(store: MemoryConsentStore) -> None:
    store.give("K", "research", at=NOW - timedelta(hours=3), by=_mother(NOW - timedelta(days=1)))
    store.withdraw("K", "research", at=NOW - timedelta(hours=2))
    store.give("K", "research", at=NOW - timedelta(hours=1))


def _expired_then_renewed_by_self(store: MemoryConsentStore) -> None:
    store.give(
        "K",
        "research",
        at=NOW - timedelta(hours=3),
        by=_mother(NOW - timedelta(days=1)),
        expires_at=NOW - timedelta(hours=2),
    )
    store.renew("K", "research", at=NOW - timedelta(hours=1), expires_at=NOW + timedelta(days=9))


@pytest.mark.parametrize(
    "history", [_own, _withdrawn_then_regiven_by_self, _expired_then_renewed_by_self]
)
def test_red_own_consent_never_counts_for_a_flagged_child(history: object) -> None:
    store = MemoryConsentStore()
    history(store)  # type: ignore[operator]
    purposeful.configure(consent=store, care_flags=Flags("child-or-young-person"))
    with (
        pytest.raises(purposeful.PurposeViolation) as refused,
        purposeful.use("research", actor=RESEARCHER),
    ):
        _ = RedStewardChild("K", 8).wellbeing
    assert refused.value.decision.reason_codes == ("representative-consent-needed",)
    assert "child" not in refused.value.decision.explain().lower()
    # monitor mode lets the read through but records it as one that would be refused
    purposeful.configure(mode=purposeful.Mode.MONITOR)
    with purposeful.use("research", actor=RESEARCHER) as scope:
        assert RedStewardChild("K", 8).wellbeing == 8
    assert [d.reason_codes for d in scope.decisions if d.reason_codes] == [
        ("representative-consent-needed",)
    ]


def test_red_representative_verified_after_the_consent_is_refused() -> None:
    store = MemoryConsentStore()
    with pytest.raises(purposeful.errors.InvalidConsentEvent):
        store.give(
            "K", "research", at=NOW - timedelta(hours=3), by=_mother(NOW + timedelta(days=1))
        )


# -- holds --------------------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["C-2 ", " C-2", "C-2\n"])
def test_red_hold_on_a_padded_subject_is_refused_not_silently_missed(subject: str) -> None:
    """Fixed: a hold on "C-2 " was accepted and covered nobody, so C-2's records went."""
    with pytest.raises(ConfigurationError):
        MemoryHoldStore().place(reason="Complaint", by="privacy-officer", subject=subject)


def test_red_hold_released_in_the_future_is_refused() -> None:
    """Fixed: a release dated ahead ended the hold at once."""
    holds = MemoryHoldStore()
    hold = holds.place(reason="Complaint", by="privacy-officer", subject="C-2")
    with pytest.raises(ConfigurationError):
        holds.release(hold.id, by="privacy-officer", at=NOW + timedelta(days=30))
    assert len(holds.in_force()) == 1


def test_red_held_record_is_not_disposed_of_and_output_names_nobody(tmp_path: Path) -> None:
    source = DictSource()
    source.add(RetainedNote("C-1", "r1", "secret text"), date(2020, 1, 1))
    source.add(RetainedNote("C-2", "r2", "secret text"), date(2020, 1, 1))
    sources = sources_of(notes=source)
    holds = MemoryHoldStore()
    holds.place(
        reason="Complaint",
        by="privacy-officer",
        subject="C-2",
        until=date(2026, 6, 1),
        at=datetime(2026, 5, 1, tzinfo=UTC),
    )
    keys = generate_keys(tmp_path / "keys")
    pseudonyms = load_pseudonym_key(keys.pseudonym_key)
    report = retention_due(sources, today=date(2026, 6, 1), holds=holds, registry=REGISTRY)
    for text in (
        due_text(report, pseudonymise=pseudonyms.pseudonym),
        due_csv(report, pseudonymise=pseudonyms.pseudonym),
        due_json(report, pseudonymise=pseudonyms.pseudonym),
    ):
        assert "C-1" not in text
        assert "C-2" not in text
        assert "secret" not in text
    with Ledger(tmp_path / "audit.jsonl", signing_key=load_signing_key(keys.signing_key)) as ledger:
        dispose_due(
            sources,
            ledger=ledger,
            by="privacy-officer",
            today=date(2026, 6, 1),  # the hold's last day: it still holds
            holds=holds,
            registry=REGISTRY,
            pseudonymise=pseudonyms.pseudonym,
        )
    assert set(source.rows) == {("C-2", "r2")}


class BrokenLedger:
    def record_disposal(self, **_: object) -> None:
        raise purposeful.errors.LedgerError("the disk is full")


def test_red_no_evidence_no_disposal() -> None:
    source = DictSource()
    source.add(RetainedNote("C-1", "r1", "x"), date(2020, 1, 1))
    with pytest.raises(purposeful.errors.LedgerError):
        dispose_due(
            sources_of(notes=source),
            ledger=BrokenLedger(),  # type: ignore[arg-type]
            by="privacy-officer",
            today=date(2026, 6, 1),
            registry=REGISTRY,
            pseudonymise=lambda s: "00000000:" + "0" * 32,
        )
    assert source.disposed == []


def test_red_raising_hook_leaves_failed_evidence(tmp_path: Path) -> None:
    source = DictSource()
    source.add(RetainedNote("C-1", "r1", "x"), date(2020, 1, 1))
    source.fail_on.add("r1")
    keys = generate_keys(tmp_path / "keys")
    with (
        Ledger(tmp_path / "a.jsonl", signing_key=load_signing_key(keys.signing_key)) as ledger,
        pytest.raises(purposeful.errors.DisposalFailed) as failed,
    ):
        dispose_due(
            sources_of(notes=source),
            ledger=ledger,
            by="privacy-officer",
            today=date(2026, 6, 1),
            registry=REGISTRY,
            pseudonymise=load_pseudonym_key(keys.pseudonym_key).pseudonym,
        )
    assert "C-1" not in str(failed.value)
    assert [line.stage for line in read_disposals(tmp_path / "a.jsonl")] == ["begun", "failed"]


# -- breach windows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["9999-12-31", "9999-12-31T23:00", "0001-01-01T00:00+13:00", "9999-12-31T23:59-13:00"]
)
def test_red_window_at_the_calendar_edge_is_a_typed_error(text: str) -> None:
    """Fixed: OverflowError escaped (the command exited 1 with a traceback)."""
    with pytest.raises(BreachWindowError):
        nz_moment(text, end=True)


def test_red_window_ending_in_the_repeated_hour_takes_the_later_moment() -> None:
    """Fixed: an end in the hour the clocks go back was the earlier moment, so reads in the
    second 02:00-02:30 were left out of the window."""
    start, end = nz_window("2026-04-05T01:00", "2026-04-05T02:30")
    assert start.astimezone(UTC) == datetime(2026, 4, 4, 12, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 4, 4, 14, 30, tzinfo=UTC)
    # the same wall time twice is an hour, not an empty window
    start, end = nz_window("2026-04-05T02:30", "2026-04-05T02:30")
    assert end > start
    assert end - start == timedelta(hours=1)


# -- retention over hierarchy x dates x holds ---------------------------------------------


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@st.composite
def _holds(draw: st.DrawFn) -> list[dict[str, object]]:
    return draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "subject": st.sampled_from([None, "C-1", "C-2"]),
                    "record_type": st.sampled_from([None, "RetainedNote", "RetainedVisit"]),
                    "until": st.none() | st.dates(date(2024, 1, 1), date(2030, 12, 31)),
                    "released": st.booleans(),
                }
            ),
            max_size=3,
        )
    )


@settings(max_examples=150)
@given(
    since=st.dates(date(2016, 1, 1), date(2026, 12, 31)),
    reported=st.dates(date(2016, 1, 1), date(2026, 12, 31)),
    today=st.dates(date(2019, 1, 1), date(2031, 12, 31)),
    wanted=_holds(),
)
def test_red_nothing_needed_or_held_is_ever_due(
    since: date, reported: date, today: date, wanted: list[dict[str, object]]
) -> None:
    source = DictSource()
    source.add(RetainedNote("C-1", "n", "x"), since)
    source.add(RetainedVisit("C-2", "v", "x"), since, funder_reporting=reported)
    source.add(ArchivedLetter("C-1", "a", "x"), date(2000, 1, 1))  # service-improvement: no period
    holds = MemoryHoldStore()
    for spec in wanted:
        hold = holds.place(
            reason="Complaint",
            by="privacy-officer",
            subject=spec["subject"],  # type: ignore[arg-type]
            record_type=spec["record_type"],  # type: ignore[arg-type]
            until=spec["until"],  # type: ignore[arg-type]
            at=datetime(2024, 1, 1, tzinfo=UTC),  # before any last day drawn
        )
        if spec["released"]:
            holds.release(hold.id, by="privacy-officer")
    report = retention_due(sources_of(notes=source), today=today, holds=holds, registry=REGISTRY)
    ends = {
        "RetainedNote": _plus_years(since, 3),
        "RetainedVisit": max(_plus_years(since, 1), _plus_years(reported, 2)),
    }
    subjects = {"RetainedNote": "C-1", "RetainedVisit": "C-2"}

    def held(record_type: str) -> bool:
        return any(
            not spec["released"]
            and spec["subject"] in (None, subjects[record_type])
            and spec["record_type"] in (None, record_type)
            and (spec["until"] is None or today <= spec["until"])  # type: ignore[operator]
            for spec in wanted
        )

    expected_due = {t for t, end in ends.items() if today > end and not held(t)}
    expected_held = {t for t, end in ends.items() if today > end and held(t)}
    assert {item.record_type for item in report.due} == expected_due
    assert {item.record_type for item in report.held} == expected_held


def test_red_a_start_beyond_the_calendar_keeps_the_record() -> None:
    """Fixed: a record dated 9999-12-31 (legacy "not known") crashed the report with a bare
    ValueError; it is kept."""
    source = DictSource()
    source.add(RetainedNote("C-1", "n", "x"), date(9999, 12, 31))
    source.add(RetainedVisit("C-2", "v", "x"), date(2020, 1, 1), funder_reporting=date(9998, 6, 1))
    report = retention_due(sources_of(notes=source), today=date(2026, 6, 1), registry=REGISTRY)
    assert report.due == ()
    assert sum(report.kept.values()) == 2


class FailingFlags:
    def care_flags(self, subjects: list[str]) -> dict[str, set[str]]:
        raise RuntimeError("the client database went away")


def test_red_may_share_does_not_say_yes_when_the_flag_source_fails() -> None:
    purposeful.configure(care_flags=FailingFlags(), disclosure_log=MemorySharingStore())
    answer = purposeful.may_share(
        RedStewardReferral,
        "region",
        agreement=REFUGE,
        party=SHELTER,
        actor=CASEWORKER,
        subject="W-2",
    )
    with pytest.raises(DisclosureRefused):  # what disclose does: the answer should agree
        purposeful.disclose(
            RedStewardReferral("W-2", "Waikato"), to=SHELTER, under=REFUGE, actor=CASEWORKER
        )
    assert "care-flags-unavailable" in answer.reasons
    assert not answer.allowed
