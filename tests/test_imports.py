"""`import purposeful` loads the core only: no capability's heavy dependency."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import purposeful

HEAVY = (
    "chdb",
    "clickhouse_connect",
    "cryptography",
    "django",
    "duckdb",
    "fastapi",
    "opentelemetry",
    "pydantic",
    "pydantic_core",
    "sqlalchemy",
    "sqlite3",
    "zipfile",
)


def loaded_after(statement: str) -> list[str]:
    script = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return [m for m in json.loads(out) if m in HEAVY]


def test_importing_the_core_loads_no_capability_dependency() -> None:
    assert loaded_after("import purposeful") == []


def test_the_pytest_plugin_adds_no_capability_dependency_to_a_test_run() -> None:
    before = loaded_after("import pytest")  # pytest itself reads resources (zipfile)
    after = loaded_after("import pytest, purposeful.testing.pytest_plugin")
    assert after == before


def test_declaring_a_dataclass_record_loads_no_pydantic() -> None:
    statement = (
        "import dataclasses, purposeful\n"
        "@purposeful.record(subject='client_id')\n"
        "@dataclasses.dataclass(slots=True)\n"
        "class C:\n"
        "    client_id: str\n"
    )
    assert "pydantic" not in loaded_after(statement)


def test_a_capability_loads_when_first_used() -> None:
    assert "sqlite3" in loaded_after("import purposeful; purposeful.disclose")


def test_an_unknown_name_is_an_attribute_error() -> None:
    import purposeful

    with pytest.raises(AttributeError, match="no_such_name"):
        purposeful.no_such_name  # type: ignore[attr-defined]  # noqa: B018


@pytest.mark.parametrize("store", ["consent", "corrections", "holds", "sharing"])
def test_a_postgresql_store_without_psycopg_names_the_extra_to_install(store: str) -> None:
    script = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from purposeful.errors import MissingExtra\n"
        "try:\n"
        f"    import purposeful.{store}.postgres\n"
        "except MissingExtra as error:\n"
        "    print(error.extra, '|', error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.startswith("postgres | ")
    assert "pip install 'purposeful[postgres]'" in out


def test_the_audit_package_and_its_trace_file_exporter_load_no_opentelemetry_sdk() -> None:
    script = (
        "import json, sys\nimport purposeful.audit\n"
        "purposeful.audit.TraceFileExporter\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk',"
        " 'opentelemetry.exporter', 'opentelemetry.proto', 'google.protobuf')))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert json.loads(out) == []


def test_no_module_of_the_library_names_the_opentelemetry_sdk() -> None:
    # src/ depends on the OpenTelemetry API only: no import of the SDK, not under
    # TYPE_CHECKING, not in a function, not by a name handed to importlib
    source = Path(purposeful.__file__).parent
    found = []
    for path in sorted(source.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names = [node.value]
            if any(
                name.startswith(("opentelemetry.sdk", "opentelemetry.exporter")) for name in names
            ):
                found.append(f"{path.relative_to(source)}:{node.lineno}")
    assert found == []


def test_the_web_package_loads_no_framework() -> None:
    script = (
        "import sys, purposeful.web\n"
        "print(sorted(m for m in ('fastapi', 'starlette', 'django') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"


def test_the_tracing_hooks_load_no_framework_nor_the_opentelemetry_sdk() -> None:
    script = (
        "import sys, purposeful.web.tracing\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'starlette', 'django') or m.startswith('opentelemetry.sdk')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "framework"),
    [("asgi", "starlette"), ("fastapi", "fastapi"), ("django", "django")],
)
def test_a_web_module_without_its_framework_names_what_to_install(
    module: str, framework: str
) -> None:
    script = (
        f"import sys; sys.modules[{framework!r}] = None\n"
        "from purposeful.errors import MissingExtra\n"
        "try:\n"
        f"    import purposeful.web.{module}\n"
        "except MissingExtra as error:\n"
        "    print(error.extra, '|', error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.startswith("web | ")
    assert "pip install" in out


def test_declaring_a_django_field_managed_loads_no_django() -> None:
    assert "django" not in loaded_after("import purposeful.django")


def test_declaring_attrs_and_dataclass_records_loads_no_sqlalchemy() -> None:
    statement = (
        "import dataclasses, purposeful\n"
        "@purposeful.record(subject='client_id')\n"
        "@dataclasses.dataclass(slots=True)\n"
        "class C:\n"
        "    client_id: str\n"
        "@purposeful.record(subject='client_id')\n"
        "class D:\n"
        "    client_id: str\n"
    )
    assert "sqlalchemy" not in loaded_after(statement)


def test_purposeful_sqlalchemy_without_sqlalchemy_names_what_to_install() -> None:
    script = (
        "import sys; sys.modules['sqlalchemy'] = None\n"
        "from purposeful.errors import MissingExtra\n"
        "try:\n"
        "    import purposeful.sqlalchemy\n"
        "except MissingExtra as error:\n"
        "    print(error.extra, '|', error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.startswith("sqlalchemy | ")
    assert "pip install" in out
