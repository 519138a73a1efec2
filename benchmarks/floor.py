"""Where the floor is: the parts of the three requests whose targets the pure-Python path
does not meet, each variant timed against the others in one process.

    python benchmarks/floor.py
    python benchmarks/floor.py --rounds 15 --json

Three requests, each in variants that differ only in the settings named (``sinks``,
``pseudonymise``; each configured with ``purposeful.configured``):

- ``scope``: the whole scope of ``scope_overhead_sdk_ns`` (``run.py``: open, 20 first reads
  of a 20-field record, close): with no sink; with a sink that does nothing (what purposeful
  builds for a report); with the ``SpanSink`` on an SDK tracer provider (the key's figure).
- ``list_view``: the pinned list view of ``handlers.py`` (50 records): plain; purposeful with
  no sink; a sink that does nothing; that sink and pseudonyms; the ``SpanSink`` and
  pseudonyms (``list_view_overhead_pct_sdk_pseudonyms``'s guarded variant).
- ``db_list_view``: the pinned database handler: plain; purposeful with consent and no sink;
  a sink that does nothing; that sink and pseudonyms; the ``SpanSink`` and pseudonyms (the
  key's guarded variant). Every variant pays the server span, the session and the query.

And, for each request, the SDK's own span timed alone, started and ended with the
attributes the ``SpanSink`` gave it in that request (taken from the exporter), with no
purposeful code in the loop: the part of the request that is the OpenTelemetry SDK's.

The *floor* of a request is its purposeful variant with no sink plus that span alone: what
it costs before purposeful notes a single person or builds a report. Set beside the target
(in µs: 60 for the scope, the plain variant × 2.6 for the list view, × 1.15 for the
database handler), it shows how much of the budget is left for the audit record.

Each round times every variant (``timeit``, the garbage collector off, as many calls as fill
about *seconds*, reckoned once from the fastest of 3 calls); each figure is the median of
the rounds, in µs per call. The machine's noise moves every variant of a round alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import operator
import statistics
import sys
import tempfile
import timeit
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import fixtures
import handlers
import run

import purposeful
from purposeful.audit import PseudonymKey, SpanSink
from purposeful.audit.conventions import SPAN_NAME
from purposeful.consent.sqlite import SQLiteConsentStore

#: The targets, in µs: the scope's own, and the overhead targets over the plain variant.
SCOPE_TARGET_US = 60.0
LIST_VIEW_TARGET = 2.6
DB_TARGET = 1.15


class NullSink:
    """An audit sink that takes each report and does nothing with it."""

    def emit(self, report: object) -> None:
        pass


Variant = tuple[str, Callable[[], object], Mapping[str, Any]]


def _time(variants: list[Variant], rounds: int, seconds: float) -> dict[str, float]:
    """Median µs per call of each variant, timed in turn round after round."""
    numbers: dict[str, int] = {}
    for label, call, settings in variants:
        with purposeful.configured(**settings):
            call()  # warm-up
            fastest = min(timeit.repeat(call, number=1, repeat=3))
        numbers[label] = max(1, round(seconds / max(fastest, 1e-9)))
    times: dict[str, list[float]] = {label: [] for label, _, _ in variants}
    for _ in range(rounds):
        for label, call, settings in variants:
            with purposeful.configured(**settings):
                number = numbers[label]
                times[label].append(timeit.timeit(call, number=number) / number * 1e6)
    return {label: statistics.median(values) for label, values in times.items()}


def _span_alone(tracer: Any, exporter: Any) -> Callable[[], None]:
    """Start and end a span with the attributes of purposeful's span exported last (a
    request's server span ends after it)."""
    span = next(s for s in reversed(exporter.recent) if s.name == SPAN_NAME)
    name, attributes = span.name, dict(span.attributes)

    def call() -> None:
        tracer.start_span(name, attributes=attributes).end()

    return call


