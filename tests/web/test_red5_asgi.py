"""Red team 5: an HTTPException the actor callable raises, answered as the application
would answer it."""

from __future__ import annotations

from _webkit import CASE_MANAGEMENT, CASEWORKER
from fastapi import Request
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from purposeful import Actor
from purposeful.web import purpose
from purposeful.web.asgi import PurposeMiddleware


def _refusing_actor(request: Request) -> Actor:
    if request.headers.get("authorization") != "Bearer good":
        raise HTTPException(401, "token expired", headers={"WWW-Authenticate": "Bearer"})
    return CASEWORKER


def test_a_catch_all_error_page_does_not_answer_the_actor_callables_401() -> None:
    """Starlette gives the handler keyed by ``Exception`` (or 500) to ServerErrorMiddleware,
    for crashes only: an HTTPException goes to ExceptionMiddleware, whose default answers
    401 'token expired'. `_answer` looks the handler up along the HTTPException's MRO, finds
    the application's crash page under ``Exception``, and answers a refused login with a
    500 'internal error' (and whatever the crash page logs or alerts on)."""

    crashes: list[BaseException] = []

    async def crash_page(request: Request, error: Exception) -> PlainTextResponse:
        crashes.append(error)
        return PlainTextResponse("internal error", status_code=500)

    async def x(request: Request) -> JSONResponse:
        return JSONResponse({})

    app = Starlette(
        routes=[Route("/x", purpose(CASE_MANAGEMENT)(x))],
        exception_handlers={Exception: crash_page},
    )
    app.add_middleware(PurposeMiddleware, actor=_refusing_actor)
    with TestClient(app, raise_server_exceptions=False) as http:
        refused = http.get("/x")
    assert (refused.status_code, refused.text) == (401, "token expired")
    assert refused.headers["www-authenticate"] == "Bearer"
    assert crashes == []
