"""Subject relations through a multi-table child, and a database error raised at COMMIT."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

pytest.importorskip("django")

import _django_settings

_django_settings.configure()

from django.apps import apps  # noqa: E402
from django.db import IntegrityError, connections, models, transaction  # noqa: E402

import purposeful  # noqa: E402
from _django_settings import RECORDS_APP  # noqa: E402
from purposeful import ServiceAgreement  # noqa: E402
from purposeful._kinds.django_checks import model_problems  # noqa: E402
from purposeful.django import managed  # noqa: E402
from purposeful.errors import DictStorageWarning  # noqa: E402

AGREEMENT = ServiceAgreement("Red13 relations agreement")
GHOST = "NHI-GHOST-4417"
SECRET = "diagnosis-secret-8812"

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_number", name="R13DjPerson")
    class R13Person(models.Model):
        client_number = models.CharField(max_length=20, unique=True)
        name = managed(models.CharField(max_length=40), purposes={"service-delivery": AGREEMENT})

        class Meta:
            app_label = RECORDS_APP

    @purposeful.record(subject="person_id", name="R13DjVisit")
    class R13Visit(models.Model):
        person = models.ForeignKey(
            R13Person, to_field="client_number", on_delete=models.CASCADE, related_name="+"
        )
        notes = managed(models.TextField(), purposes={"service-delivery": AGREEMENT})

        class Meta:
            app_label = RECORDS_APP


def test_a_subject_keyed_by_a_multi_table_childs_parent_link_is_not_reported() -> None:
    """A record whose subject is its primary key (``id``), and a multi-table child of it:
    the child's primary key (``member_ptr_id``) is the parent's ``id``, the same person's
    subject. A record referring to the child by its primary key refers to the person by
    their subject, yet ``purposeful.E004`` reports it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DictStorageWarning)

            @purposeful.record(subject="id", name="R13DjMember")
            class R13Member(models.Model):
                name = managed(
                    models.CharField(max_length=40), purposes={"service-delivery": AGREEMENT}
                )

                class Meta:
                    app_label = RECORDS_APP

            class R13Volunteer(R13Member):
                class Meta:
                    app_label = RECORDS_APP

            @purposeful.record(subject="volunteer_id", name="R13DjShift")
            class R13Shift(models.Model):
                volunteer = models.ForeignKey(
                    R13Volunteer, on_delete=models.CASCADE, related_name="+"
                )
                notes = managed(models.TextField(), purposes={"service-delivery": AGREEMENT})

                class Meta:
                    app_label = RECORDS_APP

            problems = model_problems([R13Member, R13Volunteer, R13Shift])
        assert [p.id for p in problems if p.id == "purposeful.E004"] == [], [
            p.msg for p in problems
        ]
    finally:
        for name in ("r13member", "r13volunteer", "r13shift"):
            apps.all_models[RECORDS_APP].pop(name, None)
        apps.clear_cache()


@pytest.fixture
def visit_tables(postgres_database: str) -> str:
    with connections[postgres_database].schema_editor() as editor:
        editor.create_model(R13Person)
        editor.create_model(R13Visit)
    return postgres_database


def test_a_deferred_foreign_key_error_at_commit_quotes_no_subject_id(visit_tables: str) -> None:
    """Django makes every foreign key on PostgreSQL ``DEFERRABLE INITIALLY DEFERRED``: in
    an ``atomic()`` block (``ATOMIC_REQUESTS``) a row naming no existing person is refused
    at COMMIT, which no execute wrapper sees, and PostgreSQL's ``DETAIL: Key
    (person_id)=(NHI-…) is not present in table`` stays in the IntegrityError."""
    with pytest.raises(IntegrityError) as raised, transaction.atomic(using=visit_tables):
        R13Visit(person_id=GHOST, notes=SECRET).save(using=visit_tables)
    exc = raised.value
    texts = [str(exc), repr(exc), repr(exc.args), str(exc.__cause__), repr(exc.__cause__)]
    assert not any(GHOST in t for t in texts), texts


def test_an_execute_wrapper_block_leaves_the_scrubber_in_place() -> None:
    """Django's ``connection.execute_wrapper()`` removes the last wrapper when its block
    ends; the scrubber is first in the list and marked on the connection, so a block (one
    per request, in a middleware) takes out its own wrapper, and a reconnection adds none."""
    from django.db import connection

    from purposeful._kinds import database_errors

    database_errors.scrub_django()
    connection.ensure_connection()

    def mine(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        return execute(sql, params, many, context)

    for _ in range(3):
        with connection.execute_wrapper(mine):
            pass
        connection.close()
        connection.ensure_connection()
    assert connection.execute_wrappers.count(database_errors._scrubbed_execute) == 1
    assert mine not in connection.execute_wrappers
