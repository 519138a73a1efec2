"""pydantic v2 records: every way a value leaves a model is a read, or refused."""

from __future__ import annotations

import copy
import pickle
import warnings
from typing import Annotated, Any

import pytest

pydantic = pytest.importorskip("pydantic")

from pydantic import BaseModel, ConfigDict, TypeAdapter  # noqa: E402

import purposeful  # noqa: E402
from purposeful import SENSITIVE, Actor, Managed, ServiceAgreement  # noqa: E402
from purposeful.errors import AnnotationError, DictStorageWarning, SubjectChangeRefused  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
WORKER = Actor("staff-6", role="caseworker", clearance=SENSITIVE)
SECRET = "kaitiaki-secret-2718"
SUMMARY = Annotated[str, Managed(purposes={"service-delivery": AGREEMENT})]

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    class ModelVisit(BaseModel):
        client_id: str
        summary: SUMMARY
        region: str = "Wellington"

    @purposeful.record(subject="client_id")
    class FrozenModelVisit(BaseModel):
        model_config = ConfigDict(frozen=True)
        client_id: str
        summary: SUMMARY


class VisitFolder(BaseModel):
    visit: ModelVisit
    visits: list[ModelVisit] = []


class PlainVisitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    client_id: str
    summary: str


def _visit() -> ModelVisit:
    return ModelVisit(client_id="C-1", summary=SECRET)


OPERATIONS: dict[str, Any] = {
    "attribute": lambda v: v.summary,
    "model_dump": lambda v: v.model_dump(),
    "model_dump_json": lambda v: v.model_dump_json(),
    "model_dump_json_mode": lambda v: v.model_dump(mode="json"),
    "dict": dict,
    "iteration": list,
    "eq": lambda v: v == _visit(),
    "model_copy": lambda v: v.model_copy(),
    "model_copy_deep": lambda v: v.model_copy(deep=True),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "pickle": pickle.dumps,
}
#: pydantic's own entry points, which wrap an exception raised inside pydantic-core
WRAPPED: dict[str, Any] = {
    "type_adapter_python": lambda v: TypeAdapter(ModelVisit).dump_python(v),
    "type_adapter_json": lambda v: TypeAdapter(list[ModelVisit]).dump_json([v]),
    "nested_dump": lambda v: VisitFolder(visit=v).model_dump(),
    "nested_json": lambda v: VisitFolder(visit=v, visits=[v]).model_dump_json(),
    "from_attributes": lambda v: PlainVisitOut.model_validate(v, from_attributes=True),
}


def _leaks(output: object) -> bool:
    if isinstance(output, bytes):
        return SECRET.encode() in output
    return SECRET in repr(output) or SECRET in str(output)


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_every_way_out_of_a_model_is_refused_outside_a_scope(operation: str) -> None:
    with pytest.raises(purposeful.NoPurposeScope):
        OPERATIONS[operation](_visit())


@pytest.mark.parametrize("operation", [*OPERATIONS, *WRAPPED], ids=str)
def test_a_refusal_inside_pydantic_surfaces_as_the_refusal_at_the_scope(operation: str) -> None:
    run = {**OPERATIONS, **WRAPPED}[operation]
    with (
        pytest.raises(purposeful.PurposeViolation) as refused,
        purposeful.use("funder-reporting", actor=WORKER),
    ):
        run(_visit())
    assert refused.value.decision.field == "summary"


@pytest.mark.parametrize("operation", WRAPPED, ids=str)
def test_pydantic_entry_points_outside_a_scope_refuse_and_never_leak(operation: str) -> None:
    with pytest.raises(Exception) as refused:  # noqa: PT011
        WRAPPED[operation](_visit())
    assert "NoPurposeScope" in str(refused.value)
    assert not _leaks(refused.value)


@pytest.mark.parametrize("operation", [*OPERATIONS, *WRAPPED], ids=str)
def test_every_way_out_of_a_model_is_a_decided_read_inside_a_scope(operation: str) -> None:
    run = {**OPERATIONS, **WRAPPED}[operation]
    with purposeful.use("service-delivery", actor=WORKER) as scope:
        run(_visit())
    assert [d.field for d in scope.decisions] == ["summary"]


