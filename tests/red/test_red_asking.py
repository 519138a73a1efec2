"""Red team (issue 28, asking before acting): attacks on `may_use`, `may_share`,
`who_may_see` and the notice's "who may see what" table, through the public API only.

Each finding is a test that failed before its fix; the attacks that held are kept too, so
that they keep holding.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "asking"))

from _asking import (
    CASE_MANAGEMENT,
    CASEWORKER,
    FIELDS,
    REFERRAL,
    ROLES,
    AskVisit,
    YesFor,
    visit,
    visits,
)

import purposeful
from _records import RecordingSink
from purposeful import (
    AUTHORISED_BY_PERSON,
    DIRECTLY_RELATED_PURPOSE,
    FAMILY_VIOLENCE_ACT_S20,
    IN_CONFIDENCE,
    NON_IDENTIFYING,
    ORANGA_TAMARIKI_ACT_S66C,
    RESTRICTED,
    SENSITIVE,
    SERIOUS_THREAT,
    DisclosureRefused,
    Mode,
)
from purposeful.asking import Verdict, who_may_see
from purposeful.errors import AgreementError, AnnotationError, ConfigurationError
from purposeful.notices import AgencyDetails, build_notice
from purposeful.sharing import MemorySharingStore, SharingAgreement
from purposeful.testing.strategies import actors

KINDS = ["child-welfare-and-protection", "family-violence"]
AT = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
#: The generated agreements are dated around today: disclose discloses now.
TODAY = date.today()
PURPOSES = (
    REFERRAL,
    CASE_MANAGEMENT,
    "service-delivery",
    "care-and-protection",
    "research",
    "funder-reporting",
)
BASES = (
    DIRECTLY_RELATED_PURPOSE,
    AUTHORISED_BY_PERSON,
    NON_IDENTIFYING,
    ORANGA_TAMARIKI_ACT_S66C,
    FAMILY_VIOLENCE_ACT_S20,
    SERIOUS_THREAT,
)


@st.composite
def red_agreements(draw: st.DrawFn) -> SharingAgreement:
    """In force on the day, for any fields of AskVisit and any basis."""
    purposes = draw(st.lists(st.sampled_from(PURPOSES), min_size=1, max_size=2, unique=True))
    declared = purposeful.record_policy(AskVisit).fields
    choices = [
        name
        for name, policy in declared.items()
        if any(
            d == p or d.startswith(p + ".") or p.startswith(d + ".")
            for d in policy.purposes
            for p in purposes
        )
    ]
    fields = draw(st.lists(st.sampled_from(choices), max_size=4, unique=True)) if choices else []
    try:
        return SharingAgreement(
            id="red-ask-agreement",
            name="Red asked-about agreement",
            parties=["Us", "Te Whare Āwhina"],
            purposes=purposes,
            basis=draw(st.sampled_from(BASES)),
            starts=TODAY - timedelta(days=30),
            expires=TODAY + timedelta(days=300),
            review=TODAY,
            fields=[f"AskVisit.{f}" for f in fields],
            categories=draw(st.lists(st.sampled_from(["contact", "health"]), max_size=1)),
        )
    except AgreementError:
        assume(False)
        raise


def _shared(record: AskVisit, field: str, **disclosure: object) -> bool:
    try:
        return field in purposeful.disclose(record, **disclosure)  # type: ignore[arg-type]
    except DisclosureRefused:
        return False


@st.composite
def red_questions(draw: st.DrawFn) -> tuple[SharingAgreement, str, str | None, str | None]:
    """An agreement, a field (mostly one it names), the purpose asked (mostly none: the
    default) and the purpose of an open scope of the actor's (mostly one it allows)."""
    agreement = draw(red_agreements())
    named = [name.rpartition(".")[2] for name in agreement.fields]
    field = draw(st.sampled_from([*named * 4, *FIELDS]))
    purpose = draw(st.sampled_from([None, None, *agreement.purposes, *PURPOSES]))
    scope = draw(st.sampled_from([None, *agreement.purposes * 2, *PURPOSES]))
    return agreement, field, purpose, scope


