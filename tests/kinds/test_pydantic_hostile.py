"""pydantic records under hostile use: every way pydantic serialises, copies or reports a
record (a plain base's schema, generics, subclasses, ``include={"__all__"}``, the record's
own ``model_serializer``, the v1 API, serialisation warnings, validation errors) either
decides first or is a documented limit whose documented behaviour is asserted here."""

from __future__ import annotations

import json
import warnings
from typing import Annotated, Any, Generic, TypeVar

import pytest

pydantic = pytest.importorskip("pydantic")
pydantic_core = pytest.importorskip("pydantic_core")

from pydantic import (  # noqa: E402
    BaseModel,
    ConfigDict,
    TypeAdapter,
    field_validator,
    model_serializer,
    validate_call,
)

import purposeful  # noqa: E402
from purposeful import SENSITIVE, Actor, Managed, ServiceAgreement  # noqa: E402
from purposeful.errors import AnnotationError, DictStorageWarning  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
WORKER = Actor("staff-22", role="caseworker", clearance=SENSITIVE)
SECRET = "hostile-kaitiaki-secret-5772"
SUBJECT = "C-HOSTILE-4411"
SUMMARY = Annotated[str, Managed(purposes={"service-delivery": AGREEMENT})]
CASE_SUMMARY = Annotated[str, Managed(purposes={"service-delivery.case-management": AGREEMENT})]
COUNT = Annotated[int, Managed(purposes={"service-delivery": AGREEMENT})]


def _leaks(output: object) -> bool:
    if isinstance(output, bytes):
        return SECRET.encode() in output
    return SECRET in repr(output) or SECRET in str(output)


def _quotes(text: str) -> bool:
    return SECRET in text or SUBJECT in text


def _refused_without_leaking(run: Any) -> None:
    """*run* refuses outside a scope (the refusal itself or pydantic's wrapper of it) and
    never hands the value out."""
    with pytest.raises(Exception) as refused:  # noqa: PT011, PT012 - either, checked below
        output = run()
        pytest.fail(f"a managed value left the record with no decision: {output!r}")
    if isinstance(refused.value, purposeful.NoPurposeScope):
        return
    assert "NoPurposeScope" in str(refused.value), f"not a refusal: {refused.value!r}"
    assert not _leaks(refused.value)


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    class HostileVisitBase(BaseModel):
        """An agency's plain model, shared by services; records extend it."""

        client_id: str
        region: str = "Waikato"

    @purposeful.record(subject="client_id")
    class HostileExtendedVisit(HostileVisitBase):
        summary: SUMMARY

    class HostileRevalidatingBase(BaseModel):
        model_config = ConfigDict(revalidate_instances="always")
        client_id: str

    @purposeful.record(subject="client_id")
    class HostileRevalidatedVisit(HostileRevalidatingBase):
        summary: SUMMARY

    T = TypeVar("T")

    @purposeful.record(subject="client_id")
    class HostileEnvelope(BaseModel, Generic[T]):
        client_id: str
        summary: SUMMARY
        payload: T

    @purposeful.record(subject="client_id")
    class HostileVisit(BaseModel):
        client_id: str
        summary: SUMMARY

    class HostileUndecoratedVisitOut(HostileVisit):
        """A response model derived from the record, as FastAPI code often does."""

        channel: str = "web"

    @purposeful.record(subject="client_id")
    class HostileRedactingVisit(BaseModel):
        client_id: str
        summary: SUMMARY

        @model_serializer(mode="wrap")
        def _redact_subject(self, handler: Any) -> Any:
            data = handler(self)
            data.pop("client_id", None)  # this service never emits the raw client id
            return data

    @purposeful.record(subject="client_id")
    class HostilePlainSerialisedVisit(BaseModel):
        client_id: str
        summary: SUMMARY

        @model_serializer(mode="plain", when_used="json")
        def _as_text(self) -> str:
            return f"visit: {self.summary}"

    @purposeful.record(subject="client_id")
    class HostileCheckedVisit(BaseModel):
        client_id: str
        summary: SUMMARY

        @field_validator("summary")
        @classmethod
        def _no_secrets(cls, value: str) -> str:
            if "secret" in value:
                raise ValueError(f"summary {value!r} may not hold a secret")
            return value

    @purposeful.record(subject="client_id")
    class HostileCountVisit(BaseModel):
        client_id: str
        visits: COUNT


