"""A copy for the person at the point of service (`purposeful.access.copy_for_person`)."""

from __future__ import annotations

import html
import html.parser
import itertools
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from _records import RecordingSink
from purposeful import CONSENT, IN_CONFIDENCE, SENSITIVE, Actor, ServiceAgreement, Statute, cli
from purposeful.access import (
    AccessRequest,
    AgencyDetails,
    ItemStatus,
    NeedsReview,
    Passage,
    PersonCopy,
    SubjectAccess,
    Withhold,
    copy_for_person,
)
from purposeful.errors import ConfigurationError, ReviewPending, SubjectAccessError
from purposeful.records import record_policy
from purposeful.sharing import MemorySharingStore
from purposeful.supply import Mandatory, Voluntary
from purposeful.withholding import ANOTHER_PERSONS_AFFAIRS

DELIVERY = ServiceAgreement("Service delivery agreement")
REVIEW = Statute("Privacy Act 2020", "57")
AGENCY = AgencyDetails("Te Whare Tauira", email="privacy@tauira.example.nz")
CASEWORKER = Actor("staff-3", "caseworker", SENSITIVE)
MADE = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


@purposeful.record(subject="person_id")
class CopyIntakeForm:
    """What an intake records."""

    person_id: str
    name: str = purposeful.field(
        purposes={"service-delivery": DELIVERY},
        category="identity",
        supply=Mandatory("Without it we cannot help you."),
    )
    phone: str = purposeful.field(
        purposes={"service-delivery": DELIVERY, "research": CONSENT},
        supply=Voluntary("We can still help you."),
        default="",
    )
    # case management only: a service-delivery scope may not read it
    needs: str = purposeful.field(
        purposes={"service-delivery.case-management": DELIVERY}, sensitivity=SENSITIVE, default=""
    )
    referred_by: str | None = purposeful.field(
        purposes={"service-delivery": DELIVERY, "access.safety-review": REVIEW},
        withhold=ANOTHER_PERSONS_AFFAIRS,
        default=None,
    )
    safety_notes: str | None = purposeful.field(
        purposes={"service-delivery": DELIVERY, "access.safety-review": REVIEW},
        sensitivity=SENSITIVE,
        default=None,
    )
    visited: date = date(2026, 12, 2)


@pytest.fixture
def log() -> MemorySharingStore:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    return store


def _access(*, review: bool = False) -> SubjectAccess:
    marks = [NeedsReview(CopyIntakeForm, "safety_notes")] if review else []
    return SubjectAccess(agency=AGENCY, safety_review=marks)


def _copy(record: CopyIntakeForm, access: SubjectAccess | None = None, **kwargs: Any) -> PersonCopy:
    with purposeful.use("service-delivery", actor=CASEWORKER):
        return copy_for_person(
            access or _access(),
            record.person_id,
            reference="INTAKE-1",
            records=[record],
            at=MADE,
            **kwargs,
        )


def test_each_item_says_what_why_who_and_whether_it_had_to_be_given(
    log: MemorySharingStore,
) -> None:
    record = CopyIntakeForm("P-1", "Mere Tipene", "021 555 0101", "Housing")
    copy = _copy(record, roles={"caseworker": SENSITIVE, "receptionist": IN_CONFIDENCE})
    items = {item.field: item for item in copy.items}
    name = items["name"]
    assert name.status is ItemStatus.SHOWN
    assert name.value == "Mere Tipene"
    assert name.purposes[0].startswith("Service delivery")
    assert "Service delivery agreement" in name.law[0]
    assert set(name.who) == {"caseworker", "receptionist"}
    assert name.supply.mandatory
    assert name.source is None
    assert items["phone"].consent == ("Research",)
    assert items["visited"].value == "2 December 2026"
    assert "person_id" not in items  # the subject id is for our systems
    page = copy.text()
    assert "Yes, you had to give us this. Without it we cannot help you." in page
    assert "No, it was up to you. We can still help you." in page
    assert "information privacy principle 7" in page
    assert "principle 6" in page
    assert "withdraw your consent" in page
    assert "11(1)(b)" in page


