"""Red team, second pass: care flags, releases, retention and breach response, used only as
docs/people-who-need-more-care.md, docs/retention.md, docs/breach-response.md and
docs/asking.md describe them, with the inputs a careless or hostile caller would give."""

from __future__ import annotations

import logging
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import purposeful
from _records import RecordingSink
from purposeful import CONSENT, DIRECTLY_RELATED_PURPOSE, SENSITIVE, Actor, ServiceAgreement
from purposeful.access import AccessRequest, AgencyDetails, Check, Requester, SubjectAccess
from purposeful.audit import (
    Ledger,
    PseudonymKey,
    generate_keys,
    load_pseudonym_key,
    load_signing_key,
)
from purposeful.care import CareNeed, CareRequirement
from purposeful.cli import main
from purposeful.consent import MemoryConsentStore, Relationship, Representative
from purposeful.errors import ConfigurationError, DisclosureRefused, ReleaseChecksMissing
from purposeful.holds import MemoryHoldStore
from purposeful.retention import dispose_due, due_csv, due_json, due_text, retention_due
from purposeful.sharing import MemorySharingStore, Party, SharingAgreement

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "retention"))
from _retention import REGISTRY, DictSource, RetainedNote, sources_of

AGREEMENT = ServiceAgreement("Service delivery agreement")
CASEWORKER = Actor("staff-17", "caseworker", SENSITIVE)
RESEARCHER = Actor("staff-31", "researcher", SENSITIVE)
NOW = datetime.now(UTC)


@purposeful.record(subject="client_id")
class RedCareRow:
    """A row of a table whose client ids are integers (an ORM's primary key)."""

    client_id: int
    wellbeing: int = purposeful.field(purposes={"service-delivery": AGREEMENT, "research": CONSENT})


@purposeful.record(subject="client_id")
class RedCareReferral:
    client_id: str
    region: str = purposeful.field(
        purposes={
            "service-delivery.referral": DIRECTLY_RELATED_PURPOSE,
            "service-delivery": AGREEMENT,
        }
    )


US, SHELTER = Party("Te Whare Āwhina"), Party("Women's Refuge")
REFUGE = SharingAgreement(
    id="red2-refuge",
    name="Refuge referrals",
    parties=(US, SHELTER),
    purposes=("service-delivery.referral",),
    basis=DIRECTLY_RELATED_PURPOSE,
    starts=date(2026, 1, 1),
    expires=date(2030, 12, 31),
    review=date(2028, 1, 1),
    fields=("RedCareReferral.region",),
)


class EveryoneFlagged:
    def __init__(self, *flags: str) -> None:
        self.flags = set(flags)

    def care_flags(self, subjects: list[str]) -> dict[str, set[str]]:
        return {subject: set(self.flags) for subject in subjects}


class KeyedByInteger:
    """The agency's query hands back its integer ids as they are in the table."""

    def care_flags(self, subjects: list[str]) -> dict[int, set[str]]:
        return {int(subject): {"child-or-young-person"} for subject in subjects}


# -- a flag source keyed by the database's own integer ids --------------------------------


def test_red_flags_keyed_by_integers_do_not_let_a_childs_own_consent_count() -> None:
    """Fixed: a source answering {5: {...}} for the asked "5" was read as "nobody flagged",
    so the child's own consent counted for research (fail open)."""
    consent = MemoryConsentStore()
    consent.give("5", "research", at=NOW - timedelta(hours=1))  # by the child himself
    purposeful.configure(consent=consent, care_flags=KeyedByInteger())
    with (
        pytest.raises(ConfigurationError, match="as text") as refused,
        purposeful.use("research", actor=RESEARCHER),
    ):
        _ = RedCareRow(5, 8).wellbeing
    assert "5" not in str(refused.value).replace("care_flags", "")


def test_red_flags_keyed_by_integers_do_not_let_a_disclosure_go_without_its_review() -> None:
    class Integers:
        def care_flags(self, subjects: list[str]) -> dict[int, set[str]]:
            return {2: {"family-violence-safety"}}

    purposeful.configure(care_flags=Integers(), disclosure_log=MemorySharingStore())
    with pytest.raises(ConfigurationError):
        purposeful.disclose(
            RedCareReferral("2", "Waikato"), to=SHELTER, under=REFUGE, actor=CASEWORKER
        )
    assert purposeful.get_configuration().disclosure_log.disclosures("2") == []  # type: ignore[union-attr]


# -- a second reviewer who is the discloser, typed otherwise ------------------------------


