"""The benchmarks run, and print the keys issue 24 asks for.

They run in a subprocess at a tiny size: ``benchmarks/`` declares record classes whose names
the test modules use too (``Person``, ``Client``), and a record type's name is unique in a
process. The store files go to a temporary folder, not the shared cache.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

#: The keys of issue 24's table, and the key of the large-caller defect.
ISSUE_KEYS = (
    "list_view_overhead_pct",
    "list_view_overhead_pct_sdk",
    "list_view_overhead_pct_sdk_pseudonyms",
    "consent_list_view_us",
    "detail_view_overhead_us",
    "db_list_view_overhead_pct",
    "list_view_overhead_pct_big_caller",
    "scope_overhead_sdk_ns",
    "sdk_span_ns",
    "consent_store_open_ms_1m",
    "checked_read_ratio",
)

#: run.py's own functions for the issue's figures, at a tiny size, and the handlers once.
TINY = """
import json, run, handlers
results = handlers.measure(5, 1e-6, 200)
results.update(run.measure_reads(5, 1000))
results.update(run.measure_spans(5, 1000))
results["consent_list_view_us"] = results["list_view_guarded_us_consent"]
results["consent_store_open_ms_1m"] = run.measure_store_open(300, 1)
print(json.dumps(results))
"""


def _python(*arguments: str, cache: Path) -> str:
    """What ``python ARGUMENTS`` prints, run in ``benchmarks/`` with its stores in *cache*."""
    done = subprocess.run(
        [sys.executable, *arguments],
        cwd=BENCHMARKS,
        env={**os.environ, "PURPOSEFUL_BENCH_CACHE": str(cache)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _run(code: str, cache: Path) -> dict[str, object]:
    figures: dict[str, object] = json.loads(_python("-c", code, cache=cache))
    return figures


def test_the_handlers_and_the_issue_figures_run_at_a_tiny_size(tmp_path: Path) -> None:
    figures = _run(TINY, tmp_path)
    for key in ISSUE_KEYS:
        assert isinstance(figures[key], float), key
        assert figures[key] == figures[key], key  # not NaN
    for name in ("list_view", "detail_view", "db_list_view"):
        assert figures[f"{name}_plain_us"] > 0
        assert figures[f"{name}_guarded_us"] > 0
    # the stores were built in the folder given, named by schema version, purpose and size
    built = sorted(p.name for p in tmp_path.iterdir())
    assert len(built) == 2, built
    assert re.fullmatch(r"consent-v\d+-service-delivery\.case-management-200\.sqlite3", built[0])
    assert re.fullmatch(r"consent-v\d+-service-delivery\.case-management-300\.sqlite3", built[1])


def test_a_cached_store_holds_every_person_with_a_grant_in_force(tmp_path: Path) -> None:
    code = """
import fixtures
from datetime import datetime, UTC
from purposeful.consent.sqlite import SQLiteConsentStore
path = fixtures.consent_store_file(1000, "research")
assert fixtures.consent_store_file(1000, "research") == path  # reused
at = datetime(2026, 6, 1, tzinfo=UTC)
with SQLiteConsentStore(path) as store:
    granted = [store.consent_in_force(fixtures.person_id(n), "research", at) for n in range(1000)]
    stranger = store.consent_in_force(fixtures.person_id(1000), "research", at)
    other = store.consent_in_force(fixtures.person_id(1), "service-delivery", at)
