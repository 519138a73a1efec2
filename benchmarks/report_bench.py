"""The audit report at agency scale: generated purpose spans, the DuckDB engine, Parquet.

    python benchmarks/report_bench.py --scale small   # CI: 20k spans, seconds
    python benchmarks/report_bench.py --scale full    # 1M spans (about 2 GB of JSON)
    python benchmarks/report_bench.py --scale full --keep /tmp/spans  # generate once, reuse

`generate_traces` writes OTLP JSON trace files of realistic ``purposeful.use`` spans, shaped
as `purposeful.audit.SpanSink` writes them (edition 2 of the semantic conventions: the
people and their fields as one string each; about 2 KB each, 100 spans a line as the
exporters batch them), with a fixed number of people (`PEOPLE`) and staff (`STAFF`), so
that what grows with the input is the number of spans only: "flat in input size" can be
checked. Scopes read one to three people, a few scopes are written in two parts, 2% of
reads are would-denies, times spread over 30 days.

`measure(scale)` returns:

- ``report_ingest_spans_per_s``: OTLP JSON to a Parquet archive (``purposeful audit
  convert``: DuckDB's own JSON reader, every rule checked in SQL), spans per second of the
  child process's wall time;
- ``report_ingest_peak_mib``: that child's peak RSS (MiB), DuckDB's memory limit set to
  512 MB;
- ``report_spans_per_s``: the whole report (every figure) from the Parquet archive, spans
  per second of the child's wall time (interpreter start-up excluded: the child times it);
- ``report_peak_mib``: that child's peak RSS (MiB), with the archive's defaults (DuckDB's
  memory limit 64 MB, one thread: `purposeful.audit.report.duckdb_engine.ARCHIVE_MEMORY`);
  about 145 MiB at 200k spans and 185 at 1M (160 at 2M: see that constant for why);
- ``report_subject_ms``: the report about one person from the Parquet archive, in process,
  the median of five runs (the archive opened each time).

Peak RSS is each child's own (`os.wait4`, the kernel's ``ru_maxrss`` of that child, as
``getrusage(RUSAGE_CHILDREN)`` reports it for waited children), since DuckDB's memory is
invisible to tracemalloc.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PEOPLE = 20_000
STAFF = 400
SCALES = {"small": 20_000, "full": 1_000_000}
#: The keys `measure` returns.
KEYS = (
    "report_ingest_spans_per_s",
    "report_ingest_peak_mib",
    "report_spans_per_s",
    "report_peak_mib",
    "report_subject_ms",
)
_PER_LINE = 100
_FIELDS = (
    "Client.name",
    "Client.address",
    "Client.region",
    "Client.date_of_birth",
    "Client.case_notes",
    "Client.diagnosis",
    "Client.benefit_status",
    "Client.phone",
)
_PURPOSES = (
    "service-delivery.case-management",
    "service-delivery",
    "funder-reporting",
    "service-delivery.eligibility",
)
_ROLES = ("caseworker", "administrator", "team-leader", "funder-reporting-job")
_START_NS = 1_772_442_000 * 1_000_000_000  # 2026-03-02 09:00 UTC


def _attribute(key: str, value: object) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, list):
        return {
            "key": key,
            "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}},
        }
    return {"key": key, "value": {"stringValue": value}}


def person(n: int) -> str:
    """The pseudonym of generated person *n* (key id ``0a0b0c0d``)."""
    return f"0a0b0c0d:{n:032x}"


def _span(rng: random.Random, n: int, part: tuple[int, bool], scope_id: str) -> dict[str, Any]:
    staff = rng.randrange(STAFF)
    people = sorted({person(rng.randrange(PEOPLE)) for _ in range(rng.choice((1, 1, 2, 3)))})
    fields = sorted(rng.sample(_FIELDS, rng.randint(1, 4)))
    reads = [" ".join(str(i) for i in sorted(rng.sample(range(len(fields)), 1))) for _ in people]
    would_deny = rng.random() < 0.02
    opened = _START_NS + rng.randrange(30 * 86_400) * 1_000_000_000
    attributes = [
        _attribute("purposeful.purpose", _PURPOSES[staff % len(_PURPOSES)]),
        _attribute("purposeful.actor.id", f"staff-{staff:04d}"),
        _attribute("purposeful.actor.role", _ROLES[staff % len(_ROLES)]),
        _attribute("purposeful.scope.id", scope_id),
        _attribute("purposeful.scope.part", part[0]),
        _attribute("purposeful.scope.final", part[1]),
        _attribute("purposeful.mode", "enforce"),
        _attribute("purposeful.decisions.count", len(fields) + would_deny),
        _attribute("purposeful.denied.count", 0),
        _attribute("purposeful.would_deny.count", int(would_deny)),
        _attribute("purposeful.withheld.count", 0),
        _attribute("purposeful.record_types", ["Client"]),
        _attribute("purposeful.fields_read", fields),
        _attribute("purposeful.categories", ["contact", "health"]),
        _attribute("purposeful.basis.kinds", ["statute"]),
        _attribute("purposeful.subjects", " ".join(people)),  # edition 2, as SpanSink writes
        _attribute("purposeful.subjects.fields", ",".join(reads)),
        _attribute("purposeful.subjects.count", len(people)),
        _attribute("purposeful.subjects.overflow", 0),
        _attribute("purposeful.record_types.subject_counts", [f"Client={len(people)}"]),
    ]
    events = []
    if would_deny:
        events.append(
            {
                "timeUnixNano": str(opened + 2_000_000),
                "name": "purposeful.would_deny",
                "attributes": [
                    _attribute("purposeful.record_type", "Client"),
                    _attribute("purposeful.field", "case_notes"),
                    _attribute("purposeful.reason_codes", ["purpose-not-declared"]),
                    _attribute("purposeful.sensitivity", "SENSITIVE"),
                    _attribute("purposeful.category", "health"),
                    _attribute("purposeful.reads.count", 1),
                ],
            }
        )
    return {
        "traceId": f"{rng.getrandbits(128):032x}",
        "spanId": f"{n:016x}",
        "parentSpanId": f"{rng.getrandbits(64):016x}",
        "name": "purposeful.use",
        "kind": 1,
        "startTimeUnixNano": str(opened),
        "endTimeUnixNano": str(opened + 3_000_000),
        "attributes": attributes,
        "events": events,
        "status": {},
    }


def generate_traces(path: Path, spans: int, seed: int = 7) -> Path:
    """Write *spans* generated purpose spans as OTLP JSON lines to *path*."""
    rng = random.Random(seed)
    resource = {
        "attributes": [
            _attribute("service.name", "kowhai-support"),
            _attribute("deployment.environment", "production"),
        ]
    }
    with path.open("w", encoding="utf-8") as file:
        batch: list[dict[str, Any]] = []
        n = 0
        while n < spans:
            scope_id = f"{rng.getrandbits(64):016x}"
            if rng.random() < 0.05 and n + 1 < spans:  # a scope written in two parts
                batch += [
                    _span(rng, n, (0, False), scope_id),
                    _span(rng, n + 1, (1, True), scope_id),
                ]
                n += 2
            else:
                batch.append(_span(rng, n, (0, True), scope_id))
                n += 1
            if len(batch) >= _PER_LINE or n >= spans:
                request = {
                    "resourceSpans": [
                        {
                            "resource": resource,
                            "scopeSpans": [
                                {"scope": {"name": "purposeful", "version": "0.9"}, "spans": batch}
                            ],
                        }
                    ]
                }
                file.write(json.dumps(request, separators=(",", ":")) + "\n")
                batch = []
    return path


_CONVERT = """
import sys, time
from purposeful.audit.report import ReportDatabase
started = time.perf_counter()
with ReportDatabase.from_files([sys.argv[1]], memory_limit="512MB") as database:
    database.to_parquet(sys.argv[2])
