"""The Django admin under a purpose (`PurposeAdminSite`), and the system check of the admin
settings that would show managed values without a decision (a red-team finding: the filter
sidebar listed every value of a managed field, undecided and unaudited)."""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from _family_models import DjangoCase
from django.contrib import admin
from django.contrib.auth.models import User
from django.core import checks
from django.test import Client, override_settings
from django.urls import path

import purposeful
from purposeful._kinds.django_checks import admin_problems
from purposeful.consent import ConsentMethod, MemoryConsentStore, Person
from purposeful.testing import capture_decisions
from purposeful.web.django import undeclared
from purposeful.web.django_admin import PurposeAdminSite

SECRET = "kaitiaki-admin-site-5150"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "purposeful.web.django.PurposeMiddleware",
]


def _problems(**options: Any) -> list[str]:
    """The check's ids for a throwaway site with one model admin of *options*."""
    model_admin = type("CheckedCaseAdmin", (admin.ModelAdmin,), options)
    site = admin.AdminSite(name="checked")
    site.register(DjangoCase, model_admin)
    return [problem.id for problem in admin_problems([site])]


@pytest.mark.parametrize(
    "entry", ["diagnosis", ("diagnosis", admin.AllValuesFieldListFilter), "address"]
)
def test_a_list_filter_on_a_managed_field_is_an_error(entry: Any) -> None:
    assert _problems(list_filter=[entry], readonly_fields=["client_id"]) == ["purposeful.E001"]


def test_a_list_filter_on_plain_fields_is_not() -> None:
    assert _problems(list_filter=["region", "client_id"], readonly_fields=["client_id"]) == []


def test_a_date_hierarchy_on_a_managed_field_is_an_error() -> None:
    assert _problems(date_hierarchy="diagnosis", readonly_fields=["client_id"]) == [
        "purposeful.E002"
    ]


@pytest.mark.parametrize(
    ("options", "warned"),
    [
        ({}, True),
        ({"readonly_fields": ["client_id"]}, False),
        ({"fields": ["diagnosis", "region"]}, False),
        ({"fields": [("client_id", "region")]}, True),
        ({"fieldsets": [(None, {"fields": ["client_id"]})]}, True),
        ({"exclude": ["client_id"]}, False),
        # W001's hint: read-only on the change form alone, so the add form still sets it
        (
            {"get_readonly_fields": lambda self, request, obj=None: ("client_id",) if obj else ()},
            False,
        ),
    ],
)
def test_an_editable_subject_is_a_warning(options: dict[str, Any], warned: bool) -> None:
    """A change of the subject in the change form is refused on save: a server error."""
    assert _problems(**options) == (["purposeful.W001"] if warned else [])


def test_the_check_runs_with_djangos_own_checks() -> None:
    model_admin = type("LeakyCaseAdmin", (admin.ModelAdmin,), {"list_filter": ["diagnosis"]})
    site = admin.AdminSite(name="leaky")
    site.register(DjangoCase, model_admin)
    try:
        found = [m.id for m in checks.run_checks(tags=[checks.Tags.admin]) if m.obj is not None]
        assert "purposeful.E001" in found
    finally:
        del site, model_admin
        gc.collect()


class CaseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("client_id", "diagnosis", "region")
    readonly_fields = ("client_id",)


@pytest.fixture
def purpose_site(contrib_tables: str) -> Iterator[tuple[PurposeAdminSite, Client, DjangoCase]]:
    site = PurposeAdminSite("service-delivery.case-management", name="purpose_case_admin")
    site.register(DjangoCase, CaseAdmin)
    urls = types.ModuleType("_purpose_admin_urls")
    urls.urlpatterns = [path("purpose-admin/", site.urls)]  # type: ignore[attr-defined]
    sys.modules[urls.__name__] = urls
    store = MemoryConsentStore()  # the case notes are used for case management on consent
    store.give(
        "C-51",
        "service-delivery.case-management",
        at=datetime(2026, 1, 5, tzinfo=UTC),
        by=Person(),
        method=ConsentMethod.WRITTEN,
    )
    try:
        with (
            override_settings(
                ROOT_URLCONF=urls.__name__,
                MIDDLEWARE=MIDDLEWARE,
                PURPOSEFUL_WEB={"ACTOR": "_family_models.admin_actor"},
            ),
            purposeful.configured(consent=store),
        ):
            user = User.objects.create_superuser("kaitiaki", password="not-used-here")
            case = DjangoCase.objects.create(client_id="C-51", diagnosis=SECRET, address="x")
            try:
                yield site, Client(), case
            finally:
                case.delete()
                user.delete()
    finally:
        del sys.modules[urls.__name__]


def test_an_anonymous_visitor_is_sent_to_log_in(
    purpose_site: tuple[PurposeAdminSite, Client, DjangoCase],
) -> None:
    """Fixed (the recipe the docs gave): the scope opened before the admin's login check,
    so an anonymous visitor got a 401 problem, not the login page."""
    _, client, _ = purpose_site
    response = client.get("/purpose-admin/family_records/djangocase/")
    assert response.status_code == 302
    assert "/purpose-admin/login/" in response["Location"]
    assert client.get("/purpose-admin/login/").status_code == 200


