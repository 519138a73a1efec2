"""The audit trail a breach is assessed from: the report's relational shape on an engine.

A `Trail` runs the assessment's own queries (`purposeful.breach._queries`) over the tables
of `purposeful.audit.report.shape`, on one of three engines:

- DuckDB (``purposeful[report]``), over OTLP JSON trace files and ledgers
  (`Trail.from_files`) or a Parquet archive of ``purposeful audit convert``
  (`Trail.from_archive`), through `purposeful.audit.report.ReportDatabase`;
- ClickHouse (``purposeful[clickhouse]``), over the OpenTelemetry Collector's trace table
  (`Trail.on_clickhouse`), the shape spelled as views of it;
- SQLite from the standard library (``engine="stdlib"``), when no extra is installed: the
  report's readers fill the same tables in an in-memory database. It holds the whole trail
  in memory, so it suits a month of a small service, not an agency's year.

What this module must not do: quote a value into SQL other than through `Trail.text` and
`Trail.moment` (each engine's own escaping); keep the trail after `close`; hold a subject
identifier (the trail has none, only pseudonyms).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Literal

from ..audit.report.reading import report_inputs
from ..audit.report.shape import TABLES, ShapeRows, from_stored_text, stored_text
from ..errors import BreachAssessmentError, ReportInputError

__all__ = ["ENGINES", "Engine", "Trail"]

Engine = Literal["duckdb", "stdlib"]
#: The engines `Trail.from_files` runs on: DuckDB, or SQLite from the standard library.
ENGINES: Final[tuple[Engine, ...]] = ("duckdb", "stdlib")

_Dialect = Literal["duckdb", "sqlite", "clickhouse"]
# as clickhouse_engine sets for the report's queries: outer joins give NULLs, and an
# aggregate over no rows is NULL, as in DuckDB and SQLite
_CLICKHOUSE_SETTINGS: Final = (
    "\nSETTINGS join_use_nulls = 1, aggregate_functions_null_for_empty = 1"
)


class Trail:
    """The audit trail, as tables a query can ask; use it as a context manager, or `close` it.

    Make one with `from_files`, `from_archive` or `on_clickhouse`.

    Attributes:
        label: what the trail was read from, for the assessment to say.
        engine: ``"duckdb"``, ``"sqlite"`` (the standard library's) or ``"clickhouse"``.
        ledgers_verified: whether its ledgers were verified first (None: not said).
    """

    def __init__(
        self,
        run: Callable[[str], Sequence[Sequence[Any]]],
        *,
        dialect: _Dialect,
        label: str,
        close: Callable[[], None] = lambda: None,
        ledgers_verified: bool | None = None,
    ) -> None:
        self._run = run
        self.engine: _Dialect = dialect
        self.label = label
        self._close = close
        self.ledgers_verified = ledgers_verified

    @classmethod
    def from_files(
        cls,
        traces: Iterable[str | os.PathLike[str]] = (),
        ledgers: Iterable[str | os.PathLike[str]] = (),
        *,
        engine: Engine = "duckdb",
        ledgers_verified: bool | None = None,
    ) -> Trail:
        """The trail in OTLP JSON trace files and ledger files.

        Args:
            engine: ``"duckdb"`` (needs ``purposeful[report]``) or ``"stdlib"``.
            ledgers_verified: whether the caller verified the ledgers first.

        Raises:
            BreachAssessmentError: no file was given, or *engine* is not one of `ENGINES`.
            ReportInputError: a file is missing, unreadable or malformed (names it).
            MissingExtra: DuckDB is needed and not installed.
        """
        traces, ledgers = list(traces), list(ledgers)
        if not traces and not ledgers:
            raise BreachAssessmentError(
                "a breach is assessed from the audit trail: give OTLP JSON trace files or ledgers"
            )
        label = ", ".join(str(path) for path in [*traces, *ledgers])
        if engine == "duckdb":
            from ..audit.report import ReportDatabase

            database = ReportDatabase.from_files(traces, ledgers, ledgers_verified=ledgers_verified)
            return cls(
                database.query,
                dialect="duckdb",
                label=label,
                close=database.close,
                ledgers_verified=ledgers_verified,
            )
        if engine == "stdlib":
            connection = _sqlite_trail(traces, ledgers)
            return cls(
                lambda sql: _sqlite_rows(connection, sql),
                dialect="sqlite",
                label=label,
                close=connection.close,
                ledgers_verified=ledgers_verified,
            )
        raise BreachAssessmentError(
            f"the engine must be one of {', '.join(ENGINES)}, not {str(engine)!r}"
        )

    @classmethod
    def from_archive(cls, directory: str | os.PathLike[str]) -> Trail:
        """The trail in a Parquet archive of ``purposeful audit convert`` (DuckDB).

        Raises:
            ReportInputError: *directory* is not such an archive.
            MissingExtra: DuckDB is not installed.
        """
        from ..audit.report import ReportDatabase

        database = ReportDatabase.from_parquet(directory)
        return cls(database.query, dialect="duckdb", label=str(directory), close=database.close)

    @classmethod
    def on_clickhouse(cls, url: str, *, table: str = "otel_traces") -> Trail:
        """The purpose spans in the Collector's ClickHouse *table*, at *url*
        (``https://user@host:8443/database``; the password from the environment, as for
        ``purposeful audit report --clickhouse``).

        Raises:
            MissingExtra: clickhouse-connect is not installed.
            ConfigurationError: the URL or the table name is wrong.
            ReportInputError: the server cannot be reached, or cannot answer.
        """
        from ..audit.report.clickhouse_engine import connect

        run, label = connect(url)
        return cls._over_clickhouse(run, label, table)

    @classmethod
    def _over_clickhouse(
        cls,
        run: Callable[[str, Mapping[str, str]], Sequence[Sequence[Any]]],
        label: str,
        table: str,
    ) -> Trail:
        """The trail over *table*, each query run by *run* (a `ClickHouseRun`)."""
        from ..audit.report.clickhouse_engine import shape_ctes

        ctes = shape_ctes(table)
        parameters = {"source": label, "wanted": ""}

        def query(sql: str) -> Sequence[Sequence[Any]]:
            rows = run(ctes + sql + _CLICKHOUSE_SETTINGS, parameters)
            return [tuple(_plain(value) for value in row) for row in rows]

        return cls(query, dialect="clickhouse", label=f"{label} ({table})")

    def query(self, sql: str) -> Sequence[Sequence[Any]]:
        """Run one query over the shape's tables; text comes back as it was read."""
        return self._run(sql)

    def text(self, value: str) -> str:
        """*value* as a string literal of this engine's SQL, as the trail stores it.

        Raises:
            BreachAssessmentError: *value* holds a control character (no name does).
        """
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise BreachAssessmentError(
                "a name given as compromised holds a control character; names in the audit "
                "trail have none, so check how it was copied"
            )
        stored = stored_text(value)
        if self.engine == "clickhouse":
            return "'" + stored.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + stored.replace("'", "''") + "'"

    def moment(self, value: datetime) -> str:
        """*value* (aware) as this engine's literal of the trail's times (naive UTC)."""
        spelled = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if self.engine == "clickhouse":
            return f"toDateTime64('{spelled}', 6, 'UTC')"
        if self.engine == "duckdb":
            return f"TIMESTAMP '{spelled}'"
        return f"'{spelled}'"

    @staticmethod
    def time(value: object) -> datetime | None:
        """A time a query returned (naive UTC, or SQLite's text of one) as an aware moment."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f")
        if not isinstance(value, datetime):
            raise TypeError(f"not a time: {type(value).__name__}")
        return value.replace(tzinfo=UTC)

    def close(self) -> None:
        """Forget the trail (an in-memory database is gone)."""
        self._close()

    def __enter__(self) -> Trail:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Trail(engine={self.engine!r}, label={self.label!r})"


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return from_stored_text(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _sqlite_value(value: object) -> object:
    if isinstance(value, str):
        return stored_text(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _sqlite_trail(traces: list[Any], ledgers: list[Any]) -> sqlite3.Connection:
    """An in-memory SQLite database holding the shape's tables of the files."""
    # ledgers first, as every engine reads them: a trace part a ledger holds is left out
    inputs = report_inputs(traces, ledgers)
    for path, _, _ in inputs:
        if not path.is_file():
            raise ReportInputError("no such file; check the path", path=path)
    connection = sqlite3.connect(":memory:")
    try:
        for name, columns in TABLES.items():
            spelled = ", ".join(f"{column} {kind}" for column, kind in columns)
            connection.execute(f"CREATE TABLE {name} ({spelled})")

        def load(rows: ShapeRows) -> None:
            for name, batch in rows.take():
                marks = ", ".join("?" * len(TABLES[name]))
                connection.executemany(
                    f"INSERT INTO {name} VALUES ({marks})",
                    [tuple(_sqlite_value(value) for value in row) for row in batch],
                )

        rows = ShapeRows()
        for path, format, reader in inputs:
            rows.add_source(path, format, reader(path), every=(10_000, load))
            load(rows)
        rows.finish()
        load(rows)
    except BaseException:
        connection.close()
        raise
    return connection


def _sqlite_rows(connection: sqlite3.Connection, sql: str) -> Sequence[Sequence[Any]]:
    rows = []
    for row in connection.execute(sql).fetchall():
        rows.append(tuple(_sqlite_out(value) for value in row))
    return rows


def _sqlite_out(value: object) -> object:
    # times come back as the text they were stored as: `Trail.time` reads them
    return from_stored_text(value) if isinstance(value, str) else value
