"""A response that does not match its response model: FastAPI's ``ResponseValidationError``
quotes every input, so a managed value read in the request's scope would reach the server's
log (uvicorn's traceback) and the request's span (the instrumentation's exception event).
`install_problem_handlers` answers it with a 500 problem and a log line that names where
and why, never what."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from _webkit import CASE_MANAGEMENT, CASEWORKER
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import ResponseValidationError
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel, Field
from starlette.testclient import TestClient

import purposeful
from purposeful import Actor, Managed, ServiceAgreement
from purposeful.audit import SpanSink
from purposeful.errors import DictStorageWarning
from purposeful.web.fastapi import failed_places, install_problem_handlers, purpose_scope

AGREEMENT = ServiceAgreement("Invalid response agreement")
ADDRESS = "SENTINEL-ADDRESS 1 Tui St"
SUBJECT_ID = "SUBJECT-INVALID-RESPONSE-5b2e"


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    class InvalidAddressRecord(BaseModel):
        """A record whose response model says the address is a number: a server's mistake."""

        client_id: str
        address: Annotated[int, Managed(purposes={CASE_MANAGEMENT: AGREEMENT})]


@purposeful.record(subject="client_id")
class StoredAddress:
    client_id: str
    address: str = purposeful.field(purposes={CASE_MANAGEMENT: AGREEMENT})


class PlainOut(BaseModel):
    client_id: str
    home: int = Field(alias="address")


def _actor(request: Request) -> Actor:
    return CASEWORKER


def app(*, handlers: bool = True) -> FastAPI:
    api = FastAPI()
    scoped = purpose_scope(actor=_actor)

    @api.get("/clients/{client_id}", response_model=InvalidAddressRecord)
    def record_model(client_id: str, scope: object = Depends(scoped(CASE_MANAGEMENT))) -> Any:
        return StoredAddress(SUBJECT_ID, ADDRESS)

    @api.get("/plain/{client_id}", response_model=list[PlainOut])
    def plain_model(client_id: str, scope: object = Depends(scoped(CASE_MANAGEMENT))) -> Any:
        stored = StoredAddress(SUBJECT_ID, ADDRESS)
        return [{"client_id": "C-1", "address": 1}, {"client_id": "C-2", "address": stored.address}]

    @api.get("/keyed", response_model=dict[str, int])
    def keyed(scope: object = Depends(scoped(CASE_MANAGEMENT))) -> Any:
        return {SUBJECT_ID: StoredAddress(SUBJECT_ID, ADDRESS).address}

    if handlers:
        install_problem_handlers(api)
    return api


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """The spans of the FastAPI instrumentation, with the scope's span among them."""
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    with purposeful.configured(sinks=[SpanSink(provider)]):
        yield spans
    provider.shutdown()


def _traced(api: FastAPI, exporter: InMemorySpanExporter) -> FastAPI:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    FastAPIInstrumentor.instrument_app(api, tracer_provider=provider)
    return api


def _span_text(exporter: InMemorySpanExporter) -> str:
    return repr(
        [
            (
                s.name,
                dict(s.attributes or {}),
                [(e.name, dict(e.attributes or {})) for e in s.events],
            )
            for s in exporter.get_finished_spans()
        ]
    )


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/clients/c-1", "response.address: int_parsing"),
        ("/plain/c-1", "response.1.address: int_parsing"),
        ("/keyed", "response.…: int_parsing"),
    ],
)
def test_an_invalid_response_is_a_500_problem_whose_log_and_span_quote_nothing(
    path: str, where: str, exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    api = _traced(app(), exporter)
    with caplog.at_level(logging.DEBUG), TestClient(api, raise_server_exceptions=False) as http:
        answer = http.get(path)
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "The server could not build a valid response.",
    }
    logged = "\n".join(r.getMessage() + repr(r.exc_info) for r in caplog.records)
    assert where in logged, logged
    route = path if path == "/keyed" else path.replace("c-1", "{client_id}")
    assert f"the response of {route} did not match its response model" in logged
    for secret in (ADDRESS, SUBJECT_ID, "SENTINEL"):
        assert secret not in logged
        assert secret not in answer.text
        assert secret not in _span_text(exporter)
    names = {span.name for span in exporter.get_finished_spans()}
    assert "purposeful.use" in names, names
    assert f"GET {route}" in names, names


