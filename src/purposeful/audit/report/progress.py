"""A progress bar for a terminal, for reading large report inputs.

`ProgressBar` is a `purposeful.audit.report.Progress` callback: give it to `build_report`.

What this module must not do: print anything but the bar (no input, no name read from a
file); leave anything on the terminal once reading is done.
"""

from __future__ import annotations

from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """A progress bar for a terminal, ``reading  42% [############                ]``.

    Redrawn in place only when the percentage changes, and wiped when reading is done, so
    it leaves nothing behind. Give it a stream that is a terminal.

    Args:
        stream: where to draw it, usually ``sys.stderr``.
        width: how many characters the bar has.
    """

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self._stream = stream
        self._width = width
        self._shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        if percent == self._shown:
            return
        self._shown = percent
        filled = self._width * percent // 100
        line = f"reading {percent:3d}% [{'#' * filled}{' ' * (self._width - filled)}]"
        self._stream.write("\r" + line)
        if done >= total:
            self._stream.write("\r" + " " * len(line) + "\r")
        self._stream.flush()