class HostileBaseFolder(BaseModel):
    visit: HostileVisitBase


# --- a record extending a plain pydantic model ---------------------------------------------


class HostileNarrowedBase(BaseModel):
    client_id: str
    summary: str


class HostileNarrowedRevalidatingBase(BaseModel):
    model_config = ConfigDict(revalidate_instances="always")
    client_id: str
    summary: str


@pytest.mark.parametrize("base", [HostileNarrowedBase, HostileNarrowedRevalidatingBase])
def test_a_managed_field_a_plain_pydantic_base_declares_is_refused_at_declaration(
    base: type[BaseModel],
) -> None:
    """pydantic serialises (and revalidates) an instance by the declared type's schema: a
    field the plain base declares would leave through the base's serialiser undecided."""
    with pytest.raises(AnnotationError) as refused:

        @purposeful.record(subject="client_id")
        class HostileNarrowingVisit(base):  # type: ignore[valid-type,misc]
            summary: SUMMARY

    message = str(refused.value)
    assert f"its base {base.__qualname__} declares summary as a plain field" in message
    assert "Manage summary in" in message
    assert "or leave summary out of" in message


def test_a_field_a_record_base_manages_may_be_managed_again_by_a_subclass_record() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        # pydantic's own note that the field is declared again over the base's guard
        warnings.filterwarnings("ignore", "Field name .summary. .* shadows", UserWarning)

        @purposeful.record(subject="client_id")
        class HostileNarrowerVisit(HostileVisit):
            summary: Annotated[
                str, Managed(purposes={"service-delivery.case-management": AGREEMENT})
            ]

    visit = HostileNarrowerVisit(client_id=SUBJECT, summary=SECRET)
    _refused_without_leaking(lambda: TypeAdapter(HostileVisit).dump_python(visit))


BASE_TYPED = {
    "field_typed_as_base": lambda v: HostileBaseFolder(visit=v).model_dump(),
    "field_typed_as_base_json": lambda v: HostileBaseFolder(visit=v).model_dump_json(),
    "type_adapter_of_base": lambda v: TypeAdapter(HostileVisitBase).dump_python(v),
    "type_adapter_list_of_base_json": lambda v: TypeAdapter(list[HostileVisitBase]).dump_json([v]),
}


@pytest.mark.parametrize("operation", BASE_TYPED, ids=str)
def test_a_record_serialised_as_its_plain_base_emits_only_the_bases_fields(
    operation: str,
) -> None:
    visit = HostileExtendedVisit(client_id="C-1", summary=SECRET)
    output = BASE_TYPED[operation](visit)
    assert not _leaks(output)
    assert "Waikato" in str(output)


def test_a_record_revalidated_as_its_plain_base_copies_only_the_bases_fields() -> None:
    visit = HostileRevalidatedVisit(client_id="C-1", summary=SECRET)
    copied = HostileRevalidatingBase.model_validate(visit)
    assert type(copied) is HostileRevalidatingBase
    assert not _leaks(vars(copied))


def test_a_record_serialised_as_any_through_its_plain_base_decides() -> None:
    visit = HostileExtendedVisit(client_id="C-1", summary=SECRET)
    _refused_without_leaking(
        lambda: HostileBaseFolder(visit=visit).model_dump(serialize_as_any=True)
    )


# --- generics and undecorated subclasses --------------------------------------------------


@pytest.mark.parametrize("dump", ["model_dump", "model_dump_json"])
def test_a_parametrised_generic_record_dump_is_a_read(dump: str) -> None:
    envelope = HostileEnvelope[int](client_id=SUBJECT, summary=SECRET, payload=1)
    _refused_without_leaking(lambda: getattr(envelope, dump)())
    with purposeful.use("service-delivery", actor=WORKER) as scope:
        assert _leaks(getattr(envelope, dump)())
    assert [d.field for d in scope.decisions] == ["summary"]


def test_a_parametrised_generic_record_nested_dump_is_a_read() -> None:
    envelope = HostileEnvelope[int](client_id=SUBJECT, summary=SECRET, payload=1)
    _refused_without_leaking(lambda: TypeAdapter(list[HostileEnvelope[int]]).dump_json([envelope]))


