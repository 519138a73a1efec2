"""SQLAlchemy: a subject keyed through a joined-inheritance child, and database errors that
leave the engine's ``handle_error`` unscrubbed (a relationship's association table, a
deferred constraint refused at COMMIT, raw SQL on a record's table)."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import pytest

import purposeful
from purposeful import Managed, ServiceAgreement
from purposeful.errors import DictStorageWarning

pytest.importorskip("sqlalchemy")
from sqlalchemy import Column, ForeignKey, Table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    WriteOnlyMapped,
    mapped_column,
    relationship,
)

warnings.filterwarnings("ignore", category=DictStorageWarning)

AGREEMENT = ServiceAgreement("Red thirteen agreement")
DELIVERY = "service-delivery"
SUBJECT = "NHI-RED1313"
GHOST = "NHI-GHOST-1313"
SECRET = "red13-diagnosis-secret"


def _texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), repr(exc.args), str(exc.__cause__), str(getattr(exc, "orig", ""))]


# --- a joined-inheritance child's primary key is its parent's subject ----------------------


@pytest.mark.filterwarnings("ignore::purposeful.errors.DictStorageWarning")
def test_a_subject_keyed_by_a_joined_childs_primary_key_is_not_refused() -> None:
    """A record whose subject is its primary key (``id``), and a joined-inheritance child
    whose primary key (``volunteer_id``, a foreign key to ``member.id``) holds that same id.
    A record referring to the child by its primary key refers to the person by their
    subject; it is refused at configuration as "known by two ids"."""

    class Base(DeclarativeBase):
        pass

    @purposeful.record(subject="id")
    class R13Member(Base):
        __tablename__ = "r13_member"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str]
        name: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={DELIVERY: AGREEMENT})}
        )
        __mapper_args__: ClassVar[dict[str, Any]] = {
            "polymorphic_on": "kind",
            "polymorphic_identity": "member",
        }

    class R13Volunteer(R13Member):
        __tablename__ = "r13_volunteer"
        volunteer_id: Mapped[int] = mapped_column(ForeignKey("r13_member.id"), primary_key=True)
        __mapper_args__: ClassVar[dict[str, Any]] = {"polymorphic_identity": "volunteer"}

    @purposeful.record(subject="volunteer_id")
    class R13Shift(Base):
        __tablename__ = "r13_shift"
        id: Mapped[int] = mapped_column(primary_key=True)
        volunteer_id: Mapped[int] = mapped_column(ForeignKey("r13_volunteer.volunteer_id"))
        notes: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={DELIVERY: AGREEMENT})}
        )

    try:
        Base.registry.configure(cascade=False)
    finally:
        Base.registry.dispose()


# --- database errors the engine's handle_error leaves as PostgreSQL wrote them -------------


class R13Base(DeclarativeBase):
    pass


r13_person_tag = Table(
    "r13_person_tag",
    R13Base.metadata,
    Column("person_nhi", ForeignKey("r13_person.nhi"), primary_key=True),
    Column("tag_id", ForeignKey("r13_tag.id"), primary_key=True),
)


class R13Tag(R13Base):
    __tablename__ = "r13_tag"
    id: Mapped[int] = mapped_column(primary_key=True)


@purposeful.record(subject="nhi")
class R13Person(R13Base):
    __tablename__ = "r13_person"
    nhi: Mapped[str] = mapped_column(primary_key=True)
    diagnosis: Mapped[str] = mapped_column(
        info={"purposeful": Managed(purposes={DELIVERY: AGREEMENT})}
    )
    tags: WriteOnlyMapped[R13Tag] = relationship(secondary=r13_person_tag)


@purposeful.record(subject="person_nhi")
class R13Visit(R13Base):
    __tablename__ = "r13_visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_nhi: Mapped[str] = mapped_column(
        ForeignKey("r13_person.nhi", deferrable=True, initially="DEFERRED")
    )
    notes: Mapped[str] = mapped_column(info={"purposeful": Managed(purposes={DELIVERY: AGREEMENT})})


def test_a_relationships_association_row_error_quotes_no_subject_id(postgres_engine: Any) -> None:
    """The ORM writes a record's many-to-many rows into the association table, which is not
    a record's table: a duplicate (two sessions tagging the same person) is reported with
    ``DETAIL: Key (person_nhi, tag_id)=(NHI-…, 1) already exists`` left in."""
    R13Base.metadata.create_all(postgres_engine)
    with Session(postgres_engine) as session:
        tag = R13Tag(id=1)
        person = R13Person(nhi=SUBJECT, diagnosis=SECRET)
        session.add_all([tag, person])
        person.tags.add(tag)
        session.commit()
    with Session(postgres_engine) as session:
        person = session.get(R13Person, SUBJECT)
        person.tags.add(session.get(R13Tag, 1))
        with pytest.raises(IntegrityError) as raised:
            session.flush()
    texts = _texts(raised.value)
    assert not any(SUBJECT in t for t in texts), texts


def test_a_deferred_foreign_key_error_at_commit_quotes_no_subject_id(postgres_engine: Any) -> None:
    """A deferred constraint is checked at COMMIT, whose error reaches ``handle_error``
    with no statement (no compiled table), so ``DETAIL: Key (person_nhi)=(NHI-…) is not
    present in table`` stays in the IntegrityError."""
    R13Base.metadata.create_all(postgres_engine)
    with Session(postgres_engine) as session:
        session.add(R13Visit(id=1, person_nhi=GHOST, notes=SECRET))
        with pytest.raises(IntegrityError) as raised:
            session.commit()
    texts = _texts(raised.value)
    assert not any(GHOST in t for t in texts), texts


def test_raw_sql_on_a_records_table_error_quotes_no_subject_id(postgres_engine: Any) -> None:
    """``session.execute(text(...))`` inserting into a record's table: a text statement has
    no table, so its error passes unscrubbed (Django's wrapper scrubs raw SQL naming a
    record's table)."""
    R13Base.metadata.create_all(postgres_engine)
    insert = text("INSERT INTO r13_person (nhi, diagnosis) VALUES (:nhi, :diagnosis)")
    with Session(postgres_engine) as session:
        session.execute(insert, {"nhi": SUBJECT, "diagnosis": SECRET})
        with pytest.raises(IntegrityError) as raised:
            session.execute(insert, {"nhi": SUBJECT, "diagnosis": SECRET})
    texts = _texts(raised.value)
    assert not any(SUBJECT in t for t in texts), texts


# --- what scrubbing must not do: lose another error, or a message's diagnosis ------------


def test_an_interrupt_inside_a_statement_stays_an_interrupt() -> None:
    """SQLAlchemy calls ``handle_error`` with no error of its own for an exception it does
    not wrap (an interrupt, a cancellation): the scrubber leaves it alone, and the
    interrupt is what the caller gets."""
    from sqlalchemy import create_engine, event

    from purposeful._kinds import database_errors

    database_errors.scrub_sqlalchemy()
    engine = create_engine("sqlite://")

    @event.listens_for(engine, "do_execute")
    def interrupt(*args: Any) -> None:
        raise KeyboardInterrupt

    with engine.connect() as connection, pytest.raises(KeyboardInterrupt):
        connection.exec_driver_sql("SELECT 1")
    engine.dispose()


def test_a_scrubbed_message_keeps_what_it_says_of_the_schema() -> None:
    """A parameter quoted in a message is replaced where it stands; the rest of the message
    (the driver's, the table's, the count) is kept: a schema error stays a schema error."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from purposeful._kinds import database_errors

    database_errors.scrub_sqlalchemy()
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE c (a, b, c)")
        with pytest.raises(OperationalError) as raised:
            connection.exec_driver_sql("INSERT INTO c VALUES (?, ?)", ("NHI-KEPT-0001", "x"))
    message = str(raised.value)
    assert "table c has 3 columns but 2 values were supplied" in message
    engine.dispose()