print(time.perf_counter() - started)
"""

_REPORT = """
import sys, time
from purposeful.audit.report import ReportDatabase, render_text
started = time.perf_counter()
with ReportDatabase.from_parquet(sys.argv[1]) as database:
    text = render_text(database.report())
print(time.perf_counter() - started)
"""


def _child(script: str, *argv: str) -> tuple[float, float]:
    """Run *script* in a child; its printed seconds and its peak RSS in MiB."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, *argv], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"the benchmark's child failed ({process.returncode})")
    return float(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def _traces(folder: Path, spans: int, keep: Path | None) -> Path:
    """The generated trace file of *spans* spans: in *keep*, made there once and reused
    (generating a million spans takes minutes), else in *folder*."""
    if keep is None:
        return generate_traces(folder / "traces.jsonl", spans)
    keep.mkdir(parents=True, exist_ok=True)
    kept = keep / f"traces-{spans}.jsonl"
    if not kept.exists():
        generate_traces(keep / f"traces-{spans}.jsonl.part", spans).replace(kept)
    return kept


def measure(scale: str = "small", *, keep: Path | None = None) -> dict[str, float]:
    """The report's figures at *scale* (``"small"`` or ``"full"``); see the module docstring.

    Args:
        keep: a folder to keep the generated trace file in, and reuse it from on the next
            run (delete it when done: a million spans are about 2 GB).
    """
    from purposeful.audit.history import SubjectQuery
    from purposeful.audit.report import ReportDatabase

    spans = SCALES[scale]
    with tempfile.TemporaryDirectory(prefix="report-bench-") as folder:
        traces = _traces(Path(folder), spans, keep)
        archive = Path(folder) / "archive"
        ingest_s, ingest_mib = _child(_CONVERT, str(traces), str(archive))
        report_s, report_mib = _child(_REPORT, str(archive))
        query = SubjectQuery((person(17),))
        subject_ms = []
        for _ in range(5):
            started = time.perf_counter()
            with ReportDatabase.from_parquet(archive) as database:
                database.report(subject=query)
            subject_ms.append((time.perf_counter() - started) * 1000)
    return {
        "report_ingest_spans_per_s": round(spans / ingest_s),
        "report_ingest_peak_mib": round(ingest_mib, 1),
        "report_spans_per_s": round(spans / report_s),
        "report_peak_mib": round(report_mib, 1),
        "report_subject_ms": round(statistics.median(subject_ms), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the generated trace file in DIR and reuse it on the next run",
    )
    args = parser.parse_args()
    print(json.dumps(measure(args.scale, keep=args.keep), indent=2))


if __name__ == "__main__":
    main()
