"""The refusal behind a framework's error: what a scope's exit raises instead of it.

pydantic-core wraps a refusal raised inside a serialiser or a ``from_attributes`` read into
an error of its own, FastAPI wraps that in a ``ResponseValidationError``, and an
``asyncio.TaskGroup`` gathers its tasks' refusals into an exception group. A scope's exit
(`purposeful.scope.use`) finds the refusal behind such an error (`refusal_behind`) and
raises it, so a web integration answers a 403, not a 500. The getter notes each refusal it
raises (`refusal_var`, and the scope's own ``_refused``, which a thread pool's copy of the
context cannot hide). It also says what a refusal made by a protocol rather than an attribute
read means (`protocol_note`), and clears, as the refusal leaves a scope, the frames of the
attrs and dataclasses functions it came through (`clear_protocol_frames`).

What this module must not do: import the frameworks it names; keep a refusal (whose
traceback holds the frames that read) past the outermost scope's exit.
"""

from __future__ import annotations

import contextlib
import copy
import copyreg
import os
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from types import CodeType, TracebackType
from typing import TYPE_CHECKING

from .errors import PurposefulError, PurposeViolation

if TYPE_CHECKING:
    from .scope import Scope

__all__ = [
    "clear_protocol_frames",
    "clear_refusals_frames",
    "protocol_note",
    "refusal_behind",
    "refusal_var",
]

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
    wrapping error's ``__cause__``) and one raised by the input's own code as it is read
    (an attribute for ``from_attributes`` validation, a generator or ``map`` iterated, a
    mapping's items: only the refusal's class name and message survive, in a
    ``get_attribute_error``, ``iteration_error`` or ``mapping_type`` error; FastAPI's
    ``ResponseValidationError`` keeps those errors); either way the refusal raised last is
    the one.
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
        if f"{type(refusal).__name__}: {refusal}" in _failed_reads(error):
            return refusal
    return None


#: The types of the pydantic errors that quote an exception the input's own code raised as
#: it was read: a ``from_attributes`` read's, an iteration's (a generator, ``map``), a
#: mapping's (its ``__getitem__`` or ``__iter__``).
_READ_ERRORS = frozenset({"get_attribute_error", "iteration_error", "mapping_type"})


def _failed_reads(error: BaseException) -> str:
    """What *error* says its reads raised: the messages of its reads' errors
    (`_READ_ERRORS`: ``from_attributes`` reads', iterations', mappings'), never its
    inputs, which pydantic and FastAPI quote in their text (an endpoint's response holding
    a handled refusal's message is no refusal behind it); for an error that lists none (a
    serialiser's), its text."""
    listed = getattr(error, "errors", None)
    if not callable(listed):
        return str(error)
    try:
        found = listed()
    except Exception:  # not pydantic's errors(): what it lists is not known
        return ""
    said: list[str] = []
    for each in found if isinstance(found, list | tuple) else ():
        if isinstance(each, dict) and each.get("type") in _READ_ERRORS:
            context = each.get("ctx")
            said.append(str(each.get("msg", "")))
            said.append(str(context.get("error", "")) if isinstance(context, dict) else "")
    return "\n".join(said)


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    """The exceptions of *group* and of the groups in it."""
    found: list[BaseException] = []
    for error in group.exceptions:
        found += _leaves(error) if isinstance(error, BaseExceptionGroup) else [error]
    return found