@pytest.mark.parametrize(
    "reviewer",
    [
        "\uff53\uff54\uff41\uff46\uff46-17",  # full-width letters
        "STAFF\uff0d\uff11\uff17",  # full-width hyphen and digits
        "staff-\uff11\uff17",  # full-width digits
        "staff\u201117",  # a non-breaking hyphen
        "staff\u221217",  # a minus sign, as a word processor types a hyphen
        "staff\u201317",  # an en dash
    ],
)
def test_red_discloser_cannot_approve_with_their_id_in_other_forms(reviewer: str) -> None:
    """Fixed: the comparison dropped padding, invisible characters and case, but not
    compatibility forms or other dashes, so the discloser approved their own disclosure."""
    purposeful.configure(
        care_flags=EveryoneFlagged("family-violence-safety"), disclosure_log=MemorySharingStore()
    )
    with pytest.raises(DisclosureRefused) as refused:
        purposeful.disclose(
            RedCareReferral("W-2", "Waikato"),
            to=SHELTER,
            under=REFUGE,
            actor=CASEWORKER,
            second_reviewer=reviewer,
            safety_review="SR-2026-0042",
        )
    assert refused.value.reasons == ("second-reviewer-needed",)


def test_red_a_different_colleague_still_approves() -> None:
    purposeful.configure(
        care_flags=EveryoneFlagged("family-violence-safety"), disclosure_log=MemorySharingStore()
    )
    sent = purposeful.disclose(
        RedCareReferral("W-2", "Waikato"),
        to=SHELTER,
        under=REFUGE,
        actor=CASEWORKER,
        second_reviewer="staff-171",
        safety_review="SR-2026-0042",
    )
    assert dict(sent) == {"region": "Waikato"}


# -- a release approved by whoever releases it --------------------------------------------


@pytest.fixture
def release() -> Iterator[tuple[SubjectAccess, AccessRequest, Path]]:
    purposeful.configure(care_flags=EveryoneFlagged("family-violence-safety"))
    access = SubjectAccess(
        agency=AgencyDetails(name="Te Whare Āwhina", email="privacy@awhina.example.nz"),
        pseudonym_keys=PseudonymKey.generate(),
    )
    access.register("referrals", lambda subject: iter([RedCareReferral(subject, "Waikato")]))
    request = AccessRequest(
        "SAR-2026-0101",
        "W-2",
        date(2026, 11, 2),
        requester=Requester.person(),
        identity=Check(by="staff-7", how="photo-id-sighted"),
        no_threat=Check(by="staff-7", how="asked-in-private"),
        delivery=Check(by="staff-7", how="handed-over-in-person"),
        approved_by="staff-02",
    )
    reviewer = Actor("staff-09", "privacy-officer", SENSITIVE)
    reviewed = attrs.evolve(request, review=access.review(request, reviewer=reviewer).decide())
    with tempfile.TemporaryDirectory() as folder:
        yield access, reviewed, Path(folder)


def test_red_the_releaser_cannot_be_the_second_person(
    release: tuple[SubjectAccess, AccessRequest, Path],
) -> None:
    """Fixed: approved_by was compared with the s 57 checks and the review, not with who
    releases (build(actor=...) or the open scope's actor), so one person released a
    flagged person's information on their own approval."""
    access, request, folder = release
    key = Ed25519PrivateKey.generate()
    with pytest.raises(ReleaseChecksMissing) as refused:
        access.build(
            request,
            folder / "a.zip",
            signing_key=key,
            actor=Actor("staff-02", "privacy-officer", SENSITIVE),
        )
    assert refused.value.missing == ("approved_by",)
    with (
        pytest.raises(ReleaseChecksMissing),
        purposeful.use("access", actor=Actor("STAFF-02 ", "privacy-officer", SENSITIVE)),
    ):
        access.build(request, folder / "b.zip", signing_key=key)
    assert not list(folder.iterdir())
    # someone else releasing it, on staff-02's approval, goes
    info = access.build(
        request,
        folder / "c.zip",
        signing_key=key,
        actor=Actor("staff-05", "privacy-officer", SENSITIVE),
    )
    assert info.records == {"RedCareReferral": 1}


# -- retention: a disposal run dated ahead ------------------------------------------------


