"""Django models as records: every ORM operation is a checked read, an exempt internal, or a
documented limit (docs/django.md), on SQLite and on PostgreSQL."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from _family_models import DjangoCase
from django import forms
from django.core import serializers
from django.db import connections, models
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.state import ModelState, ProjectState
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, FUNDER_JOB, SERVICE_AGREEMENT, Case
from purposeful import Mode, Outcome
from purposeful.django import managed
from purposeful.errors import AnnotationError, DictStorageWarning, SubjectChangeRefused

SECRET = "kaitiaki-diagnosis-3141"
ADDRESS = "12 Example Street"


def _case(alias: str, **values: Any) -> DjangoCase:
    given_values = {"client_id": "C-1", "diagnosis": SECRET, "address": ADDRESS, **values}
    return DjangoCase.objects.using(alias).create(**given_values)


def _loaded(alias: str, pk: int) -> DjangoCase:
    return DjangoCase.objects.using(alias).get(pk=pk)


class DjangoCaseForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = DjangoCase
        fields = ("client_id", "diagnosis", "region")


def test_a_decorated_model_is_a_django_record_in_the_dict_tier() -> None:
    policy = purposeful.record_policy(DjangoCase)
    assert policy.kind == "django"
    assert not policy.slotted
    assert set(policy.fields) == {"diagnosis", "address", "case_notes"}
    assert policy.names == ("id", "client_id", "diagnosis", "address", "case_notes", "region")


def test_reading_a_loaded_managed_field_is_checked(database: str) -> None:
    case = _loaded(database, _case(database).pk)
    with pytest.raises(purposeful.NoPurposeScope):
        case.diagnosis  # noqa: B018
    with (
        pytest.raises(purposeful.PurposeViolation),
        purposeful.use("funder-reporting", actor=FUNDER_JOB),
    ):
        case.diagnosis  # noqa: B018
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        assert case.diagnosis == SECRET
    assert [(d.field, d.outcome) for d in scope.decisions] == [("diagnosis", Outcome.ALLOWED)]
    assert case.region == "Wellington"  # a plain field is Django's own


def test_a_refused_deferred_field_is_never_fetched_and_an_allowed_one_loads(
    database: str,
) -> None:
    pk = _case(database).pk
    case = DjangoCase.objects.using(database).defer("diagnosis").get(pk=pk)
    assert case.get_deferred_fields() == {"diagnosis"}
    refusing = purposeful.use("funder-reporting", actor=FUNDER_JOB)
    queries = CaptureQueriesContext(connections[database])
    with queries, pytest.raises(purposeful.PurposeViolation), refusing:
        case.diagnosis  # noqa: B018
    assert len(queries) == 0
    allowing = purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER)
    with CaptureQueriesContext(connections[database]) as queries, allowing:
        assert case.diagnosis == SECRET
    assert len(queries) == 1
    assert case.get_deferred_fields() == set()


def test_a_deferred_subject_loads_as_django_would(database: str) -> None:
    pk = _case(database).pk
    case = DjangoCase.objects.using(database).only("diagnosis").get(pk=pk)
    assert case.client_id == "C-1"
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        assert case.diagnosis == SECRET
    assert scope.decisions[0].outcome is Outcome.ALLOWED


def test_the_orms_own_reads_work_outside_any_scope_and_under_a_refusing_one(
    database: str,
) -> None:
    """save(), create(), update, bulk_create, bulk_update and refresh_from_db are exempt."""
    for scope in (None, purposeful.use("funder-reporting", actor=FUNDER_JOB)):
        if scope is not None:
            scope.__enter__()
        try:
            case = _case(database)
            case.diagnosis = "updated"
            case.save()
            case.save(update_fields=["diagnosis"])
            created = DjangoCase.objects.using(database).bulk_create(
                [DjangoCase(client_id="C-2", diagnosis="b", address="x")]
            )
            created[0].diagnosis = "bulk"
            DjangoCase.objects.using(database).bulk_update(created, ["diagnosis"])
            DjangoCase.objects.using(database).filter(pk=case.pk).update(diagnosis="again")
            case.refresh_from_db()
            DjangoCase.objects.using(database).get(pk=case.pk)
        finally:
            if scope is not None:
                scope.__exit__(None, None, None)
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert case.diagnosis == "again"
        assert _loaded(database, created[0].pk).diagnosis == "bulk"


def _form_initial(case: DjangoCase) -> Any:
    return DjangoCaseForm(instance=case).initial


#: Django's operations that hand a managed value to the caller: each is a checked read.
READS: dict[str, Any] = {
    "attribute": lambda c: c.diagnosis,
    "getattr": lambda c: getattr(c, "diagnosis"),  # noqa: B009
    "serializable_value": lambda c: c.serializable_value("diagnosis"),
    "value_from_object": lambda c: DjangoCase._meta.get_field("diagnosis").value_from_object(c),
    "model_to_dict": model_to_dict,
    "serialize_json": lambda c: serializers.serialize("json", [c]),
    "serialize_python": lambda c: serializers.serialize("python", [c]),
    "model_form_initial": _form_initial,
    "full_clean": lambda c: c.full_clean(),
    "pickle": pickle.dumps,
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


@pytest.mark.parametrize("operation", READS, ids=str)
def test_every_django_way_to_a_value_is_a_checked_read(database: str, operation: str) -> None:
    case = _loaded(database, _case(database).pk)
    with pytest.raises(purposeful.NoPurposeScope):
        READS[operation](case)
    # case notes need consent, which no store here records: monitor mode lets them through
    monitor = purposeful.configured(mode=Mode.MONITOR)
    with monitor, purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        READS[operation](case)
    assert ("diagnosis", Outcome.ALLOWED) in {(d.field, d.outcome) for d in scope.decisions}


def test_serialised_models_carry_the_values_inside_a_scope(database: str) -> None:
    case = _case(database)
    # case notes need consent, which no store here records: monitor mode lets it through
    monitor = purposeful.configured(mode=Mode.MONITOR)
    with monitor, purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        [row] = json.loads(serializers.serialize("json", [case]))
        restored = pickle.loads(pickle.dumps(case))
        assert restored.diagnosis == SECRET
    assert row["fields"]["diagnosis"] == SECRET
    assert restored.pk == case.pk


def test_values_and_values_list_are_a_documented_limit(database: str) -> None:
    """values() and values_list() return the database's values, never an instance: no guard
    runs (docs/django.md, 'Limits'). Pinned so a change is noticed."""
    _case(database)
    query = DjangoCase.objects.using(database)
    assert list(query.values_list("diagnosis", flat=True)) == [SECRET]
    assert list(query.values("diagnosis")) == [{"diagnosis": SECRET}]


def test_vars_of_an_instance_is_the_dict_tier_limit(database: str) -> None:
    case = _case(database)
    assert vars(case)["diagnosis"] == SECRET


def test_repr_masks_managed_fields_and_the_subject(database: str) -> None:
    case = _case(database)
    text = repr(case)
    assert SECRET not in text
    assert "C-1" not in text
    assert "diagnosis=<managed>" in text
    assert "client_id=<subject>" in text
    assert "region='Wellington'" in text
    assert str(case) == f"case {case.pk}"


def test_the_subject_of_a_saved_row_cannot_be_rewritten(database: str) -> None:
    case = _case(database)
    with pytest.raises(SubjectChangeRefused):
        case.client_id = "C-2"
    case.client_id = "C-1"  # the same person: Django's refresh_from_db does this
    case.refresh_from_db()


def test_a_new_record_takes_its_subject_from_a_model_form(database: str) -> None:
    """Found by a red team: a ModelForm (a CreateView, the admin's add view) builds the
    instance with the subject's default ``''`` and sets the subject from the form after,
    which the subject guard refused as a change: no record could be made through a form."""
    form = DjangoCaseForm({"client_id": "C-7", "diagnosis": SECRET, "region": "Otago"})
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert form.is_valid()
        made = form.save(commit=False)
        made.save(using=database)
    assert made.client_id == "C-7"
    with pytest.raises(SubjectChangeRefused):  # saved: its subject is set for good
        made.client_id = "C-8"
    blank = DjangoCase()
    blank.client_id = "C-9"  # an instance not saved yet takes its subject once
    with pytest.raises(SubjectChangeRefused):
        blank.client_id = "C-10"
    given = DjangoCase(client_id="C-11")  # a subject given at construction is set
    with pytest.raises(SubjectChangeRefused):
        given.client_id = "C-12"


@pytest.mark.parametrize("narrowed", ["defer", "only"])
def test_the_deferred_subject_of_a_loaded_row_cannot_be_rewritten(
    database: str, narrowed: str
) -> None:
    """Found by a red team: a row loaded without its subject (``defer("client_id")``) took a
    new one as if being built, and ``save()`` wrote one person's values as another's."""
    case = _case(database)
    query = DjangoCase.objects.using(database)
    row = query.defer("client_id") if narrowed == "defer" else query.only("region")
    loaded = row.get(pk=case.pk)
    with pytest.raises(SubjectChangeRefused):
        loaded.client_id = "C-2"
    loaded.client_id = "C-1"  # the same person
    assert query.filter(client_id="C-2").count() == 0


def test_a_projection_of_a_model_withholds_what_the_purpose_may_not_read(database: str) -> None:
    case = _case(database)
    projection = purposeful.project(case, "funder-reporting", actor=FUNDER_JOB)
    assert set(projection.withheld) == {"diagnosis", "case_notes"}
    assert projection["address"] == ADDRESS


def test_migrations_see_no_change_when_a_model_becomes_a_record() -> None:
    def state(model: type) -> ProjectState:
        project = ProjectState()
        project.add_model(ModelState.from_model(model))
        return project

    class UndecoratedVisit(models.Model):
        client_id = models.CharField(max_length=20)
        summary = managed(
            models.TextField(blank=True), purposes={"service-delivery": SERVICE_AGREEMENT}
        )

        class Meta:
            app_label = "family_records"

    before = state(UndecoratedVisit)
    with pytest.warns(DictStorageWarning, match="django"):
        purposeful.record(subject="client_id")(UndecoratedVisit)
    after = state(UndecoratedVisit)
    changes = MigrationAutodetector(before, after).changes(graph=MigrationGraph())
    assert changes == {}
    field = UndecoratedVisit._meta.get_field("summary")
    assert field.deconstruct()[3] == {"blank": True}


def test_declaring_a_relation_or_the_primary_key_managed_is_refused() -> None:
    try:
        with pytest.raises(AnnotationError, match="relation"):

            @purposeful.record(subject="client_id")
            class ManagedRelation(models.Model):
                client_id = models.CharField(max_length=20)
                other = managed(
                    models.ForeignKey(DjangoCase, on_delete=models.CASCADE),
                    purposes={"service-delivery": SERVICE_AGREEMENT},
                )

                class Meta:
                    app_label = "family_records"

        with pytest.raises(AnnotationError, match="primary key"):

            @purposeful.record(subject="client_id")
            class ManagedKey(models.Model):
                code = managed(
                    models.CharField(max_length=9, primary_key=True),
                    purposes={"service-delivery": SERVICE_AGREEMENT},
                )
                client_id = models.CharField(max_length=20)

                class Meta:
                    app_label = "family_records"
    finally:  # the classes Django registered before the refusal must not outlive the test:
        # a later delete of a DjangoCase would cascade to ManagedRelation's missing table
        from django.apps import apps

        for name in ("managedrelation", "managedkey"):
            apps.all_models["family_records"].pop(name, None)
        apps.clear_cache()


def test_managed_takes_a_django_field_once() -> None:
    with pytest.raises(AnnotationError, match="Django model field"):
        managed("text", purposes={"service-delivery": SERVICE_AGREEMENT})
    field = managed(models.TextField(), purposes={"service-delivery": SERVICE_AGREEMENT})
    with pytest.raises(AnnotationError, match="already managed"):
        managed(field, purposes={"service-delivery": SERVICE_AGREEMENT})


def test_an_abstract_model_is_refused_with_what_to_decorate() -> None:
    with pytest.raises(AnnotationError, match="abstract"):

        @purposeful.record(subject="client_id")
        class AbstractVisit(models.Model):
            client_id = models.CharField(max_length=20)

            class Meta:
                abstract = True
                app_label = "family_records"


PURPOSES = [p.id for p in purposeful.get_configuration().registry]
ACTORS = [CASEWORKER, FUNDER_JOB]


def _decide(record: object, field: str, purpose: str, actor: Any) -> tuple[Any, ...]:
    try:
        with purposeful.use(purpose, actor=actor) as scope:
            getattr(record, field)
    except purposeful.PurposeViolation as refusal:
        decision = refusal.decision
    else:
        decision = scope.decisions[0]
    return decision.outcome, decision.reason_codes, decision.basis, decision.record_type != ""


@settings(max_examples=60, deadline=None)
@given(
    purpose=st.sampled_from(PURPOSES),
    field=st.sampled_from(["diagnosis", "address", "case_notes"]),
    actor=st.sampled_from(ACTORS),
    mode=st.sampled_from([Mode.ENFORCE, Mode.MONITOR]),
    value=st.text(max_size=20),
)
def test_decisions_on_a_model_equal_those_on_the_equivalent_attrs_record(
    purpose: str, field: str, actor: Any, mode: Mode, value: str
) -> None:
    row = DjangoCase(client_id="C-9", diagnosis=value, address=value, case_notes=value)
    twin = Case("C-9", value, value, value)
    with purposeful.configured(mode=mode):
        assert _decide(row, field, purpose, actor) == _decide(twin, field, purpose, actor)


def test_a_django_field_declares_whether_supplying_it_is_voluntary_or_mandatory() -> None:
    from purposeful.supply import Mandatory

    policy = purposeful.record_policy(DjangoCase)
    assert policy.fields["address"].supply == Mandatory("We cannot visit you without it.")
    assert policy.fields["diagnosis"].supply is None