@settings(max_examples=200)
@given(
    question=red_questions(),
    actor=actors(
        roles=st.sampled_from(ROLES),
        clearance=st.sampled_from([IN_CONFIDENCE, SENSITIVE, RESTRICTED, RESTRICTED]),
    ),
    kinds=st.sampled_from([[], KINDS[:1], KINDS[1:], KINDS]),
    mode=st.sampled_from(Mode),
    scope_justification=st.sampled_from([None, "SCOPE-REF-1"]),
    record=visits(),
)
def test_red_a_condition_may_share_names_is_one_disclose_then_meets(
    question: tuple[SharingAgreement, str, str | None, str | None],
    actor: purposeful.Actor,
    kinds: list[str],
    mode: Mode,
    scope_justification: str | None,
    record: AskVisit,
) -> None:
    """Asked with no justification and no consent, in any mode, inside the actor's own open
    scope (purpose and justification defaulted from it as `disclose` defaults them) or
    outside one: a yes is shared; each condition named, once met (a justification given,
    the person's consent in force), is shared; a no is never shared, whatever is given."""
    agreement, field, purpose, scope_purpose = question
    subject = purposeful.record_policy(AskVisit).subject_of(record)
    if scope_purpose is None and purpose is None and len(agreement.purposes) > 1:
        purpose = agreement.purposes[0]
    log = MemorySharingStore()
    nobody, everybody = YesFor([]), YesFor([subject])
    asked: dict[str, object] = {"agreement": agreement, "party": "Te Whare Āwhina"}
    told: dict[str, object] = {"to": "Te Whare Āwhina", "under": agreement}
    if purpose is not None:
        asked["purpose"] = told["purpose"] = purpose

    def outcomes() -> tuple[Verdict, bool, bool, bool]:
        with purposeful.configured(disclosure_log=log, agency_kinds=kinds, mode=mode):
            answer = purposeful.may_share(AskVisit, field, **asked)  # type: ignore[arg-type]
            with purposeful.configured(consent=nobody):
                bare = _shared(record, field, **told)
            with purposeful.configured(consent=everybody):
                consented = _shared(record, field, **told)
                justified = _shared(record, field, **told, justification="REF-9")
        return answer.verdict, bare, consented, justified

    if scope_purpose is None:
        asked["actor"] = told["actor"] = actor
        verdict, bare, consented, justified = outcomes()
    else:
        with purposeful.use(scope_purpose, actor=actor, justification=scope_justification):
            verdict, bare, consented, justified = outcomes()
    event(f"verdict: {verdict.value}")
    log.close()
    assert verdict is not Verdict.WOULD_DENY
    if verdict is Verdict.YES:
        assert bare
        assert consented
        assert justified
    elif verdict is Verdict.WITH_CONSENT:
        assert (bare, consented) == (False, True)
    elif verdict is Verdict.WITH_JUSTIFICATION:
        assert not bare
        assert justified
    else:
        assert not bare
        assert not consented
        assert not justified


# --- a record type asked about by name, after its module was reloaded ---------------------

_RELOADED = """
import purposeful
from purposeful import {level}, ServiceAgreement


@purposeful.record(subject="client_id")
class RedAskReloaded:
    client_id: str
    note: str = purposeful.field(
        purposes={{"service-delivery": ServiceAgreement("Service")}}, sensitivity={level}
    ){more}
"""
_MORE = """
    address: str = purposeful.field(purposes={"service-delivery": ServiceAgreement("Service")})
"""


