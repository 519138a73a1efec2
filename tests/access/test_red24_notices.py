"""Whom a correction was told to (IPP 7) comes from the disclosure log's notices; a log
that gives the notices of another correction, or fails when its notices are looked up,
stops the build with a `SubjectAccessError` and leaves no bundle."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_bundle import Disclosures, corrected_bundle, leftovers

from purposeful.errors import SubjectAccessError
from purposeful.sharing import CorrectionNotice

PARTY = "OTHER-CORRECTIONS-PARTY"


def _notice(correction_id: str) -> CorrectionNotice:
    return CorrectionNotice(
        disclosure_id="d" * 32,
        correction_id=correction_id,
        recipient=PARTY,
        told_at=datetime(2026, 3, 2, 21, 0, tzinfo=UTC),
        how="phoned their manager",
    )


class OtherCorrections(Disclosures):
    """Gives, for every correction, a notice of some other correction."""

    def notices(self, correction_id: str) -> list[CorrectionNotice]:
        return [_notice("e" * 32 if correction_id != "e" * 32 else "f" * 32)]


class MixedIn(Disclosures):
    """Gives the right notice, and another correction's with it."""

    def notices(self, correction_id: str) -> list[CorrectionNotice]:
        return [_notice(correction_id), _notice("e" * 32)]


@pytest.mark.parametrize("log", [OtherCorrections, MixedIn])
def test_notices_of_another_correction_are_never_shown(tmp_path: Path, log: type) -> None:
    with pytest.raises(SubjectAccessError, match="other than the one asked about") as caught:
        corrected_bundle(tmp_path, disclosures=log())
    assert PARTY not in str(caught.value)
    assert leftovers(tmp_path) == []


class Unreadable(Disclosures):
    """A log whose notices cannot even be looked up."""

    @property
    def notices(self) -> object:
        raise RuntimeError("the log is closed")


def test_a_log_whose_notices_cannot_be_looked_up_is_a_subject_access_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(SubjectAccessError, match="whom a correction was told to"):
        corrected_bundle(tmp_path, disclosures=Unreadable())
    assert leftovers(tmp_path) == []
