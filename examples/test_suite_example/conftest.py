"""Shared set-up for Kōwhai Support's tests.

Puts this directory on ``sys.path`` so that ``kowhai_support`` imports however pytest is
started: from the repository root, from here, or with ``--import-mode=importlib``. In a real
project the package would be installed instead, and this file would hold shared fixtures.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# Shared CI machines are noisy: judge properties by what they find, not by how long one
# example took (hypothesis's default deadline is 200 ms per example).
from hypothesis import settings  # noqa: E402

settings.register_profile("kowhai", deadline=None)
settings.load_profile("kowhai")
