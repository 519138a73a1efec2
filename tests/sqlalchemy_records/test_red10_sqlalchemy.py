"""Red team 10: the catch-up (`_kinds.watch_mapped_classes` from a scope's opening or a
decoration while ``sqlalchemy_unwatched``; `sqlalchemy_checks.check_configured`) when
SQLAlchemy came in unseen by the import hook."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

import purposeful  # noqa: E402

_SCRIPT = """
import sys
import importlib.abc
import importlib.machinery
import purposeful
from purposeful.errors import PurposefulError

SECRET_TAG = purposeful.Managed(purposes={"service-delivery": purposeful.ServiceAgreement("x")})

class Instrumentation(importlib.abc.MetaPathFinder):
    # an agent's import hook, installed after the tags, finding SQLAlchemy itself
    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("sqlalchemy"):
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, path, target)

sys.meta_path.insert(0, Instrumentation())

from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, configure_mappers, mapped_column

class CasesBase(DeclarativeBase):  # the case database
    pass

class BillingBase(DeclarativeBase):  # the billing database: a registry of its own
    pass

class Client(CasesBase):  # never decorated
    __tablename__ = "client"
    client_id: Mapped[str] = mapped_column(primary_key=True)
    secret: Mapped[str] = mapped_column(info={"purposeful": SECRET_TAG})

class Invoice(BillingBase):  # never decorated either
    __tablename__ = "invoice"
    client_id: Mapped[str] = mapped_column(primary_key=True)
    secret: Mapped[str] = mapped_column(info={"purposeful": SECRET_TAG})

engines = {}
for model, base in ((Client, CasesBase), (Invoice, BillingBase)):
    engines[model] = create_engine("sqlite://")
    base.metadata.create_all(engines[model])
    with Session(engines[model]) as session:
        session.add(model(client_id="c-1", secret="s-1"))
        session.commit()
configure_mappers()

actor = purposeful.Actor("staff-1", "caseworker", purposeful.SENSITIVE)
for _ in range(2):
    try:
        with purposeful.use("service-delivery.case-management", actor=actor):
            pass
    except PurposefulError as exc:
        print("refused at a scope")
for model in (Client, Invoice):
    try:
        with Session(engines[model]) as session:
            row = session.execute(select(model)).scalar_one()
            print(f"{model.__name__} read: {row.secret}")
    except Exception as exc:
        print(f"{model.__name__} refused")
"""


def test_every_undecorated_model_is_refused_by_the_catch_up_not_only_the_first() -> None:
    """Attack: an agent's import hook ahead of purposeful's keeps it from seeing
    SQLAlchemy's import; the app has two declarative bases (two databases, hence two
    registries), each with a model declaring a managed column, neither decorated. The
    first scope opened catches up: `check_configured` walks the registries, and at the
    first refused mapper marks it failed (``_configure_failed`` and its registry flagged)
    and raises; the mappers after it are never looked at, and ``sqlalchemy_unwatched``
    is already False, so no later scope looks again. Which model is checked first follows
    the order of a ``set`` of registries (it varies from run to run).
    Harm: the other model's registry is not flagged, so its queries never configure
    anything and never meet the failure: its managed column is read with no decision, for
    good, while docs/sqlalchemy.md says the catch-up refuses such a model, 'which stays
    refused'. `check_configured` could check (and mark) every configured mapper before
    raising the first refusal."""
    source = Path(purposeful.__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(source)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    said = done.stdout.splitlines()
    assert "refused at a scope" in said, done.stdout
    read = [line for line in said if " read: " in line]
    assert not read, f"an undecorated model's managed column read with no decision: {read}"
