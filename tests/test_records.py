"""Declaring records: the class shapes that work, the mistakes caught at declaration time,
and the operations that are (and are not) reads of a managed field."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import attrs
import pytest

import purposeful
from _records import (
    CASE_CLASSES,
    CASE_MANAGEMENT,
    CASEWORKER,
    FROZEN_CASE_CLASSES,
    FUNDER_JOB,
    MUTABLE_CASE_CLASSES,
    SERVICE_AGREEMENT,
    AlwaysConsent,
    Case,
    Contact,
    DictCase,
    RecordingSink,
    StackedCase,
    case,
)
from purposeful import (
    CONSENT,
    SENSITIVE,
    ConfigurationError,
    NoPurposeScope,
    Outcome,
    Purpose,
    PurposeRegistry,
    PurposeViolation,
    Reason,
    ServiceAgreement,
    record_policy,
    use,
)
from purposeful.errors import AnnotationError

MANAGED = {"diagnosis", "address", "case_notes"}

PILOT = Purpose(
    id="pilot-programme",
    title="Pilot programme",
    description="Trying a new kind of support with a small group.",
    benefit="New support is tested before everyone gets it.",
)


def raw(record: object, name: str) -> Any:
    """A field's stored value, read the way the library reads it (no decision)."""
    return record_policy(type(record)).fields[name]._raw(record)


# --- class shapes ---


@pytest.mark.parametrize("cls", CASE_CLASSES, ids=lambda c: c.__name__)
def test_every_class_shape_reads_managed_fields_under_a_declared_purpose(cls: type) -> None:
    record = case(cls)
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=AlwaysConsent()):
        assert record.diagnosis == "generalised anxiety"
        assert record.address == "12 Cuba Street"
        assert record.case_notes == "met at home"
        assert record.region == "Wellington"


@pytest.mark.parametrize("cls", CASE_CLASSES, ids=lambda c: c.__name__)
def test_every_class_shape_refuses_managed_fields_under_an_undeclared_purpose(cls: type) -> None:
    record = case(cls)
    with use("funder-reporting", actor=CASEWORKER):
        with pytest.raises(PurposeViolation) as info:
            _ = record.diagnosis
        assert record.address == "12 Cuba Street"
    assert info.value.decision.field == "diagnosis"
    assert info.value.decision.record_type == cls.__qualname__


@pytest.mark.parametrize("cls", CASE_CLASSES, ids=lambda c: c.__name__)
def test_every_class_shape_refuses_managed_fields_outside_a_scope(cls: type) -> None:
    record = case(cls)
    with pytest.raises(NoPurposeScope):
        _ = record.diagnosis


def test_default_record_is_slotted() -> None:
    record = case(Case)
    assert "__slots__" in Case.__dict__
    assert not hasattr(record, "__dict__")


def test_slots_false_record_keeps_values_in_its_instance_dict() -> None:
    record = case(DictCase)
    assert record.__dict__["diagnosis"] == "generalised anxiety"
    assert record.__dict__["region"] == "Wellington"


@pytest.mark.parametrize("cls", FROZEN_CASE_CLASSES, ids=lambda c: c.__name__)
def test_frozen_record_refuses_assignment_to_managed_and_plain_fields(cls: type) -> None:
    record = case(cls)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        record.diagnosis = "changed"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        record.region = "Auckland"
    assert raw(record, "diagnosis") == "generalised anxiety"


def test_stacked_record_keeps_the_attrs_class_it_decorates() -> None:
    assert attrs.has(StackedCase)
    assert [a.name for a in attrs.fields(StackedCase)] == [
        "client_id",
        "diagnosis",
        "address",
        "case_notes",
        "region",
    ]
    assert set(record_policy(StackedCase).fields) == MANAGED


def test_stacked_record_on_existing_dict_class_guards_its_fields() -> None:
    @attrs.define(slots=False)
    class Note:
        client_id: str
        text: str = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT})

    with pytest.warns(purposeful.errors.DictStorageWarning, match="vars"):
        Note = purposeful.record(Note, subject="client_id")
    note = Note("C-1", "called back")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert note.text == "called back"
    with use("funder-reporting", actor=CASEWORKER), pytest.raises(PurposeViolation):
        _ = note.text


