"""Django records against hostile use (issue 23): a managed field nothing would guard fails
closed, an error of the save path quotes no managed value, and what stays open is the
documented limit of docs/django.md, asserted as written there."""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Iterator

import pytest

pytest.importorskip("django")

import _django_settings

_django_settings.configure()

from django.db import connection, models, transaction  # noqa: E402
from django.db.models.functions import Upper  # noqa: E402

import purposeful  # noqa: E402
from _django_settings import RECORDS_APP  # noqa: E402
from purposeful import SENSITIVE, Actor, ServiceAgreement  # noqa: E402
from purposeful.django import managed  # noqa: E402
from purposeful.errors import AnnotationError, DictStorageWarning, ManagedValueError  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
WORKER = Actor("staff-23", role="caseworker", clearance=SENSITIVE)
SECRET = "kaitiaki-secret-hostile"
SUBJECT = "C-HOSTILE-SUBJECT"
PURPOSES = {"service-delivery": AGREEMENT}

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id", name="DjHostileCase")
    class DjHostileCase(models.Model):
        client_id = models.CharField(max_length=20)
        diagnosis = managed(models.TextField(), purposes=PURPOSES)
        age = managed(models.IntegerField(null=True), purposes=PURPOSES)
        birth_date = managed(models.DateField(null=True), purposes=PURPOSES)
        region = models.CharField(max_length=40, default="Otago")

        class Meta:
            app_label = RECORDS_APP

    class DjHostileCaseDetail(DjHostileCase):
        """Multi-table inheritance, not decorated, declaring a managed field of its own."""

        detail = managed(models.TextField(default=""), purposes=PURPOSES)

        class Meta:
            app_label = RECORDS_APP

    @purposeful.record(subject="client_id", name="DjHostileShout")
    class DjHostileShout(models.Model):
        client_id = models.CharField(max_length=20)
        diagnosis = managed(models.TextField(), purposes=PURPOSES)
        shouted = models.GeneratedField(
            expression=Upper("diagnosis"), output_field=models.TextField(), db_persist=True
        )

        class Meta:
            app_label = RECORDS_APP

    class DjHostileForgotten(models.Model):
        """A model declaring a managed field whose decorator was forgotten."""

        client_id = models.CharField(max_length=20)
        diagnosis = managed(models.TextField(), purposes=PURPOSES)

        class Meta:
            app_label = RECORDS_APP

    class DjHostileArchive(models.Model):
        """A plain model with the same field names (an archive table)."""

        client_id = models.CharField(max_length=20)
        diagnosis = models.TextField()
        age = models.IntegerField(null=True)
        birth_date = models.DateField(null=True)
        region = models.CharField(max_length=40, default="Otago")

        class Meta:
            app_label = RECORDS_APP


_MODELS = [DjHostileCase, DjHostileCaseDetail, DjHostileShout, DjHostileArchive]


@pytest.fixture(scope="module")
def tables() -> None:
    with connection.schema_editor() as editor:
        for model in _MODELS:
            editor.create_model(model)


@pytest.fixture
def db(tables: None) -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _case() -> DjHostileCase:
    made = DjHostileCase.objects.create(
        client_id=SUBJECT, diagnosis=SECRET, age=42, birth_date=datetime.date(2001, 2, 3)
    )
    return DjHostileCase.objects.get(pk=made.pk)


def test_a_managed_field_of_an_undecorated_child_model_fails_closed(db: None) -> None:
    """An undecorated multi-table child inherits its parent's guards; its own managed(...)
    field is refused with AnnotationError on every read, the save's included, so it is
    never read undecided: decorating the child is the fix the message names."""
    with pytest.raises(AnnotationError, match=r"DjHostileCaseDetail\.detail .*decorate the"):
        DjHostileCaseDetail.objects.create(client_id=SUBJECT, diagnosis="d", detail=SECRET)
    child = DjHostileCaseDetail(client_id=SUBJECT, diagnosis="d", detail=SECRET)
    with purposeful.use("service-delivery", actor=WORKER), pytest.raises(AnnotationError) as raised:
        child.detail  # noqa: B018
    assert SECRET not in str(raised.value)
    with pytest.raises(purposeful.NoPurposeScope):
        child.diagnosis  # noqa: B018


def test_a_managed_field_of_a_model_never_decorated_fails_closed(db: None) -> None:
    """A forgotten @purposeful.record on a model declaring managed(...) fields: the fields
    are refused (AnnotationError, save() included), never plain."""
    with pytest.raises(AnnotationError, match=r"DjHostileForgotten\.diagnosis .*decorate the"):
        DjHostileForgotten.objects.create(client_id=SUBJECT, diagnosis=SECRET)
    forgotten = DjHostileForgotten(client_id=SUBJECT, diagnosis=SECRET)
    with purposeful.use("service-delivery", actor=WORKER), pytest.raises(AnnotationError) as raised:
        forgotten.diagnosis  # noqa: B018
    assert SECRET not in str(raised.value)
    assert forgotten.client_id == SUBJECT  # its plain fields stay plain


