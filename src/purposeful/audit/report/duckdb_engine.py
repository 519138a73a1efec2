"""The report on DuckDB, embedded: inputs loaded once into the relational shape, every figure
a query; Parquet archives for repeated questions.

`ReportDatabase` holds the shape's tables (`purposeful.audit.report.shape`) in a DuckDB
database in memory. `ReportDatabase.from_files` reads OTLP JSON trace files with DuckDB's
own JSON reader, the shape's rows derived and every rule of the validating reader checked in
SQL (`purposeful.audit.report.duckdb_json`); a trace file that fails a check, and every
ledger, is read by the report's validating readers, so malformed input is a
`ReportInputError` with the file and line, as with the streaming report. `to_parquet` writes
one Parquet file per table (``purposeful audit convert``), `ReportDatabase.from_parquet`
opens such an archive, and `report` runs the figure queries (`purposeful.audit.report.sql`).

DuckDB is an optional dependency (``pip install 'purposeful[report]'``): it is imported
when a database is first made, and its absence is a `MissingExtra`.

What this module must not do: put an input's value into SQL text (rows go in as bound
lists; only file paths, quoted, and the shape's own names are spelled into statements);
hold a subject identifier (the person's pseudonyms only, in the ``wanted`` table).
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Final

from ..._shared.files import atomic_directory
from ...errors import ConfigurationError, MissingExtra, ReportInputError
from ..history import SubjectQuery
from . import duckdb_json
from .building import Progress, Report
from .reading import OTLP_JSON_INPUT, input_size, report_inputs
from .shape import TABLES, ShapeRows, from_stored_text, stored_text
from .sql import report_from

__all__ = ["ReportDatabase", "write_rows_parquet"]

#: How many scope parts are read before their rows are loaded into the database.
_BATCH: Final = 20_000
#: Tables an archive keeps sorted by pseudonym: one person's rows are then in a few row
#: groups, which a query about them reads alone (Parquet's per-group minimum and maximum).
_ARCHIVE_ORDER: Final = {
    "part_subjects": " ORDER BY pseudonym, part_key, position",
    "part_reads": " ORDER BY pseudonym, part_key, name",
}
#: DuckDB's memory limit when reading an archive: the figures' hash tables spill beyond it.
#: With one thread (`ARCHIVE_THREADS`) the report's peak is about 145 MiB at 200k spans, 185
#: at 1M and 160 at 2M; 200 MB on two threads peaked at 313 MiB at 1M. What DuckDB holds
#: outside the limit is a perfect hash join's arrays, which it uses only while the keys of
#: a join's smaller side span at most about a million values: the peak is near 1M parts.
ARCHIVE_MEMORY: Final = "64MB"
#: DuckDB's threads when reading an archive with a memory limit: each thread holds its own
#: hash tables, and two cannot share 64 MB (the figures take 2 to 3 s at 1M spans on one).
ARCHIVE_THREADS: Final = 1
#: The archive's note of whether its ledgers were verified when it was made.
_VERIFIED_TABLE: Final = "archive"


#: The columns of the shape that may be NULL; an archive with a NULL elsewhere is damaged.
_NULLABLE: Final = {
    "scope_parts": frozenset(
        {
            "scope_id",
            "purpose",
            "actor_id",
            "actor_role",
            "subjects_count",
            "site_file",
            "site_function",
            "site_line",
            "upstream_service",
            "upstream_scope_id",
        }
    ),
    "part_subjects": frozenset({"key_id"}),
    "part_disclosures": frozenset({"subject", "subject_key_id"}),
}


def _damaged(folder: Path, file: str) -> ReportInputError:
    """An archive whose *file* holds what `ReportDatabase.to_parquet` never writes."""
    return ReportInputError(
        f"{file} is damaged or was not written by purposeful audit convert (it is not "
        "Parquet, or holds types or values convert never writes); convert the inputs again",
        path=folder,
    )


def _duckdb() -> ModuleType:
    try:
        import duckdb
    except ImportError:
        raise MissingExtra(
            "the audit report's DuckDB engine needs DuckDB: pip install 'purposeful[report]' "
            "(or pass --engine stream for the slower reader that needs nothing more)",
            extra="report",
        ) from None
    return duckdb


def write_rows_parquet(
    target: Path, columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    """Write *rows* (of str, int, bool or None) as one Parquet file, mode 0600.

    Raises:
        MissingExtra: DuckDB is not installed.
    """
    connection = _duckdb().connect(":memory:")
    try:
        kinds = []
        for i in range(len(columns)):
            found = {type(row[i]) for row in rows} - {type(None)}
            kinds.append(
                "BOOLEAN" if found == {bool} else "BIGINT" if found == {int} else "VARCHAR"
            )
        values = [
            [
                None
                if row[i] is None
                else stored_text(str(row[i]))
                if kind == "VARCHAR"
                else row[i]
                for row in rows
            ]
            for i, kind in enumerate(kinds)
        ]
        selected = ", ".join(
            f"UNNEST(CAST(${i} AS {kind}[])) AS {_identifier(name)}"
            for i, (name, kind) in enumerate(zip(columns, kinds, strict=True), start=1)
        )
        connection.execute(f"CREATE TABLE t AS SELECT {selected}", values)
        _copy_out(connection, "t", target)
    finally:
        connection.close()


def _copy_out(connection: Any, source: str, target: Path) -> None:
    """Write *source* (a table, or a query in parentheses) to *target* as Parquet, mode
    0600.

    Raises:
        OSError: it cannot be written (a full disk, a quota), as a file write says so.
    """
    try:
        connection.execute(f"COPY {source} TO {_literal(target)} (FORMAT parquet)")
    except _duckdb().IOException as error:
        raise OSError(errno.EIO, str(error).splitlines()[0]) from None
    target.chmod(0o600)


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str | Path) -> str:
    """*text* as a SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


