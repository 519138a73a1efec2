"""The Django record kind's hot path against Django's own attribute read.

``checked_read_ratio_django``: ``case.diagnosis``, a managed field of a Django model instance
loaded by the ORM (``Model.from_db``, as a queryset builds it), read inside an open scope
after its first read (the cached decision), against ``case.region``, a plain field of the
same instance, which Django serves from the instance ``__dict__`` (its ``DeferredAttribute``
is a non-data descriptor: a loaded field is a plain attribute read). Interleaved rounds, the
median of the rounds' ratios, as ``checked_read_ratio`` in ``run.py``. None when Django
(``purposeful[django]``) is not installed. Django is configured here (``settings.configure``,
an in-memory SQLite database) unless the process already configured it.
"""

from __future__ import annotations

import statistics
import timeit
import warnings
from typing import Any

try:
    import django
    from django.apps import AppConfig
except ImportError:  # pragma: no cover - purposeful[django] not installed
    django = None  # type: ignore[assignment]
    AppConfig = object  # type: ignore[assignment,misc]

import purposeful
from purposeful import SENSITIVE, Actor, ServiceAgreement

__all__ = ["measure"]

CASE_MANAGEMENT = "service-delivery.case-management"
WORKER = Actor("staff-bench", role="caseworker", clearance=SENSITIVE)


class BenchConfig(AppConfig):  # type: ignore[misc]
    name = "django_bench"
    label = "purposeful_bench"


def _model() -> Any:
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            INSTALLED_APPS=["django_bench.BenchConfig"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        )
        django.setup()
    from django.db import models

    from purposeful.django import managed

    agreement = ServiceAgreement("Service delivery agreement")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", purposeful.errors.DictStorageWarning)

        @purposeful.record(subject="client_id")
        class BenchDjangoCase(models.Model):
            client_id = models.CharField(max_length=20)
            diagnosis = managed(
                models.TextField(), purposes={CASE_MANAGEMENT: agreement}, sensitivity=SENSITIVE
            )
            region = models.CharField(max_length=40)

            class Meta:
                app_label = "purposeful_bench"

    return BenchDjangoCase


def measure(repeat: int, number: int) -> dict[str, float | None]:
    """``checked_read_ratio_django`` (see the module docstring)."""
    if django is None:
        return {"checked_read_ratio_django": None}
    model = _model()
    case = model.from_db(
        "default", ["id", "client_id", "diagnosis", "region"], (1, "C-1", "x", "y")
    )
    plain = timeit.Timer("case.region", globals={"case": case})
    checked = timeit.Timer("case.diagnosis", globals={"case": case})
    ratios = []
    for _ in range(max(repeat, 5)):
        plain_s = plain.timeit(number)
        with purposeful.use(CASE_MANAGEMENT, actor=WORKER):
            case.diagnosis  # noqa: B018 - the first read decides
            checked_s = checked.timeit(number)
        ratios.append(checked_s / plain_s)
    return {"checked_read_ratio_django": statistics.median(ratios)}


if __name__ == "__main__":
    print(measure(7, 300_000))
