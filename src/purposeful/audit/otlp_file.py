"""Trace files from Python: an OpenTelemetry SDK span exporter that writes OTLP JSON lines.

``purposeful audit report`` reads OTLP JSON trace files, one ``ExportTraceServiceRequest`` a
line, as the OpenTelemetry Collector's ``file`` exporter writes them. The OpenTelemetry
SDK has no exporter that writes them, so a service without a Collector uses
`OTLPFileSpanExporter`: each batch the SDK exports becomes one line, encoded by the official
OTLP encoder (``opentelemetry-exporter-otlp-proto-common``) and mapped to JSON by protobuf's
own JSON mapping, with the two changes the OTLP specification makes to it (trace and span
ids are hex, enums are integers).

A batch goes to the file with one ``write`` to a descriptor opened for appending, so it is
in the file whole or not at all: a short write is cut off again. The file is opened for each
batch, so a file removed or rotated by another tool is created afresh, and a removed
directory is an error rather than spans written to a file no one can see.

It needs the ``otel`` extra (``pip install 'purposeful[otel]'``); importing it without the
extra raises `MissingExtra`. `purposeful.audit` loads it when the name is first used.

What this module must not do: raise into the SDK (a failed batch is
``SpanExportResult.FAILURE`` and one log line); put a span's name, attribute or event in a
log line or an error; write a batch in parts; be imported by the core or by
`purposeful.audit` on import.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from ..errors import ConfigurationError, MissingExtra

try:
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
except ImportError:
    _missing = True
else:
    _missing = False
if _missing:  # raised outside the handler: one line, no chained ImportError
    raise MissingExtra(
        "writing trace files needs the OpenTelemetry SDK and the OTLP encoder; install them "
        "with pip install 'purposeful[otel]'",
        extra="otel",
    )

__all__ = ["OTLPFileSpanExporter"]

_log = logging.getLogger("purposeful")

#: Files are created readable and writable by their owner only (the umask can only narrow it).
_MODE: Final = 0o600
_FLAGS: Final = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


class OTLPFileSpanExporter(SpanExporter):
    """Writes each exported batch of spans as one OTLP JSON line, for ``purposeful audit report``.

    Put it behind a `BatchSpanProcessor` (or a `SimpleSpanProcessor` in tests) of the
    tracer provider that `SpanSink` uses. Each line is an ``ExportTraceServiceRequest`` in
    OTLP JSON, the form the Collector's ``file`` exporter writes, so a report reads files
    from either alike. An empty batch writes nothing.

    With *max_bytes*, a batch that would take the file past it first moves the file to
    ``NAME.1`` (``NAME.1`` to ``NAME.2``, and so on, the oldest beyond *backups* being
    removed), so every span is in exactly one file. A batch larger than *max_bytes* gets a
    file of its own. Pass the file and its backups to the report.

    One process writes a file: two exporters in one process may share one (each batch is
    still one line), but rotation is not coordinated between processes, so give each
    process its own file.

    Args:
        path: the trace file; created (mode 0600) when the first batch is written. Its
            directory must exist.
        max_bytes: rotate the file before it would grow past this many bytes; None (the
            default) never rotates.
        backups: how many rotated files to keep, 1 or more.
        fsync: flush each batch to disk before reporting success (slower; a crash of the
            machine then loses no exported batch).

    Raises:
        ConfigurationError: *max_bytes* or *backups* is less than 1.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int | None = None,
        backups: int = 5,
        fsync: bool = False,
    ) -> None:
        if max_bytes is not None and max_bytes < 1:
            raise ConfigurationError(
                f"max_bytes must be 1 or more (got {max_bytes}); pass None to never rotate"
            )
        if backups < 1:
            raise ConfigurationError(
                f"backups must be 1 or more (got {backups}): rotation keeps the old file"
            )
        self._path = Path(path)
        self._max_bytes = max_bytes
        self._backups = backups
        self._fsync = fsync
        self._lock = threading.Lock()
        self._shut_down = False
        self._failing = False  # a failure has been logged; the next success clears it

    @property
    def path(self) -> Path:
        """The trace file that batches are appended to."""
        return self._path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Append *spans* to the file as one line; FAILURE (logged once) if it cannot."""
        if self._shut_down:
            _log.warning("OTLPFileSpanExporter: already shut down; the batch is dropped")
            return SpanExportResult.FAILURE
        if not spans:
            return SpanExportResult.SUCCESS
        try:
            line = _otlp_json_line(spans)
        except Exception as error:  # the SDK must not see it; nothing of a span is logged
            return self._failed(f"the batch could not be encoded ({type(error).__name__})")
        with self._lock:
            try:
                self._append(line)
            except OSError as error:
                return self._failed(_describe(error))
            self._failing = False
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """True: every batch is in the file by the time `export` returns."""
        return True

    def shutdown(self) -> None:
        """Refuse further batches; the file holds every batch exported before."""
        with self._lock:
            self._shut_down = True

    def _append(self, line: bytes) -> None:
        """Write *line* with one ``write``, rotating first if it would pass *max_bytes*."""
        descriptor = os.open(self._path, _FLAGS, _MODE)
        try:
            size = os.fstat(descriptor).st_size
            if self._max_bytes is not None and size and size + len(line) > self._max_bytes:
                os.close(descriptor)
                descriptor = -1
                self._rotate()
                descriptor = os.open(self._path, _FLAGS, _MODE)
                size = os.fstat(descriptor).st_size
            try:
                written = os.write(descriptor, line)
            except OSError:
                _cut(descriptor, size)
                raise
            if written != len(line):
                _cut(descriptor, size)
                raise OSError(f"only {written} of {len(line)} bytes could be written")
            if self._fsync:
                os.fsync(descriptor)
        finally:
            if descriptor >= 0:
                os.close(descriptor)

    def _rotate(self) -> None:
        """``NAME.{n-1}`` to ``NAME.{n}`` for each kept backup, then ``NAME`` to ``NAME.1``."""
        for number in range(self._backups - 1, 0, -1):
            older = self._backup(number)
            if older.exists():
                os.replace(older, self._backup(number + 1))
        os.replace(self._path, self._backup(1))

    def _backup(self, number: int) -> Path:
        return self._path.with_name(f"{self._path.name}.{number}")

    def _failed(self, problem: str) -> SpanExportResult:
        if not self._failing:
            self._failing = True
            _log.error(
                "OTLPFileSpanExporter: spans were not written to %s: %s; the batch is dropped, "
                "and further failures are not logged until a batch is written",
                self._path,
                problem,
            )
        return SpanExportResult.FAILURE


def _otlp_json_line(spans: Sequence[ReadableSpan]) -> bytes:
    """One OTLP JSON line (ending in a newline) holding *spans*, as the Collector writes it.

    The official encoder builds the ``ExportTraceServiceRequest``; protobuf's JSON mapping
    gives camelCase keys, 64-bit integers (times, ``intValue``) as decimal strings and
    omits default values; the OTLP specification's changes to that mapping are applied:
    enums are integers, and trace and span ids are lower-case hex rather than base64.
    """
    request = encode_spans(spans)
    document: dict[str, Any] = MessageToDict(request, use_integers_for_enums=True)
    for resource, resource_json in zip(
        request.resource_spans, document.get("resourceSpans", []), strict=True
    ):
        for scope, scope_json in zip(
            resource.scope_spans, resource_json.get("scopeSpans", []), strict=True
        ):
            for span, span_json in zip(scope.spans, scope_json.get("spans", []), strict=True):
                _hex_ids(span, span_json)
                if span.parent_span_id:
                    span_json["parentSpanId"] = span.parent_span_id.hex()
                for link, link_json in zip(span.links, span_json.get("links", []), strict=True):
                    _hex_ids(link, link_json)
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def _hex_ids(message: Any, mapped: dict[str, Any]) -> None:
    """Replace the base64 ``traceId`` and ``spanId`` in *mapped* with hex, as OTLP JSON has."""
    if message.trace_id:
        mapped["traceId"] = message.trace_id.hex()
    if message.span_id:
        mapped["spanId"] = message.span_id.hex()


def _cut(descriptor: int, size: int) -> None:
    """Take the file back to *size* bytes: a batch is never left half in it."""
    with contextlib.suppress(OSError):
        os.ftruncate(descriptor, size)


def _describe(error: OSError) -> str:
    """What went wrong, without the file name the log line already gives."""
    return error.strerror or str(error)
