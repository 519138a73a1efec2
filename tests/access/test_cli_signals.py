"""``purposeful bundle build|decrypt`` stopped by a real signal, in a real process: the file
being written is discarded as it would be on an error, stderr holds one line and no
traceback, and the exit status is 130 for SIGINT, 143 for SIGTERM.

Each command is made to wait at a known point with a temporary file beside its output: the
build in a disclosure log that waits, the decryption reading a FIFO the test has not
finished writing. Every wait is bounded, so a regression fails instead of hanging.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from purposeful.access import generate_recipient_keys, load_recipient_public_key
from purposeful.access.encryption import encrypt_stream
from purposeful.audit import generate_keys

pytest.importorskip("pyrage")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

TIMEOUT = 60.0

APP = """
import time
from pathlib import Path

from purposeful import CONSENT, field, record
from purposeful.access import AgencyDetails, SubjectAccess
from purposeful.audit import PseudonymKey

HERE = Path(__file__).parent


@record(subject="client_id", key="note_id")
class HomeVisit:
    client_id: str
    note_id: str
    text: str = field(purposes={"service-delivery.case-management": CONSENT})


class WaitingLog:
    def for_subject(self, subject):
        (HERE / "waiting").touch()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.02)
        return []


access = SubjectAccess(
    agency=AgencyDetails("Te Whare Awhina", email="privacy@example.org.nz"),
    pseudonym_keys=PseudonymKey.generate(),
    disclosures=WaitingLog(),
)


@access.source("notes")
def notes(subject):
    for number in range(50):
        yield HomeVisit(subject, f"N-{number}", "a visit")
"""


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def temporary_files(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if path.name.endswith(".tmp")]


def stop(process: subprocess.Popen[bytes], number: int) -> tuple[int, str]:
    process.send_signal(number)
    try:
        _, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the command did not stop after the signal")
    return process.returncode, stderr.decode()


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "purposeful", *args]


def check_stopped(returncode: int, stderr: str, number: int, out: Path) -> None:
    assert returncode == 128 + number
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1
    assert stderr.startswith(f"purposeful: interrupted ({signal.Signals(number).name})")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_an_interrupted_build_leaves_nothing_and_says_so_in_one_line(
    tmp_path: Path, number: int, encrypted: bool
) -> None:
    (tmp_path / "signal_app.py").write_text(APP, encoding="utf-8")
    generate_keys(tmp_path / "keys")
    out = tmp_path / "out"
    out.mkdir()
    extra: list[str] = []
    if encrypted:
        _, public = generate_recipient_keys(tmp_path / "recipient")
        extra = ["--encrypt-to", str(public)]
    process = subprocess.Popen(
        command(
            "bundle",
            "build",
            "signal_app:access",
            "--request-id",
            "SAR-1",
            "--received",
            "2026-12-10",
            "--subject-env",
            "CLIENT_ID",
            "--out",
            str(out / "b.zip"),
            "--signing-key",
            str(tmp_path / "keys" / "signing-key.pem"),
            "--draft",
            *extra,
        ),
        cwd=tmp_path,
        env={**os.environ, "CLIENT_ID": "C-4471"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: (tmp_path / "waiting").exists(), "the build to read disclosures")
        if not encrypted:  # the zip is being written beside the target
            assert len(temporary_files(out)) == 1
        returncode, stderr = stop(process, number)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    check_stopped(returncode, stderr, number, out)
    assert "C-4471" not in stderr


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_an_interrupted_decryption_leaves_no_plaintext_and_says_so_in_one_line(
    tmp_path: Path, number: int
) -> None:
    private, public = generate_recipient_keys(tmp_path / "recipient")
    plain = tmp_path / "plain.zip"
    plain.write_bytes(os.urandom(1 << 20))
    cipher = tmp_path / "cipher.age"
    with plain.open("rb") as source, cipher.open("wb") as target:
        encrypt_stream(source, target, recipient=load_recipient_public_key(public))
    data = cipher.read_bytes()
    fifo = tmp_path / "in.age"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen(
        command("bundle", "decrypt", str(fifo), str(out / "b.zip"), "--private-key", str(private)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    release = threading.Event()

    def feed() -> None:  # half the file, then hold the FIFO open until released
        # The command may be stopped while this half is still going through the FIFO:
        # its reading end then closes, which is what the test does, not a failure.
        with contextlib.suppress(BrokenPipeError), fifo.open("wb") as writer:
            writer.write(data[: len(data) // 2])
            writer.flush()
            release.wait(TIMEOUT)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        wait_for(
            lambda: any(path.stat().st_size for path in temporary_files(out)),
            "plaintext to be written beside the output",
        )
        (written,) = temporary_files(out)
        assert written.stat().st_mode & 0o777 == 0o600
        returncode, stderr = stop(process, number)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
            process.wait()
        feeder.join(TIMEOUT)
    check_stopped(returncode, stderr, number, out)


def test_main_puts_back_the_signal_handlers_it_found(tmp_path: Path) -> None:
    from purposeful.cli import main

    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    assert main(["bundle", "due", "2026-12-10"]) == 0
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