def test_red_a_disposal_dated_ahead_disposes_of_nothing_before_its_time(tmp_path: Path) -> None:
    """Fixed: dispose_due(today=...) and `retention dispose --today` took a day after today:
    records were disposed of years before their period ended, and holds whose last day was
    before that day no longer stopped them. A day ahead is refused; nothing is disposed of."""
    source = DictSource()
    source.add(RetainedNote("C-1", "r1", "x"), date(2025, 1, 1))  # kept through 2028-01-01
    source.add(RetainedNote("C-2", "r2", "x"), date(2020, 1, 1))  # due, but held to 2027
    holds = MemoryHoldStore()
    holds.place(reason="Complaint", by="privacy-officer", subject="C-2", until=date(2027, 6, 1))
    keys = generate_keys(tmp_path / "keys")
    with (
        Ledger(tmp_path / "a.jsonl", signing_key=load_signing_key(keys.signing_key)) as ledger,
        pytest.raises(ConfigurationError, match="after today in New Zealand"),
    ):
        dispose_due(
            sources_of(notes=source),
            ledger=ledger,
            by="privacy-officer",
            today=date(2030, 1, 1),
            holds=holds,
            registry=REGISTRY,
            pseudonymise=load_pseudonym_key(keys.pseudonym_key).pseudonym,
        )
    assert source.disposed == []


# -- the commands: an application module that fails as it is imported --------------------


@pytest.fixture
def failing_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"red2_failing_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(
        "import os\nDSN = os.environ['RED2_NOT_SET_C_1']  # the app's settings need it\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_red_retention_due_with_an_app_that_fails_to_import_exits_2(
    failing_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fixed: a KeyError raised by the application's module escaped as a traceback (exit
    1); the message now names the module and the exception's type, never its text (which
    can hold anything, a subject id among it)."""
    assert main(["retention", "due", f"{failing_module}:sources"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "KeyError" in err
    assert "C_1" not in err


def test_red_breach_assess_with_records_that_fail_to_import_exits_2(
    failing_module: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "audit.jsonl"
    with Ledger(ledger, signing_key=Ed25519PrivateKey.generate()):
        pass
    code = main([
        "breach", "assess", "--ledger", str(ledger), "--engine", "stdlib",
        "--from", "2026-11-01", "--to", "2026-11-02", "--actor", "staff-17",
        "--records", failing_module,
    ])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "C_1" not in err


def test_red_a_hold_typed_in_other_case_still_holds(tmp_path: Path) -> None:
    """Fixed: a hold on record type "retainednote" (as a privacy officer types it) matched
    no record, so the RetainedNote records it was placed for were disposed of."""
    source = DictSource()
    source.add(RetainedNote("C-1", "r1", "x"), date(2020, 1, 1))
    holds = MemoryHoldStore()
    holds.place(reason="Complaint", by="privacy-officer", record_type="retainednote")
    keys = generate_keys(tmp_path / "keys")
    with Ledger(tmp_path / "a.jsonl", signing_key=load_signing_key(keys.signing_key)) as ledger:
        summary = dispose_due(
            sources_of(notes=source),
            ledger=ledger,
            by="privacy-officer",
            today=date(2026, 6, 1),
            holds=holds,
            registry=REGISTRY,
            pseudonymise=load_pseudonym_key(keys.pseudonym_key).pseudonym,
        )
    assert source.disposed == []
    assert sum(summary.held.values()) == 1


@pytest.mark.parametrize(
    "content",
    [
        b'{"resourceSpans": []}\n',  # a trace file given as the ledger
        b"client_id,note\nC-1,x\n",
        b"\xff\xfe\x00\x01",
        b'{"created":"2026-12-03T08:31:20Z","format":"purposeful-led',  # torn, never a ledger
    ],
)
def test_red_retention_due_on_a_file_that_is_no_ledger_says_so(
    content: bytes, tmp_path: Path
) -> None:
    """Fixed: `retention due --ledger` on any other file read it as a ledger with nothing
    unfinished, and reported "0 interrupted" with exit 0."""
    from purposeful.audit.ledger import unfinished_disposals
    from purposeful.errors import LedgerCorrupt

    wrong = tmp_path / "traces.jsonl"
    wrong.write_bytes(content)
    with pytest.raises(LedgerCorrupt, match="not a purposeful ledger"):
        unfinished_disposals(wrong)


# -- an agreement that counts only a representative's consent -----------------------------

CHILDREN_REFERRALS = attrs.evolve(
    REFUGE,
    id="red2-youth-referrals",
    care=[CareRequirement(["child-or-young-person"], [CareNeed.REPRESENTATIVE_CONSENT])],
)


class RepresentedDown(MemoryConsentStore):
    """A consent store whose connection drops when asked who consented."""

    def consent_statuses_represented(self, *_: object, **__: object) -> dict[str, object]:
        raise ConnectionError("the consent database went away while asking about W-1")


def test_red_a_failing_consent_store_refuses_the_disclosure_typed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Fixed: the store's ConnectionError escaped disclose() untyped, its message (naming
    the person) with it; and may_share said yes."""
    purposeful.configure(
        care_flags=EveryoneFlagged("child-or-young-person"),
        disclosure_log=MemorySharingStore(),
        consent=RepresentedDown(),
    )
    with caplog.at_level(logging.ERROR, logger="purposeful"):
        with pytest.raises(DisclosureRefused) as refused:
            purposeful.disclose(
                RedCareReferral("W-1", "Waikato"),
                to=SHELTER,
                under=CHILDREN_REFERRALS,
                actor=CASEWORKER,
            )
        answer = purposeful.may_share(
            RedCareReferral,
            "region",
            agreement=CHILDREN_REFERRALS,
            party=SHELTER,
            actor=CASEWORKER,
            subject="W-1",
        )
    assert refused.value.reasons == ("consent-check-failed",)
    assert "W-1" not in str(refused.value) + caplog.text
    assert refused.value.__cause__ is None
    assert not answer.allowed
    assert "consent-check-failed" in answer.reasons
    assert purposeful.get_configuration().disclosure_log.disclosures("W-1") == []  # type: ignore[union-attr]


