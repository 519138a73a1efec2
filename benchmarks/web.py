"""What the web middleware adds to a whole request: ``request_overhead_pct_asgi``.

A FastAPI endpoint returns the list view of `handlers` (50 records of 8 short string
fields, read row by row into dicts, as a JSON string) in two applications, called in
process through Starlette's TestClient:

- *plain*: over ``handlers.PlainPerson`` (plain attrs records), no middleware;
- *guarded*: over ``handlers.Person`` (6 managed fields), the endpoint declared with
  ``@purposeful.web.purpose(CASE_MANAGEMENT)`` behind ``purposeful.web.asgi.PurposeMiddleware``
  with an actor callable that returns ``handlers.ACTOR``; no audit sink (as in
  ``handlers.measure``).

The two are timed interleaved, round after round (at least 5), each round ``number`` GET
requests of each; the figure is guarded / plain - 1, in percent, from the medians per
request. Everything else a request costs in the TestClient (the ASGI plumbing, httpx) is on
both sides, as in a real service.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import handlers
from fastapi import FastAPI, Request, Response
from starlette.testclient import TestClient

import purposeful
from purposeful import Actor
from purposeful.web import purpose
from purposeful.web.asgi import PurposeMiddleware


def _actor(request: Request) -> Actor:
    return handlers.ACTOR


def _plain_app() -> FastAPI:
    app = FastAPI()

    @app.get("/clients")
    def clients() -> Response:
        return Response(json.dumps(handlers._rows(handlers.PLAIN_RECORDS)))

    return app


def _guarded_app() -> FastAPI:
    app = FastAPI()

    @app.get("/clients")
    @purpose(handlers.CASE_MANAGEMENT)
    def clients() -> Response:
        return Response(json.dumps(handlers._rows(handlers.GUARDED_RECORDS)))

    app.add_middleware(PurposeMiddleware, actor=_actor)
    return app


def _time(http: TestClient, number: int) -> float:
    started = time.perf_counter()
    for _ in range(number):
        http.get("/clients")
    return (time.perf_counter() - started) / number


def measure(repeat: int, number: int = 200) -> dict[str, Any]:
    """``request_overhead_pct_asgi``: guarded / plain - 1, in percent."""
    plain_times: list[float] = []
    guarded_times: list[float] = []
    with (
        purposeful.configured(sinks=[]),
        TestClient(_plain_app()) as plain,
        TestClient(_guarded_app()) as guarded,
    ):
        assert plain.get("/clients").content == guarded.get("/clients").content
        for _ in range(max(repeat, handlers.MIN_ROUNDS)):
            plain_times.append(_time(plain, number))
            guarded_times.append(_time(guarded, number))
    overhead = statistics.median(guarded_times) / statistics.median(plain_times) - 1
    return {"request_overhead_pct_asgi": overhead * 100}


if __name__ == "__main__":
    print(json.dumps(measure(5), indent=2))
