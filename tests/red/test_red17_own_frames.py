"""A refusal leaving a scope clears the frames of attrs', dataclasses', Django's and
FastAPI's own functions it came through, and no one else's: a function of the
application's own, named like one of them (``model_to_dict``, ``jsonable_encoder``,
``asdict``, ``__eq__``) in a file whose path merely holds ``django``, ``fastapi`` or
``attr`` (a project kept in ``/srv/django/``, a module ``attribution.py``), kept its
locals, which the developer's error tracker shows them; nor is the refusal's message told
that the library read the record."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType, TracebackType

import pytest

import purposeful
from _records import CASEWORKER, Case, case

HELPERS = """
def model_to_dict(record):
    kept = "KEPT-BY-THE-APPLICATION"
    return {"diagnosis": record.diagnosis}


def jsonable_encoder(record):
    kept = "KEPT-BY-THE-APPLICATION"
    return {"diagnosis": record.diagnosis}


def asdict(record):
    kept = "KEPT-BY-THE-APPLICATION"
    return {"diagnosis": record.diagnosis}
"""


def _load(path: Path) -> ModuleType:
    path.parent.mkdir(parents=True)
    path.write_text(HELPERS)
    spec = importlib.util.spec_from_file_location(f"red17_{path.parent.name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kept(tb: TracebackType | None, name: str) -> dict[str, object]:
    while tb is not None:
        if tb.tb_frame.f_code.co_name == name:
            return dict(tb.tb_frame.f_locals)
        tb = tb.tb_next
    raise AssertionError(f"no frame of {name}")


@pytest.mark.parametrize("where", ["django/shop", "fastapi/service", "attribution"])
@pytest.mark.parametrize("name", ["model_to_dict", "jsonable_encoder", "asdict"])
def test_the_applications_own_frame_keeps_its_locals(tmp_path: Path, where: str, name: str) -> None:
    module = _load(tmp_path / where / "helpers.py")
    record = case(Case)
    with (
        pytest.raises(purposeful.PurposeViolation) as raised,
        purposeful.use("funder-reporting", actor=CASEWORKER),
    ):
        getattr(module, name)(record)
    assert _kept(raised.value.__traceback__, name).get("kept") == "KEPT-BY-THE-APPLICATION"
    assert "purposeful: read by" not in str(raised.value)
    sys.modules.pop(module.__name__, None)
