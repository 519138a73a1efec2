"""The refusal behind a framework's error: what a scope's exit raises instead of it.

pydantic-core wraps a refusal raised inside a serialiser or a ``from_attributes`` read into
an error of its own, FastAPI wraps that in a ``ResponseValidationError``, and an
``asyncio.TaskGroup`` gathers its tasks' refusals into an exception group. A scope's exit
(`purposeful.scope.use`) finds the refusal behind such an error (`refusal_behind`) and
raises it, so a web integration answers a 403, not a 500. The getter notes each refusal it
raises (`refusal_var`, and the scope's own ``_refused``, which a thread pool's copy of the
context cannot hide).

What this module must not do: import the frameworks it names; keep a refusal (whose
traceback holds the frames that read) past the outermost scope's exit.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING

from .errors import PurposefulError, PurposeViolation

if TYPE_CHECKING:
    from .scope import Scope

__all__ = ["refusal_behind", "refusal_var"]

#: The refusal raised last in this context, so that a scope's exit can surface it when a
#: framework (pydantic-core) wrapped it into an error of its own (`refusal_behind`).
refusal_var: ContextVar[PurposefulError | None] = ContextVar("purposeful.refusal", default=None)
#: The errors a framework wraps a refusal in, by module and name (never imported to check).
_WRAPPERS = {
    ("pydantic_core._pydantic_core", "ValidationError"),
    ("pydantic_core._pydantic_core", "PydanticSerializationError"),
    ("fastapi.exceptions", "ResponseValidationError"),  # a response model's validation
}


def refusal_behind(error: BaseException, scopes: Iterable[Scope] = ()) -> PurposefulError | None:
    """The refusal a framework's *error* wraps, if this context raised it, or a read in one
    of *scopes* did (in a thread pool's copy of the context, say), else None.

    pydantic-core wraps an exception raised inside a serialiser (the refusal is the
    wrapping error's ``__cause__``) and one raised reading an attribute for
    ``from_attributes`` validation (only the refusal's class name and message survive, in
    a ``get_attribute_error``; FastAPI's ``ResponseValidationError`` keeps those errors);
    either way the refusal raised last is the one.
    """
    if isinstance(error, BaseExceptionGroup):  # an asyncio.TaskGroup's: of refusals alone
        leaves = _leaves(error)
        refused = [leaf for leaf in leaves if isinstance(leaf, PurposeViolation)]
        return refused[0] if refused and len(refused) == len(leaves) else None
    if (type(error).__module__, type(error).__qualname__) not in _WRAPPERS:
        return None
    candidates = [refusal_var.get(), *(scope._refused for scope in scopes)]
    for refusal in candidates:
        if refusal is None:
            continue
        cause: BaseException | None = error
        while cause is not None:
            if cause is refusal:
                return refusal
            cause = cause.__cause__ or cause.__context__
        if f"{type(refusal).__name__}: {refusal}" in str(error):
            return refusal
    return None


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    """The exceptions of *group* and of the groups in it."""
    found: list[BaseException] = []
    for error in group.exceptions:
        found += _leaves(error) if isinstance(error, BaseExceptionGroup) else [error]
    return found
