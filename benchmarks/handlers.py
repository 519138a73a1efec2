"""Pinned request handlers: what purposeful adds to a whole request, not to one read.

Each handler comes in two variants that return the same JSON string (checked once, on the
warm-up call): a *plain* one over plain objects, and a *guarded* one over the same shape
declared with purposeful, which opens a purpose scope around its reads. The shapes are
pinned, so figures from different days and machines compare; change them only with a new key.

- The record: 8 short string fields (``client_id``, ``given_name``, ``family_name``,
  ``date_of_birth``, ``phone``, ``email``, ``address``, ``region``). ``Person`` is
  ``@purposeful.record(subject="client_id")``, slotted (the default), with the 6 fields from
  ``given_name`` to ``address`` managed: ``purposeful.field(purposes={CASE_MANAGEMENT:
  ServiceAgreement(...)})``, the default sensitivity, no consent. ``ConsentedPerson`` is the
  same but ``address`` needs consent (``purposes={CASE_MANAGEMENT: purposeful.CONSENT}``).
  ``PlainPerson`` is ``@attrs.define`` (slotted) with the same 8 fields. (Named apart from
  the other modules' record types: the audit trail names a record type by its class name.)
- The data: 50 records of each class, built once at import, with short string values;
  record *n*'s ``client_id`` is ``c-{n:04d}``.
- The list view (``list_view``): read the 50 records row by row, every field by attribute
  access into a dict per row (`_row`), and return ``json.dumps(rows)``. The guarded variant
  does it inside ``with purposeful.use(CASE_MANAGEMENT, actor=ACTOR)``, the actor cleared for
  ``SENSITIVE`` (above the fields' level); the plain variant opens nothing. No audit sink
  (``sinks=[]``): the scope's report goes nowhere.
- ``list_view`` with ``_sdk``: the same, with ``purposeful.audit.SpanSink`` on an
  OpenTelemetry SDK ``TracerProvider`` with a ``SimpleSpanProcessor`` to an exporter that
  does nothing but count (``fixtures.sdk_provider``) as the only sink: one span per scope.
- ``list_view`` with ``_sdk_pseudonyms``: the same, plus the documented production set-up
  of pseudonyms, ``configure(pseudonymise=key.pseudonym)`` with a ``PseudonymKey``: the
  span lists the 50 people read, as pseudonyms.
- ``list_view`` with ``_consent``: the list view over ``ConsentedPerson`` records, no sink,
  consent checked against a ``SQLiteConsentStore`` (``configure(consent=store)``) of
  *people* people (100,000 at full scale), the 50 listed among them, each with a grant in
  force (``fixtures.consent_store_file``), opened once before timing.
- ``list_view`` with ``_big_caller``: the list view, no sink, where the function that reads
  the fields (`_row`'s code in a function that also holds 2,000 integer constants, in a
  branch never taken) is large: a guard whose cost grows with its caller's code shows here.
- The detail view (``detail_view``): the list view for the first record alone, no sink.
- The database handler (``db_list_view``): a SQLite *file* holding 1,000 rows of each of two
  SQLAlchemy 2 declarative models with the 8 columns (``client_id`` the primary key),
  ``PlainDbPerson`` (no purposeful) and ``DbPerson`` (``@purposeful.record(subject=
  "client_id")``, the 6 columns managed as ``Person``'s through ``mapped_column(info=
  {"purposeful": purposeful.Managed(...)})``, ``address`` needing consent). A call: the SDK
  tracer provider's tracer opens a server span (``GET /people``, ``SpanKind.SERVER``), a new
  ``Session`` selects the first 50 rows by ``client_id``, they are read row by row into dicts
  and returned as JSON. The guarded variant does the select and the reads inside a
  case-management scope, with ``SpanSink`` on that provider, pseudonyms, and consent against
  the SQLite consent store above: its scope span is a child of the server span. Both
  variants pay the server span, the session, the query and the JSON.

`measure` times the variants of each handler interleaved, plain then guarded, round after
round (at least 5 rounds), each round as many calls of each variant as fill about *seconds*
(reckoned from the fastest of 3 single calls), with ``timeit`` (so the garbage collector is
off while timing, as for every ``timeit`` figure in ``run.py``), and reports the median per
call of each variant, in microseconds, and the overhead as the median of the rounds' overheads
(guarded / plain - 1, and guarded - plain, each from one round's plain and guarded times),
so drift on a shared machine hits both sides of each overhead alike. A handler whose optional
package (opentelemetry-sdk, SQLAlchemy) is missing reports None.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import tempfile
import timeit
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import fixtures

import purposeful
from purposeful import SENSITIVE, Actor, ServiceAgreement
from purposeful.audit import PseudonymKey, SpanSink
from purposeful.consent.sqlite import SQLiteConsentStore

CASE_MANAGEMENT = "service-delivery.case-management"
AGREEMENT = ServiceAgreement("Service delivery agreement")
ACTOR = Actor("staff-1", "caseworker", SENSITIVE)
RECORDS = 50
MIN_ROUNDS = 5
#: Rows in each table of the database handler; it serves the first `RECORDS` of them.
DB_ROWS = 1_000
#: Integer constants in the large caller of the ``_big_caller`` list view.
BIG_CALLER_CONSTANTS = 2_000


@attrs.define
class PlainPerson:
    client_id: str
    given_name: str
    family_name: str
    date_of_birth: str
    phone: str
    email: str
    address: str
    region: str


def _managed(category: str) -> Any:
    return purposeful.field(purposes={CASE_MANAGEMENT: AGREEMENT}, category=category)


@purposeful.record(subject="client_id")
class Person:
    client_id: str
    given_name: str = _managed("identity")
    family_name: str = _managed("identity")
    date_of_birth: str = _managed("identity")
    phone: str = _managed("contact")
    email: str = _managed("contact")
    address: str = _managed("contact")
    region: str


@purposeful.record(subject="client_id")
class ConsentedPerson:
    client_id: str
    given_name: str = _managed("identity")
    family_name: str = _managed("identity")
    date_of_birth: str = _managed("identity")
    phone: str = _managed("contact")
    email: str = _managed("contact")
    address: str = purposeful.field(
        purposes={CASE_MANAGEMENT: purposeful.CONSENT}, category="contact"
    )
    region: str


def _values(n: int) -> tuple[str, ...]:
    return (
        f"c-{n:04d}",
        f"Aroha{n}",
        f"Ngata{n}",
        "1990-01-01",
        f"021 555 {n:04d}",
        f"a{n}@example.nz",
        f"{n} Queen St",
        "Auckland",
    )


PLAIN_RECORDS = [PlainPerson(*_values(n)) for n in range(RECORDS)]
GUARDED_RECORDS = [Person(*_values(n)) for n in range(RECORDS)]
CONSENTED_RECORDS = [ConsentedPerson(*_values(n)) for n in range(RECORDS)]


def _row(r: PlainPerson | Person) -> dict[str, str]:
    return {
        "client_id": r.client_id,
        "given_name": r.given_name,
        "family_name": r.family_name,
        "date_of_birth": r.date_of_birth,
        "phone": r.phone,
        "email": r.email,
        "address": r.address,
        "region": r.region,
    }


def _rows(records: Iterable[PlainPerson | Person]) -> list[dict[str, str]]:
    return [_row(r) for r in records]


def _big_caller() -> Callable[[Any], dict[str, str]]:
    """`_row`'s code in a function that also holds `BIG_CALLER_CONSTANTS` integer constants."""
    taken_never = "".join(f"        total += {n}\n" for n in range(1, BIG_CALLER_CONSTANTS + 1))
    fields = ", ".join(f"{name!r}: r.{name}" for name in attrs.fields_dict(PlainPerson))
    source = (
        f"def big_row(r, never=False):\n    if never:\n        total = 0\n{taken_never}"
        f"    return {{{fields}}}\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "<big caller>", "exec"), namespace)
    big_row: Callable[[Any], dict[str, str]] = namespace["big_row"]
    if len(big_row.__code__.co_consts) < BIG_CALLER_CONSTANTS:
        raise SystemExit("the large caller does not hold its constants")
    return big_row


_big_row = _big_caller()


def plain_list_view() -> str:
    return json.dumps(_rows(PLAIN_RECORDS))


def guarded_list_view() -> str:
    with purposeful.use(CASE_MANAGEMENT, actor=ACTOR):
        return json.dumps(_rows(GUARDED_RECORDS))


def consented_list_view() -> str:
    with purposeful.use(CASE_MANAGEMENT, actor=ACTOR):
        return json.dumps(_rows(CONSENTED_RECORDS))


def plain_list_view_big_caller() -> str:
    return json.dumps([_big_row(r) for r in PLAIN_RECORDS])


def guarded_list_view_big_caller() -> str:
    with purposeful.use(CASE_MANAGEMENT, actor=ACTOR):
        return json.dumps([_big_row(r) for r in GUARDED_RECORDS])


def plain_detail_view() -> str:
    return json.dumps(_row(PLAIN_RECORDS[0]))


def guarded_detail_view() -> str:
    with purposeful.use(CASE_MANAGEMENT, actor=ACTOR):
        return json.dumps(_row(GUARDED_RECORDS[0]))


Handler = Callable[[], str]


@attrs.frozen
class Pair:
    """One pinned handler: its figures' names, its two variants, and how it is configured.

    The figures are ``{base}_plain_us{suffix}``, ``{base}_guarded_us{suffix}``,
    ``{base}_overhead_pct{suffix}`` and ``{base}_overhead_us{suffix}``.
    """

    base: str
    suffix: str
    plain: Handler | None  # None: an optional package is missing
    guarded: Handler | None
    configuration: dict[str, Any] = attrs.field(factory=dict)
    #: given the guarded variant after its warm-up: calls it, raises if it did not do its work
    check: Callable[[Handler], None] = lambda call: None

    def names(self) -> dict[str, str]:
        stats = ("plain_us", "guarded_us", "overhead_pct", "overhead_us")
        return {stat: f"{self.base}_{stat}{self.suffix}" for stat in stats}


def _span_check(exporter: Any, pseudonyms: bool, server: bool) -> Callable[[Handler], None]:
    """A check that a call exports its scope's spans (a scope may be reported in parts),
    listing the people read as pseudonyms or none, and the server span if *server*."""

    def check(call: Handler) -> None:
        before = exporter.spans
        call()
        exported = list(exporter.recent)[-(exporter.spans - before) :]
        scope = [s for s in exported if s.attributes.get("purposeful.scope.id")]
        if not scope or not scope[-1].attributes.get("purposeful.scope.final"):
            raise SystemExit("a guarded call did not export its scope's spans")
        if server != any(s.name == "GET /people" for s in exported):
            raise SystemExit("a guarded call did not export its server span")
        listed = {p for s in scope for p in _listed(s.attributes.get("purposeful.subjects"))}
        if len(listed) != (RECORDS if pseudonyms else 0):
            raise SystemExit(f"the scope's spans list {len(listed)} people as pseudonyms")

    return check


def _listed(subjects: Any) -> tuple[str, ...]:
    """The pseudonyms of ``purposeful.subjects``: one string (edition 2) or an array."""
    if isinstance(subjects, str):
        return tuple(subjects.split(" ")) if subjects else ()
    return tuple(subjects or ())


@contextlib.contextmanager
def pairs(people: int) -> Iterator[list[Pair]]:
    """The pinned handlers, with their stores and providers open for the block."""
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        store = SQLiteConsentStore(fixtures.consent_store_file(people, CASE_MANAGEMENT))
        stack.callback(store.close)
        key = PseudonymKey.generate()
        result = [
            Pair("list_view", "", plain_list_view, guarded_list_view, {"sinks": []}),
            Pair("detail_view", "", plain_detail_view, guarded_detail_view, {"sinks": []}),
            Pair(
                "list_view",
                "_consent",
                plain_list_view,
                consented_list_view,
                {"sinks": [], "consent": store},
            ),
            Pair(
                "list_view",
                "_big_caller",
                plain_list_view_big_caller,
                guarded_list_view_big_caller,
                {"sinks": []},
            ),
        ]
        sdk = fixtures.sdk_provider()
        if sdk is None:
            result.append(Pair("list_view", "_sdk", None, None))
            result.append(Pair("list_view", "_sdk_pseudonyms", None, None))
            result.append(Pair("db_list_view", "", None, None))
            yield result
            return
        provider, exporter = sdk
        stack.callback(provider.shutdown)
        sink = SpanSink(tracer_provider=provider)
        result.append(
            Pair(
                "list_view",
                "_sdk",
                plain_list_view,
                guarded_list_view,
                {"sinks": [sink]},
                _span_check(exporter, pseudonyms=False, server=False),
            )
        )
        result.append(
            Pair(
                "list_view",
                "_sdk_pseudonyms",
                plain_list_view,
                guarded_list_view,
                {"sinks": [sink], "pseudonymise": key.pseudonym},
                _span_check(exporter, pseudonyms=True, server=False),
            )
        )
        try:
            import db_handler
        except ImportError:
            result.append(Pair("db_list_view", "", None, None))
        else:
            configuration = {"sinks": [sink], "pseudonymise": key.pseudonym, "consent": store}
            db = db_handler.handler(stack, Path(folder, "people.sqlite3"), provider)
            check = _span_check(exporter, pseudonyms=True, server=True)
            result.append(Pair("db_list_view", "", *db, configuration, check))
        yield result


def _time(pair: Pair, rounds: int, seconds: float) -> dict[str, float]:
    """*pair*'s medians per call (µs) and overheads; its variants are not None."""
    plain, guarded = pair.plain, pair.guarded
    if plain is None or guarded is None:
        raise ValueError(f"the {pair.base}{pair.suffix} handler has no variants to time")
    with purposeful.configured(**pair.configuration):
        expected = plain()  # warm-ups
        if guarded() != expected:
            raise SystemExit(f"the {pair.base}{pair.suffix} handlers do not return the same JSON")
        pair.check(guarded)
        timers = (timeit.Timer(plain), timeit.Timer(guarded))
        # calls per round for each variant: the fastest of 3 single calls fills *seconds*
        numbers = [max(1, round(seconds / max(min(t.repeat(3, 1)), 1e-9))) for t in timers]
        runs: tuple[list[float], list[float]] = ([], [])
        for _ in range(rounds):
            for timer, number, times in zip(timers, numbers, runs, strict=True):
                times.append(timer.timeit(number) / number * 1e6)
    pairs_us = list(zip(*runs, strict=True))
    return {
        "plain_us": statistics.median(runs[0]),
        "guarded_us": statistics.median(runs[1]),
        "overhead_pct": (statistics.median(g / p for p, g in pairs_us) - 1) * 100,
        "overhead_us": statistics.median(g - p for p, g in pairs_us),
    }


def measure(repeat: int, seconds: float, people: int) -> dict[str, float | None]:
    """Time each handler's variants interleaved; medians per call, in microseconds.

    Args:
        repeat: rounds (at least `MIN_ROUNDS`); each round times plain, then guarded.
        seconds: about how long each variant's calls take per round (at least one call).
        people: people in the SQLite consent store.

    Returns:
        For each `Pair`, its four figures (`Pair.names`): the medians of each variant, the
        median of the rounds' overheads (guarded / plain - 1, in percent) and of the
        microseconds a call adds; None for a handler whose optional package is missing.
    """
    rounds = max(repeat, MIN_ROUNDS)
    results: dict[str, float | None] = {}
    with pairs(people) as handlers:
        for pair in handlers:
            names = pair.names()
            if pair.plain is None:
                results.update(dict.fromkeys(names.values()))
                continue
            figures = _time(pair, rounds, seconds)
            results.update({names[stat]: value for stat, value in figures.items()})
    return results
