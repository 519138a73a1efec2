"""docs/django.md's project files run as the page gives them: ``cases/audit.py``'s
`open_audit` and the ``dump_cases`` management command, on `DjangoCase` (whose
``case_notes`` need consent). The page's ```py blocks are a project's files, which the docs
test of every ```python block cannot run alone."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _family_models import DjangoCase
from django.test import override_settings

import purposeful
from purposeful.audit import generate_keys, load_public_key, verify_ledger

PAGE = Path(__file__).parents[2] / "docs" / "django.md"


def _block(first_line: str) -> str:
    """The page's ```py block that starts with *first_line*, up to a line that starts
    another file (``# wsgi.py``)."""
    blocks = [block.split("```")[0] for block in PAGE.read_text("utf-8").split("```py\n")[1:]]
    (found,) = [block for block in blocks if block.startswith(first_line)]
    return found.split("\n# wsgi.py\n")[0]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Callable[[], None]]]:
    """The modules ``cases.audit`` (the page's) and ``cases.models`` (``Referral`` is
    `DjangoCase`), the settings `open_audit` reads, and the callbacks it gives ``atexit``,
    run at the end of the test instead of at the process's exit."""
    generate_keys(tmp_path / "keys")
    at_exit: list[Callable[[], None]] = []
    monkeypatch.setattr("atexit.register", at_exit.append)
    cases = types.ModuleType("cases")
    audit = types.ModuleType("cases.audit")
    models = types.ModuleType("cases.models")
    models.Referral = DjangoCase  # type: ignore[attr-defined]
    exec(compile(_block("# cases/audit.py"), str(PAGE), "exec"), audit.__dict__)
    for module in (cases, audit, models):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.chdir(tmp_path)
    with override_settings(
        AUDIT_DIR=str(tmp_path),
        AUDIT_SIGNING_KEY=str(tmp_path / "keys" / "signing-key.pem"),
        AUDIT_PSEUDONYM_KEY=str(tmp_path / "keys" / "pseudonym.key"),
        CONSENT_STORE=str(tmp_path / "consent.db"),
    ):
        try:
            yield at_exit
        finally:
            for callback in at_exit:
                callback()
            purposeful.reset_configuration()


def test_the_dump_command_dumps_what_its_purpose_may_read_under_open_audit(
    sqlite_tables: str, project: list[Callable[[], None]], tmp_path: Path
) -> None:
    rows = [
        DjangoCase.objects.create(
            client_id=f"C-{n}",
            diagnosis=f"diagnosis-{n}",
            address=f"{n} Queen St",
            case_notes=f"notes-{n}",
        )
        for n in (1, 2)
    ]
    try:
        namespace: dict[str, Any] = {"__name__": "cases.management.commands.dump_cases"}
        code = _block("# management/commands/dump_cases.py")
        exec(compile(code, str(PAGE), "exec"), namespace)
        namespace["Command"]().handle()
        dumped = json.loads((tmp_path / "referrals.json").read_text("utf-8"))
        for callback in project:  # the process's exit: the ledger closes under a checkpoint
            callback()
        project.clear()
    finally:
        DjangoCase.objects.filter(pk__in=[row.pk for row in rows]).delete()
    # every field the purpose may read for everyone, and never the one needing consent
    assert [sorted(row["fields"]) for row in dumped] == [
        ["address", "client_id", "diagnosis", "region"]
    ] * 2
    assert {row["fields"]["client_id"] for row in dumped} == {"C-1", "C-2"}
    (ledger,) = tmp_path.glob("audit-*.jsonl")
    public = load_public_key(tmp_path / "keys" / "signing-key.pub.pem")
    assert verify_ledger(ledger, public).ok
    text = ledger.read_text("utf-8")
    assert "service-delivery.case-management" in text
    for raw in ("C-1", "C-2", "diagnosis-1", "notes-1"):  # pseudonyms, never ids or values
        assert raw not in text
