"""The error tree in purposeful.errors: who subclasses whom, and what each error carries."""

from __future__ import annotations

import ast
import concurrent.futures
import inspect
import pickle
from pathlib import Path

import pytest

import purposeful
from purposeful import errors
from purposeful.errors import (
    AnnotationError,
    AuditSinkError,
    ConfigurationError,
    DuplicateIdentifier,
    IncomparableLevels,
    InvalidIdentifier,
    NoPurposeScope,
    PurposefulError,
    PurposeViolation,
    RegistryFileError,
    UnknownCategory,
    UnknownParent,
    UnknownPurpose,
)

PUBLIC_ERRORS = [
    getattr(errors, name)
    for name in errors.__all__
    if not issubclass(getattr(errors, name), Warning)
]
PUBLIC_WARNINGS = [
    getattr(errors, name) for name in errors.__all__ if issubclass(getattr(errors, name), Warning)
]

CONFIGURATION_ERRORS = [
    InvalidIdentifier,
    DuplicateIdentifier,
    UnknownParent,
    UnknownPurpose,
    UnknownCategory,
    RegistryFileError,
    IncomparableLevels,
    AnnotationError,
]


class _FakeDecision:
    """Stands in for a Decision: PurposeViolation only needs message()."""

    def message(self) -> str:
        return "reading Client.notes for 'funder-reporting' was refused"


def test_all_lists_exactly_the_exception_classes_defined_in_the_module() -> None:
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == errors.__name__
    }
    assert set(errors.__all__) == defined


@pytest.mark.parametrize("error", PUBLIC_ERRORS, ids=lambda e: e.__name__)
def test_every_public_error_subclasses_purposeful_error(error: type[Exception]) -> None:
    assert issubclass(error, PurposefulError)


@pytest.mark.parametrize("warning", PUBLIC_WARNINGS, ids=lambda e: e.__name__)
def test_every_public_warning_is_a_user_warning_with_a_docstring(warning: type[Warning]) -> None:
    assert issubclass(warning, UserWarning)
    assert (warning.__dict__.get("__doc__") or "").strip()


@pytest.mark.parametrize("error", PUBLIC_ERRORS, ids=lambda e: e.__name__)
def test_every_public_error_has_its_own_docstring(error: type[Exception]) -> None:
    doc = error.__dict__.get("__doc__")
    assert isinstance(doc, str)
    assert doc.strip()


@pytest.mark.parametrize("error", CONFIGURATION_ERRORS, ids=lambda e: e.__name__)
def test_configuration_errors_subclass_configuration_error_and_value_error(
    error: type[Exception],
) -> None:
    assert issubclass(error, ConfigurationError)
    assert issubclass(error, ValueError)


def test_configuration_error_is_a_value_error() -> None:
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(ConfigurationError, PurposefulError)


def test_incomparable_levels_is_also_a_type_error() -> None:
    assert issubclass(IncomparableLevels, TypeError)


@pytest.mark.parametrize("error", [UnknownPurpose, UnknownCategory], ids=lambda e: e.__name__)
def test_unknown_lookups_are_also_lookup_errors(error: type[Exception]) -> None:
    assert issubclass(error, LookupError)


def test_purpose_violation_is_a_permission_error_not_a_configuration_error() -> None:
    assert issubclass(PurposeViolation, PermissionError)
    assert not issubclass(PurposeViolation, ConfigurationError)


def test_no_purpose_scope_is_a_purpose_violation() -> None:
    assert issubclass(NoPurposeScope, PurposeViolation)
    assert issubclass(NoPurposeScope, PermissionError)


def test_audit_sink_error_is_neither_configuration_nor_violation() -> None:
    assert not issubclass(AuditSinkError, ConfigurationError)
    assert not issubclass(AuditSinkError, PurposeViolation)


def test_purpose_violation_carries_its_decision_and_uses_its_message() -> None:
    decision = _FakeDecision()
    error = PurposeViolation(decision)  # type: ignore[arg-type]
    assert error.decision is decision
    assert str(error) == decision.message()


def test_no_purpose_scope_carries_its_decision() -> None:
    decision = _FakeDecision()
    error = NoPurposeScope(decision)  # type: ignore[arg-type]
    assert error.decision is decision
    with pytest.raises(PermissionError):
        raise error


def test_registry_file_error_prefixes_message_with_path_and_line() -> None:
    error = RegistryFileError("purpose 'x' is missing title", path=Path("p.toml"), line=12)
    assert str(error) == "p.toml:12: purpose 'x' is missing title"
    assert error.path == Path("p.toml")
    assert error.line == 12