@pytest.fixture
def reloaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[type, type]]:
    """RedAskReloaded as first declared (note IN-CONFIDENCE), and as its module declares it
    after an edit and `importlib.reload` (note RESTRICTED, and an address): a notebook cell
    run again, a development server reloading. The first class is still alive."""
    module = tmp_path / "red_ask_reloaded.py"
    module.write_text(_RELOADED.format(level="IN_CONFIDENCE", more=""), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    imported = importlib.import_module("red_ask_reloaded")
    first = imported.RedAskReloaded
    module.write_text(_RELOADED.format(level="RESTRICTED", more=_MORE), encoding="utf-8")
    importlib.invalidate_caches()
    now = importlib.reload(imported).RedAskReloaded
    assert first is not now
    yield first, now
    del sys.modules["red_ask_reloaded"]
    del first, now, imported
    gc.collect()


def test_red_a_reloaded_record_type_is_answered_by_name_as_its_module_declares_it_now(
    reloaded: tuple[type, type],
) -> None:
    """Finding: `may_use("RedAskReloaded", ...)` answered about the first class declared with
    that name, which the module no longer declares: yes, while a read of the record as it is
    declared now is refused (the CLI asks by name too)."""
    _, now = reloaded
    receptionist = purposeful.Actor("staff-3", "receptionist", IN_CONFIDENCE)
    answer = purposeful.may_use("RedAskReloaded", "note", "service-delivery", actor=receptionist)
    with (
        purposeful.use("service-delivery", actor=receptionist),
        pytest.raises(purposeful.PurposeViolation),
    ):
        _ = now(client_id="C-1", note="(note)", address="(address)").note
    assert answer.verdict is Verdict.NO
    assert answer.reasons == ("clearance-too-low",)
    assert purposeful.may_use("RedAskReloaded", "address", "service-delivery", actor=receptionist)


def test_red_the_notice_of_a_reloaded_record_type_tells_who_may_see_its_fields_now(
    reloaded: tuple[type, type],
) -> None:
    """Finding: the notice's table asked `who_may_see` by name, met the first class, and
    raised KeyError for the field the reloaded class added."""
    _, now = reloaded
    notice = build_notice(
        agency=AgencyDetails(name="Te Whare Āwhina", email="privacy@example.nz"),
        records=[now],
        roles={"receptionist": IN_CONFIDENCE},
    )
    table = notice.to_markdown().partition("## Who may see what")[2]
    assert "| Note | Service delivery | No |" in table
    assert "| Address | Service delivery | Yes |" in table


# --- who_may_see's arguments ----------------------------------------------------------------


def test_red_who_may_see_refuses_a_value_that_is_no_record_type_with_a_typed_error() -> None:
    """Finding: `who_may_see(3, ...)` raised TypeError ('int' object is not iterable)."""
    with pytest.raises(AnnotationError, match="record class or its name"):
        who_may_see(3, roles={"caseworker": SENSITIVE})  # type: ignore[arg-type]


def test_red_who_may_see_takes_one_purpose_as_one_purpose() -> None:
    """Finding: `purposes="service-delivery"` was taken letter by letter: "unknown purpose
    's'"."""
    table = who_may_see(AskVisit, roles={"caseworker": SENSITIVE}, purposes="service-delivery")
    assert {answer.purpose.id for answer in table} == {"service-delivery"}
    assert len(table) == len(FIELDS)


# --- a question about a person: the person's id -----------------------------------------


@pytest.mark.parametrize("subject", [["C-1001"], 1001, b"C-1001"])
def test_red_may_share_about_a_person_takes_their_id_as_text(
    subject: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding: `may_share(subject=)` took any value: a list raised TypeError (unhashable);
    a number or bytes reached the consent store, whose failure was logged as an error and
    answered "the consent store could not be asked". `may_use` refuses them."""
    agreement = _referrals()
    checker = YesFor(["C-1001"])
    purposeful.configure(consent=checker)
    with pytest.raises(ConfigurationError, match="person's id as text"):
        purposeful.may_share(
            AskVisit,
            "referral_reason",
            agreement=agreement,
            party="Te Whare Āwhina",
            actor=CASEWORKER,
            at=AT,
            subject=subject,  # type: ignore[arg-type]
        )
    assert checker.asked == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# --- a question about a person: the audit record and the id ------------------------------


def _pseudonym(subject: str) -> str:
    """A keyed-hash stand-in (a real one is PseudonymKey.pseudonym)."""
    return "p-" + hashlib.sha256(b"red key:" + subject.encode()).hexdigest()[:12]


class _FailsNamingThePerson:
    """A consent checker whose failure names the person it was asked about."""

    def consent_in_force(self, subject: str, purpose: purposeful.Purpose, at: datetime) -> bool:
        raise RuntimeError(f"no consent row for {subject}")


def test_red_a_question_about_a_person_whose_consent_store_fails_names_nobody(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Held: the store's failure, which names the person, reaches neither the answer (its
    repr, its dict, its explanation), nor a log line, nor the scope's report."""
    sink = RecordingSink()
    purposeful.configure(consent=_FailsNamingThePerson(), sinks=[sink])
    with caplog.at_level(logging.DEBUG):
        with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
            answer = purposeful.may_use(AskVisit, "health_notes", subject="C-77123")
        shared = purposeful.may_share(
            AskVisit,
            "referral_reason",
            agreement=_referrals(),
            party="Te Whare Āwhina",
            actor=CASEWORKER,
            at=AT,
            subject="C-77123",
        )
    assert answer.verdict is Verdict.NO
    assert shared.verdict is Verdict.NO
    for said in (repr(answer), str(answer.to_dict()), repr(shared), str(shared.to_dict())):
        assert "C-77123" not in said
    assert "C-77123" not in caplog.text
    assert sink.reports
    assert "C-77123" not in repr(sink.reports)


def test_red_a_question_about_a_person_is_found_under_that_persons_pseudonym() -> None:
    """Finding (fixed): docs/asking.md says a question about a named person "is itself a
    use of information about them, and is audited as one". A read was audited with the
    person's pseudonym (`ScopeReport.subjects`, `reads`) and the question was not, so a
    review of who looked at one person's information (or an access request) missed it. The
    report now lists them with no field read."""
    sink = RecordingSink()
    purposeful.configure(consent=YesFor(["C-55001"]), sinks=[sink], pseudonymise=_pseudonym)
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert visit("C-55001").health_notes
    assert _pseudonym("C-55001") in sink.reports[-1].subjects  # a read: found
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        answer = purposeful.may_use(AskVisit, "health_notes", subject="C-55001")
    assert answer.verdict is Verdict.YES
    report = sink.reports[-1]
    assert _pseudonym("C-55001") in report.subjects  # the question: found
    assert report.reads[_pseudonym("C-55001")] == frozenset()  # nothing was read
    assert report.fields_read == frozenset()


def test_red_a_question_in_a_scope_sent_in_parts_lists_the_person_once() -> None:
    """A long scope sends parts: the person asked about is listed in one part, not in
    every part, and with no field read unless a field of theirs is read too."""
    sink = RecordingSink()
    purposeful.configure(
        consent=YesFor(["C-55001", "C-55002", "C-55003"]),
        sinks=[sink],
        pseudonymise=_pseudonym,
        flush_reads=2,
    )
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        purposeful.may_use(AskVisit, "health_notes", subject="C-55001")
        for n in range(6):
            assert visit(f"C-5500{2 + n % 2}").health_notes
        purposeful.may_use(AskVisit, "health_notes", subject="C-55001")
    listed = [r for r in sink.reports if _pseudonym("C-55001") in r.subjects]
    assert len(listed) == 1
    assert listed[0].reads[_pseudonym("C-55001")] == frozenset()
    assert "C-55001" not in repr(sink.reports)


def _referrals() -> SharingAgreement:
    return SharingAgreement(
        id="red-ask-referrals",
        name="Red referrals",
        parties=["Us", "Te Whare Āwhina"],
        purposes=[REFERRAL],
        fields=["AskVisit.name", "AskVisit.referral_reason"],
        basis=DIRECTLY_RELATED_PURPOSE,
        starts=date(2026, 1, 1),
        expires=date(2026, 12, 31),
        review=date(2026, 6, 30),
    )


# --- monitor mode and a condition ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "purpose", "verdict"),
    [
        ("threat", "care-and-protection", Verdict.WITH_JUSTIFICATION),
        ("health_notes", CASE_MANAGEMENT, Verdict.WITH_CONSENT),
    ],
)
def test_red_a_condition_in_monitor_mode_says_what_a_read_without_it_meets(
    field: str, purpose: str, verdict: Verdict
) -> None:
    """Finding: in monitor mode a condition's explanation said a read is "allowed only"
    when the condition is met, while a read without it is let through and recorded as a
    would-deny; the answer's words now say so, as a would-deny's do."""
    purposeful.configure(mode=Mode.MONITOR, consent=YesFor([]))
    answer = purposeful.may_use(AskVisit, field, purpose, actor=CASEWORKER)
    with purposeful.use(purpose, actor=CASEWORKER) as scope:
        assert getattr(visit("C-2001"), field)  # let through, without the condition
    assert answer.verdict is verdict
    assert [d.outcome for d in scope.decisions] == [purposeful.Outcome.WOULD_DENY]
    assert answer.explanation.endswith(
        "In monitor mode a read without it is let through and recorded as a would-deny; "
        "in enforce mode it is refused."
    )


def test_red_who_may_see_every_record_type_tells_a_reloaded_one_as_declared_now(
    reloaded: tuple[type, type],
) -> None:
    """Finding: `who_may_see(roles=...)` over every declared record type met the replaced
    class first (still alive), kept it, and skipped the one its module declares now."""
    receptionist = {"receptionist": IN_CONFIDENCE}
    table = [a for a in who_may_see(roles=receptionist) if a.record_type == "RedAskReloaded"]
    assert [(a.field, a.verdict) for a in table] == [
        ("note", Verdict.NO),
        ("address", Verdict.YES),
    ]
