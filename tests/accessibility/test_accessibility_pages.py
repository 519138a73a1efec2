"""Every page purposeful writes for a person passes the automated accessibility audit:
axe-core in headless Chromium finds no serious or critical violation of WCAG 2.2 A and AA
(or axe's best practices), on screen or in print. Moderate and minor findings are listed at
the end of the run.

Needs Debian's ``chromium`` and ``npm ci`` in this folder (``.ci/run`` does both); skipped
with the reason without them, and required under CI (``CI=true``). A new page is one more
line in `PAGES`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import _pages
import pytest
from _axe import Violation, assert_none_serious, audit_pages, require

#: Each page, by name: a function of a scratch directory, returning the page's HTML.
PAGES: dict[str, Callable[[Path], str]] = {
    "subject-access page, every part": lambda _: _pages.full_bundle_page(),
    "subject-access page, long names and addresses": lambda _: _pages.full_bundle_page(
        _pages.LONG_AGENCY
    ),
    "subject-access page, hostile text": lambda _: _pages.hostile_bundle_page(),
    "subject-access page, nothing found": lambda _: _pages.empty_bundle_page(),
    "subject-access page, as a bundle writes it": _pages.built_bundle_page,
    "privacy notice, with who may see what": lambda _: _pages.notice_page(),
    "privacy notice, long names and addresses": lambda _: _pages.notice_page(_pages.LONG_AGENCY),
    "privacy notice, hostile text": lambda _: _pages.hostile_notice_page(),
    "privacy notice, nothing declared": lambda _: _pages.empty_notice_page(),
    "audit report page": _pages.report_page,
    "audit report page, about one person": _pages.subject_report_page,
    "copy for the person": lambda _: _pages.copy_page(),
    "copy for the person, large print": lambda _: _pages.copy_page(large_print=True),
    "copy for the person, hostile text": lambda _: _pages.copy_page(hostile=True),
}


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Violation]]:
    """Every page's violations, found in one run of the browser (it starts once, not once a
    page)."""
    require()
    pages = {name: build(tmp_path_factory.mktemp("page")) for name, build in PAGES.items()}
    return audit_pages(pages)


@pytest.mark.parametrize("name", PAGES)
def test_the_page_has_no_serious_or_critical_accessibility_violation(
    name: str, audited: dict[str, list[Violation]]
) -> None:
    assert_none_serious(audited[name], name)
