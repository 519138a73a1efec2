"""The FastAPI dependency: the scope is set in the request's task, so async and sync
endpoints both see it; refusals become problems through the installed handlers."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import pytest
from _webkit import (
    CASE_MANAGEMENT,
    CASEWORKER,
    CLERK,
    INTAKE_ACTOR,
    SECRET_DIAGNOSIS,
    claim_headers,
    client,
    leaks,
    trust_store,
)
from fastapi import BackgroundTasks, Depends, FastAPI, Header
from fastapi.responses import StreamingResponse
from starlette.testclient import TestClient

import purposeful
from _records import RecordingSink
from purposeful import Actor, Scope
from purposeful.errors import UnknownPurpose
from purposeful.web.fastapi import install_problem_handlers, purpose_scope


def get_current_user(x_actor: Annotated[str | None, Header()] = None) -> str | None:
    return x_actor


def current_actor(user: Annotated[str | None, Depends(get_current_user)]) -> Actor | None:
    """The application's own auth dependency, wrapped: an actor from a user."""
    return {"caseworker": CASEWORKER, "clerk": CLERK}.get(user or "")


scoped = purpose_scope(actor=current_actor, trust=trust_store())
CaseScope = Annotated[Scope, Depends(scoped(CASE_MANAGEMENT))]


def seen() -> dict[str, object]:
    scope = purposeful.current_scope()
    if scope is None:
        return {"purpose": None}
    return {"purpose": scope.purpose.id, "actor": scope.actor.id, "thread": threading.get_ident()}


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/async")
    async def in_async(scope: CaseScope) -> dict[str, object]:
        return {**seen(), "given": scope.purpose.id}

    @app.get("/sync")
    def in_sync(scope: CaseScope) -> dict[str, object]:
        return {**seen(), "main": threading.main_thread().ident}

    @app.get("/diagnosis")
    def diagnosis(scope: CaseScope) -> dict[str, str]:
        return {"diagnosis": client().diagnosis}

    return app


def test_an_async_endpoint_sees_the_scope(app: FastAPI) -> None:
    with TestClient(app) as http:
        body = http.get("/async", headers={"x-actor": "caseworker"}).json()
    assert body["purpose"] == CASE_MANAGEMENT
    assert body["given"] == CASE_MANAGEMENT
    assert body["actor"] == CASEWORKER.id


def test_a_sync_endpoint_in_the_thread_pool_sees_the_scope(app: FastAPI) -> None:
    with TestClient(app) as http:
        body = http.get("/sync", headers={"x-actor": "clerk"}).json()
    assert body["purpose"] == CASE_MANAGEMENT
    assert body["actor"] == CLERK.id


def test_a_refused_read_becomes_a_403_problem(app: FastAPI, sink: RecordingSink) -> None:
    with TestClient(app) as http:
        answer = http.get("/diagnosis", headers={"x-actor": "clerk"})
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["reason_codes"] == ["clearance-too-low"]
    assert leaks(answer.content) == []
    assert len(sink.reports) == 1
    assert sink.reports[0].failed


def test_no_actor_becomes_a_401_problem(app: FastAPI) -> None:
    with TestClient(app) as http:
        answer = http.get("/async")
    assert answer.status_code == 401
    assert answer.json()["type"] == "https://purposeful.dev/problems/no-actor"
    assert "www-authenticate" in answer.headers


def test_a_claim_opens_the_scope_with_the_callers_actor(app: FastAPI) -> None:
    headers = claim_headers(CASE_MANAGEMENT)
    with TestClient(app) as http:
        body = http.get("/async", headers={"baggage": headers["baggage"]}).json()
    assert body["actor"] == INTAKE_ACTOR.id
    assert body["purpose"] == CASE_MANAGEMENT


def test_a_forged_claim_becomes_a_401_problem(app: FastAPI) -> None:
    with TestClient(app) as http:
        answer = http.get("/async", headers={"baggage": "purposeful=forged", "x-actor": "clerk"})
    assert answer.status_code == 401
    assert answer.json()["reason"] == "malformed"


def test_a_misspelt_purpose_fails_when_the_dependency_is_made() -> None:
    with pytest.raises(UnknownPurpose):
        scoped("service-delivery.case-managment")


def test_a_sync_yield_dependency_around_use_loses_the_scope() -> None:
    """The pitfall the dependency exists for: FastAPI runs a plain ``def`` dependency with
    ``yield`` in a worker thread; the scope it opens there never reaches the endpoint."""
    app = FastAPI()

    def naive() -> Iterator[None]:
        with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
            yield

    @app.get("/naive", dependencies=[Depends(naive)])
    async def endpoint() -> dict[str, object]:
        return seen()

    with TestClient(app) as http:
        assert http.get("/naive").json() == {"purpose": None}


# --- what FastAPI 0.165 does with the dependency's exit --------------------------------------


def test_the_dependency_exits_after_a_streamed_body_and_background_tasks(
    sink: RecordingSink,
) -> None:
    """FastAPI closes a yield dependency (its default scope, "request") after the response
    has been sent: a streamed body and background tasks still run inside the scope, and
    the report comes after them, once."""
    events: list[str] = []

    class Watching(RecordingSink):
        def emit(self, report: purposeful.ScopeReport) -> None:
            events.append("report")
            super().emit(report)

    purposeful.configure(sinks=[Watching()])
    app = FastAPI()

    def note(label: str) -> None:
        scope = purposeful.current_scope()
        events.append(f"{label}:{scope.purpose.id if scope else None}")

    @app.get("/stream")
    async def stream(scope: CaseScope, background: BackgroundTasks) -> StreamingResponse:
        background.add_task(note, "background")

        async def body() -> AsyncIterator[bytes]:
            note("chunk")
            yield client().diagnosis.encode()

        return StreamingResponse(body(), background=background)

    with TestClient(app) as http:
        answer = http.get("/stream", headers={"x-actor": "caseworker"})
    assert answer.content == SECRET_DIAGNOSIS.encode()
    assert events == [f"chunk:{CASE_MANAGEMENT}", f"background:{CASE_MANAGEMENT}", "report"]