print(granted.count(True), stranger, other)
"""
    assert _python("-c", code, cache=tmp_path).split() == ["1000", "False", "False"]


def _docstring(name: str) -> str:
    docstring = ast.get_docstring(ast.parse((BENCHMARKS / name).read_text(encoding="utf-8")))
    assert docstring
    return docstring


@pytest.mark.parametrize("key", ISSUE_KEYS)
def test_every_issue_key_is_explained_in_run_py(key: str) -> None:
    assert f"``{key}``" in _docstring("run.py")


def test_both_scales_set_the_same_sizes() -> None:
    tree = ast.parse((BENCHMARKS / "run.py").read_text(encoding="utf-8"))
    scales = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "SCALES"
    )
    sizes = ast.literal_eval(scales)
    assert sorted(sizes) == ["full", "small"]
    assert sizes["full"].keys() == sizes["small"].keys()
    assert sizes["full"]["subjects"] == 100_000  # the issue's store of 100k people
    assert sizes["full"]["repeat"] >= 5


#: The keys of the audit-at-scale issue's table (`report_bench.py`, `ledger_bench.py`).
REPORT_KEYS = (
    "report_ingest_spans_per_s",
    "report_ingest_peak_mib",
    "report_spans_per_s",
    "report_peak_mib",
    "report_subject_ms",
    "ledger_verify_lines_per_s",
    "bundle_access_history_ms",
)


@pytest.mark.parametrize("key", REPORT_KEYS)
def test_every_report_key_is_explained_in_run_py(key: str) -> None:
    assert f"``{key}``" in _docstring("run.py")


def test_the_report_figures_run_at_a_tiny_size(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    code = """
import json, report_bench
report_bench.SCALES["small"] = 300
print(json.dumps(report_bench.measure("small")))
"""
    figures = _run(code, tmp_path)
    assert set(figures) == set(REPORT_KEYS[:5])
    assert all(isinstance(value, (int, float)) and value > 0 for value in figures.values())


def test_the_profile_ranks_the_library_and_its_generated_getters(tmp_path: Path) -> None:
    """The profile command of benchmarks/README.md runs, and its ranking holds the library's
    functions and the getters the guard generates for managed fields, nothing else."""
    printed = _python(
        "profile_handler.py", "list_view", "--calls", "5", "--top", "40", cache=tmp_path
    )
    header, _columns, *rows = printed.splitlines()
    assert header.startswith("list_view: guarded variant, 5 calls")
    functions = [row.split(maxsplit=3)[-1] for row in rows]
    assert any(f.startswith("<purposeful guard handlers.Person.") for f in functions), rows
    assert any(f.startswith("purposeful._scope:") for f in functions), rows
    assert all(f.startswith(("purposeful", "<purposeful guard ")) for f in functions), rows


def _floor(*options: str, cache: Path) -> str:
    return _python(
        "floor.py", "--rounds", "1", "--seconds", "0.001", "--people", "200", *options, cache=cache
    )


def test_the_floor_of_each_request_runs_and_adds_up(tmp_path: Path) -> None:
    """benchmarks/floor.py (benchmarks/README.md, "Where the floor is") times each variant
    of the three requests and the SDK's span alone, and its floor and remainders are the
    sums and differences its docstring says."""
    results = json.loads(_floor("--json", cache=tmp_path))
    assert list(results) == ["scope", "list_view", "db_list_view"]
    for name, figures in results.items():
        assert all(value == value for value in figures.values()), name  # no NaN
        timed = [v for k, v in figures.items() if k not in ("left for the rest", "the rest today")]
        assert all(value > 0 for value in timed), (name, figures)
        floor = figures["no sink"] + figures["SDK span alone"]
        assert abs(figures["floor"] - floor) <= 0.11, (name, figures)
        assert abs(figures["left for the rest"] - (figures["target"] - floor)) <= 0.21
        assert abs(figures["the rest today"] - (figures["SpanSink"] - floor)) <= 0.21
    assert results["scope"]["target"] == 60.0
    for name, ratio in (("list_view", 2.6), ("db_list_view", 1.15)):
        assert abs(results[name]["target"] - results[name]["plain"] * ratio) <= 0.2, name
    table = _floor(cache=tmp_path)
    for name in results:
        assert f"\n{name} (µs per call, medians of 1 rounds)\n" in table
        assert "  SDK span alone" in table
