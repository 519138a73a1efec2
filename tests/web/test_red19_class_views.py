"""A class-based view declares its purpose on its own class: a subclass of a declared view
does not inherit the declaration. `purpose` marks the class with an attribute, which a
subclass inherits, so since ``declared_purpose`` followed ``as_view()``'s ``view_class``,
``class FunderExport(CaseView)`` (another view, serving another use, its decorator
forgotten) ran in its base's purpose, case management, and counted as declared under
``REQUIRE_PURPOSES``: a route that declared nothing read under a purpose it never named."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest
from _django_app import where
from _webkit import CASE_MANAGEMENT
from django.http import HttpRequest, JsonResponse
from django.test import Client, override_settings
from django.urls import path
from django.views import View

from purposeful.errors import ConfigurationError
from purposeful.web import no_purpose, purpose
from purposeful.web._declare import EXEMPT, declared_purpose
from purposeful.web.django import undeclared

FUNDER = "funder-reporting"


@purpose(CASE_MANAGEMENT)
class CaseView(View):
    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse(where())


class FunderExport(CaseView):
    """Another use of the same view code: its own decorator forgotten."""


@purpose(FUNDER)
class FunderSummary(CaseView):
    """Another use, declared."""


@no_purpose
class Public(View):
    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse(where())


class PublicToo(Public):
    pass


@pytest.fixture
def urls() -> Iterator[str]:
    module = types.ModuleType("_red19_class_view_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("case", CaseView.as_view()),
        path("funder/export", FunderExport.as_view()),
        path("funder/summary", FunderSummary.as_view()),
        path("public", PublicToo.as_view()),
    ]
    sys.modules[module.__name__] = module
    try:
        with override_settings(ROOT_URLCONF=module.__name__):
            yield module.__name__
    finally:
        del sys.modules[module.__name__]


@pytest.mark.parametrize(
    ("view", "declared"),
    [
        (CaseView, CASE_MANAGEMENT),
        (FunderExport, None),
        (FunderSummary, FUNDER),
        (Public, EXEMPT),
        (PublicToo, None),
    ],
)
def test_only_the_views_own_class_declares(view: type[View], declared: object) -> None:
    assert declared_purpose(view.as_view()) == declared
    assert declared_purpose(view) == declared


def test_an_undeclared_subclass_runs_in_no_purpose(urls: str) -> None:
    http = Client()
    assert http.get("/case", headers={"x-user": "caseworker"}).json()["purpose"] == (
        CASE_MANAGEMENT
    )
    assert http.get("/funder/summary", headers={"x-user": "caseworker"}).json()["purpose"] == (
        FUNDER
    )
    assert http.get("/funder/export", headers={"x-user": "caseworker"}).json() == {"purpose": None}


def test_require_purposes_names_an_undeclared_subclass(urls: str) -> None:
    assert undeclared() == ["/funder/export", "/public"]
    options = {"ACTOR": "_django_app.current_actor", "REQUIRE_PURPOSES": True}
    with override_settings(PURPOSEFUL_WEB=options), pytest.raises(ConfigurationError) as caught:
        Client().get("/case", headers={"x-user": "caseworker"})
    assert "/funder/export" in str(caught.value)
