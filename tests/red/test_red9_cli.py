"""Red team 9: ``audit report --ledger ... --public-key`` since `verify_ledgers` takes each
ledger's state (which file, size, times, digest) before verifying it and compares it after
the report's reading (`Verified.unchanged`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from purposeful.cli import main
from test_cli import _ledger_with_three_scopes


def _report(ledger: Path, public_key: Path) -> int:
    try:
        return main(
            [
                "audit",
                "report",
                "--engine",
                "stream",
                "--ledger",
                str(ledger),
                "--public-key",
                str(public_key),
            ]
        )
    except SystemExit as exc:  # a usage error
        return int(exc.code or 0)


def _forged(real: Path, into: Path) -> Path:
    """A copy of the ledger *real* in *into* with one scope's actor changed (it does not
    verify: `audit verify` says so)."""
    into.mkdir()
    lines = real.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"staff-0042"', b'"staff-9999"', 1)
    assert b"staff-9999" in lines[2]
    forged = into / real.name
    forged.write_bytes(b"".join(lines))
    return forged


def test_a_ledger_whose_link_points_elsewhere_only_while_it_is_read_is_not_reported_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Verified.unchanged` compares the state of the file the ledger's *path* names
    before verification and after the report's reading, opening the path each time. The
    report itself opens the path once more, in between. A ledger given through a symbolic
    link (``--ledger current/audit.jsonl``, a rotation or release link, or a link whoever
    can write the ledger's folder makes) can point at a forged ledger only while the
    report reads it: the verified file itself is never touched, so its device, inode,
    size, times and digest are all the same before and after, and the forged ledger's
    lines are reported under 'Ledgers: verified against their signed checkpoints', exit 0,
    although ``audit verify`` of what was reported exits 1. Here the link is swapped just
    after the verification returns and swapped back once the report is built."""
    real, public_key = _ledger_with_three_scopes(tmp_path)
    forged = _forged(real, tmp_path / "forged")
    link = tmp_path / "current.jsonl"
    link.symlink_to(real)
    shutil.copy(f"{real}.checkpoints", f"{link}.checkpoints")  # beside the path given
    capsys.readouterr()
    assert main(["audit", "verify", str(forged), "--public-key", str(public_key)]) == 1
    capsys.readouterr()

    def point(at: Path) -> None:
        swap = tmp_path / "swap"
        swap.symlink_to(at)
        os.replace(swap, link)  # one rename: the link is never missing

    import purposeful.cli._ledgers as ledgers_module
    from purposeful.cli import audit as audit_module

    real_verify, real_build = ledgers_module.verify_ledger, audit_module.build_report

    def verify_then_swap(path: Any, *args: Any, **kwargs: Any) -> Any:
        result = real_verify(path, *args, **kwargs)
        point(forged)
        return result

    def build_then_swap_back(*args: Any, **kwargs: Any) -> Any:
        report = real_build(*args, **kwargs)
        point(real)
        return report

    monkeypatch.setattr(ledgers_module, "verify_ledger", verify_then_swap)
    monkeypatch.setattr(audit_module, "build_report", build_then_swap_back)
    status = _report(link, public_key)
    said = capsys.readouterr().out
    claims = status == 0 and "staff-9999" in said and "verified against" in said
    assert not claims, said


def test_a_ledger_missing_when_its_state_is_taken_is_not_reported_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`_state` is None for a file it cannot open, and `Verified.unchanged` takes None
    before and None after for 'unchanged'. A ledger path that names no file when the
    states are taken, the verified ledger when it is verified, a forged one while the
    report reads it, and nothing again when the states are compared (a rotation moving
    files about, or whoever can write the folder) is reported 'verified against its signed
    checkpoints' with the forged lines, exit 0. No state, no verification to vouch for."""
    real, public_key = _ledger_with_three_scopes(tmp_path)
    forged = _forged(real, tmp_path / "forged")
    path = tmp_path / "rotating.jsonl"
    shutil.copy(f"{real}.checkpoints", f"{path}.checkpoints")

    import purposeful.cli._ledgers as ledgers_module
    from purposeful.cli import audit as audit_module

    real_verify, real_build = ledgers_module.verify_ledger, audit_module.build_report

    def appears_then_verified(ledger: Any, *args: Any, **kwargs: Any) -> Any:
        shutil.copy(real, path)  # the verified ledger comes (back) into place
        result = real_verify(ledger, *args, **kwargs)
        shutil.copy(forged, path)
        return result

    def build_then_gone(*args: Any, **kwargs: Any) -> Any:
        report = real_build(*args, **kwargs)
        path.unlink()
        return report

    monkeypatch.setattr(ledgers_module, "verify_ledger", appears_then_verified)
    monkeypatch.setattr(audit_module, "build_report", build_then_gone)
    capsys.readouterr()
    status = _report(path, public_key)
    said = capsys.readouterr().out
    claims = status == 0 and "staff-9999" in said and "verified against" in said
    assert not claims, said


def test_a_ledger_named_near_the_name_limit_that_fails_verification_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`_trace_file` asks ``default_checkpoints_path(path).exists()``, and
    ``Path.exists`` raises for any error but a missing file: for a ledger whose name is
    within 12 characters of the file system's limit (255 bytes; a ledger named after a
    service, a host and a timestamp), ``<ledger>.checkpoints`` is too long a name and the
    command ends in a traceback (OSError: File name too long) instead of one line and an
    exit status, where ``audit verify`` of the same file says 'unreadable: cannot read
    the checkpoint file ... (File name too long)', exit 1. Tampering (or a missing
    checkpoints file) then shows as a crash to automation."""
    real, public_key = _ledger_with_three_scopes(tmp_path)
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    ledger = tmp_path / ("a" * (limit - len(".jsonl") - 2) + ".jsonl")
    ledger.write_bytes(real.read_bytes())
    capsys.readouterr()
    assert main(["audit", "verify", str(ledger), "--public-key", str(public_key)]) == 1
    capsys.readouterr()
    try:
        status: object = _report(ledger, public_key)
    except OSError as exc:  # the traceback the command line would print
        status = exc
    said = capsys.readouterr()
    assert status == 1, f"{status!r} {said.out}{said.err}"
