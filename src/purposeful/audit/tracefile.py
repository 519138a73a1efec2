"""Trace files from Python: a span exporter for the OpenTelemetry SDK that writes OTLP JSON lines.

``purposeful audit report`` reads OTLP JSON trace files, one ``ExportTraceServiceRequest`` a
line, as the OpenTelemetry Collector's ``file`` exporter writes them. The SDK has no exporter
that writes them, so a service without a Collector uses `TraceFileExporter`: each batch the
SDK exports becomes one line, mapped to OTLP JSON here by hand, following the OTLP
specification's JSON encoding (lowerCamelCase keys, trace and span ids in hex, enums as
integers, 64-bit integers as decimal strings, default values left out), so each line is the
one the official OTLP encoder and protobuf's JSON mapping give for the same batch.

The exporter is *duck-typed*: the library depends on the OpenTelemetry API only, so it
neither subclasses nor imports the SDK's ``SpanExporter``. The SDK's span processors
(``SimpleSpanProcessor``, ``BatchSpanProcessor``) call only ``export(spans)``, ``shutdown()``
and ``force_flush(timeout_millis)`` on an exporter and ignore what ``export`` returns, and
the spans they hand in are read through their public attributes only.

A batch goes to the file with one ``write`` to a descriptor opened for appending, under an
advisory lock, so it is in the file whole or not at all (a short write is cut off again).
The file is opened for each batch, so a file moved away by another tool is created afresh.

What this module must not do: import the OpenTelemetry SDK, in any way; raise into the SDK
(a batch that cannot be written is a ``False`` result and one log line); put a span's name,
an attribute's key or value, or an event in a log line or an error; write a batch in parts;
write a line ``purposeful audit report`` cannot read.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import math
import os
import re
import stat
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from ..errors import ConfigurationError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl
    fcntl = None  # type: ignore[assignment]

__all__ = ["TraceFileExporter"]

_log = logging.getLogger("purposeful")

#: Files are created readable and writable by their owner only (the umask can only narrow it).
_MODE: Final = 0o600
# O_NONBLOCK: a named pipe at the path must fail the batch, never block the exporter
_FLAGS: Final = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NONBLOCK", 0)
)

#: How deep an attribute value may nest (a list in a list is 2). Deeper ones are dropped, so
#: the report's JSON reader and protobuf's parsers (100 messages deep) read every line.
_MAX_VALUE_DEPTH: Final = 16

_INT64: Final = range(-(2**63), 2**63)
#: OTLP ``Span.SpanKind``: the API's SpanKind values (INTERNAL is 0) plus one.
_KIND_OFFSET: Final = 1
#: OTLP ``SpanFlags``: the span's parent is known to be local or remote; it is remote.
_FLAG_HAS_IS_REMOTE: Final = 0x100
_FLAG_IS_REMOTE: Final = 0x200
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Characters some line readers (``str.splitlines``) split at; JSON may escape any character.
_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")


class _Unencodable(Exception):
    """An attribute value OTLP cannot carry: an integer outside int64, or nested too deeply."""


class TraceFileExporter:
    """Writes each batch of spans the SDK exports as one OTLP JSON line, for ``audit report``.

    Put it behind a ``BatchSpanProcessor`` (or a ``SimpleSpanProcessor`` in tests) of the
    tracer provider that `SpanSink` uses. Each line is an ``ExportTraceServiceRequest`` in
    OTLP JSON, as the Collector's ``file`` exporter writes it, so the report reads files
    from either alike. An empty batch writes nothing.

    The class does not subclass the SDK's ``SpanExporter`` (purposeful depends on the
    OpenTelemetry API only); the SDK's processors accept it all the same. A strict type
    checker wants ``typing.cast(SpanExporter, exporter)``, or a small wrapper (see the
    audit guide).

    Rotation works like the standard library's ``RotatingFileHandler``, with the number
    before the suffix: with *max_bytes*, a batch that would take ``traces.jsonl`` past it
    first moves the file to ``traces.1.jsonl`` (``traces.1.jsonl`` to ``traces.2.jsonl``,
    and so on; the oldest beyond *backup_count* is removed). A batch larger than
    *max_bytes* gets a file of its own. Processes that share a file take turns through an
    advisory lock (``flock``) on it, so their lines never interleave and their rotations
    never overwrite each other's files.

    Args:
        path: the trace file; created (mode 0600) when the first batch is written. Its
            directory must exist.
        max_bytes: rotate the file before it would grow past this many bytes; None (the
            default) never rotates.
        backup_count: how many rotated files to keep, 1 or more.
        fsync: have each batch on disk before `export` returns (slower; a crash of the
            machine then loses no exported batch).

    Raises:
        ConfigurationError: *max_bytes* or *backup_count* is less than 1.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int | None = None,
        backup_count: int = 5,
        fsync: bool = False,
    ) -> None:
        if max_bytes is not None and (isinstance(max_bytes, bool) or max_bytes < 1):
            raise ConfigurationError(
                f"TraceFileExporter: max_bytes must be 1 or more (got {max_bytes!r}); pass "
                "None to never rotate the file"
            )
        if isinstance(backup_count, bool) or backup_count < 1:
            raise ConfigurationError(
                f"TraceFileExporter: backup_count must be 1 or more (got {backup_count!r}): "
                "rotation keeps the file it rotates away"
            )
        # absolute now: a later os.chdir must not send batches to another file
        self._path = Path(os.path.abspath(path))
        self._max_bytes = max_bytes
        self._backup_count = backup_count
        self._fsync = fsync
        self._lock = threading.Lock()
        self._shut_down = False
        self._failing = False  # a failure has been logged; the next success clears it

    @property
    def path(self) -> Path:
        """The trace file that batches are appended to."""
        return self._path

    def backups(self) -> list[Path]:
        """The rotated files that exist now, newest first: pass them to the report too."""
        found = (self._backup(number) for number in range(1, self._backup_count + 1))
        return [path for path in found if path.exists()]

    def export(self, spans: Sequence[Any]) -> bool:
        """Append *spans* (the SDK's ``ReadableSpan``s) to the file as one line.

        Returns:
            True when the batch is in the file (or was empty); False when it was dropped:
            the exporter is shut down, or the file could not be written (logged on the
            ``purposeful`` logger, without anything of the spans). The SDK's processors
            ignore the result; it never raises.
        """
        if self._shut_down:
            return self._failed("the exporter is shut down")
        if not spans:
            return True
        try:
            line = _encode_line(spans)
        except Exception as error:  # the SDK must not see it; nothing of a span is logged
            return self._failed(f"the batch could not be encoded ({type(error).__name__})")
        problem = None
        with self._lock:
            if self._shut_down:
                problem = "the exporter is shut down"
            else:
                try:
                    self._append(line)
                except OSError as error:
                    problem = error.strerror or type(error).__name__
                else:
                    self._failing = False
        # logged outside the lock: a log handler may end a span that comes back here
        return True if problem is None else self._failed(problem)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """True: every batch is in the file by the time `export` returns."""
        return True

    def shutdown(self) -> None:
        """Refuse further batches; the file holds every batch exported before. Idempotent."""
        with self._lock:
            self._shut_down = True

    def _append(self, line: bytes) -> None:
        """Write *line* with one ``write``, rotating first if it would pass *max_bytes*."""
        descriptor = self._open_locked()
        try:
            size = os.fstat(descriptor).st_size
            if self._should_rotate(descriptor, size, len(line)):
                self._rotate()
                os.close(descriptor)
                descriptor = -1
                descriptor = self._open_locked()
                size = os.fstat(descriptor).st_size
            try:
                written = os.write(descriptor, line)
            except OSError:
                _cut(descriptor, size)
                raise
            if written != len(line):
                _cut(descriptor, size)
                raise OSError(0, f"only {written} of {len(line)} bytes could be written")
            if self._fsync:
                os.fsync(descriptor)
        finally:
            if descriptor >= 0:
                os.close(descriptor)  # releases the lock

    def _open_locked(self) -> int:
        """The file, opened for appending and locked; the one at *path* now, if it moved."""
        while True:
            descriptor = os.open(self._path, _FLAGS, _MODE)
            kind = os.fstat(descriptor).st_mode
            if stat.S_ISFIFO(kind) or stat.S_ISSOCK(kind):
                os.close(descriptor)
                raise OSError(0, "the path is a named pipe or a socket, not a file")
            if fcntl is None:  # pragma: no cover - Windows: one process to a file
                return descriptor
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                opened = os.fstat(descriptor)
                try:
                    current = os.stat(self._path)
                except FileNotFoundError:  # rotated away while we waited: open the new one
                    current = None
            except BaseException:
                os.close(descriptor)
                raise
            if current is not None and (current.st_dev, current.st_ino) == (
                opened.st_dev,
                opened.st_ino,
            ):
                return descriptor
            os.close(descriptor)  # another process rotated it while we waited

    def _should_rotate(self, descriptor: int, size: int, adding: int) -> bool:
        if self._max_bytes is None or not size or size + adding <= self._max_bytes:
            return False
        return stat.S_ISREG(os.fstat(descriptor).st_mode)  # never rename a device or a pipe

    def _rotate(self) -> None:
        """``NAME.{n-1}.SUFFIX`` to ``NAME.{n}.SUFFIX`` for each kept backup, then ``NAME``."""
        for number in range(self._backup_count - 1, 0, -1):
            with contextlib.suppress(FileNotFoundError):
                os.replace(self._backup(number), self._backup(number + 1))
        os.replace(self._path, self._backup(1))

    def _backup(self, number: int) -> Path:
        path = self._path
        return path.with_name(
            f"{path.stem}.{number}{path.suffix}" if path.suffix else f"{path.name}.{number}"
        )

    def _failed(self, problem: str) -> bool:
        with self._lock:
            first, self._failing = not self._failing, True
        if first:
            _log.error(
                "TraceFileExporter: spans were not written to %s: %s; the batch is dropped, "
                "and further failures are not logged until a batch is written",
                self._path,
                problem,
            )
        return False


