"""Hypothesis strategies: `records`, `purposes`, `actors`, and ``st.from_type`` for records."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import ResolutionFailed

import purposeful
from _records import (
    CASE_CLASSES,
    CASE_MANAGEMENT,
    SERVICE_AGREEMENT,
    SUPERVISOR,
    AlwaysConsent,
    Case,
    Referral,
)
from purposeful import (
    NZ_CLASSIFICATION,
    RESTRICTED,
    SENSITIVE,
    Actor,
    ConfigurationError,
    Level,
    Mode,
    NoPurposeScope,
    Purpose,
    PurposeRegistry,
    Scale,
    use,
)
from purposeful.errors import AnnotationError, UnknownPurpose
from purposeful.testing import capture_decisions
from purposeful.testing.strategies import DEFAULT_ROLES, actors, purposes, records

EXAMPLES = settings(max_examples=30, deadline=None, database=None)


def _standard_plan(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if value != "standard":
        raise ValueError("plan must be 'standard'")


# Declared after purposeful.testing.strategies was imported.
@purposeful.record(subject="client_id")
class Intake:
    """String annotations (this module uses ``from __future__ import annotations``), a field
    with a default and a validator no strategy could guess, a private field, a factory and
    a field left out of ``__init__``."""

    client_id: int
    notes: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})
    score: float | None = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})
    visits: list[str] = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT}, factory=list
    )
    plan: str = attrs.field(default="standard", validator=_standard_plan)
    _token: str = "none"
    derived: int = attrs.field(init=False, default=0)


@purposeful.record(subject="client_id")
class StrategyAssessment:
    """``age`` has a validator and no default: a strategy must be given for it."""

    client_id: str
    age: int = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT}, validator=attrs.validators.ge(0)
    )


@attrs.define
class PlainAttrs:
    client_id: str


class PlainClass:
    pass


def draw_all(strategy: st.SearchStrategy[Any], examples: int = 30) -> list[Any]:
    """Every example hypothesis generates from *strategy* in one run."""
    drawn: list[Any] = []

    @settings(max_examples=examples, deadline=None, database=None)
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn


def read_managed(record: object, purpose: str = "service-delivery") -> dict[str, Any]:
    """The managed fields of *record*, read under *purpose* by a supervisor with consent."""
    with use(purpose, actor=SUPERVISOR, consent=AlwaysConsent()):
        return {
            name: getattr(record, name) for name in purposeful.record_policy(type(record)).fields
        }


# --- records -----------------------------------------------------------------------------


@EXAMPLES
@given(records(Intake))
def test_records_builds_instances_with_values_of_the_declared_field_types(
    intake: Intake,
) -> None:
    assert isinstance(intake, Intake)
    assert isinstance(intake.client_id, int)
    assert isinstance(intake._token, str)
    managed = read_managed(intake)
    assert isinstance(managed["notes"], str)
    assert managed["score"] is None or isinstance(managed["score"], float)
    assert isinstance(managed["visits"], list)
    assert all(isinstance(visit, str) for visit in managed["visits"])


@EXAMPLES
@given(records(Intake))
def test_records_keeps_the_default_of_a_field_with_a_validator(intake: Intake) -> None:
    assert intake.plan == "standard"
    assert intake.derived == 0


def test_records_varies_fields_that_have_a_default_but_no_validator() -> None:
    drawn = draw_all(records(Intake))

    assert len({intake._token for intake in drawn}) > 1
    assert len({len(read_managed(intake)["visits"]) for intake in drawn}) > 1


@pytest.mark.parametrize("cls", CASE_CLASSES, ids=lambda cls: cls.__qualname__)
def test_records_builds_every_kind_of_record_class(cls: type) -> None:
    drawn = draw_all(records(cls), examples=10)

    assert drawn
    for record in drawn:
        assert type(record) is cls
        values = read_managed(record, CASE_MANAGEMENT)
        assert set(values) == {"diagnosis", "address", "case_notes"}
        assert all(isinstance(value, str) for value in values.values())


def test_records_resolves_string_annotations_of_a_record_declared_elsewhere() -> None:
    drawn = draw_all(records(Referral), examples=10)

    assert all(isinstance(referral.client_id, int) for referral in drawn)


def test_records_uses_the_strategy_given_for_a_field() -> None:
    drawn = draw_all(records(Case, diagnosis=st.just("fixed"), region=st.sampled_from("ab")))

    assert {read_managed(c, CASE_MANAGEMENT)["diagnosis"] for c in drawn} == {"fixed"}
    assert {c.region for c in drawn} <= {"a", "b"}


def test_records_uses_the_strategy_given_for_a_validated_field_without_default() -> None:
    drawn = draw_all(records(StrategyAssessment, age=st.integers(0, 120)))

    assert drawn
    assert all(0 <= read_managed(a)["age"] <= 120 for a in drawn)


def test_records_takes_the_init_name_of_a_private_field() -> None:
    drawn = draw_all(records(Intake, token=st.just("tok")), examples=5)

    assert {intake._token for intake in drawn} == {"tok"}


def test_records_rejects_strategies_for_unknown_fields_when_called() -> None:
    with pytest.raises(ConfigurationError, match=r"records\(Case\).*unknown fields: bogus, nope"):
        records(Case, nope=st.just("x"), bogus=st.just("y"))


def test_records_rejects_a_strategy_under_the_private_name_of_a_field() -> None:
    with pytest.raises(ConfigurationError, match="_token"):
        records(Intake, _token=st.just("tok"))


@pytest.mark.parametrize("cls", [PlainAttrs, PlainClass, str])
def test_records_rejects_a_class_that_is_not_a_purposeful_record(cls: type) -> None:
    with pytest.raises(AnnotationError, match="is not a purposeful record"):
        records(cls)


def test_building_records_is_not_a_read_and_needs_no_scope() -> None:
    with capture_decisions() as captured:
        drawn = draw_all(records(Case))

    assert drawn
    assert captured.decisions == []


# --- records in a failing hypothesis test ------------------------------------------------


def failing_test_over(strategy: st.SearchStrategy[Any]) -> Callable[[], None]:
    """A hypothesis test that fails on every record for a reason unrelated to purposes."""

    @settings(max_examples=5, deadline=None, database=None)
    @given(strategy)
    def test(record: Any) -> None:
        raise AssertionError(f"the test's own failure, region {record.region!r}")

    return test


def test_a_failing_test_over_records_reports_its_own_failure() -> None:
    # Hypothesis prints the failing example; that must not read the managed fields, which
    # outside a scope would replace the test's own failure by NoPurposeScope.
    test = failing_test_over(records(Case))

    with pytest.raises(AssertionError, match="the test's own failure"):
        test()


def test_a_failing_test_over_records_never_prints_managed_values() -> None:
    test = failing_test_over(records(Case, diagnosis=st.just("value-that-must-not-leak")))
    purposeful.configure(mode=Mode.MONITOR)

    with pytest.raises(AssertionError, match="the test's own failure") as info:
        test()

    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "Case(" in notes  # the failing example is reported
    assert "value-that-must-not-leak" not in notes


# --- purposes ----------------------------------------------------------------------------


def make_purpose(ident: str) -> Purpose:
    return Purpose(ident, ident.title(), "What it is for.", "How it helps.")


def small_registry() -> PurposeRegistry:
    return PurposeRegistry(
        [make_purpose(i) for i in ("outreach", "outreach.visits", "outreach.calls", "audit")]
    )


def test_purposes_draws_every_purpose_of_the_configured_registry_by_default() -> None:
    default = {p.id for p in PurposeRegistry.default()}

    drawn = draw_all(purposes(), examples=100)

    assert all(isinstance(p, Purpose) for p in drawn)
    assert {p.id for p in drawn} == default


def test_purposes_reads_the_configured_registry_when_called() -> None:
    default = PurposeRegistry.default()
    purposeful.configure(registry=PurposeRegistry([*default, make_purpose("outreach")]))

    drawn = draw_all(purposes(), examples=100)

    assert {p.id for p in drawn} == {p.id for p in default} | {"outreach"}


def test_purposes_draws_from_the_registry_it_is_given() -> None:
    drawn = draw_all(purposes(small_registry()), examples=50)

    assert {p.id for p in drawn} == {"outreach", "outreach.visits", "outreach.calls", "audit"}


@pytest.mark.parametrize(
    "within",
    ["service-delivery", PurposeRegistry.default().get("service-delivery")],
    ids=["id", "purpose"],
)
def test_purposes_within_a_purpose_draws_it_and_its_descendants_only(
    within: str | Purpose,
) -> None:
    drawn = draw_all(purposes(PurposeRegistry.default(), within=within), examples=50)

    assert {p.id for p in drawn} == {
        "service-delivery",
        "service-delivery.eligibility-assessment",
        "service-delivery.case-management",
        "service-delivery.referral",
    }


def test_purposes_within_a_leaf_purpose_draws_only_that_purpose() -> None:
    drawn = draw_all(purposes(within="funder-reporting"), examples=10)

    assert {p.id for p in drawn} == {"funder-reporting"}


def test_purposes_within_an_unknown_purpose_is_refused_when_called() -> None:
    with pytest.raises(UnknownPurpose):
        purposes(within="no-such-purpose")


def test_purposes_within_a_purpose_of_another_registry_is_refused() -> None:
    with pytest.raises(UnknownPurpose):
        purposes(small_registry(), within="service-delivery")


# --- actors ------------------------------------------------------------------------------


@EXAMPLES
@given(actors())
def test_actors_have_a_staff_id_a_common_role_and_a_level_of_the_nz_scale(actor: Actor) -> None:
    assert isinstance(actor, Actor)
    assert re.fullmatch(r"staff-[0-9]{1,6}", actor.id)
    assert actor.role in DEFAULT_ROLES
    assert actor.clearance in NZ_CLASSIFICATION


@EXAMPLES
@given(actors())
def test_generated_actors_can_open_a_scope(actor: Actor) -> None:
    with use(CASE_MANAGEMENT, actor=actor) as scope:
        assert scope.actor is actor


def test_actors_draw_clearances_from_across_the_scale() -> None:
    drawn = draw_all(actors(), examples=100)

    assert len({actor.clearance for actor in drawn}) > 1
    assert len({actor.role for actor in drawn}) > 1


@EXAMPLES
@given(actors(roles=st.just("auditor"), clearance=SENSITIVE))
def test_actors_use_the_given_role_strategy_and_fixed_clearance(actor: Actor) -> None:
    assert actor.role == "auditor"
    assert actor.clearance is SENSITIVE


@EXAMPLES
@given(actors(clearance=st.sampled_from([SENSITIVE, RESTRICTED])))
def test_actors_draw_the_clearance_from_the_given_strategy(actor: Actor) -> None:
    assert actor.clearance in (SENSITIVE, RESTRICTED)


def test_actors_draw_clearances_from_the_given_scale() -> None:
    scale = Scale("agency", ["public", "staff-only", "restricted"])

    drawn = draw_all(actors(scale=scale), examples=50)

    assert {actor.clearance for actor in drawn} <= set(scale)
    assert all(isinstance(actor.clearance, Level) for actor in drawn)


# --- st.from_type and inference ----------------------------------------------------------


@EXAMPLES
@given(st.from_type(Intake))
def test_from_type_uses_records_for_a_class_declared_after_the_import(intake: Intake) -> None:
    # Hypothesis's own inference would try values for ``plan`` that its validator rejects.
    assert isinstance(intake, Intake)
    assert intake.plan == "standard"


def summarise(intake: Intake) -> Intake:
    return intake


@EXAMPLES
@given(st.builds(summarise))
def test_builds_infers_a_record_argument_through_the_registered_strategy(
    intake: Intake,
) -> None:
    assert isinstance(intake, Intake)
    assert intake.plan == "standard"


def test_from_type_still_works_for_a_record_class_declared_in_a_function() -> None:
    @purposeful.record(subject="client_id")
    class Local:
        client_id: str
        notes: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})

    drawn = draw_all(st.from_type(Local), examples=10)

    assert drawn
    assert all(isinstance(local, Local) for local in drawn)


def test_from_type_uses_records_for_classes_declared_before_and_after_the_import(
    tmp_path: Path,
) -> None:
    script = textwrap.dedent(
        """
        import attrs
        from hypothesis import given, settings
        from hypothesis import strategies as st

        import purposeful

        AGREEMENT = purposeful.ServiceAgreement("Service delivery agreement")

        def standard(instance, attribute, value):
            if value != "standard":
                raise ValueError("plan must be 'standard'")

        @purposeful.record(subject="client_id")
        class Before:
            client_id: str
            notes: str = purposeful.field(purposes={"service-delivery": AGREEMENT})
            plan: str = attrs.field(default="standard", validator=standard)

        import purposeful.testing.strategies

        @purposeful.record(subject="client_id")
        class After:
            client_id: str
            notes: str = purposeful.field(purposes={"service-delivery": AGREEMENT})
            plan: str = attrs.field(default="standard", validator=standard)

        @settings(max_examples=30, database=None, deadline=None)  # a busy machine
        @given(st.from_type(Before), st.from_type(After))
        def check(before, after):
            assert type(before) is Before and type(after) is After
            assert before.plan == after.plan == "standard"

        check()
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


UNTYPED_RECORDS = """
import attrs
import purposeful

AGREEMENT = purposeful.ServiceAgreement("Service delivery agreement")


@purposeful.record(subject="client_id")
@attrs.define
class Untyped:
    client_id = attrs.field()
    notes = purposeful.field(purposes={"service-delivery": AGREEMENT})
"""


def test_declaring_a_record_hypothesis_cannot_build_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Declared at module level after the import, so the strategies module registers it.
    (tmp_path / "untyped_records.py").write_text(UNTYPED_RECORDS)
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.delitem(sys.modules, "untyped_records", raising=False)

    module = importlib.import_module("untyped_records")

    assert set(purposeful.record_policy(module.Untyped).fields) == {"notes"}
    with pytest.raises(ResolutionFailed, match="Cannot infer a strategy"):
        draw_all(records(module.Untyped), examples=1)


def test_drawing_records_purposes_and_actors_needs_no_scope_in_enforce_mode() -> None:
    # Drawing records, purposes and actors together outside any scope raises nothing.
    drawn = draw_all(st.tuples(records(Case), purposes(), actors()), examples=10)

    assert drawn
    with pytest.raises(NoPurposeScope):
        _ = drawn[0][0].diagnosis
