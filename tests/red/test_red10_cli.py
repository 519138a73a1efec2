"""Red team 10: ``audit report --ledger ... --public-key`` since `verify_ledgers` reads each
ledger by its real path (``os.path.realpath``, resolved once) and compares its state
(``O_NOFOLLOW`` open, ``fstat``, a digest) taken before verification with the one after
the report's reading."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from purposeful.cli import main
from test_cli import _ledger_with_three_scopes


def _report(*arguments: str) -> int:
    try:
        return main(["audit", "report", "--engine", "stream", *arguments])
    except SystemExit as exc:  # a usage error
        return int(exc.code or 0)


def test_a_ledger_whose_folder_is_swapped_only_while_it_is_read_is_not_reported_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: the real path is resolved once, but it is still a *path*: each of its
    folders is looked up again by every open (the state's, the verification's, the
    report's), and ``O_NOFOLLOW`` guards only the last component. Whoever can write the
    folder holding the ledger's folder (a log volume's root, a rotation job) renames the
    ledger's folder aside and a folder holding a forged ledger of the same name into its
    place just after the verification, and back once the report is read: two renames
    each way, no symbolic link anywhere. The verified file is never touched, so the state
    before and after (device, inode, size, times, digest) is the same.
    Harm: the forged ledger's lines (an actor changed) are reported under 'Ledgers:
    verified against their signed checkpoints', exit 0, although ``audit verify`` of
    what was read exits 1. The ledger could be opened once, its descriptor verified and
    read for the report (and its state taken from that descriptor), or the report's
    reading compared by digest with what was verified."""
    base, public_key = _ledger_with_three_scopes(tmp_path / "made")
    folder = tmp_path / "logs"
    folder.mkdir()
    real = folder / "audit.jsonl"
    shutil.copy(base, real)
    shutil.copy(f"{base}.checkpoints", f"{real}.checkpoints")
    forged_folder = tmp_path / "forged"
    forged_folder.mkdir()
    lines = real.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"staff-0042"', b'"staff-9999"', 1)
    assert b"staff-9999" in lines[2]
    (forged_folder / "audit.jsonl").write_bytes(b"".join(lines))
    shutil.copy(f"{real}.checkpoints", forged_folder / "audit.jsonl.checkpoints")
    capsys.readouterr()
    assert main(["audit", "verify", str(real), "--public-key", str(public_key)]) == 0
    forged = forged_folder / "audit.jsonl"
    assert main(["audit", "verify", str(forged), "--public-key", str(public_key)]) == 1
    capsys.readouterr()
    aside = tmp_path / "logs.aside"

    import purposeful.cli._ledgers as ledgers_module
    from purposeful.cli import audit as audit_module

    real_verify, real_build = ledgers_module.verify_ledger, audit_module.build_report

    def verify_then_swap(path: Any, *args: Any, **kwargs: Any) -> Any:
        result = real_verify(path, *args, **kwargs)
        os.rename(folder, aside)
        os.rename(forged_folder, folder)
        return result

    def build_then_swap_back(*args: Any, **kwargs: Any) -> Any:
        report = real_build(*args, **kwargs)
        os.rename(folder, forged_folder)
        os.rename(aside, folder)
        return report

    monkeypatch.setattr(ledgers_module, "verify_ledger", verify_then_swap)
    monkeypatch.setattr(audit_module, "build_report", build_then_swap_back)
    status = _report("--ledger", str(real), "--public-key", str(public_key))
    said = capsys.readouterr().out
    claims = status == 0 and "staff-9999" in said and "verified against" in said
    assert not claims, said


def test_one_ledger_given_twice_is_not_counted_twice_as_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: the same ledger named twice after ``--ledger`` (a glob ``logs/*.jsonl``
    that also matches a rotation link ``latest.jsonl`` to the newest ledger; or twice by
    hand). Both resolve to the same real path, which `verify_ledgers` now computes, and
    each verifies; the report reads the file twice.
    Harm: every scope is counted twice: 'Scopes: 6' and 6 scopes for the actor, under
    'Ledgers: verified against their signed checkpoints', when the signed ledger holds 3
    (an access review, a breach assessment's count of people and scopes, doubled for the
    newest ledger only). The real paths could be de-duplicated (or a repeat refused as a
    usage error)."""
    real, public_key = _ledger_with_three_scopes(tmp_path)
    link = tmp_path / "latest.jsonl"
    link.symlink_to(real)
    capsys.readouterr()
    status = _report("--ledger", str(real), str(link), "--public-key", str(public_key))
    said = capsys.readouterr().out
    assert not (status == 0 and "Scopes: 6" in said), said
