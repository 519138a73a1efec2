"""Red team 4: an output of several files, cut short by a fault. A notice republished while
the disk fills must leave the published set as one version: the notice the public reads and
the register `notice check` compares with must say the same."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")

RECORDS = """
import purposeful
from purposeful import SENSITIVE, ServiceAgreement

AGREEMENT = ServiceAgreement("Service delivery agreement")


@purposeful.record(subject="client_id")
class Whanau:
    client_id: str
    name: str = purposeful.field(purposes={"service-delivery": AGREEMENT}, category="contact")
    notes: str = purposeful.field(
        purposes={"service-delivery.case-management": AGREEMENT},
        sensitivity=SENSITIVE,
        category="case-notes",
    )
"""

#: Builds the notice with the CLI, each file it writes limited to *limit* bytes (a disk
#: that fills: the write past it fails with EFBIG, as ENOSPC would).
BUILD = """
import resource, signal, sys
folder, out, agency, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, folder)
if limit:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from purposeful.cli import main
sys.exit(main(["notice", "build", "red4_notice_records", "--agency-name", agency,
               "--agency-email", "privacy@example.nz", "--out", out]))
"""


def _build(
    folder: Path, out: Path, agency: str, limit: int = 0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BUILD, str(folder), str(out), agency, str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
    )


def test_red4_a_notice_republished_on_a_full_disk_is_one_version_or_the_other(
    tmp_path: Path,
) -> None:
    (tmp_path / "red4_notice_records.py").write_text(textwrap.dedent(RECORDS), encoding="utf-8")
    out = tmp_path / "published"
    first = _build(tmp_path, out, "Te Whare Awhina One")
    assert first.returncode == 0, first.stderr
    markdown = (out / "notice.md").stat().st_size
    html = (out / "notice.html").stat().st_size
    assert markdown < html  # the limit below lets the first file through, not the second
    second = _build(tmp_path, out, "Te Whare Awhina Two", limit=(markdown + html) // 2)
    assert second.returncode == 2  # the fault is reported, in one line
    register = json.loads((out / "register.json").read_text(encoding="utf-8"))
    published = register["agency"]["name"]
    for name in ("notice.md", "notice.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert published in text, f"{name} is another version than register.json"
