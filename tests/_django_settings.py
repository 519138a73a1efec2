"""The one Django configuration of the test run (settings.configure happens once per
process): the web tests' URLconf and middleware, and the record tests' app, the contrib apps
the admin needs and an in-memory SQLite database. Both ``tests/web/conftest.py`` and
``tests/django_records/conftest.py`` call `configure`, whichever pytest loads first."""

from __future__ import annotations

from django.apps import AppConfig

#: The app label of the record tests' models (``Meta.app_label``).
RECORDS_APP = "family_records"


class FamilyRecordsConfig(AppConfig):
    """The record tests' app: its models are defined in tests/django_records, after setup."""

    name = "_django_settings"
    label = RECORDS_APP
    default_auto_field = "django.db.models.BigAutoField"


def configure() -> None:
    """Configure Django for the run, once."""
    import django
    from django.conf import settings

    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="purposeful-web-tests",
        ALLOWED_HOSTS=["testserver", "127.0.0.1", "localhost"],
        ROOT_URLCONF="_django_app",
        MIDDLEWARE=[
            "_django_app.FakeAuthentication",
            "purposeful.web.django.PurposeMiddleware",
        ],
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.admin",
            "_django_settings.FamilyRecordsConfig",
        ],
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
        PURPOSEFUL_WEB={"ACTOR": "_django_app.current_actor"},
        LOGGING_CONFIG=None,
    )
    django.setup()