def test_registry_file_error_without_line_names_only_the_path() -> None:
    error = RegistryFileError("cannot read the file", path="missing.toml")
    assert str(error) == "missing.toml: cannot read the file"
    assert error.line is None


def test_registry_file_error_is_caught_as_value_error() -> None:
    with pytest.raises(ValueError, match=r"^f\.toml:3: bad$"):
        raise RegistryFileError("bad", path="f.toml", line=3)


def test_the_package_exports_the_errors_most_code_catches_and_the_tree_has_the_rest() -> None:
    top_level = {name for name in purposeful.__all__ if name in errors.__all__}
    assert top_level == {
        "ConfigurationError",
        "DisclosureRefused",
        "NoPurposeScope",
        "PurposeViolation",
        "PurposefulError",
    }
    for name in top_level:
        assert getattr(purposeful, name) is getattr(errors, name)


def test_errors_module_imports_nothing_from_the_package_at_run_time() -> None:
    tree = ast.parse(Path(errors.__file__).read_text(encoding="utf-8"))
    runtime_relative_imports = [
        node
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and (node.level > 0 or node.module == "purposeful")
    ]
    assert runtime_relative_imports == []


@purposeful.record(subject="case_id")
class PickledErrorCase:
    case_id: str
    note: str = purposeful.field(
        purposes={"service-delivery": purposeful.ServiceAgreement("the service agreement")}
    )


def _real_decision() -> object:
    case = PickledErrorCase(case_id="C-1", note="private")
    with pytest.raises(NoPurposeScope) as refused:
        case.note  # noqa: B018
    return refused.value.decision


#: A value for every constructor parameter an error in the tree takes. An error with a new
#: parameter fails the pickling test below until a value is added here.
_ARGUMENTS: dict[str, object] = {
    "message": "what was wrong, and how to fix it",
    "problem": "what was wrong",
    "path": Path("registry.toml"),
    "line": 7,
    "source": "$PURPOSEFUL_SIGNING_KEY",
    "reasons": ("agreement-expired",),
    "member": "manifest.json",
    "extra": "age",
    "reason": "expired",
    "asked_purpose": "service-delivery",
    "required_purpose": "service-delivery.case-management",
    "missing": ("identity", "delivery"),
    "marked": ("CaseNote.risk_flag",),
    "fields": ("phone",),
}


def _made(error: type[PurposefulError]) -> PurposefulError:
    if issubclass(error, PurposeViolation):
        return error(_real_decision())  # type: ignore[arg-type]
    try:
        parameters = list(inspect.signature(error).parameters.values())
    except ValueError:  # the exception's own constructor: a message
        return error(_ARGUMENTS["message"])
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        assert parameter.name in _ARGUMENTS, f"add a value for {parameter.name!r} to _ARGUMENTS"
        if parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = _ARGUMENTS[parameter.name]
        else:
            args.append(_ARGUMENTS[parameter.name])
    return error(*args, **kwargs)


@pytest.mark.parametrize("error", PUBLIC_ERRORS, ids=lambda e: e.__name__)
def test_every_error_pickles_with_its_message_and_attributes(error: type[PurposefulError]) -> None:
    made = _made(error)
    made.add_note("a note added while the error travelled")
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(made, protocol=protocol))
        assert type(copy) is error
        assert str(copy) == str(made)
        assert copy.args == made.args
        assert vars(copy) == vars(made)


def _raise_in_worker(name: str) -> None:
    raise _made(getattr(errors, name))


def test_an_error_raised_in_a_process_pool_arrives_whole() -> None:
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        future = pool.submit(_raise_in_worker, "RegistryFileError")
        with pytest.raises(RegistryFileError) as raised:
            future.result(timeout=60)
    assert raised.value.path == Path("registry.toml")
    assert raised.value.line == 7
    assert str(raised.value) == "registry.toml:7: what was wrong, and how to fix it"


def test_the_api_page_shows_the_tree_of_this_module_and_documents_every_error() -> None:
    page = (Path(__file__).parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    docstring = errors.__doc__ or ""
    tree = docstring.split("\n\n")[2]
    assert tree.startswith("    PurposefulError\n")
    shown = "\n".join(line[4:] for line in tree.splitlines())
    assert f"```text\n{shown}\n```" in page
    for name in errors.__all__:
        assert f"::: purposeful.errors.{name}\n" in page or f"::: purposeful.{name}\n" in page
