"""The Django admin under a purpose: `PurposeAdminSite`.

Its views run, and render their templates, inside a purpose scope, after the admin's own
login check (an anonymous visitor is sent to the login page, as with any admin), and
``REQUIRE_PURPOSES`` counts them as declared. The system check of the admin settings that
would show managed values is the Django record kind's (`purposeful._kinds.django_checks`).

Needs Django with ``django.contrib.admin``. What this module must not do: open a scope
before the admin's login check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._config import get_configuration
from ..errors import MissingExtra
from ..purposes import Purpose
from ._declare import OPENS_SCOPE
from .django import purpose_view

try:
    from django.contrib import admin
    from django.template.response import TemplateResponse
except ImportError as error:  # pragma: no cover - exercised in a subprocess
    raise MissingExtra(
        "purposeful.web.django_admin needs Django: pip install django", extra="web"
    ) from error

__all__ = ["PurposeAdminSite"]


class PurposeAdminSite(admin.AdminSite):  # type: ignore[misc]  # Django has no types
    """An admin site whose views run, and render, in a scope of *purpose*.

    ``site = PurposeAdminSite("service-delivery.case-management", name="case_admin")``;
    register model admins with it and route ``site.urls``. The actor is the Django
    integration's (``settings.PURPOSEFUL_WEB["ACTOR"]``, given the request), asked once
    the admin's login check has passed.

    Raises:
        UnknownPurpose: *purpose* is not in the configured registry.
    """

    def __init__(self, purpose: Purpose | str, name: str = "admin") -> None:
        super().__init__(name=name)
        self.purpose = get_configuration().registry.resolve(purpose).id
        self._scoped = purpose_view(self.purpose)  # once: the admin wraps views per request
        setattr(self, OPENS_SCOPE, True)  # its views are declared (REQUIRE_PURPOSES)

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        @self._scoped
        def rendered(request: Any, *args: Any, **kwargs: Any) -> Any:
            response = view(request, *args, **kwargs)
            if isinstance(response, TemplateResponse):
                response.render()  # the change list reads the rows as it renders
            return response

        # the admin's login check first: an anonymous visitor is sent to log in
        return super().admin_view(rendered, cacheable)
