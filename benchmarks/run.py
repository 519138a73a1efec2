"""Benchmarks for the hot path: ratios within one process, medians of repeated runs.

    python benchmarks/run.py                        # a table, at the issue's sizes
    python benchmarks/run.py --json                 # one JSON object
    python benchmarks/run.py --json --scale small   # CI's sizes: a minute or so, same keys

``--scale full`` (the default) uses the sizes named below (`SCALES`); ``--scale small`` fewer
rounds, reads, people in the consent stores, records and calls, and prints the same keys.
Flags such as ``--repeat`` override the scale's value. The SQLite consent store files are
built once and cached in the temp dir (``fixtures.py``): the first run makes them.

What is measured (nanoseconds per operation, the median of ``--repeat`` runs, unless said):

- ``plain_read_ns``: ``rec.region`` on a plain slotted attrs class of the same shape;
- ``checked_read_ns``: ``rec.diagnosis``, a managed field, inside an open scope after its
  first read (the cached decision: the hot path);
- ``checked_read_ratio``: checked / plain. Both are timed as one ``timeit`` statement, so the
  figure includes timeit's loop overhead on both sides, as a read in real code pays it too.
  The two are timed interleaved, round after round (``--repeat`` rounds, at least 5; each
  round an empty statement, the plain read, then the checked read in a fresh scope after its
  first read), and the ratio is the median of the rounds' ratios, so drift on a shared
  machine hits both sides of each ratio alike. The three ``_ns`` figures above are the
  medians of the same rounds;
- ``checked_read_ratio_net``: the same ratio with an empty statement's time taken off both,
  which is harsher, and reported for transparency (the median of the rounds' net ratios);
- ``first_read_ns``: the first read of a field in a fresh scope (a decision is made,
  explained lazily, and cached), less the cost of the timer itself;
- ``pycasbin_ns``: one ``Enforcer.enforce`` by pycasbin with a model of the same purposes
  (as a role hierarchy) and fields, when pycasbin (``purposeful[bench]``) is installed;
- ``pycasbin_speedup``: pycasbin_ns / checked_read_ns;
- the request handlers of ``handlers.py`` (its docstring pins their shapes: 50 records of 8
  short string fields, 6 of them managed, read row by row into dicts and returned as JSON,
  the guarded variant inside one case-management scope), in microseconds per call, each
  variant the median of ``--repeat`` rounds (at least 5) of as many calls as take about 0.1 s
  (0.03 s at small scale), plain and guarded interleaved. Each handler prints
  ``{base}_plain_us{suffix}`` and ``{base}_guarded_us{suffix}`` (the medians),
  ``{base}_overhead_pct{suffix}`` (guarded / plain - 1, in percent: what purposeful adds to
  the whole request) and ``{base}_overhead_us{suffix}`` (guarded - plain, the microseconds
  it adds), each the median of the rounds' figures; the keys the issue names:
  ``list_view_overhead_pct``: the list view of 50 records, no audit sink;
  ``list_view_overhead_pct_sdk``: the same with a ``SpanSink`` on an SDK tracer provider
  (simple span processor, an exporter that does nothing): the span's cost included;
  ``list_view_overhead_pct_sdk_pseudonyms``: the same with a ``PseudonymKey`` as the
  pseudonymiser, the documented production set-up: the span lists the 50 people;
  ``consent_list_view_us`` (= ``list_view_guarded_us_consent``): the whole guarded list
  view, no sink, where one of the 6 managed fields needs consent, checked against a SQLite
  consent store of ``--subjects`` people (100,000; 20,000 at small scale), the 50 among
  them with grants in force;
  ``list_view_overhead_pct_big_caller``: the list view, no sink, read by a function that
  holds 2,000 constants: it matches ``list_view_overhead_pct`` unless the guard's cost
  grows with the size of its caller's code (the defect issue 24 found);
  ``detail_view_overhead_us``: the detail view (1 record), no sink: the microseconds a
  scope and 6 first reads add to a request (``detail_view_overhead_pct`` is large: the
  plain request does next to nothing);
  ``db_list_view_overhead_pct``: the database handler: 50 rows through the SQLAlchemy ORM
  from a SQLite file, served as JSON under a server span, both variants on the SDK tracer
  provider; the guarded one adds its scope and scope span with pseudonyms, and consent for
  one column against the consent store above. None without SQLAlchemy or the SDK;
- ``checked_read_ratio_sqlalchemy`` (a checked read of a managed column of a loaded
  SQLAlchemy row against SQLAlchemy's own read of a plain mapped column; target 3) and
  ``list_view_overhead_pct_sqlalchemy`` (the list view over 50 loaded rows of a declarative
  model, plain against guarded): ``sqlalchemy_bench.py`` pins them (None without SQLAlchemy);
- ``checked_read_ratio_dataclass`` and ``checked_read_ratio_pydantic``: ``checked_read_ratio``
  for a slotted dataclass record against a plain slotted dataclass, and for a pydantic model
  record against a plain pydantic model, timed the same way; ``list_view_overhead_pct_pydantic``:
  the list view above with pydantic models, guarded against plain, to compare with
  ``list_view_overhead_pct`` (``kinds.py`` pins them; the pydantic figures are None without
  ``purposeful[pydantic]``);
- ``request_overhead_pct_asgi``: what ``purposeful.web``'s ASGI middleware and guarded
  records add to a whole FastAPI request returning the list view (``web.py`` pins it; None
  without FastAPI);
- ``checked_read_ratio_django``: a checked read of a managed field of a loaded Django model
  instance against Django's own read of a plain field of it (``django_bench.py``; None
  without ``purposeful[django]``);
- ``consent_check_cached_ns``: a read of a field that needs consent, repeated in one scope
  on one record (the field is in the person's set of fields read: the fast path), and
  ``consent_check_cached_ratio``, the same against ``plain_read_ns``;
- ``consent_check_sqlite_ns``: the first such read in a fresh scope, asking a SQLite
  consent store of ``--subjects`` people (100,000; 20,000 at small scale);
- ``consent_grant_sqlite_per_s``: grants recorded per second by a SQLite store with its
  default durability (``synchronous=FULL``: each grant is on disk when it returns);
- ``consent_store_open_ms_1m``: milliseconds to open a ``SQLiteConsentStore`` on a file of
  1,000,000 people (one grant each; at every scale), the median of 7 opens (3 at small
  scale) after one that warms the OS file cache: what every process start pays;
- ``scope_overhead_sdk_ns``: a whole scope (open it, read 20 managed fields, each allowed
  and so decided once, close it) with a ``SpanSink`` on an OpenTelemetry SDK tracer provider
  with a simple span processor to an exporter that does nothing: the per-scope cost of the
  decisions and the span. None when opentelemetry-sdk (``purposeful[test]``) is not
  installed, as are the next two;
- ``sdk_span_ns``: the SDK's own cost, for reference: starting and ending an empty span
  (``tracer.start_span(name).end()``) on that provider;
- ``checked_read_ratio_with_sdk``: ``checked_read_ratio`` measured again with that sink
  configured. Sinks run once per scope, at its close, so it should match;
- ``bundle_records_per_s``: a signed, unencrypted subject-access bundle of ``--bundle``
  records (100,000 by default) of a 20-field record type, from a generator source to a file:
  records per second, the median of three builds;
- ``bundle_peak_mib_small`` and ``bundle_peak_mib``: the peak Python memory (tracemalloc)
  while building a bundle of a tenth of those records, and of all of them: flat when the
  bundle streams;
- ``disclose_per_s``: ``purposeful.disclose`` of one record (20 covered fields, each decided
  in a purpose scope) to a partner under an agreement, logged to a SQLite sharing store with
  its default durability (``synchronous=FULL``: each disclosure is on disk when it returns);
  ``disclose_memory_per_s``: the same with the in-memory store, the cost of the decision
  and minimisation alone (medians of three runs of ``--disclosures``);
- ``unscoped_reads_per_s``: monitor mode's reads outside any scope, per second, with a
  `Ledger` sink at its durable default (``fsync="always"``): a legacy export reading the 6
  managed fields of the list view's 50 records, ``--unscoped`` reads in all (100,000 by
  default), one call site, until `purposeful.audit.flush` has written every window to the
  ledger; the median of three runs. Reads are counted in windows per thread, call site and
  ``flush_seconds``, so the ledger gets a few lines, not one per read;
- ``baggage_sign_verify_us``: a purpose claim made from an open scope, put in the baggage
  header, taken out and verified against a trust store, in microseconds: what one call
  between two services adds (``propagation.py``);
- ``insights_rows_per_s``: records per second through a 3-way cross-tabulation of 100,000
  records inside an aggregate purpose (7 regions, with a few small cells to suppress, by 5
  age bands by 3 outcomes), with suppression and RR3.

- ``ledger_verify_lines_per_s`` and ``bundle_access_history_ms``: `purposeful.audit`'s
  verifier over a ledger of lines of about 1.1 KB, and one person's access history for a
  subject-access bundle through the ledger's verified index (``ledger_bench.py``; 100,000
  lines, 5,000 at small scale).
- ``report_ingest_spans_per_s``, ``report_ingest_peak_mib``, ``report_spans_per_s``,
  ``report_peak_mib`` and ``report_subject_ms``: the audit report on DuckDB over generated
  purpose spans, OTLP JSON converted to a Parquet archive, then every figure and one person
  from it (``report_bench.py`` explains each; 1,000,000 spans, 20,000 at small scale; None
  without DuckDB).

The figures above are measured through the Python guard (``PURPOSEFUL_PURE_PYTHON=1`` is set
for this process), the reference the targets hold for. When the compiled guard
(``purposeful._speedups``) is built, a child process measures again on it:

- ``<key>_compiled``: each key of `COMPILED_KEYS` (the reads, the handlers, the scope with
  an SDK span and the Django ratio) on the compiled guard; None when it is not built;
- ``checked_read_ratio_compiled_same_process``, ``checked_read_ratio_pure_same_process``,
  ``checked_read_ratio_django_compiled_same_process`` and
  ``checked_read_ratio_django_pure_same_process``: both guards timed in one process on twin
  record classes (``compiled_bench.py``), the fairest comparison of the two.

And ``scale``, ``load_average`` (the system's 1-minute load average when the run started and
when it ended: above the number of cores, other work shared them, and absolute times are
inflated) and ``python``.

The machine may be shared and noisy: quote the medians, and compare ratios, not absolutes.
"""

