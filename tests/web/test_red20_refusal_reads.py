"""A refusal raised while pydantic iterates over a response (a generator or ``map`` of
records read for the response) or reads a mapping (a ``Mapping`` that reads its record on
``__getitem__``) is still a refusal, a 403. pydantic reports it as an ``iteration_error`` or
a ``mapping_type`` error, whose context quotes the refusal as a ``get_attribute_error``'s
does; matching only ``get_attribute_error`` answered these reads 500, "could not build a
valid response"."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel
from starlette.testclient import TestClient
from test_invalid_response import ADDRESS, SUBJECT_ID, StoredAddress, _actor

from purposeful.web import purpose
from purposeful.web.asgi import PurposeMiddleware
from purposeful.web.fastapi import install_problem_handlers, purpose_scope

FUNDER = "funder-reporting"


class Out(BaseModel):
    client_id: str
    address: str


class Lazy(Mapping[str, str]):
    """A mapping that reads its record's field when pydantic asks for it."""

    def __init__(self, record: StoredAddress) -> None:
        self.record = record

    def __getitem__(self, key: str) -> str:
        return str(getattr(self.record, key))

    def __iter__(self) -> Iterator[str]:
        return iter(["client_id", "address"])

    def __len__(self) -> int:
        return 2


def _rows() -> list[StoredAddress]:
    return [StoredAddress(SUBJECT_ID, ADDRESS)]


def _generator() -> Any:
    return ({"client_id": "C-1", "address": row.address} for row in _rows())


def _as_out(row: StoredAddress) -> dict[str, str]:
    return {"client_id": "C-1", "address": row.address}


def _mapped() -> Any:
    return map(_as_out, _rows())


def _mapping() -> Any:
    return Lazy(_rows()[0])


ENDPOINTS: dict[str, tuple[Any, Any]] = {
    "generator": (list[Out], _generator),
    "map": (list[Out], _mapped),
    "mapping": (dict[str, str], _mapping),
}


def _middleware_app() -> FastAPI:
    api = FastAPI()
    for name, (model, body) in ENDPOINTS.items():

        @purpose(FUNDER)
        def endpoint(client_id: str, body: Any = body) -> Any:
            return body()

        api.get(f"/{name}/{{client_id}}", response_model=model)(endpoint)
    install_problem_handlers(api)
    api.add_middleware(PurposeMiddleware, actor=_actor)
    return api


def _dependency_app() -> FastAPI:
    api = FastAPI()
    scoped = purpose_scope(actor=_actor)
    for name, (model, body) in ENDPOINTS.items():

        def endpoint(
            client_id: str, scope: object = Depends(scoped(FUNDER)), body: Any = body
        ) -> Any:
            return body()

        api.get(f"/{name}/{{client_id}}", response_model=model)(endpoint)
    install_problem_handlers(api)
    return api


@pytest.mark.parametrize("build", [_middleware_app, _dependency_app], ids=["middleware", "dep"])
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_a_refusal_while_pydantic_iterates_or_maps_the_response_is_a_403(
    build: Any, name: str
) -> None:
    with TestClient(build(), raise_server_exceptions=False) as client:
        answer = client.get(f"/{name}/c-1")
    assert answer.status_code == 403, answer.text
    assert answer.json()["field"] == "address"
    assert ADDRESS not in answer.text
    assert SUBJECT_ID not in answer.text
