"""The compiled guard (``purposeful._speedups``) against the Python getter, in one process.

Two copies of each record class are made: one reads through the guard ``install_getter``
installs by default (the compiled one when ``purposeful._guard.COMPILED``), the other through
the generated Python getter (``install_getter(..., compiled=False)``). Each round times, one
after the other, the plain read and both checked reads, the checked ones inside an open scope
after their first read (the cached decision), as ``checked_read_ratio`` in ``run.py`` and
``checked_read_ratio_django`` in ``django_bench.py``; every figure is the median of the
rounds' ratios, so drift on a shared machine hits both sides of each ratio alike.

- ``checked_read_ratio_compiled``: a checked read of a managed field of a slotted attrs
  record through the compiled guard, against a plain slotted attrs read;
- ``checked_read_ratio_pure``: the same through the Python getter;
- ``checked_read_ratio_django_compiled``: a checked read of a managed field of a loaded
  Django model instance through the compiled guard, against Django's own read of a plain
  field of it (an instance ``__dict__`` read); None without ``purposeful[django]``;
- ``checked_read_ratio_django_pure``: the same through the Python getter;
- ``compiled_guard``: 1 if the compiled guard is in use, else 0 (every ``_compiled`` figure
  is then the Python getter's too).
"""

from __future__ import annotations

import statistics
import timeit
from typing import Any

import attrs
import django_bench

import purposeful
from purposeful import SENSITIVE, Actor, ServiceAgreement, _guard

__all__ = ["measure"]

AGREEMENT = ServiceAgreement("Service delivery agreement")
CASE_MANAGEMENT = "service-delivery.case-management"
ACTOR = Actor("staff-1", "caseworker", SENSITIVE)
MIN_ROUNDS = 5


@attrs.define
class PlainSpeedClient:
    client_id: str
    diagnosis: str
    region: str


def _client_class(name: str) -> type:
    return purposeful.record(
        attrs.make_class(
            name,
            {
                "client_id": attrs.field(),
                "diagnosis": purposeful.field(
                    purposes={CASE_MANAGEMENT: AGREEMENT}, sensitivity=SENSITIVE
                ),
                "region": attrs.field(default="Auckland"),
            },
            slots=True,
        ),
        subject="client_id",
    )


def _python_getter(cls: type, name: str, **options: Any) -> None:
    """Put the generated Python getter on *cls*'s managed field *name*."""
    policy = cls.__purposeful_record__.fields[name]  # type: ignore[attr-defined]
    _guard.install_getter(cls, policy, compiled=False, **options)


def _rounds(
    timers: dict[str, tuple[timeit.Timer, Any]], repeat: int, number: int
) -> dict[str, list[float]]:
    """Each timer's seconds per round, interleaved. A timer with a record to warm runs in a
    fresh scope after a first read of that record's managed field (the decision)."""
    seconds: dict[str, list[float]] = {key: [] for key in timers}
    for _ in range(max(repeat, MIN_ROUNDS)):
        for key, (timer, warm) in timers.items():
            if warm is None:
                seconds[key].append(timer.timeit(number))
                continue
            with purposeful.use(CASE_MANAGEMENT, actor=ACTOR):
                _ = warm.diagnosis
                seconds[key].append(timer.timeit(number))
    return seconds


def _ratios(top: list[float], bottom: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(top, bottom, strict=True))


_CLASSES: dict[str, type] = {}


def _classes() -> tuple[type, type]:
    """The record class read through the default guard and its twin through Python."""
    if not _CLASSES:
        _CLASSES["compiled"] = _client_class("CompiledSpeedClient")
        _CLASSES["pure"] = _client_class("PureSpeedClient")
        _python_getter(_CLASSES["pure"], "diagnosis")
    return _CLASSES["compiled"], _CLASSES["pure"]


def measure_attrs(repeat: int, number: int) -> dict[str, float]:
    compiled_cls, pure_cls = _classes()
    plain = PlainSpeedClient("c-1", "x", "Auckland")
    compiled, pure = compiled_cls("c-1", "x"), pure_cls("c-1", "x")
    timers = {
        "plain": (timeit.Timer("rec.region", globals={"rec": plain}), None),
        "compiled": (timeit.Timer("rec.diagnosis", globals={"rec": compiled}), compiled),
        "pure": (timeit.Timer("rec.diagnosis", globals={"rec": pure}), pure),
    }
    seconds = _rounds(timers, repeat, number)
    return {
        "checked_read_ratio_compiled": _ratios(seconds["compiled"], seconds["plain"]),
        "checked_read_ratio_pure": _ratios(seconds["pure"], seconds["plain"]),
    }


def measure_django(repeat: int, number: int) -> dict[str, float | None]:
    if django_bench.django is None:
        return {"checked_read_ratio_django_compiled": None, "checked_read_ratio_django_pure": None}
    compiled_model, pure_model = _django_models()
    columns = ["id", "client_id", "diagnosis", "region"]
    compiled = compiled_model.from_db("default", columns, (1, "C-1", "x", "y"))
    pure = pure_model.from_db("default", columns, (1, "C-1", "x", "y"))
    timers = {
        "plain_compiled": (timeit.Timer("case.region", globals={"case": compiled}), None),
        "compiled": (timeit.Timer("case.diagnosis", globals={"case": compiled}), compiled),
        "plain_pure": (timeit.Timer("case.region", globals={"case": pure}), None),
        "pure": (timeit.Timer("case.diagnosis", globals={"case": pure}), pure),
    }
    seconds = _rounds(timers, repeat, number)
    return {
        "checked_read_ratio_django_compiled": _ratios(
            seconds["compiled"], seconds["plain_compiled"]
        ),
        "checked_read_ratio_django_pure": _ratios(seconds["pure"], seconds["plain_pure"]),
    }


_MODELS: dict[str, type] = {}


def _django_models() -> tuple[type, type]:
    """Two models shaped like ``django_bench``'s (its own is left to it): one read through
    the default guard, one through the Python getter."""
    if _MODELS:
        return _MODELS["compiled"], _MODELS["pure"]
    import warnings

    from django.conf import settings

    if not settings.configured:  # as django_bench configures it, whichever runs first
        settings.configure(
            INSTALLED_APPS=["django_bench.BenchConfig"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        )
        django_bench.django.setup()
    from django.db import models

    from purposeful._kinds import django_kind
    from purposeful.django import managed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", purposeful.errors.DictStorageWarning)
        for variant in ("compiled", "pure"):
            meta = type("Meta", (), {"app_label": "purposeful_bench"})
            _MODELS[variant] = purposeful.record(subject="client_id")(
                type(
                    f"BenchSpeed{variant.title()}DjangoCase",
                    (models.Model,),
                    {
                        "__module__": __name__,
                        "client_id": models.CharField(max_length=20),
                        "diagnosis": managed(
                            models.TextField(),
                            purposes={CASE_MANAGEMENT: AGREEMENT},
                            sensitivity=SENSITIVE,
                        ),
                        "region": models.CharField(max_length=40),
                        "Meta": meta,
                    },
                )
            )
    _python_getter(_MODELS["pure"], "diagnosis", missing=django_kind._load("diagnosis"))
    return _MODELS["compiled"], _MODELS["pure"]


def measure(repeat: int, number: int) -> dict[str, float | None]:
    """Every figure of the module docstring."""
    return {
        **measure_attrs(repeat, number),
        **measure_django(repeat, number),
        "compiled_guard": float(_guard.COMPILED),
    }


if __name__ == "__main__":
    print(measure(7, 300_000))