from __future__ import annotations

import os
import sys

#: The keys of issue 24 hold for the Python guard: this process reads through it, and a child
#: process (``--compiled-child``) measures the guard-bound keys again on the compiled guard
#: when it is built (`COMPILED_KEYS`, printed with a ``_compiled`` suffix).
if "--compiled-child" not in sys.argv:
    os.environ["PURPOSEFUL_PURE_PYTHON"] = "1"

import argparse
import importlib
import json
import operator
import statistics
import subprocess
import tempfile
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import compiled_bench
import django_bench
import fixtures
import handlers
import ledger_bench
import report_bench

import kinds
import propagation
import purposeful
from purposeful import SENSITIVE, Actor, ServiceAgreement

AGREEMENT = ServiceAgreement("Service delivery agreement")
CASE_MANAGEMENT = "service-delivery.case-management"


@attrs.define
class PlainClient:
    client_id: str
    diagnosis: str
    region: str


@purposeful.record(subject="client_id")
class Participant:
    client_id: str
    wellbeing: int = purposeful.field(purposes={"research": purposeful.CONSENT}, category="health")


@purposeful.record(subject="client_id")
class Client:
    client_id: str
    diagnosis: str = purposeful.field(
        purposes={CASE_MANAGEMENT: AGREEMENT}, sensitivity=SENSITIVE, category="health"
    )
    region: str = "Auckland"