def test_the_copy_is_logged_as_a_disclosure_to_the_person_and_audited(
    log: MemorySharingStore, sink: RecordingSink
) -> None:
    record = CopyIntakeForm("P-2", "Mere Tipene", "021 555 0101", "Housing")
    copy = _copy(record)
    [logged] = log.disclosures("P-2")
    assert logged.agreement == "privacy-act-2020-ipp-11-1-b"
    assert "11(1)(b)" in logged.basis
    assert logged.purpose == "service-delivery"
    assert set(logged.fields) == {"name", "phone", "visited"}  # what the page shows
    assert copy.disclosures == (logged.id,)
    purposeful.audit.flush()
    events = [d for report in sink.reports for d in report.disclosures]
    assert [e["purposeful.disclosure.id"] for e in events] == [logged.id]
    assert "Mere" not in repr(events)
    assert "P-2" not in repr(events)


def test_a_refused_field_is_not_on_the_page_but_said_to_be_not_shown(
    log: MemorySharingStore, sink: RecordingSink
) -> None:
    record = CopyIntakeForm("P-3", "Mere", needs="Secret-needs-value")
    copy = _copy(record)
    [needs] = [item for item in copy.items if item.field == "needs"]
    assert needs.status is ItemStatus.NOT_READABLE
    assert needs.value is None
    for page in (copy.html(), copy.text(), copy.markdown()):
        assert "Secret-needs-value" not in page
        assert "Needs" in page
        assert "cannot see it for this work" in " ".join(page.split())
    purposeful.audit.flush()
    decided = {(d.field, d.outcome.value) for d in sink.decisions}
    assert ("needs", "withheld") in decided
    assert ("name", "allowed") in decided


def test_a_declared_withholding_ground_is_given_with_its_law(log: MemorySharingStore) -> None:
    record = CopyIntakeForm("P-4", "Mere", referred_by="Hemi-the-neighbour")
    page = _copy(record).text()
    assert "Hemi-the-neighbour" not in page
    assert "Referred by" in page
    assert "s 53(b)" in page


def test_marked_information_is_held_back_without_saying_what(log: MemorySharingStore) -> None:
    record = CopyIntakeForm("P-5", "Mere", safety_notes="Danger-value-xyz")
    copy = _copy(record, _access(review=True))
    assert copy.held_back
    for page in (copy.html(), copy.text(), copy.markdown()):
        assert "Danger-value-xyz" not in page
        assert "Safety notes" not in page
        assert "held back" in page
    [logged] = log.disclosures("P-5")
    assert "safety_notes" not in logged.fields


def test_an_empty_marked_field_is_left_out_and_nothing_is_said_held(
    log: MemorySharingStore,
) -> None:
    copy = _copy(CopyIntakeForm("P-6", "Mere"), _access(review=True))
    assert not copy.held_back
    assert "Safety notes" not in copy.text()


def test_a_review_made_under_the_copys_reference_releases_what_it_covers(
    log: MemorySharingStore,
) -> None:
    record = CopyIntakeForm("P-7", "Mere", safety_notes="Checked-and-fine")
    access = _access(review=True)
    access.register("intake", lambda subject: [record])
    reviewer = Actor("staff-9", "privacy-officer", SENSITIVE)
    sheet = access.review(AccessRequest("INTAKE-1", "P-7", date(2026, 12, 3)), reviewer=reviewer)
    copy = _copy(record, access, review=sheet.decide())
    assert not copy.held_back
    assert "Checked-and-fine" in copy.text()
    withheld = sheet.decide(
        withhold=[Withhold(CopyIntakeForm, ANOTHER_PERSONS_AFFAIRS, field="safety_notes")]
    )
    page = _copy(record, access, review=withheld).text()
    assert "Checked-and-fine" not in page
    assert "s 53(b)" in page
    # a review under another reference, or of what has changed since, covers nothing
    other = access.review(AccessRequest("INTAKE-2", "P-7", date(2026, 12, 3)), reviewer=reviewer)
    with pytest.raises(ReviewPending) as raised:
        _copy(record, access, review=other.decide())
    assert "Checked" not in str(raised.value)
    assert "P-7" not in str(raised.value)
    assert log.disclosures("P-7")[-1:]
    assert len(log.disclosures("P-7")) == 2


