"""What the frames of a traceback keep: for tests that an error leaving purposeful (a refusal,
an interrupt, another's error) leaves no raw subject id or value in a frame's locals, where
an error tracker that records locals would find it."""

from __future__ import annotations

import os
from collections.abc import Callable
from types import CodeType, TracebackType

_LIBRARY = f"{os.sep}purposeful{os.sep}"


def _holding(
    tb: TracebackType | None, secrets: tuple[str, ...], looked_at: Callable[[CodeType], bool]
) -> list[str]:
    found = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if looked_at(code):
            for name, value in dict(tb.tb_frame.f_locals).items():
                try:
                    text = repr(value)
                except Exception:  # a value whose repr fails shows nothing either
                    continue
                if any(secret in text for secret in secrets):
                    found.append(f"{code.co_filename}:{code.co_name}.{name}")
        tb = tb.tb_next
    return found


def library_frames_holding(tb: TracebackType | None, *secrets: str) -> list[str]:
    """The frames of purposeful's own code (its modules and the getters it generates) in *tb*
    with one of *secrets* in a local's repr, as ``file:function.local``."""
    return _holding(
        tb,
        secrets,
        lambda code: _LIBRARY in code.co_filename or code.co_filename.startswith("<purposeful"),
    )


def frames_holding(tb: TracebackType | None, *secrets: str, but: str) -> list[str]:
    """Every frame of *tb* but those of the file *but* (the test's own) with one of *secrets*
    in a local's repr: the library's, the frameworks' and the standard library's."""
    return _holding(tb, secrets, lambda code: code.co_filename != but)
