"""`import_declarations`: the record types and agreements an application's modules declare.

Importing a module runs its ``@purposeful.record`` decorators, which is how a record type
becomes declared. The command line (``purposeful notice build|check MODULE...``) uses this;
so can a test suite or a build script. Importing runs the modules' code: point it only at
your own.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import attrs

from .._config import declared_records
from .._policies import POLICY_ATTR
from .._shared.checks import is_module_name
from ..errors import ConfigurationError, PurposefulError
from ..sharing.agreements import SharingAgreement, load_agreements

__all__ = ["Declarations", "import_declarations"]


@attrs.frozen
class Declarations:
    """What some modules declare.

    Attributes:
        records: the record classes, in the order they were declared.
        agreements: the sharing agreements, one per id.
    """

    records: tuple[type, ...]
    agreements: tuple[SharingAgreement, ...]


def module_name(name: str) -> str:
    """*name*, checked to be a dotted module name (``myagency.records``)."""
    if not is_module_name(name):
        raise ConfigurationError(
            f"{name!r} is not a module name: give a dotted name such as myagency.records"
        )
    return name


def _import(name: str, path: str) -> ModuleType:
    module_name(name)
    sys.path.insert(0, path)
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ConfigurationError(
            f"cannot import {name!r} ({exc}); run from your project's directory or install it"
        ) from None
    except PurposefulError:
        raise
    except Exception as exc:  # the module's own code failed: its type, never its message
        raise ConfigurationError(
            f"importing {name!r} failed: it raised {type(exc).__name__}; run "
            f"`python -c 'import {name}'` to see where"
        ) from None
    finally:
        sys.path.remove(path)


def _agreements_in(module: ModuleType) -> list[SharingAgreement]:
    found: list[SharingAgreement] = []
    for value in vars(module).values():
        if isinstance(value, SharingAgreement):
            found.append(value)
        elif (
            isinstance(value, list | tuple)
            and value
            and all(isinstance(item, SharingAgreement) for item in value)
        ):
            found += value
    return found


def _is_record(value: object) -> bool:
    return isinstance(value, type) and POLICY_ATTR in value.__dict__


def import_declarations(
    modules: Iterable[str],
    *,
    agreement_files: Iterable[str | os.PathLike[str]] = (),
    path: str | os.PathLike[str] | None = None,
) -> Declarations:
    """Import *modules* and gather the record types and agreements they declare.

    A module's record types are those whose class is defined in it (or in one of its
    submodules), and record classes it holds at module level (imported from elsewhere). Its
    agreements are the `SharingAgreement` values at its module level, alone or in a list or
    tuple. The agreement files are loaded after the imports, because agreements are checked
    against the declared record types.

    Args:
        modules: dotted module names, e.g. ``["myapp.records"]``.
        agreement_files: TOML files of ``[[agreement]]`` tables (`load_agreements`).
        path: the directory to import from, ahead of ``sys.path``; default: the working
            directory.

    Raises:
        ConfigurationError: a module cannot be imported, they declare no record type, or two
            different agreements share an id.
        RegistryFileError: an agreement file cannot be read or is wrong.
        PurposefulError: whatever a module raises as it declares its records.
    """
    names = [modules] if isinstance(modules, str) else list(modules)
    if not names:
        raise ConfigurationError("name at least one module whose record types to tell about")
    where = os.fspath(path) if path is not None else os.getcwd()
    imported = [_import(name, where) for name in names]
    records: dict[type, None] = {}
    held = {id(v) for m in imported for v in vars(m).values() if _is_record(v)}
    for cls in declared_records():
        module = cls.__module__
        if id(cls) in held or any(module == n or module.startswith(n + ".") for n in names):
            records[cls] = None
    if not records:
        raise ConfigurationError(
            f"{', '.join(names)} declare no record types; name the modules that define your "
            f"@purposeful.record classes"
        )
    agreements: dict[str, SharingAgreement] = {}
    found = [a for m in imported for a in _agreements_in(m)]
    for file in agreement_files:
        found += load_agreements(Path(file))
    for agreement in found:
        seen = agreements.get(agreement.id)
        if seen is not None and seen != agreement:
            raise ConfigurationError(
                f"two different agreements have the id {agreement.id!r}; give each its own id"
            )
        agreements[agreement.id] = agreement
    return Declarations(tuple(records), tuple(agreements.values()))
