"""Django is configured once for the whole run (settings.configure), before any web test
imports it, by the settings module the record tests share (`_django_settings`); its URLconf
is `_django_app`."""

from __future__ import annotations

import _django_settings

_django_settings.configure()
