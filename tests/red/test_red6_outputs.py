"""Red team 6: outputs written whole or not at all after the fifth round's fixes
(`replace_together`'s backups, `atomic_directory`'s parents)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from purposeful._shared import files
from purposeful.errors import NoticeError
from test_notices import notice


def _failing_third_rename(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """``os.replace`` into *folder* fails on its third call (EIO: a flaky network share)."""
    replace = os.replace
    calls = []

    def flaky(source: object, target: object) -> None:
        if Path(str(target)).parent == folder and not Path(str(target)).name.startswith("."):
            calls.append(target)
            if len(calls) == 3:
                raise OSError(errno.EIO, "Input/output error", str(target))
        replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(files.os, "replace", flaky)


def test_a_set_refused_part_way_on_a_file_system_without_hard_links_keeps_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`_linked_aside` returns None both for 'no file there' and for 'the file system has
    no hard links' (``os.link`` fails: FAT/exFAT, many FUSE and SMB mounts). When a later
    rename fails, the put-back takes None as 'there was no file' and unlinks the files
    already replaced: the published notice.md and notice.html are deleted, neither the old
    version nor the new, while the error says the files 'were left as they were'."""
    folder = tmp_path / "published"
    old = notice(agreements=()).write(folder)
    before = {kind: path.read_bytes() for kind, path in old.items()}

    def no_hard_links(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(files.os, "link", no_hard_links)
    _failing_third_rename(monkeypatch, folder)
    with pytest.raises(NoticeError, match="left as they were"):
        notice().write(folder)
    monkeypatch.undo()
    for kind, path in old.items():
        assert path.exists(), f"{kind} ({path.name}) was deleted"
        assert path.read_bytes() == before[kind], f"{kind} was replaced"


def test_a_parent_another_process_made_is_not_removed_when_the_report_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`atomic_directory` lists the parents missing *before* it makes them, and removes
    those still empty when the writing fails. A parent another process made in between
    (another report run into the same ``reports/`` tree, about to write into it) is not
    ours, yet it is removed: the other process finds its directory gone."""
    shared = tmp_path / "reports"
    target = shared / "march"
    mkdir = Path.mkdir

    def other_process_first(self: Path, *args: object, **kwargs: object) -> None:
        if self == shared and not shared.exists():
            os.mkdir(shared)  # the other process, between the check and the mkdir
        mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", other_process_first)
    with pytest.raises(RuntimeError), files.atomic_directory(target):
        raise RuntimeError("the export failed")
    monkeypatch.undo()
    assert shared.is_dir(), "the other process's directory was removed"


_KILLED_MID_WAY = """
import os, signal, sys
sys.path[:0] = sys.argv[2:]
from purposeful._shared import files
from test_notices import notice

replace = os.replace
done = []

def killed(source, target):
    replace(source, target)
    done.append(target)
    if len(done) == 2:
        os.kill(os.getpid(), signal.SIGKILL)

files.os.replace = killed
notice().write(sys.argv[1])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_backups_left_by_a_crash_do_not_stay_in_the_published_folder(tmp_path: Path) -> None:
    """A kill -9 between two renames parts the set (documented) and leaves each old file's
    hard link ``.<name>.<hex>.old`` and the temporaries beside the published notice. No
    later write uses or removes them: after the next successful write the folder still
    holds hidden copies of the withdrawn notice, indefinitely (and a web server that
    serves the folder serves them)."""
    folder = tmp_path / "published"
    notice(agreements=()).write(folder)
    tests = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(_KILLED_MID_WAY),
            str(folder),
            str(tests),
            str(tests / "red"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == -9, done.stderr[-400:]
    notice().write(folder)  # the next write succeeds
    left = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    assert left == [], left
