"""A hold errs towards keeping: a subject id typed otherwise (case, width, dashes, invisible
characters) still holds the person's records, read back from every register."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from purposeful.holds import MemoryHoldStore, SQLiteHoldStore

MOMENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = date(2026, 6, 1)

#: subject ids as agencies write them: letters, digits and a dash or two
IDS = st.from_regex(r"[A-Za-z]{1,3}-?[0-9]{1,6}(-[0-9]{1,3})?", fullmatch=True)

#: what a person placing a hold may type instead of the same id
TYPED_OTHERWISE = {
    "upper": str.upper,
    "lower": str.lower,
    "full width": lambda s: "".join(
        chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and c != "-" else c for c in s
    ),
    "en dash": lambda s: s.replace("-", "\u2013"),
    "minus sign": lambda s: s.replace("-", "\u2212"),
    "zero-width space": lambda s: s[:1] + "\u200b" + s[1:],
}


@given(subject=IDS, how=st.sampled_from(sorted(TYPED_OTHERWISE)))
def test_a_hold_typed_otherwise_holds_the_persons_records(subject: str, how: str) -> None:
    typed = TYPED_OTHERWISE[how](subject)
    hold = MemoryHoldStore().place(reason="Inquiry", by="staff-1", subject=typed, at=MOMENT)
    assert hold.covers(subject, "CaseNote", DAY)


@given(subject=IDS, other=IDS)
def test_a_hold_on_another_id_holds_nothing_of_this_person(subject: str, other: str) -> None:
    hold = MemoryHoldStore().place(reason="Inquiry", by="staff-1", subject=other, at=MOMENT)
    assert hold.covers(subject, "CaseNote", DAY) == (other.casefold() == subject.casefold())


@pytest.mark.parametrize("how", sorted(TYPED_OTHERWISE))
def test_a_hold_read_back_from_a_file_still_matches(how: str, tmp_path: object) -> None:
    path = tmp_path / "holds.db"  # type: ignore[operator]
    with SQLiteHoldStore(path) as register:
        placed = register.place(
            reason="Inquiry", by="staff-1", subject=TYPED_OTHERWISE[how]("C-1001"), at=MOMENT
        )
    with SQLiteHoldStore(path) as again:
        [read] = again.in_force(DAY)
    assert read == placed
    assert read.covers("C-1001", "CaseNote", DAY)
    assert not read.covers("C-1002", "CaseNote", DAY)
