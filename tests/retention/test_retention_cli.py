"""``purposeful retention``: due as text, CSV and JSON; dispose with evidence, and a process
killed in the middle of a disposal; the hold register; user errors as one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from purposeful.audit import generate_keys, load_public_key, verify_ledger
from purposeful.audit.ledger import read_disposals, unfinished_disposals
from purposeful.cli import main

APP = textwrap.dedent(
    '''
    """A small application: client notes in a JSON file."""
    import json, os
    from datetime import date
    from pathlib import Path

    import purposeful
    from purposeful.retention import Dated, RetentionSource, RetentionSources

    ROWS = Path(os.environ["RETENTION_ROWS"])

    @purposeful.record(subject="person", key="ref")
    class CliNote:
        person: str
        ref: str
        text: str = purposeful.field(
            purposes={"service-delivery.case-management": purposeful.ServiceAgreement("SA")}
        )

    def every():
        for person, ref, since in json.loads(ROWS.read_text()):
            yield Dated(CliNote(person, ref, "t"), date.fromisoformat(since))

    def dispose(record, method):
        if os.environ.get("RETENTION_KILL") == record.ref:
            os._exit(9)  # killed after the evidence that the disposal began
        rows = [r for r in json.loads(ROWS.read_text()) if r[1] != record.ref]
        ROWS.write_text(json.dumps(rows))

    sources = RetentionSources()
    sources.register("notes", RetentionSource(every, dispose))
    '''
)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cli_retention_app.py").write_text(APP)
    rows = [["secret-1", "n-1", "2018-01-01"], ["secret-2", "n-2", "2018-02-01"],
            ["secret-3", "n-3", "2025-01-01"]]  # fmt: skip
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    monkeypatch.setenv("RETENTION_ROWS", str(tmp_path / "rows.json"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_due_prints_counts_and_rules_and_writes_json_with_pseudonyms(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["retention", "due", "cli_retention_app:sources", "--today", "2026-06-01"]) == 0
    out = capsys.readouterr().out
    assert (
        "On 1 June 2026: 2 past retention and due for disposal, 0 past retention but held, 1 kept"
        in out
    )
    assert "secret" not in out
    keys = generate_keys(app / "keys")
    assert main([
        "retention", "due", "cli_retention_app:sources", "--today", "2026-06-01",
        "--format", "json", "--pseudonym-key", str(keys.pseudonym_key), "--out", "due.json",
    ]) == 0  # fmt: skip
    document = json.loads((app / "due.json").read_text())
    assert document["due"] == 2
    assert all(row["subject"].startswith(keys.pseudonym_key_id) for row in document["rows"][:2])
    assert "secret" not in (app / "due.json").read_text()
    assert main(["retention", "due", "cli_retention_app:sources", "--out", "due.json"]) == 2
    assert "exists; give --overwrite" in capsys.readouterr().err


def test_due_for_one_person_reads_their_id_from_the_environment(
    app: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASKED_ABOUT", "secret-2")
    one = ["retention", "due", "cli_retention_app:sources", "--today", "2026-06-01"]
    assert main([*one, "--subject-env", "ASKED_ABOUT", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["due"], document["kept"]) == (1, 0)
    assert main([*one, "--subject-env", "NOT_SET_ANYWHERE"]) == 2
    err = capsys.readouterr().err
    assert "$NOT_SET_ANYWHERE is not set" in err
    assert "give --subject" not in err  # retention due has no --subject to give
    # --subject is no abbreviation of --subject-env: the id would be read as a variable
    assert main([*one, "--subject", "secret-2"]) == 2
    assert "unrecognized arguments: --subject" in capsys.readouterr().err
    assert main([*one, "--subject-env", "secret-2"]) == 2  # the id, not a variable's name
    err = capsys.readouterr().err
    assert "secret-2" not in err
    assert "name of an environment variable" in err


def test_a_legal_hold_from_the_command_line_stops_disposal(
    app: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from purposeful.holds import SQLiteHoldStore

    SQLiteHoldStore(app / "holds.db").close()
    monkeypatch.setenv("HELD_PERSON", "secret-1")
    assert main([
        "retention", "hold", "--holds", "holds.db", "--reason", "Secret v Agency",
        "--by", "staff-1", "--subject-env", "HELD_PERSON", "--until", "2027-01-01",
    ]) == 0  # fmt: skip
    placed = capsys.readouterr().out
    assert placed.startswith("placed: legal hold ")
    assert "until 1 January 2027" in placed
    hold_id = placed.split()[3].rstrip(",")
    assert main(["retention", "holds", "--holds", "holds.db"]) == 0
    listed = capsys.readouterr().out
    assert "one person's records" in listed
    assert "Secret" not in listed
    assert "secret" not in listed
    assert main([
        "retention", "due", "cli_retention_app:sources", "--today", "2026-06-01",
        "--holds", "holds.db", "--format", "csv",
    ]) == 0  # fmt: skip
    csv = capsys.readouterr().out
    assert "held,notes,CliNote,service-delivery.case-management: 7 years" in csv
    assert hold_id in csv
    assert main(["retention", "release", hold_id, "--holds", "holds.db", "--by", "staff-2"]) == 0
    assert "released by staff-2" in capsys.readouterr().out
    assert main(["retention", "release", "f" * 32, "--holds", "holds.db", "--by", "x"]) == 2
    assert "no hold has id" in capsys.readouterr().err
    assert main(["store", "verify", "holds.db"]) == 0
    assert "a purposeful hold register; SQLite's integrity check passed" in capsys.readouterr().out


def _dispose(
    app: Path, keys: object, *extra: str, kill: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(app), *sys.path]))
    if kill is not None:
        env["RETENTION_KILL"] = kill
    return subprocess.run(
        [sys.executable, "-m", "purposeful", "retention", "dispose",
         "cli_retention_app:sources", "--today", "2026-06-01", "--ledger", "audit.jsonl",
         "--signing-key", str(keys.signing_key), "--pseudonym-key",  # type: ignore[attr-defined]
         str(keys.pseudonym_key), "--by", "staff-02", *extra],  # type: ignore[attr-defined]
        capture_output=True, text=True, env=env, cwd=app, timeout=120,
    )  # fmt: skip


def test_a_process_killed_mid_disposal_leaves_consistent_evidence_and_the_next_run_finishes(
    app: Path,
) -> None:
    keys = generate_keys(app / "keys")
    killed = _dispose(app, keys, kill="n-2")
    assert killed.returncode == 9
    ledger = app / "audit.jsonl"
    assert [e.stage for e in read_disposals(ledger)] == ["begun", "done", "begun"]
    assert [row[1] for row in json.loads((app / "rows.json").read_text())] == ["n-2", "n-3"]
    first = verify_ledger(ledger, load_public_key(keys.public_key))
    assert first.ok, first.message  # a writer killed before closing: the chain still holds
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(app), *sys.path]))
    due = subprocess.run(
        [sys.executable, "-m", "purposeful", "retention", "due", "cli_retention_app:sources",
         "--today", "2026-06-01", "--ledger", "audit.jsonl", "--format", "csv"],
        capture_output=True, text=True, env=env, cwd=app, timeout=120,
    )  # fmt: skip
    assert due.returncode == 0, due.stderr
    assert "interrupted,notes,CliNote," in due.stdout
    done = _dispose(app, keys, "--authority", "DA 123")
    assert done.returncode == 0, done.stderr
    assert "disposed: 1 CliNote from notes" in done.stdout
    assert "finished: 1 interrupted disposals of CliNote from notes" in done.stdout
    assert unfinished_disposals(ledger) == []
    assert [row[1] for row in json.loads((app / "rows.json").read_text())] == ["n-3"]
    assert verify_ledger(ledger, load_public_key(keys.public_key)).ok
    assert "secret" not in ledger.read_text()
    report = subprocess.run(
        [sys.executable, "-m", "purposeful", "audit", "report", "--ledger", str(ledger),
         "--public-key", str(keys.public_key), "--engine", "stream"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert "other ledger lines" in report.stdout


def test_a_public_office_without_an_authority_is_one_line_and_exit_2(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = generate_keys(app / "keys")
    refused = _dispose(app, keys, "--public-office")
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "disposal authority" in refused.stderr
    assert list(read_disposals(app / "audit.jsonl")) == []  # refused before any evidence
    assert main(["retention", "due", "no_such_module:sources"]) == 2
    assert "cannot import" in capsys.readouterr().err
    assert main(["retention", "due", "cli_retention_app:ROWS"]) == 2
    assert "is not a RetentionSources" in capsys.readouterr().err


def test_a_mistyped_register_is_not_made_to_list_no_holds(
    app: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing or releasing holds of a register that is not there is one line and exit 2,
    never a new, empty register saying "no holds"; placing a hold may create it; a subject
    given twice (on the command line and in the environment) is refused."""
    assert main(["retention", "holds", "--holds", "hodls.db"]) == 2
    assert main(["retention", "release", "H-1", "--holds", "hodls.db", "--by", "staff-1"]) == 2
    assert not (app / "hodls.db").exists()
    assert "no such file" in capsys.readouterr().err
    monkeypatch.setenv("HELD_PERSON", "secret-2")
    assert main([
        "retention", "hold", "--holds", "new.db", "--reason", "Complaint", "--by", "staff-1",
        "--subject", "secret-3", "--subject-env", "HELD_PERSON",
    ]) == 2  # fmt: skip
    assert "not both" in capsys.readouterr().err
    assert main([
        "retention", "hold", "--holds", "new.db", "--reason", "Complaint", "--by", "staff-1",
        "--until", "2020-01-01",
    ]) == 2  # fmt: skip
    assert "would hold nothing" in capsys.readouterr().err
    assert main([
        "retention", "hold", "--holds", "new.db", "--reason", "Complaint", "--by", "staff-1",
        "--subject-env", "HELD_PERSON",
    ]) == 0  # fmt: skip
    assert (app / "new.db").exists()


