"""The ``purposeful`` command: ``keys new``, user errors as one line and exit status 2, and
groups that plug in. Driven in-process through `main`, and once as a real process."""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from purposeful import cli
from purposeful.audit import load_pseudonym_key, load_signing_key, signing_key_id
from purposeful.cli import CommandGroup, main

KEY_FILES = ["pseudonym.key", "signing-key.pem", "signing-key.pub.pem"]


def secrets_in(folder: Path) -> list[str]:
    """The secret parts of the keys in *folder*: none may ever be printed."""
    secret = json.loads((folder / "pseudonym.key").read_text())["secret"]
    pem_body = (folder / "signing-key.pem").read_text().splitlines()[1:-1]
    return [secret, *pem_body]


def test_keys_new_writes_the_keys_and_prints_paths_and_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "keys"
    assert main(["keys", "new", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert sorted(p.name for p in folder.iterdir()) == KEY_FILES
    signing_id = signing_key_id(load_signing_key(folder / "signing-key.pem"))
    pseudonym_id = load_pseudonym_key(folder / "pseudonym.key").key_id
    assert f"{folder / 'signing-key.pem'} (key id {signing_id}, not encrypted)" in out
    assert f"{folder / 'signing-key.pub.pem'} (key id {signing_id})" in out
    assert f"{folder / 'pseudonym.key'} (key id {pseudonym_id})" in out
    for secret in secrets_in(folder):
        assert secret not in out


def test_keys_new_encrypts_with_the_passphrase_from_the_named_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEY_PASSPHRASE", "correct horse battery")
    assert main(["keys", "new", str(tmp_path), "--passphrase-env", "KEY_PASSPHRASE"]) == 0
    out, _ = capsys.readouterr()
    assert "encrypted with the passphrase" in out
    assert "correct horse" not in out
    text = (tmp_path / "signing-key.pem").read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    load_signing_key(tmp_path / "signing-key.pem", passphrase="correct horse battery")


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_a_missing_passphrase_variable_is_a_user_error_and_writes_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    value: str | None,
) -> None:
    if value is None:
        monkeypatch.delenv("KEY_PASSPHRASE", raising=False)
    else:
        monkeypatch.setenv("KEY_PASSPHRASE", value)
    folder = tmp_path / "keys"
    assert main(["keys", "new", str(folder), "--passphrase-env", "KEY_PASSPHRASE"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("purposeful: error: $KEY_PASSPHRASE is not set or is empty")
    assert not folder.exists()


def test_keys_new_refuses_to_replace_keys_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "new", str(tmp_path)]) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    capsys.readouterr()
    assert main(["keys", "new", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"purposeful: error: {tmp_path} already holds")
    assert "--force" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_keys_new_with_force_replaces_the_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "new", str(tmp_path)]) == 0
    old = load_pseudonym_key(tmp_path / "pseudonym.key").key_id
    assert main(["keys", "new", str(tmp_path), "--force"]) == 0
    assert load_pseudonym_key(tmp_path / "pseudonym.key").key_id != old
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "argv",
    [[], ["keys"], ["nonsense"], ["keys", "new"], ["keys", "new", "d", "--colour"]],
    ids=["nothing", "group-only", "unknown-group", "no-directory", "unknown-option"],
)
def test_bad_arguments_show_the_usage_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: purposeful" in err
    assert "Traceback" not in err


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += _parsers(child)
    return found


def test_no_command_takes_an_abbreviated_option(capsys: pytest.CaptureFixture[str]) -> None:
    """An abbreviation is never taken for a longer option: ``--subject C-1001`` read as
    ``--subject-env`` took a person's id for a variable's name and repeated it."""
    every = _parsers(cli.build_parser())
    assert len(every) > 30
    assert [p.prog for p in every if p.allow_abbrev] == []
    assert main(["audit", "report", "--subj", "C-1001"]) == 2
    assert "unrecognized arguments: --subj" in capsys.readouterr().err


def test_help_lists_every_group_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for group in cli.GROUPS:
        assert group.name in out
        assert group.help in out


def test_a_new_group_plugs_in_through_the_registry(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def hello(args: argparse.Namespace) -> int:
        print(f"hello {args.name}")
        return 0

    def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        command = commands.add_parser("hello", help="say hello")
        command.add_argument("name")
        command.set_defaults(run=hello)

    monkeypatch.setattr(cli, "GROUPS", (*cli.GROUPS, CommandGroup("demo", "a demo", add_commands)))
    assert main(["demo", "hello", "world"]) == 0
    assert capsys.readouterr().out == "hello world\n"


def test_each_group_lives_in_its_own_module_of_the_cli_package() -> None:
    modules = {group.name: group.add_commands.__module__ for group in cli.GROUPS}
    assert modules == {
        "keys": "purposeful.cli.keys",
        "audit": "purposeful.cli.audit",
        "bundle": "purposeful.cli.bundle",
        "copy": "purposeful.cli.copy",
        "notice": "purposeful.cli.notices",
        "ask": "purposeful.cli.ask",
        "agreement": "purposeful.cli.agreements",
        "retention": "purposeful.cli.retention",
        "store": "purposeful.cli.stores",
        "breach": "purposeful.cli.breach",
    }
    for group in cli.GROUPS:
        assert sys.modules[group.add_commands.__module__].GROUP is group  # type: ignore[attr-defined]


def test_the_purposeful_script_runs_main() -> None:
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="purposeful")
    assert script.value == "purposeful.cli:main"
    assert script.load() is main


