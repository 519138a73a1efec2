"""Red team 6: SQLAlchemy models whose managed columns are read with no decision after the
fifth round's fixes (the import hook, the decorated-class exemption, type aliases)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import warnings
from typing import Annotated, TypeVar

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import Column, String, Table, create_engine, insert, select  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, registry  # noqa: E402

import purposeful  # noqa: E402
from purposeful import Managed, ServiceAgreement  # noqa: E402
from purposeful.errors import DictStorageWarning, PurposefulError  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
SECRET = "kaitiaki-secret-red6"


def _run(script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_find_spec_probe_of_the_orm_does_not_disarm_the_import_hook() -> None:
    """`_AfterImport.find_spec` leaves ``sys.meta_path`` the first time it is asked about
    ``sqlalchemy.orm``, whether or not the module is then imported. A library that probes
    for the ORM before importing it (``importlib.util.find_spec("sqlalchemy.orm")``, the
    usual test for an optional dependency) takes the hook away, nothing is run, and
    ``_watch_for_sqlalchemy`` is cached: the real import that follows sets up no check,
    and an undecorated model hands its managed column out with no scope."""
    out = _run(
        """
        import importlib.util
        import purposeful
        TAG = purposeful.Managed(
            purposes={"service-delivery": purposeful.ServiceAgreement("x")})

        assert importlib.util.find_spec("sqlalchemy.orm") is not None  # a probe, no import

        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Lonely(Base):
            __tablename__ = "lonely"
            client_id: Mapped[str] = mapped_column(primary_key=True)
            secret: Mapped[str] = mapped_column(info={"purposeful": TAG})

        try:
            value = Lonely(client_id="c", secret="kaitiaki-secret-red6").secret
        except Exception as error:
            print("refused:", type(error).__name__)
        else:
            print("read:", value)
        """
    )
    assert out.startswith("refused:"), out


def test_a_decorated_dataclass_mapped_imperatively_is_not_exempt() -> None:
    """`_refuse_undecorated` now exempts a model only if the decorated class of its MRO is
    one SQLAlchemy maps (``_sa_class_manager`` in its own ``__dict__``). A decorated
    dataclass record mapped afterwards with ``registry.map_imperatively`` (SQLAlchemy's
    documented way to map a dataclass) is such a class: it is exempt, yet its guards were
    installed for a dataclass and SQLAlchemy's ``InstrumentedAttribute`` now stands in
    their place, so a row loaded by a query hands the managed column out with no scope,
    though the table declares it managed too (``info=``)."""
    tag = Managed(purposes={"service-delivery": AGREEMENT})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)

        @purposeful.record(subject="client_id")
        @dataclasses.dataclass
        class Client:
            client_id: str
            secret: str = purposeful.field(purposes={"service-delivery": AGREEMENT})

    with pytest.raises(PurposefulError):
        _ = Client("c-0", SECRET).secret  # guarded before it is mapped
    mapping = registry()
    table = Table(
        "red6_client",
        mapping.metadata,
        Column("client_id", String, primary_key=True),
        Column("secret", String, info={"purposeful": tag}),
    )
    engine = create_engine("sqlite://")
    try:
        try:
            mapping.map_imperatively(Client, table)
            mapping.metadata.create_all(engine)
            with Session(engine) as session:
                session.execute(insert(table).values(client_id="c-1", secret=SECRET))
                row = session.scalars(select(Client)).one()
        except (PurposefulError, sqlalchemy.exc.InvalidRequestError):
            return  # refused: fails closed
        try:
            leaked = row.secret
        except PurposefulError:
            return
        pytest.fail(f"the managed column was read with no decision: {leaked == SECRET}")
    finally:
        engine.dispose()
        mapping.dispose()


def test_a_managed_tag_behind_a_generic_type_alias_is_seen() -> None:
    """`_tag_in` looks through a ``TypeAliasType`` used bare (``Mapped[Secret]``), but not one
    with type parameters used subscripted (``type Secret[T] = Annotated[T, Managed(...)]``,
    ``Mapped[Secret[str]]``): that is a generic alias whose origin is the alias and whose
    only argument is ``str``. The decorated model's column is not managed at all (no
    warning, no refusal)."""
    typing_extensions = pytest.importorskip("typing_extensions")
    t = TypeVar("t")
    secret_type = typing_extensions.TypeAliasType(
        "Secret",
        Annotated[t, Managed(purposes={"service-delivery": AGREEMENT})],
        type_params=(t,),
    )

    class Base(DeclarativeBase):
        pass

    generic = type(
        "Generic",
        (Base,),
        {
            "__tablename__": "red6_generic",
            "__annotations__": {"client_id": Mapped[str], "secret": Mapped[secret_type[str]]},
            "client_id": mapped_column(primary_key=True),
            "secret": mapped_column(String),
            "__module__": __name__,
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        purposeful.record(subject="client_id")(generic)
    row = generic(client_id="c-4", secret=SECRET)
    with pytest.raises(PurposefulError):
        _ = row.secret
