"""Red team 7: `replace_together` since the sixth round's fixes (leftovers of an earlier
crash removed, the old file copied aside where hard links fail)."""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path

import pytest

from purposeful._shared import files
from test_notices import notice

_ANOTHER_WRITER = """
import sys
from pathlib import Path
from test_notices import notice
notice().write(Path(sys.argv[1]))
print("written")
"""


def test_a_notice_written_by_another_process_meanwhile_does_not_fail_this_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`_remove_leftovers` removed every ``.<name>.*.tmp`` and ``.<name>.*.old`` beside the
    files: the temporaries and set-aside copies of a write *running* in another process
    are named so too (two app instances publishing the notice at start-up). Here the other
    process starts its whole write after this one wrote its temporaries and before it
    renames them: it waits for this write's turn, then writes; both writes succeed."""
    import subprocess
    import sys

    folder = tmp_path / "published"
    notice(agreements=()).write(folder)
    set_aside = files._set_aside
    others: list[subprocess.Popen[str]] = []
    tests = Path(__file__).resolve().parents[1]

    def another_process_writes_meanwhile(target: Path) -> Path | None:
        if not others:
            others.append(
                subprocess.Popen(
                    [sys.executable, "-c", _ANOTHER_WRITER, str(folder)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env={**os.environ, "PYTHONPATH": os.pathsep.join([*sys.path, str(tests)])},
                )
            )
            time.sleep(0.5)  # it is under way, waiting for this write's turn
        return set_aside(target)

    monkeypatch.setattr(files, "_set_aside", another_process_writes_meanwhile)
    written = notice().write(folder)
    monkeypatch.undo()
    (other,) = others
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err[-2000:]
    assert out.strip() == "written"
    assert all(path.is_file() for path in written.values())


@pytest.mark.parametrize("name", [".notice.md.old", ".register.json.2024.old"])
def test_a_file_of_the_user_named_like_a_backup_is_kept(tmp_path: Path, name: str) -> None:
    """`_remove_leftovers` matches any name starting ``.<name>.`` and ending ``.old`` or
    ``.tmp``, not the names `replace_together` makes (``.<name>.<12 hex>.old``, mkstemp's
    ``.<name>.<8 chars>.tmp``): a hand-made backup of the published notice
    (``.notice.md.old``) is deleted by the next write, silently."""
    folder = tmp_path / "published"
    notice(agreements=()).write(folder)
    kept = folder / name
    kept.write_text("the version the board approved\n")
    notice().write(folder)
    assert kept.is_file(), f"{name} was deleted"


def test_a_file_put_back_from_its_copy_keeps_its_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where hard links fail, `_set_aside` copies the old file with ``open(aside, "xb")``:
    the copy has the umask's mode, not the old file's. When a later rename fails, the put
    back file is that copy: under a service's ``umask 077`` the published notice.md (0644)
    comes back 0600, unreadable by the web server that serves it, while the error says the
    files 'were left as they were'."""
    folder = tmp_path / "published"
    written = notice(agreements=()).write(folder)
    modes = {kind: stat.S_IMODE(path.stat().st_mode) for kind, path in written.items()}
    assert set(modes.values()) == {0o644}

    def no_hard_links(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    replace = os.replace
    calls: list[object] = []

    def third_rename_fails(source: object, target: object) -> None:
        if Path(str(target)).parent == folder and not Path(str(target)).name.startswith("."):
            calls.append(target)
            if len(calls) == 3:
                raise OSError(errno.EIO, "Input/output error", str(target))
        replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(files.os, "link", no_hard_links)
    monkeypatch.setattr(files.os, "replace", third_rename_fails)
    old_umask = os.umask(0o077)
    try:
        with pytest.raises(Exception, match="left as they were"):
            notice().write(folder)
    finally:
        os.umask(old_umask)
        monkeypatch.undo()
    after = {kind: stat.S_IMODE(path.stat().st_mode) for kind, path in written.items()}
    assert after == modes, f"modes changed by the put-back: {after}"
