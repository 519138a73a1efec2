"""A bundle member must be a regular file: a zip can mark a member as a symbolic link (or a
directory, a pipe, a device), which `unzip` then makes, whatever the manifest says."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest
from _bundles import PUBLIC_KEY, REQUEST, build_bundle, members

from purposeful.access import verify_bundle
from purposeful.errors import BundleInvalid


def _copy_with_mode(source: Path, target: Path, member: str, mode: int) -> Path:
    """*source*'s members in order, byte for byte, *member* given the Unix *mode*."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == member:
                info.external_attr = mode << 16
            copy.writestr(info, data)
    return target


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(tmp_path_factory.mktemp("genuine") / "bundle.zip").path


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        (stat.S_IFLNK | 0o777, "a symbolic link"),
        (stat.S_IFDIR | 0o755, "a directory"),
        (stat.S_IFIFO | 0o644, "a named pipe"),
        (stat.S_IFCHR | 0o644, "a device"),
    ],
)
def test_a_signed_bundle_with_a_member_that_is_not_a_regular_file_is_refused(
    genuine: Path, tmp_path: Path, kind: int, said: str
) -> None:
    for member in members(genuine):
        crafted = _copy_with_mode(genuine, tmp_path / "crafted.zip", member, kind)
        with pytest.raises(BundleInvalid) as caught:
            verify_bundle(crafted, PUBLIC_KEY)
        assert caught.value.member == member
        assert said in str(caught.value)


@pytest.mark.parametrize("mode", [0, stat.S_IFREG | 0o644, stat.S_IFREG | 0o600])
def test_a_regular_member_or_one_without_a_unix_mode_still_verifies(
    genuine: Path, tmp_path: Path, mode: int
) -> None:
    first = next(iter(members(genuine)))
    copy = _copy_with_mode(genuine, tmp_path / "copy.zip", first, mode)
    assert verify_bundle(copy, PUBLIC_KEY).request_id == REQUEST.request_id
