"""Red team (issue 28, asking before acting): ``purposeful ask`` fed odd input. Whatever it
is given, it answers (exit 0 or 1) or says what was wrong in one line (exit 2): never a
traceback, and never an exit status that reads as an answer it did not give."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "asking"))

from _asking import FIELDS, AskVisit

import purposeful
from purposeful import SENSITIVE
from purposeful.asking import Verdict
from purposeful.cli import main

USE = ["ask", "use", "--records", "_asking", "--clearance", "SENSITIVE"]
NAME = ["AskVisit.name", "--purpose", "service-delivery"]


def _one_line_error(capsys: pytest.CaptureFixture[str], *words: str) -> None:
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("purposeful: error: ")
    for word in words:
        assert word in err


@pytest.mark.parametrize("module", ["", ".records", "..", "a..b"])
def test_red_a_records_value_that_is_no_module_name_is_one_line(
    module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding: ``--records ""`` raised ValueError (Empty module name) and ``--records
    .records`` TypeError (a relative import), as tracebacks with exit status 1, which the
    command documents as "the answer is not yes"."""
    argv = ["ask", "use", *NAME, "--role", "caseworker", "--clearance", "SENSITIVE"]
    assert main([*argv, "--records", module]) == 2
    err = capsys.readouterr().err
    assert "is not a module name" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ('raise RuntimeError("boom")\n', "RuntimeError"),
        ("def broken(:\n", "SyntaxError"),
        ("import sys\nsys.exit(0)\n", "SystemExit"),
        ("import sys\nsys.exit(1)\n", "SystemExit"),
    ],
)
def test_red_a_records_module_that_fails_as_it_is_imported_is_one_line_and_exit_2(
    source: str,
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Finding: a module that raised as it was imported gave a traceback and exit status 1
    ("not yes"); one that called ``sys.exit(0)`` (a script run on import) made ``purposeful
    ask use`` exit 0, "yes", having answered nothing."""
    (tmp_path / "red_ask_cli_failing.py").write_text(source, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.delitem(sys.modules, "red_ask_cli_failing", raising=False)
    argv = ["ask", "use", *NAME, "--role", "caseworker", "--clearance", "SENSITIVE"]
    assert main([*argv, "--records", "red_ask_cli_failing"]) == 2
    _one_line_error(capsys, "red_ask_cli_failing", said, "python -c")


class _ClosedPipe(io.StringIO):
    """A standard output whose reader has gone (``purposeful ask table ... | head -1``)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        ([*USE, *NAME, "--role", "caseworker"], 0),
        ([*USE, "AskVisit.address", "--purpose", "service-delivery", "--role", "analyst"], 1),
        (["ask", "table", "--records", "_asking", "--role", "caseworker=SENSITIVE"], 0),
        (["ask", "table", "--records", "_asking", "--role", "analyst=SENSITIVE", "--json"], 0),
    ],
)
def test_red_a_reader_that_stops_reading_leaves_the_exit_status_saying_the_answer(
    argv: list[str], status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding: a closed pipe raised BrokenPipeError as a traceback, exit status 1."""
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(argv) == status


def _stdout(monkeypatch: pytest.MonkeyPatch, encoding: str) -> io.BytesIO:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding=encoding, errors="strict", write_through=True)
    monkeypatch.setattr(sys, "stdout", stream)
    return raw


def test_red_json_of_a_name_that_is_no_text_is_valid_utf8_that_reads_back_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Finding: a role given as bytes that are not UTF-8 (``--role $'\\xff'``, which Python
    reads as a lone surrogate) reached ``--json`` output raw: UnicodeEncodeError on a strict
    UTF-8 standard output, invalid UTF-8 elsewhere."""
    raw = _stdout(monkeypatch, "utf-8")
    role = "kaimahi\udcff"
    assert main([*USE, *NAME, "--role", role, "--json"]) == 0
    assert json.loads(raw.getvalue().decode("utf-8"))["role"] == role


@pytest.mark.parametrize("as_json", [False, True])
def test_red_a_macron_on_an_output_that_is_not_utf8_is_written_not_a_crash(
    as_json: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding: a role (or a party) with a macron, printed to a standard output that is not
    UTF-8 (Windows, redirected to a file: cp1252), raised UnicodeEncodeError."""
    raw = _stdout(monkeypatch, "cp1252")
    role = "kaimahi-ā-iwi"
    argv = [*USE, *NAME, "--role", role, *(["--json"] if as_json else [])]
    assert main(argv) == 0
    out = raw.getvalue().decode("cp1252")
    if as_json:
        assert json.loads(out)["role"] == role
    else:
        assert "kaimahi-\\u0101-iwi" in out


@settings(max_examples=60)
@given(
    role=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1).filter(
        str.strip
    ),
    field=st.sampled_from(FIELDS),
    purpose=st.sampled_from(["service-delivery", "care-and-protection", "research"]),
)
def test_red_ask_use_json_is_the_library_answer_for_any_role_name(
    role: str, field: str, purpose: str
) -> None:
    """Held: whatever the role is called (any text: control characters, bidirectional
    overrides, quotes, emoji), ``--json`` prints exactly `Answer.to_dict()`, and the exit
    status is 0 exactly for yes."""
    out = io.StringIO()
    argv = [*USE, f"AskVisit.{field}", "--purpose", purpose, f"--role={role}", "--json"]
    with contextlib.redirect_stdout(out):
        status = main(argv)
    answer = purposeful.may_use(AskVisit, field, purpose, role=role, clearance=SENSITIVE)
    assert json.loads(out.getvalue()) == answer.to_dict()
    assert status == (0 if answer.verdict is Verdict.YES else 1)


def test_red_a_role_given_twice_with_two_clearances_is_one_line_not_the_last_silently(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Finding: ``--role caseworker=SENSITIVE --role caseworker=IN-CONFIDENCE`` printed the
    table for the second clearance only, as if the first had not been given."""
    roles = ["--role", "caseworker=SENSITIVE", "--role", "caseworker=IN-CONFIDENCE"]
    assert main(["ask", "table", "--records", "_asking", *roles]) == 2
    _one_line_error(capsys, "caseworker", "SENSITIVE", "IN-CONFIDENCE")
    same = ["--role", "caseworker=SENSITIVE", "--role", "caseworker=sensitive"]
    assert main(["ask", "table", "--records", "_asking", *same]) == 0
