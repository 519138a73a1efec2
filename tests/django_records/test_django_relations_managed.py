"""A relation keyed by a record's managed field (a red team's finding): ``ForeignKey(Person,
to_field="nhi")`` keeps the managed value in the referring row's own column
(``letter.person_id``), which serialisers, forms and ``values()`` read undecided. It is
refused when the referring model is made, if the record is resolved by then, and by the
system check ``purposeful.E003`` otherwise (a model named by a string)."""

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
from purposeful import ServiceAgreement  # noqa: E402
from purposeful._kinds.django_checks import model_problems  # noqa: E402
from purposeful.django import managed  # noqa: E402
from purposeful.errors import AnnotationError, DictStorageWarning  # noqa: E402

PURPOSES = {"service-delivery": ServiceAgreement("Relations agreement")}

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id", name="DjRelPerson")
    class DjRelPerson(models.Model):
        client_id = models.CharField(max_length=20, unique=True)
        nhi = managed(models.CharField(max_length=7, unique=True), purposes=PURPOSES)

        class Meta:
            app_label = RECORDS_APP


@pytest.mark.parametrize("relation", [models.ForeignKey, models.OneToOneField])
def test_a_relation_keyed_by_a_managed_field_is_refused_when_made(relation: type) -> None:
    with pytest.raises(AnnotationError, match=r"by nhi, a managed field.*to_field='nhi'"):
        type(
            f"DjRelLetter{relation.__name__}",
            (models.Model,),
            {
                "__module__": __name__,
                "person": relation(DjRelPerson, to_field="nhi", on_delete=models.CASCADE),
                "Meta": type("Meta", (), {"app_label": RECORDS_APP}),
            },
        )


def test_a_relation_keyed_by_several_fields_one_managed_is_refused() -> None:
    """Found by a third red team: a ``ForeignObject`` naming two target fields has no single
    ``target_field``, and the check skipped it."""
    with pytest.raises(AnnotationError, match="by nhi, a managed field"):
        type(
            "DjRelCompositeLetter",
            (models.Model,),
            {
                "__module__": __name__,
                "person_nhi": models.CharField(max_length=7),
                "person_client": models.CharField(max_length=20),
                "person": models.ForeignObject(
                    DjRelPerson,
                    on_delete=models.CASCADE,
                    from_fields=["person_nhi", "person_client"],
                    to_fields=["nhi", "client_id"],
                ),
                "Meta": type("Meta", (), {"app_label": RECORDS_APP}),
            },
        )


def test_relations_by_the_primary_key_or_an_unmanaged_key_are_not() -> None:
    class DjRelNote(models.Model):
        person = models.ForeignKey(DjRelPerson, on_delete=models.CASCADE)
        client = models.ForeignKey(
            DjRelPerson, to_field="client_id", on_delete=models.CASCADE, related_name="+"
        )

        class Meta:
            app_label = RECORDS_APP

    assert model_problems([DjRelNote]) == []


def test_a_relation_named_by_a_string_is_found_by_the_system_check() -> None:
    """Resolved only once the record exists: the class is made, and ``manage.py check``
    (every ``runserver``, ``migrate`` and test run) reports purposeful.E003."""

    try:
        _lazy_letter_is_found()
    finally:  # out of the registry: migrate (other tests' fixtures) runs the system checks
        for name in ("djrellazyletter", "djrellaterperson"):
            apps.all_models[RECORDS_APP].pop(name, None)
        apps.clear_cache()


def _lazy_letter_is_found() -> None:
    class DjRelLazyLetter(models.Model):
        person = models.ForeignKey(
            f"{RECORDS_APP}.DjRelLaterPerson", to_field="nhi", on_delete=models.CASCADE
        )

        class Meta:
            app_label = RECORDS_APP

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)

        @purposeful.record(subject="client_id", name="DjRelLaterPerson")
        class DjRelLaterPerson(models.Model):
            client_id = models.CharField(max_length=20)
            nhi = managed(models.CharField(max_length=7, unique=True), purposes=PURPOSES)

            class Meta:
                app_label = RECORDS_APP

    assert [p.id for p in model_problems([DjRelLazyLetter])] == ["purposeful.E003"]
    from purposeful._kinds.django_checks import check_models

    found = check_models([apps.get_app_config(RECORDS_APP)])
    assert "purposeful.E003" in {problem.id for problem in found}
