"""FastAPI's ``jsonable_encoder`` reads a record through its guards: a route returning a
SQLAlchemy row, a Django-like dict-stored record or an attrs record with no response model
is decided and audited in the request's scope, refused as a 403, never handed out from the
record's ``__dict__`` (what ``jsonable_encoder`` falls back to)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from _webkit import CASE_MANAGEMENT, CASEWORKER
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import ORJSONResponse
from sqlalchemy import ForeignKey, create_engine, select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)
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


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    class JsonableHousehold(JsonableBase):
        __tablename__ = "jsonable_household"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        created: Mapped[datetime]
        password_hash: Mapped[str]
        address: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}
        )
        visits: Mapped[list[JsonableVisit]] = relationship(back_populates="household")

    @purposeful.record(subject="client_id")
    class JsonableVisit(JsonableBase):
        __tablename__ = "jsonable_visit"
        id: Mapped[int] = mapped_column(primary_key=True)
        client_id: Mapped[str] = mapped_column(ForeignKey("jsonable_household.client_id"))
        note: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={CASE_MANAGEMENT: AGREEMENT})}
        )
        household: Mapped[JsonableHousehold] = relationship(back_populates="visits")

    @purposeful.record(subject="client_id", slots=False)
    class JsonableKeyed:
        """A record with a mapping protocol of its own: it shows what it chooses."""

        client_id: str
        api_token: str
        diagnosis: str = purposeful.field(
            purposes={CASE_MANAGEMENT: AGREEMENT}, sensitivity=SENSITIVE
        )

        def keys(self) -> list[str]:
            return ["client_id", "diagnosis"]

        def __getitem__(self, name: str) -> Any:
            return getattr(self, name)


class JsonableSlottedChild(JsonableSlottedClient):
    """Undecorated: it has a ``__dict__`` of its own, empty."""


CREATED = datetime(2024, 1, 1, 9, 30)


@pytest.fixture
def household(engine: Any) -> Any:
    with Session(engine) as session:
        session.add(
            JsonableHousehold(
                client_id=SUBJECT, created=CREATED, password_hash="HASH-SECRET", address=SECRET
            )
        )
        session.add(JsonableVisit(id=1, client_id=SUBJECT, note="NOTE-SECRET"))
        session.commit()
    return engine


def _loaded(engine: Any) -> JsonableHousehold:
    with Session(engine) as session:
        found = session.scalars(
            select(JsonableHousehold).options(selectinload(JsonableHousehold.visits))
        ).one()
        session.expunge_all()
    return found


def test_a_row_is_encoded_whole_with_its_dates_and_its_loaded_rows_each_decided(
    household: Any,
) -> None:
    """Fixed: the encoder's dict went out unencoded (a datetime column or a loaded
    relationship was a 500) and the related rows were not read through their guards."""
    row = _loaded(household)
    sink = RecordingSink()
    purposeful.configure(sinks=[sink])
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        encoded = jsonable_encoder(row, exclude={"password_hash"})
    assert encoded == {
        "client_id": SUBJECT,
        "created": CREATED.isoformat(),
        "address": SECRET,
        "visits": [{"id": 1, "client_id": SUBJECT, "note": "NOTE-SECRET"}],
    }
    fields = sorted(d.field for d in sink.reports[0].decisions)
    assert fields == ["address", "note"]
    with (
        purposeful.use("service-delivery", actor=CASEWORKER),
        pytest.raises(purposeful.PurposeViolation) as refused,
    ):
        jsonable_encoder(row)  # the visit's note is for case management only
    assert refused.value.decision.field == "note"


def test_include_and_exclude_are_applied_before_any_field_is_read(household: Any) -> None:
    """Fixed: they were ignored for records: an excluded field went out, and one left out
    by include= was read (and refused, a 403) though nobody asked for it."""
    row = _loaded(household)
    sink = RecordingSink()
    purposeful.configure(sinks=[sink])
    with purposeful.use("funder-reporting", actor=CASEWORKER):
        assert jsonable_encoder(row, include={"client_id", "created"}) == {
            "client_id": SUBJECT,
            "created": CREATED.isoformat(),
        }
    assert sink.reports[0].decisions == ()


def test_a_records_own_mapping_protocol_decides_what_it_shows() -> None:
    """Fixed: a record's own keys() was passed over and every field read."""
    keyed = JsonableKeyed(SUBJECT, "TOKEN-SECRET", SECRET)
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert jsonable_encoder(keyed) == {"client_id": SUBJECT, "diagnosis": SECRET}
    with (
        purposeful.use("funder-reporting", actor=CASEWORKER),
        pytest.raises(purposeful.PurposeViolation),
    ):
        jsonable_encoder(keyed)
    with purposeful.use("funder-reporting", actor=CASEWORKER):  # left out: never read
        assert jsonable_encoder(keyed, exclude={"diagnosis"}) == {"client_id": SUBJECT}