#: A record of 20 managed fields, all allowed for case management.
WIDE_FIELDS = tuple(f"field_{n:02d}" for n in range(20))
Wide = purposeful.record(
    attrs.make_class(
        "Wide",
        {
            "client_id": attrs.field(),
            **{
                name: purposeful.field(purposes={CASE_MANAGEMENT: AGREEMENT}, category="health")
                for name in WIDE_FIELDS
            },
        },
        slots=True,
    ),
    subject="client_id",
)

ACTOR = Actor("staff-1", "caseworker", SENSITIVE)


def _median_ns(stmt: str, namespace: dict[str, Any], repeat: int, number: int) -> float:
    runs = timeit.repeat(stmt, globals=namespace, repeat=repeat, number=number)
    return statistics.median(runs) / number * 1e9


def measure_reads(repeat: int, number: int) -> dict[str, float]:
    """Empty, plain and checked reads timed interleaved, round by round; medians of rounds."""
    plain = PlainClient("c-1", "x", "Auckland")
    managed = Client("c-1", "x")
    empty_stmt = timeit.Timer("pass")
    plain_read = timeit.Timer("rec.region", globals={"rec": plain})
    checked_read = timeit.Timer("rec.diagnosis", globals={"rec": managed})
    empty, plain_ns, checked_ns, ratio, ratio_net = [], [], [], [], []
    for _ in range(max(repeat, handlers.MIN_ROUNDS)):
        empty.append(empty_stmt.timeit(number) / number * 1e9)
        plain_ns.append(plain_read.timeit(number) / number * 1e9)
        with purposeful.use(CASE_MANAGEMENT, actor=ACTOR):
            _ = managed.diagnosis
            checked_ns.append(checked_read.timeit(number) / number * 1e9)
        ratio.append(checked_ns[-1] / plain_ns[-1])
        ratio_net.append((checked_ns[-1] - empty[-1]) / max(plain_ns[-1] - empty[-1], 1e-9))
    return {
        "empty_stmt_ns": statistics.median(empty),
        "plain_read_ns": statistics.median(plain_ns),
        "checked_read_ns": statistics.median(checked_ns),
        "checked_read_ratio": statistics.median(ratio),
        "checked_read_ratio_net": statistics.median(ratio_net),
    }


