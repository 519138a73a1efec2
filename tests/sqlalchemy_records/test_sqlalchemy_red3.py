"""SQLAlchemy records against the third red-team round: mappings that hand a managed
column's value out through SQLAlchemy's own state (a composite, a collection keyed by the
column, a foreign key to it, a discriminator on it) are refused, and a pickle of a row
whose managed column was deleted decides the value SQLAlchemy still keeps."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import warnings
from typing import Any

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import Column, ForeignKey, Integer, String, Table, create_engine, func  # noqa: E402
from sqlalchemy.orm import (  # noqa: E402
    DeclarativeBase,
    Mapped,
    Session,
    column_property,
    composite,
    mapped_column,
    relationship,
)
from sqlalchemy.orm.collections import attribute_keyed_dict, column_keyed_dict  # noqa: E402

import purposeful  # noqa: E402
from purposeful import SENSITIVE, Actor, Managed, ServiceAgreement  # noqa: E402
from purposeful.errors import AnnotationError, DictStorageWarning  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
WORKER = Actor("staff-red3", role="caseworker", clearance=SENSITIVE)
SECRET = "kaitiaki-secret-red3"


def _managed() -> dict[str, Any]:
    return {"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}


def _quietly_decorated(cls: type, **options: Any) -> type:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        return purposeful.record(subject="client_id", **options)(cls)


@dataclasses.dataclass
class Address:
    street: str
    region: str


def test_a_composite_over_a_managed_column_is_refused_at_declaration() -> None:
    """composite() builds its value from the instance state, past the column's guard, and
    keeps it in __dict__: row.address handed the managed street out with no scope."""

    class Base(DeclarativeBase):
        pass

    class SaRed3Whanau(Base):
        __tablename__ = "sa_red3_whanau"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        region: Mapped[str]
        street: Mapped[str] = mapped_column(info=_managed())
        address = composite(Address, "street", "region")

    with pytest.raises(
        AnnotationError,
        match=r"SaRed3Whanau\.address: a composite\(\) over the managed column "
        r"\S*SaRed3Whanau\.street.*select the managed columns themselves",
    ):
        _quietly_decorated(SaRed3Whanau)


def test_a_composite_added_after_declaration_is_refused_at_mapping() -> None:
    class Base(DeclarativeBase):
        pass

    @_quietly_decorated
    class SaRed3LateWhanau(Base):
        __tablename__ = "sa_red3_late_whanau"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        region: Mapped[str]
        street: Mapped[str] = mapped_column(info=_managed())

    SaRed3LateWhanau.address = composite(  # type: ignore[attr-defined]
        Address, SaRed3LateWhanau.__table__.c.street, SaRed3LateWhanau.__table__.c.region
    )
    try:
        with pytest.raises(
            AnnotationError, match=r"SaRed3LateWhanau\.address: a composite\(\) over"
        ):
            Base.registry.configure()
    finally:
        Base.registry.dispose()


def test_a_composite_over_plain_columns_is_still_accepted() -> None:
    class Base(DeclarativeBase):
        pass

    @_quietly_decorated
    class SaRed3PlainWhanau(Base):
        __tablename__ = "sa_red3_plain_whanau"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        region: Mapped[str]
        street: Mapped[str]
        note: Mapped[str] = mapped_column(info=_managed())
        address = composite(Address, "street", "region")

    try:
        Base.registry.configure()
        row = SaRed3PlainWhanau(client_id="C-1", region="Otago", street="Tui St", note=SECRET)
        assert row.address == Address("Tui St", "Otago")
    finally:
        Base.registry.dispose()


def test_a_collection_keyed_by_a_managed_column_is_refused_at_mapping() -> None:
    """column_keyed_dict(note) read every related row's note raw, as the dict's keys."""

    class Base(DeclarativeBase):
        pass

    @_quietly_decorated
    class SaRed3Family(Base):
        __tablename__ = "sa_red3_family"
        client_id: Mapped[str] = mapped_column(primary_key=True)

    @_quietly_decorated
    class SaRed3Visit(Base):
        __tablename__ = "sa_red3_visit"
        id: Mapped[int] = mapped_column(primary_key=True)
        client_id: Mapped[str] = mapped_column(ForeignKey("sa_red3_family.client_id"))
        kind: Mapped[str]
        note: Mapped[str] = mapped_column(info=_managed())

    table = SaRed3Visit.__table__
    SaRed3Family.by_note = relationship(  # type: ignore[attr-defined]
        SaRed3Visit, collection_class=column_keyed_dict(table.c.note), viewonly=True
    )
    try:
        with pytest.raises(
            AnnotationError,
            match=r"SaRed3Family\.by_note: the collection is keyed by the managed column "
            r"\S*SaRed3Visit\.note.*key the collection by an unmanaged column",
        ):
            Base.registry.configure()
    finally:
        Base.registry.dispose()


def test_a_collection_keyed_by_a_plain_column_is_still_accepted() -> None:
    class Base(DeclarativeBase):
        pass

    @_quietly_decorated
    class SaRed3KindFamily(Base):
        __tablename__ = "sa_red3_kind_family"
        client_id: Mapped[str] = mapped_column(primary_key=True)

    @_quietly_decorated
    class SaRed3KindVisit(Base):
        __tablename__ = "sa_red3_kind_visit"
        id: Mapped[int] = mapped_column(primary_key=True)
        client_id: Mapped[str] = mapped_column(ForeignKey("sa_red3_kind_family.client_id"))
        kind: Mapped[str]
        note: Mapped[str] = mapped_column(info=_managed())

    table = SaRed3KindVisit.__table__
    SaRed3KindFamily.by_kind = relationship(  # type: ignore[attr-defined]
        SaRed3KindVisit, collection_class=column_keyed_dict(table.c.kind), viewonly=True
    )
    try:
        Base.registry.configure()
    finally:
        Base.registry.dispose()


def test_a_foreign_key_to_a_managed_column_is_refused_at_mapping() -> None:
    """letter.person_nhi, copied from person.nhi at the flush, held the managed NHI in a
    plain column."""

    class Base(DeclarativeBase):
        pass

    @_quietly_decorated
    class SaRed3Person(Base):
        __tablename__ = "sa_red3_person"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        nhi: Mapped[str] = mapped_column(unique=True, info=_managed())

    class SaRed3Letter(Base):
        __tablename__ = "sa_red3_letter"
        id: Mapped[int] = mapped_column(primary_key=True)
        person_nhi: Mapped[str] = mapped_column(ForeignKey("sa_red3_person.nhi"))
        person: Mapped[SaRed3Person] = relationship()

    try:
        with pytest.raises(
            AnnotationError,
            match=r"sa_red3_letter\.person_nhi: a foreign key to the managed column "
            r"\S*SaRed3Person\.nhi.*point the foreign key at an unmanaged key column",
        ):
            Base.registry.configure()
    finally:
        Base.registry.dispose()


def test_a_relationship_joined_on_a_managed_column_is_refused_at_mapping() -> None:
    """No ForeignKey, a primaryjoin on the managed column: the same copy at the flush."""

    class Base(DeclarativeBase):
        pass

    @_quietly_decorated
    class SaRed3JoinPerson(Base):
        __tablename__ = "sa_red3_join_person"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        nhi: Mapped[str] = mapped_column(unique=True, info=_managed())

    class SaRed3JoinLetter(Base):
        __tablename__ = "sa_red3_join_letter"
        id: Mapped[int] = mapped_column(primary_key=True)
        person_nhi: Mapped[str]
        person: Mapped[SaRed3JoinPerson] = relationship(
            primaryjoin="SaRed3JoinPerson.nhi == foreign(SaRed3JoinLetter.person_nhi)"
        )

    try:
        with pytest.raises(
            AnnotationError,
            match=r"SaRed3JoinLetter\.person: the relationship joins on the managed column "
            r"\S*SaRed3JoinPerson\.nhi",
        ):
            Base.registry.configure()
    finally:
        Base.registry.dispose()


def test_a_table_with_a_foreign_key_to_a_managed_column_is_refused_at_declaration() -> None:
    """A table already in the metadata when the record is declared: refused there."""

    class Base(DeclarativeBase):
        pass

    Table(
        "sa_red3_core_letter",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("nhi", String, ForeignKey("sa_red3_core_person.nhi")),
    )

    class SaRed3CorePerson(Base):
        __tablename__ = "sa_red3_core_person"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        nhi: Mapped[str] = mapped_column(unique=True, info=_managed())

    with pytest.raises(
        AnnotationError, match=r"sa_red3_core_letter\.nhi: a foreign key to the managed column"
    ):
        _quietly_decorated(SaRed3CorePerson)


def test_a_managed_discriminator_is_refused_at_declaration() -> None:
    """polymorphic_on a managed column: each row's class told its value."""

    class Base(DeclarativeBase):
        pass

    class SaRed3Case(Base):
        __tablename__ = "sa_red3_case"
        id: Mapped[int] = mapped_column(primary_key=True)
        client_id: Mapped[str]
        concern: Mapped[str] = mapped_column(info=_managed())
        __mapper_args__ = {"polymorphic_on": "concern", "polymorphic_identity": "general"}  # noqa: RUF012

    with pytest.raises(
        AnnotationError,
        match=r"SaRed3Case: its polymorphic_on discriminates on the managed column "
        r"\S*SaRed3Case\.concern.*discriminate on an unmanaged column",
    ):
        _quietly_decorated(SaRed3Case, key="id")


