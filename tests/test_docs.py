"""Every ```python block in docs/*.md and README.md runs, and prints what it says it prints.

The blocks of one page run in order in one fresh namespace, as a reader would paste them,
starting from the default configuration. A block that shows an error catches it itself, so
any exception is a broken example.

What a page says a statement prints is the run of ``# `` comment lines right after a
statement that calls ``print`` or ``main`` (the command line's entry point, which prints what
the command shows) (a bare ``#`` is an empty line): it must be the end of what
was printed since the last such run. In it, ``…`` stands for any text within a line, and a
line of ``…`` alone for any lines; a line starting ``(on stderr)`` is not compared.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import io
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
            lines = code.splitlines()
            printed = io.StringIO()
            for statement in ast.parse(code, filename).body:
                try:
                    with contextlib.redirect_stdout(printed):
                        exec(
                            compile(ast.Module([statement], []), filename, "exec"), module.__dict__
                        )
                except Exception as exc:
                    detail = "".join(traceback.format_exception(exc))
                    pytest.fail(
                        f"docs/{page.name}: block {number} (line {line}) raised "
                        f"{type(exc).__name__}: {exc}\n\n{detail}",
                        pytrace=False,
                    )
                said = documented_output(statement, lines)
                if said is None:
                    continue
                out = printed.getvalue()
                printed.seek(0)
                printed.truncate()
                if not shows(said, out):
                    at = line + statement.end_lineno
                    pytest.fail(
                        f"{page.relative_to(ROOT)}: line {at} says it prints\n"
                        + "".join(f"  # {text}\n" for text in said)
                        + "but it printed (the end):\n"
                        + "".join(f"    {text}\n" for text in out.splitlines()[-len(said) - 3 :]),
                        pytrace=False,
                    )
    finally:
        del sys.modules[module.__name__]
        module.__dict__.clear()


def documented_output(statement: ast.stmt, lines: list[str]) -> list[str] | None:
    """What the page says *statement* prints: the ``# `` lines right after it, if it calls
    ``print`` or ``main``; None if it says nothing."""
    if not any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("print", "main")
        for node in ast.walk(statement)
    ):
        return None
    said = []
    for text in lines[statement.end_lineno or 0 :]:
        if text != "#" and not text.startswith("# "):
            break
        said.append(text[2:])
    said = [text for text in said if not text.startswith("(on stderr)")]
    return said or None


def shows(said: list[str], printed: str) -> bool:
    """True if *printed* ends with the lines *said* (``…`` matching any text within a line,
    a line of ``…`` alone any lines; a byte-order mark is not shown, nor CSV's CR LF)."""
    pattern = []
    for text in said:
        if text.strip() == "…":
            pattern.append(r"(?:[^\n]*\n)*?")
        else:
            pattern.append(re.escape(text.rstrip()).replace("…", r"[^\n]*") + r"[ \t]*\n")
    printed = printed.replace("\ufeff", "").replace("\r\n", "\n")
    if not printed.endswith("\n"):
        printed += "\n"
    return re.search(r"(?:\A|(?<=\n))" + "".join(pattern) + r"\Z", printed) is not None


@pytest.mark.parametrize(
    ("said", "printed", "shown"),
    [
        (["True True"], "True True\n", True),
        (["True True"], "False False\n", False),
        (["b"], "a\nb\n", True),  # the end of what was printed
        (["a"], "a\nb\n", False),
        (["x … z"], "x y z\n", True),
        (["first", "…"], "first\nsecond\nthird\n", True),
        (["…", "third"], "first\nsecond\nthird\n", True),
        (["…"], "", True),
        (["a", "", "b"], "a\n\nb", True),
        (['"id","name"'], '\ufeff"id","name"\r\n', True),
        (["a.b"], "axb\n", False),  # the rest is literal
    ],
)
def test_documented_output_is_compared(said: list[str], printed: str, shown: bool) -> None:
    assert shows(said, printed) is shown


def test_only_comments_right_after_a_print_are_output() -> None:
    code = "x = 1\n# not output\nprint(x)\n# 1\n#\n# (on stderr) warned\ny = 2\n# nor this\n"
    lines = code.splitlines()
    found = [documented_output(s, lines) for s in ast.parse(code).body]
    assert found == [None, ["1", ""], None]
