"""What a guard costs on each record kind: a checked read against a plain read of the same
kind of object, and the pinned list view with pydantic models.

- ``checked_read_ratio_dataclass``: ``rec.diagnosis`` on a slotted dataclass record
  (``@purposeful.record`` over ``@dataclasses.dataclass(slots=True)``), a managed field read
  inside an open scope after its first read (the hot path), against ``rec.region`` on a
  plain slotted dataclass of the same shape;
- ``checked_read_ratio_pydantic``: the same on a pydantic v2 model record against a plain
  pydantic model (its values in the instance ``__dict__``, where pydantic keeps them);
- ``list_view_overhead_pct_pydantic``: ``handlers.py``'s list view (its docstring pins the
  shape: 50 records of 8 short string fields, 6 of them managed, read row by row into dicts
  and returned as ``json.dumps``, the guarded variant inside one case-management scope, no
  audit sink) with pydantic models: guarded / plain - 1, in percent, as `handlers.measure`
  reports ``list_view_overhead_pct`` for attrs classes. ``list_view_pydantic_plain_us``
  and ``list_view_pydantic_guarded_us`` are its medians per call.

Both ratios are timed as `run.measure_reads` times attrs' ``checked_read_ratio``: one
``timeit`` statement each, plain and checked interleaved round after round (at least
`handlers.MIN_ROUNDS`), the checked read in a fresh scope after its first read, and the
median of the rounds' ratios, so drift on a shared machine hits both sides of each ratio.
The pydantic figures are None without pydantic (``purposeful[pydantic]``).

Record type names differ from ``run.py``'s and ``handlers.py``'s: the audit trail names a
record type by its class name.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import timeit
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import handlers

import purposeful
from purposeful import SENSITIVE
from purposeful.errors import DictStorageWarning

CASE_MANAGEMENT = handlers.CASE_MANAGEMENT
AGREEMENT = handlers.AGREEMENT
ACTOR = handlers.ACTOR
DIAGNOSIS = purposeful.Managed(
    purposes={CASE_MANAGEMENT: AGREEMENT}, sensitivity=SENSITIVE, category="health"
)


@dataclasses.dataclass(slots=True)
class PlainDataclassClient:
    client_id: str
    diagnosis: str
    region: str = "Auckland"


@purposeful.record(subject="client_id")
@dataclasses.dataclass(slots=True)
class DataclassClient:
    client_id: str
    diagnosis: str = dataclasses.field(metadata={"purposeful": DIAGNOSIS})
    region: str = "Auckland"


def interleaved_ratio(
    plain: object, plain_field: str, managed: object, managed_field: str, repeat: int, number: int
) -> float:
    """The median over rounds of (checked read / plain read), each a ``timeit`` statement,
    the checked read in a fresh scope after its first read."""
    plain_read = timeit.Timer(f"rec.{plain_field}", globals={"rec": plain})
    checked_read = timeit.Timer(f"rec.{managed_field}", globals={"rec": managed})
    ratios = []
    for _ in range(max(repeat, handlers.MIN_ROUNDS)):
        plain_ns = plain_read.timeit(number) / number
        with purposeful.use(CASE_MANAGEMENT, actor=ACTOR):
            getattr(managed, managed_field)
            checked_ns = checked_read.timeit(number) / number
        ratios.append(checked_ns / plain_ns)
    return statistics.median(ratios)


def _pydantic_classes() -> tuple[type, type, type, type] | None:
    """(plain client, guarded client, plain person, guarded person) as pydantic models."""
    try:
        from typing import Annotated

        from pydantic import BaseModel
    except ImportError:
        return None
    # pydantic models keep their values in __dict__: the tier is known, its warning expected
    warnings.filterwarnings("ignore", category=DictStorageWarning, module=__name__)

    class PlainModelClient(BaseModel):
        client_id: str
        diagnosis: str
        region: str = "Auckland"

    @purposeful.record(subject="client_id")
    class ModelClient(BaseModel):
        client_id: str
        diagnosis: Annotated[str, DIAGNOSIS]
        region: str = "Auckland"

    class PlainModelPerson(BaseModel):
        client_id: str
        given_name: str
        family_name: str
        date_of_birth: str
        phone: str
        email: str
        address: str
        region: str

    def managed(category: str) -> Any:
        return Annotated[
            str, purposeful.Managed(purposes={CASE_MANAGEMENT: AGREEMENT}, category=category)
        ]

    @purposeful.record(subject="client_id")
    class ModelPerson(BaseModel):
        client_id: str
        given_name: managed("identity")  # type: ignore[valid-type]
        family_name: managed("identity")  # type: ignore[valid-type]
        date_of_birth: managed("identity")  # type: ignore[valid-type]
        phone: managed("contact")  # type: ignore[valid-type]
        email: managed("contact")  # type: ignore[valid-type]
        address: managed("contact")  # type: ignore[valid-type]
        region: str

    return PlainModelClient, ModelClient, PlainModelPerson, ModelPerson


def _rows(records: Iterable[Any]) -> list[dict[str, str]]:
    """`handlers._rows`: every field by attribute access, a dict per row."""
    return [
        {
            "client_id": r.client_id,
            "given_name": r.given_name,
            "family_name": r.family_name,
            "date_of_birth": r.date_of_birth,
            "phone": r.phone,
            "email": r.email,
            "address": r.address,
            "region": r.region,
        }
        for r in records
    ]


def list_views(plain_cls: type, guarded_cls: type) -> tuple[Callable[[], str], Callable[[], str]]:
    """The plain and guarded list views of `handlers.RECORDS` records of the two classes."""
    names = (
        "client_id",
        "given_name",
        "family_name",
        "date_of_birth",
        "phone",
        "email",
        "address",
        "region",
    )

    def made(cls: type) -> list[Any]:
        return [
            cls(**dict(zip(names, handlers._values(n), strict=True)))
            for n in range(handlers.RECORDS)
        ]

    plain_records, guarded_records = made(plain_cls), made(guarded_cls)

    def plain_list_view() -> str:
        return json.dumps(_rows(plain_records))

    def guarded_list_view() -> str:
        with purposeful.use(CASE_MANAGEMENT, actor=ACTOR):
            return json.dumps(_rows(guarded_records))

    return plain_list_view, guarded_list_view


def measure_list_view(
    plain: Callable[[], str], guarded: Callable[[], str], repeat: int, number: int
) -> tuple[float, float]:
    """Medians per call (microseconds) of *plain* and *guarded*, interleaved, as
    `handlers.measure` times them."""
    with purposeful.configured(sinks=[]):
        if plain() != guarded():  # also a warm-up
            raise SystemExit("the pydantic list views do not return the same response")
        timers = (timeit.Timer(plain), timeit.Timer(guarded))
        runs: tuple[list[float], list[float]] = ([], [])
        for _ in range(max(repeat, handlers.MIN_ROUNDS)):
            for timer, times in zip(timers, runs, strict=True):
                times.append(timer.timeit(number) / number * 1e6)
    plain_us, guarded_us = (statistics.median(times) for times in runs)
    return plain_us, guarded_us


def measure(repeat: int, number: int) -> dict[str, float | None]:
    """The figures of this module's docstring.

    Args:
        repeat: rounds (at least `handlers.MIN_ROUNDS`).
        number: reads per round for the ratios; the list view runs ``number // 100``
            (at least 200) calls per round, as ``run.py`` runs `handlers.measure`.
    """
    results: dict[str, float | None] = {
        "checked_read_ratio_dataclass": interleaved_ratio(
            PlainDataclassClient("c-1", "x"),
            "region",
            DataclassClient("c-1", "x"),
            "diagnosis",
            repeat,
            number,
        )
    }
    classes = _pydantic_classes()
    if classes is None:
        results.update(
            checked_read_ratio_pydantic=None,
            list_view_pydantic_plain_us=None,
            list_view_pydantic_guarded_us=None,
            list_view_overhead_pct_pydantic=None,
        )
        return results
    plain_client, model_client, plain_person, model_person = classes
    results["checked_read_ratio_pydantic"] = interleaved_ratio(
        plain_client(client_id="c-1", diagnosis="x"),
        "region",
        model_client(client_id="c-1", diagnosis="x"),
        "diagnosis",
        repeat,
        number,
    )
    plain_us, guarded_us = measure_list_view(
        *list_views(plain_person, model_person), repeat, max(number // 100, 200)
    )
    results["list_view_pydantic_plain_us"] = plain_us
    results["list_view_pydantic_guarded_us"] = guarded_us
    results["list_view_overhead_pct_pydantic"] = (guarded_us / plain_us - 1) * 100
    return results


if __name__ == "__main__":
    print(json.dumps(measure(handlers.MIN_ROUNDS, 100_000), indent=2))
