"""Red team 2: times that slip past the recordable range or the future skew (datetime
subclasses, a tzinfo that changes its answer), and then break a bundle later."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "access"))

import contextlib

import pytest
from _bundles import SUBJECT, build_bundle, subject_access

from purposeful.consent import MemoryConsentStore, SQLiteConsentStore
from purposeful.errors import InvalidConsentEvent, PurposefulError
from purposeful.sharing import DisclosureEntry


class Arithmetic(datetime):
    """A datetime subclass whose subtraction of another datetime answers zero."""

    def __sub__(self, other):  # type: ignore[no-untyped-def,override]
        if isinstance(other, datetime):
            return timedelta(0)
        return datetime.__sub__(self, other)


class Comparing(datetime):
    """A datetime subclass that says it is within 1970-2199 whatever it holds."""

    def __ge__(self, other):  # type: ignore[no-untyped-def,override]
        return True if other.year == 1970 else datetime.__ge__(self, other)

    def __lt__(self, other):  # type: ignore[no-untyped-def,override]
        return True if other.year == 2200 else datetime.__lt__(self, other)


def _ahead(days: int) -> Arithmetic:
    real = datetime.now(UTC) + timedelta(days=days)
    return Arithmetic.fromtimestamp(real.timestamp(), UTC)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_red2_a_withdrawal_dated_a_month_ahead_in_a_datetime_subclass_is_refused(
    tmp_path: Path, kind: str
) -> None:
    store = MemoryConsentStore() if kind == "memory" else SQLiteConsentStore(tmp_path / "c.db")
    store.give(SUBJECT, "research", at=datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(InvalidConsentEvent):
        store.withdraw(SUBJECT, "research", at=_ahead(30))


def test_red2_sqlite_keeps_the_time_it_was_given(tmp_path: Path) -> None:
    # a withdrawal given as a subclass value is stored as 1970-01-01 (its subtraction from
    # the epoch is taken at face value), so it lands before the grant and consent stays on
    store = SQLiteConsentStore(tmp_path / "c.db", future_skew=timedelta(days=365))
    when = Arithmetic(2026, 6, 1, tzinfo=UTC)
    store.give(SUBJECT, "research", at=datetime(2026, 1, 1, tzinfo=UTC))
    try:
        store.withdraw(SUBJECT, "research", at=when)
    except InvalidConsentEvent:
        return  # refusing the subclass is a fix too
    assert store.history(SUBJECT)[-1].at == datetime(2026, 6, 1, tzinfo=UTC)


def test_red2_an_expiry_outside_the_range_is_refused_not_a_later_overflow(
    tmp_path: Path,
) -> None:
    store = MemoryConsentStore()
    try:
        store.give(
            SUBJECT,
            "research",
            at=datetime(2026, 3, 1, tzinfo=UTC),
            expires_at=Comparing(9999, 12, 31, 23, tzinfo=UTC),
        )
    except InvalidConsentEvent:
        return  # held: refused when recorded
    # accepted once, it must never fail later: the bundle raises a raw OverflowError
    with contextlib.suppress(PurposefulError):
        build_bundle(tmp_path / "b.zip", subject_access(consent=store))
    # any other exception (OverflowError) propagates and fails the test


class Fickle(tzinfo):
    """Gives an offset for the first few questions, then none (a naive time)."""

    def __init__(self) -> None:
        self.asked = 0

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        self.asked += 1
        return timedelta(0) if self.asked <= 3 else None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None


class Log:
    def __init__(self, *entries: DisclosureEntry) -> None:
        self.entries = entries

    def for_subject(self, subject: str):  # type: ignore[no-untyped-def]
        yield from self.entries


def test_red2_a_disclosure_time_accepted_once_never_fails_later(tmp_path: Path) -> None:
    try:
        entry = DisclosureEntry(
            at=datetime(2026, 3, 1, tzinfo=Fickle()),
            recipient="Tairāwhiti Budgeting Service",
            purpose="research",
            basis="your consent",
            fields=["CaseNote.text"],
        )
    except PurposefulError:
        return  # held: refused when made
    # accepted: it is kept as given (DisclosureEntry does not convert to UTC as Disclosure
    # does), so the bundle asks its zone again and is refused
    build_bundle(tmp_path / "b.zip", subject_access(disclosures=Log(entry)))
