"""The audit packages' public names: each resolves from its package, no name hides a module,
and `purposeful.audit` exports what it always has."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import purposeful.audit
import purposeful.audit.ledger
import purposeful.audit.report

PACKAGES = (purposeful.audit, purposeful.audit.ledger, purposeful.audit.report)


def test_purposeful_audit_exports_its_public_names() -> None:
    assert sorted(purposeful.audit.__all__) == [
        "KeyFiles",
        "Ledger",
        "PSEUDONYM_KEY_ENV",
        "PSEUDONYM_KEY_FILE",
        "PUBLIC_KEY_FILE",
        "PseudonymKey",
        "SIGNING_KEY_ENV",
        "SIGNING_KEY_FILE",
        "SpanSink",
        "VerifyReason",
        "VerifyResult",
        "default_checkpoints_path",
        "flush",
        "generate_keys",
        "load_pseudonym_key",
        "load_public_key",
        "load_signing_key",
        "signing_key_id",
        "verify_ledger",
    ]


@pytest.mark.parametrize("package", PACKAGES, ids=lambda package: package.__name__)
def test_every_public_name_resolves_from_its_package(package: types.ModuleType) -> None:
    for name in package.__all__:
        assert getattr(package, name) is not None
        assert name in dir(package)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda package: package.__name__)
def test_no_public_name_hides_a_module_of_its_package(package: types.ModuleType) -> None:
    modules = {info.name for info in pkgutil.iter_modules(package.__path__)}
    assert not modules & set(package.__all__)
    for name in modules:
        module = importlib.import_module(f"{package.__name__}.{name}")
        assert isinstance(module, types.ModuleType)
        assert getattr(package, name) is module


def test_a_report_module_imported_by_name_is_the_module() -> None:
    import purposeful.audit.report.building as building

    assert isinstance(building, types.ModuleType)
    assert purposeful.audit.report.build_report is building.build_report


def test_an_unknown_name_of_the_report_package_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        purposeful.audit.report.no_such_name  # type: ignore[attr-defined]  # noqa: B018