class SaRed3PickleBase(DeclarativeBase):
    pass


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id", key="id")
    class SaRed3PickledVisit(SaRed3PickleBase):
        __tablename__ = "sa_red3_pickled_visit"
        id: Mapped[int] = mapped_column(primary_key=True)
        client_id: Mapped[str]
        note: Mapped[str] = mapped_column(info=_managed())


@pytest.mark.parametrize("copying", [pickle.dumps, copy.copy, copy.deepcopy])
def test_pickling_a_row_after_del_decides_the_committed_value(copying: Any) -> None:
    """del row.note leaves the value in the instance state's committed_state, which
    SQLAlchemy pickles: outside a scope the pickle is refused, inside it is decided."""
    engine = create_engine("sqlite://", hide_parameters=True)
    SaRed3PickleBase.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(SaRed3PickledVisit(id=1, client_id="C-RED3", note=SECRET))
        session.commit()
    with Session(engine) as session:
        visit = session.get(SaRed3PickledVisit, 1)
        del visit.note
        with pytest.raises(purposeful.NoPurposeScope):
            copying(visit)
        with purposeful.use("service-delivery", actor=WORKER) as scope:
            copying(visit)
        assert [(d.field, d.allowed) for d in scope.decisions] == [("note", True)]
    engine.dispose()


