"""The database handler of ``handlers.py`` (its docstring pins it): SQLAlchemy 2 models and
the two variants. A module of its own so that ``handlers.py`` imports without SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Any

from handlers import ACTOR, AGREEMENT, CASE_MANAGEMENT, DB_ROWS, RECORDS, Handler, _rows, _values
from opentelemetry.trace import SpanKind
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import purposeful
from purposeful.errors import DictStorageWarning


class DbBase(DeclarativeBase):
    pass


def _managed(category: str, basis: Any = AGREEMENT) -> Any:
    declared = purposeful.Managed(purposes={CASE_MANAGEMENT: basis}, category=category)
    return mapped_column(info={"purposeful": declared})


class PlainDbPerson(DbBase):
    __tablename__ = "plain_person"
    client_id: Mapped[str] = mapped_column(primary_key=True)
    given_name: Mapped[str]
    family_name: Mapped[str]
    date_of_birth: Mapped[str]
    phone: Mapped[str]
    email: Mapped[str]
    address: Mapped[str]
    region: Mapped[str]


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    class DbPerson(DbBase):
        __tablename__ = "person"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        given_name: Mapped[str] = _managed("identity")
        family_name: Mapped[str] = _managed("identity")
        date_of_birth: Mapped[str] = _managed("identity")
        phone: Mapped[str] = _managed("contact")
        email: Mapped[str] = _managed("contact")
        address: Mapped[str] = _managed("contact", purposeful.CONSENT)
        region: Mapped[str]


def handler(stack: contextlib.ExitStack, path: Path, provider: Any) -> tuple[Handler, Handler]:
    """The plain and the guarded variant, over a new database file at *path*; *stack*
    disposes of the engine."""
    engine = create_engine(f"sqlite:///{path}", hide_parameters=True)
    stack.callback(engine.dispose)
    DbBase.metadata.create_all(engine)
    names = [column.key for column in PlainDbPerson.__table__.columns]
    with Session(engine) as session:
        for n in range(DB_ROWS):
            values = dict(zip(names, _values(n), strict=True))
            session.add_all([PlainDbPerson(**values), DbPerson(**values)])
        session.commit()
    tracer = provider.get_tracer("benchmarks")
    plain_query = select(PlainDbPerson).order_by(PlainDbPerson.client_id).limit(RECORDS)
    guarded_query = select(DbPerson).order_by(DbPerson.client_id).limit(RECORDS)

    def plain() -> str:
        with (
            tracer.start_as_current_span("GET /people", kind=SpanKind.SERVER),
            Session(engine) as session,
        ):
            return json.dumps(_rows(session.scalars(plain_query)))

    def guarded() -> str:
        with (
            tracer.start_as_current_span("GET /people", kind=SpanKind.SERVER),
            Session(engine) as session,
            purposeful.use(CASE_MANAGEMENT, actor=ACTOR),
        ):
            return json.dumps(_rows(session.scalars(guarded_query)))

    return plain, guarded
