"""Django is configured once for the whole run (settings.configure), before any web test
imports it; its URLconf is `_django_app`."""

from __future__ import annotations

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="purposeful-web-tests",
        ALLOWED_HOSTS=["testserver", "127.0.0.1", "localhost"],
        ROOT_URLCONF="_django_app",
        MIDDLEWARE=[
            "_django_app.FakeAuthentication",
            "purposeful.web.django.PurposeMiddleware",
        ],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
        PURPOSEFUL_WEB={"ACTOR": "_django_app.current_actor"},
        LOGGING_CONFIG=None,
    )
    django.setup()
