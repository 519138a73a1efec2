"""A Django project as adopters have one: `@purposeful.record` on models in an app's
models.py, imported by django.setup() before the app registry is ready, and a foreign
key's attname as the subject; Django's system checks pass and reads are decided."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("django")

MODELS = """
from django.db import models

import purposeful
from purposeful import ServiceAgreement
from purposeful.django import managed

AGREEMENT = ServiceAgreement("Project test agreement")


@purposeful.record(subject="client_id")
class ProjectClient(models.Model):
    client_id = models.CharField(max_length=20, unique=True)
    name = managed(models.TextField(), purposes={"service-delivery": AGREEMENT})


@purposeful.record(subject="client_id")
class ProjectNote(models.Model):
    client = models.ForeignKey(ProjectClient, on_delete=models.CASCADE, to_field="client_id")
    text = managed(
        models.TextField(), purposes={"service-delivery.case-management": AGREEMENT}
    )
"""

SCRIPT = """
import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["adopterapp"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()
from django.core.management import call_command

call_command("check", fail_level="ERROR", verbosity=0)
call_command("migrate", run_syncdb=True, verbosity=0)

import purposeful
from adopterapp.models import ProjectClient, ProjectNote

client = ProjectClient.objects.create(client_id="C-1", name="SECRET-NAME")
note = ProjectNote.objects.create(client=client, text="SECRET-NOTE")
note = ProjectNote.objects.get(pk=note.pk)
actor = purposeful.Actor("staff-1", "caseworker", purposeful.SENSITIVE)
try:
    note.text
except purposeful.NoPurposeScope:
    print("refused outside a scope")
with purposeful.use("service-delivery.case-management", actor=actor):
    print("read", note.text == "SECRET-NOTE", note.client_id == "C-1")
try:
    note.client_id = "C-2"
except purposeful.errors.SubjectChangeRefused:
    print("subject kept")
"""


def test_records_in_an_apps_models_py_load_check_and_guard(tmp_path: Path) -> None:
    app = tmp_path / "adopterapp"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(textwrap.dedent(MODELS))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if not line.startswith("System check")]
    assert lines == [
        "refused outside a scope",
        "read True True",
        "subject kept",
    ]
    assert "SECRET" not in result.stderr
