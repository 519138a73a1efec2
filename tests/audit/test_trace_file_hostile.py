"""The trace-file exporter against hostile surroundings: a changed working directory, a
named pipe at its path, a log handler that makes spans. No batch is lost or blocks."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from purposeful.audit import TraceFileExporter


def _tracer(exporter: TraceFileExporter):  # type: ignore[no-untyped-def]
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[arg-type]
    return provider.get_tracer("rt21")


def _in_thread(action, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    """Run *action* in a daemon thread; True if it returned within *seconds*."""
    done = threading.Event()

    def run() -> None:
        action()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(seconds)


@pytest.fixture
def back_home() -> Iterator[None]:
    home = os.getcwd()
    yield
    os.chdir(home)


def test_a_relative_path_keeps_writing_to_the_same_file_after_chdir(
    tmp_path: Path, back_home: None
) -> None:
    """A relative path is made absolute when the exporter is made: a later os.chdir sends no
    batch to another file."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    os.chdir(first)
    exporter = TraceFileExporter("traces.jsonl")
    tracer = _tracer(exporter)
    tracer.start_span("one").end()
    os.chdir(second)
    tracer.start_span("two").end()
    assert not (second / "traces.jsonl").exists()
    assert len((first / "traces.jsonl").read_bytes().splitlines()) == 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_a_fifo_at_the_path_fails_the_batch_instead_of_blocking(tmp_path: Path) -> None:
    """A named pipe at the path fails the batch (logged) instead of blocking export and shutdown."""
    fifo = tmp_path / "traces.jsonl"
    os.mkfifo(fifo)
    exporter = TraceFileExporter(fifo)
    tracer = _tracer(exporter)
    try:
        assert _in_thread(lambda: tracer.start_span("s").end(), 3.0), "export blocked on a FIFO"
        assert _in_thread(exporter.shutdown, 3.0), "shutdown blocked behind the stuck export"
    finally:  # open the reading end so the stuck writer (if any) gets out
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        threading.Event().wait(0.5)
        os.close(reader)


def test_a_log_handler_that_records_a_span_does_not_deadlock_the_exporter(
    tmp_path: Path,
) -> None:
    """A failure is logged outside the exporter's lock: a log handler that ends a span going to
    the same exporter does not deadlock it."""
    exporter = TraceFileExporter(tmp_path / "missing" / "traces.jsonl")
    tracer = _tracer(exporter)

    class SpanPerRecord(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            tracer.start_span("log record").end()

    handler = SpanPerRecord()
    logger = logging.getLogger("purposeful")
    logger.addHandler(handler)
    try:
        assert _in_thread(lambda: tracer.start_span("s").end(), 3.0), "export deadlocked"
    finally:
        logger.removeHandler(handler)
