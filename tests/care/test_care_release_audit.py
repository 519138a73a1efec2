"""A release records what it needed: a bundle for release (not a draft) sends a
``purposeful.disclosure`` event under ``access`` with the request's reference, the person's
pseudonym, the record count and the care needs met; the bundle says nothing of them; and a
release the audit trail cannot take is not left on disk."""

from __future__ import annotations

import hashlib
import zipfile
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
from purposeful.decisions import ScopeReport
from purposeful.errors import AuditSinkError, ConfigurationError
from purposeful.purposes import PurposeRegistry

SUBJECT = "client-release-audit-private"
KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"release audit key").digest())
PSEUDONYMS = PseudonymKey("5eed0c4f", hashlib.sha256(b"release audit pseudonyms").digest())
TRAIL_KEY = PseudonymKey("7a11ed01", hashlib.sha256(b"release audit trail").digest())
REVIEWER = Actor("staff-09", "privacy-officer", SENSITIVE)
CHECKED = {
    "requester": Requester.person(),
    "identity": Check(by="staff-7", how="photo-id-sighted"),
    "no_threat": Check(by="staff-7", how="asked-in-private"),
    "delivery": Check(by="staff-7", how="encrypted-to-requester-key"),
}
FLAGS = [*CareFlag, "kaumatua-support"]
#: what must never reach the person: the care needs' codes and the flags
HIDDEN = [need.value for need in CareNeed] + [str(flag) for flag in FLAGS]


@purposeful.record(subject="client_id", key="visit_id")
class ReleaseAuditVisit:
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


class Reports:
    def __init__(self) -> None:
        self.reports: list[ScopeReport] = []

    def emit(self, report: ScopeReport) -> None:
        self.reports.append(report)

    def released(self) -> list[Mapping[str, object]]:
        return [
            d
            for r in self.reports
            for d in r.disclosures
            if d.get("purposeful.disclosure.request") is not None
        ]


class Broken:
    def emit(self, report: ScopeReport) -> None:
        raise OSError("the collector is down")


def visits(subject: str) -> Iterator[object]:
    yield ReleaseAuditVisit(subject, "V-1", "came in for a food parcel")
    yield ReleaseAuditVisit(subject, "V-2", "asked about a budgeting course")


def access() -> SubjectAccess:
    found = SubjectAccess(
        agency=AgencyDetails(name="Kōwhai Support Trust", email="privacy@kowhai.example.nz"),
        pseudonym_keys=PSEUDONYMS,
    )
    found.register("visits", visits)
    return found


def configure(care: Sequence[CareRequirement], flags: Collection[str], sinks: list[object]) -> None:
    default = PurposeRegistry.default()
    registry = default.extend([attrs.evolve(default.get("access"), care=tuple(care))])
    purposeful.configure(
        registry=registry,
        care_flags=Flags({SUBJECT: flags}),
        sinks=sinks,  # type: ignore[arg-type]
        pseudonymise=TRAIL_KEY.pseudonym,
    )


def request(**extra: object) -> AccessRequest:
    return AccessRequest("SAR-2026-0123", SUBJECT, date(2026, 3, 2), **CHECKED, **extra)  # type: ignore[arg-type]


def build(target: Path, asked: AccessRequest, *, draft: bool = False, **extra: object) -> None:
    created = datetime(2026, 3, 20, tzinfo=UTC)
    access().build(
        asked,
        target,
        signing_key=KEY,
        created=created,
        draft=draft,
        overwrite=True,
        **extra,  # type: ignore[arg-type]
    )


def every_byte(bundle: Path) -> bytes:
    """The bundle file and each of its members, uncompressed."""
    with zipfile.ZipFile(bundle) as archive:
        members = [archive.read(name) for name in archive.namelist()]
    return b"\n".join([bundle.read_bytes(), *members])


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
@given(care=requirements, flags=st.sets(st.sampled_from(FLAGS), max_size=2))
def test_a_release_records_the_care_needs_met_and_the_bundle_shows_none(
    tmp_path: Path, care: list[CareRequirement], flags: set[str]
) -> None:
    reports = Reports()
    configure(care, flags, [reports])
    needs = needs_for(care, flags)
    review = access().review(request(), reviewer=REVIEWER).decide()
    asked = request(review=review, approved_by="staff-02")
    target = tmp_path / "bundle.zip"
    build(target, asked, draft=True)
    assert reports.released() == []  # a draft is not a release
    build(target, asked)
    (audited,) = reports.released()
    assert audited["purposeful.disclosure.request"] == "SAR-2026-0123"
    assert audited["purposeful.disclosure.records.count"] == 2
    assert audited["purposeful.disclosure.subject"] == TRAIL_KEY.pseudonym(SUBJECT)
    assert audited.get("purposeful.disclosure.care.needs", []) == sorted(n.value for n in needs)
    second = CareNeed.SECOND_REVIEWER in needs
    assert audited.get("purposeful.disclosure.care.second_reviewer") == (
        "staff-02" if second else None
    )
    reviewed = CareNeed.SAFETY_REVIEW in needs
    assert audited.get("purposeful.disclosure.care.safety_review") == (
        review.covers if reviewed else None
    )
    said = repr(reports.released())
    assert SUBJECT not in said
    assert not any(str(flag) in said for flag in FLAGS)
    content = every_byte(target)
    assert not any(hidden.encode() in content for hidden in HIDDEN)
    assert b"staff-02" not in content


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_a_release_the_audit_cannot_take_never_takes_its_name(
    tmp_path: Path, encrypted: bool
) -> None:
    """The release is recorded once the bundle is whole on disk, before it takes its name:
    a sink that fails leaves no bundle, and with ``overwrite=True`` the file already at the
    path (here a draft) is left byte for byte as it was (it was lost before)."""
    configure([CareRequirement(["family-violence-safety"], ["second-reviewer"])],
              {"family-violence-safety"}, [Broken()])  # fmt: skip
    extra = {"encrypt_to": "a long passphrase for the test"} if encrypted else {}
    target = tmp_path / "bundle.zip"
    build(target, request(approved_by="staff-02"), draft=True)  # a draft is not audited
    before = target.read_bytes()
    with pytest.raises(AuditSinkError, match="could not be recorded") as raised:
        build(target, request(approved_by="staff-02"), **extra)
    assert target.read_bytes() == before
    assert "left as it was" in str(raised.value)
    assert "SAR-2026-0123" in str(raised.value)
    assert SUBJECT not in str(raised.value)
    assert "family-violence" not in str(raised.value)
    fresh = tmp_path / "fresh.zip"
    with pytest.raises(AuditSinkError, match="could not be recorded"):
        build(fresh, request(approved_by="staff-02"), **extra)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.zip"]  # no temporary left