def test_a_signed_in_user_reads_under_the_sites_purpose(
    purpose_site: tuple[PurposeAdminSite, Client, DjangoCase],
) -> None:
    _, client, case = purpose_site
    client.force_login(User.objects.get(username="kaitiaki"))
    with capture_decisions() as captured:
        response = client.get("/purpose-admin/family_records/djangocase/")
    assert response.status_code == 200
    assert SECRET in response.content.decode()
    assert {(d.field, d.purpose.id) for d in captured.decisions} == {
        ("diagnosis", "service-delivery.case-management")
    }
    assert (
        client.get(f"/purpose-admin/family_records/djangocase/{case.pk}/change/").status_code == 200
    )


def test_require_purposes_counts_the_sites_views_as_declared(
    purpose_site: tuple[PurposeAdminSite, Client, DjangoCase],
) -> None:
    """Fixed: every view of the recipe's site counted as undeclared (the admin's URL
    wrappers do not carry the marker of the view they call)."""
    assert undeclared() == []


def test_require_purposes_serves_the_model_admins_views(
    purpose_site: tuple[PurposeAdminSite, Client, DjangoCase],
) -> None:
    """Fixed: the middleware counted the site's model admin views as declared when it
    loaded, then refused each one as undeclared when it was requested (a 500
    `ConfigurationError` on every change list and change form with ``REQUIRE_PURPOSES``)."""
    _, client, case = purpose_site
    client.force_login(User.objects.get(username="kaitiaki"))
    required = {"ACTOR": "_family_models.admin_actor", "REQUIRE_PURPOSES": True}
    with override_settings(PURPOSEFUL_WEB=required):
        with capture_decisions() as captured:
            listed = client.get("/purpose-admin/family_records/djangocase/")
        changed = client.get(f"/purpose-admin/family_records/djangocase/{case.pk}/change/")
        history = client.get(f"/purpose-admin/family_records/djangocase/{case.pk}/history/")
        assert client.get("/purpose-admin/").status_code == 200
    assert (listed.status_code, changed.status_code, history.status_code) == (200, 200, 200)
    assert SECRET in listed.content.decode()
    assert {d.purpose.id for d in captured.decisions} == {"service-delivery.case-management"}


def _recipe_admin() -> type[admin.ModelAdmin]:  # type: ignore[type-arg]
    """The model admin of docs/django.md's recipe for a field that needs consent, run as
    the page gives it, on `DjangoCase` (whose ``case_notes`` need consent)."""
    from pathlib import Path

    page = Path(__file__).parents[2] / "docs" / "django.md"
    blocks = page.read_text(encoding="utf-8").split("```py\n")[1:]
    (recipe,) = [block.split("```")[0] for block in blocks if "def get_exclude" in block]
    registry = types.SimpleNamespace(
        register=lambda *models, site: lambda cls: cls, ModelAdmin=admin.ModelAdmin
    )
    namespace: dict[str, Any] = {"admin": registry, "Client": DjangoCase, "case_admin": None}
    exec(compile(recipe, str(page), "exec"), namespace)  # the docs' own code
    namespace["CONSENT_FIELDS"] = ("case_notes",)
    return namespace["ClientAdmin"]  # type: ignore[no-any-return]


def test_the_docs_consent_recipe_serves_the_add_form(contrib_tables: str) -> None:
    """Fixed (the recipe the docs gave): it left a field that needs consent on the add
    form, whose validation reads it for a person not known until the form is submitted,
    so adding anyone who had not consented yet (nearly everyone) was a 403."""
    site = PurposeAdminSite("service-delivery.case-management", name="recipe_admin")
    site.register(DjangoCase, _recipe_admin())
    urls = types.ModuleType("_recipe_admin_urls")
    urls.urlpatterns = [path("recipe-admin/", site.urls)]  # type: ignore[attr-defined]
    sys.modules[urls.__name__] = urls
    try:
        with override_settings(
            ROOT_URLCONF=urls.__name__,
            MIDDLEWARE=MIDDLEWARE,
            PURPOSEFUL_WEB={"ACTOR": "_family_models.admin_actor"},
        ):
            user = User.objects.create_superuser("kaiawhina", password="not-used-here")
            client = Client()
            client.force_login(user)
            try:
                added = client.post(
                    "/recipe-admin/family_records/djangocase/add/",
                    {"client_id": "C-77", "diagnosis": "d", "address": "a", "region": "Waikato"},
                )
                assert added.status_code == 302, added.content[:300]
                (case,) = DjangoCase.objects.filter(client_id="C-77")
                changed = client.get(f"/recipe-admin/family_records/djangocase/{case.pk}/change/")
                assert changed.status_code == 200  # no consent yet: the field is left out
                assert 'name="case_notes"' not in changed.content.decode()
            finally:
                DjangoCase.objects.filter(client_id="C-77").delete()
                user.delete()
    finally:
        del sys.modules[urls.__name__]
