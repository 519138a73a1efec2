"""`encrypt_file`, `decrypt_file` and ``purposeful bundle decrypt`` refuse an output that is
their input (the same path, a symbolic link to it, or a hard link), even with overwrite:
the encrypted bundle is never replaced by its plaintext, nor a bundle by its ciphertext."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from purposeful.access import (
    decrypt_file,
    encrypt_file,
    generate_recipient_keys,
    load_recipient_private_key,
    load_recipient_public_key,
)
from purposeful.cli import main
from purposeful.errors import BundleError

pytest.importorskip("pyrage")

PLAIN = b"PK\x03\x04 a bundle, as far as encryption cares"

Alias = Callable[[Path], Path]


def same_path(path: Path) -> Path:
    return path


def relative_path(path: Path) -> Path:
    return path.parent / "." / ".." / path.parent.name / path.name


def symbolic_link(path: Path) -> Path:
    link = path.with_name("link-" + path.name)
    link.symlink_to(path)
    return link


def hard_link(path: Path) -> Path:
    link = path.with_name("hard-" + path.name)
    os.link(path, link)
    return link


ALIASES = pytest.mark.parametrize(
    "alias", [same_path, relative_path, symbolic_link, hard_link], ids=lambda f: f.__name__
)


@pytest.fixture(scope="module")
def recipient(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The recipient's private and public key files (a key: no scrypt, so quick)."""
    return generate_recipient_keys(tmp_path_factory.mktemp("recipient"))


@pytest.fixture
def sealed(tmp_path: Path, recipient: tuple[Path, Path]) -> Path:
    plain = tmp_path / "plain.zip"
    plain.write_bytes(PLAIN)
    public = load_recipient_public_key(recipient[1])
    return encrypt_file(plain, tmp_path / "sealed.zip.age", recipient=public)


@ALIASES
@pytest.mark.parametrize("overwrite", [False, True])
def test_decrypting_a_bundle_onto_itself_is_refused(
    sealed: Path, recipient: tuple[Path, Path], alias: Alias, overwrite: bool
) -> None:
    key = load_recipient_private_key(recipient[0])
    before = sealed.read_bytes()
    target = alias(sealed)
    with pytest.raises(BundleError, match="the file to decrypt itself") as caught:
        decrypt_file(sealed, target, private_key=key, overwrite=overwrite)
    assert "plaintext" in str(caught.value)
    assert sealed.read_bytes() == before
    assert not [p for p in sealed.parent.iterdir() if p.name.endswith(".tmp")]


@ALIASES
@pytest.mark.parametrize("overwrite", [False, True])
def test_encrypting_a_bundle_onto_itself_is_refused(
    tmp_path: Path, recipient: tuple[Path, Path], alias: Alias, overwrite: bool
) -> None:
    public = load_recipient_public_key(recipient[1])
    plain = tmp_path / "plain.zip"
    plain.write_bytes(PLAIN)
    with pytest.raises(BundleError, match="the file to encrypt itself"):
        encrypt_file(plain, alias(plain), recipient=public, overwrite=overwrite)
    assert plain.read_bytes() == PLAIN


def test_another_output_is_still_written(sealed: Path, recipient: tuple[Path, Path]) -> None:
    key = load_recipient_private_key(recipient[0])
    out = decrypt_file(sealed, sealed.with_name("out.zip"), private_key=key)
    assert out.read_bytes() == PLAIN


def test_the_command_refuses_it_in_one_line(
    sealed: Path, recipient: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = sealed.read_bytes()
    status = main(
        [
            "bundle",
            "decrypt",
            str(sealed),
            str(sealed),
            "--overwrite",
            "--private-key",
            str(recipient[0]),
        ]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("purposeful: error: ")
    assert "the file to decrypt itself" in err
    assert err.count("\n") == 1
    assert sealed.read_bytes() == before