def measure_first_read(samples: int) -> float:
    managed = Client("c-1", "x")
    clock = time.perf_counter_ns
    timer_cost = []
    first = []
    for _ in range(samples):
        with purposeful.use(CASE_MANAGEMENT, actor=ACTOR):
            t0 = clock()
            t1 = clock()
            _ = managed.diagnosis
            t2 = clock()
        timer_cost.append(t1 - t0)
        first.append(t2 - t1)
    return statistics.median(first) - statistics.median(timer_cost)


CASBIN_MODEL = """
[request_definition]
r = purpose, obj, act

[policy_definition]
p = purpose, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.purpose, p.purpose) && r.obj == p.obj && r.act == p.act
"""


def measure_pycasbin(repeat: int, number: int) -> float | None:
    try:
        import casbin
    except ImportError:
        return None
    registry = purposeful.get_configuration().registry
    policy = purposeful.record_policy(Client)
    lines = []
    for name, field_policy in policy.fields.items():
        for ident in field_policy.purposes:
            lines.append(f"p, {ident}, Client.{name}, read")
    for purpose in registry:
        if purpose.parent_id:
            lines.append(f"g, {purpose.id}, {purpose.parent_id}")
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp, "model.conf")
        model.write_text(CASBIN_MODEL, encoding="utf-8")
        rules = Path(tmp, "policy.csv")
        rules.write_text("\n".join(lines) + "\n", encoding="utf-8")
        enforcer = casbin.Enforcer(str(model), str(rules))
    if not enforcer.enforce(CASE_MANAGEMENT, "Client.diagnosis", "read"):
        raise SystemExit("the pycasbin model does not allow the read purposeful allows")
    if enforcer.enforce("funder-reporting", "Client.diagnosis", "read"):
        raise SystemExit("the pycasbin model allows a read purposeful refuses")
    return _median_ns(
        "e.enforce(p, o, a)",
        {"e": enforcer, "p": CASE_MANAGEMENT, "o": "Client.diagnosis", "a": "read"},
        repeat,
        max(number // 1000, 200),
    )


def measure_consent(repeat: int, number: int, subjects: int, grants: int) -> dict[str, float]:
    from purposeful.consent import MemoryConsentStore
    from purposeful.consent.sqlite import SQLiteConsentStore

    participant = Participant(fixtures.person_id(42), 7)
    memory = MemoryConsentStore()
    memory.give(participant.client_id, "research", at=fixtures.GRANTED)
    with purposeful.use("research", actor=ACTOR, consent=memory):
        _ = participant.wellbeing
        cached_ns = _median_ns("rec.wellbeing", {"rec": participant}, repeat, number)
    results = {"consent_check_cached_ns": cached_ns}
    with tempfile.TemporaryDirectory() as tmp:
        # a copy: the grants below write to it
        path = fixtures.copied(fixtures.consent_store_file(subjects, "research"), tmp)
        store = SQLiteConsentStore(path)
        try:
            samples = []
            clock = time.perf_counter_ns
            for n in range(max(repeat * 100, 500)):
                record = Participant(fixtures.person_id((n * 7919) % subjects), 7)
                with purposeful.use("research", actor=ACTOR, consent=store):
                    t0 = clock()
                    _ = record.wellbeing
                    samples.append(clock() - t0)
            results["consent_check_sqlite_ns"] = statistics.median(samples)
            t0 = time.perf_counter()
            for n in range(grants):
                store.give(f"Q-{n:06d}", "research", at=fixtures.GRANTED)
            results["consent_grant_sqlite_per_s"] = grants / (time.perf_counter() - t0)
        finally:
            store.close()
    return results


def measure_store_open(people: int, opens: int) -> float:
    """Milliseconds to open (and close) a SQLite consent store of *people* people; the median
    of *opens* opens after one to warm the file cache."""
    from purposeful.consent.sqlite import SQLiteConsentStore

    path = fixtures.consent_store_file(people, CASE_MANAGEMENT)
    times = []
    for _ in range(opens + 1):
        t0 = time.perf_counter()
        store = SQLiteConsentStore(path)
        times.append(time.perf_counter() - t0)
        store.close()
    return statistics.median(times[1:]) * 1e3


def measure_spans(repeat: int, number: int) -> dict[str, float | None]:
    """Scopes and reads with a SpanSink on an SDK tracer provider; None without the SDK."""
    sdk = fixtures.sdk_provider()
    if sdk is None:
        return dict.fromkeys(
            ("scope_overhead_sdk_ns", "sdk_span_ns", "checked_read_ratio_with_sdk")
        )
    from purposeful.audit import SpanSink

    provider, exporter = sdk
    tracer = provider.get_tracer("benchmarks")
    record = Wide("c-1", *(f"value {n}" for n in range(len(WIDE_FIELDS))))
    read_all = operator.attrgetter(*WIDE_FIELDS)

    def scope() -> None:
        with purposeful.use(CASE_MANAGEMENT, actor=ACTOR):
            read_all(record)

    scopes = max(number // 100, 100)
    try:
        with purposeful.configured(sinks=[SpanSink(tracer_provider=provider)]):
            scope()
            if exporter.spans != 1:
                raise SystemExit("the span sink did not export one span for one scope")
            runs = timeit.repeat(
                "scope()", globals={"scope": scope}, repeat=max(repeat, 5), number=scopes
            )
            reads = measure_reads(repeat, number)
        spans = timeit.repeat(
            "tracer.start_span('empty').end()",
            globals={"tracer": tracer},
            repeat=max(repeat, 5),
            number=scopes,
        )
    finally:
        provider.shutdown()
    return {
        "scope_overhead_sdk_ns": statistics.median(runs) / scopes * 1e9,
        "sdk_span_ns": statistics.median(spans) / scopes * 1e9,
        "checked_read_ratio_with_sdk": reads["checked_read_ratio"],
    }


def measure_bundle(records: int, runs: int = 3) -> dict[str, float]:
    """Build signed bundles of *records* Wide records; records per second and peak memory."""
    import tracemalloc
    from datetime import date

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from purposeful.access import AccessRequest, AgencyDetails, SubjectAccess
    from purposeful.audit import PseudonymKey

    values = tuple(f"value {n}" for n in range(len(WIDE_FIELDS)))
    size = {"records": records}  # how many records the source yields; changed per build
    access = SubjectAccess(
        agency=AgencyDetails("Benchmark agency", email="privacy@example.org.nz"),
        pseudonym_keys=PseudonymKey.generate(),
    )

    @access.source("wide")
    def wide(subject: str) -> Any:
        for _ in range(size["records"]):
            yield Wide(subject, *values)

    request = AccessRequest("BENCH-1", "c-1", date(2026, 12, 10))
    key = Ed25519PrivateKey.generate()
    created = datetime(2026, 12, 20, tzinfo=UTC)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "bundle.zip"

        def build() -> None:
            access.build(
                request, target, signing_key=key, created=created, overwrite=True, draft=True
            )

        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            build()
            times.append(time.perf_counter() - t0)
        results["bundle_records_per_s"] = records / statistics.median(times)
        for label, count in (
            ("bundle_peak_mib_small", records // 10),
            ("bundle_peak_mib", records),
        ):
            size["records"] = count
            tracemalloc.start()
            build()
            results[label] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    return results


#: A record type for the insights benchmark: three fields an aggregate purpose may group by.
@purposeful.record(subject="client_id")
class Outcome:
    client_id: str
    region: str = purposeful.field(purposes={"funder-reporting": AGREEMENT}, category="household")
    age_band: str = purposeful.field(purposes={"funder-reporting": AGREEMENT}, category="identity")
    outcome: str = purposeful.field(purposes={"funder-reporting": AGREEMENT})


def measure_unscoped(reads: int, runs: int = 3) -> float:
    """Monitor-mode reads outside any scope per second, into a ledger, flushed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from purposeful.audit import Ledger

    records = handlers.GUARDED_RECORDS
    fields = ("given_name", "family_name", "date_of_birth", "phone", "email", "address")
    rounds = max(1, reads // (len(records) * len(fields)))
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            ledger = Ledger(Path(folder) / "audit.jsonl", signing_key=Ed25519PrivateKey.generate())
            record_modes = {handlers.Person: purposeful.Mode.MONITOR}
            with purposeful.configured(sinks=[ledger], record_modes=record_modes):
                start = time.perf_counter()
                for _ in range(rounds):
                    for record in records:
                        for field in fields:
                            getattr(record, field)
                purposeful.audit.flush()
                times.append(time.perf_counter() - start)
            ledger.close()
    return rounds * len(records) * len(fields) / statistics.median(times)


def measure_disclose(disclosures: int) -> dict[str, float]:
    """Disclosures per second under an agreement, to a SQLite and to an in-memory log."""
    from datetime import date

    from purposeful.sharing.agreements import Party, SharingAgreement
    from purposeful.sharing.exchange import disclose
    from purposeful.sharing.memory import MemorySharingStore
    from purposeful.sharing.sqlite import SQLiteSharingStore

    agreement = SharingAgreement(
        id="benchmark-referrals",
        name="Benchmark referrals",
        parties=(Party("Us"), Party("Partner")),
        purposes=(CASE_MANAGEMENT,),
        basis=purposeful.DIRECTLY_RELATED_PURPOSE,
        starts=date(2026, 1, 1),
        expires=date(2030, 12, 31),
        review=date(2028, 1, 1),
        fields=tuple(f"Wide.{name}" for name in WIDE_FIELDS),
    )
    record = Wide("c-1", *(f"value {n}" for n in range(len(WIDE_FIELDS))))
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, store in (
            ("disclose_per_s", SQLiteSharingStore(Path(folder) / "sharing.sqlite3")),
            ("disclose_memory_per_s", MemorySharingStore()),
        ):
            with purposeful.configured(disclosure_log=store):
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    for _ in range(disclosures):
                        disclose(record, to="Partner", under=agreement, actor=ACTOR)
                    times.append(time.perf_counter() - t0)
                results[label] = disclosures / statistics.median(times)
            store.close()
    return results


def measure_insights(records: int, runs: int = 3) -> float:
    """Records per second through a 3-way cross-tab of *records* records (median of runs)."""
    from purposeful.insights import crosstab

    regions = ("Northland", "Auckland", "Waikato", "Wellington", "Canterbury", "Otago")
    bands = ("0-17", "18-24", "25-44", "45-64", "65+")
    outcomes = ("housed", "waiting", "declined")
    rows = [
        Outcome(f"c-{n}", regions[n % 6], bands[(n // 6) % 5], outcomes[(n // 30) % 3])
        for n in range(records)
    ]
    # a few people from a small place: small cells, so suppression has work to do
    rows[:7] = [Outcome(f"c-{n}", "Chatham Islands", bands[n % 5], "housed") for n in range(7)]
    analyst = Actor("job-funder-q4", "funder-reporting-job", SENSITIVE)
    times = []
    for seed in range(runs):
        t0 = time.perf_counter()
        crosstab(
            rows,
            ("region", "age_band", "outcome"),
            purpose="funder-reporting",
            actor=analyst,
            seed=seed,
        )
        times.append(time.perf_counter() - t0)
    return records / statistics.median(times)


#: The sizes of ``--scale``: ``full`` the issue's, ``small`` for CI (a minute or so).
SCALES: dict[str, dict[str, Any]] = {
    "full": {
        "repeat": 15,
        "number": 500_000,
        "subjects": 100_000,
        "grants": 300,
        "bundle": 100_000,
        "disclosures": 300,
        "insights": 100_000,
        "unscoped": 100_000,
        "handler_seconds": 0.1,
        "opens": 7,
    },
    "small": {
        "repeat": 5,
        "number": 100_000,
        "subjects": 20_000,
        "grants": 100,
        "bundle": 10_000,
        "disclosures": 100,
        "insights": 20_000,
        "unscoped": 20_000,
        "handler_seconds": 0.03,
        "opens": 3,
    },
}

#: The people in the consent store that ``consent_store_open_ms_1m`` opens, at every scale.
OPEN_PEOPLE = 1_000_000

#: The figures of the modules that need an optional package, None when it is missing.
OPTIONAL = {
    "web": ("request_overhead_pct_asgi",),
    "sqlalchemy_bench": (
        "checked_read_ratio_sqlalchemy",
        "list_view_sqlalchemy_plain_us",
        "list_view_sqlalchemy_guarded_us",
        "list_view_overhead_pct_sqlalchemy",
    ),
}


def _optional(module: str, *args: int) -> dict[str, Any]:
    """``module.measure(*args)``, or its figures as None when it cannot be imported."""
    try:
        measure = importlib.import_module(module).measure
    except ImportError:
        return dict.fromkeys(OPTIONAL[module])
    figures: dict[str, Any] = measure(*args)
    return figures


#: The figures that depend on the guard's hot path, measured again on the compiled guard.
COMPILED_KEYS = (
    "checked_read_ratio",
    "list_view_overhead_pct",
    "list_view_overhead_pct_sdk",
    "list_view_overhead_pct_sdk_pseudonyms",
    "list_view_overhead_pct_big_caller",
    "detail_view_overhead_us",
    "consent_list_view_us",
    "db_list_view_overhead_pct",
    "scope_overhead_sdk_ns",
    "checked_read_ratio_django",
)


#: `compiled_bench`'s figures, both guards timed in one process on twin record classes,
#: printed with a ``_same_process`` suffix.
SAME_PROCESS = (
    "checked_read_ratio_compiled",
    "checked_read_ratio_pure",
    "checked_read_ratio_django_compiled",
    "checked_read_ratio_django_pure",
)


def measure_guard_bound(args: argparse.Namespace) -> dict[str, Any]:
    """The figures of `COMPILED_KEYS`, on whichever guard this process reads through."""
    results: dict[str, Any] = measure_reads(args.repeat, args.number)
    results.update(handlers.measure(args.repeat, args.handler_seconds, args.subjects))
    results["consent_list_view_us"] = results["list_view_guarded_us_consent"]
    results.update(django_bench.measure(args.repeat, args.number))
    results.update(measure_spans(args.repeat, args.number))
    return {key: results.get(key) for key in COMPILED_KEYS}


def measure_compiled(argv: list[str]) -> dict[str, Any]:
    """`COMPILED_KEYS` measured by a child process on the compiled guard, with the
    ``_compiled`` suffix; None when the extension is not built."""
    suffixed = [f"{key}_compiled" for key in COMPILED_KEYS]
    env = {k: v for k, v in os.environ.items() if k != "PURPOSEFUL_PURE_PYTHON"}
    child = subprocess.run(
        [sys.executable, __file__, *argv, "--compiled-child", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    figures = json.loads(child.stdout)
    same = [f"{key}_same_process" for key in SAME_PROCESS]
    if not figures["compiled_guard"]:
        return dict.fromkeys([*suffixed, *same])
    found = {f"{key}_compiled": figures[key] for key in COMPILED_KEYS}
    found.update({key: figures[key] for key in same})
    return found


def measure_report(scale: str) -> dict[str, float | None]:
    """`report_bench`'s figures at *scale*; None for each without DuckDB."""
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return dict.fromkeys(report_bench.KEYS)
    return dict(report_bench.measure(scale))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--scale", choices=sorted(SCALES), default="full", help="the sizes (the flags below win)"
    )
    parser.add_argument("--repeat", type=int, help="runs per measurement")
    parser.add_argument("--number", type=int, help="reads per run")
    parser.add_argument("--subjects", type=int, help="people in the SQLite consent stores")
    parser.add_argument("--grants", type=int, help="grants timed per run")
    parser.add_argument("--bundle", type=int, help="records in a bundle")
    parser.add_argument("--disclosures", type=int, help="disclosures timed")
    parser.add_argument("--insights", type=int, help="records cross-tabulated")
    parser.add_argument("--unscoped", type=int, help="unscoped reads timed")
    parser.add_argument("--compiled-child", action="store_true", help=argparse.SUPPRESS)
    given = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(given)
    for name, value in SCALES[args.scale].items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    if args.compiled_child:
        from purposeful import _guard

        figures = measure_guard_bound(args)
        figures["compiled_guard"] = int(_guard.COMPILED)
        same = compiled_bench.measure(args.repeat, args.number)
        figures.update({f"{key}_same_process": same[key] for key in SAME_PROCESS})
        print(json.dumps(figures))
        return 0

    load_before = os.getloadavg()[0]
    results: dict[str, Any] = measure_reads(args.repeat, args.number)
    results["first_read_ns"] = measure_first_read(max(args.repeat * 200, 1000))
    casbin_ns = measure_pycasbin(args.repeat, args.number)
    results["pycasbin_ns"] = casbin_ns
    results["pycasbin_speedup"] = casbin_ns / results["checked_read_ns"] if casbin_ns else None
    results.update(handlers.measure(args.repeat, args.handler_seconds, args.subjects))
    results["consent_list_view_us"] = results["list_view_guarded_us_consent"]
    results.update(kinds.measure(args.repeat, args.number))
    results.update(_optional("web", args.repeat))
    results.update(django_bench.measure(args.repeat, args.number))
    results.update(_optional("sqlalchemy_bench", args.repeat, args.number))
    results.update(measure_consent(args.repeat, args.number, args.subjects, args.grants))
    results["consent_check_cached_ratio"] = (
        results["consent_check_cached_ns"] / results["plain_read_ns"]
    )
    results["consent_store_open_ms_1m"] = measure_store_open(OPEN_PEOPLE, args.opens)
    results.update(measure_spans(args.repeat, args.number))
    results.update(measure_bundle(args.bundle))
    results.update(measure_disclose(args.disclosures))
    results["unscoped_reads_per_s"] = measure_unscoped(args.unscoped)
    results["insights_rows_per_s"] = measure_insights(args.insights)
    results.update(propagation.measure_baggage(args.repeat, max(args.number // 1000, 100)))
    results.update(ledger_bench.measure(args.scale))
    results.update(measure_report(args.scale))
    results.update(measure_compiled([a for a in given if a != "--json"]))
    results["scale"] = args.scale
    results["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    results["python"] = sys.version.split()[0]

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    width = max(map(len, results))
    for key, value in results.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else str(value)
        print(f"{key:>{width}}  {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