def test_records_are_read_from_the_registered_sources(log: MemorySharingStore) -> None:
    access = _access()
    access.register("intake", lambda subject: [CopyIntakeForm(subject, "From-source")])
    with purposeful.use("service-delivery", actor=CASEWORKER):
        copy = copy_for_person(access, "P-8", reference="INTAKE-8")
    assert "From-source" in copy.text()


def test_a_record_about_someone_else_stops_the_copy_and_logs_nothing(
    log: MemorySharingStore,
) -> None:
    other = CopyIntakeForm("P-10", "Other-person")
    with (
        pytest.raises(SubjectAccessError, match="someone other") as raised,
        purposeful.use("service-delivery", actor=CASEWORKER),
    ):
        copy_for_person(_access(), "P-9", reference="R-9", records=[other])
    assert "P-10" not in str(raised.value)
    assert "Other-person" not in str(raised.value)
    assert log.disclosures("P-9") == []
    assert log.disclosures("P-10") == []


def test_no_scope_no_log_and_bad_arguments_are_typed_errors(log: MemorySharingStore) -> None:
    record = CopyIntakeForm("P-11", "Mere")
    with pytest.raises(ConfigurationError, match="purpose scope"):
        copy_for_person(_access(), "P-11", reference="R-1", records=[record])
    with pytest.raises(ConfigurationError, match="reference"):
        _copy_with(record, reference="has spaces")
    with pytest.raises(SubjectAccessError, match="not a purposeful record"):
        _copy_with(record, records=[object()])
    purposeful.configure(disclosure_log=None)
    with pytest.raises(ConfigurationError, match="disclosure log"):
        _copy_with(record)
    with pytest.raises(ConfigurationError, match="language tag"):
        Passage("Kia ora", lang="not a tag")


def _copy_with(record: CopyIntakeForm, **kwargs: object) -> PersonCopy:
    arguments: dict[str, object] = {"reference": "R-1", "records": [record], **kwargs}
    with purposeful.use("service-delivery", actor=CASEWORKER):
        return copy_for_person(_access(), "P-11", **arguments)  # type: ignore[arg-type]


class _Page(html.parser.HTMLParser):
    """The page's structure: headings in order, landmarks, langs, table header scopes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_page_is_accessible_and_prints_well(log: MemorySharingStore) -> None:
    record = CopyIntakeForm("P-12", "Mere")
    greeting = Passage("Nau mai, haere mai.", lang="mi")
    copy = _copy(record, passages=[greeting])
    page = copy.html(large_print=True)
    parsed = _Page()
    parsed.feed(page)
    tags = [tag for tag, _ in parsed.tags]
    assert ("html", {"lang": "en-NZ"}) in parsed.tags
    assert tags.count("main") == 1
    assert "title" in tags
    assert "header" in tags
    levels = [int(tag[1]) for tag in tags if tag in {"h1", "h2", "h3", "h4"}]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
    assert '<span lang="mi">Nau mai, haere mai.</span>' in page
    assert "@media print" in page
    assert "font-size:18pt" in page
    assert "font-size:18pt" not in copy.html()


def test_write_is_atomic_and_refuses_to_replace(log: MemorySharingStore, tmp_path: Path) -> None:
    copy = _copy(CopyIntakeForm("P-13", "Mere"))
    path = copy.write(tmp_path / "copy.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(SubjectAccessError, match="exists"):
        copy.write(path)
    copy.write(path, format="text", overwrite=True)
    assert path.read_text(encoding="utf-8").startswith("Kia ora")
    with pytest.raises(ConfigurationError, match="format"):
        copy.write(tmp_path / "x", format="pdf")
    with pytest.raises(SubjectAccessError, match="folder"):
        copy.write(tmp_path / "missing" / "x.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.html"]


def test_no_file_is_written_over_the_audit_trail_even_with_overwrite(
    log: MemorySharingStore, tmp_path: Path
) -> None:
    """Every file the library writes whole (`_shared.files.atomic_file`) refuses the files a
    configured audit sink writes: a copy written with ``overwrite=True`` at the ledger's path
    (or a link to it, or its checkpoints) would have replaced the audit trail."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from purposeful.audit import Ledger

    copy = _copy(CopyIntakeForm("P-14", "Mere"))
    ledger = Ledger(tmp_path / "audit.jsonl", signing_key=Ed25519PrivateKey.generate())
    link = tmp_path / "copy.html"
    link.symlink_to(ledger.path)
    kept = ledger.path.read_bytes(), ledger.checkpoints_path.read_bytes()
    purposeful.configure(sinks=[ledger], disclosure_log=log)
    try:
        for target in (ledger.path, ledger.checkpoints_path, link):
            with pytest.raises(ConfigurationError, match="would replace the audit trail"):
                copy.write(target, overwrite=True)
        assert (ledger.path.read_bytes(), ledger.checkpoints_path.read_bytes()) == kept
    finally:
        purposeful.configure(sinks=[])
        ledger.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [ledger.path.name, ledger.checkpoints_path.name, "copy.html"]
    )  # no temporary file left
    copy.write(link, overwrite=True)  # with no sink writing there, the link is replaced
    assert not link.is_symlink()