def test_dispose_on_a_day_ahead_is_refused_before_the_ledger_is_made(app: Path) -> None:
    keys = generate_keys(app / "keys")
    ahead = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    refused = subprocess.run(
        [sys.executable, "-m", "purposeful", "retention", "dispose",
         "cli_retention_app:sources", "--today", ahead, "--ledger", "audit.jsonl",
         "--signing-key", str(keys.signing_key), "--pseudonym-key",
         str(keys.pseudonym_key), "--by", "staff-02"],
        capture_output=True, text=True, cwd=app, timeout=120,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(app), *sys.path])),
    )  # fmt: skip
    assert refused.returncode == 2
    assert "after today in New Zealand" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not (app / "audit.jsonl").exists()


def test_a_store_option_given_a_directory_says_so(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (app / "registers").mkdir()
    due = ["retention", "due", "cli_retention_app:sources", "--today", "2026-06-01"]
    assert main([*due, "--holds", "registers"]) == 2
    assert "--holds registers is a directory; give the store's file inside it" in (
        capsys.readouterr().err
    )
    assert main([*due, "--holds", "missing.db"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_dispose_names_the_record_types_other_services_keep_holds_on(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hold register several services share: another service's hold on its own record
    type stops this run (it cannot be told from a slip) until the run names that type."""
    keys = generate_keys(app / "keys")
    assert main([
        "retention", "hold", "--holds", "holds.db", "--reason", "Court order",
        "--by", "benefits-officer", "--record-type", "BenefitApplication",
    ]) == 0  # fmt: skip
    capsys.readouterr()
    refused = _dispose(app, keys, "--holds", "holds.db")
    assert refused.returncode == 2
    assert "do not release it" in refused.stderr
    assert "--other-record-type" in refused.stderr
    named = _dispose(app, keys, "--holds", "holds.db", "--other-record-type", "BenefitApplication")
    assert named.returncode == 0, named.stderr
    assert "disposed:" in named.stdout
