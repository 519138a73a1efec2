"""`is_module_name`: what `import` takes, macrons included (an NZ agency's package may well
be called ``tūroro``), and nothing importlib would answer with its own error."""

from __future__ import annotations

import pytest

from purposeful._shared.checks import is_module_name


@pytest.mark.parametrize("name", ["records", "myagency.records", "tūroro.records", "_x.y2"])
def test_a_module_name_is_accepted(name: str) -> None:
    assert is_module_name(name)


@pytest.mark.parametrize("name", ["", ".x", "x.", "x..y", "1x", "my-agency", "a b", None, 3])
def test_anything_else_is_refused(name: object) -> None:
    assert not is_module_name(name)
