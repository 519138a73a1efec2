"""A response model keyed by number (``dict[int, ClientOut]``, a client number as its key):
pydantic's location of a failed value holds the key as an int, as it holds a list's
position, and the log line of `install_problem_handlers` named it, a subject id in the
server's log. A number is named only where the model has no mapping keyed by anything but
text, so it can only be a position."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pytest
from fastapi import FastAPI
from pydantic import BaseModel, RootModel
from starlette.testclient import TestClient
from typing_extensions import TypedDict

from purposeful.web.fastapi import failed_places, install_problem_handlers

CLIENT_NUMBER = 7_004_913


class ClientOut(BaseModel):
    name: str
    age: int


class Roster(BaseModel):
    kind: Literal["roster"] = "roster"
    clients: dict[int, ClientOut]


class ByNumber(RootModel[dict[int, ClientOut]]):
    pass


@dataclass
class Team:
    members: dict[Any, ClientOut]


class Held(TypedDict):
    members: Annotated[dict[int, ClientOut], "by number"]


def test_a_clients_number_as_a_dicts_key_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    api = FastAPI()

    @api.get("/clients", response_model=dict[int, ClientOut])
    def clients() -> Any:
        return {CLIENT_NUMBER: {"name": "Aroha", "age": "old"}}

    install_problem_handlers(api)
    with caplog.at_level(logging.ERROR), TestClient(api, raise_server_exceptions=False) as http:
        answer = http.get("/clients")
    assert answer.status_code == 500
    assert "response.….age: int_parsing" in caplog.text
    assert str(CLIENT_NUMBER) not in caplog.text + answer.text


@pytest.mark.parametrize(
    ("model", "loc"),
    [
        (dict[int, ClientOut], ("response", CLIENT_NUMBER, "age")),
        (Roster, ("response", "clients", CLIENT_NUMBER, "age")),
        (ByNumber, ("response", CLIENT_NUMBER, "age")),
        (list[Team], ("response", 0, "members", CLIENT_NUMBER, "age")),
        (Held, ("response", "members", CLIENT_NUMBER, "age")),
        ("dict[int, ClientOut]", ("response", CLIENT_NUMBER, "age")),
    ],
)
def test_no_number_that_may_be_a_key_is_named(model: object, loc: tuple[object, ...]) -> None:
    said = failed_places([{"loc": loc, "type": "int_parsing", "input": "old"}], model)
    assert str(CLIENT_NUMBER) not in said
    assert said.endswith(": int_parsing")


@pytest.mark.parametrize(
    "model",
    [
        list[ClientOut],
        dict[str, list[ClientOut]],
        list[ClientOut] | None,
        list[Annotated[ClientOut, "doc"]],
        tuple[int, str],
    ],
)
def test_a_position_is_still_named_where_it_can_only_be_one(model: object) -> None:
    said = failed_places([{"loc": ("response", 3, "age"), "type": "int_parsing"}], model)
    assert said.startswith("response.3.")