def test_a_release_recorded_is_in_place_when_the_call_returns(tmp_path: Path) -> None:
    """The sink sees the release while the bundle is whole on disk under a temporary name,
    and the bundle takes its name right after: recorded means released."""
    target = tmp_path / "bundle.zip"
    seen: list[list[str]] = []

    class Looking:
        def emit(self, report: ScopeReport) -> None:
            if report.disclosures:
                seen.append(sorted(p.name for p in tmp_path.iterdir()))

    configure((), (), [Looking()])
    build(target, request())
    assert len(seen) == 1
    assert len(seen[0]) == 1  # the bundle under its temporary name only
    assert target.name not in seen[0]
    assert zipfile.ZipFile(target).testzip() is None


def test_a_file_that_takes_the_name_after_the_release_was_recorded_is_kept_and_said(
    tmp_path: Path,
) -> None:
    """Without ``overwrite``, a file that appears at the path while the release is recorded
    is not replaced, and the error says the trail holds a release that did not take place."""
    from purposeful.errors import SubjectAccessError

    target = tmp_path / "bundle.zip"

    class Racing:
        def emit(self, report: ScopeReport) -> None:
            if report.disclosures:
                target.write_bytes(b"someone else's file")

    configure((), (), [Racing()])
    with pytest.raises(SubjectAccessError, match="had recorded its release") as raised:
        access().build(
            request(), target, signing_key=KEY, created=datetime(2026, 3, 20, tzinfo=UTC)
        )
    assert target.read_bytes() == b"someone else's file"
    assert SUBJECT not in str(raised.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.zip"]


def test_a_release_is_audited_as_who_hands_it_over(tmp_path: Path) -> None:
    reports = Reports()
    configure((), (), [reports])
    build(tmp_path / "a.zip", request())
    build(tmp_path / "b.zip", request(), actor=REVIEWER)
    with purposeful.use("access", actor=Actor("staff-11", "caseworker", SENSITIVE)):
        build(tmp_path / "c.zip", request())
    actors = [r.actor.id for r in reports.reports if r.disclosures and r.actor is not None]
    assert actors == ["staff-7", "staff-09", "staff-11"]
    assert all(
        "purposeful.disclosure.care.needs" not in d for d in reports.released()
    )  # nobody flagged: no care needs
    with pytest.raises(ConfigurationError, match=r"takes a purposeful\.Actor"):
        build(tmp_path / "d.zip", request(), actor="staff-7")
    assert not (tmp_path / "d.zip").exists()


def test_the_release_reaches_the_ledger_which_verifies_and_reports(tmp_path: Path) -> None:
    from purposeful.audit import Ledger, verify_ledger
    from purposeful.audit.report import build_report

    signing_key = Ed25519PrivateKey.generate()
    with Ledger(tmp_path / "audit.jsonl", signing_key=signing_key) as ledger:
        configure(
            [CareRequirement(["family-violence-safety"], ["safety-review", "second-reviewer"])],
            {"family-violence-safety"},
            [ledger],
        )
        review = access().review(request(), reviewer=REVIEWER).decide()
        build(tmp_path / "b.zip", request(review=review, approved_by="staff-02"))
        purposeful.configure(sinks=[])
    text = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert "SAR-2026-0123" in text
    assert "second-reviewer" in text
    assert "family-violence" not in text
    assert SUBJECT not in text
    assert verify_ledger(tmp_path / "audit.jsonl", signing_key.public_key()).ok
    report = build_report(ledgers=[tmp_path / "audit.jsonl"])
    assert sum(row.disclosures for row in report.disclosures) == 1
