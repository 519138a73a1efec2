"""What every store shares: being open or closed, and a context manager that closes it.

The consent, correction and sharing stores hold different records; how they open, close
and refuse to work once closed is the same, and lives here.

What this module must not do: know what a store holds, or how a backend keeps it.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from ..errors import StoreClosed

__all__ = ["ClosableStore"]


class ClosableStore(ABC):
    """A store that can be closed: afterwards every method raises `StoreClosed`.

    Subclasses call `_check_open` first in each public method and implement `_close`.
    """

    def __init__(self) -> None:
        self._closed = False
        self._close_lock = threading.Lock()

    @abstractmethod
    def _close(self) -> None:
        """Release the backend's resources."""

    @property
    def closed(self) -> bool:
        """True once `close` has been called."""
        return self._closed

    def close(self) -> None:
        """Close the store; closing twice is harmless."""
        with self._close_lock:
            if not self._closed:
                self._closed = True
                self._close()

    def __enter__(self) -> Self:
        self._check_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed(
                f"this {type(self).__name__} is closed; open the store again to use it"
            )
