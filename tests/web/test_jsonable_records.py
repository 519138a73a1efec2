"""FastAPI's ``jsonable_encoder`` reads a record through its guards: a route returning a
SQLAlchemy row, a Django-like dict-stored record or an attrs record with no response model
is decided and audited in the request's scope, refused as a 403, never handed out from the
record's ``__dict__`` (what ``jsonable_encoder`` falls back to)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _webkit import CASE_MANAGEMENT, CASEWORKER
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from starlette.testclient import TestClient

import purposeful
from _records import RecordingSink
from purposeful import SENSITIVE, Managed, ServiceAgreement
from purposeful.errors import DictStorageWarning
from purposeful.web import purpose
from purposeful.web.asgi import PurposeMiddleware

AGREEMENT = ServiceAgreement("Web jsonable agreement")
SECRET = "SENTINEL-JSONABLE-DIAGNOSIS-6d1f"
SUBJECT = "SUBJECT-JSONABLE-2c7e"


class JsonableBase(DeclarativeBase):
    pass


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    class JsonableClientRow(JsonableBase):
        __tablename__ = "jsonable_client"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        region: Mapped[str]
        diagnosis: Mapped[str] = mapped_column(
            info={
                "purposeful": Managed(purposes={CASE_MANAGEMENT: AGREEMENT}, sensitivity=SENSITIVE)
            }
        )

    @purposeful.record(subject="client_id", slots=False)
    class JsonableDictClient:
        """An attrs record kept in its ``__dict__``."""

        client_id: str
        region: str
        diagnosis: str = purposeful.field(
            purposes={CASE_MANAGEMENT: AGREEMENT}, sensitivity=SENSITIVE
        )


@purposeful.record(subject="client_id")
class JsonableSlottedClient:
    client_id: str
    region: str
    diagnosis: str = purposeful.field(purposes={CASE_MANAGEMENT: AGREEMENT}, sensitivity=SENSITIVE)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Any]:
    made = create_engine(f"sqlite:///{tmp_path / 'clients.sqlite3'}")
    JsonableBase.metadata.create_all(made)
    with Session(made) as session:
        session.add(JsonableClientRow(client_id=SUBJECT, region="Otago", diagnosis=SECRET))
        session.commit()
    yield made
    made.dispose()


def _app(engine: Any) -> FastAPI:
    app = FastAPI()

    def records() -> dict[str, Any]:
        with Session(engine) as session:
            row = session.get(JsonableClientRow, SUBJECT)
            session.expunge_all()
        return {
            "row": row,
            "dict": JsonableDictClient(SUBJECT, "Otago", SECRET),
            "slots": JsonableSlottedClient(SUBJECT, "Otago", SECRET),
        }

    for prefix, purpose_id in (("case", CASE_MANAGEMENT), ("funder", "funder-reporting")):
        for kind in ("row", "dict", "slots"):

            @purpose(purpose_id)
            async def endpoint(kind: str = kind):  # type: ignore[no-untyped-def]
                # no return annotation, no response model: FastAPI calls jsonable_encoder
                return records()[kind]

            app.add_api_route(f"/{prefix}/{kind}", endpoint, methods=["GET"])

    def actor(request: Request) -> purposeful.Actor:
        return CASEWORKER

    app.add_middleware(PurposeMiddleware, actor=actor)
    return app


@pytest.mark.parametrize("kind", ["row", "dict", "slots"])
def test_a_record_returned_with_no_response_model_is_read_in_the_requests_scope(
    engine: Any, kind: str
) -> None:
    sink = RecordingSink()
    purposeful.configure(sinks=[sink])
    with TestClient(_app(engine)) as http:
        answer = http.get(f"/case/{kind}")
    assert answer.status_code == 200
    assert answer.json() == {"client_id": SUBJECT, "region": "Otago", "diagnosis": SECRET}
    [report] = sink.reports
    assert [(d.field, d.outcome.value) for d in report.decisions] == [("diagnosis", "allowed")]
    assert report.subject_count == 1


@pytest.mark.parametrize("kind", ["row", "dict", "slots"])
def test_a_record_returned_under_a_purpose_it_does_not_serve_is_a_403(
    engine: Any, kind: str
) -> None:
    """Fixed (rows and dict-stored records): ``jsonable_encoder`` found no encoder, fell back
    to ``vars(row)`` and answered 200 with every stored value; the scope's report had no
    decision and listed nobody."""
    sink = RecordingSink()
    purposeful.configure(sinks=[sink])
    with TestClient(_app(engine), raise_server_exceptions=False) as http:
        answer = http.get(f"/funder/{kind}")
    assert answer.status_code == 403
    assert SECRET not in answer.text
    assert SUBJECT not in answer.text
    [report] = sink.reports
    assert [(d.field, d.outcome.value) for d in report.decisions] == [("diagnosis", "denied")]


def test_jsonable_encoder_outside_any_scope_is_refused(engine: Any) -> None:
    with Session(engine) as session:
        row = session.get(JsonableClientRow, SUBJECT)
        for record in (row, JsonableDictClient(SUBJECT, "Otago", SECRET)):
            with pytest.raises(purposeful.NoPurposeScope):
                jsonable_encoder(record)