def test_an_undecorated_subclass_of_a_slotted_record_is_encoded_whole() -> None:
    child = JsonableSlottedChild(SUBJECT, "Otago", SECRET)
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert jsonable_encoder(child) == {
            "client_id": SUBJECT,
            "region": "Otago",
            "diagnosis": SECRET,
        }


def test_refusals_a_task_group_gathers_are_a_403() -> None:
    """Fixed: the ExceptionGroup of an asyncio.TaskGroup whose tasks were refused was a 500."""
    app = FastAPI()

    @app.get("/together")
    @purpose("funder-reporting")
    async def together():  # type: ignore[no-untyped-def]
        async def encode(record: Any) -> Any:
            return jsonable_encoder(record)

        async with asyncio.TaskGroup() as group:
            for n in range(3):
                group.create_task(encode(JsonableSlottedClient(f"{SUBJECT}-{n}", "Otago", SECRET)))
        return {}

    app.add_middleware(PurposeMiddleware, actor=lambda request: CASEWORKER)
    with TestClient(app, raise_server_exceptions=False) as http:
        answer = http.get("/together")
    assert answer.status_code == 403
    assert SECRET not in answer.text
    assert SUBJECT not in answer.text


def test_a_refusal_after_the_scope_closed_is_not_kept_on_it() -> None:
    """Fixed: a read refused after its scope had closed (a task still running) left the
    refusal, and the frames that read with their locals, on the scope for good."""
    record = JsonableSlottedClient(SUBJECT, "Otago", SECRET)
    with purposeful.use("funder-reporting", actor=CASEWORKER) as scope:
        carried = purposeful.carry_scope(lambda: record.diagnosis)
    with pytest.raises(purposeful.PurposeViolation):
        carried()
    assert scope._refused is None


def test_a_caught_refusal_is_let_go_when_the_audit_fails_at_the_exit() -> None:
    """Fixed (a review's finding): a failing sink ended the scope's exit before the caught
    refusal was let go, so it stayed on the scope with the frames that read."""

    class Down:
        def emit(self, report: object) -> None:
            raise ConnectionError("collector down")

    purposeful.configure(sinks=[Down()])
    record = JsonableSlottedClient(SUBJECT, "Otago", SECRET)
    with (
        pytest.raises(purposeful.errors.AuditSinkError),
        purposeful.use("funder-reporting", actor=CASEWORKER) as scope,
        contextlib.suppress(purposeful.PurposeViolation),
    ):
        _ = record.diagnosis
    assert scope._refused is None


@purposeful.record(subject="client_id")
@dataclasses.dataclass(slots=True)
class JsonableSlottedDataclass:
    client_id: str
    diagnosis: str = purposeful.field(purposes={CASE_MANAGEMENT: AGREEMENT}, sensitivity=SENSITIVE)


# ORJSONResponse is deprecated in recent FastAPI, but still in the stacks agencies run
@pytest.mark.filterwarnings("ignore::fastapi.exceptions.FastAPIDeprecationWarning")
@pytest.mark.parametrize(("path", "status"), [("/case", 200), ("/funder", 403)])
def test_an_orjson_response_of_a_slotted_dataclass_is_decided_not_a_crash(
    path: str, status: int
) -> None:
    """orjson ends the process on a dataclass attribute that raises (its own defect), and a
    refused read of a slotted dataclass raises. FastAPI runs ``jsonable_encoder`` on what a
    route returns before any response class, and purposeful.web's encoder reads the record
    through its guards there: orjson is handed a plain dict, decided or refused already."""
    app = FastAPI(default_response_class=ORJSONResponse)
    for prefix, purpose_id in (("/case", CASE_MANAGEMENT), ("/funder", "funder-reporting")):

        @purpose(purpose_id)
        async def endpoint():  # type: ignore[no-untyped-def]
            return JsonableSlottedDataclass(SUBJECT, SECRET)

        app.add_api_route(prefix, endpoint, methods=["GET"])
    app.add_middleware(PurposeMiddleware, actor=lambda request: CASEWORKER)
    sink = RecordingSink()
    purposeful.configure(sinks=[sink])
    with TestClient(app, raise_server_exceptions=False) as http:
        answer = http.get(path)
    assert answer.status_code == status
    [report] = sink.reports
    outcome = "allowed" if status == 200 else "denied"
    assert [(d.field, d.outcome.value) for d in report.decisions] == [("diagnosis", outcome)]
    if status == 200:
        assert answer.json() == {"client_id": SUBJECT, "diagnosis": SECRET}
    else:
        assert SECRET not in answer.text
