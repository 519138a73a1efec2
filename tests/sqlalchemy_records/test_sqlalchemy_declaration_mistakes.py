"""SQLAlchemy models declared the way a new user gets wrong: ``purposeful.field(...)`` in a
mapped class (which SQLAlchemy maps no column for), and managed columns on a model nobody
decorated. Each fails closed, with a message that says what to write instead."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from typing import Annotated, Any

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import create_engine, select  # noqa: E402
from sqlalchemy.exc import InvalidRequestError  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column  # noqa: E402

import purposeful  # noqa: E402
from purposeful import Managed, ServiceAgreement  # noqa: E402
from purposeful.errors import AnnotationError, DictStorageWarning  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
SECRET = "kaitiaki-secret-mistakes"


def _managed() -> dict[str, Any]:
    return {"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}


def _decorate(cls: type) -> type:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        return purposeful.record(subject="client_id")(cls)


def test_purposeful_field_in_a_mapped_class_is_refused_at_decoration() -> None:
    """SQLAlchemy maps no column for it: the value was stored nowhere and guarded by
    nothing, and the decorator said nothing."""

    class Base(DeclarativeBase):
        pass

    class FieldInModel(Base):
        __tablename__ = "mistake_field_in_model"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        name: Mapped[str] = purposeful.field(purposes={"service-delivery": AGREEMENT})

    with pytest.raises(AnnotationError, match=r"FieldInModel\.name: purposeful\.field") as info:
        _decorate(FieldInModel)
    assert "mapped_column(info={'purposeful': purposeful.Managed(" in str(info.value)


def test_purposeful_field_on_a_mapped_base_is_refused_too() -> None:
    class Base(DeclarativeBase):
        pass

    class Mixin:
        name: str = purposeful.field(purposes={"service-delivery": AGREEMENT})

    class FromMixin(Mixin, Base):
        __tablename__ = "mistake_field_from_mixin"
        client_id: Mapped[str] = mapped_column(primary_key=True)

    with pytest.raises(AnnotationError, match=r"FromMixin\.name: purposeful\.field"):
        _decorate(FromMixin)


@pytest.mark.parametrize("declared_in", ["info", "annotation"])
def test_managed_columns_on_an_undecorated_model_fail_closed(declared_in: str) -> None:
    """Without the decorator the column is a plain attribute: row.secret handed the value
    out with no scope. The mapper's configuration now fails, as a Django model's reads do."""

    class Base(DeclarativeBase):
        pass

    if declared_in == "info":

        class Forgotten(Base):
            __tablename__ = "mistake_forgotten_info"
            client_id: Mapped[str] = mapped_column(primary_key=True)
            secret: Mapped[str] = mapped_column(info=_managed())

    else:

        class Forgotten(Base):  # type: ignore[no-redef]
            __tablename__ = "mistake_forgotten_annotated"
            client_id: Mapped[str] = mapped_column(primary_key=True)
            secret: Mapped[Annotated[str, Managed(purposes={"service-delivery": AGREEMENT})]] = (
                mapped_column()
            )

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with pytest.raises(AnnotationError, match=r"Forgotten\.secret is declared a managed") as info:
        Forgotten(client_id="c-1", secret=SECRET)
    assert "@purposeful.record(subject=...)" in str(info.value)
    assert SECRET not in str(info.value)
    # still refused, every time: SQLAlchemy marks a mapper configured before the event
    # that refused it, and the next use of the class went on with it
    for _ in range(2):
        with Session(engine) as session, pytest.raises(InvalidRequestError, match="Forgotten"):
            session.scalars(select(Forgotten)).all()
        with pytest.raises(InvalidRequestError, match="is declared a managed column"):
            Forgotten(client_id="c-1", secret=SECRET)


def test_an_undecorated_subclass_adding_a_managed_column_fails_closed() -> None:
    class Base(DeclarativeBase):
        pass

    class Decorated(Base):
        __tablename__ = "mistake_decorated_base"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(default="base")
        note: Mapped[str] = mapped_column(info=_managed())
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "base"}  # noqa: RUF012

    _decorate(Decorated)

    class Child(Decorated):
        extra: Mapped[str | None] = mapped_column(info=_managed())
        __mapper_args__ = {"polymorphic_identity": "child"}  # noqa: RUF012

    with pytest.raises(AnnotationError, match=r"Child declares managed columns \(extra\)"):
        Child(client_id="c-2", note="n", extra=SECRET)
    with pytest.raises(InvalidRequestError, match=r"extra"):  # and again: it stays refused
        Child(client_id="c-2", note="n", extra=SECRET)


def test_a_decorated_model_is_untouched_by_the_check() -> None:
    class Base(DeclarativeBase):
        pass

    class Fine(Base):
        __tablename__ = "mistake_fine"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        secret: Mapped[str] = mapped_column(info=_managed())

    _decorate(Fine)
    row = Fine(client_id="c-3", secret=SECRET)
    with purposeful.use(
        "service-delivery", actor=purposeful.Actor("s", "caseworker", purposeful.SENSITIVE)
    ):
        assert row.secret == SECRET


def test_a_process_with_no_decorated_model_still_fails_closed() -> None:
    """The check is set up by `purposeful.Managed` itself, so a service whose every model
    lacks the decorator is refused too (no record was ever declared in this process)."""
    script = textwrap.dedent(
        """
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
        import purposeful
        from purposeful.errors import AnnotationError

        class Base(DeclarativeBase):
            pass

        class Lonely(Base):
            __tablename__ = "lonely"
            client_id: Mapped[str] = mapped_column(primary_key=True)
            secret: Mapped[str] = mapped_column(info={"purposeful": purposeful.Managed(
                purposes={"service-delivery": purposeful.ServiceAgreement("x")})})

        try:
            Lonely(client_id="c", secret="v").secret
        except AnnotationError as error:
            print("refused:", error)
        else:
            print("read")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused: Lonely.secret is declared a managed column")


def test_a_plain_model_whose_unresolvable_annotation_says_managed_is_not_refused() -> None:
    """A model of an application that does not use purposeful, a legacy ``Column`` annotated
    with a name only type checkers import (``label: ManagedLabel``), must keep working."""
    script = textwrap.dedent(
        """
        from __future__ import annotations
        from typing import TYPE_CHECKING
        from sqlalchemy import Column, Integer, String, create_engine
        from sqlalchemy.orm import DeclarativeBase, Session
        import purposeful

        purposeful.Managed(purposes={"service-delivery": purposeful.ServiceAgreement("x")})
        if TYPE_CHECKING:
            from elsewhere import ManagedLabel

        class Base(DeclarativeBase):
            pass

        class Account(Base):
            __tablename__ = "account"
            __allow_unmapped__ = True
            id = Column(Integer, primary_key=True)
            label: ManagedLabel = Column(String)

        engine = create_engine("sqlite://")
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add(Account(id=1, label="a"))
            session.commit()
            print("read", session.get(Account, 1).label)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "read a\n"
