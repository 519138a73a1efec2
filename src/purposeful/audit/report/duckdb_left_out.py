"""A trace file's scope parts that a ledger holds, found for the DuckDB reader to leave out.

A service with both audit sinks writes every scope part twice; a report counts each once,
from the ledger (`purposeful.audit.report.records.LedgerParts`). When DuckDB reads a trace
file itself (`purposeful.audit.report.duckdb_json`), its spans' ids and part numbers are
checked against the ledgers' here, in Python, so that the decision is the very one the
validating reader's callers make: only ids and numbers come out of DuckDB, a batch at a
time, and the places of the spans found go back into a table, so that memory stays flat
however many spans the file holds.

What this module must not do: put an input's value into SQL text (ids come back as rows,
and the places go in as a bound list).
"""

from __future__ import annotations

from typing import Any, Final

from .records import LedgerParts

__all__ = ["leave_out"]

_IDENTIFIED: Final = "otlp_identified"
#: How many spans' ids are checked against the ledgers' at a time.
_BATCH: Final = 50_000


def leave_out(
    connection: Any, spans: str, target: str, ledger_parts: LedgerParts | None
) -> tuple[Any, int]:
    """Make the table *target* (``ord HUGEINT``) of the purpose spans in *spans* whose part
    *ledger_parts* holds; returns the place (``ord``) of the first, None if none, and how
    many.

    Args:
        spans: the table of a file's spans: ``ord`` (a span's place), ``kind`` (1 for a
            purpose span), ``scope_id_given`` and ``part_given`` (as the span says them).
        target: the table to make (or make again, empty).
        ledger_parts: the ledgers' parts; None or empty when no ledger was read.
    """
    connection.execute(f"CREATE OR REPLACE TEMPORARY TABLE {target} (ord HUGEINT)")
    if ledger_parts is None or not len(ledger_parts):
        return None, 0
    # an empty id is none (a scope written whole, never a ledger's part), as the readers say
    connection.execute(
        f"""CREATE OR REPLACE TEMPORARY TABLE {_IDENTIFIED} AS
            SELECT ord, scope_id_given AS scope_id, coalesce(part_given, 0) AS part,
                   row_number() OVER (ORDER BY ord) - 1 AS n
            FROM {spans}
            WHERE kind = 1 AND scope_id_given IS NOT NULL AND scope_id_given <> ''"""
    )
    try:
        (identified,) = connection.execute(f"SELECT count(*) FROM {_IDENTIFIED}").fetchone()
        first, count = None, 0
        for start in range(0, identified, _BATCH):
            rows = connection.execute(
                f"SELECT ord, scope_id, part FROM {_IDENTIFIED} WHERE n >= ? AND n < ? ORDER BY n",
                [start, start + _BATCH],
            ).fetchall()
            found = [ord for ord, scope_id, part in rows if ledger_parts.holds(scope_id, part)]
            if found:
                first = found[0] if first is None else first
                count += len(found)
                connection.execute(
                    f"INSERT INTO {target} SELECT UNNEST(CAST(? AS HUGEINT[]))", [found]
                )
    finally:
        connection.execute(f"DROP TABLE IF EXISTS {_IDENTIFIED}")
    return first, count