def _cut(descriptor: int, size: int) -> None:
    """Take the file back to *size* bytes: a batch is never left half in it."""
    with contextlib.suppress(OSError):
        os.ftruncate(descriptor, size)


# --- the OTLP JSON mapping -----------------------------------------------------------------


def _encode_line(spans: Iterable[Any]) -> bytes:
    """One OTLP JSON ``ExportTraceServiceRequest`` line (ending in a newline) holding *spans*.

    Spans are grouped by resource, then by instrumentation scope, in the order first seen,
    as the official OTLP encoder groups them.
    """
    resources: dict[Any, dict[Any, list[dict[str, Any]]]] = {}
    for span in spans:
        scope = getattr(span, "instrumentation_scope", None) or None
        resources.setdefault(span.resource, {}).setdefault(scope, []).append(_span(span))
    document = {
        "resourceSpans": [
            _with_schema(
                {
                    "resource": _resource(resource),
                    "scopeSpans": [
                        _with_schema({"scope": _scope(scope), "spans": mapped}, scope)
                        for scope, mapped in scopes.items()
                    ],
                },
                resource,
            )
            for resource, scopes in resources.items()
        ]
    }
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = _LINE_BREAKS.sub(lambda match: f"\\u{ord(match[0]):04x}", text)
    return text.encode("utf-8") + b"\n"