@pytest.mark.parametrize("cls", CASE_CLASSES, ids=lambda c: c.__name__)
def test_plain_attrs_fields_stay_unmanaged(cls: type, sink: RecordingSink) -> None:
    record = case(cls)
    assert record.region == "Wellington"
    assert record.client_id == "C-1001"
    with use("funder-reporting", actor=FUNDER_JOB) as scope:
        assert record.region == "Wellington"
    assert scope.decisions == ()
    assert set(record_policy(cls).fields) == MANAGED
    assert [r.decisions for r in sink.reports] == [()]


def test_record_policy_describes_the_resolved_declaration() -> None:
    policy = record_policy(Case)
    assert policy.cls is Case
    assert policy.subject == "client_id"
    diagnosis = policy.fields["diagnosis"]
    assert diagnosis.name == "diagnosis"
    assert diagnosis.sensitivity == SENSITIVE
    assert diagnosis.category is not None
    assert diagnosis.category.id == "health"
    assert set(diagnosis.purposes) == {CASE_MANAGEMENT}
    assert diagnosis.consent_for == frozenset()
    assert policy.fields["case_notes"].consent_for == frozenset()
    assert policy.subject_of(case(Case, client_id="C-77")) == "C-77"


def test_record_policy_of_a_plain_class_is_an_annotation_error() -> None:
    @attrs.define
    class Plain:
        x: int

    with pytest.raises(AnnotationError, match="not a purposeful record"):
        record_policy(Plain)


def test_subclass_of_a_record_keeps_the_guard_on_inherited_fields() -> None:
    @purposeful.record(subject="client_id")
    class Extended(Contact):
        note: str = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, default="")

    item = Extended("C-1", "021 555 0101", "a@example.org", "n")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert item.phone == "021 555 0101"
        assert item.note == "n"
    with use("funder-reporting", actor=CASEWORKER), pytest.raises(PurposeViolation):
        _ = item.phone
    with pytest.raises(NoPurposeScope):
        _ = item.note


# --- declaration-time errors -------------------------------------------------------------


def declare(subject: str = "client_id", **field_args: Any) -> type:
    @purposeful.record(subject=subject)
    class Declared:
        client_id: str
        value: str = purposeful.field(**field_args)

    return Declared


def test_unknown_purpose_is_an_annotation_error_naming_field_and_purpose() -> None:
    with pytest.raises(AnnotationError, match=r"Declared\.value.*'case-work'") as raised:
        declare(purposes={"case-work": SERVICE_AGREEMENT})
    # the usual cause in an application: its registry was configured after the models
    assert "call purposeful.configure(registry=...) before the module" in str(raised.value)


def test_consent_for_an_unknown_purpose_says_the_registry_may_come_too_late() -> None:
    with pytest.raises(AnnotationError, match="consent names") as raised:
        declare(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, consent=["no-such-purpose"])
    assert "call purposeful.configure(registry=...) before the module" in str(raised.value)


def test_unknown_category_is_an_annotation_error() -> None:
    with pytest.raises(AnnotationError, match=r"Declared\.value.*'medical'"):
        declare(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, category="medical")


def test_consent_for_a_purpose_the_field_does_not_allow_is_an_annotation_error() -> None:
    with pytest.raises(AnnotationError, match="requires consent for 'research'"):
        declare(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, consent=["research"])


def test_consent_for_a_descendant_of_a_declared_purpose_is_accepted() -> None:
    declared = declare(purposes={"service-delivery": SERVICE_AGREEMENT}, consent=[CASE_MANAGEMENT])
    assert record_policy(declared).fields["value"].consent_for == frozenset({CASE_MANAGEMENT})


def test_missing_subject_field_is_an_annotation_error_listing_the_fields() -> None:
    with pytest.raises(AnnotationError, match=r"no field 'person_id'.*client_id, value"):
        declare(subject="person_id", purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT})


def test_consent_basis_for_funder_reporting_is_an_annotation_error() -> None:
    with pytest.raises(AnnotationError, match=r"'funder-reporting' may rest on service-agreement"):
        declare(purposes={"funder-reporting": CONSENT})


def test_service_agreement_for_research_is_an_annotation_error() -> None:
    with pytest.raises(AnnotationError, match="not on service-agreement"):
        declare(purposes={"research": SERVICE_AGREEMENT})


def test_any_basis_kind_is_accepted_for_a_purpose_without_listed_bases() -> None:
    declared = declare(purposes={"official-statistics": ServiceAgreement("Stats NZ agreement")})
    assert set(record_policy(declared).fields["value"].purposes) == {"official-statistics"}


