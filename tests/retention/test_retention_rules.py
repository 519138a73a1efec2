"""The rule of IPP 9: a record is kept while some purpose it is held for still needs it,
periods are inherited down the purpose hierarchy, days are New Zealand days, and a hold
stops disposal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from _retention import (
    REGISTRY,
    ArchivedLetter,
    DictSource,
    RetainedNote,
    RetainedVisit,
    sources_of,
)
from hypothesis import event, given
from hypothesis import strategies as st

from purposeful import PurposeRegistry, Retention
from purposeful.errors import ConfigurationError, UnknownPurpose
from purposeful.holds import Hold, HoldKind
from purposeful.retention import RetentionStatus, assess, kept_until, rule_for

NZ = ZoneInfo("Pacific/Auckland")


def _one(record: object, since: date | datetime, today: date | datetime, **kwargs: object):
    source = DictSource()
    source.add(record, since)
    found = list(assess(sources_of(notes=source), today=today, registry=REGISTRY, **kwargs))
    assert len(found) == 1
    return found[0]


def test_a_record_is_kept_through_the_last_day_of_its_period_and_due_the_day_after() -> None:
    note = RetainedNote("p-1", "n-1", "text")
    last = date(2023, 3, 1)  # 3 years from 1 March 2020, inherited from `service-delivery`
    assert _one(note, date(2020, 3, 1), last).status is RetentionStatus.KEPT
    due = _one(note, date(2020, 3, 1), last + timedelta(days=1))
    assert due.status is RetentionStatus.DUE
    assert due.kept_until == last
    assert due.rule is not None
    assert due.rule.describe() == (
        "service-delivery.case-management: 3 years after the case closes (from service-delivery)"
    )


def test_29_february_plus_a_year_is_28_february() -> None:
    assert kept_until(date(2024, 2, 29), Retention(years=1)) == date(2025, 2, 28)
    assert kept_until(date(2024, 1, 31), Retention(months=1)) == date(2024, 2, 29)
    assert kept_until(date(2024, 12, 31), Retention(months=2, days=1)) == date(2025, 3, 1)


def test_a_record_stays_while_any_purpose_needs_it_and_the_last_to_end_is_the_rule() -> None:
    visit = RetainedVisit("p-1", "v-1", "notes")  # outreach 1 year, funder-reporting 2 years
    kept = _one(visit, date(2020, 1, 1), date(2021, 6, 1))
    assert kept.status is RetentionStatus.KEPT
    assert kept.rule is not None
    assert kept.rule.purpose == "funder-reporting"
    due = _one(visit, date(2020, 1, 1), date(2022, 1, 2))
    assert due.status is RetentionStatus.DUE
    assert due.rule is not None
    assert due.rule.purpose == "funder-reporting"


def test_a_purpose_with_no_period_keeps_the_record() -> None:
    letter = ArchivedLetter("p-1", "l-1", "body")
    found = _one(letter, date(1990, 1, 1), date(2030, 1, 1))
    assert found.status is RetentionStatus.KEPT
    assert found.rule is not None
    assert found.rule.describe() == "service-improvement: no retention period decided"


def test_a_period_runs_from_the_date_given_for_its_purpose_or_an_ancestor() -> None:
    source = DictSource()
    visit = RetainedVisit("p-1", "v-1", "notes")
    source.add(visit, date(2020, 1, 1), funder_reporting=date(2021, 1, 1))
    found = list(assess(sources_of(v=source), today=date(2022, 1, 2), registry=REGISTRY))
    assert found[0].status is RetentionStatus.KEPT  # funder-reporting runs to 1 January 2023
    assert found[0].kept_until == date(2023, 1, 1)


def test_a_datetime_is_taken_as_its_new_zealand_day_across_the_end_of_daylight_saving() -> None:
    source_day = datetime(2026, 4, 4, 12, 30, tzinfo=UTC)  # 00:30 NZDT on 5 April
    assert source_day.astimezone(NZ).date() == date(2026, 4, 5)
    registry = REGISTRY.extend(
        [attrs.evolve(REGISTRY.get("service-delivery"), retention=Retention(days=1))]
    )
    note = RetainedNote("p-1", "n-1", "text")
    source = DictSource()
    source.add(note, source_day)
    sources = sources_of(n=source)
    # daylight saving ended at 03:00 NZDT on 5 April 2026: NZ is UTC+12 after it
    before = datetime(2026, 4, 6, 11, 59, tzinfo=UTC)  # 23:59 NZST on 6 April
    after = datetime(2026, 4, 6, 12, 0, tzinfo=UTC)  # 00:00 NZST on 7 April
    assert [a.status for a in assess(sources, today=before, registry=registry)] == [
        RetentionStatus.KEPT
    ]
    assert [a.status for a in assess(sources, today=after, registry=registry)] == [
        RetentionStatus.DUE
    ]


def test_the_start_of_daylight_saving_moves_the_day_at_midnight_nzst() -> None:
    registry = REGISTRY.extend(
        [attrs.evolve(REGISTRY.get("service-delivery"), retention=Retention(days=1))]
    )
    note = RetainedNote("p-1", "n-1", "text")
    for instant, day in (
        (datetime(2026, 9, 26, 11, 59, 59, tzinfo=UTC), date(2026, 9, 26)),
        (datetime(2026, 9, 26, 12, 0, tzinfo=UTC), date(2026, 9, 27)),  # DST starts at 2 am
    ):
        found = _one_with(registry, note, instant, day + timedelta(days=2))
        assert found.kept_until == day + timedelta(days=1)
        assert found.status is RetentionStatus.DUE


def _one_with(registry: PurposeRegistry, record: object, since: datetime, today: date):
    source = DictSource()
    source.add(record, since)
    (found,) = assess(sources_of(n=source), today=today, registry=registry)
    return found


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ConfigurationError, match="naive datetime"):
        _one(RetainedNote("p-1", "n-1", "t"), datetime(2020, 1, 1), date(2030, 1, 1))
    with pytest.raises(ConfigurationError, match="naive datetime"):
        _one(RetainedNote("p-1", "n-1", "t"), date(2020, 1, 1), datetime(2030, 1, 1))


@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2090, 12, 31),
        timezones=st.sampled_from([UTC, NZ, ZoneInfo("America/Los_Angeles")]),
    ),
    years=st.integers(min_value=1, max_value=10),
)
def test_kept_until_takes_a_datetime_on_its_new_zealand_day(moment: datetime, years: int) -> None:
    retention = Retention(years=years)
    assert kept_until(moment, retention) == kept_until(moment.astimezone(NZ).date(), retention)


def test_kept_until_at_the_year_end_and_daylight_saving_counts_the_new_zealand_day() -> None:
    seven = Retention(years=7)
    # 11:30 UTC on 31 December 2026 is 00:30 on 1 January 2027 in New Zealand (NZDT)
    assert kept_until(datetime(2026, 12, 31, 11, 30, tzinfo=UTC), seven) == date(2034, 1, 1)
    # 12:30 UTC on 4 April 2026 is 01:30 on 5 April, before daylight saving ends
    assert kept_until(datetime(2026, 4, 4, 12, 30, tzinfo=UTC), seven) == date(2033, 4, 5)


@pytest.mark.parametrize("start", [datetime(2026, 1, 1, 12), "2026-01-01", 20260101, None])
def test_kept_until_refuses_a_start_that_is_not_a_day(start: object) -> None:
    with pytest.raises(ConfigurationError, match="kept_until"):
        kept_until(start, Retention(years=7))  # type: ignore[arg-type]


def test_kept_until_refuses_a_period_that_is_not_a_retention() -> None:
    with pytest.raises(ConfigurationError, match="Retention"):
        kept_until(date(2026, 1, 1), 7)  # type: ignore[arg-type]


def test_rule_for_an_unknown_purpose_is_an_error() -> None:
    with pytest.raises(UnknownPurpose):
        rule_for("no-such-purpose", REGISTRY)


# --- the property: purpose hierarchy x dates x holds ------------------------------------------

PURPOSES = (
    "service-delivery",
    "service-delivery.case-management",
    "service-delivery.referral",
    "funder-reporting",
    "service-improvement",
)
CLASSES = {
    RetainedNote: ("service-delivery.case-management",),
    RetainedVisit: ("funder-reporting", "service-delivery.referral"),
    ArchivedLetter: ("service-improvement", "service-delivery"),
}
_period = st.builds(
    Retention,
    years=st.integers(0, 3),
    months=st.integers(0, 14),
    days=st.integers(1, 40),
    after=st.just("the event"),
)
#: mostly a period: a purpose without one keeps every record it covers
periods = st.one_of(_period, _period, _period, st.none())
days = st.dates(date(2018, 1, 1), date(2024, 12, 31))
later_days = st.dates(date(2019, 1, 1), date(2032, 12, 31))


def _oracle_end(start: date, retention: Retention) -> date:
    """The last day kept, computed another way: step month by month, then clamp."""
    year, month = start.year, start.month
    for _ in range(retention.years * 12 + retention.months):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    day = start.day
    while True:
        try:
            end = date(year, month, day)
            break
        except ValueError:
            day -= 1
    return end + timedelta(days=retention.days)


def _inherited(table: dict[str, Retention | None], purpose: str) -> Retention | None:
    parts = purpose.split(".")
    while parts:
        found = table.get(".".join(parts))
        if found is not None:
            return found
        parts.pop()
    return None


@given(
    table=st.fixed_dictionaries(dict.fromkeys(PURPOSES, periods)),
    kind=st.sampled_from(sorted(CLASSES, key=lambda c: c.__name__)),
    since=days,
    overrides=st.dictionaries(st.sampled_from(PURPOSES), days, max_size=2),
    today=later_days,
    holds=st.lists(
        st.tuples(
            st.sampled_from(["p-1", "p-2", None, None]),
            st.sampled_from(["RetainedNote", "RetainedVisit", "ArchivedLetter", None, None]),
            st.one_of(st.none(), st.none(), later_days),
            st.sampled_from([False, False, False, True]),
        ),
        max_size=3,
    ),
)
def test_a_record_is_disposable_only_when_no_purpose_needs_it_and_no_hold_applies(
    table: dict[str, Retention | None],
    kind: type,
    since: date,
    overrides: dict[str, date],
    today: date,
    holds: list[tuple[str | None, str | None, date | None, bool]],
) -> None:
    registry = PurposeRegistry(
        [attrs.evolve(REGISTRY.get(p), retention=table[p]) for p in PURPOSES]
    )
    record = kind("p-1", "r-1", "text")
    source = DictSource()
    source.add(record, since)
    source.rows[("p-1", "r-1")] = attrs.evolve(source.rows[("p-1", "r-1")], since_for=overrides)
    moment = datetime(2020, 1, 1, tzinfo=UTC)
    placed = [
        Hold(f"{i:032x}", HoldKind.LEGAL, who, what, "why", "staff", moment, until,
             released_at=moment if released else None)
        for i, (who, what, until, released) in enumerate(holds)
    ]  # fmt: skip
    (found,) = assess(sources_of(s=source), today=today, registry=registry, holds=placed)
    event(found.status.value)

    needed = False
    for purpose in CLASSES[kind]:
        retention = _inherited(table, purpose)
        start = next((overrides[a] for a in _lineage(purpose) if a in overrides), since)
        if retention is None or today <= _oracle_end(start, retention):
            needed = True
    held = any(
        not released
        and (until is None or today <= until)
        and who in (None, "p-1")
        and what in (None, kind.__name__)
        for who, what, until, released in holds
    )
    if needed:
        assert found.status is RetentionStatus.KEPT
    elif held:
        assert found.status is RetentionStatus.HELD
        assert found.holds
    else:
        assert found.status is RetentionStatus.DUE
        assert found.holds == ()


def _lineage(purpose: str) -> list[str]:
    parts = purpose.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]