def test_python_m_purposeful_runs_keys_new_as_a_real_process(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    command = [sys.executable, "-m", "purposeful", "keys", "new", str(folder)]
    env = {**os.environ, "KEY_PASSPHRASE": "correct horse battery"}
    created = subprocess.run(
        [*command, "--passphrase-env", "KEY_PASSPHRASE"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    assert created.stderr == ""
    assert "key id" in created.stdout
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    if os.name == "posix":
        assert modes == {
            "pseudonym.key": 0o600,
            "signing-key.pem": 0o600,
            "signing-key.pub.pem": 0o644,
        }
    secret = base64.b64decode(json.loads((folder / "pseudonym.key").read_text())["secret"])
    assert len(secret) == 32
    for shown in secrets_in(folder):
        assert shown not in created.stdout

    refused = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("purposeful: error:")
    assert "Traceback" not in refused.stderr


def _ledger_with_three_scopes(tmp_path: Path) -> tuple[Path, Path]:
    import purposeful
    from _records import CASE_MANAGEMENT, CASEWORKER, case
    from purposeful.audit import Ledger

    assert main(["keys", "new", str(tmp_path / "keys")]) == 0
    ledger_path = tmp_path / "audit.jsonl"
    ledger = Ledger(ledger_path, signing_key=load_signing_key(tmp_path / "keys/signing-key.pem"))
    with purposeful.configured(sinks=[ledger]):
        for _ in range(3):
            with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
                _ = case().diagnosis
    ledger.close()
    return ledger_path, tmp_path / "keys/signing-key.pub.pem"


def test_audit_verify_says_ok_and_exits_0_for_an_untouched_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger_path, public_key = _ledger_with_three_scopes(tmp_path)
    capsys.readouterr()
    assert main(["audit", "verify", str(ledger_path), "--public-key", str(public_key)]) == 0
    assert ": ok" in capsys.readouterr().out


def test_audit_verify_names_the_first_edited_line_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger_path, public_key = _ledger_with_three_scopes(tmp_path)
    lines = ledger_path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"allowed"', b'"denied"', 1)
    ledger_path.write_bytes(b"".join(lines))
    capsys.readouterr()
    assert main(["audit", "verify", str(ledger_path), "--public-key", str(public_key)]) == 1
    out = capsys.readouterr().out
    assert f"{ledger_path}:3:" in out
    assert "edited" in out


def test_audit_verify_and_report_take_the_ledgers_a_shell_pattern_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One ledger a process (the docs' advice): ``--ledger var/audit-*.jsonl`` expands to
    several files after one --ledger; each was read as a trace file but the first."""
    ledger_path, public_key = _ledger_with_three_scopes(tmp_path)
    copy = tmp_path / "audit-copy.jsonl"
    copy.write_bytes(ledger_path.read_bytes())
    Path(f"{copy}.checkpoints").write_bytes(Path(f"{ledger_path}.checkpoints").read_bytes())
    capsys.readouterr()
    assert (
        main(["audit", "verify", str(ledger_path), str(copy), "--public-key", str(public_key)]) == 0
    )
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"{ledger_path}:"
    assert f"\n{copy}:\n" in out
    assert len([line for line in out.splitlines() if ": ok" in line]) == 2
    assert main(["audit", "report", "--ledger", str(ledger_path), str(copy)]) == 0
    sources = capsys.readouterr().out
    assert re.search(rf"^{re.escape(str(ledger_path))} +ledger +3 ", sources, re.MULTILINE)
    assert re.search(rf"^{re.escape(str(copy))} +ledger +3 ", sources, re.MULTILINE)


def test_audit_verify_of_several_exits_1_when_one_does_not_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger_path, public_key = _ledger_with_three_scopes(tmp_path)
    edited = tmp_path / "audit-edited.jsonl"
    lines = ledger_path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"allowed"', b'"denied"', 1)
    edited.write_bytes(b"".join(lines))
    Path(f"{edited}.checkpoints").write_bytes(Path(f"{ledger_path}.checkpoints").read_bytes())
    capsys.readouterr()
    argv = ["audit", "verify", str(edited), str(ledger_path), "--public-key", str(public_key)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert f"{edited}:3:" in out  # the edited one is named, and the other still checked
    assert out.splitlines()[-2:][0] == f"{ledger_path}:"
    assert ": ok" in out.splitlines()[-1]


def test_audit_verify_of_several_with_one_checkpoint_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger_path, public_key = _ledger_with_three_scopes(tmp_path)
    capsys.readouterr()
    argv = ["audit", "verify", str(ledger_path), str(ledger_path), "--public-key"]
    assert main([*argv, str(public_key), "--checkpoints", f"{ledger_path}.checkpoints"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--checkpoints and --index name the files of one" in err


def test_audit_verify_without_a_public_key_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", str(tmp_path / "audit.jsonl")]) == 2
    assert "--public-key" in capsys.readouterr().err
