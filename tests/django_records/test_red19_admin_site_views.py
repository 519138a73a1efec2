"""A view of a `PurposeAdminSite` routed without the site's ``admin_view`` (a method of the
site's own, added in its ``get_urls``) opens no scope, so it is not declared. The middleware
took any method of the site for one of the site's scoped views (by its ``__self__``, there
for the login page), counted it as declared under ``REQUIRE_PURPOSES`` and let it run
without a scope: a route that declared nothing, past the setting that requires it."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from _family_models import DjangoCase
from django.contrib.auth.models import User
from django.http import HttpRequest, JsonResponse
from django.test import Client, override_settings
from django.urls import path

import purposeful
from purposeful.errors import ConfigurationError
from purposeful.web.django import undeclared
from purposeful.web.django_admin import PurposeAdminSite

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "purposeful.web.django.PurposeMiddleware",
]
ACTOR = {"ACTOR": "_family_models.admin_actor"}


class ReportingSite(PurposeAdminSite):
    unwrapped = True

    def get_urls(self) -> list[Any]:
        # not wrapped: no scope, no login check
        mistaken = [path("report/", self.report)] if self.unwrapped else []
        return [
            *mistaken,
            path("wrapped-report/", self.admin_view(self.report)),  # the admin's recipe
            *super().get_urls(),
        ]

    def report(self, request: HttpRequest) -> JsonResponse:
        scope = purposeful.current_scope()
        return JsonResponse({"purpose": None if scope is None else scope.purpose.id})


class WrappedReportingSite(ReportingSite):
    unwrapped = False


@pytest.fixture
def site(contrib_tables: str) -> Iterator[Client]:
    reporting = ReportingSite("service-delivery.case-management", name="red19_reporting")
    yield from _served(reporting)


@pytest.fixture
def wrapped_site(contrib_tables: str) -> Iterator[Client]:
    reporting = WrappedReportingSite("service-delivery.case-management", name="red19_wrapped")
    yield from _served(reporting)


def _served(reporting: ReportingSite) -> Iterator[Client]:
    reporting.register(DjangoCase)
    urls = types.ModuleType("_red19_reporting_urls")
    urls.urlpatterns = [path("reporting/", reporting.urls)]  # type: ignore[attr-defined]
    sys.modules[urls.__name__] = urls
    try:
        with override_settings(ROOT_URLCONF=urls.__name__, MIDDLEWARE=MIDDLEWARE):
            user = User.objects.create_superuser("red19", password="not-used-here")
            try:
                client = Client()
                client.force_login(user)
                yield client
            finally:
                user.delete()
    finally:
        del sys.modules[urls.__name__]


def test_an_unwrapped_method_of_the_site_is_undeclared(site: Client) -> None:
    assert undeclared() == ["/reporting/report/"]
    required = override_settings(PURPOSEFUL_WEB={**ACTOR, "REQUIRE_PURPOSES": True})
    with required, pytest.raises(ConfigurationError) as caught:
        site.get("/reporting/wrapped-report/")
    assert "/reporting/report/" in str(caught.value)
    assert "/reporting/wrapped-report/" not in str(caught.value)


def test_the_unwrapped_view_runs_without_a_scope(site: Client) -> None:
    with override_settings(PURPOSEFUL_WEB=ACTOR):
        wrapped = site.get("/reporting/wrapped-report/").json()
        assert wrapped == {"purpose": "service-delivery.case-management"}
        assert site.get("/reporting/report/").json() == {"purpose": None}


def test_the_sites_own_views_and_login_page_are_still_served(wrapped_site: Client) -> None:
    assert undeclared() == []
    with override_settings(PURPOSEFUL_WEB={**ACTOR, "REQUIRE_PURPOSES": True}):
        wrapped = wrapped_site.get("/reporting/wrapped-report/").json()
        assert wrapped == {"purpose": "service-delivery.case-management"}
        assert wrapped_site.get("/reporting/").status_code == 200
        assert wrapped_site.get("/reporting/family_records/djangocase/").status_code == 200
        assert wrapped_site.get("/reporting/autocomplete/").status_code in (403, 404)
        assert Client().get("/reporting/login/").status_code == 200
