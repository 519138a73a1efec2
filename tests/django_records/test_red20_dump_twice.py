"""docs/django.md's ``dump_cases`` run twice in one process (``call_command`` in a test, a
scheduler, a view of the web process, where wsgi.py opened the audit already): its
`open_audit` opened a second `Ledger` on the process's file, ``audit-<pid>.jsonl``, and
the second run raised `LedgerLocked`. The page's `open_audit` opens the sinks once per
process."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _family_models import DjangoCase
from test_django_docs_project import PAGE, _block, project  # noqa: F401  # the page's project

import purposeful
from purposeful.audit import load_public_key, verify_ledger


def test_the_dump_command_runs_twice_in_one_process(
    sqlite_tables: str,
    project: list[Callable[[], None]],  # noqa: F811
    tmp_path: Path,
) -> None:
    row = DjangoCase.objects.create(
        client_id="C-7", diagnosis="diagnosis-7", address="7 Queen St", case_notes="notes-7"
    )
    try:
        for _ in range(2):
            namespace: dict[str, Any] = {"__name__": "cases.management.commands.dump_cases"}
            code = _block("# management/commands/dump_cases.py")
            exec(compile(code, str(PAGE), "exec"), namespace)
            namespace["Command"]().handle()
            dumped = json.loads((tmp_path / "referrals.json").read_text("utf-8"))
            assert [item["fields"]["client_id"] for item in dumped] == ["C-7"]
        for callback in project:
            callback()
        project.clear()
    finally:
        DjangoCase.objects.filter(pk=row.pk).delete()
        purposeful.reset_configuration()
    (ledger,) = tmp_path.glob("audit-*.jsonl")
    assert verify_ledger(ledger, load_public_key(tmp_path / "keys" / "signing-key.pub.pem")).ok