@contextlib.contextmanager
def _requests(people: int) -> Iterator[dict[str, tuple[list[Variant], Any]]]:
    """Each request's variants and the call that times its span alone."""
    sdk = fixtures.sdk_provider()
    if sdk is None:
        raise SystemExit("benchmarks/floor.py needs opentelemetry-sdk: pip install -e '.[test]'")
    provider, exporter = sdk
    tracer = provider.get_tracer("benchmarks.floor")
    with contextlib.ExitStack() as stack:
        stack.callback(provider.shutdown)
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        store = SQLiteConsentStore(fixtures.consent_store_file(people, handlers.CASE_MANAGEMENT))
        stack.callback(store.close)
        key = PseudonymKey.generate()
        span, null = SpanSink(tracer_provider=provider), NullSink()
        pseudonyms = {"pseudonymise": key.pseudonym}

        record = run.Wide("c-1", *(f"value {n}" for n in range(len(run.WIDE_FIELDS))))
        read_all = operator.attrgetter(*run.WIDE_FIELDS)

        def scope() -> None:
            with purposeful.use(run.CASE_MANAGEMENT, actor=run.ACTOR):
                read_all(record)

        found: dict[str, tuple[list[Variant], Any]] = {}
        requests = [("list_view", handlers.plain_list_view, handlers.guarded_list_view, {})]
        try:
            import db_handler
        except ImportError:  # without SQLAlchemy: the other two
            pass
        else:
            db = db_handler.handler(stack, Path(folder, "people.sqlite3"), provider)
            requests.append(("db_list_view", *db, {"consent": store}))
        for name, plain, guarded, base in requests:
            spanned = {**base, **pseudonyms, "sinks": [span]}
            variants: list[Variant] = [
                ("plain", plain, {"sinks": []}),
                ("no sink", guarded, {**base, "sinks": []}),
                ("null sink", guarded, {**base, "sinks": [null]}),
                ("null sink, pseudonyms", guarded, {**base, **pseudonyms, "sinks": [null]}),
                ("SpanSink", guarded, spanned),
            ]
            with purposeful.configured(**spanned):
                guarded()  # the span whose attributes are timed alone
            found[name] = (variants, _span_alone(tracer, exporter))
        with purposeful.configured(sinks=[span]):
            scope()
        found["scope"] = (
            [
                ("no sink", scope, {"sinks": []}),
                ("null sink", scope, {"sinks": [null]}),
                ("SpanSink", scope, {"sinks": [span]}),
            ],
            _span_alone(tracer, exporter),
        )
        yield found


def measure(rounds: int, seconds: float, people: int) -> dict[str, dict[str, float]]:
    """Each request's variants (µs), its span alone, its floor and its target."""
    results: dict[str, dict[str, float]] = {}
    with _requests(people) as requests:
        for name in ("scope", "list_view", "db_list_view"):
            if name not in requests:
                continue
            variants, alone = requests[name]
            figures = _time(variants, rounds, seconds)
            figures["SDK span alone"] = _time([("alone", alone, {})], rounds, seconds)["alone"]
            figures["floor"] = figures["no sink"] + figures["SDK span alone"]
            if name == "scope":
                figures["target"] = SCOPE_TARGET_US
            else:
                ratio = LIST_VIEW_TARGET if name == "list_view" else DB_TARGET
                figures["target"] = figures["plain"] * ratio
            figures["left for the rest"] = figures["target"] - figures["floor"]
            figures["the rest today"] = figures["SpanSink"] - figures["floor"]
            results[name] = figures
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=11, help="rounds of every variant")
    parser.add_argument("--seconds", type=float, default=0.1, help="per variant per round")
    parser.add_argument("--people", type=int, default=100_000, help="in the consent store")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    results = measure(max(args.rounds, 1), args.seconds, args.people)
    if args.json:
        print(json.dumps({k: {n: round(v, 1) for n, v in f.items()} for k, f in results.items()}))
        return 0
    for name, figures in results.items():
        print(f"\n{name} (µs per call, medians of {args.rounds} rounds)")
        for label, value in figures.items():
            print(f"  {label:<28} {value:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
