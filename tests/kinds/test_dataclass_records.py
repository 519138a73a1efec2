"""Dataclass records: guarded like attrs records, and still dataclasses."""

from __future__ import annotations

import copy
import dataclasses
import enum
import pickle
import warnings
from typing import NamedTuple, TypedDict

import pytest

import purposeful
from purposeful import SENSITIVE, Actor, Managed, ServiceAgreement
from purposeful.errors import AnnotationError, DictStorageWarning, SubjectChangeRefused

AGREEMENT = ServiceAgreement("Service delivery agreement")
WORKER = Actor("staff-5", role="caseworker", clearance=SENSITIVE)
SECRET = "whakapapa-secret-3141"

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    @dataclasses.dataclass
    class DictVisit:
        client_id: str
        summary: str = purposeful.field(purposes={"service-delivery": AGREEMENT})
        outcome: str = dataclasses.field(
            default="", metadata={"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}
        )
        region: str = "Wellington"

    @purposeful.record(subject="client_id")
    @dataclasses.dataclass(frozen=True)
    class FrozenDictVisit:
        client_id: str
        summary: str = purposeful.field(purposes={"service-delivery": AGREEMENT})
        region: str = "Wellington"


@purposeful.record(subject="client_id")
@dataclasses.dataclass(slots=True)
class SlottedVisit:
    client_id: str
    summary: str = purposeful.field(purposes={"service-delivery": AGREEMENT})
    outcome: str = dataclasses.field(
        default="", metadata={"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}
    )
    region: str = "Wellington"


@purposeful.record(subject="client_id")
@dataclasses.dataclass(slots=True, frozen=True)
class FrozenSlottedVisit:
    client_id: str
    summary: str = purposeful.field(purposes={"service-delivery": AGREEMENT})
    region: str = "Wellington"


KINDS = [DictVisit, FrozenDictVisit, SlottedVisit, FrozenSlottedVisit]


def _contains_secret(output: object) -> bool:
    if isinstance(output, bytes):
        return SECRET.encode() in output
    return SECRET in repr(output)


OPERATIONS = {
    "attribute": lambda v: v.summary,
    "getattr": lambda v: getattr(v, "summary"),  # noqa: B009
    "asdict": dataclasses.asdict,
    "astuple": dataclasses.astuple,
    "replace": lambda v: dataclasses.replace(v, region="Otago"),
    "eq": lambda v: v == type(v)("C-1", SECRET),
    "pickle": pickle.dumps,
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_a_decorated_dataclass_stays_a_dataclass(cls: type) -> None:
    record = cls("C-1", SECRET)
    assert dataclasses.is_dataclass(record)
    assert [f.name for f in dataclasses.fields(record)][:2] == ["client_id", "summary"]
    assert purposeful.record_policy(cls).kind == "dataclass"


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_every_way_out_of_a_dataclass_is_a_read(cls: type, operation: str) -> None:
    record = cls("C-1", SECRET)
    with pytest.raises(purposeful.NoPurposeScope):
        OPERATIONS[operation](record)
    with purposeful.use("service-delivery", actor=WORKER) as scope:
        OPERATIONS[operation](record)
    assert "summary" in {d.field for d in scope.decisions}


@pytest.mark.parametrize("cls", [FrozenDictVisit, FrozenSlottedVisit], ids=lambda c: c.__name__)
def test_hashing_a_frozen_dataclass_is_a_read(cls: type) -> None:
    record = cls("C-1", SECRET)
    with pytest.raises(purposeful.NoPurposeScope):
        hash(record)
    with purposeful.use("service-delivery", actor=WORKER):
        assert record in {cls("C-1", SECRET)}


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_a_dataclass_repr_masks_managed_fields_and_the_subject(cls: type) -> None:
    text = repr(cls("C-1", SECRET))
    assert SECRET not in text
    assert "C-1" not in text
    assert "summary=<managed>" in text
    assert "client_id=<subject>" in text
    assert "region='Wellington'" in text
    assert str(cls("C-1", SECRET)) == text


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_dataclass_operations_inside_a_scope_round_trip(cls: type) -> None:
    record = cls("C-1", SECRET)
    with purposeful.use("service-delivery", actor=WORKER):
        assert pickle.loads(pickle.dumps(record)) == record
        assert copy.deepcopy(record) == record
        assert dataclasses.asdict(record)["summary"] == SECRET
        assert dataclasses.replace(record, region="Otago").summary == SECRET


def test_a_dataclass_subject_cannot_be_rewritten() -> None:
    record = SlottedVisit("C-1", SECRET)
    with pytest.raises(SubjectChangeRefused):
        record.client_id = "C-2"


def test_a_dict_dataclass_warns_of_its_tier_and_a_slotted_one_does_not() -> None:
    assert not purposeful.record_policy(DictVisit).slotted
    assert purposeful.record_policy(SlottedVisit).slotted
    with pytest.warns(DictStorageWarning, match="dataclass.*Declare it slotted"):

        @purposeful.record(subject="client_id")
        @dataclasses.dataclass
        class WarnedVisit:
            client_id: str
            summary: str = purposeful.field(purposes={"service-delivery": AGREEMENT})


def test_a_projection_of_a_dataclass_withholds_what_the_purpose_may_not_read() -> None:
    projection = purposeful.project(SlottedVisit("C-1", SECRET), "funder-reporting", actor=WORKER)
    assert set(projection.withheld) == {"summary", "outcome"}
    assert projection["region"] == "Wellington"
    assert "summary" not in projection


def test_purposeful_field_keeps_dataclass_defaults_and_order() -> None:
    @purposeful.record(subject="client_id")
    @dataclasses.dataclass(slots=True)
    class OrderedVisit:
        client_id: str
        summary: str = purposeful.field(purposes={"service-delivery": AGREEMENT})
        notes: list[str] = purposeful.field(  # noqa: RUF009 - a field specifier
            purposes={"service-delivery": AGREEMENT}, factory=list, repr=False
        )

    with purposeful.use("service-delivery", actor=WORKER):
        record = OrderedVisit("C-1", "x")
        assert record.notes == []
        assert record.notes is not OrderedVisit("C-2", "y").notes
    assert "notes" not in repr(record)
    with pytest.raises(TypeError):
        OrderedVisit("C-1")  # type: ignore[call-arg]  # summary has no default


def test_a_validator_on_a_dataclass_field_is_refused_at_declaration() -> None:
    with pytest.raises(AnnotationError, match="__post_init__"):

        @dataclasses.dataclass
        class Validated:
            client_id: str
            summary: str = purposeful.field(
                purposes={"service-delivery": AGREEMENT}, validator=lambda *_: None
            )


def test_metadata_that_is_not_a_declaration_is_refused() -> None:
    with pytest.raises(AnnotationError, match="Managed"):

        @purposeful.record(subject="client_id")
        @dataclasses.dataclass
        class Misdeclared:
            client_id: str
            summary: str = dataclasses.field(metadata={"purposeful": {"purposes": "x"}})


class _Point(NamedTuple):
    client_id: str


class _Colour(enum.Enum):
    RED = 1


class _Shape(TypedDict):
    client_id: str


@dataclasses.dataclass
class _Base:
    client_id: str


class _Undecorated(_Base):
    pass


@pytest.mark.parametrize(
    ("cls", "what"),
    [
        (_Point, "NamedTuple"),
        (_Colour, "Enum"),
        (_Shape, "TypedDict"),
        (_Undecorated, "not a dataclass itself"),
    ],
)
def test_a_class_no_kind_keeps_is_refused_naming_what_is_supported(cls: type, what: str) -> None:
    with pytest.raises(AnnotationError, match=what) as refused:
        purposeful.record(cls, subject="client_id")
    assert "pydantic v2 BaseModel" in str(refused.value)
    assert "dataclass" in str(refused.value)


def test_an_unsupported_frameworks_model_is_refused() -> None:
    base = type("Model", (), {"__module__": "sqlalchemy.orm.decl_api"})
    model = type("Client", (base,), {"__annotations__": {"client_id": str}})
    with pytest.raises(AnnotationError, match="SQLAlchemy"):
        purposeful.record(model, subject="client_id")


def test_a_plain_annotated_class_still_becomes_an_attrs_class() -> None:
    import attrs

    @purposeful.record(subject="client_id")
    class PlainVisit:
        client_id: str

    assert attrs.has(PlainVisit)
    assert purposeful.record_policy(PlainVisit).kind == "attrs"