def test_without_the_handlers_fastapis_own_error_quotes_the_value() -> None:
    """What the handler is for: FastAPI's error, as a server logs it, holds the input."""
    with TestClient(app(handlers=False)) as http, pytest.raises(ResponseValidationError) as raised:
        http.get("/clients/c-1")
    assert ADDRESS in str(raised.value)


def test_a_refusal_inside_the_response_model_is_still_the_refusal() -> None:
    api = FastAPI()
    scoped = purpose_scope(actor=_actor)

    @api.get("/funder", response_model=InvalidAddressRecord)
    def funder(scope: object = Depends(scoped("funder-reporting"))) -> Any:
        return StoredAddress(SUBJECT_ID, ADDRESS)

    install_problem_handlers(api)
    with TestClient(api, raise_server_exceptions=False) as http:
        answer = http.get("/funder")
    assert answer.status_code == 403
    assert answer.json()["type"] == "https://purposeful.dev/problems/purpose-violation"
    assert ADDRESS not in answer.text


@dataclass
class Inner:
    postcode: int


class Outer(BaseModel):
    items: list[Inner | None]
    notes: dict[str, int] = Field(default_factory=dict, validation_alias="n")


SECRET = st.text(min_size=1, max_size=20).map(lambda text: f"SECRET{text}")


@given(
    st.lists(
        st.lists(
            st.one_of(
                st.integers(-5, 5),
                SECRET,
                st.sampled_from(["items", "postcode", "notes", "n", "response"]),
            ),
            max_size=5,
        ).map(tuple),
        max_size=8,
    ),
    st.sampled_from(["int_parsing", "missing", "SECRET-type-is-pydantics-own"]),
)
def test_no_undeclared_name_in_a_location_is_ever_named(
    locations: list[tuple[object, ...]], kind: str
) -> None:
    errors = [
        {"loc": ("response", *loc), "type": "int_parsing", "input": "SECRETINPUT"}
        for loc in locations
    ]
    errors.append({"loc": ("response",), "type": kind, "msg": "SECRETMSG", "input": "SECRETINPUT"})
    said = failed_places(errors, Outer)
    assert "SECRET" not in said.replace("SECRET-type-is-pydantics-own", "")
    # Outer declares items, notes (alias n) and Inner's postcode; its only mapping is keyed
    # by text, so a number can only be a list's position and is named
    declared = {"response", "items", "notes", "n", "postcode"}
    expected = "; ".join(
        ".".join(str(p) if isinstance(p, int) or p in declared else "…" for p in error["loc"])
        + f": {error['type']}"
        for error in errors[:5]
    )
    more = len(errors) - 5
    assert said == expected + (f"; and {more} more" if more > 0 else "")


class AddressOut(BaseModel):
    """A plain response model that reads a record's attributes (an ORM row's, say)."""

    model_config = {"from_attributes": True}
    client_id: str
    address: str


def test_a_refusal_reading_attributes_under_the_middleware_is_still_the_refusal() -> None:
    """The middleware's scope is still open when the handler answers the response model's
    error: the handler itself must see the refusal behind it, or the answer is a 500."""
    from purposeful.web import purpose
    from purposeful.web.asgi import PurposeMiddleware

    api = FastAPI()

    @api.get("/funder/{client_id}", response_model=AddressOut)
    @purpose("funder-reporting")
    async def funder(client_id: str) -> Any:
        return StoredAddress(SUBJECT_ID, ADDRESS)

    install_problem_handlers(api)
    api.add_middleware(PurposeMiddleware, actor=_actor)
    with TestClient(api, raise_server_exceptions=False) as http:
        answer = http.get("/funder/c-1")
    assert answer.status_code == 403, answer.text
    assert answer.json()["field"] == "address"
    assert ADDRESS not in answer.text
    assert SUBJECT_ID not in answer.text
