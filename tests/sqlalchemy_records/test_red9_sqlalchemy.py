"""Red team 9: the import hook `_watch_for_sqlalchemy` installs (`after_import.AfterImport`,
inserted at ``sys.meta_path[0]`` by the first ``Managed(...)``, then never again)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

import purposeful  # noqa: E402

_SCRIPT = """
import sys
import importlib.abc
import importlib.machinery
import purposeful
from purposeful.errors import PurposefulError

SAVED = list(sys.meta_path)  # a plugin loader saves the import machinery at start-up

# tags.py: the shared declarations, imported first
SECRET_TAG = purposeful.Managed(purposes={"service-delivery": purposeful.ServiceAgreement("x")})

if sys.argv[1] == "finder-first":
    class Instrumentation(importlib.abc.MetaPathFinder):
        # an agent's import hook, installed at start-up after the tags: it wraps the
        # loader of the modules it instruments, finding them on the path itself
        def find_spec(self, fullname, path=None, target=None):
            if not fullname.startswith("sqlalchemy"):
                return None
            return importlib.machinery.PathFinder.find_spec(fullname, path, target)

    sys.meta_path.insert(0, Instrumentation())
elif sys.argv[1] == "meta-path-restored":
    # a plugin loader (or a test fixture) that restores the import machinery it saved
    sys.meta_path[:] = SAVED
    purposeful.Managed(purposes={"other": purposeful.ServiceAgreement("y")})  # more tags

from sqlalchemy.orm import DeclarativeBase, Mapped, configure_mappers, mapped_column

class Base(DeclarativeBase):
    pass

class Lonely(Base):  # never decorated: must be refused
    __tablename__ = "lonely"
    client_id: Mapped[str] = mapped_column(primary_key=True)
    secret: Mapped[str] = mapped_column(info={"purposeful": SECRET_TAG})

try:
    configure_mappers()
except PurposefulError:
    print("refused")
except Exception as exc:
    print("refused" if "not decorated" in str(exc) else f"other: {exc!r}")
else:
    print("mapped")
    # the first scope opened (before any row is read in one) catches up
    actor = purposeful.Actor("staff-1", "caseworker", purposeful.SENSITIVE)
    try:
        with purposeful.use("service-delivery.case-management", actor=actor):
            print("a scope opened")
    except PurposefulError as exc:
        print("refused at the first scope" if "not decorated" in str(exc) else repr(exc))
    try:
        configure_mappers()
        Lonely(client_id="c-1", secret="s")
    except Exception as exc:
        print("refused" if "not decorated" in str(exc) else f"other: {exc!r}")
    else:
        print("mapped again")
"""


@pytest.mark.parametrize("how", ["finder-first", "meta-path-restored"])
def test_tags_declared_before_an_import_hook_or_a_meta_path_reset_still_fail_closed(
    how: str,
) -> None:
    """The fail-closed check of undecorated models with managed columns rests on one finder
    put first on ``sys.meta_path`` by the first ``Managed(...)``, `functools.cache`'d so
    never put there again. Anything on ``sys.meta_path`` before it when ``sqlalchemy.orm``
    is imported takes the import instead: an APM or coverage agent's import hook installed
    after the tags module (``finder-first``: it finds SQLAlchemy with ``PathFinder``
    itself), or a plugin loader or fixture that puts back a ``sys.meta_path`` it saved
    (``meta-path-restored``; a later ``Managed`` does not put the finder back). The hook
    never runs, `listen_for_mappers` is never called, and a model whose column is
    declared managed, never decorated, is mapped and hands the value out with no
    decision. The check could also be set up from the first decoration or kind lookup
    that meets a mapped class, or the finder re-inserted by each ``Managed`` when it is
    no longer on ``sys.meta_path``."""
    source = Path(purposeful.__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_SCRIPT), how],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(source)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    if how == "finder-first":
        # a finder ahead of the hook that finds SQLAlchemy itself is never seen by it:
        # the first scope opened catches up (docs/sqlalchemy.md), and the model stays
        # refused from then on
        assert done.stdout.splitlines() == ["mapped", "refused at the first scope", "refused"]
    else:
        assert done.stdout.strip() == "refused", done.stdout
