"""A response that does not match its model is a 500, even when an earlier read in the same
scope was refused and the endpoint caught the refusal. The refusal behind a framework's
error was found by its text anywhere in the error, whose inputs FastAPI quotes: an endpoint
that answered a refusal with its message (a withheld field's reason) and returned a
response missing another field was answered as the refusal, a 403 naming a read that was
handled, and the invalid response was never logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel
from starlette.testclient import TestClient
from test_invalid_response import ADDRESS, SUBJECT_ID, AddressOut, StoredAddress, _actor

from purposeful.errors import PurposeViolation
from purposeful.web import purpose
from purposeful.web.asgi import PurposeMiddleware
from purposeful.web.fastapi import install_problem_handlers, purpose_scope

FUNDER = "funder-reporting"


class Withheld(BaseModel):
    client_id: str
    address: str
    visits: int  # the endpoint forgets it: the server's mistake


def _withheld() -> Any:
    stored = StoredAddress(SUBJECT_ID, ADDRESS)
    try:
        address = stored.address
    except PurposeViolation as refusal:  # handled: the field is withheld, with its reason
        address = f"withheld ({type(refusal).__name__}: {refusal})"
    return {"client_id": "C-1", "address": address}


def _middleware_app() -> FastAPI:
    api = FastAPI()

    @api.get("/async/{client_id}", response_model=Withheld)
    @purpose(FUNDER)
    async def withheld_async(client_id: str) -> Any:
        return _withheld()

    @api.get("/sync/{client_id}", response_model=Withheld)
    @purpose(FUNDER)
    def withheld_sync(client_id: str) -> Any:
        return _withheld()

    @api.get("/refused/{client_id}", response_model=AddressOut)
    @purpose(FUNDER)
    def refused(client_id: str) -> Any:
        return StoredAddress(SUBJECT_ID, ADDRESS)  # read for the model: a refusal, a 403

    install_problem_handlers(api)
    api.add_middleware(PurposeMiddleware, actor=_actor)
    return api


def _dependency_app() -> FastAPI:
    api = FastAPI()
    scoped = purpose_scope(actor=_actor)

    @api.get("/async/{client_id}", response_model=Withheld)
    async def withheld_async(client_id: str, scope: object = Depends(scoped(FUNDER))) -> Any:
        return _withheld()

    @api.get("/sync/{client_id}", response_model=Withheld)
    def withheld_sync(client_id: str, scope: object = Depends(scoped(FUNDER))) -> Any:
        return _withheld()

    @api.get("/refused/{client_id}", response_model=AddressOut)
    def refused(client_id: str, scope: object = Depends(scoped(FUNDER))) -> Any:
        return StoredAddress(SUBJECT_ID, ADDRESS)

    install_problem_handlers(api)
    return api


@pytest.mark.parametrize("build", [_middleware_app, _dependency_app], ids=["middleware", "dep"])
@pytest.mark.parametrize("kind", ["async", "sync"])
def test_a_handled_refusal_does_not_answer_a_later_invalid_response(
    build: Any, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR), TestClient(build(), raise_server_exceptions=False) as h:
        answer = h.get(f"/{kind}/c-1")
        refused = h.get("/refused/c-1")
    assert answer.status_code == 500, answer.text
    assert "response.visits: missing" in caplog.text
    assert refused.status_code == 403  # a refusal behind the model's read still is one
    assert refused.json()["field"] == "address"
    for text in (answer.text, refused.text, caplog.text):
        assert ADDRESS not in text
        assert SUBJECT_ID not in text
