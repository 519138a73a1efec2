"""Encrypted bundles are age files: the `age` command opens what purposeful encrypts, and
purposeful opens what `age` encrypts, to a recipient key or to a passphrase.

Runs when the `age` binary is installed (Debian's ``age`` package; ``.ci/run`` installs it),
and is required under CI (``CI=true``). age reads a passphrase from the terminal only, so
the passphrase tests give it one through a pseudo-terminal.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from purposeful.access.encryption import decrypt_file, encrypt_file
from purposeful.access.recipients import (
    generate_recipient_keys,
    load_recipient_private_key,
    load_recipient_public_key,
)

AGE = shutil.which("age")
AGE_KEYGEN = shutil.which("age-keygen")
PASSPHRASE = "kōwhai-harakeke-tūī-4187"
BUNDLE = os.urandom(3 * 64 * 1024 + 11)  # stands for a zip: any bytes


@pytest.fixture(autouse=True)
def _age_installed() -> None:
    if AGE is not None and AGE_KEYGEN is not None:
        return
    reason = "the age command is not installed (apt-get install age)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must check that age opens purposeful's bundles, but {reason}")
    pytest.skip(reason)


def age(*arguments: str | Path) -> bytes:
    done = subprocess.run(
        [str(AGE), *map(str, arguments)], capture_output=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def age_at_a_terminal(*arguments: str | Path, answers: int) -> None:
    """Run age with a pseudo-terminal, answering its first *answers* passphrase prompts."""
    import pty

    pid, terminal = pty.fork()
    if pid == 0:  # the child: become age
        os.execv(str(AGE), [str(AGE), *map(str, arguments)])
    said = b""
    answered = 0
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([terminal], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(terminal, 1024)
            except OSError:  # the child closed the terminal: it is done
                break
            if not chunk:
                break
            said += chunk
            if answered < answers and said.lower().count(b"passphrase") > answered:
                os.write(terminal, PASSPHRASE.encode() + b"\n")
                answered += 1
    finally:
        status = _reap(pid, deadline)
        os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0, said.decode(errors="replace")


def _reap(pid: int, deadline: float) -> int:
    """The child's wait status; it is killed if it has not ended by *deadline*."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return os.waitpid(pid, 0)[1]
        time.sleep(0.05)


posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")


def test_age_opens_a_bundle_encrypted_to_a_recipient_key(tmp_path: Path) -> None:
    private_file, public_file = generate_recipient_keys(tmp_path / "keys")
    (tmp_path / "bundle.zip").write_bytes(BUNDLE)
    sealed = encrypt_file(
        tmp_path / "bundle.zip",
        tmp_path / "bundle.zip.age",
        recipient=load_recipient_public_key(public_file),
    )
    assert age("-d", "-i", private_file, sealed) == BUNDLE


def test_purposeful_opens_what_age_encrypted_to_a_recipient_key(tmp_path: Path) -> None:
    private_file, public_file = generate_recipient_keys(tmp_path / "keys")
    (tmp_path / "bundle.zip").write_bytes(BUNDLE)
    age("-R", public_file, "-o", tmp_path / "bundle.zip.age", tmp_path / "bundle.zip")
    opened = decrypt_file(
        tmp_path / "bundle.zip.age",
        tmp_path / "opened.zip",
        private_key=load_recipient_private_key(private_file),
    )
    assert opened.read_bytes() == BUNDLE


def test_keys_made_by_age_keygen_work_with_purposeful(tmp_path: Path) -> None:
    subprocess.run([str(AGE_KEYGEN), "-o", tmp_path / "key.txt"], check=True, capture_output=True)
    public = subprocess.run(
        [str(AGE_KEYGEN), "-y", tmp_path / "key.txt"], check=True, capture_output=True
    ).stdout
    (tmp_path / "key.pub").write_bytes(public)
    (tmp_path / "bundle.zip").write_bytes(BUNDLE)
    encrypt_file(
        tmp_path / "bundle.zip",
        tmp_path / "bundle.zip.age",
        recipient=load_recipient_public_key(tmp_path / "key.pub"),
    )
    assert age("-d", "-i", tmp_path / "key.txt", tmp_path / "bundle.zip.age") == BUNDLE
    opened = decrypt_file(
        tmp_path / "bundle.zip.age",
        tmp_path / "opened.zip",
        private_key=load_recipient_private_key(tmp_path / "key.txt"),
    )
    assert opened.read_bytes() == BUNDLE


@posix_only
def test_age_opens_a_bundle_encrypted_to_a_passphrase(tmp_path: Path) -> None:
    (tmp_path / "bundle.zip").write_bytes(BUNDLE)
    encrypt_file(tmp_path / "bundle.zip", tmp_path / "bundle.zip.age", passphrase=PASSPHRASE)
    age_at_a_terminal("-d", "-o", tmp_path / "opened.zip", tmp_path / "bundle.zip.age", answers=1)
    assert (tmp_path / "opened.zip").read_bytes() == BUNDLE


@posix_only
def test_purposeful_opens_what_age_encrypted_to_a_passphrase(tmp_path: Path) -> None:
    (tmp_path / "bundle.zip").write_bytes(BUNDLE)
    age_at_a_terminal("-p", "-o", tmp_path / "bundle.zip.age", tmp_path / "bundle.zip", answers=2)
    opened = decrypt_file(
        tmp_path / "bundle.zip.age", tmp_path / "opened.zip", passphrase=PASSPHRASE
    )
    assert opened.read_bytes() == BUNDLE


@posix_only
def test_age_opens_a_bundle_with_a_passphrase_protected_recipient_key(tmp_path: Path) -> None:
    private_file, public_file = generate_recipient_keys(tmp_path / "keys", passphrase=PASSPHRASE)
    (tmp_path / "bundle.zip").write_bytes(BUNDLE)
    encrypt_file(
        tmp_path / "bundle.zip",
        tmp_path / "bundle.zip.age",
        recipient=load_recipient_public_key(public_file),
    )
    age_at_a_terminal(
        "-d",
        "-i",
        private_file,
        "-o",
        tmp_path / "opened.zip",
        tmp_path / "bundle.zip.age",
        answers=1,
    )
    assert (tmp_path / "opened.zip").read_bytes() == BUNDLE