def test_red_may_share_about_a_child_without_a_representative_agrees_with_disclose() -> None:
    """Fixed: may_share(subject=...) said yes for a child whose representative had not
    consented, under an agreement that counts only a representative's consent; disclose
    refused (representative-consent-needed)."""
    consent = MemoryConsentStore()
    consent.give("W-1", "service-delivery", at=NOW - timedelta(hours=1))  # by the child
    purposeful.configure(
        care_flags=EveryoneFlagged("child-or-young-person"),
        disclosure_log=MemorySharingStore(),
        consent=consent,
    )
    answer = purposeful.may_share(
        RedCareReferral,
        "region",
        agreement=CHILDREN_REFERRALS,
        party=SHELTER,
        actor=CASEWORKER,
        subject="W-1",
    )
    with pytest.raises(DisclosureRefused) as refused:
        purposeful.disclose(
            RedCareReferral("W-1", "Waikato"),
            to=SHELTER,
            under=CHILDREN_REFERRALS,
            actor=CASEWORKER,
        )
    assert refused.value.reasons == ("representative-consent-needed",)
    assert not answer.allowed
    assert answer.reasons == ("representative-consent-needed",)
    assert "child" not in answer.explanation
    # with his mother's consent, both go
    consent.give(
        "W-1",
        "service-delivery",
        at=NOW - timedelta(minutes=30),
        by=Representative(
            Relationship.PARENT,
            evidence="intake-0117",
            verified_by="staff-07",
            verified_at=NOW - timedelta(days=1),
        ),
    )
    assert purposeful.may_share(
        RedCareReferral,
        "region",
        agreement=CHILDREN_REFERRALS,
        party=SHELTER,
        actor=CASEWORKER,
        subject="W-1",
    ).allowed
    purposeful.disclose(
        RedCareReferral("W-1", "Waikato"), to=SHELTER, under=CHILDREN_REFERRALS, actor=CASEWORKER
    )


@pytest.mark.parametrize(
    "reviewer",
    ["Aroha Smith, W-2's aunt, 021 555 0101", "staff-02\nsee W-2's file", "x" * 65],
)
def test_red_a_second_reviewer_is_an_id_never_a_description(
    reviewer: str, sink: RecordingSink
) -> None:
    """Fixed: any text was taken as the second reviewer and written to the disclosure log,
    the span's event and the ledger line (a release's approved_by was already held to a
    reference); a name, a phone number or a subject id went with it."""
    log = MemorySharingStore()
    purposeful.configure(care_flags=EveryoneFlagged("family-violence-safety"), disclosure_log=log)
    with pytest.raises(ConfigurationError) as refused:
        purposeful.disclose(
            RedCareReferral("W-2", "Waikato"),
            to=SHELTER,
            under=REFUGE,
            actor=CASEWORKER,
            second_reviewer=reviewer,
            safety_review="SR-2026-0042",
        )
    assert "W-2" not in str(refused.value)
    assert log.disclosures("W-2") == []
    assert "W-2" not in repr(sink.reports)


class CursorMapping(Mapping[str, list[str]]):
    """The agency's lazy answer: each person's flags fetched when asked for, and the
    connection drops on the way."""

    def __init__(self, subjects: list[str]) -> None:
        self.subjects = subjects

    def __getitem__(self, subject: str) -> list[str]:
        raise ConnectionResetError(f"lost the connection fetching {subject}'s flags")

    def __iter__(self) -> Iterator[str]:
        return iter(self.subjects)

    def __len__(self) -> int:
        return len(self.subjects)


