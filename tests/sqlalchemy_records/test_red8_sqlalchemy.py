"""Red team 8: the SQLAlchemy checks after the seventh round's fixes (`_refuse_remapped` by
property and column names; `_AfterImport` asking the other finders directly)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import Column, String, Table, create_engine, insert, select  # noqa: E402
from sqlalchemy.orm import Session, column_property, registry  # noqa: E402

import purposeful  # noqa: E402
from purposeful import Managed, ServiceAgreement  # noqa: E402
from purposeful.errors import DictStorageWarning, PurposefulError  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
SECRET = "kaitiaki-secret-red8"


def _client_record() -> type:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)

        @purposeful.record(subject="client_id")
        @dataclasses.dataclass
        class Client:
            client_id: str
            secret: str = purposeful.field(purposes={"service-delivery": AGREEMENT})

    Managed(purposes={"service-delivery": AGREEMENT})  # the mapper check is listening
    return Client


def _read_mapped(mapping: registry, table: Table, cls: type, attribute: str) -> object:
    """Map nothing more; store SECRET in the managed field's column and load a row of *cls*;
    its *attribute*, or None when SQLAlchemy or purposeful refused (fails closed)."""
    engine = create_engine("sqlite://")
    try:
        mapping.metadata.create_all(engine)
        with Session(engine) as session:
            session.execute(insert(table).values(client_id="c-1", secret=SECRET))
            row = session.scalars(select(cls)).one()
            return getattr(row, attribute, None)
    except (PurposefulError, sqlalchemy.exc.InvalidRequestError):
        return None
    finally:
        engine.dispose()


def test_a_subclass_mapping_the_managed_column_by_its_key_under_a_prefix_is_refused() -> None:
    """`_refuse_remapped` refuses a model extending a decorated dataclass record when a
    property, or the ``.name`` of a column under one, is a managed field's name. A table
    whose column is spelt differently in the database than in Python (``Column("secret_db",
    String, key="secret")``, so ``table.c.secret``, the SQLAlchemy way of renaming a
    database column) mapped with ``column_prefix="_"`` gives the property ``_secret`` over a
    column named ``secret_db``: neither is ``secret``. Nothing is refused, and every
    queried row hands the managed value out as ``row._secret`` with no decision, no scope
    and no audit record (the seventh round's ``column_prefix`` hole, one rename away)."""
    client = _client_record()

    class ClientRow(client):  # type: ignore[valid-type, misc]
        pass

    mapping = registry()
    table = Table(
        "red8_keyed",
        mapping.metadata,
        Column("client_id", String, primary_key=True),
        Column("secret_db", String, key="secret"),
    )
    try:
        try:
            mapping.map_imperatively(ClientRow, table, column_prefix="_")
        except PurposefulError:
            return  # refused: fails closed
        leaked = _read_mapped(mapping, table, ClientRow, "_secret")
    finally:
        mapping.dispose()
    assert leaked != SECRET, "the managed field's column was read with no decision"


def test_a_subclass_mapping_the_managed_column_under_a_label_is_refused() -> None:
    """The column check of `_refuse_remapped` looks only at ``c.name`` of each column
    directly under a property. ``properties={"contact": column_property(
    table.c.secret.label("contact"))}`` (with ``exclude_properties=["secret"]``) maps the
    managed field's column ``secret`` under a label: the property is ``contact`` and the
    column under it is the label ``contact``; nothing is refused, and ``row.contact`` is
    the managed value, undecided and unaudited. (``func.lower(table.c.secret)`` and other
    SQL expressions over it go round the check the same way.)"""
    client = _client_record()

    class ClientRow(client):  # type: ignore[valid-type, misc]
        pass

    mapping = registry()
    table = Table(
        "red8_labelled",
        mapping.metadata,
        Column("client_id", String, primary_key=True),
        Column("secret", String),
    )
    try:
        try:
            mapping.map_imperatively(
                ClientRow,
                table,
                properties={"contact": column_property(table.c.secret.label("contact"))},
                exclude_properties=["secret"],
            )
        except PurposefulError:
            return  # refused: fails closed
        leaked = _read_mapped(mapping, table, ClientRow, "contact")
    finally:
        mapping.dispose()
    assert leaked != SECRET, "the managed field's column was read with no decision"


_LATE_SQLALCHEMY = """
import sys
import purposeful
from purposeful.errors import PurposefulError

# tags.py: the shared declarations, imported first
SECRET_TAG = purposeful.Managed(purposes={"service-delivery": purposeful.ServiceAgreement("x")})

# the application then adds its plugin directory, where SQLAlchemy is installed
sys.path.append(sys.argv[1])
from sqlalchemy.orm import DeclarativeBase, Mapped, configure_mappers, mapped_column

class Base(DeclarativeBase):
    pass

class Lonely(Base):  # never decorated: must be refused
    __tablename__ = "lonely"
    client_id: Mapped[str] = mapped_column(primary_key=True)
    secret: Mapped[str] = mapped_column(info={"purposeful": SECRET_TAG})

try:
    configure_mappers()
except PurposefulError:
    print("refused")
except Exception as exc:
    print("refused" if "not decorated" in str(exc) else f"other: {exc!r}")
else:
    print("mapped")
"""


@pytest.mark.skipif(os.name != "posix", reason="symbolic links to the installed packages")
def test_tags_declared_before_sqlalchemy_is_on_the_path_still_fail_closed(tmp_path: Path) -> None:
    """`_watch_for_sqlalchemy` installs the import hook only if
    ``importlib.util.find_spec("sqlalchemy")`` finds it at the first ``Managed(...)``, and
    it is ``functools.cache``'d: when SQLAlchemy becomes importable only later (a plugin or
    vendor directory appended to ``sys.path`` at start-up, ``site.addsitedir``, a notebook's
    ``%pip install sqlalchemy``), no hook is ever installed, later ``Managed`` calls do not
    try again, and an undecorated model whose column is declared managed is mapped and
    hands the value out with no decision: the fail-closed check is silently off. Here
    SQLAlchemy sits in a directory added to ``sys.path`` after the tags were made."""
    site_packages = Path(sqlalchemy.__file__).resolve().parent.parent
    early, plugins = tmp_path / "early", tmp_path / "plugins"
    early.mkdir()
    plugins.mkdir()
    for entry in site_packages.iterdir():
        into = plugins if entry.name == "sqlalchemy" else early
        (into / entry.name).symlink_to(entry)
    source = Path(purposeful.__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-S", "-c", textwrap.dedent(_LATE_SQLALCHEMY), str(plugins)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(source), str(early)])},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "refused", done.stdout