def test_serialised_values_round_trip_inside_a_scope() -> None:
    visit = _visit()
    with purposeful.use("service-delivery", actor=WORKER):
        assert visit.model_dump() == {"client_id": "C-1", "summary": SECRET, "region": "Wellington"}
        assert pickle.loads(pickle.dumps(visit)) == visit
        assert copy.deepcopy(visit) == visit
        assert dict(visit)["summary"] == SECRET
        assert SECRET in VisitFolder(visit=visit).model_dump_json()


def test_excluding_a_managed_field_from_a_dump_reads_nothing() -> None:
    assert _visit().model_dump(exclude={"summary"}) == {"client_id": "C-1", "region": "Wellington"}
    assert _visit().model_dump(include={"region"}) == {"region": "Wellington"}


def test_a_frozen_model_hash_is_a_read() -> None:
    visit = FrozenModelVisit(client_id="C-1", summary=SECRET)
    with pytest.raises(purposeful.NoPurposeScope):
        hash(visit)
    with purposeful.use("service-delivery", actor=WORKER):
        assert visit in {FrozenModelVisit(client_id="C-1", summary=SECRET)}


def test_a_model_repr_and_str_mask_managed_fields_and_the_subject() -> None:
    visit = _visit()
    for text in (repr(visit), str(visit)):
        assert not _leaks(text)
        assert "C-1" not in text
        assert "summary=<managed>" in text


def test_assignment_keeps_pydantic_bookkeeping_and_the_subject_is_fixed() -> None:
    visit = ModelVisit(client_id="C-1", summary=SECRET)
    visit.summary = "updated"
    with purposeful.use("service-delivery", actor=WORKER):
        assert visit.summary == "updated"
    assert visit.model_fields_set == {"client_id", "summary"}
    with pytest.raises(SubjectChangeRefused):
        visit.client_id = "C-2"


def test_validation_errors_never_quote_a_managed_value() -> None:
    with pytest.raises(pydantic.ValidationError) as invalid:
        ModelVisit(client_id="C-1", summary=31415926)  # type: ignore[arg-type]
    assert "31415926" not in str(invalid.value)
    assert invalid.value.errors()[0]["loc"] == ("summary",)


def test_a_model_is_the_dict_tier_and_projects_like_any_record() -> None:
    policy = purposeful.record_policy(ModelVisit)
    assert (policy.kind, policy.slotted) == ("pydantic", False)
    projection = purposeful.project(_visit(), "funder-reporting", actor=WORKER)
    assert set(projection.withheld) == {"summary"}
    assert projection["region"] == "Wellington"


def test_purposeful_field_in_a_model_is_refused_naming_managed() -> None:
    with pytest.raises(AnnotationError, match="Managed"):

        @purposeful.record(subject="client_id")
        class Misdeclared(BaseModel):
            client_id: str
            summary: str = purposeful.field(purposes={"service-delivery": AGREEMENT})


def test_a_root_model_is_refused() -> None:
    with pytest.raises(AnnotationError, match="pydantic"):
        purposeful.record(pydantic.RootModel[str], subject="root")


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_fastapi_response_serialisation_is_a_read() -> None:
    fastapi = pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    app = fastapi.FastAPI()

    @app.get("/visit", response_model=ModelVisit)
    def visit(purpose: str) -> ModelVisit:
        with purposeful.use(purpose, actor=WORKER):
            return _visit()

    @app.get("/scoped")
    def scoped(purpose: str) -> Any:
        with purposeful.use(purpose, actor=WORKER):
            return fastapi.encoders.jsonable_encoder(_visit())

    with TestClient(app, raise_server_exceptions=True) as client:
        with pytest.raises(Exception, match="NoPurposeScope"):
            client.get("/visit", params={"purpose": "service-delivery"})
        assert client.get("/scoped", params={"purpose": "service-delivery"}).json()["summary"] == (
            SECRET
        )
        with pytest.raises(purposeful.PurposeViolation):
            client.get("/scoped", params={"purpose": "funder-reporting"})