def test_a_basis_given_as_a_string_is_an_annotation_error() -> None:
    with pytest.raises(AnnotationError, match="must be a lawful basis"):
        declare(purposes={CASE_MANAGEMENT: "consent"})


def test_a_field_with_no_purposes_is_an_annotation_error() -> None:
    with pytest.raises(AnnotationError, match="declares no purposes"):
        declare(purposes={})


def test_purposes_that_are_not_a_mapping_are_an_annotation_error() -> None:
    with pytest.raises(AnnotationError, match="mapping of purpose to lawful basis"):
        purposeful.field(purposes=[CASE_MANAGEMENT])


def test_sensitivity_that_is_not_a_level_is_an_annotation_error() -> None:
    with pytest.raises(AnnotationError, match="sensitivity must be a Level"):
        declare(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, sensitivity="SENSITIVE")


def test_decorating_a_record_twice_is_an_annotation_error() -> None:
    with pytest.raises(AnnotationError, match="already a purposeful record"):
        purposeful.record(Contact, subject="client_id")


def test_annotation_errors_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError):
        declare(purposes={"case-work": SERVICE_AGREEMENT})
    assert issubclass(AnnotationError, ValueError)


def test_declaration_resolves_purposes_against_an_explicit_registry() -> None:
    registry = PurposeRegistry.default().extend([PILOT])

    @purposeful.record(subject="client_id", registry=registry)
    class PilotNote:
        client_id: str
        text: str = purposeful.field(purposes={"pilot-programme": SERVICE_AGREEMENT})

    assert set(record_policy(PilotNote).fields["text"].purposes) == {"pilot-programme"}
    with pytest.raises(AnnotationError, match="pilot-programme"):
        declare(purposes={"pilot-programme": SERVICE_AGREEMENT})


# --- repr ---


@pytest.mark.parametrize("cls", CASE_CLASSES, ids=lambda c: c.__name__)
def test_repr_shows_plain_fields_and_placeholders_for_managed_ones_and_the_subject(
    cls: type,
) -> None:
    expected = (
        f"{cls.__qualname__}(client_id=<subject>, diagnosis=<managed>, address=<managed>, "
        f"case_notes=<managed>, region='Wellington')"
    )
    record = case(cls)
    assert repr(record) == expected
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=AlwaysConsent()):
        assert record.diagnosis == "generalised anxiety"
        assert repr(record) == expected
    with use("funder-reporting", actor=FUNDER_JOB):
        assert repr(record) == expected
    assert str(record) == expected


def test_repr_is_not_a_read(sink: RecordingSink) -> None:
    record = case()
    repr(record)
    with use("funder-reporting", actor=FUNDER_JOB) as scope:
        repr(record)
    assert scope.decisions == ()
    assert len(sink.reports) == 1


def test_repr_respects_plain_fields_hidden_with_repr_false() -> None:
    @purposeful.record(subject="client_id")
    class Hidden:
        client_id: str = attrs.field(repr=False)
        value: str = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT})

    assert repr(Hidden("C-secret", "v")).endswith(".Hidden(value=<managed>)")


# --- construction and writes are not reads ---


def in_denying_scope(fn: Any) -> tuple[Any, tuple[purposeful.Decision, ...]]:
    """Run *fn* in a scope whose purpose (research) no Case field is declared for."""
    with use("research", actor=FUNDER_JOB) as scope:
        result = fn()
    return result, scope.decisions


def outside_any_scope(fn: Any) -> tuple[Any, tuple[purposeful.Decision, ...]]:
    return fn(), ()


CONTEXTS = pytest.mark.parametrize(
    "run", [outside_any_scope, in_denying_scope], ids=["outside-scope", "denying-scope"]
)
CLASSES = pytest.mark.parametrize("cls", CASE_CLASSES, ids=lambda c: c.__name__)


def test_ordering_is_a_read_because_comparisons_can_recover_a_value() -> None:
    @purposeful.record(subject="client_id")
    @attrs.define(order=True)
    class Ranked:
        client_id: str
        score: int = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT})

    low, high = Ranked("C-1", 1), Ranked("C-1", 2)
    with pytest.raises(NoPurposeScope):
        _ = low < high
    with use("funder-reporting", actor=FUNDER_JOB), pytest.raises(PurposeViolation):
        _ = low < high
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        assert sorted([high, low])[0] is low
    assert [d.field for d in scope.decisions] == ["score"]


