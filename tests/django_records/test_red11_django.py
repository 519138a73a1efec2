"""Red-team findings against Django records: each test asserts the safe behaviour."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

import _django_settings

_django_settings.configure()

from _family_models import DjangoCase  # noqa: E402
from django.db import IntegrityError, connection, models, transaction  # noqa: E402

import purposeful  # noqa: E402
from _django_settings import RECORDS_APP  # noqa: E402
from purposeful import ServiceAgreement  # noqa: E402
from purposeful.django import managed  # noqa: E402
from purposeful.errors import DictStorageWarning  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_no", name="DjRed11Numbered")
    class DjRed11Numbered(models.Model):
        """A record whose subject is a number (a client number, a foreign key's id)."""

        client_no = models.IntegerField()
        diagnosis = managed(
            models.TextField(), purposes={"service-delivery": ServiceAgreement("Red 11")}
        )

        class Meta:
            app_label = RECORDS_APP


@pytest.fixture(scope="module")
def numbered_table() -> None:
    with connection.schema_editor() as editor:
        editor.create_model(DjRed11Numbered)


@pytest.fixture
def db(numbered_table: None) -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


SECRET = "kaitiaki-red11-diagnosis"
SUBJECT = "C-RED11-SUBJECT"


@pytest.fixture
def on_postgres(postgres_database: str) -> Iterator[str]:
    with transaction.atomic(using=postgres_database):
        yield postgres_database
        transaction.set_rollback(True, using=postgres_database)


def test_a_postgres_constraint_error_on_save_quotes_no_managed_value(on_postgres: str) -> None:
    """save() is exempt and runs outside any scope; PostgreSQL's own error for a NOT NULL
    violation carries ``DETAIL: Failing row contains (...)``: every column of the row,
    managed values and the raw subject id among them, in the exception's message (what a
    log line, a traceback and an error tracker show)."""
    case = DjangoCase(client_id=SUBJECT, diagnosis=SECRET, address=None)
    with pytest.raises(IntegrityError) as raised, transaction.atomic(using=on_postgres):
        case.save(using=on_postgres)
    assert SECRET not in str(raised.value)
    assert SUBJECT not in str(raised.value)
    assert SECRET not in str(raised.value.__cause__)
    assert "not-null constraint" in str(raised.value)  # what to fix is still said


def test_a_save_error_quotes_no_subject_id(db: None) -> None:
    """The attrs and dataclass kinds scrub the subject from their constructors' errors ("its
    validator's error would quote the raw id"); a Django record's save() scrubs only managed
    fields, so Django's ``Field 'client_no' expected a number but got '...'`` quotes the
    raw subject id given, outside any scope, into a log line and an error tracker."""
    case = DjRed11Numbered(client_no=SUBJECT, diagnosis=SECRET)
    with pytest.raises(ValueError, match="client_no") as raised:
        case.save()
    assert SUBJECT not in str(raised.value)


def test_a_full_clean_error_quotes_no_subject_id(db: None) -> None:
    """``full_clean()`` (model forms, the admin) reports a subject Django cannot convert
    with its own message, which quotes the value given: the raw subject id. It names the
    field and the code instead, as for a managed field."""
    from django.core.exceptions import ValidationError

    case = DjRed11Numbered(client_no=SUBJECT, diagnosis=SECRET)
    with pytest.raises(ValidationError) as raised:
        case.clean_fields(exclude=["diagnosis"])  # a managed field: a read, scoped or not
    assert "client_no" in raised.value.message_dict
    assert SUBJECT not in str(raised.value)