@pytest.mark.parametrize("dump", ["model_dump", "model_dump_json"])
def test_an_undecorated_pydantic_subclass_of_a_record_dump_is_a_read(dump: str) -> None:
    out = HostileUndecoratedVisitOut(client_id=SUBJECT, summary=SECRET)
    _refused_without_leaking(lambda: getattr(out, dump)())
    _refused_without_leaking(lambda: TypeAdapter(HostileVisit).dump_python(out))
    with purposeful.use("service-delivery", actor=WORKER):
        dumped = getattr(out, dump)()
    assert _leaks(dumped)
    assert "web" in str(dumped)


def test_an_undecorated_pydantic_subclass_of_a_record_masks_its_repr() -> None:
    out = HostileUndecoratedVisitOut(client_id=SUBJECT, summary=SECRET)
    assert not _quotes(repr(out))
    assert "channel='web'" in repr(out)


# --- include="__all__" ---------------------------------------------------------------------

INCLUDE_ALL = {
    "set": lambda v: v.model_dump(include={"__all__"}),
    "dict_true": lambda v: v.model_dump(include={"__all__": True}),
    "dict_ellipsis": lambda v: v.model_dump(include={"__all__": ...}),
    "json": lambda v: v.model_dump_json(include={"__all__"}),
    "nested": lambda v: TypeAdapter(list[HostileVisit]).dump_python(
        [v], include={"__all__": {"__all__"}}
    ),
}


@pytest.mark.parametrize("operation", INCLUDE_ALL, ids=str)
def test_include_all_is_a_read_of_every_managed_field(operation: str) -> None:
    visit = HostileVisit(client_id=SUBJECT, summary=SECRET)
    _refused_without_leaking(lambda: INCLUDE_ALL[operation](visit))


# --- a record applied after a containing schema was built ----------------------------------


def test_a_schema_built_before_the_class_became_a_record_serialises_it_undecided() -> None:
    """The documented limit (docs/pydantic.md, Limits): a schema pydantic built from the
    class before `purposeful.record` (a model with a field of its type, a TypeAdapter)
    keeps the class's old serialiser; a schema built afterwards decides."""

    class HostileLateVisit(BaseModel):
        client_id: str
        summary: SUMMARY

    class HostileEarlyFolder(BaseModel):
        visit: HostileLateVisit

    adapter = TypeAdapter(list[HostileLateVisit])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        purposeful.record(HostileLateVisit, subject="client_id")

    class HostileLateFolder(BaseModel):
        visit: HostileLateVisit

    visit = HostileLateVisit(client_id=SUBJECT, summary=SECRET)
    assert _leaks(HostileEarlyFolder(visit=visit).model_dump())
    assert _leaks(adapter.dump_json([visit]))
    _refused_without_leaking(lambda: HostileLateFolder(visit=visit).model_dump())
    _refused_without_leaking(lambda: TypeAdapter(list[HostileLateVisit]).dump_json([visit]))
    _refused_without_leaking(visit.model_dump)


# --- the record's own model_serializer -----------------------------------------------------


def test_a_records_own_model_serializer_is_kept() -> None:
    visit = HostileRedactingVisit(client_id=SUBJECT, summary=SECRET)
    _refused_without_leaking(visit.model_dump)
    with purposeful.use("service-delivery", actor=WORKER):
        dumped = visit.model_dump()
        nested = TypeAdapter(list[HostileRedactingVisit]).dump_python([visit])
    assert dumped == {"summary": SECRET}
    assert nested == [{"summary": SECRET}]


def test_a_records_own_json_only_plain_serializer_is_kept_and_python_mode_decides() -> None:
    visit = HostilePlainSerialisedVisit(client_id="C-1", summary=SECRET)
    _refused_without_leaking(visit.model_dump)
    _refused_without_leaking(visit.model_dump_json)
    with purposeful.use("service-delivery", actor=WORKER):
        assert visit.model_dump_json() == f'"visit: {SECRET}"'
        assert visit.model_dump() == {"client_id": "C-1", "summary": SECRET}


# --- pydantic's deprecated v1 API ---------------------------------------------------------


def test_deprecated_copy_and_iter_are_reads() -> None:
    visit = HostileVisit(client_id=SUBJECT, summary=SECRET)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        _refused_without_leaking(lambda: list(visit._iter()))
        with pytest.raises(purposeful.NoPurposeScope):
            visit.copy()
        with purposeful.use("service-delivery", actor=WORKER):
            assert visit.copy().summary == SECRET
            assert dict(visit._iter())["summary"] == SECRET