def test_decorating_the_child_model_replaces_the_refusal_with_the_guard() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)

        @purposeful.record(subject="client_id", name="DjHostileCasePlan")
        class DjHostileCasePlan(DjHostileCase):
            plan = managed(models.TextField(default=""), purposes=PURPOSES)

            class Meta:
                app_label = RECORDS_APP

    plan = DjHostileCasePlan(client_id=SUBJECT, diagnosis="d", plan=SECRET)
    with pytest.raises(purposeful.NoPurposeScope):
        plan.plan  # noqa: B018
    with purposeful.use("service-delivery", actor=WORKER):
        assert plan.plan == SECRET


def test_dates_on_a_managed_date_field_returns_the_values_as_documented(db: None) -> None:
    """docs/django.md, Limits: dates() and datetimes() return the database's values, like
    values_list()."""
    _case()
    assert list(DjHostileCase.objects.dates("birth_date", "day")) == [datetime.date(2001, 2, 3)]


def test_a_generated_field_over_a_managed_field_is_plain_as_documented(db: None) -> None:
    """docs/django.md, Limits: a GeneratedField computed from a managed field is a column of
    its own, plain unless declared managed too."""
    made = DjHostileShout.objects.create(client_id=SUBJECT, diagnosis=SECRET)
    assert DjHostileShout.objects.get(pk=made.pk).shouted == SECRET.upper()


def test_save_does_not_quote_a_stored_managed_value_in_its_error(db: None) -> None:
    """A stored managed value Django cannot convert for the database (SQLite keeps text in
    an INTEGER column) fails save() with a ManagedValueError (still a ValueError) that
    quotes no value."""
    case = _case()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DjHostileCase._meta.db_table} SET age = %s WHERE id = %s", [SECRET, case.pk]
        )
    case = DjHostileCase.objects.get(pk=case.pk)
    case.region = "Wellington"  # a plain change; the save writes every field
    with pytest.raises(ManagedValueError, match="DjHostileCase") as raised:
        case.save()
    assert isinstance(raised.value, ValueError)
    assert SECRET not in str(raised.value)
    assert raised.value.__context__ is None
    assert raised.value.__cause__ is None


def test_bulk_update_does_not_quote_a_stored_managed_value_in_its_error(db: None) -> None:
    """The same for bulk_update() (it once quoted the value in Django's ValueError)."""
    case = _case()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DjHostileCase._meta.db_table} SET age = %s WHERE id = %s", [SECRET, case.pk]
        )
    rows = iter([DjHostileCase.objects.get(pk=case.pk)])  # any iterable, as Django takes
    with pytest.raises(ManagedValueError, match="DjHostileCase") as raised:
        DjHostileCase.objects.bulk_update(rows, ["age", "region"])
    assert isinstance(raised.value, ValueError)
    assert SECRET not in str(raised.value)
    assert raised.value.__context__ is None


def test_a_bulk_update_error_quoting_no_managed_value_is_django_s_own(db: None) -> None:
    case = _case()
    with pytest.raises(ValueError, match="primary key") as raised:
        DjHostileCase.objects.bulk_update([DjHostileCase(client_id=SUBJECT)], ["region"])
    assert not isinstance(raised.value, ManagedValueError)
    assert case.pk is not None


def test_a_save_error_quoting_no_managed_value_is_django_s_own(db: None) -> None:
    case = _case()
    case.id = "not-a-number"  # type: ignore[assignment]
    with pytest.raises(ValueError, match="not-a-number") as raised:
        case.save()
    assert not isinstance(raised.value, ManagedValueError)


def test_bulk_create_of_another_model_copies_managed_values_as_documented(db: None) -> None:
    """docs/django.md, Limits: the exempt ORM paths given a record's instances for another
    model (Archive.objects.bulk_create([case])) copy its managed values undecided."""
    case = _case()
    DjHostileArchive.objects.bulk_create([case])  # type: ignore[list-item]
    assert [a.diagnosis for a in DjHostileArchive.objects.all()] == [SECRET]


def test_refresh_from_db_of_another_model_copies_managed_values_as_documented(db: None) -> None:
    """docs/django.md, Limits: other.refresh_from_db(from_queryset=Case.objects...) copies
    the record's managed values into the other instance undecided."""
    case = _case()
    archive = DjHostileArchive.objects.create(id=case.pk, client_id="x", diagnosis="nothing")
    archive.refresh_from_db(from_queryset=DjHostileCase.objects.all())  # type: ignore[arg-type]
    assert archive.diagnosis == SECRET
