"""What the web middleware adds to a whole request: ``request_overhead_pct_asgi``.

A FastAPI endpoint returns the list view of `handlers` (50 records of 8 short string
fields, read row by row into dicts, as a JSON string) in two applications, called in
process through Starlette's TestClient:

- *plain*: over ``handlers.PlainPerson`` (plain attrs records), no middleware;
- *guarded*: over ``handlers.Person`` (6 managed fields), the endpoint declared with
  ``@purposeful.web.purpose(CASE_MANAGEMENT)`` behind ``purposeful.web.asgi.PurposeMiddleware``
  with an actor callable that returns ``handlers.ACTOR``; no audit sink (as in
  ``handlers.measure``).

Both endpoints are ``async def``, as FastAPI runs them on the event loop: a plain ``def``
endpoint would add the thread pool's hand-off, the same on both sides, and its jitter. The
two are timed interleaved, in alternating batches of 20 requests, round after round (at
least 5), each round ``number`` GET requests of each; the figure is the median of the
rounds' guarded / plain - 1, in percent. Everything else a request costs in the TestClient
(the ASGI plumbing, httpx, the mount) is on both sides, as in a real service.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import handlers
from fastapi import FastAPI, Request, Response
from starlette.applications import Starlette
from starlette.routing import Mount
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
    async def clients() -> Response:
        return Response(json.dumps(handlers._rows(handlers.PLAIN_RECORDS)))

    return app


def _guarded_app() -> FastAPI:
    app = FastAPI()

    @app.get("/clients")
    @purpose(handlers.CASE_MANAGEMENT)
    async def clients() -> Response:
        return Response(json.dumps(handlers._rows(handlers.GUARDED_RECORDS)))

    app.add_middleware(PurposeMiddleware, actor=_actor)
    return app


def _time(http: TestClient, path: str, number: int) -> float:
    started = time.perf_counter()
    for _ in range(number):
        http.get(path)
    return (time.perf_counter() - started) / number


def measure(repeat: int, number: int = 200) -> dict[str, Any]:
    """``request_overhead_pct_asgi``: guarded / plain - 1, in percent, the median of the
    rounds' ratios; each round alternates batches of 20 requests to either application,
    *number* of each in all, so drift on a shared machine hits both sides alike."""
    ratios: list[float] = []
    batches = max(number // _BATCH, 1)
    # one client, so one event loop thread, serves both: two would compete for the cores
    both = Starlette(routes=[Mount("/plain", _plain_app()), Mount("/guarded", _guarded_app())])
    with purposeful.configured(sinks=[]), TestClient(both) as http:
        assert http.get("/plain/clients").content == http.get("/guarded/clients").content
        for _ in range(max(repeat, handlers.MIN_ROUNDS)):
            plain_time = guarded_time = 0.0
            for _ in range(batches):
                plain_time += _time(http, "/plain/clients", _BATCH)
                guarded_time += _time(http, "/guarded/clients", _BATCH)
            ratios.append(guarded_time / plain_time)
    return {"request_overhead_pct_asgi": (statistics.median(ratios) - 1) * 100}


#: Requests to one application before the next batch goes to the other.
_BATCH = 20


if __name__ == "__main__":
    print(json.dumps(measure(5), indent=2))