class LazyMappingFlags:
    def care_flags(self, subjects: list[str]) -> Mapping[str, list[str]]:
        return CursorMapping(subjects)


def test_red_a_lazy_mapping_of_flags_that_fails_refuses_typed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Fixed: the source's mapping raising as it was read escaped as ConnectionResetError
    from a read and from disclose (a generator of flags failing was already refused)."""
    consent = MemoryConsentStore()
    consent.give("7", "research", at=NOW - timedelta(hours=1))
    purposeful.configure(
        consent=consent, care_flags=LazyMappingFlags(), disclosure_log=MemorySharingStore()
    )
    with caplog.at_level(logging.ERROR, logger="purposeful"):
        with (
            pytest.raises(purposeful.PurposeViolation) as read,
            purposeful.use("research", actor=RESEARCHER),
        ):
            _ = RedCareRow(7, 8).wellbeing
        with pytest.raises(DisclosureRefused) as disclosed:
            purposeful.disclose(
                RedCareReferral("W-2", "Waikato"), to=SHELTER, under=REFUGE, actor=CASEWORKER
            )
    assert read.value.decision.reason_codes == ("care-flags-unavailable",)
    assert disclosed.value.reasons == ("care-flags-unavailable",)
    assert "W-2" not in caplog.text + str(disclosed.value)


@pytest.mark.parametrize("actor", ["staff-17", 17, {"id": "staff-17"}])
def test_red_an_actor_given_as_text_is_a_typed_error(actor: object) -> None:
    """Fixed: disclose(actor="staff-17") raised AttributeError ('str' object has no
    attribute 'id') from deep inside, its frames holding the record."""
    purposeful.configure(
        care_flags=EveryoneFlagged("family-violence-safety"), disclosure_log=MemorySharingStore()
    )
    with pytest.raises(ConfigurationError, match=r"purposeful\.Actor"):
        purposeful.disclose(
            RedCareReferral("W-2", "Waikato"),
            to=SHELTER,
            under=REFUGE,
            actor=actor,  # type: ignore[arg-type]
            second_reviewer="staff-02",
            safety_review="SR-2026-0042",
        )


# -- a pseudonym function that hands back the id ------------------------------------------

REVEALING = [lambda subject: subject, str, lambda subject: f"p-{subject.upper()}"]


@pytest.mark.parametrize("pseudonymise", REVEALING)
def test_red_due_lists_refuse_a_pseudonym_function_that_returns_the_id(
    pseudonymise: object,
) -> None:
    """Fixed: due_text/due_csv/due_json printed whatever the function returned, so an
    identity function (or str) put every subject id in the list the page says never
    holds one."""
    source = DictSource()
    source.add(RetainedNote("C-1001", "r1", "x"), date(2020, 1, 1))
    report = retention_due(sources_of(notes=source), today=date(2026, 6, 1), registry=REGISTRY)
    for render in (due_text, due_csv, due_json):
        with pytest.raises(ConfigurationError) as refused:
            render(report, pseudonymise=pseudonymise)  # type: ignore[arg-type]
        assert "C-1001" not in str(refused.value)


@pytest.mark.parametrize("pseudonymise", REVEALING)
def test_red_disposal_evidence_refuses_a_pseudonym_function_that_returns_the_id(
    pseudonymise: object, tmp_path: Path
) -> None:
    """Fixed: the ledger's disposal lines named the person by whatever the function
    returned: with an identity function, the raw subject id went into the ledger."""
    source = DictSource()
    source.add(RetainedNote("C-1001", "r1", "x"), date(2020, 1, 1))
    with (
        Ledger(tmp_path / "a.jsonl", signing_key=Ed25519PrivateKey.generate()) as ledger,
        pytest.raises(ConfigurationError),
    ):
        dispose_due(
            sources_of(notes=source),
            ledger=ledger,
            by="privacy-officer",
            today=date(2026, 6, 1),
            registry=REGISTRY,
            pseudonymise=pseudonymise,  # type: ignore[arg-type]
        )
    assert source.disposed == []
    assert "C-1001" not in (tmp_path / "a.jsonl").read_text()


def test_red_retention_due_with_an_app_function_that_fails_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fixed: APP naming a function that raises gave a traceback (exit 1); now one line,
    exit 2, the exception's type and never its text."""
    name = f"red2_failing_call_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(
        "def sources():\n    raise LookupError('no client C-SECRET-91 in the cache')\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert main(["retention", "due", f"{name}:sources"]) == 2
    finally:
        sys.modules.pop(name, None)
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "LookupError" in err
    assert "C-SECRET-91" not in err