def _with_schema(mapped: dict[str, Any], owner: Any) -> dict[str, Any]:
    schema_url = getattr(owner, "schema_url", None)
    if schema_url:
        mapped["schemaUrl"] = _text(schema_url)
    return mapped


def _resource(resource: Any) -> dict[str, Any]:
    return _attributes({}, getattr(resource, "attributes", None), 0)


def _scope(scope: Any) -> dict[str, Any]:
    mapped: dict[str, Any] = {}
    if scope is None:
        return mapped
    _put(mapped, "name", _text(scope.name or ""))
    _put(mapped, "version", _text(scope.version or ""))
    return _attributes(mapped, getattr(scope, "attributes", None), 0)


def _span(span: Any) -> dict[str, Any]:
    context = span.context
    parent = span.parent
    mapped: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
    }
    trace_state = context.trace_state
    if trace_state is not None:
        _put(mapped, "traceState", _text(",".join(f"{k}={v}" for k, v in trace_state.items())))
    if parent:
        mapped["parentSpanId"] = f"{parent.span_id:016x}"
    _put(mapped, "name", _text(span.name or ""))
    mapped["kind"] = span.kind.value + _KIND_OFFSET
    _put(mapped, "startTimeUnixNano", _uint64(span.start_time))
    _put(mapped, "endTimeUnixNano", _uint64(span.end_time))
    _attributes(mapped, span.attributes, getattr(span, "dropped_attributes", 0))
    events = [_event(event) for event in span.events]
    _put(mapped, "events", events)
    _put(mapped, "droppedEventsCount", getattr(span, "dropped_events", 0))
    _put(mapped, "links", [_link(link) for link in span.links])
    _put(mapped, "droppedLinksCount", getattr(span, "dropped_links", 0))
    mapped["status"] = _status(span.status)
    mapped["flags"] = _flags(parent)
    return mapped