def test_repr_shows_no_value(log: MemorySharingStore) -> None:
    copy = _copy(CopyIntakeForm("P-14", "Visible-name-value"))
    assert "Visible-name-value" not in repr(copy)
    assert "P-14" not in repr(copy)


_ANY_TEXT = (
    st.lists(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)))
        | st.sampled_from(
            ["<script>alert(1)</script>", "&amp;", "\u202e", "مرحبا", "🦜", '"', "</p>"]
        ),
        min_size=1,
        max_size=4,
    )
    .map("".join)
    .filter(str.strip)
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_ANY_TEXT, phone=_ANY_TEXT, notes=_ANY_TEXT)
def test_any_text_in_any_field_is_escaped_and_held_back_text_never_appears(
    name: str, phone: str, notes: str
) -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    marker = "HELD-" + notes
    record = CopyIntakeForm("P-15", name, phone, safety_notes=marker)
    copy = _copy(record, _access(review=True), passages=[Passage(phone, lang="mi")])
    page = copy.html()
    parsed = _Page()
    parsed.feed(page)
    allowed = {
        "html", "head", "meta", "title", "style", "body", "header", "main", "section",
        "footer", "h1", "h2", "h3", "p", "span", "dl", "dt", "dd", "ul", "li",
    }  # fmt: skip
    assert {tag for tag, _ in parsed.tags} <= allowed
    text = "".join(parsed.text)
    assert marker not in page
    assert marker not in text
    assert marker not in copy.text()
    assert marker not in copy.markdown()


