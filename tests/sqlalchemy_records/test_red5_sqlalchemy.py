"""Red team 5: SQLAlchemy models whose managed columns are read with no decision although
the model is not decorated, and a correct model refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from typing import Annotated

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import create_engine, insert, select  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column  # noqa: E402

import purposeful  # noqa: E402
from purposeful import Managed, ServiceAgreement  # noqa: E402
from purposeful.errors import DictStorageWarning, PurposefulError  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
SECRET = "kaitiaki-secret-red5"


def _run(script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_tags_declared_before_sqlalchemy_is_imported_still_fail_closed() -> None:
    """`Managed(...)` registers the configuration check only if ``sqlalchemy.orm`` is
    already imported. A tags module made first (``tags.py`` imported at the top of
    ``models.py``, before SQLAlchemy) leaves it unregistered, and an undecorated model
    using those tags hands its managed column out with no scope."""
    out = _run(
        """
        import purposeful
        from purposeful.errors import PurposefulError
        SECRET_TAG = purposeful.Managed(
            purposes={"service-delivery": purposeful.ServiceAgreement("x")})

        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Lonely(Base):
            __tablename__ = "lonely"
            client_id: Mapped[str] = mapped_column(primary_key=True)
            secret: Mapped[str] = mapped_column(info={"purposeful": SECRET_TAG})

        try:
            value = Lonely(client_id="c", secret="kaitiaki-secret-red5").secret
        except (PurposefulError, Exception) as error:
            print("refused:", type(error).__name__)
        else:
            print("read:", value)
        """
    )
    assert out.startswith("refused:"), out


def test_a_decorated_plain_mixin_does_not_exempt_a_model_from_the_check() -> None:
    """`_refuse_undecorated` asks only whether some class of the MRO carries a policy. A
    decorated plain class (an attrs record) used as a mixin of a mapped model passes that
    test, but guards none of the model's columns: SQLAlchemy's attributes on the model
    come first, and no `_under_the_base` listener exists for it. A row loaded by a query
    hands its managed column out outside any scope."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)

        @purposeful.record(subject="client_id")
        class Identified:
            client_id: str

    class Base(DeclarativeBase):
        pass

    class Mixed(Identified, Base):
        __tablename__ = "red5_mixed"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        secret: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}
        )

    engine = create_engine("sqlite://")
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(Mixed.__table__).values(client_id="c-1", secret=SECRET))
        with Session(engine) as session:
            try:
                leaked = session.scalars(select(Mixed)).one().secret
            except (PurposefulError, sqlalchemy.exc.InvalidRequestError):
                return
            pytest.fail(f"the managed column was read with no decision: {leaked == SECRET}")
    finally:
        engine.dispose()


def test_a_table_named_purposeful_does_not_refuse_every_model_in_its_metadata() -> None:
    """`_refuse_field_markers` looks for ``"purposeful" in value.metadata`` over every
    class attribute of the MRO. ``Model.__table__.metadata`` and ``Base.registry.metadata``
    are SQLAlchemy ``MetaData`` objects, whose ``in`` asks for a table of that name: with a
    table called ``purposeful`` in the metadata, every correct model is refused at
    decoration as if it held ``purposeful.field(...)`` in ``__table__``."""

    class Base(DeclarativeBase):
        pass

    class Setting(Base):
        __tablename__ = "purposeful"  # the application's own table of that name
        id: Mapped[int] = mapped_column(primary_key=True)

    class Correct(Base):
        __tablename__ = "red5_correct"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        secret: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        purposeful.record(subject="client_id")(Correct)
    row = Correct(client_id="c-2", secret=SECRET)
    with pytest.raises(PurposefulError):
        _ = row.secret


def test_a_managed_tag_behind_a_type_alias_is_seen() -> None:
    """``Secret = TypeAliasType("Secret", Annotated[str, Managed(...)])`` with
    ``secret: Mapped[Secret]``: SQLAlchemy maps the alias's ``str``, but `_tag_in` does not
    look through a type alias, so the decorated model's column is not managed at all (no
    warning, no refusal), and an undecorated one is not refused either."""
    typing_extensions = pytest.importorskip("typing_extensions")
    secret_type = typing_extensions.TypeAliasType(
        "Secret", Annotated[str, Managed(purposes={"service-delivery": AGREEMENT})]
    )

    class Base(DeclarativeBase):
        pass

    aliased = type(
        "Aliased",
        (Base,),
        {
            "__tablename__": "red5_aliased",
            "__annotations__": {"client_id": Mapped[str], "secret": Mapped[secret_type]},
            "client_id": mapped_column(primary_key=True),
            "__module__": __name__,
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        purposeful.record(subject="client_id")(aliased)
    row = aliased(client_id="c-3", secret=SECRET)
    with pytest.raises(PurposefulError):
        _ = row.secret