def test_hand_written_equality_is_a_read_unlike_the_one_attrs_generates() -> None:
    @purposeful.record(subject="client_id")
    @attrs.define(eq=False)
    class Custom:
        client_id: str
        score: int = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT})

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Custom) and self.score == other.score

        __hash__ = None  # type: ignore[assignment]

    with pytest.raises(NoPurposeScope):
        _ = Custom("C-1", 1) == Custom("C-2", 1)


# --- asdict / astuple are reads ---


@pytest.mark.parametrize("convert", [attrs.asdict, attrs.astuple], ids=["asdict", "astuple"])
def test_asdict_and_astuple_outside_a_scope_are_refused(convert: Any) -> None:
    with pytest.raises(NoPurposeScope):
        convert(Contact("C-1", "021 555 0101", "a@example.org"))


@pytest.mark.parametrize("convert", [attrs.asdict, attrs.astuple], ids=["asdict", "astuple"])
def test_asdict_and_astuple_under_a_wrong_purpose_are_refused(convert: Any) -> None:
    with use("funder-reporting", actor=CASEWORKER), pytest.raises(PurposeViolation) as info:
        convert(Contact("C-1", "021 555 0101", "a@example.org"))
    assert info.value.decision.field == "phone"
    assert info.value.decision.reasons == (Reason.PURPOSE_NOT_DECLARED,)


def test_asdict_under_a_declared_purpose_returns_values_and_records_decisions(
    sink: RecordingSink,
) -> None:
    contact = Contact("C-1", "021 555 0101", "a@example.org")
    with use("service-delivery", actor=CASEWORKER) as scope:
        assert attrs.asdict(contact) == {
            "client_id": "C-1",
            "phone": "021 555 0101",
            "email": "a@example.org",
        }
        assert attrs.astuple(contact) == ("C-1", "021 555 0101", "a@example.org")
    assert [(d.field, d.outcome) for d in scope.decisions] == [
        ("phone", Outcome.ALLOWED),
        ("email", Outcome.ALLOWED),
    ]


# --- writes are not checked ---


@pytest.mark.parametrize("cls", MUTABLE_CASE_CLASSES, ids=lambda c: c.__name__)
def test_assignment_outside_a_scope_is_not_checked(cls: type, sink: RecordingSink) -> None:
    record = case(cls)
    record.diagnosis = "recovered"
    assert raw(record, "diagnosis") == "recovered"
    assert sink.reports == []


@pytest.mark.parametrize("cls", MUTABLE_CASE_CLASSES, ids=lambda c: c.__name__)
def test_assignment_under_a_denying_purpose_is_not_checked(cls: type) -> None:
    record = case(cls)
    with use("research", actor=FUNDER_JOB) as scope:
        record.diagnosis = "recovered"
    assert scope.decisions == ()
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert record.diagnosis == "recovered"


def test_construction_under_a_denying_purpose_is_not_checked() -> None:
    with use("research", actor=FUNDER_JOB) as scope:
        record = case(Case)
    assert scope.decisions == ()
    assert raw(record, "diagnosis") == "generalised anxiety"


@purposeful.record(subject="client_id")
class Validated:
    """A managed field with an attrs validator, which `purposeful.field` passes on."""

    client_id: str
    phone: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT},
        validator=attrs.validators.instance_of(str),
    )


def validated_without_init(client_id: str, phone: str) -> Validated:
    """A `Validated` built without running its ``__init__``."""
    record = Validated.__new__(Validated)
    object.__setattr__(record, "client_id", client_id)
    object.__setattr__(record, "phone", phone)
    return record


@CONTEXTS
def test_construction_that_runs_a_validator_is_not_a_read(run: Any, sink: RecordingSink) -> None:
    record, decisions = run(lambda: Validated("C-1", "021 555 0101"))
    assert decisions == ()
    assert sink.decisions == []
    assert raw(record, "phone") == "021 555 0101"


def test_validator_of_a_managed_field_still_rejects_a_bad_value_without_quoting_it() -> None:
    with pytest.raises(TypeError) as info:
        Validated("C-1", 211)  # type: ignore[arg-type]
    assert isinstance(info.value, purposeful.errors.ManagedValueError)
    assert "211" not in str(info.value)
    assert info.value.__context__ is None
    assert info.value.__cause__ is None