def test_the_command_writes_a_copy_and_errors_are_one_line(
    log: MemorySharingStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    access = _access()
    access.register("intake", lambda subject: [CopyIntakeForm(subject, "Cli-name")])
    monkeypatch.setattr("purposeful.cli.copy._load_app", lambda spec: access)
    monkeypatch.setenv("COPY_SUBJECT", "P-16")
    out = tmp_path / "copy.html"
    common = ["copy", "write", "app:access", "--reference", "INTAKE-16", "--subject-env"]
    actor = ["--purpose", "service-delivery", "--actor", "staff-3", "--role", "caseworker"]
    status = cli.main(
        [*common, "COPY_SUBJECT", *actor, "--clearance", "SENSITIVE", "--out", str(out)]
    )
    said = capsys.readouterr()
    assert status == 0
    assert "Cli-name" in out.read_text(encoding="utf-8")
    assert "P-16" not in said.out + said.err
    assert "Cli-name" not in said.out
    assert "1 disclosure" in said.out
    status = cli.main(
        [*common, "COPY_SUBJECT", *actor, "--clearance", "SENSITIVE", "--out", str(out)]
    )
    said = capsys.readouterr()
    assert status == 2
    assert len(said.err.strip().splitlines()) == 1
    assert "exists" in said.err


def test_holding_a_value_attrs_evolve_keeps_it_hidden(log: MemorySharingStore) -> None:
    copy = _copy(CopyIntakeForm("P-17", "Hidden-value"))
    item = attrs.evolve(copy.items[0])
    assert "Hidden-value" not in repr(item)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    purpose=st.sampled_from(
        ["service-delivery", "service-delivery.case-management", "research", "funder-reporting"]
    ),
    clearance=st.sampled_from([IN_CONFIDENCE, SENSITIVE]),
)
def test_every_field_on_the_page_or_said_not_shown_was_decided_in_the_scope(
    purpose: str, clearance: purposeful.Level
) -> None:
    recording = RecordingSink()
    purposeful.configure(disclosure_log=MemorySharingStore(), sinks=[recording])
    actor = Actor("staff-4", "caseworker", clearance)
    record = CopyIntakeForm("P-18", "Name-value", "Phone-value", "Needs-value", None, "Notes-value")
    with purposeful.use(purpose, actor=actor):
        copy = copy_for_person(_access(), "P-18", reference="R-18", records=[record])
    purposeful.audit.flush()
    outcomes = {d.field: d.outcome.value for d in recording.decisions}
    page = copy.text()
    for item in copy.items:
        if item.field not in record_policy(CopyIntakeForm).fields:
            continue
        if item.shown:
            assert outcomes[item.field] == "allowed"
            assert item.value in page
        elif item.status is ItemStatus.WITHHELD:  # a declared ground: never read at all
            assert item.ground is not None
            assert item.field not in outcomes
            assert item.ground.cite() in page
        else:
            assert item.status is ItemStatus.NOT_READABLE
            assert outcomes[item.field] == "withheld"
            assert item.label in page
    for value in ("Name-value", "Phone-value", "Needs-value", "Notes-value"):
        shown = any(item.value == value for item in copy.items)
        assert (value in page) == shown


@purposeful.record(subject="person_id", key="plan_id")
class SafetyPlanEntry:
    """A record every part of which waits for a safety review."""

    person_id: str
    plan_id: str
    steps: str = purposeful.field(
        purposes={"service-delivery": DELIVERY, "access.safety-review": REVIEW}
    )


def test_a_whole_record_marked_for_review_is_not_read_or_named(
    log: MemorySharingStore, sink: RecordingSink
) -> None:
    access = SubjectAccess(agency=AGENCY, safety_review=[NeedsReview(SafetyPlanEntry)])
    plan = SafetyPlanEntry("P-19", "SP-1", "Whole-plan-value")
    with purposeful.use("service-delivery", actor=CASEWORKER):
        copy = copy_for_person(
            access, "P-19", reference="R-19", records=[CopyIntakeForm("P-19", "Mere"), plan]
        )
    assert [record.record_type for record in copy.records] == ["CopyIntakeForm"]
    assert copy.held_back
    page = copy.html()
    assert "Whole-plan-value" not in page
    assert "Safety plan" not in page
    assert "Steps" not in page
    assert [d.record_type for d in log.disclosures("P-19")] == ["CopyIntakeForm"]
    purposeful.audit.flush()
    assert all(d.record_type != "SafetyPlanEntry" for d in sink.decisions)


