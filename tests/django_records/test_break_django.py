"""Red-team findings against Django models as records.

A finding that is a documented limit is pinned as the docs describe it; the others pin what
was fixed, or what held under attack.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("django")

import _django_settings

_django_settings.configure()

from django.core.exceptions import ValidationError  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.db.models import F, Max  # noqa: E402
from django.db.models.functions import Upper  # noqa: E402

import purposeful  # noqa: E402
from _django_settings import RECORDS_APP  # noqa: E402
from purposeful import SENSITIVE, Actor, ServiceAgreement  # noqa: E402
from purposeful.django import managed  # noqa: E402
from purposeful.errors import DictStorageWarning  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
WORKER = Actor("staff-brk", role="caseworker", clearance=SENSITIVE)
FUNDER = Actor("svc-brk", role="funder-reporting-job", clearance=SENSITIVE)
SECRET = "kaitiaki-secret-break"
SUBJECT = "C-BREAK-SUBJECT"

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id", name="DjBreakCase")
    class DjBreakCase(models.Model):
        client_id = models.CharField(max_length=20)
        diagnosis = managed(models.TextField(), purposes={"service-delivery": AGREEMENT})
        status = managed(
            models.CharField(max_length=40, choices=[("open", "Open"), ("closed", "Closed")]),
            purposes={"service-delivery": AGREEMENT},
        )
        region = models.CharField(max_length=40, default="Otago")

        class Meta:
            app_label = RECORDS_APP


@pytest.fixture(scope="module")
def tables() -> None:
    with connection.schema_editor() as editor:
        editor.create_model(DjBreakCase)


@pytest.fixture
def db(tables: None) -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _case(**overrides: str) -> DjBreakCase:
    values = {"client_id": SUBJECT, "diagnosis": SECRET, "status": "open", **overrides}
    made = DjBreakCase.objects.create(**values)
    return DjBreakCase.objects.get(pk=made.pk)


_QUERIES = {
    "annotate-F": lambda: DjBreakCase.objects.annotate(copied=F("diagnosis")).get().copied,
    "annotate-Upper": lambda: DjBreakCase.objects.annotate(copied=Upper("diagnosis")).get().copied,
    "aggregate-Max": lambda: DjBreakCase.objects.aggregate(copied=Max("diagnosis"))["copied"],
}


@pytest.mark.parametrize("how", list(_QUERIES))
def test_an_annotation_or_aggregate_over_a_managed_field_is_a_documented_limit(
    db: None, how: str
) -> None:
    """docs/django.md, Limits: annotate() and aggregate() over a managed field compute in the
    database and hand the result out undecided, like values(); the docs say so and say
    what to do instead. This pins the behaviour the docs describe."""
    case = _case()
    with purposeful.use("funder-reporting", actor=FUNDER):
        with pytest.raises(purposeful.PurposeViolation):
            _ = case.diagnosis
        copied = _QUERIES[how]()
    assert SECRET.casefold() in str(copied).casefold()
    page = (Path(__file__).parents[2] / "docs" / "django.md").read_text(encoding="utf-8")
    assert "`annotate()` and `aggregate()` over a managed field" in page


@pytest.mark.parametrize("validate", ["full_clean", "clean_fields"])
def test_validating_a_model_does_not_quote_a_managed_value(db: None, validate: str) -> None:
    case = _case(status=f"bogus-{SECRET}")
    with (
        purposeful.use("service-delivery", actor=WORKER),
        pytest.raises(ValidationError) as refused,
    ):
        getattr(case, validate)()
    assert SECRET not in str(refused.value)
    assert SUBJECT not in str(refused.value)
    assert refused.value.__context__ is None
    assert refused.value.error_dict["status"][0].code == "invalid_choice"


def test_pickling_copying_and_serialising_outside_a_scope_are_refused(db: None) -> None:
    """Held: each of these reads every managed field, and is refused outside a scope."""
    import copy
    import pickle

    from django.core import serializers
    from django.forms.models import model_to_dict

    case = _case()
    field = DjBreakCase._meta.get_field("diagnosis")
    for attempt in (
        lambda: pickle.dumps(case),
        lambda: copy.copy(case),
        lambda: case.__reduce__(),
        lambda: model_to_dict(case),
        lambda: serializers.serialize("json", [case]),
        lambda: field.value_to_string(case),
        lambda: case.get_status_display(),
        lambda: DjBreakCase.objects.only("id").get().diagnosis,
    ):
        with pytest.raises(purposeful.NoPurposeScope) as refused:
            attempt()
        assert SECRET not in str(refused.value)
        assert SUBJECT not in str(refused.value)
    assert SECRET not in repr(DjBreakCase.objects.all())
    assert SUBJECT not in repr(DjBreakCase.objects.in_bulk())


def test_a_row_repointed_to_another_person_refuses_to_refresh(db: None) -> None:
    """Held: refreshing a row whose subject the database changed (a merge of duplicate
    clients) refuses the change, so the instance never becomes another person's record
    while the hot path still answers for the first."""
    case = _case()
    with purposeful.use("service-delivery", actor=WORKER):
        assert case.diagnosis == SECRET
        DjBreakCase.objects.filter(pk=case.pk).update(client_id="C-BREAK-OTHER")
        with pytest.raises(purposeful.errors.SubjectChangeRefused) as refused:
            case.refresh_from_db()
    assert "C-BREAK-OTHER" not in str(refused.value)
    assert SUBJECT not in str(refused.value)
