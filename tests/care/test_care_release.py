"""People who need more care at release: a bundle for a flagged person waits for the safety
review and the second person's approval that the ``access`` purpose requires; a draft, and
an unflagged person, need neither."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import SENSITIVE, Actor, ServiceAgreement
from purposeful.access import AccessRequest, AgencyDetails, Check, Requester, SubjectAccess
from purposeful.audit import PseudonymKey
from purposeful.care import CareFlag, CareNeed, CareRequirement, needs_for
from purposeful.errors import ConfigurationError, ReleaseChecksMissing, ReviewPending
from purposeful.purposes import PurposeRegistry

SUBJECT = "client-care-private"
KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"care release key").digest())
PSEUDONYMS = PseudonymKey("5eed0c4e", hashlib.sha256(b"care release pseudonyms").digest())
REVIEWER = Actor("staff-09", "privacy-officer", SENSITIVE)
CHECKED = {
    "requester": Requester.person(),
    "identity": Check(by="staff-7", how="photo-id-sighted"),
    "no_threat": Check(by="staff-7", how="asked-in-private"),
    "delivery": Check(by="staff-7", how="encrypted-to-requester-key"),
}
FLAGS = [*CareFlag, "kaumatua-support"]


@purposeful.record(subject="client_id", key="visit_id")
class CareVisit:
    client_id: str
    visit_id: str
    note: str = purposeful.field(
        purposes={"service-delivery": ServiceAgreement("Service delivery agreement")}
    )


class Flags:
    def __init__(self, flags: Mapping[str, Collection[str]]) -> None:
        self.flags = dict(flags)

    def care_flags(self, subjects: Sequence[str]) -> Mapping[str, Collection[str]]:
        return {s: self.flags[s] for s in subjects if s in self.flags}


def visits(subject: str) -> Iterator[object]:
    yield CareVisit(subject, "V-1", "came in for a food parcel")


def access() -> SubjectAccess:
    found = SubjectAccess(
        agency=AgencyDetails(name="Kōwhai Support Trust", email="privacy@kowhai.example.nz"),
        pseudonym_keys=PSEUDONYMS,
    )
    found.register("visits", visits)
    return found


def configure(care: Sequence[CareRequirement], flags: Collection[str]) -> None:
    default = PurposeRegistry.default()
    registry = default.extend([attrs.evolve(default.get("access"), care=tuple(care))])
    purposeful.configure(registry=registry, care_flags=Flags({SUBJECT: flags}))


def request(**extra: object) -> AccessRequest:
    return AccessRequest("SAR-2026-0099", SUBJECT, date(2026, 3, 2), **CHECKED, **extra)  # type: ignore[arg-type]


def build(target: Path, asked: AccessRequest, *, draft: bool = False) -> None:
    created = datetime(2026, 3, 20, tzinfo=UTC)
    access_ = access()
    access_.build(asked, target, signing_key=KEY, created=created, draft=draft, overwrite=True)


requirements = st.lists(
    st.builds(
        CareRequirement,
        flags=st.sets(st.sampled_from(FLAGS), min_size=1, max_size=2),
        needs=st.sets(st.sampled_from(list(CareNeed)), min_size=1),
    ),
    max_size=2,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    care=requirements,
    flags=st.sets(st.sampled_from(FLAGS), max_size=2),
    reviewed=st.booleans(),
    approver=st.sampled_from([None, "staff-7", "staff-02"]),
)
def test_a_release_for_a_flagged_person_waits_for_what_access_requires(
    tmp_path: Path,
    care: list[CareRequirement],
    flags: set[str],
    reviewed: bool,
    approver: str | None,
) -> None:
    configure(care, flags)
    needs = needs_for(care, flags)
    review = None
    if reviewed:
        sheet = access().review(request(), reviewer=REVIEWER)
        review = sheet.decide()
    asked = request(review=review, approved_by=approver)
    target = tmp_path / "bundle.zip"
    build(target, asked, draft=True)  # a draft needs neither
    if CareNeed.SAFETY_REVIEW in needs and not reviewed:
        with pytest.raises(ReviewPending, match="needs more care") as raised:
            build(target, asked)
        assert raised.value.marked == ()
        assert SUBJECT not in str(raised.value)
        return
    if CareNeed.SECOND_REVIEWER in needs and approver in (None, "staff-7"):
        with pytest.raises(ReleaseChecksMissing, match="second staff member") as missing:
            build(target, asked)
        assert missing.value.missing == ("approved_by",)
        assert not any(str(flag) in str(missing.value) for flag in FLAGS)
        return
    build(target, asked)  # a representative's consent is no release requirement


def test_an_approval_by_the_reviewer_is_not_a_second_persons(tmp_path: Path) -> None:
    configure([CareRequirement(["family-violence-safety"], ["safety-review", "second-reviewer"])],
              {"family-violence-safety"})  # fmt: skip
    review = access().review(request(), reviewer=REVIEWER).decide()
    with pytest.raises(ReleaseChecksMissing, match="not someone who made a s 57 check"):
        build(tmp_path / "b.zip", request(review=review, approved_by="staff-09"))
    # the reviewer's own id in other letters is still the reviewer's
    with pytest.raises(ReleaseChecksMissing, match="not someone who made a s 57 check"):
        build(tmp_path / "b.zip", request(review=review, approved_by="STAFF-09"))
    build(tmp_path / "b.zip", request(review=review, approved_by="staff-02"))


def test_a_failing_flag_source_stops_the_release(tmp_path: Path) -> None:
    class Broken:
        def care_flags(self, subjects: Sequence[str]) -> Mapping[str, Collection[str]]:
            raise ConnectionError

    configure([CareRequirement(["family-violence-safety"], ["safety-review"])], ())
    purposeful.configure(care_flags=Broken())
    with pytest.raises(ReleaseChecksMissing) as missing:
        build(tmp_path / "b.zip", request())
    assert missing.value.missing == ("care_flags",)


def test_an_approver_must_be_a_reference() -> None:
    with pytest.raises(ConfigurationError, match="approved_by takes a reference"):
        request(approved_by="Jane Smith, team leader")
