"""The accessibility audit of a page: axe-core, run in headless Chromium.

``audit(html)`` returns what axe-core finds on an HTML page, shown on a screen and printed
(WCAG 2.0 to 2.2 at levels A and AA, and axe's best practices). ``assert_accessible(html,
name)`` fails on a serious or critical violation and keeps the moderate and minor ones,
which ``tests/accessibility/conftest.py`` lists at the end of the test run. So one more
page to check is one more line.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``, or ``PURPOSEFUL_CHROMIUM``);
axe-core and playwright-core, which drives the browser from Node.js, are pinned in this
folder's ``package.json`` and ``package-lock.json`` and installed by ``npm ci`` here
(``.ci/run`` does both). Without them the tests are skipped with the reason, except under
CI (``CI=true``), where they fail. Nothing is fetched from anywhere: the page is given to
the browser as content, and every request it makes is refused.

A violation is reported as its rule, its impact, where it is (CSS selectors) and axe's
summary of what to fix; this module must not print the page itself. The pages the tests
audit are made of fictitious data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "audit.mjs"
#: What fails a page; moderate and minor violations are listed, not failed.
FAILING = frozenset({"serious", "critical"})
#: How long one run of the browser may take, in seconds, for any number of pages.
TIMEOUT = 180
#: The moderate and minor violations found in this run, for the summary at the end.
NOTED: list[tuple[str, Violation]] = []


@dataclass(frozen=True)
class Violation:
    """One rule a page breaks, as axe-core reports it."""

    rule: str
    impact: str
    help: str
    help_url: str
    media: str
    targets: tuple[str, ...]
    summaries: tuple[str, ...]

    def describe(self) -> str:
        where = ", ".join(self.targets[:5]) + (" ..." if len(self.targets) > 5 else "")
        return (
            f"{self.impact}: {self.rule} ({self.media}): {self.help}. At: {where}. {self.help_url}"
        )


def chromium() -> str | None:
    """The Chromium to run: ``PURPOSEFUL_CHROMIUM``, else ``chromium`` on the path."""
    return os.environ.get("PURPOSEFUL_CHROMIUM") or shutil.which("chromium")


def missing() -> str | None:
    """Why the audit cannot run here, or None when it can."""
    if chromium() is None:
        return "Chromium is not installed (apt-get install chromium)"
    if shutil.which("node") is None:
        return "Node.js is not installed"
    for package in ("axe-core", "playwright-core"):
        if not (HERE / "node_modules" / package / "package.json").is_file():
            return f"{package} is not installed (run `npm ci` in {HERE})"
    return None


def require() -> None:
    """Skip the calling test when the audit cannot run here; fail it under CI."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the accessibility audit, but {reason}")
    pytest.skip(reason)


def audit_pages(pages: Mapping[str, str]) -> dict[str, list[Violation]]:
    """Every violation axe-core finds on each page (by name), on screen and in print, in one
    run of the browser."""
    request = {"chromium": chromium(), "pages": [{"name": n, "html": h} for n, h in pages.items()]}
    done = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(request).encode(),
        capture_output=True,
        cwd=HERE,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"the accessibility audit did not run: {done.stderr.decode(errors='replace')}"
        )
    found: dict[str, list[Violation]] = {name: [] for name in pages}
    for page in json.loads(done.stdout)["pages"]:
        found[page["name"]] += [
            Violation(
                rule=v["id"],
                impact=v["impact"],
                help=v["help"],
                help_url=v["helpUrl"],
                media=page["media"],
                targets=tuple(v["targets"]),
                summaries=tuple(v["summaries"]),
            )
            for v in page["violations"]
        ]
    return found


def audit(html: str) -> list[Violation]:
    """Every violation axe-core finds on *html*, on screen and in print."""
    return audit_pages({"page": html})["page"]


def assert_accessible(html: str, name: str) -> list[Violation]:
    """Fail on any serious or critical violation on *html*; keep the others (named *name*)
    for the run's summary, and return them."""
    require()
    return assert_none_serious(audit(html), name)


def assert_none_serious(found: list[Violation], name: str) -> list[Violation]:
    """Fail if *found* (the violations on the page named *name*) holds a serious or critical
    one; keep the others for the run's summary, and return them."""
    failing = [v for v in found if v.impact in FAILING]
    others = [v for v in found if v.impact not in FAILING]
    NOTED.extend((name, v) for v in others)
    assert not failing, f"{name}: serious or critical accessibility violations:\n" + "\n".join(
        f"- {v.describe()}\n  {' / '.join(v.summaries[:2])}" for v in failing
    )
    return others
