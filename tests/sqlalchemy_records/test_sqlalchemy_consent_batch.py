"""Rows loaded through the SQLAlchemy ORM inside a scope: the first consent question asks
about every loaded person at once."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column  # noqa: E402

import purposeful  # noqa: E402
from _records import BatchCountingStore  # noqa: E402
from purposeful import CONSENT, SENSITIVE, Actor, Managed, PurposeViolation  # noqa: E402
from purposeful._consent import CACHE  # noqa: E402
from purposeful.errors import DictStorageWarning  # noqa: E402

CASE_MANAGEMENT = "service-delivery.case-management"
WORKER = Actor("staff-7", role="caseworker", clearance=SENSITIVE)
PEOPLE = [f"sqla-client-{n:02d}" for n in range(20)]


class SqlaConsentBase(DeclarativeBase):
    pass


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    class SqlaConsentNote(SqlaConsentBase):
        __tablename__ = "sqla_consent_note"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        notes: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={CASE_MANAGEMENT: CONSENT})}
        )


@pytest.fixture
def session(engine: Any) -> Iterator[Session]:
    SqlaConsentBase.metadata.create_all(engine)
    with Session(engine) as made:
        made.add_all(SqlaConsentNote(client_id=p, notes=f"notes of {p}") for p in PEOPLE)
        made.commit()
        made.expunge_all()
        yield made
    SqlaConsentBase.metadata.drop_all(engine)


def test_rows_loaded_in_a_scope_are_asked_about_in_one_batch(session: Session) -> None:
    CACHE.clear()
    store = BatchCountingStore()
    for person in PEOPLE[::2]:
        store.give(person, CASE_MANAGEMENT)
    purposeful.configure(consent=store)
    with purposeful.use(CASE_MANAGEMENT, actor=WORKER):
        rows = session.scalars(select(SqlaConsentNote).order_by(SqlaConsentNote.client_id)).all()
        assert store.batches == []  # loading asks nothing
        found = {}
        for row in rows:
            try:
                found[row.client_id] = row.notes
            except PurposeViolation:
                found[row.client_id] = "refused"
    assert store.batches == [len(PEOPLE)]
    assert found == {
        p: (f"notes of {p}" if n % 2 == 0 else "refused") for n, p in enumerate(PEOPLE)
    }
    CACHE.clear()


def test_rows_loaded_outside_a_scope_are_not_expected(session: Session) -> None:
    CACHE.clear()
    store = BatchCountingStore()
    purposeful.configure(consent=store)
    rows = session.scalars(select(SqlaConsentNote)).all()
    with purposeful.use(CASE_MANAGEMENT, actor=WORKER), pytest.raises(PurposeViolation):
        rows[0].notes  # noqa: B018
    assert store.batches == [1]
    CACHE.clear()
