"""A finder that calls back once a module has been imported: how a check is set up the
moment a framework is, without importing it first (`purposeful.Managed` made before
SQLAlchemy is imported watches for ``sqlalchemy.orm`` this way).

What it must not do: import anything, or block, inside ``find_spec``. The import system
calls a finder holding the import lock, and the parent package may still be running in
another thread: a ``find_spec`` that imports (``importlib.util.find_spec``) deadlocks two
threads importing the package and its module.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import sys
import types
from collections.abc import Callable
from typing import Any

__all__ = ["AfterImport"]


class AfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when *name* is looked for, it hands back the spec the other
    finders make, with a loader that calls *then* once the module has run. It leaves
    ``sys.meta_path`` only then: a probe (``importlib.util.find_spec``) that imports
    nothing leaves it in place.

    It asks the other finders directly, with the *path* it was given: the import system
    calls it holding the import lock, so it must not import anything (the parent package
    may still be running in another thread)."""

    def __init__(self, name: str, then: Callable[[], None]) -> None:
        self._name = name
        self._then = then

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != self._name:
            return None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _ThenLoader(spec.loader, self)
                return spec
        return None

    def ran(self) -> None:
        """The module was imported: leave ``sys.meta_path``, then call *then*."""
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        self._then()


class _ThenLoader(importlib.abc.Loader):
    """*loader*, telling *finder* after the module ran, and then out of the module's way."""

    def __init__(self, loader: Any, finder: AfterImport) -> None:
        self._loader = loader
        self._finder = finder

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._finder.ran()
