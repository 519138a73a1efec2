"""The record tests' Django models (app `_django_settings.RECORDS_APP`), the admin site that
serves them under a purpose, and its URLconf. Defined after Django's setup (conftest)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path

import purposeful
from _django_settings import RECORDS_APP
from _records import CASE_MANAGEMENT, FUNDING_AGREEMENT, SERVICE_AGREEMENT
from purposeful import CONSENT, SENSITIVE, Actor
from purposeful.django import managed
from purposeful.errors import DictStorageWarning
from purposeful.supply import Mandatory
from purposeful.web.django import purpose_view

with warnings.catch_warnings():  # a model keeps its values in __dict__: the second tier
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    class DjangoCase(models.Model):
        """The Django twin of `_records.Case`: the same fields, the same declarations."""

        client_id = models.CharField(max_length=20)
        diagnosis = managed(
            models.TextField(),
            purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT},
            sensitivity=SENSITIVE,
            category="health",
        )
        address = managed(
            models.CharField(max_length=200),
            purposes={"service-delivery": SERVICE_AGREEMENT, "funder-reporting": FUNDING_AGREEMENT},
            category="contact",
            supply=Mandatory("We cannot visit you without it."),
        )
        case_notes = managed(
            models.TextField(blank=True, default=""),
            purposes={CASE_MANAGEMENT: CONSENT},
            category="case-notes",
        )
        region = models.CharField(max_length=40, default="Wellington")

        class Meta:
            app_label = RECORDS_APP

        def __str__(self) -> str:
            return f"case {self.pk}"


def admin_actor(request: HttpRequest) -> Actor | None:
    """A signed-in admin user is a caseworker."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return Actor(f"staff-{user.pk}", role="caseworker", clearance=SENSITIVE)


class CaseManagementAdminSite(admin.AdminSite):
    """An admin site whose every view runs, and renders its template, in a case-management
    scope (the admin answers with a TemplateResponse, rendered after the view returns)."""

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        checked = super().admin_view(view, cacheable)

        @purpose_view(CASE_MANAGEMENT)
        def rendered(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = checked(request, *args, **kwargs)
            if isinstance(response, TemplateResponse):
                response.render()
            return response  # type: ignore[no-any-return]

        return rendered


class DjangoCaseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("client_id", "diagnosis", "region")


case_site = CaseManagementAdminSite(name="case_admin")
case_site.register(DjangoCase, DjangoCaseAdmin)
plain_site = admin.AdminSite(name="plain_admin")
plain_site.register(DjangoCase, DjangoCaseAdmin)

urlpatterns = [path("case-admin/", case_site.urls), path("plain-admin/", plain_site.urls)]