class ReportDatabase:
    """The relational shape of some inputs, in DuckDB, answering the report's queries.

    Use it as a context manager, or `close` it.

    Args:
        memory_limit: DuckDB's memory limit, such as ``"512MB"``; None for DuckDB's default
            (80% of the machine's memory). Beyond it DuckDB spills to temporary files.
    """

    def __init__(self, *, memory_limit: str | None = None) -> None:
        duckdb = _duckdb()
        self._connection: Any = duckdb.connect(":memory:")
        # spilled pages go to a private directory of the system's, never the working one
        self._spill = tempfile.TemporaryDirectory(prefix="purposeful-report-")
        self._connection.execute(f"SET temp_directory = {_literal(self._spill.name)}")
        self._memory_limit = memory_limit
        if memory_limit is not None:
            try:
                self._connection.execute(f"SET memory_limit = {_literal(memory_limit)}")
            except duckdb.Error as exc:
                self.close()
                said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise ConfigurationError(
                    f"DuckDB does not take {memory_limit!r} as a memory limit ({said}); give "
                    f"a size such as 512MB or 2GB"
                ) from None
        self._ledgers_verified: bool | None = None
        #: the archive this database reads (`from_parquet`), else None
        self._archive: Path | None = None

    @classmethod
    def from_files(
        cls,
        traces: Iterable[str | os.PathLike[str]] = (),
        ledgers: Iterable[str | os.PathLike[str]] = (),
        *,
        progress: Progress | None = None,
        ledgers_verified: bool | None = None,
        memory_limit: str | None = None,
    ) -> ReportDatabase:
        """Read the ledger files, then the trace files, into a new database.

        A scope part in a ledger and in a trace file is read once, from the ledger; the
        trace file's copies are counted among what it ignored (see
        `purposeful.audit.report.reading.report_inputs`).

        Args:
            traces: OTLP JSON trace files (see `purposeful.audit.report.read_otlp_json`).
            ledgers: ledger files (see `purposeful.audit.report.read_ledger`).
            progress: told ``(bytes read, bytes in all)`` as the files are read: a trace
                file DuckDB reads counts when it is done, a file the validating reader reads
                line by line.
            ledgers_verified: whether the caller verified the ledgers first, for the
                report (and an archive made of this database) to say.
            memory_limit: see `ReportDatabase`.

        Raises:
            ReportInputError: a file is missing or unreadable (found before anything is
                read), or holds something that cannot be read; names the file and line.
            MissingExtra: DuckDB is not installed.
        """
        inputs = report_inputs(traces, ledgers)
        total = sum(input_size(path) for path, _, _ in inputs)
        database = cls(memory_limit=memory_limit)
        try:
            # nothing depends on the order rows are stored in: the SQL reader orders the
            # spans itself, and every figure has its ORDER BY (and the order costs memory)
            database._connection.execute("SET preserve_insertion_order = false")
            database._create_tables()
            done = 0

            def advance(size: int) -> None:
                nonlocal done
                done += size
                if progress is not None:
                    progress(done, total)

            rows = ShapeRows()
            for path, format, reader in inputs:
                if format == OTLP_JSON_INPUT and database._read_in_sql(rows, path):
                    advance(input_size(path))
                    continue
                rows.add_source(
                    path, format, reader(path, on_bytes=advance), every=(_BATCH, database._load)
                )
                database._load(rows)
            rows.finish()
            database._load(rows)
            database._ledgers_verified = ledgers_verified
            if progress is not None:
                progress(max(done, total), max(done, total))
        except _duckdb().OutOfMemoryException:
            database.close()
            raise database._out_of_memory() from None
        except BaseException:
            database.close()
            raise
        return database

    @classmethod
    def from_parquet(
        cls, directory: str | os.PathLike[str], *, memory_limit: str | None = ARCHIVE_MEMORY
    ) -> ReportDatabase:
        """Open an archive `to_parquet` wrote (``purposeful audit convert``).

        Args:
            directory: the archive.
            memory_limit: DuckDB's memory limit (64 MB, on one thread, unless given; None
                for DuckDB's default, on every core): the report's exact distinct counts
                spill to temporary files beyond it, so its memory stays flat as the archive
                grows. Raise it for heavy queries of your own (`query`).

        Raises:
            ReportInputError: *directory* is not such an archive.
            MissingExtra: DuckDB is not installed.
        """
        folder = Path(directory)
        database = cls(memory_limit=memory_limit)
        try:
            if memory_limit is not None:
                database._connection.execute(f"SET threads = {ARCHIVE_THREADS}")
            # the figures read the archive in any order: each one's ORDER BY orders it
            database._connection.execute("SET preserve_insertion_order = false")
            for name, columns in (*TABLES.items(), (_VERIFIED_TABLE, (("verified", ""),))):
                file = folder / f"{name}.parquet"
                if not file.is_file():
                    raise ReportInputError(
                        f"has no {file.name}: it is not an archive made by purposeful audit "
                        "convert; convert the inputs with it first",
                        path=folder,
                    )
                database._open_table(folder, name, file, columns)
            verified = database._archive_rows(
                folder, f"{_VERIFIED_TABLE}.parquet", f"SELECT verified FROM {_VERIFIED_TABLE}"
            )
            if any(not isinstance(row[0], bool | None) for row in verified):
                raise _damaged(folder, f"{_VERIFIED_TABLE}.parquet")
            database._ledgers_verified = verified[0][0] if verified else None
            database._archive = folder
        except _duckdb().OutOfMemoryException:
            database.close()
            raise database._out_of_memory() from None
        except BaseException:
            database.close()
            raise
        return database

    def to_parquet(self, directory: str | os.PathLike[str]) -> None:
        """Write every table as ``<table>.parquet`` into *directory*, a new or empty one.

        Raises:
            ConfigurationError: *directory* holds files, or cannot be made.
        """
        self._connection.execute(
            f"CREATE OR REPLACE TABLE {_VERIFIED_TABLE} AS SELECT CAST(? AS BOOLEAN) AS verified",
            [self._ledgers_verified],
        )
        with atomic_directory(Path(directory)) as folder:  # the whole archive, or nothing
            for name in (*TABLES, _VERIFIED_TABLE):
                target = folder / f"{name}.parquet"
                order = _ARCHIVE_ORDER.get(name, "")
                _copy_out(self._connection, f"(SELECT * FROM {name}{order})", target)

    def report(
        self, *, subject: SubjectQuery | None = None, ledgers_verified: bool | None = None
    ) -> Report:
        """The report, every figure a query; with *subject*, the answer about that person.

        About one person, only what that page shows is computed (the sources, the summary,
        the refusals for the would-deny gate, and the answer): the tables about everyone's
        scopes are left empty.

        Args:
            subject: the person to answer about, if any.
            ledgers_verified: overrides what the database says (`from_files`, or the
                archive) of whether its ledgers were verified.
        """
        connection = self._connection
        connection.execute("CREATE OR REPLACE TEMPORARY TABLE wanted (pseudonym VARCHAR)")
        if subject is not None:
            connection.execute(
                "INSERT INTO wanted SELECT UNNEST(CAST(? AS VARCHAR[]))",
                [[stored_text(pseudonym) for pseudonym in subject.pseudonyms]],
            )
        verified = self._ledgers_verified if ledgers_verified is None else ledgers_verified
        try:  # `_run` answers running out of memory, and text no input was stored as
            return report_from(self._run, subject=subject, ledgers_verified=verified)
        except (_duckdb().Error, ValueError):
            if self._archive is None:
                raise
            # the archive's values are not what audit convert writes (its types and nulls
            # were checked when it was opened): reasons it cannot have encoded, say
            raise _damaged(self._archive, "a table") from None

    def query(self, sql: str) -> Sequence[Sequence[Any]]:
        """Run one query of your own over the shape's tables; returns its rows."""
        return self._run(sql)

    def close(self) -> None:
        """Close the database; its tables (in memory) and spilled pages are gone."""
        self._connection.close()
        self._spill.cleanup()

    def __enter__(self) -> ReportDatabase:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- loading -----------------------------------------------------------------------------

    def _read_in_sql(self, rows: ShapeRows, path: Path) -> bool:
        """Read the trace file *path* with DuckDB's own JSON reader, in SQL; False if the
        file must be read by the validating reader instead (see `duckdb_json`)."""
        connection = self._connection
        try:
            found = duckdb_json.read_file(connection, path, rows.ledger_parts)
        except _duckdb().Error:
            found = None
        if found is None:
            duckdb_json.drop(connection)
            return False
        source_no, first_part_key = rows.add_placed(path, OTLP_JSON_INPUT, found.ignored)
        in_parts: list[tuple[int, set[str]]] = []
        for start in range(0, found.parts, _BATCH):
            placed = rows.place(duckdb_json.SqlFile.skeleton(connection, start, _BATCH))
            duckdb_json.add_keys(connection, start, placed)
            in_parts += [(start + i, counted) for i, counted in placed.in_parts]
            self._load(rows)
        counting: list[tuple[int, list[str]]] = []
        if in_parts:
            kinds = duckdb_json.SqlFile.record_types(connection, [i for i, _ in in_parts])
            for (i, counted), record_types in zip(in_parts, kinds, strict=True):
                counting.append((i, ShapeRows.counting(counted, record_types)))
        duckdb_json.insert_rows(
            connection,
            source_no=source_no,
            kind=OTLP_JSON_INPUT,
            first_part_key=first_part_key,
            counting=counting,
        )
        return True

    def _run(self, sql: str) -> Sequence[Sequence[Any]]:
        try:
            found = self._connection.execute(sql).fetchall()
        except _duckdb().OutOfMemoryException:
            raise self._out_of_memory() from None
        try:
            return [
                tuple(from_stored_text(value) if isinstance(value, str) else value for value in row)
                for row in found
            ]
        except ValueError:
            if self._archive is None:
                raise
            # text no input can have been stored as (U+D7FF before a character below U+E000)
            raise _damaged(self._archive, "a table") from None

    def _archive_rows(self, folder: Path, file: str, sql: str) -> list[tuple[Any, ...]]:
        """*sql*'s rows over an archive's view; DuckDB's failure to read *file* (not
        Parquet, cut short) a `ReportInputError`."""
        try:
            rows: list[tuple[Any, ...]] = self._connection.execute(sql).fetchall()
        except _duckdb().OutOfMemoryException:
            raise
        except _duckdb().Error:
            raise _damaged(folder, file) from None
        return rows

    def _open_table(
        self, folder: Path, name: str, file: Path, columns: Sequence[tuple[str, str]]
    ) -> None:
        """The view *name* of the archive's *file*, checked to hold the columns and types
        `to_parquet` writes, and no NULL where the shape has none (`_NULLABLE`)."""
        self._archive_rows(
            folder,
            file.name,
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet({duckdb_json.path_literal(file)})",
        )
        found = self._archive_rows(folder, file.name, f"DESCRIBE {name}")
        if [row[0] for row in found] != [column for column, _ in columns]:
            raise ReportInputError(
                f"{file.name} does not have the columns this version of purposeful "
                "writes; convert the inputs again",
                path=folder,
            )
        if any(kind and row[1] != kind for row, (_, kind) in zip(found, columns, strict=True)):
            raise _damaged(folder, file.name)
        required = [
            column
            for column, kind in columns
            if kind and column not in _NULLABLE.get(name, frozenset())
        ]
        if required:
            nulls = " OR ".join(f"{column} IS NULL" for column in required)
            sql = f"SELECT EXISTS (SELECT 1 FROM {name} WHERE {nulls})"
            if self._archive_rows(folder, file.name, sql)[0][0]:
                raise _damaged(folder, file.name)

    def _out_of_memory(self) -> ConfigurationError:
        allowed = "its default" if self._memory_limit is None else repr(self._memory_limit)
        return ConfigurationError(
            f"DuckDB ran out of the memory it may use for this report ({allowed}); allow it "
            f"more: --memory-limit (or ReportDatabase(memory_limit=...)) such as 512MB"
        )

    def _create_tables(self) -> None:
        for name, columns in TABLES.items():
            spelled = ", ".join(f"{column} {kind}" for column, kind in columns)
            self._connection.execute(f"CREATE TABLE {name} ({spelled})")

    def _load(self, rows: ShapeRows) -> None:
        """Load the rows *rows* collected since the last load, as one bound list a column."""
        for name, batch in rows.take():
            columns = TABLES[name]
            selected = ", ".join(
                f"UNNEST(CAST(${i} AS {kind}[]))" for i, (_, kind) in enumerate(columns, start=1)
            )
            values = [
                [value if value is None else stored_text(value) for value in column]
                if kind == "VARCHAR"
                else list(column)
                for column, (_, kind) in zip(zip(*batch, strict=True), columns, strict=True)
            ]
            try:
                self._connection.execute(f"INSERT INTO {name} SELECT {selected}", values)
            except _duckdb().OutOfMemoryException:
                raise self._out_of_memory() from None
