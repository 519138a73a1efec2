"""Django configured once for the run, as tests/web and tests/django_records configure it
(`_django_settings`), before the property suite builds Django models; without Django the
Django kind is skipped."""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("django") is not None:
    import _django_settings

    _django_settings.configure()
