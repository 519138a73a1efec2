"""Django records: a database's own error for a row of a record, on the bulk paths that do
not go through ``save()``. Each test asserts the safe behaviour."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import _django_settings

_django_settings.configure()

from _family_models import DjangoCase  # noqa: E402
from django.db import IntegrityError, transaction  # noqa: E402

SECRET = "kaitiaki-red12-diagnosis"
SUBJECT = "C-RED12-SUBJECT"


@pytest.fixture
def on_postgres(postgres_database: str) -> Iterator[str]:
    with transaction.atomic(using=postgres_database):
        yield postgres_database
        transaction.set_rollback(True, using=postgres_database)


def test_bulk_create_constraint_error_quotes_no_managed_value(on_postgres: str) -> None:
    """``bulk_create`` writes the rows without ``save()``: PostgreSQL's ``DETAIL: Failing
    row contains (...)`` (the diagnosis, the raw subject id) stays in the IntegrityError."""
    case = DjangoCase(client_id=SUBJECT, diagnosis=SECRET, address=None)
    with pytest.raises(IntegrityError) as raised, transaction.atomic(using=on_postgres):
        DjangoCase.objects.using(on_postgres).bulk_create([case])
    assert SECRET not in str(raised.value)
    assert SUBJECT not in str(raised.value)
    assert SECRET not in str(raised.value.__cause__)


def test_queryset_update_constraint_error_quotes_no_managed_value(on_postgres: str) -> None:
    """``QuerySet.update()`` writes without ``save()``: the row PostgreSQL refuses is quoted
    whole in its ``DETAIL:`` line, the stored diagnosis and subject id with it."""
    DjangoCase(client_id=SUBJECT, diagnosis=SECRET, address="1 Road").save(using=on_postgres)
    with pytest.raises(IntegrityError) as raised, transaction.atomic(using=on_postgres):
        DjangoCase.objects.using(on_postgres).update(address=None)
    assert SECRET not in str(raised.value)
    assert SUBJECT not in str(raised.value)
