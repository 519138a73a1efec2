"""Red team 5: outputs written whole or not at all (`replace_together`, `atomic_directory`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from purposeful.errors import ConfigurationError, NoticeError
from test_notices import notice


def test_a_notice_set_refused_part_way_is_left_as_it_was(tmp_path: Path) -> None:
    """`Notice.write` says an error 'left the files there as they were', and
    `replace_together` that only a crash between two renames could part the set. A rename
    that fails (here: the last name is taken by a directory) after the first ones succeeded
    leaves notice.md, notice.html and register.json the new version and the fides manifest
    the old: half one version, half the other, with a message saying nothing changed."""
    folder = tmp_path / "published"
    old = notice(agreements=()).write(folder)
    before = {kind: path.read_bytes() for kind, path in old.items()}
    old["fides"].unlink()
    old["fides"].mkdir()  # the last of the four cannot take its name
    (old["fides"] / "keep").write_text("x")
    with pytest.raises(NoticeError, match="left as they were"):
        notice().write(folder)
    for kind in ("markdown", "html", "register"):
        assert old[kind].read_bytes() == before[kind], f"{kind} was replaced"


def test_a_symlinked_empty_report_directory_is_not_said_to_have_filled(tmp_path: Path) -> None:
    """A target that is a link to an empty directory passes the check (exists, is a
    directory, empty), and the rename then fails with ENOTDIR: the error says the directory
    'came to hold files meanwhile', which it did not, and sends the operator looking for a
    race. (Nothing is written: it fails closed, with the wrong reason.)"""
    from purposeful._shared.files import atomic_directory

    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(ConfigurationError) as info, atomic_directory(link) as folder:
        (folder / "t.csv").write_text("a\n")
    assert "meanwhile" not in str(info.value)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


#: The CLI, each file it writes limited to *limit* bytes (a disk that fills: EFBIG).
_LIMITED_CLI = """
import resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from purposeful.cli import main
raise SystemExit(main(sys.argv[2:]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize("output", ["--csv", "--parquet", "--to"])
def test_a_report_directory_on_a_full_disk_is_a_one_line_error(tmp_path: Path, output: str) -> None:
    """``audit report --csv DIR`` (or ``--parquet DIR``) and ``audit convert --to DIR`` on a
    disk that fills: the
    temporary directory is removed (good), but the write's OSError (or DuckDB's
    IOException) escapes `atomic_directory` and the CLI as a traceback, with exit status
    1, the status these commands document for 'a ledger does not verify'."""
    import subprocess

    from _audit_inputs import HandPart, HandScope, write_traces

    if output != "--csv":
        pytest.importorskip("duckdb")
    scope = HandScope("s-full", (HandPart(reads={"p1": frozenset({"Case.diagnosis"})}),))
    traces = write_traces(tmp_path / "traces.json", [scope])
    out = tmp_path / "out"
    argv = (
        ["audit", "report", "--engine", "stream", str(traces), output, str(out)]
        if output != "--to"
        else ["audit", "convert", str(traces), "--to", str(out)]
    )
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED_CLI, "60", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert "Traceback" not in done.stderr, done.stderr[-400:]
    assert done.returncode == 2


def test_a_failed_report_directory_leaves_no_parents_behind(tmp_path: Path) -> None:
    """`atomic_directory` makes the target's missing parents (mode 0700) before it
    begins, and removes only its temporary directory when the writing fails: a report
    that fails leaves empty directories where there were none."""
    from purposeful._shared.files import atomic_directory

    target = tmp_path / "reports" / "2026" / "march"
    with pytest.raises(RuntimeError), atomic_directory(target):
        raise RuntimeError("the export failed")
    assert list(tmp_path.iterdir()) == []
