"""Every ```python block in docs/*.md and README.md runs.

The blocks of one page run in order in one fresh namespace, as a reader would paste them,
starting from the default configuration. A block that shows an error catches it itself, so
any exception is a broken example.
"""

from __future__ import annotations

import gc
import re
import sys
import traceback
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import purposeful
from purposeful import _config

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```python[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def python_blocks(page: Path) -> Iterator[tuple[int, str]]:
    """The ```python blocks of a page: the line of each opening fence, and its code."""
    text = page.read_text(encoding="utf-8")
    for match in _FENCE.finditer(text):
        indent = match.group("indent")
        lines = match.group("body").splitlines()
        code = "\n".join(line.removeprefix(indent) for line in lines)
        yield text.count("\n", 0, match.start()) + 1, code + "\n"


@pytest.fixture
def default_configuration() -> Iterator[None]:
    """Run a page as a fresh process would: default configuration, no records declared.

    ``configure(registry=...)`` re-checks every live record class against the new registry,
    so records other tests keep alive could veto a registry a page configures, and a page's
    records could veto theirs. The page runs with that list of records emptied; the list
    comes back, without the page's records, after it.
    """
    checks = getattr(_config, "_record_checks", None)
    saved = dict(checks) if checks is not None else {}
    if checks is not None:
        checks.clear()
    purposeful.reset_configuration()
    yield
    purposeful.reset_configuration()
    if checks is not None:
        checks.clear()
        checks.update(saved)
    gc.collect()


def test_every_page_has_an_example() -> None:
    assert PAGES, f"no pages found in {DOCS}"
    empty = [p.name for p in PAGES if p.name != "api.md" and not any(python_blocks(p))]
    assert not empty, f"pages without a python example: {empty}"


@pytest.mark.usefixtures("default_configuration")
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_examples_run(page: Path) -> None:
    # A real (temporary) module, so that classes defined on the page can be pickled.
    module = types.ModuleType(f"_docs_{page.stem.replace('-', '_')}")
    sys.modules[module.__name__] = module
    try:
        for number, (line, code) in enumerate(python_blocks(page), start=1):
            filename = f"{page.relative_to(ROOT)}, block {number} (line {line})"
            try:
                exec(compile(code, filename, "exec"), module.__dict__)
            except Exception as exc:
                detail = "".join(traceback.format_exception(exc))
                pytest.fail(
                    f"docs/{page.name}: block {number} (line {line}) raised "
                    f"{type(exc).__name__}: {exc}\n\n{detail}",
                    pytrace=False,
                )
    finally:
        del sys.modules[module.__name__]
        module.__dict__.clear()
