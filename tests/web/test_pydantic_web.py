"""pydantic records behind the web middleware: FastAPI's response serialisation is a read
in the request's scope, and a refusal inside pydantic (serialisation, or validation from
attributes) is answered as the refusal, a 403 problem, never a 500 or a value."""

from __future__ import annotations

import warnings
from typing import Annotated, Any

import pytest
from _webkit import CASE_MANAGEMENT, CASEWORKER
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict
from starlette.testclient import TestClient

import purposeful
from purposeful import SENSITIVE, Actor, Managed, ServiceAgreement
from purposeful.errors import DictStorageWarning
from purposeful.web import purpose
from purposeful.web.asgi import PurposeMiddleware
from purposeful.web.fastapi import install_problem_handlers, purpose_scope

AGREEMENT = ServiceAgreement("Web pydantic agreement")
SECRET_NOTE = "SENTINEL-PYDANTIC-NOTE-4c1d"
SUBJECT_ID = "SUBJECT-PYDANTIC-9e0a"

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    class WebCaseNote(BaseModel):
        client_id: str
        note: Annotated[str, Managed(purposes={CASE_MANAGEMENT: AGREEMENT}, sensitivity=SENSITIVE)]


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    client_id: str
    note: str


def _note() -> WebCaseNote:
    return WebCaseNote(client_id=SUBJECT_ID, note=SECRET_NOTE)


def _actor(request: Request) -> Actor:
    return CASEWORKER


def middleware_app() -> FastAPI:
    app = FastAPI()

    @app.get("/notes/case", response_model=WebCaseNote)
    @purpose(CASE_MANAGEMENT)
    async def for_case() -> WebCaseNote:
        return _note()

    @app.get("/notes/funder", response_model=WebCaseNote)
    @purpose("funder-reporting")
    def for_funder() -> WebCaseNote:
        return _note()  # refused only when FastAPI serialises it, after the endpoint

    @app.get("/notes/copied")
    @purpose("funder-reporting")
    async def copied() -> dict[str, Any]:
        return NoteOut.model_validate(_note(), from_attributes=True).model_dump()

    app.add_middleware(PurposeMiddleware, actor=_actor)
    return app


def _assert_refused(answer: Any) -> None:
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == "https://purposeful.dev/problems/purpose-violation"
    assert body["field"] == "note"
    assert SECRET_NOTE not in answer.text
    assert SUBJECT_ID not in answer.text


def test_fastapi_serialises_a_pydantic_record_inside_the_requests_scope() -> None:
    with TestClient(middleware_app()) as http:
        answer = http.get("/notes/case")
    assert answer.status_code == 200
    assert answer.json() == {"client_id": SUBJECT_ID, "note": SECRET_NOTE}


@pytest.mark.parametrize("path", ["/notes/funder", "/notes/copied"])
def test_a_refusal_inside_pydantic_is_a_403_problem_without_the_value(path: str) -> None:
    with TestClient(middleware_app(), raise_server_exceptions=False) as http:
        _assert_refused(http.get(path))


def test_the_dependency_style_answers_a_refusal_inside_pydantic_as_a_403() -> None:
    app = FastAPI()
    scoped = purpose_scope(actor=_actor)

    @app.get("/notes/funder", response_model=WebCaseNote)
    async def for_funder(scope: object = Depends(scoped("funder-reporting"))) -> WebCaseNote:
        return _note()

    @app.get("/notes/case", response_model=WebCaseNote)
    async def for_case(scope: object = Depends(scoped(CASE_MANAGEMENT))) -> WebCaseNote:
        return _note()

    install_problem_handlers(app)
    with TestClient(app, raise_server_exceptions=False) as http:
        case = http.get("/notes/case")
        assert case.json() == {"client_id": SUBJECT_ID, "note": SECRET_NOTE}, case.text
        _assert_refused(http.get("/notes/funder"))


@purposeful.record(subject="client_id")
class WebAttrsNote:
    """An attrs record: FastAPI validates it against a response model from its attributes."""

    client_id: str
    note: str = purposeful.field(purposes={CASE_MANAGEMENT: AGREEMENT}, sensitivity=SENSITIVE)


def threaded_app() -> FastAPI:
    """Endpoints FastAPI runs in its thread pool (plain ``def``), and a response model
    validated from a record's attributes."""
    app = FastAPI()

    @app.get("/sync/copied")
    @purpose("funder-reporting")
    def copied() -> dict[str, Any]:
        return NoteOut.model_validate(_note(), from_attributes=True).model_dump()

    @app.get("/sync/allowed")
    @purpose(CASE_MANAGEMENT)
    def allowed() -> dict[str, Any]:
        return NoteOut.model_validate(_note(), from_attributes=True).model_dump()

    @app.get("/response-model/funder", response_model=NoteOut)
    @purpose("funder-reporting")
    async def response_model() -> Any:
        return WebAttrsNote(SUBJECT_ID, SECRET_NOTE)

    @app.get("/response-model/funder-sync", response_model=NoteOut)
    @purpose("funder-reporting")
    def response_model_sync() -> Any:
        return WebAttrsNote(SUBJECT_ID, SECRET_NOTE)

    @app.get("/response-model/case", response_model=NoteOut)
    @purpose(CASE_MANAGEMENT)
    def response_model_case() -> Any:
        return WebAttrsNote(SUBJECT_ID, SECRET_NOTE)

    app.add_middleware(PurposeMiddleware, actor=_actor)
    return app


@pytest.mark.parametrize(
    "path", ["/sync/copied", "/response-model/funder", "/response-model/funder-sync"]
)
def test_a_refusal_pydantic_wraps_in_a_thread_or_a_response_model_is_a_403(path: str) -> None:
    """Fixed: a refusal raised in FastAPI's thread pool (a plain ``def`` endpoint) was
    noted in the thread's copy of the context, so the scope's exit never found it behind
    pydantic's error: a 500. And FastAPI's ``ResponseValidationError`` (a response model
    validated from a record's attributes) was not known to wrap one: a 500 too."""
    with TestClient(threaded_app(), raise_server_exceptions=False) as http:
        _assert_refused(http.get(path))


@pytest.mark.parametrize("path", ["/sync/allowed", "/response-model/case"])
def test_the_same_endpoints_answer_under_an_allowed_purpose(path: str) -> None:
    with TestClient(threaded_app()) as http:
        answer = http.get(path)
    assert answer.status_code == 200
    assert answer.json() == {"client_id": SUBJECT_ID, "note": SECRET_NOTE}