# --- serialisation warnings -----------------------------------------------------------------


def test_serialisation_warnings_do_not_quote_values_or_subject_ids() -> None:
    """Writes are not checked, so a managed field can hold a value of the wrong type; the
    record's dumps replace pydantic's warning (which quotes it) by one naming the field."""
    visit = HostileCountVisit(client_id=SUBJECT, visits=1)
    visit.visits = SECRET  # type: ignore[assignment]
    constructed = HostileCountVisit.model_construct(client_id=44110022, visits=2)
    with (
        purposeful.use("service-delivery", actor=WORKER),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        dumped = visit.model_dump()
        constructed.model_dump_json()
        with pytest.raises(pydantic_core.PydanticSerializationError) as failed:
            visit.model_dump(warnings="error")
    messages = [str(w.message) for w in caught]
    assert dumped == {"client_id": SUBJECT, "visits": SECRET}  # serialised as it is
    assert len(messages) == 2
    assert all(m.startswith("Pydantic serializer warnings: HostileCountVisit") for m in messages)
    assert "unexpected type in visits and" in messages[0]
    assert "unexpected type in client_id and" in messages[1]
    assert not any(SECRET in m or "44110022" in m for m in messages)
    assert SECRET not in str(failed.value)
    assert "in visits" in str(failed.value)


def test_serialisation_warnings_point_at_the_caller_and_can_be_turned_off() -> None:
    visit = HostileCountVisit(client_id="C-1", visits=1)
    visit.visits = SECRET  # type: ignore[assignment]
    with purposeful.use("service-delivery", actor=WORKER):
        with pytest.warns(UserWarning, match="HostileCountVisit held") as caught:
            visit.model_dump_json()
        assert caught[0].filename == __file__
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert visit.model_dump(warnings=False)["visits"] == SECRET


def test_a_refusal_during_a_dump_with_warnings_is_still_the_refusal() -> None:
    visit = HostileCountVisit(client_id="C-1", visits=1)
    with pytest.raises(purposeful.NoPurposeScope):
        visit.model_dump(warnings="error")


# --- validation errors --------------------------------------------------------------------


class HostileErrFolder(BaseModel):
    visit: HostileVisit


class HostileHidingFolder(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)
    visit: HostileVisit


@validate_call
def _take_visit(visit: HostileVisit) -> None:
    return None


@validate_call(config=ConfigDict(hide_input_in_errors=True))
def _take_visit_hiding(visit: HostileVisit) -> None:
    return None


HIDING = ConfigDict(hide_input_in_errors=True)
NESTED = {
    "field_of_plain_model": (
        lambda: HostileErrFolder(visit={"summary": SECRET}),  # type: ignore[arg-type]
        lambda: HostileHidingFolder(visit={"summary": SECRET}),  # type: ignore[arg-type]
    ),
    "plain_model_json": (
        lambda: HostileErrFolder.model_validate_json(json.dumps({"visit": {"summary": SECRET}})),
        lambda: HostileHidingFolder.model_validate_json(json.dumps({"visit": {"summary": SECRET}})),
    ),
    "type_adapter_list": (
        lambda: TypeAdapter(list[HostileVisit]).validate_python([{"summary": SECRET}]),
        lambda: TypeAdapter(list[HostileVisit], config=HIDING).validate_python(
            [{"summary": SECRET}]
        ),
    ),
    "validate_call": (
        lambda: _take_visit({"summary": SECRET}),  # type: ignore[arg-type]
        lambda: _take_visit_hiding({"summary": SECRET}),  # type: ignore[arg-type]
    ),
}


@pytest.mark.parametrize("operation", NESTED, ids=str)
def test_a_record_validated_inside_another_schema_is_quoted_unless_that_schema_hides_input(
    operation: str,
) -> None:
    """The documented limit (docs/pydantic.md, Limits): the schema that validates decides
    whether its errors quote input; a containing model, TypeAdapter or validate_call hides
    the record's input only with hide_input_in_errors=True of its own."""
    quoting, hiding = NESTED[operation]
    with pytest.raises(pydantic.ValidationError) as invalid:
        quoting()
    assert SECRET in str(invalid.value)
    with pytest.raises(pydantic.ValidationError) as hidden:
        hiding()
    assert not _quotes(str(hidden.value))
    assert not _quotes(repr(hidden.value))
    assert "client_id" in str(hidden.value)  # which field failed, and why


def test_a_validation_errors_structured_form_carries_input_unless_asked_not_to() -> None:
    """The documented limit: hide_input_in_errors hides input from the message only;
    errors() and json() list it unless called with include_input=False."""
    with pytest.raises(pydantic.ValidationError) as invalid:
        HostileVisit(summary=SECRET)  # type: ignore[call-arg]
    assert not _quotes(str(invalid.value))
    assert SECRET in repr(invalid.value.errors())
    assert not _quotes(repr(invalid.value.errors(include_input=False)))
    assert not _quotes(invalid.value.json(include_input=False))


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_fastapi_422_echoes_the_clients_input_unless_the_handler_leaves_it_out() -> None:
    """The documented limit and its workaround (docs/pydantic.md, FastAPI): FastAPI's
    default 422 answers the caller's own input; a handler built on
    errors(include_input=False)-style entries answers without it."""
    fastapi = pytest.importorskip("fastapi")
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from fastapi.testclient import TestClient

    def build(handled: bool) -> Any:
        app = fastapi.FastAPI()

        @app.post("/visit")
        def create(visit: HostileVisit) -> dict[str, bool]:
            return {"ok": True}

        if handled:

            @app.exception_handler(RequestValidationError)
            async def invalid(request: Any, exc: RequestValidationError) -> JSONResponse:
                return JSONResponse(
                    {"detail": [{"loc": e["loc"], "type": e["type"]} for e in exc.errors()]},
                    status_code=422,
                )

        return app

    with TestClient(build(handled=False)) as client:
        echoed = client.post("/visit", json={"summary": SECRET})
    with TestClient(build(handled=True)) as client:
        answered = client.post("/visit", json={"summary": SECRET})
    assert echoed.status_code == answered.status_code == 422
    assert SECRET in echoed.text
    assert SECRET not in answered.text
    assert answered.json()["detail"] == [{"loc": ["body", "client_id"], "type": "missing"}]


def test_a_field_validators_own_message_is_shown_as_written() -> None:
    """The documented limit (docs/pydantic.md, Limits): a field_validator's message is
    the validator's; the input is hidden, so a validator that quotes the value shows it."""
    with pytest.raises(pydantic.ValidationError) as bad:
        HostileCheckedVisit(client_id=SUBJECT, summary=SECRET)
    assert f"summary {SECRET!r} may not hold a secret" in str(bad.value)
    assert f"input_value='{SUBJECT}'" not in str(bad.value)


def test_a_pydantic_dataclass_is_refused_at_declaration() -> None:
    with pytest.raises(AnnotationError) as refused:

        @purposeful.record(subject="client_id")
        @pydantic.dataclasses.dataclass
        class HostilePydanticDataclassVisit:
            client_id: str
            visits: int = purposeful.field(purposes={"service-delivery": AGREEMENT})

    message = str(refused.value)
    assert "HostilePydanticDataclassVisit: it is a pydantic dataclass" in message
    assert "Make it a pydantic BaseModel" in message


def _frames_hold(error: BaseException, *texts: str) -> list[str]:
    """The locals of the error's traceback frames (what an error tracker captures) whose
    repr holds one of *texts*."""
    found = []
    tb = error.__traceback__
    while tb is not None:
        for name, value in tb.tb_frame.f_locals.items():
            if any(text in repr(value) for text in texts):
                found.append(f"{tb.tb_frame.f_code.co_name}.{name}")
        tb = tb.tb_next
    return found


def test_a_refused_dict_of_a_model_leaves_no_value_in_its_frames() -> None:
    """Fixed: ``dict(model)`` refused at a managed field left the stored value in the
    ``__iter__`` frame's locals, which an error tracker captures."""
    visit = HostileExtendedVisit(client_id=SUBJECT, summary=SECRET)
    with pytest.raises(purposeful.NoPurposeScope) as refused:
        dict(visit)
    assert _frames_hold(refused.value, SECRET) == []
    with purposeful.use("service-delivery", actor=WORKER):
        assert dict(visit)["summary"] == SECRET