def test_validator_runs_on_assignment_without_a_read_or_a_quoted_value() -> None:
    record = validated_without_init("C-1", "021 555 0101")
    record.phone = "021 555 0100"
    with use("research", actor=FUNDER_JOB) as denying:
        record.phone = "022 555 0102"
        with pytest.raises(TypeError) as info:
            record.phone = 5  # type: ignore[assignment]
    assert "5" not in str(info.value).replace("purposeful", "")
    assert denying.decisions == ()
    assert raw(record, "phone") == "022 555 0102"


# --- configure(registry=...) rechecks declared records ---


def test_registry_lacking_a_declared_purpose_is_refused_and_changes_nothing() -> None:
    before = purposeful.get_configuration()
    smaller = PurposeRegistry([p for p in PurposeRegistry.default() if p.id != "funder-reporting"])
    with pytest.raises(ConfigurationError, match=r"no purpose 'funder-reporting'.*\.address"):
        purposeful.configure(registry=smaller, mode=purposeful.Mode.MONITOR)
    assert purposeful.get_configuration() is before
    assert purposeful.get_configuration().mode is purposeful.Mode.ENFORCE
    assert "funder-reporting" in purposeful.get_configuration().registry


def test_registry_that_extends_the_default_is_accepted() -> None:
    registry = PurposeRegistry.default().extend([PILOT])
    assert purposeful.configure(registry=registry).registry is registry


def declare_pilot_record_and_forget_it() -> weakref.ref[type]:
    @purposeful.record(subject="client_id")
    class Temporary:
        client_id: str
        text: str = purposeful.field(purposes={"pilot-programme": SERVICE_AGREEMENT})

    return weakref.ref(Temporary)


def test_record_class_no_longer_referenced_does_not_block_a_new_registry() -> None:
    purposeful.configure(registry=PurposeRegistry.default().extend([PILOT]))
    declare_pilot_record_and_forget_it()
    gc.collect()
    purposeful.configure(registry=PurposeRegistry.default())
    assert "pilot-programme" not in purposeful.get_configuration().registry


def test_record_class_no_longer_referenced_is_garbage_collected() -> None:
    purposeful.configure(registry=PurposeRegistry.default().extend([PILOT]))
    gone = declare_pilot_record_and_forget_it()
    gc.collect()
    assert gone() is None, "purposeful keeps a record class alive after its last use"


def test_super_field_in_a_subclass_is_decided_under_the_subclass_declaration() -> None:
    @purposeful.record(subject="client_id")
    class Base:
        client_id: str
        notes: str = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT})

    @purposeful.record(subject="client_id")
    class Protected(Base):
        notes: str = purposeful.field(purposes={"funder-reporting": SERVICE_AGREEMENT})

        def summary(self) -> str:
            return super().notes  # type: ignore[misc,no-any-return]

    base, protected = Base("C-1", "base notes"), Protected("C-2", "protected notes")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert base.notes == "base notes"
        for read in (
            lambda: protected.notes,
            protected.summary,
            lambda: Base.notes.__get__(protected),
        ):
            with pytest.raises(PurposeViolation) as info:
                read()
            assert info.value.decision.record_type.endswith("Protected")


@pytest.mark.parametrize("name", ["", "   ", 7])
def test_a_record_type_name_must_be_text(name: Any) -> None:
    with pytest.raises(purposeful.errors.AnnotationError, match="name="):

        @purposeful.record(subject="client_id", name=name)
        class Named:
            client_id: str


def test_two_loaded_modules_cannot_declare_record_types_of_one_name(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import sys

    source = (
        "import purposeful\n"
        "@purposeful.record(subject='client_id'{extra})\n"
        "class Twin:\n"
        "    client_id: str\n"
    )
    (tmp_path / "twin_intake.py").write_text(source.format(extra=""), encoding="utf-8")
    (tmp_path / "twin_billing.py").write_text(source.format(extra=""), encoding="utf-8")
    (tmp_path / "twin_named.py").write_text(
        source.format(extra=", name='BillingTwin'"), encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        intake = importlib.import_module("twin_intake")
        with pytest.raises(purposeful.errors.AnnotationError, match=r"twin_intake\.Twin") as info:
            importlib.import_module("twin_billing")
        assert "name=" in str(info.value)
        named = importlib.import_module("twin_named")
        assert record_policy(named.Twin).name == "BillingTwin"
        assert record_policy(intake.Twin).name == "Twin"
        del sys.modules["twin_intake"]  # a module that is gone no longer holds the name
        importlib.import_module("twin_billing")
    finally:
        for module in ("twin_intake", "twin_billing", "twin_named"):
            sys.modules.pop(module, None)
