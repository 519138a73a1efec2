"""Test helpers that ship with purposeful, for proving "no purpose violations".

- `capture_decisions()`: collect every decision made in a block, without pytest;
- `expect_violation(...)`: assert a refusal happens (and mark it as expected);
- `undecorated_records(...)`: the classes that declare managed fields but lack
  ``@purposeful.record`` (plain classes, read with no decision), for a test to assert none;
- the pytest plugin (`purposeful.testing.pytest_plugin`, loaded automatically): the
  ``purposeful_audit`` fixture, strict mode and the purpose-coverage report;
- `purposeful.testing.strategies`: hypothesis strategies for records, purposes and actors.

Nothing here imports pytest or hypothesis, except the two modules that need them.
"""

from .._kinds.undecorated import undecorated_declarations
from ._capture import DecisionCapture, capture_decisions, expect_violation, format_decisions

__all__ = [
    "DecisionCapture",
    "capture_decisions",
    "expect_violation",
    "format_decisions",
    "undecorated_records",
]


def undecorated_records(*modules: str) -> list[str]:
    """The attrs classes, dataclasses and pydantic models alive that declare managed fields
    (``purposeful.field``, ``Managed``) while no class of their MRO is decorated with
    ``@purposeful.record``, each as ``module.Class (field, ...)``; only those of *modules*
    (and their submodules) if any are named. Without the decorator such a class is plain,
    and its fields are read with no decision; nothing at run time can tell. Import your
    models, then assert the list is empty::

        import myapp.models  # noqa: F401
        assert purposeful.testing.undecorated_records("myapp") == []

    SQLAlchemy and Django models need no such test: they are refused on their own.
    """
    return [
        f"{cls.__module__}.{cls.__qualname__} ({', '.join(names)})"
        for cls, names in undecorated_declarations(modules)
    ]
