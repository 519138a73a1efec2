"""Red team: `purposeful breach assess` and `purposeful retention` on odd input, end to end:
every mistake exits 2 with one line, and no subject id reaches stdout or stderr."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from _audit_inputs import HandPart, HandScope, write_ledger
from purposeful.audit import PseudonymKey

KEY = PseudonymKey("5eed2900", hashlib.sha256(b"purposeful red: stewardship").digest())
SUBJECTS = ("C-1", "C-2", "C-3")
#: 02:10 NZST on 5 April 2026, the second time the clock shows it (the first is 13:10 UTC)
REPEATED_HOUR = datetime(2026, 4, 4, 14, 10, tzinfo=UTC)


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "purposeful", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    scopes = [
        HandScope(
            f"s{n}",
            (HandPart(reads={KEY.pseudonym(subject): frozenset({"Client.region"})}),),
            opened=REPEATED_HOUR + timedelta(minutes=n),
            actor="staff-17",
        )
        for n, subject in enumerate(SUBJECTS)
    ]
    return write_ledger(tmp_path / "audit.jsonl", scopes)


def _assess(ledger: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run("breach", "assess", "--ledger", str(ledger), "--engine", "stdlib", *args)


def test_red_window_ending_in_the_repeated_hour_counts_its_second_pass(ledger: Path) -> None:
    """Fixed: ``--to 2026-04-05T02:30`` ended at the first 02:30, missing these reads."""
    done = _assess(
        ledger, "--from", "2026-04-05T01:00", "--to", "2026-04-05T02:30", "--actor", "staff-17"
    )
    assert done.returncode == 0, done.stderr
    assert "People: 3 people" in done.stdout
    for subject in SUBJECTS:
        assert subject not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-12-01", "9999-12-31"),
        ("0001-01-01T00:00+13:00", "2026-12-31"),
        ("2026-12-01", "9999-12-31T23:59-13:00"),
        ("2026-02-30", "2026-12-31"),
        ("2026-12-04", "2026-12-01"),
        ("２０２６-12-01", "2026-12-31"),
    ],
)
def test_red_odd_windows_exit_2_with_one_line(ledger: Path, start: str, end: str) -> None:
    done = _assess(ledger, "--from", start, "--to", end, "--actor", "staff-17")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "name",
    [
        "staff-17'; DROP TABLE spans;--",
        "staff-17%",
        "staff-1_",
        "' OR '1'='1",
        "ā̀́\u202e",
    ],
)
def test_red_injection_in_an_actor_name_matches_nobody(ledger: Path, name: str) -> None:
    done = _assess(ledger, "--from", "2026-04-04", "--to", "2026-04-06", "--actor", name)
    assert done.returncode in (0, 2), done.stderr
    assert "Traceback" not in done.stderr
    if done.returncode == 0:
        assert "People: 0 people" in done.stdout


@pytest.mark.parametrize("role", ["x' OR '1'='1", "casework%", "casework_r"])
def test_red_injection_in_a_role_is_an_unknown_role(ledger: Path, role: str) -> None:
    done = _assess(ledger, "--from", "2026-04-04", "--to", "2026-04-06", "--role", role)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_red_hold_from_an_environment_value_with_a_newline_exits_2(tmp_path: Path) -> None:
    """Fixed: ``C-2\\n`` (an id read from a file) was held, covering nobody."""
    done = _run(
        "retention",
        "hold",
        "--holds",
        str(tmp_path / "holds.db"),
        "--reason",
        "Complaint",
        "--by",
        "privacy-officer",
        "--subject-env",
        "RED_SUBJECT",
        env={"RED_SUBJECT": "C-2\n"},
    )
    assert done.returncode == 2, done.stderr
    assert "C-2" not in done.stdout + done.stderr


def test_red_key_rotation_count_is_not_called_exact(tmp_path: Path) -> None:
    """Fixed: a person read under two keys was counted twice and the count called exact."""
    from purposeful.breach import Compromise, Trail, assess, assessment_document, render_text

    rotated = PseudonymKey("5eed2901", hashlib.sha256(b"purposeful red: rotated").digest())
    region = frozenset({"Client.region"})
    scopes = [
        HandScope("k1", (HandPart(reads={KEY.pseudonym("C-1"): region}),), opened=REPEATED_HOUR),
        HandScope(
            "k2",
            (HandPart(reads={rotated.pseudonym("C-1"): region}),),
            opened=REPEATED_HOUR + timedelta(hours=1),
        ),
    ]
    path = write_ledger(tmp_path / "rotated.jsonl", scopes)
    window = Compromise(
        REPEATED_HOUR - timedelta(days=1), REPEATED_HOUR + timedelta(days=1), actors={"staff-0042"}
    )
    with Trail.from_files(ledgers=[path], engine="stdlib") as trail:
        found = assess(trail, window)
    assert found.people == 2
    assert found.pseudonym_keys == 2
    assert not found.people_exact
    page = " ".join(render_text(assessment_document(found)).split())
    assert "exact: every scope" not in page
    assert "2 keys (a key rotation)" in page