def test_a_collection_keyed_by_a_managed_attribute_is_refused_at_mapping() -> None:
    """Found by a later red team: ``attribute_keyed_dict("note")`` keys the collection by
    the attribute (read through the guard when it loads in an allowed scope), and the keys,
    the values, were then read with no decision."""

    class Base(DeclarativeBase):
        pass

    @_quietly_decorated
    class SaRed4Family(Base):
        __tablename__ = "sa_red4_family"
        client_id: Mapped[str] = mapped_column(primary_key=True)

    @_quietly_decorated
    class SaRed4Visit(Base):
        __tablename__ = "sa_red4_visit"
        id: Mapped[int] = mapped_column(primary_key=True)
        client_id: Mapped[str] = mapped_column(ForeignKey("sa_red4_family.client_id"))
        note: Mapped[str] = mapped_column(info=_managed())

    SaRed4Family.by_note = relationship(  # type: ignore[attr-defined]
        SaRed4Visit, collection_class=attribute_keyed_dict("note"), viewonly=True
    )
    try:
        with pytest.raises(AnnotationError, match=r"keyed by the managed column \S*\.note"):
            Base.registry.configure()
    finally:
        Base.registry.dispose()


@pytest.mark.parametrize("declared", [False, True], ids=["plain", "declared-managed"])
def test_a_column_property_computed_from_a_managed_column(declared: bool) -> None:
    """Found by a later red team: ``column_property(func.upper(note))`` loaded the value,
    upper-cased, into a plain attribute. Refused, unless declared managed itself (the
    documented way: a derived column is a column of its own)."""

    class Base(DeclarativeBase):
        pass

    info = {"info": _managed()} if declared else {}

    @_quietly_decorated
    class SaRed4Derived(Base):
        __tablename__ = f"sa_red4_derived_{declared}"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        note: Mapped[str] = mapped_column(info=_managed())
        shouted = column_property(func.upper(note), **info)

    try:
        if declared:
            Base.registry.configure()
            engine = create_engine("sqlite://")
            Base.metadata.create_all(engine)
            with Session(engine) as session:
                session.add(SaRed4Derived(client_id="C-1", note=SECRET))
                session.commit()
                row = session.get(SaRed4Derived, "C-1")
                with pytest.raises(purposeful.errors.PurposeViolation):
                    _ = row.shouted  # type: ignore[union-attr]
        else:
            with pytest.raises(AnnotationError, match=r"shouted: a column_property computed"):
                Base.registry.configure()
    finally:
        Base.registry.dispose()
