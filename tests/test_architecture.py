"""The layout rules of docs/architecture.md, checked on the source.

- no module is over 800 lines;
- imports point one way: the core (with its private home `_shared`) imports no store,
  feature, web integration or the CLI; a store imports no feature, web integration or the
  CLI; a feature does not import the web integrations or the CLI, nor another feature but
  where listed in FEATURE_ON_FEATURE; the web integrations and the CLI, side by side at the
  top, do not import each other;
- nothing imports a name with a leading underscore from another package, nor another
  package's private module (the core's private modules, `_config`, `_trail`, `_shared` and
  the like, are the core's interface to the rooms and are open to all).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import purposeful

SOURCE = Path(purposeful.__file__).parent
STORES = {"consent", "corrections", "holds", "sharing"}
FEATURES = {
    "access",
    "audit",
    "breach",
    "notices",
    "insights",
    "propagation",
    "retention",
    "testing",
}
#: The places a feature builds on another, both reading the audit trail: a bundle's access
#: history, and a breach assessment.
FEATURE_ON_FEATURE = {
    ("purposeful.access", "purposeful.audit"),
    ("purposeful.breach", "purposeful.audit"),
}
MODULES = sorted(SOURCE.rglob("*.py"))
#: The package's face and its entry point: they name capabilities (lazily) by design.
FACADE = {SOURCE / "__init__.py", SOURCE / "__main__.py"}
#: The rooms at the top, side by side: the command line and the web integrations.
TOP = {"cli", "web"}


def _name(path: Path) -> str:
    parts = ["purposeful", *path.relative_to(SOURCE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _room(module: str) -> str:
    """The package a module belongs to: ``purposeful`` for the core, else its subpackage."""
    parts = module.split(".")
    if len(parts) > 1 and (parts[1] in STORES | FEATURES | TOP):
        return f"purposeful.{parts[1]}"
    return "purposeful"


def _rank(room: str) -> int:
    last = room.rsplit(".", 1)[-1]
    return 3 if last in TOP else 2 if last in FEATURES else 1 if last in STORES else 0


def _type_only(tree: ast.Module) -> set[ast.AST]:
    """The imports under ``if TYPE_CHECKING:`` at the top of a module."""
    return {
        child
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for child in node.body
    }


def _imports(path: Path, *, type_only: bool = True) -> list[tuple[int, str, str | None]]:
    """(line, module imported from, name imported or None) for every import in *path*
    (without those for the type checker only, if *type_only* is false)."""
    module = _name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: list[tuple[int, str, str | None]] = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set() if type_only else _type_only(tree)
    for node in ast.walk(tree):
        if node in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found += [(node.lineno, source, alias.name) for alias in node.names]
    return [item for item in found if item[1].split(".")[0] == "purposeful"]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _ids(path: Path) -> str:
    return str(path.relative_to(SOURCE))


@pytest.mark.parametrize("path", MODULES, ids=_ids)
def test_no_module_is_over_800_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 800, f"{_ids(path)} has {lines} lines: split it by job"


@pytest.mark.parametrize("path", MODULES, ids=_ids)
def test_imports_point_from_the_cli_to_features_to_stores_to_the_core(path: Path) -> None:
    if path in FACADE:
        return
    room = _room(_name(path))
    wrong = []
    # The protocols name the stores' values they exchange, for the type checker only.
    for line, source, name in _imports(path, type_only=path != SOURCE / "typing.py"):
        target = (
            f"{source}.{name}" if name and _room(f"{source}.{name}") != "purposeful" else source
        )
        if _rank(_room(target)) > _rank(room):
            wrong.append(f"line {line}: {target}")
        elif _rank(room) == _rank(_room(target)) == 3 and _room(target) != room:
            wrong.append(f"line {line}: {target} (the other room at the top)")
        elif (
            _rank(room) == _rank(_room(target)) == 2
            and _room(target) != room
            and (room, _room(target)) not in FEATURE_ON_FEATURE
        ):
            wrong.append(f"line {line}: {target} (another feature)")
    assert wrong == [], f"{_name(path)} ({room}) imports upwards"


@pytest.mark.parametrize("path", MODULES, ids=_ids)
def test_no_private_name_is_taken_from_another_package(path: Path) -> None:
    room = _room(_name(path))
    wrong = []
    for line, source, name in _imports(path):
        source_room = _room(source)
        if source_room == room or (source_room == "purposeful" and name is None):
            continue
        private_module = any(
            _private(part) for part in source.split(".")[len(source_room.split(".")) :]
        )
        if source_room != "purposeful" and private_module:
            wrong.append(f"line {line}: module {source}")
        if name is not None and _private(name) and source_room != "purposeful":
            wrong.append(f"line {line}: {source}.{name}")
        core_module = name is not None and (
            (SOURCE / f"{name}.py").exists() or (SOURCE / name).is_dir()
        )
        if name is not None and _private(name) and source_room == "purposeful" and not core_module:
            wrong.append(f"line {line}: {source}.{name}")  # a core module's private name
    assert wrong == []
