"""Pinned request handlers: what purposeful adds to a whole request, not to one read.

Each handler comes in two variants that return the same JSON string: a *plain* one over a
plain attrs class, and a *guarded* one over the same class declared with purposeful, which
opens a purpose scope around its reads. The shapes are pinned, so figures from different
days and machines compare; change them only with a new key.

- The record: 8 short string fields (``client_id``, ``given_name``, ``family_name``,
  ``date_of_birth``, ``phone``, ``email``, ``address``, ``region``). ``Person`` is
  ``@purposeful.record(subject="client_id")``, slotted (the default), with the 6 fields from
  ``given_name`` to ``address`` managed: ``purposeful.field(purposes={CASE_MANAGEMENT:
  ServiceAgreement(...)})``, the default sensitivity, no consent. ``PlainPerson`` is
  ``@attrs.define`` (slotted) with the same 8 fields. (Named apart from ``run.py``'s record
  types: the audit trail names a record type by its class name.)
- The data: 50 records of each class, built once at import, with short string values.
- The list view: read the 50 records row by row, every field by attribute access into a
  dict per row, and return ``json.dumps(rows)``. The guarded variant does it inside
  ``with purposeful.use(CASE_MANAGEMENT, actor=ACTOR)``, the actor cleared for ``SENSITIVE``
  (above the fields' level); the plain variant opens nothing.
- The detail view: the same for the first record alone.
- The configuration: `measure` runs with ``purposeful.configured(sinks=[])`` (no audit
  sink, so the scope's report goes nowhere), and restores the configuration afterwards.

`measure` times the variants of each handler interleaved, plain then guarded, round after
round (at least 5 rounds), each round ``number`` calls with ``timeit`` (so the garbage
collector is off while timing, as for every ``timeit`` figure in ``run.py``), and reports
the median per call of each variant, in microseconds, and the overhead from those medians.

New handlers (e.g. pydantic or SQLAlchemy variants) add one pair of functions and one row
of `HANDLERS`.
"""

from __future__ import annotations

import json
import statistics
import timeit
from collections.abc import Callable, Iterable
from typing import Any

import attrs

import purposeful
from purposeful import SENSITIVE, Actor, ServiceAgreement

CASE_MANAGEMENT = "service-delivery.case-management"
AGREEMENT = ServiceAgreement("Service delivery agreement")
ACTOR = Actor("staff-1", "caseworker", SENSITIVE)
RECORDS = 50
MIN_ROUNDS = 5


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


def plain_list_view() -> str:
    return json.dumps(_rows(PLAIN_RECORDS))


def guarded_list_view() -> str:
    with purposeful.use(CASE_MANAGEMENT, actor=ACTOR):
        return json.dumps(_rows(GUARDED_RECORDS))


def plain_detail_view() -> str:
    return json.dumps(_row(PLAIN_RECORDS[0]))


def guarded_detail_view() -> str:
    with purposeful.use(CASE_MANAGEMENT, actor=ACTOR):
        return json.dumps(_row(GUARDED_RECORDS[0]))


Handler = Callable[[], str]

#: (key, plain, guarded): the key prefixes the figures `measure` returns.
HANDLERS: tuple[tuple[str, Handler, Handler], ...] = (
    ("list_view", plain_list_view, guarded_list_view),
    ("detail_view", plain_detail_view, guarded_detail_view),
)


def measure(repeat: int, number: int) -> dict[str, float]:
    """Time each handler's variants interleaved; medians per call, in microseconds.

    Args:
        repeat: rounds (at least `MIN_ROUNDS`); each round times plain, then guarded.
        number: calls per variant per round.

    Returns:
        For each handler *key*: ``{key}_plain_us``, ``{key}_guarded_us`` (medians),
        ``{key}_overhead_pct`` (guarded / plain - 1, in percent) and ``{key}_overhead_us``
        (guarded - plain, the microseconds a call adds).
    """
    rounds = max(repeat, MIN_ROUNDS)
    results: dict[str, float] = {}
    with purposeful.configured(sinks=[]):
        for key, plain, guarded in HANDLERS:
            if plain() != guarded():  # also a warm-up
                raise SystemExit(f"the {key} handlers do not return the same response")
            timers = (timeit.Timer(plain), timeit.Timer(guarded))
            runs: tuple[list[float], list[float]] = ([], [])
            for _ in range(rounds):
                for timer, times in zip(timers, runs, strict=True):
                    times.append(timer.timeit(number) / number * 1e6)
            plain_us, guarded_us = (statistics.median(times) for times in runs)
            results[f"{key}_plain_us"] = plain_us
            results[f"{key}_guarded_us"] = guarded_us
            results[f"{key}_overhead_pct"] = (guarded_us / plain_us - 1) * 100
            results[f"{key}_overhead_us"] = guarded_us - plain_us
    return results


if __name__ == "__main__":
    print(json.dumps(measure(MIN_ROUNDS, 1000), indent=2))