def _event(event: Any) -> dict[str, Any]:
    mapped: dict[str, Any] = {}
    _put(mapped, "timeUnixNano", _uint64(event.timestamp))
    _put(mapped, "name", _text(event.name or ""))
    return _attributes(mapped, event.attributes, getattr(event, "dropped_attributes", 0))


def _link(link: Any) -> dict[str, Any]:
    context = link.context
    mapped: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
    }
    _attributes(mapped, link.attributes, getattr(link, "dropped_attributes", 0))
    mapped["flags"] = _flags(context)
    return mapped


def _status(status: Any) -> dict[str, Any]:
    mapped: dict[str, Any] = {}
    if status is None:
        return mapped
    _put(mapped, "message", _text(status.description or ""))
    _put(mapped, "code", status.status_code.value)
    return mapped


def _flags(context: Any) -> int:
    """OTLP ``SpanFlags``: whether the parent (or linked) context is remote is known."""
    return _FLAG_HAS_IS_REMOTE | (_FLAG_IS_REMOTE if context and context.is_remote else 0)


def _attributes(mapped: dict[str, Any], attributes: Any, dropped: int) -> dict[str, Any]:
    """Put *attributes* as OTLP ``KeyValue``s into *mapped*, and how many were dropped.

    A value OTLP cannot carry is dropped and counted with those the SDK dropped.
    """
    pairs = []
    for key, value in (attributes or {}).items():
        try:
            pairs.append(_key_value(key, value, 1))
        except _Unencodable:
            dropped += 1
    _put(mapped, "attributes", pairs)
    _put(mapped, "droppedAttributesCount", dropped)
    return mapped


def _key_value(key: Any, value: Any, depth: int) -> dict[str, Any]:
    pair: dict[str, Any] = {}
    _put(pair, "key", _text(str(key)))
    pair["value"] = _any_value(value, depth)
    return pair


def _any_value(value: Any, depth: int) -> dict[str, Any]:
    """An OTLP ``AnyValue``: the one member that holds *value* (none for None)."""
    if depth > _MAX_VALUE_DEPTH:
        raise _Unencodable
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, str):
        return {"stringValue": _text(value)}
    if isinstance(value, int):
        if value not in _INT64:
            raise _Unencodable
        return {"intValue": str(int(value))}
    if isinstance(value, float):
        return {"doubleValue": _double(value)}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Sequence):
        items = [_any_value(item, depth + 1) for item in value]
        return {"arrayValue": {"values": items} if items else {}}
    if isinstance(value, Mapping):
        pairs = [_key_value(key, item, depth + 1) for key, item in value.items()]
        return {"kvlistValue": {"values": pairs} if pairs else {}}
    raise _Unencodable


def _double(value: float) -> float | str:
    """A double as OTLP JSON has it: a number, or ``"NaN"``, ``"Infinity"``, ``"-Infinity"``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _uint64(value: Any) -> str:
    """A time in nanoseconds as OTLP JSON has it: a decimal string; empty (left out) if 0."""
    return str(value) if value else ""


def _text(value: str) -> str:
    """*value* as Unicode text: a lone surrogate (which UTF-8 cannot hold) becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


def _put(mapped: dict[str, Any], key: str, value: Any) -> None:
    """Set *key* unless *value* is its default: OTLP JSON leaves defaults out."""
    if value:
        mapped[key] = value
