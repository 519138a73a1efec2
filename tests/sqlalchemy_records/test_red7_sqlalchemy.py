"""Red team 7: the SQLAlchemy import hook and mapper checks after the sixth round's fixes
(`_AfterImport` stays until the module runs; `_refuse_remapped`)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import warnings

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import Column, String, Table, create_engine, insert, select  # noqa: E402
from sqlalchemy.orm import Session, registry  # noqa: E402

import purposeful  # noqa: E402
from purposeful import Managed, ServiceAgreement  # noqa: E402
from purposeful.errors import DictStorageWarning, PurposefulError  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
SECRET = "kaitiaki-secret-red7"

_TWO_THREADS_IMPORT = """
import importlib, sys, threading, time
import purposeful
TAG = purposeful.Managed(purposes={"service-delivery": purposeful.ServiceAgreement("x")})

# One thread imports the package (an engine made at start-up) ...
first = threading.Thread(target=importlib.import_module, args=("sqlalchemy",), daemon=True)
first.start()
deadline = time.monotonic() + 30
while "sqlalchemy" not in sys.modules and time.monotonic() < deadline:
    time.sleep(0.0005)
# ... while another, meanwhile, imports the ORM (the models).
second = threading.Thread(
    target=importlib.import_module, args=("sqlalchemy.orm",), daemon=True)
second.start()
first.join(20)
second.join(20)
print("hung" if first.is_alive() or second.is_alive() else "imported")
sys.stdout.flush()
import os
os._exit(0)  # a hung import thread would keep the interpreter from exiting
"""


def test_importing_sqlalchemy_and_its_orm_from_two_threads_does_not_hang() -> None:
    """`_AfterImport.find_spec` is called by the import system with the global import lock
    held (``_ImportLockContext`` around every meta-path finder), and it calls
    ``importlib.util.find_spec("sqlalchemy.orm")``, which imports the parent package and so
    waits for ``sqlalchemy`` to finish initialising. When another thread is running
    ``sqlalchemy/__init__.py`` at that moment, that thread needs the import lock for its
    next import: each waits for the other, and the process hangs for ever, with no error.
    Without purposeful (or with ``sqlalchemy.orm`` imported before any ``Managed``) the
    same two imports finish. It happens in roughly every run; a ``find_spec`` probe in one
    thread and an import in another hang the same way."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_TWO_THREADS_IMPORT)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "imported", "the two imports deadlocked"


def test_a_dataclass_record_mapped_with_a_column_prefix_is_refused() -> None:
    """`_refuse_remapped` refuses mapping a decorated dataclass record only when a managed
    field's *name* is a mapped property. ``registry.map_imperatively(cls, table,
    column_prefix="_")`` maps the managed field's column ``secret`` as ``_secret``: nothing
    is refused, the dataclass guard on ``secret`` guards nothing SQLAlchemy loads, and a
    queried row hands the managed value out as ``row._secret`` with no decision."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)

        @purposeful.record(subject="client_id")
        @dataclasses.dataclass
        class Prefixed:
            client_id: str
            secret: str = purposeful.field(purposes={"service-delivery": AGREEMENT})

    Managed(purposes={"service-delivery": AGREEMENT})  # the mapper check is listening
    mapping = registry()
    table = Table(
        "red7_prefixed",
        mapping.metadata,
        Column("client_id", String, primary_key=True),
        Column("secret", String),
    )
    engine = create_engine("sqlite://")
    try:
        try:
            mapping.map_imperatively(Prefixed, table, column_prefix="_")
            mapping.metadata.create_all(engine)
            with Session(engine) as session:
                session.execute(insert(table).values(client_id="c-1", secret=SECRET))
                row = session.scalars(select(Prefixed)).one()
        except (PurposefulError, sqlalchemy.exc.InvalidRequestError):
            return  # refused: fails closed
        leaked = getattr(row, "_secret", None)
        assert leaked != SECRET, "the managed field's column was read with no decision"
    finally:
        engine.dispose()
        mapping.dispose()
