"""The wheel's build hook: compile the guard's hot path (`src/purposeful/_speedups.c`).

The extension is built with the interpreter's own compiler settings (`sysconfig`: the
compiler, flags and suffix the interpreter was built with) when a compiler is there, for
wheels and for editable installs (the ``.so`` is then written into ``src/purposeful``, where
the editable install imports it from; it is gitignored). Without a compiler, if the build
fails, or with ``PURPOSEFUL_PURE_PYTHON=1`` at build time, the wheel is pure Python and one
line on stderr says so: the library works the same, reading through its Python getter.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src", "purposeful", "_speedups.c")
MODULE = "_speedups"


def _say(message: str) -> None:
    print(f"purposeful build: {message}", file=sys.stderr, flush=True)


def _pure_requested() -> bool:
    return os.environ.get("PURPOSEFUL_PURE_PYTHON", "") not in ("", "0")


def _compile(source: Path, target: Path) -> str | None:
    """Compile *source* into the extension module *target*; None, or why it could not."""
    config = sysconfig.get_config_vars()
    cc = shlex.split(os.environ.get("CC") or config.get("CC") or "")
    ldshared = shlex.split(os.environ.get("LDSHARED") or config.get("LDSHARED") or "")
    if not cc or not ldshared or shutil.which(cc[0]) is None:
        return "no C compiler found"
    cflags = shlex.split(config.get("CFLAGS") or "") + shlex.split(config.get("CCSHARED") or "")
    include = sysconfig.get_paths()["include"]
    with tempfile.TemporaryDirectory() as work:
        objects = Path(work, f"{MODULE}.o")
        built = Path(work, target.name)
        steps = [
            [*cc, *cflags, f"-I{include}", "-c", str(source), "-o", str(objects)],
            [*ldshared, str(objects), "-o", str(built)],
        ]
        for step in steps:
            try:
                done = subprocess.run(step, capture_output=True, text=True, timeout=300)
            except (OSError, subprocess.SubprocessError) as error:
                return f"the compiler could not run ({error})"
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                return f"the compiler failed ({last})"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)
    return None


class SpeedupsBuildHook(BuildHookInterface):
    """Compile the guard's C accelerator into the wheel, or build a pure-Python wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        root = Path(self.root)
        in_place = root / SOURCE.parent / f"{MODULE}{suffix}"
        if _pure_requested():
            if version == "editable":
                in_place.unlink(missing_ok=True)  # an earlier editable build's
            _say("PURPOSEFUL_PURE_PYTHON is set: building pure Python (no compiled guard)")
            return
        if version == "editable":
            target = in_place  # the editable install imports src/purposeful
        else:
            self._work = tempfile.mkdtemp(prefix="purposeful-build-")
            target = Path(self._work, f"{MODULE}{suffix}")
        why = _compile(root / SOURCE, target)
        if why is not None:
            _say(f"{why}: building pure Python (the guard reads through Python, slower)")
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(target)] = f"purposeful/{target.name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        work = getattr(self, "_work", None)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