#: The packages whose own functions read records whole (never imported to check): attrs',
#: the standard library's dataclasses, Django's (``model_to_dict`` builds its dict there) and
#: FastAPI's (``jsonable_encoder`` builds its list or dict there, record by record).
_LIBRARIES = ("attr", "attrs", "dataclasses", "django", "fastapi")
#: The guard's module, whose own state hooks read records as attrs' methods do.
_GUARD_FILE = os.path.join(os.path.dirname(__file__), "_guard.py")
_SEE = "see 'What is a read' in the docs"
#: What to tell someone whose refusal came from a protocol rather than an attribute read,
#: by the name of the function that read (attrs' and dataclasses', and the guard's own).
_PROTOCOL_NOTES = {
    "__eq__": "comparing records with == or != reads every managed field they hold",
    "__ne__": "comparing records with == or != reads every managed field they hold",
    "__hash__": "hashing a frozen record (a set, a dict key, `in` on a set) reads every "
    "managed field; key collections by the record's id instead",
    "__getstate__": "pickling or copying a record reads every managed field",
    "_getstate": "pickling or copying a record reads every managed field",
    "slots_getstate": "pickling or copying a record reads every managed field",
    "__lt__": "ordering records reads the managed fields compared",
    "__le__": "ordering records reads the managed fields compared",
    "__gt__": "ordering records reads the managed fields compared",
    "__ge__": "ordering records reads the managed fields compared",
    "evolve": "attrs.evolve reads every managed field to build the new record",
    "asdict": "attrs.asdict reads every managed field",
    "astuple": "attrs.astuple reads every managed field",
    "_asdict_inner": "dataclasses.asdict and astuple read every managed field",
    "_astuple_inner": "dataclasses.asdict and astuple read every managed field",
    "replace": "dataclasses.replace reads every managed field to build the new record",
    "model_to_dict": "Django's model_to_dict reads every field of the model",
    "jsonable_encoder": "FastAPI's jsonable_encoder reads every field of each record",
}


def protocol_note(code: CodeType) -> str:
    """A note for a refusal made by attrs' own methods and functions (``==``, ``hash()``,
    pickling, ``evolve``), whose explanation alone would suggest widening the field."""
    what = _PROTOCOL_NOTES.get(code.co_name)
    if what is None:
        return ""
    filename = code.co_filename
    library = filename.startswith(("<attrs generated", "<string>")) or any(
        _in_module(filename, name) for name in _LIBRARIES
    )
    if not (library or filename == _GUARD_FILE):
        return ""
    return (
        f"purposeful: read by {code.co_name}: {what}. Compare or key records by their ids "
        f"(a.client_id == b.client_id), or do it inside a scope whose purpose every managed "
        f"field allows; {_SEE}"
    )


def _in_module(filename: str, name: str) -> bool:
    """Whether *filename* is the source of the module *name* (imported already) or of one
    of its package's modules: an application's own file whose path merely holds the name (a
    project in ``/srv/django/``) is not."""
    module = sys.modules.get(name)
    if module is None:
        return False
    folders = getattr(module, "__path__", None)
    if folders is None:
        return filename == getattr(module, "__file__", None)
    return any(
        isinstance(folder, str) and filename.startswith(os.path.join(folder, ""))
        for folder in folders
    )


def clear_refusals_frames(*errors: BaseException | None) -> None:
    """`clear_protocol_frames` of every refusal in *errors* and what they lead to: their
    causes and contexts (``raise HTTPException(403) from refusal``, an error raised while
    handling one) and the members of exception groups, each error once."""
    seen: set[int] = set()
    waiting = [error for error in errors if error is not None]
    while waiting:
        error = waiting.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, PurposefulError):
            clear_protocol_frames(error.__traceback__)
        waiting += [e for e in (error.__cause__, error.__context__) if e is not None]
        if isinstance(error, BaseExceptionGroup):
            waiting += error.exceptions


#: The standard library's copying: ``copy.deepcopy`` of several records keeps, in its frames'
#: ``memo``, the state of each record it copied before a refused one (``_keep_alive``).
_COPYING = frozenset({copy.deepcopy.__code__.co_filename, copyreg.pickle.__code__.co_filename})


def clear_protocol_frames(traceback: TracebackType | None) -> None:
    """Clear the locals of the frames of *traceback* that are attrs', dataclasses', Django's
    and FastAPI's own functions a refusal came through (``asdict``, ``evolve``, ``replace``,
    ``model_to_dict``, ``jsonable_encoder``...), or the standard library's copying
    (``copy.deepcopy`` of a list of records): they hold what they built before the refused
    read, the raw subject id and the values read, which an error tracker recording locals
    would send on. The caller's own frames are left alone; a frame still running (never,
    once the refusal has left it) is skipped."""
    while traceback is not None:
        frame = traceback.tb_frame
        if protocol_note(frame.f_code) or frame.f_code.co_filename in _COPYING:
            with contextlib.suppress(RuntimeError):
                frame.clear()
        traceback = traceback.tb_next
