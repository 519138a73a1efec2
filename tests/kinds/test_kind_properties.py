"""Properties every record kind shares: the same decisions, no value out without one, the
same projections, and the test toolkit working on each.

The kinds and their ways out are in `_kinds_registry`; hypothesis generates declarations
(purposes of the default registry on bases they may rest on, sensitivity levels,
categories, consent requirements) and the values. A value is marked with a token naming its
field (``Qx7field_0Qx7…``), and the subject id with its own, so a token found in any output
can only have come from that field's value or from the subject id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from _kinds_registry import (
    LEVELS,
    PLAIN,
    PLAIN_VALUE,
    PURPOSE_IDS,
    RECORD_TYPE,
    SUBJECT,
    Declaration,
    FieldSpec,
    Kind,
    available_kinds,
    build,
    declarations,
    instance,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import purposeful
from _records import FakeConsent, RecordingSink
from purposeful import (
    Actor,
    Decision,
    Mode,
    Outcome,
    PurposeViolation,
    ServiceAgreement,
    project,
    use,
)
from purposeful.audit import PseudonymKey
from purposeful.audit.spans import SpanSink
from purposeful.testing import capture_decisions, expect_violation
from purposeful.testing.strategies import records

KINDS = available_kinds()
MARK = "Qx7"
SUBJECT_TOKEN = f"{MARK}subject{MARK}"
#: two people, so that a consent checker's answer differs per subject
SUBJECTS = ("one", "two")
#: one actor per clearance level of the scale
ACTORS = tuple(Actor(f"staff-{level.rank}", "caseworker", level) for level in LEVELS)
MODES = (Mode.ENFORCE, Mode.MONITOR)
#: the outcomes under which a value is handed out
HANDED_OUT = (Outcome.ALLOWED, Outcome.WOULD_DENY)


def token(name: str) -> str:
    return f"{MARK}{name}{MARK}"


def _marked(prefix: str) -> st.SearchStrategy[str]:
    return st.text(max_size=6).map(lambda s: prefix + s)


def values_for(declaration: Declaration) -> st.SearchStrategy[dict[str, str]]:
    """A marked value for every managed field."""
    return st.fixed_dictionaries({n: _marked(token(n)) for n in declaration.managed})


subjects = _marked(SUBJECT_TOKEN)
grants = st.frozensets(st.tuples(st.sampled_from(SUBJECTS), st.sampled_from(PURPOSE_IDS)))
#: no consent checker at all, or one answering per subject
consents = st.none() | grants


def checker(granted: frozenset[tuple[str, str]] | None) -> FakeConsent | None:
    return None if granted is None else FakeConsent(granted)


def _texts(thing: object) -> list[str]:
    if isinstance(thing, bytes):
        return [thing.decode("utf-8", "replace")]
    return [repr(thing), str(thing)]


def exception_texts(exc: BaseException) -> list[str]:
    """Everything an exception says, its notes and the exceptions chained to it."""
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        texts += list(getattr(current, "__notes__", []))
        current = current.__cause__ or current.__context__
    return texts


def decision_texts(decision: Decision) -> list[str]:
    return [str(decision), repr(decision), decision.explain(), decision.message()]


def tokens_in(texts: list[str]) -> set[str]:
    """The fields (and ``subject``) whose tokens appear in *texts*."""
    found = set()
    for text in texts:
        start = text.find(MARK)
        while start != -1:
            end = text.find(MARK, start + len(MARK))
            if end == -1:
                break
            found.add(text[start + len(MARK) : end])
            start = text.find(MARK, end + len(MARK))
    return found


def span_texts(exporter: InMemorySpanExporter) -> list[str]:
    texts = []
    for span in exporter.get_finished_spans():
        texts += [span.name, repr(dict(span.attributes or {})), str(span.status.description)]
        for event in span.events:
            texts += [event.name, repr(dict(event.attributes or {}))]
    return texts


@contextlib.contextmanager
def scope_or_none(purpose: str | None, actor: Actor) -> Iterator[None]:
    if purpose is None:
        yield
    else:
        with use(purpose, actor=actor):
            yield


# --- 1. the same decisions, whatever the kind ---


def _decided(decision: Decision) -> tuple[Any, ...]:
    basis = decision.basis.kind if decision.basis is not None else None
    return (
        decision,
        decision.outcome,
        decision.reason_codes,
        basis,
        decision.explain(),
        decision.message(),
        decision.remedy(),
    )


def every_decision(kind: Kind, declaration: Declaration, values: dict[str, str]) -> list[Any]:
    """Every purpose, then no scope, by every actor, of every field of each subject's
    record: each decision as a comparable tuple, and each value handed back."""
    cls = build(kind, declaration)
    people = [instance(cls, subject, values) for subject in SUBJECTS]
    seen: list[Any] = []
    for actor in ACTORS:
        for purpose in (*PURPOSE_IDS, None):
            with capture_decisions() as captured, scope_or_none(purpose, actor):
                for person in people:
                    for name in declaration.managed:
                        try:
                            value = getattr(person, name)
                        except PurposeViolation as refusal:
                            seen.append(("refused", _decided(refusal.decision)))
                        else:
                            assert value == values[name]
                            seen.append(("read", name))
            seen.append(tuple(_decided(d) for d in captured.decisions))
    return seen


@pytest.mark.skipif(len(KINDS) < 2, reason="one record kind alone has nothing to agree with")
@settings(max_examples=25)
@given(declaration=declarations(), data=st.data(), mode=st.sampled_from(MODES), granted=consents)
def test_every_kind_decides_every_read_identically(
    declaration: Declaration,
    data: st.DataObject,
    mode: Mode,
    granted: frozenset[tuple[str, str]] | None,
) -> None:
    """Every purpose of the default registry (and no scope) against every field, by actors
    of every clearance, with and without a consent checker answering per subject: the
    decision (outcome, reasons, basis, explanation) is the same value for every kind."""
    values = data.draw(values_for(declaration))
    by_kind = {}
    for kind in KINDS:
        with purposeful.configured(mode=mode, consent=checker(granted), sinks=[]):
            by_kind[kind.name] = every_decision(kind, declaration, values)
    first, *others = KINDS
    for kind in others:
        assert by_kind[kind.name] == by_kind[first.name], f"{kind.name} decides otherwise"
    reads = len(SUBJECTS) * len(declaration.managed)
    assert len(by_kind[first.name]) == len(ACTORS) * (len(PURPOSE_IDS) + 1) * (reads + 1)


# --- 2. no value leaves without a decision ---

PROVIDER = TracerProvider(shutdown_on_exit=False)
EXPORTER = InMemorySpanExporter()
PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))
PSEUDONYMS = PseudonymKey.generate()

#: ways that show a record without reading it: never a value or the subject id
SHOWING: dict[str, Callable[[Any], object]] = {
    "repr": repr,
    "str": str,
    "format": lambda r: f"{r}",
    "format !r": lambda r: f"{r!r}",
    "format spec": lambda r: format(r, ""),
}


def _documented_wrapper(exc: BaseException) -> bool:
    """The error pydantic-core wraps a refusal in outside a scope: it names the refusal."""
    return type(exc).__module__.startswith("pydantic") and any(
        name in str(exc) for name in ("NoPurposeScope", "PurposeViolation")
    )


def check_way_out(
    kind: Kind,
    way: str,
    run: Callable[[Any], Any],
    record: Any,
    managed: tuple[str, ...],
    purpose: str | None,
    actor: Actor,
) -> list[str]:
    """Take a value out of *record* one way, in a scope of *purpose* (None: outside any);
    assert it either was refused or every managed field it handed out was decided. Returns
    the texts of what it raised, for the leak check."""
    outcome: Any = None
    raised: BaseException | None = None
    with capture_decisions() as captured:
        try:
            with scope_or_none(purpose, actor):
                outcome = run(record)
        except Exception as exc:
            raised = exc
    where = f"{kind.name}: {way} under {purpose or 'no scope'}"
    if raised is not None:
        refusal = isinstance(raised, PurposeViolation)
        wrapped = purpose is None and way in kind.wrapped and _documented_wrapper(raised)
        assert refusal or wrapped, f"{where} raised {type(raised).__name__}, not a refusal"
        return exception_texts(raised)
    handed = {d.field for d in captured.decisions if d.outcome in HANDED_OUT}
    assert handed >= set(managed), f"{where} handed out {set(managed) - handed} undecided"
    leaked = tokens_in(_texts(outcome)) - {"subject"}
    assert leaked <= handed, f"{where} handed out {leaked - handed} undecided"
    return []


@settings(max_examples=30)
@given(
    declaration=declarations(),
    data=st.data(),
    subject=subjects,
    mode=st.sampled_from(MODES),
    purpose=st.sampled_from(PURPOSE_IDS),
    actor=st.sampled_from(ACTORS),
    granted=consents,
)
def test_no_value_leaves_a_record_of_any_kind_without_a_decision(
    declaration: Declaration,
    data: st.DataObject,
    subject: str,
    mode: Mode,
    purpose: str,
    actor: Actor,
    granted: frozenset[tuple[str, str]] | None,
) -> None:
    """Outside any scope and in a scope of a drawn purpose, every way out of every kind
    (attribute reads, ==, hash, pickling, copies, the kind's serialisers) is refused or
    decides every managed field it hands out; what is shown, raised, reported and put on a
    span holds no value and no subject id."""
    values = data.draw(values_for(declaration))
    sink = RecordingSink()
    EXPORTER.clear()
    texts: list[str] = []
    configuration = {
        "mode": mode,
        "consent": checker(granted),
        "sinks": [sink, SpanSink(tracer_provider=PROVIDER)],
        "pseudonymise": PSEUDONYMS.pseudonym,
    }
    with purposeful.configured(**configuration):
        for kind in KINDS:
            cls = build(kind, declaration)
            record = instance(cls, subject, values)
            twin = instance(cls, subject, values)
            # each way out, with the managed fields it hands out
            ways = {f"attribute {n}": (_attribute(n), (n,)) for n in declaration.managed}
            for way, run in kind.all_ways_out(twin).items():
                ways[way] = (run, declaration.managed)
            for way, (run, managed) in ways.items():
                for where in (None, purpose):
                    texts += check_way_out(kind, way, run, record, managed, where, actor)
            for show in SHOWING.values():
                for where in (None, purpose):
                    with scope_or_none(where, actor):
                        texts += _texts(show(record))
            for way, run in kind.not_reads(twin).items():
                for where in (None, purpose):
                    texts += check_not_a_read(kind, way, run, record, where, actor)
        purposeful.audit.flush()
    for report in sink.reports:
        texts += [repr(report), str(report)]
        for decision in report.decisions:
            texts += decision_texts(decision)
    texts += span_texts(EXPORTER)
    assert sink.reports
    assert not tokens_in(texts), f"{tokens_in(texts)} leaked"
    assert subject not in "".join(texts)


def check_not_a_read(
    kind: Kind,
    way: str,
    run: Callable[[Any], Any],
    record: Any,
    purpose: str | None,
    actor: Actor,
) -> list[str]:
    """An operation the kind documents as no read (an ORM's identity ``==``): it raises
    nothing and decides nothing, in a scope of *purpose* or outside any. Returns the texts
    of what it gave, for the leak check."""
    with capture_decisions() as captured, scope_or_none(purpose, actor):
        outcome = run(record)
    where = f"{kind.name}: {way} under {purpose or 'no scope'}"
    assert not captured.decisions, f"{where} decided {[d.field for d in captured.decisions]}"
    return _texts(outcome)


def _attribute(name: str) -> Callable[[Any], Any]:
    return lambda record: getattr(record, name)


# --- 3. the same projection, whatever the kind ---


@settings(max_examples=20)
@given(declaration=declarations(), data=st.data(), granted=consents)
def test_every_kind_projects_the_same_fields_and_withholds_for_the_same_reasons(
    declaration: Declaration, data: st.DataObject, granted: frozenset[tuple[str, str]] | None
) -> None:
    values = data.draw(values_for(declaration))
    by_kind = {}
    for kind in KINDS:
        cls = build(kind, declaration)
        people = [instance(cls, subject, values) for subject in SUBJECTS]
        seen = []
        with purposeful.configured(consent=checker(granted), sinks=[]):
            for actor in ACTORS:
                for purpose in PURPOSE_IDS:
                    for person in people:
                        projection = project(person, purpose, actor=actor)
                        withheld = {n: _decided(d) for n, d in projection.withheld.items()}
                        names = set(declaration.names) | set(kind.extra)
                        assert set(projection) | set(withheld) == names
                        assert projection[PLAIN] == PLAIN_VALUE
                        # a kind's own plain fields (a Django model's id) are projected too
                        shown = {n: v for n, v in projection.items() if n not in kind.extra}
                        assert set(shown) | set(kind.extra) == set(projection)
                        seen.append((shown, withheld))
        by_kind[kind.name] = seen
    first, *others = KINDS
    for kind in others:
        assert by_kind[kind.name] == by_kind[first.name], f"{kind.name} projects otherwise"


# --- 4. the test toolkit, on every kind ---

AGREEMENT = ServiceAgreement("Toolkit agreement")
TOOLKIT_DECLARATION = Declaration(
    (
        FieldSpec("field_0", (("service-delivery", AGREEMENT),), LEVELS[1], "contact", False),
        FieldSpec("field_1", (("research", purposeful.CONSENT),), LEVELS[2], "health", True),
    )
)
CLEARED = Actor("staff-9", "caseworker", LEVELS[-1])


TOOLKIT_CLASSES = {kind.name: build(kind, TOOLKIT_DECLARATION) for kind in KINDS}


@pytest.fixture(params=KINDS, ids=lambda k: k.name)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def toolkit_class(kind: Kind) -> type:
    return TOOLKIT_CLASSES[kind.name]


def test_every_kind_is_the_record_kind_and_tier_it_says(kind: Kind, toolkit_class: type) -> None:
    policy = purposeful.record_policy(toolkit_class)
    assert (policy.kind, policy.slotted) == (kind.policy_kind, kind.slotted)
    assert (policy.name, policy.subject) == (RECORD_TYPE, SUBJECT)
    assert set(policy.fields) == {"field_0", "field_1"}


@pytest.mark.parametrize("kind_name", sorted(TOOLKIT_CLASSES))
@settings(max_examples=10)
@given(data=st.data())
def test_the_records_strategy_builds_every_kind(kind_name: str, data: st.DataObject) -> None:
    toolkit_class = TOOLKIT_CLASSES[kind_name]
    record = data.draw(records(toolkit_class))
    assert isinstance(record, toolkit_class)
    assert purposeful.record_policy(toolkit_class).subject_of(record).strip()
    with use("service-delivery", actor=CLEARED) as scope:
        assert isinstance(record.field_0, str)
    assert [d.field for d in scope.decisions] == ["field_0"]


def test_capture_and_expect_violation_work_on_every_kind(toolkit_class: type) -> None:
    record = instance(toolkit_class, "C-1", {"field_0": "x", "field_1": "y"})
    with capture_decisions() as captured, use("service-delivery", actor=CLEARED):
        assert record.field_0 == "x"
        with expect_violation(
            field="field_1", record_type=RECORD_TYPE, reason="purpose-not-declared"
        ) as expected:
            record.field_1  # noqa: B018 - the read is the test
    assert expected.decision is not None
    assert expected.decision.record_type == RECORD_TYPE
    captured.assert_no_violations()
    assert [d.field for d in captured.decisions] == ["field_0", "field_1"]


def test_an_unexpected_violation_fails_naming_the_field_not_the_value(toolkit_class: type) -> None:
    record = instance(toolkit_class, "C-1", {"field_0": "x", "field_1": "kaitiaki-secret"})
    with (
        capture_decisions() as captured,
        purposeful.configured(mode=Mode.MONITOR),
        use("research", actor=CLEARED),
    ):
        record.field_1  # noqa: B018 - no consent checker: a would-deny
    with pytest.raises(AssertionError, match="field_1") as failed:
        captured.assert_no_violations()
    assert "kaitiaki-secret" not in str(failed.value)
    assert "C-1" not in str(failed.value)


def test_the_audit_fixture_sees_every_kinds_reads(
    toolkit_class: type, purposeful_audit: Any
) -> None:
    record = instance(toolkit_class, "C-1", {"field_0": "x", "field_1": "y"})
    purposeful.configure(consent=FakeConsent({("C-1", "research")}))
    with use("research", actor=CLEARED):
        assert record.field_1 == "y"
    with use("service-delivery", actor=CLEARED):
        assert record.field_0 == "x"
    decided: Mapping[str, Outcome] = {d.field: d.outcome for d in purposeful_audit.decisions}
    assert decided == {"field_1": Outcome.ALLOWED, "field_0": Outcome.ALLOWED}
    purposeful_audit.assert_no_violations()
