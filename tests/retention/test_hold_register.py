"""The hold register, on every backend: legal holds with who, why and until when; holds for
pending access and correction requests; release; nothing personal in a repr or a message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from _retention import RetainedNote

from purposeful.access import AccessRequest
from purposeful.corrections import MemoryCorrectionStore
from purposeful.errors import (
    ConfigurationError,
    HoldStoreError,
    StoreClosed,
    StoreCorrupt,
    UnknownHold,
)
from purposeful.holds import BaseHoldStore, HoldKind, MemoryHoldStore, SQLiteHoldStore

MOMENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def register(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseHoldStore]:
    store: BaseHoldStore
    if request.param == "memory":
        store = MemoryHoldStore()
    elif request.param == "sqlite":
        store = SQLiteHoldStore(tmp_path / "h.db")
    else:
        dsn, schema = request.getfixturevalue("postgres_schema")
        pytest.importorskip("psycopg")
        from purposeful.holds.postgres import PostgresHoldStore

        store = PostgresHoldStore(dsn, schema=schema)
    yield store
    store.close()


def test_a_legal_hold_says_who_why_and_until_when(register: BaseHoldStore) -> None:
    hold = register.place(
        reason="Secret v Agency", by="staff-1", subject="secret-id", record_type="CaseNote",
        until=date(2027, 5, 1), at=MOMENT,
    )  # fmt: skip
    assert register.get(hold.id) == hold
    assert hold.kind is HoldKind.LEGAL
    assert hold.describe() == f"legal hold {hold.id}, placed by staff-1, until 1 May 2027"
    assert hold.covers("secret-id", "CaseNote", date(2027, 5, 1))
    assert not hold.covers("secret-id", "CaseNote", date(2027, 5, 2))
    assert not hold.covers("someone-else", "CaseNote", date(2027, 1, 1))
    assert not hold.covers("secret-id", "Client", date(2027, 1, 1))
    assert "Secret" not in repr(hold)
    assert "secret-id" not in repr(hold)
    assert register.in_force(date(2027, 5, 2)) == []


def test_a_released_hold_stays_in_the_register_with_who_released_it(
    register: BaseHoldStore,
) -> None:
    hold = register.place(reason="inquiry", by="staff-1", at=MOMENT)
    released = register.release(hold.id, by="staff-2", at=MOMENT)
    assert released.released_by == "staff-2"
    assert register.release(hold.id, by="staff-3") == released  # twice changes nothing
    assert register.holds() == [released]
    assert register.in_force(date(2026, 3, 3)) == []
    assert "released by staff-2" in released.describe()


def test_pending_requests_hold_their_persons_records(register: BaseHoldStore) -> None:
    request = AccessRequest("REQ-7", "secret-id", date(2026, 3, 2))
    held = register.hold_request(request, by="privacy-officer")
    assert (held.kind, held.subject, held.reason) == (
        HoldKind.ACCESS_REQUEST,
        "secret-id",
        "REQ-7",
    )
    corrections = MemoryCorrectionStore()
    correction = corrections.request_correction(
        "secret-id", RetainedNote("secret-id", "n-1", "t"), "text", "new", "why"
    )
    corrected = register.hold_request(correction, by="privacy-officer")
    assert corrected.kind is HoldKind.CORRECTION_REQUEST
    assert corrected.reason == correction.id
    assert [h.id for h in register.in_force()] == [held.id, corrected.id]
    with pytest.raises(ConfigurationError, match="AccessRequest or a Correction"):
        register.hold_request(object(), by="x")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reason": "", "by": "staff"},
        {"reason": "why", "by": ""},
        {"reason": "why", "by": "staff", "subject": ""},
        {"reason": "why", "by": "staff", "record_type": 3},
        {"reason": "why", "by": "staff", "until": datetime(2027, 1, 1, tzinfo=UTC)},
        {"reason": "why", "by": "staff", "at": datetime(2027, 1, 1)},
    ],
)
def test_a_hold_placed_wrongly_is_refused_and_nothing_is_kept(
    register: BaseHoldStore, kwargs: dict[str, object]
) -> None:
    with pytest.raises(ConfigurationError):
        register.place(**kwargs)  # type: ignore[arg-type]
    assert register.holds() == []


def test_an_unknown_hold_is_named_only_when_its_id_is_a_hold_id(register: BaseHoldStore) -> None:
    with pytest.raises(UnknownHold, match="0" * 32):
        register.get("0" * 32)
    with pytest.raises(UnknownHold) as unknown:
        register.release("secret-id", by="x")
    assert "secret-id" not in str(unknown.value)


def test_a_closed_register_refuses_everything(register: BaseHoldStore) -> None:
    register.close()
    with pytest.raises(StoreClosed):
        register.place(reason="why", by="x")
    with pytest.raises(StoreClosed):
        register.holds()


def test_the_sqlite_register_keeps_holds_across_processes(tmp_path: Path) -> None:
    with SQLiteHoldStore(tmp_path / "h.db") as first:
        hold = first.place(reason="why", by="x", until=date(2027, 1, 1), at=MOMENT)
    with SQLiteHoldStore(tmp_path / "h.db") as again:
        assert again.holds() == [hold]
        again.verify()


def test_the_sqlite_register_refuses_another_file(tmp_path: Path) -> None:
    (tmp_path / "not.db").write_bytes(b"not a database" * 100)
    with pytest.raises(StoreCorrupt):
        SQLiteHoldStore(tmp_path / "not.db")
    with pytest.raises(HoldStoreError):
        SQLiteHoldStore(tmp_path / "missing" / "h.db")


def test_the_postgres_register_refuses_a_nul_and_keeps_holds_across_services(
    postgres_schema: tuple[str, str],
) -> None:
    pytest.importorskip("psycopg")
    from purposeful.holds.postgres import PostgresHoldStore

    dsn, schema = postgres_schema
    with PostgresHoldStore(dsn, schema=schema) as first:
        with pytest.raises(ConfigurationError, match="NUL"):
            first.place(reason="why\0", by="x")
        hold = first.place(reason="why", by="x", until=date(2027, 1, 1), at=MOMENT)
    with PostgresHoldStore(dsn, schema=schema) as again:
        assert again.holds() == [hold]
        assert again.release(hold.id, by="y").released_by == "y"
