"""What the benchmarks share: SQLite consent stores of many people, and an SDK tracer provider.

- `consent_store_file`: a `SQLiteConsentStore` file of *people* people, each with one grant
  in force (given 2026-01-05 by the person, no expiry) for one purpose; person *n* is
  ``person_id(n)`` (``c-0000``, ``c-0001``, …), so the 50 records of ``handlers.py`` are
  the first 50 people of every store. The file is created through the store (its own
  schema and first event), then filled with raw SQL inserts that copy that first event's
  row with another subject and event id (a store records people one transaction each, which
  takes minutes at 1M). It is cached in `CACHE` (the temp dir's ``purposeful-bench``, or
  ``$PURPOSEFUL_BENCH_CACHE``), named by the store's schema version, the purpose and the
  number of people, so repeated runs reuse it; a file built for another schema version is
  never opened (opening migrates). Open it read-only in spirit: anything that writes works
  on a copy (`copied`).
- `sdk_provider`: an OpenTelemetry SDK ``TracerProvider`` with a ``SimpleSpanProcessor`` to
  an exporter that does nothing but count the spans it is given. None when
  opentelemetry-sdk is not installed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from purposeful.consent.sqlite import SQLiteConsentStore

GRANTED = datetime(2026, 1, 5, tzinfo=UTC)
#: Where store files are cached: ``$PURPOSEFUL_BENCH_CACHE``, else the temp dir's folder.
CACHE = Path(
    os.environ.get("PURPOSEFUL_BENCH_CACHE") or Path(tempfile.gettempdir(), "purposeful-bench")
)


def person_id(n: int) -> str:
    """The subject id of person *n* of a store: also the records' ``client_id``."""
    return f"c-{n:04d}"


def schema_version() -> int:
    """The schema version a new `SQLiteConsentStore` file gets (its ``user_version``)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "probe.sqlite3")
        SQLiteConsentStore(path).close()
        with sqlite3.connect(path) as connection:
            version: int = connection.execute("PRAGMA user_version").fetchone()[0]
        connection.close()
    return version


def consent_store_file(people: int, purpose: str) -> Path:
    """The cached store file of *people* people with a grant for *purpose* (built if missing)."""
    CACHE.mkdir(exist_ok=True)
    name = f"consent-v{schema_version()}-{purpose}-{people}.sqlite3"
    path = CACHE / name
    if path.exists():
        return path
    building = CACHE / f"{name}.{os.getpid()}.building"
    building.unlink(missing_ok=True)
    with SQLiteConsentStore(building, synchronous="NORMAL") as store:
        store.give(person_id(0), purpose, at=GRANTED)
    connection = sqlite3.connect(building, isolation_level=None)
    try:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(consent_events)")]
        copied = [name for name in columns if name != "seq"]
        made = {"subject": "printf('c-%04d', n)", "event_id": "printf('%032x', n)"}
        values = ", ".join(made.get(name, f"t.{name}") for name in copied)
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("BEGIN")
        connection.execute(
            f"WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers "
            f"WHERE n < ?) INSERT INTO consent_events ({', '.join(copied)}) "
            f"SELECT {values} FROM numbers, consent_events AS t WHERE t.seq = 1",
            (people - 1,),
        )
        connection.execute("COMMIT")
        connection.execute("PRAGMA journal_mode = WAL")
    finally:
        connection.close()
    os.replace(building, path)
    return path


def copied(path: Path, folder: str) -> Path:
    """A copy of the store file *path* in *folder*, for benchmarks that write to it."""
    target = Path(folder, path.name)
    shutil.copyfile(path, target)
    return target


def sdk_provider() -> tuple[Any, Any] | None:
    """A new SDK tracer provider and the counting exporter behind it; None without the SDK.

    The exporter's ``spans`` is the number of spans it was given, ``recent`` the last 64.
    """
    try:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            SimpleSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )
    except ImportError:
        return None

    class CountingExporter(SpanExporter):
        """A span exporter that does nothing with the spans but count them."""

        def __init__(self) -> None:
            self.spans = 0
            self.recent: deque[Any] = deque(maxlen=64)

        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            self.spans += len(spans)
            self.recent.extend(spans)
            return SpanExportResult.SUCCESS

    exporter = CountingExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter
