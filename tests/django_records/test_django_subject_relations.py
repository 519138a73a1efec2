"""A record whose subject is a relation's column (an adopter's finding): ``person_id`` of
``ForeignKey(Person)`` holds Person's primary key, not Person's subject (a client number),
so one person is known by two ids, and consent is asked of whoever has the primary key's
value as a client number. The system check ``purposeful.E004`` reports it; a relation keyed
by the related record's subject (``to_field=``), or a related model that is not a record,
passes."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("django")

import _django_settings

_django_settings.configure()

from django.apps import apps  # noqa: E402
from django.db import models  # noqa: E402

import purposeful  # noqa: E402
from _django_settings import RECORDS_APP  # noqa: E402
from purposeful import CONSENT, ServiceAgreement  # noqa: E402
from purposeful._kinds.django_checks import model_problems  # noqa: E402
from purposeful.django import managed  # noqa: E402
from purposeful.errors import DictStorageWarning  # noqa: E402

AGREEMENT = ServiceAgreement("Subject relations agreement")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_number", name="DjSubjPerson")
    class DjSubjPerson(models.Model):
        client_number = models.CharField(max_length=20, unique=True)
        name = managed(models.CharField(max_length=40), purposes={"service-delivery": AGREEMENT})

        class Meta:
            app_label = RECORDS_APP

    class DjSubjPlainPerson(models.Model):
        client_number = models.CharField(max_length=20, unique=True)

        class Meta:
            app_label = RECORDS_APP

    @purposeful.record(subject="person_id", name="DjSubjSurveyBySubject")
    class DjSubjSurveyBySubject(models.Model):
        person = models.ForeignKey(
            DjSubjPerson, to_field="client_number", on_delete=models.CASCADE, related_name="+"
        )
        answers = managed(models.TextField(), purposes={"research": CONSENT})

        class Meta:
            app_label = RECORDS_APP

    @purposeful.record(subject="person_id", name="DjSubjSurveyOfPlain")
    class DjSubjSurveyOfPlain(models.Model):
        person = models.ForeignKey(DjSubjPlainPerson, on_delete=models.CASCADE, related_name="+")
        answers = managed(models.TextField(), purposes={"research": CONSENT})

        class Meta:
            app_label = RECORDS_APP


def test_a_subject_keyed_by_the_related_records_primary_key_is_reported() -> None:
    """Made here and taken out of the registry after: migrate (other tests' fixtures) runs
    the system checks, which would refuse it."""
    try:
        _reported()
    finally:
        apps.all_models[RECORDS_APP].pop("djsubjsurveybykey", None)
        apps.clear_cache()


def _reported() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)

        @purposeful.record(subject="person_id", name="DjSubjSurveyByKey")
        class DjSubjSurveyByKey(models.Model):
            person = models.ForeignKey(DjSubjPerson, on_delete=models.CASCADE, related_name="+")
            answers = managed(models.TextField(), purposes={"research": CONSENT})

            class Meta:
                app_label = RECORDS_APP

    [problem] = model_problems([DjSubjSurveyByKey])
    assert problem.id == "purposeful.E004"
    assert problem.obj is DjSubjSurveyByKey
    message = str(problem.msg)
    assert "person_id, which holds DjSubjPerson.id" in message
    assert "not DjSubjPerson's subject client_number" in message
    assert "to_field='client_number'" in str(problem.hint)


@pytest.mark.parametrize("model", [DjSubjSurveyBySubject, DjSubjSurveyOfPlain, DjSubjPerson])
def test_a_subject_keyed_by_the_related_subject_or_of_a_plain_model_passes(model: type) -> None:
    assert model_problems([model]) == []
