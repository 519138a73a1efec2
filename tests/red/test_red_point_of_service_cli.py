"""Red team: the point-of-service commands (``copy write``, ``agreement schema``) given a
module name Python's importer refuses with something other than an ImportError."""

from __future__ import annotations

from pathlib import Path

import pytest

from purposeful import cli


def test_red_agreement_schema_with_an_empty_records_module_is_one_line() -> None:
    assert cli.main(["agreement", "schema", "some-agreement", "--records", ""]) == 2


def test_red_copy_write_with_a_relative_app_module_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RED_POS_CLI_SUBJECT", "C-1")
    argv = ["copy", "write", ".:access", "--reference", "R-1"]
    argv += ["--subject-env", "RED_POS_CLI_SUBJECT", "--purpose", "service-delivery"]
    argv += ["--actor", "staff-1", "--role", "caseworker", "--clearance", "SENSITIVE"]
    assert cli.main([*argv, "--out", str(tmp_path / "copy.html")]) == 2