def test_the_command_refuses_a_missing_subject_and_writes_markdown(
    log: MemorySharingStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    access = _access()
    access.register("intake", lambda subject: [CopyIntakeForm(subject, "Md-name")])
    monkeypatch.setattr("purposeful.cli.copy._load_app", lambda spec: access)
    base = ["copy", "write", "app:access", "--reference", "R-20", "--purpose", "service-delivery"]
    actor = ["--actor", "staff-3", "--role", "caseworker", "--clearance", "SENSITIVE"]
    out = tmp_path / "copy.md"
    assert cli.main([*base, *actor, "--out", str(out)]) == 2
    assert "--subject-env" in capsys.readouterr().err
    monkeypatch.delenv("COPY_NOBODY", raising=False)
    assert cli.main([*base, *actor, "--subject-env", "COPY_NOBODY", "--out", str(out)]) == 2
    assert "not set" in capsys.readouterr().err
    wrong = ["--actor", "staff-3", "--role", "caseworker", "--clearance", "TOP-SECRETISH"]
    assert cli.main([*base, *wrong, "--subject", "P-20", "--out", str(out)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not out.exists()
    see = ["--see", "caseworker=SENSITIVE", "--see", "receptionist=IN-CONFIDENCE"]
    status = cli.main(
        [*base, *actor, *see, "--subject", "P-20", "--out", str(out), "--format", "markdown"]
    )
    assert status == 0
    written = out.read_text(encoding="utf-8")
    assert written.startswith("Kia ora")
    assert "caseworker; receptionist" in written


def test_an_item_filled_from_a_referral_says_where_it_came_from(log: MemorySharingStore) -> None:
    from purposeful.sharing import Provenance
    from purposeful.sharing.values import new_id

    record = CopyIntakeForm("P-7", "Mere Tipene", "021 555 0107")
    log.record_provenance(
        Provenance(
            id=new_id(),
            subject="P-7",
            record_type="CopyIntakeForm",
            record_key=record_policy(CopyIntakeForm).key_of(record),
            fields=("phone",),
            source="Te Whare Āwhina",
            agreement="housing-referrals",
            agreement_name="Housing referrals",
            purpose="service-delivery",
            received_at=datetime(2026, 3, 4, 21, 0, tzinfo=UTC),
            referred_on=date(2026, 3, 3),
        )
    )
    items = {item.field: item for item in _copy(record).items}
    assert items["phone"].source == "from Te Whare Āwhina's referral of 3 March 2026"
    assert items["name"].source is None  # not from the referral
    page = html.unescape(_copy(record).html())
    assert "Where this came from" in page
    assert "from Te Whare Āwhina's referral of 3 March 2026" in page
    # a referral about another record of the person says nothing of this one
    other = CopyIntakeForm("P-8", "Hone Tipene", "021 555 0108")
    assert all(item.source is None for item in _copy(other).items)


def test_the_person_given_a_copy_is_no_party_to_tell_of_their_correction(
    log: MemorySharingStore,
) -> None:
    from purposeful.corrections import MemoryCorrectionStore

    record = CopyIntakeForm("P-9", "Mere Tipene", "021 555 0109")
    copy = _copy(record)
    assert copy.disclosures  # the copy was logged as a disclosure to her
    corrections = MemoryCorrectionStore()
    asked = corrections.request_correction("P-9", record, "phone", "021 555 0110", "new number")
    applied = corrections.apply(asked.id, lambda _: None, by="staff-02")
    # IPP 7: the parties the old number went to are told; she asked for it herself
    assert log.parties_to_tell(applied) == []
    assert [d.recipient for d in log.recipients_of("P-9", "CopyIntakeForm", "P-9", "phone")]


def test_a_store_that_fails_to_say_where_things_came_from_stops_the_copy(
    log: MemorySharingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(subject: str, *args: object) -> list[object]:
        raise OSError("the database went away")

    monkeypatch.setattr(log, "provenance", broken)
    with pytest.raises(SubjectAccessError, match="make the copy again"):
        _copy(CopyIntakeForm("P-10", "Mere Tipene"))
    assert list(log.for_subject("P-10")) == []  # nothing logged
    monkeypatch.setattr(log, "provenance", lambda subject, *args: ["not a Provenance"])
    with pytest.raises(SubjectAccessError, match="belongs; nothing was written"):
        _copy(CopyIntakeForm("P-10", "Mere Tipene"))
    assert list(log.for_subject("P-10")) == []
