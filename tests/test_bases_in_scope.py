"""Bases at read time: a statute only the agencies and roles it names may rely on, and the
belief on reasonable grounds (a statute's, the serious-threat exception's) recorded by the
scope's ``justification=``, which reaches the report and the span, never a value."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import purposeful
from _records import RecordingSink
from purposeful import (
    FAMILY_VIOLENCE_ACT_S20,
    ORANGA_TAMARIKI_ACT_S66C,
    SENSITIVE,
    SERIOUS_THREAT,
    Actor,
    ConfigurationError,
    Mode,
    Outcome,
    PurposeViolation,
    Reason,
    Statute,
    use,
)
from purposeful.audit import SpanSink
from purposeful.audit.conventions import SpanAttribute

CARE = "care-and-protection"
CHILD_WELFARE = "child-welfare-and-protection"
FAMILY_VIOLENCE = "family-violence"


@purposeful.record(subject="client_id")
class SafetyConcern:
    """One field per basis that needs care: s 66C, s 20, the serious-threat exception, and
    a statute with no conditions."""

    client_id: str
    child_concern: str = purposeful.field(
        purposes={CARE: ORANGA_TAMARIKI_ACT_S66C}, sensitivity=SENSITIVE
    )
    risk_assessment: str = purposeful.field(
        purposes={CARE: FAMILY_VIOLENCE_ACT_S20}, sensitivity=SENSITIVE
    )
    threat_note: str = purposeful.field(purposes={CARE: SERIOUS_THREAT}, sensitivity=SENSITIVE)
    court_order: str = purposeful.field(purposes={CARE: Statute("Care of Children Act 2004", "4")})


VALUES = {
    "child_concern": "concern text",
    "risk_assessment": "risk text",
    "threat_note": "threat text",
    "court_order": "order text",
}
CONCERN = SafetyConcern("C-2001", **VALUES)
FIELD_OF = {
    ORANGA_TAMARIKI_ACT_S66C: "child_concern",
    FAMILY_VIOLENCE_ACT_S20: "risk_assessment",
}
CASEWORKER = Actor("staff-0042", "caseworker", SENSITIVE)
INDEPENDENT_PERSON = Actor("ext-0001", "independent-person", SENSITIVE)
PRACTITIONER = Actor("staff-0050", "social-services-practitioner", SENSITIVE)


def read(field: str, actor: Actor, justification: str | None = "REF-123") -> Any:
    with use(CARE, actor=actor, justification=justification) as scope:
        value = getattr(CONCERN, field)
    (decision,) = scope.decisions
    assert decision.outcome is Outcome.ALLOWED
    return value


def refused(field: str, actor: Actor, justification: str | None = "REF-123") -> PurposeViolation:
    with (
        pytest.raises(PurposeViolation) as info,
        use(CARE, actor=actor, justification=justification),
    ):
        getattr(CONCERN, field)
    return info.value


# who may rely on a statute -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("statute", "kinds", "actor"),
    [
        (ORANGA_TAMARIKI_ACT_S66C, [CHILD_WELFARE], CASEWORKER),
        (ORANGA_TAMARIKI_ACT_S66C, [], INDEPENDENT_PERSON),
        (FAMILY_VIOLENCE_ACT_S20, [FAMILY_VIOLENCE], CASEWORKER),
        (FAMILY_VIOLENCE_ACT_S20, [], PRACTITIONER),
        (FAMILY_VIOLENCE_ACT_S20, [CHILD_WELFARE, FAMILY_VIOLENCE], CASEWORKER),
    ],
    ids=repr,
)
def test_an_entitled_agency_or_role_reads_under_the_statute(
    statute: Statute, kinds: list[str], actor: Actor
) -> None:
    purposeful.configure(agency_kinds=kinds)
    assert read(FIELD_OF[statute], actor) == VALUES[FIELD_OF[statute]]


@pytest.mark.parametrize(
    ("statute", "kinds", "actor"),
    [
        (ORANGA_TAMARIKI_ACT_S66C, [], CASEWORKER),
        (ORANGA_TAMARIKI_ACT_S66C, [FAMILY_VIOLENCE], CASEWORKER),
        (ORANGA_TAMARIKI_ACT_S66C, [], PRACTITIONER),
        (FAMILY_VIOLENCE_ACT_S20, [], CASEWORKER),
        (FAMILY_VIOLENCE_ACT_S20, [CHILD_WELFARE], CASEWORKER),
        (FAMILY_VIOLENCE_ACT_S20, [], INDEPENDENT_PERSON),
    ],
    ids=repr,
)
def test_an_agency_and_role_the_statute_does_not_name_are_refused_and_told_who_may(
    statute: Statute, kinds: list[str], actor: Actor
) -> None:
    purposeful.configure(agency_kinds=kinds)
    violation = refused(FIELD_OF[statute], actor)
    decision = violation.decision
    assert decision.reason_codes == ("not-entitled-to-basis",)
    explained = decision.explain()
    assert statute.describe() in explained
    assert statute.who_may_rely() in explained
    assert f"the {actor.role} role" in explained
    assert "agency_kinds" in str(violation)  # the remedy
    assert "text" not in str(violation)  # no value


def test_the_explanation_names_each_statute_and_who_may_rely_on_it() -> None:
    s66c = refused("child_concern", CASEWORKER).decision.explain()
    assert s66c == (
        "child concern may be used for care and protection on the basis of Oranga Tamariki "
        "Act 1989 s 66C, which only child welfare and protection agencies and independent "
        "persons may rely on; neither this agency nor the caseworker role is one of them."
    )
    s20 = refused("risk_assessment", CASEWORKER).decision.explain()
    assert "Family Violence Act 2018 s 20" in s20
    assert "family violence agencies and social services practitioners" in s20


def test_monitor_mode_lets_a_not_entitled_read_through_as_would_deny() -> None:
    purposeful.configure(mode=Mode.MONITOR)
    with use(CARE, actor=CASEWORKER, justification="REF-1") as scope:
        assert CONCERN.child_concern == "concern text"
    (decision,) = scope.decisions
    assert decision.outcome is Outcome.WOULD_DENY
    assert decision.reasons == (Reason.NOT_ENTITLED_TO_BASIS,)


def test_a_statute_without_conditions_is_read_by_anyone_without_a_justification() -> None:
    assert read("court_order", CASEWORKER, justification=None) == "order text"


def test_the_agency_kinds_in_force_when_the_scope_opens_decide_and_a_change_re_decides() -> None:
    refused("child_concern", CASEWORKER)
    purposeful.configure(agency_kinds=[CHILD_WELFARE])
    assert read("child_concern", CASEWORKER) == "concern text"
    purposeful.configure(agency_kinds=[])
    refused("child_concern", CASEWORKER)
    with purposeful.configured(agency_kinds=[CHILD_WELFARE]):
        assert read("child_concern", CASEWORKER) == "concern text"
    refused("child_concern", CASEWORKER)


def test_a_role_that_differs_only_in_case_or_spelling_is_not_the_role_named() -> None:
    refused("risk_assessment", Actor("staff-0051", "Social services practitioner", SENSITIVE))


# the justification -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "kinds"),
    [
        ("child_concern", [CHILD_WELFARE]),
        ("risk_assessment", [FAMILY_VIOLENCE]),
        ("threat_note", []),
    ],
)
def test_a_basis_that_needs_a_belief_on_reasonable_grounds_is_refused_without_a_justification(
    field: str, kinds: list[str]
) -> None:
    purposeful.configure(agency_kinds=kinds)
    violation = refused(field, CASEWORKER, justification=None)
    assert violation.decision.reason_codes == ("justification-missing",)
    assert "justification=" in str(violation)
    assert "belief on reasonable grounds" in violation.decision.explain()
    read(field, CASEWORKER, justification="FV/2026/0042")


def test_an_agency_not_entitled_and_without_a_justification_is_told_both() -> None:
    violation = refused("child_concern", CASEWORKER, justification=None)
    assert violation.decision.reason_codes == ("not-entitled-to-basis", "justification-missing")


def test_serious_threat_is_explained_as_the_act_words_it() -> None:
    explained = refused("threat_note", CASEWORKER, justification=None).decision.explain()
    assert "necessary to prevent or lessen a serious threat to public health or public " in (
        explained
    )
    assert "IPP 10(1)(f)" in explained


def test_a_decision_made_with_a_justification_is_not_shared_with_a_scope_without_one() -> None:
    for _ in range(2):  # the second round finds both decisions already planned
        assert read("threat_note", CASEWORKER, justification="REF-1") == "threat text"
        refused("threat_note", CASEWORKER, justification=None)
        assert read("threat_note", CASEWORKER, justification="REF-2") == "threat text"


@pytest.mark.parametrize(
    "justification",
    [
        "",
        " ",
        "REF 123",
        "she told me her partner hit her",
        "ABC-1\n",
        "-ABC",
        "ABC-",
        "x" * 65,
        "RÉF-1",
        "REF;1",
    ],
    ids=repr,
)
def test_a_justification_that_is_not_a_short_reference_is_refused_without_quoting_it(
    justification: str,
) -> None:
    with pytest.raises(ConfigurationError, match="a reference to where the justification") as e:
        use(CARE, actor=CASEWORKER, justification=justification)
    if justification.strip():
        assert justification.strip() not in str(e.value)


@pytest.mark.parametrize("justification", [123, b"REF-1", ["REF-1"]], ids=repr)
def test_a_justification_that_is_not_text_is_refused(justification: Any) -> None:
    with pytest.raises(ConfigurationError, match="got " + type(justification).__name__):
        use(CARE, actor=CASEWORKER, justification=justification)


@given(st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._:/#-]{0,62}[A-Za-z0-9])?", fullmatch=True))
def test_any_short_reference_is_taken(justification: str) -> None:
    with use(CARE, actor=CASEWORKER, justification=justification) as scope:
        pass
    assert scope.justification == justification


def test_a_decorated_function_keeps_its_justification() -> None:
    purposeful.configure(agency_kinds=[CHILD_WELFARE])

    @use(CARE, actor=CASEWORKER, justification="REF-9")
    def look() -> str:
        return CONCERN.child_concern

    assert look() == "concern text"


# the audit trail ---------------------------------------------------------------------------


def test_the_justification_reaches_the_report_and_the_span_and_no_value_does() -> None:
    recording = RecordingSink()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    purposeful.configure(sinks=[recording, SpanSink(provider)], agency_kinds=[CHILD_WELFARE])
    read("child_concern", CASEWORKER, justification="OT/2026/17")
    read("court_order", CASEWORKER, justification=None)
    with_reference, without = recording.reports
    assert with_reference.justification == "OT/2026/17"
    assert without.justification is None
    first, second = exporter.get_finished_spans()
    assert first.attributes is not None
    assert second.attributes is not None
    assert first.attributes[SpanAttribute.JUSTIFICATION] == "OT/2026/17"
    assert SpanAttribute.JUSTIFICATION not in second.attributes
    exported = repr([dict(span.attributes or {}) for span in (first, second)])
    assert "concern text" not in exported
    assert "order text" not in exported
    assert "C-2001" not in exported


def test_a_refused_read_for_want_of_a_justification_is_on_the_span_as_its_reason() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    purposeful.configure(sinks=[SpanSink(provider)])
    refused("threat_note", CASEWORKER, justification=None)
    (span,) = exporter.get_finished_spans()
    (event,) = span.events
    assert event.attributes is not None
    assert tuple(event.attributes["purposeful.reason_codes"]) == ("justification-missing",)  # type: ignore[arg-type]
    assert span.attributes is not None
    assert SpanAttribute.JUSTIFICATION not in span.attributes


# configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kinds", ["family-violence", 5, ["Family Violence"], [None], ["family_violence"]], ids=repr
)
def test_agency_kinds_must_be_a_list_of_hyphenated_names(kinds: Any) -> None:
    before = purposeful.get_configuration()
    with pytest.raises(ConfigurationError, match="agency_kinds= takes a list of agency kinds"):
        purposeful.configure(agency_kinds=kinds)
    assert purposeful.get_configuration() is before


def test_agency_kinds_are_kept_as_a_set() -> None:
    config = purposeful.configure(agency_kinds=(FAMILY_VIOLENCE, CHILD_WELFARE, FAMILY_VIOLENCE))
    assert config.agency_kinds == frozenset({FAMILY_VIOLENCE, CHILD_WELFARE})
    purposeful.reset_configuration()
    assert purposeful.get_configuration().agency_kinds == frozenset()


def test_the_justification_reaches_the_ledger_line_and_the_line_verifies(tmp_path: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from purposeful.audit import Ledger, verify_ledger

    key = Ed25519PrivateKey.generate()
    path = tmp_path / "audit.ledger"
    with Ledger(path, signing_key=key) as ledger:
        purposeful.configure(sinks=[ledger], agency_kinds=[CHILD_WELFARE])
        read("child_concern", CASEWORKER, justification="OT/2026/18")
        read("court_order", CASEWORKER, justification=None)
    purposeful.configure(sinks=[])
    text = path.read_text(encoding="utf-8")
    assert text.count('"justification":"OT/2026/18"') == 1
    assert text.count('"justification"') == 1  # a scope without one says nothing
    assert "concern text" not in text
    assert "C-2001" not in text
    assert verify_ledger(path, key.public_key()).ok
