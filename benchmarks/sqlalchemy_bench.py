"""SQLAlchemy records: a checked read against SQLAlchemy's own attribute read, and the pinned
list view of ``handlers.py`` over 50 loaded rows.

- ``checked_read_ratio_sqlalchemy``: ``row.given_name``, a managed column of a loaded row,
  inside an open scope after its first read (the hot path), against ``row.region``, a plain
  mapped column of the same row read by SQLAlchemy's own ``InstrumentedAttribute.__get__``
  (already a Python call, so the target is 3 where slotted attrs reads allow 10). Timed
  interleaved, round after round, as ``run.py``'s ``checked_read_ratio``; the median of the
  rounds' ratios;
- ``list_view_overhead_pct_sqlalchemy``: ``handlers.py``'s list view (50 records of its 8
  short string fields, 6 managed, read row by row into dicts and returned as JSON, the
  guarded variant inside one case-management scope, no audit sink) where both variants'
  records are rows of a declarative model, loaded once from an in-memory SQLite database
  and kept in their session (no query is timed): plain (no purposeful) against guarded.
  ``list_view_sqlalchemy_plain_us`` and ``list_view_sqlalchemy_guarded_us`` are the medians.

    python benchmarks/sqlalchemy_bench.py
"""

from __future__ import annotations

import json
import statistics
import timeit
import warnings
from typing import Any

import handlers
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import purposeful
from purposeful.errors import DictStorageWarning


def _models() -> tuple[type, type, Any]:
    """The plain and the guarded model, and a session holding 50 loaded rows of each."""

    class BenchBase(DeclarativeBase):
        pass

    def managed(category: str) -> Any:
        declared = purposeful.Managed(
            purposes={handlers.CASE_MANAGEMENT: handlers.AGREEMENT}, category=category
        )
        return mapped_column(info={"purposeful": declared})

    class PlainPersonRow(BenchBase):
        __tablename__ = "plain_person"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        given_name: Mapped[str]
        family_name: Mapped[str]
        date_of_birth: Mapped[str]
        phone: Mapped[str]
        email: Mapped[str]
        address: Mapped[str]
        region: Mapped[str]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)

        @purposeful.record(subject="client_id")
        class PersonRow(BenchBase):
            __tablename__ = "person"
            client_id: Mapped[str] = mapped_column(primary_key=True)
            given_name: Mapped[str] = managed("identity")
            family_name: Mapped[str] = managed("identity")
            date_of_birth: Mapped[str] = managed("identity")
            phone: Mapped[str] = managed("contact")
            email: Mapped[str] = managed("contact")
            address: Mapped[str] = managed("contact")
            region: Mapped[str]

    engine = create_engine("sqlite://")
    BenchBase.metadata.create_all(engine)
    session = Session(engine, expire_on_commit=False)
    names = [c.key for c in PlainPersonRow.__table__.columns]
    for n in range(handlers.RECORDS):
        values = dict(zip(names, handlers._values(n), strict=True))
        session.add_all([PlainPersonRow(**values), PersonRow(**values)])
    session.commit()
    session.expunge_all()
    # loaded by queries, as a handler would, and kept in the session
    plain = session.scalars(select(PlainPersonRow).order_by(PlainPersonRow.client_id)).all()
    guarded = session.scalars(select(PersonRow).order_by(PersonRow.client_id)).all()
    return list(plain), list(guarded), session


def measure(repeat: int, number: int) -> dict[str, float]:
    """The SQLAlchemy figures (module docstring); *number* reads per round for the ratio,
    *number* / 100 list views per round."""
    plain_rows, guarded_rows, session = _models()
    rounds = max(repeat, handlers.MIN_ROUNDS)
    row = guarded_rows[0]
    plain_read = timeit.Timer("row.region", globals={"row": row})
    checked_read = timeit.Timer("row.given_name", globals={"row": row})
    ratios = []
    with purposeful.configured(sinks=[]):
        for _ in range(rounds):
            plain_ns = plain_read.timeit(number) / number
            with purposeful.use(handlers.CASE_MANAGEMENT, actor=handlers.ACTOR):
                _ = row.given_name
                checked_ns = checked_read.timeit(number) / number
            ratios.append(checked_ns / plain_ns)

        def plain_view() -> str:
            return json.dumps(handlers._rows(plain_rows))

        def guarded_view() -> str:
            with purposeful.use(handlers.CASE_MANAGEMENT, actor=handlers.ACTOR):
                return json.dumps(handlers._rows(guarded_rows))

        if plain_view() != guarded_view():
            raise SystemExit("the SQLAlchemy list views do not return the same response")
        calls = max(number // 100, 200)
        timers = (timeit.Timer(plain_view), timeit.Timer(guarded_view))
        runs: tuple[list[float], list[float]] = ([], [])
        for _ in range(rounds):
            for timer, times in zip(timers, runs, strict=True):
                times.append(timer.timeit(calls) / calls * 1e6)
    session.close()
    plain_us, guarded_us = (statistics.median(times) for times in runs)
    return {
        "checked_read_ratio_sqlalchemy": statistics.median(ratios),
        "list_view_sqlalchemy_plain_us": plain_us,
        "list_view_sqlalchemy_guarded_us": guarded_us,
        "list_view_overhead_pct_sqlalchemy": (guarded_us / plain_us - 1) * 100,
    }


if __name__ == "__main__":
    print(json.dumps(measure(handlers.MIN_ROUNDS, 200_000), indent=2))
