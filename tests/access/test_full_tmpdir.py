"""A temporary directory that is full, missing or unwritable: building a bundle spools its
records there, and verifying an encrypted bundle larger than memory's share holds the
decrypted bundle there. Each is a typed error that names the directory and what to do, and
nothing is half-written."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import IO, Any

import pytest
from _bundles import PUBLIC_KEY, build_bundle

import purposeful.access._spool as spool
import purposeful.access.verify as verify
from purposeful.access import verify_bundle
from purposeful.errors import BundleError, SubjectAccessError

FULL = Path("/dev/full")  # every write: ENOSPC, as a full disk
pytestmark = pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full")


def _full_temporary_file(*_: Any, **__: Any) -> IO[bytes]:
    return FULL.open("r+b")


def test_a_full_temporary_directory_while_building_is_a_subject_access_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spool.tempfile, "TemporaryFile", _full_temporary_file)
    target = tmp_path / "bundle.zip"
    with pytest.raises(SubjectAccessError) as caught:
        build_bundle(target)
    assert "No space left on device" in str(caught.value)
    assert "TMPDIR" in str(caught.value)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no partial file beside it either


def test_a_missing_temporary_directory_while_building_is_a_subject_access_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    target = tmp_path / "bundle.zip"
    with pytest.raises(SubjectAccessError, match="gone"):
        build_bundle(target)
    assert not target.exists()


def test_a_full_temporary_directory_while_verifying_an_encrypted_bundle_is_a_bundle_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyrage")
    from pyrage import x25519

    identity = x25519.Identity.generate()
    sealed = build_bundle(tmp_path / "bundle.zip.age", encrypt_to=identity.to_public()).path
    monkeypatch.setattr(verify, "_SPOOL", 1024)  # past this, the decrypted bundle goes to disk
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    with pytest.raises(BundleError) as caught:
        verify_bundle(sealed, PUBLIC_KEY, private_key=identity)
    assert "gone" in str(caught.value)
    assert "TMPDIR" in str(caught.value)
    monkeypatch.setattr(tempfile, "tempdir", None)  # with room again, the same file verifies
    assert verify_bundle(sealed, PUBLIC_KEY, private_key=identity).encrypted
