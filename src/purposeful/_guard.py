"""The guard: how reading a managed field becomes a decision.

This module owns everything between ``record.field`` and `Scope.read`:

- the state the hot path reads: the scope in force and ``(fields read for the last
  record's person, last record, fields the getter may note for it)``, two context
  variables, so asyncio tasks inherit them and threads do not;
- which scope is in force for a read (`effective_scope`): a scope opened inside an iterated
  generator covers the generator's own code only, never its consumer between iterations;
- the getters installed on record classes, generated per field, their source registered
  with `linecache` so a traceback shows the guard's own line;
- the exempt reads: a record kind's own construction (attrs' generated ``__init__``
  reading a value back to run its validator), registered by the kind (`exempt`);
- the slow path, for every read the hot path cannot answer;
- the ways around the getters common to every record kind, closed on each record class
  (`protect`): a subject that cannot be rewritten, a ``dir()`` without the storage, and
  state hooks that read through the guards; what is particular to a kind (attrs'
  validators, pydantic's serialisers) is closed by the kind, in `purposeful._kinds`;
- the refusal raised last, for a scope's exit to surface when a framework wrapped it
  (`_refusals`).

Which record policy an instance is decided under is `_policies`' to say. The guard decides
nothing itself (the scope does, or `_trail.read_unscoped` outside any scope) and never
formats, emits or stores a report. An error leaving the slow path that is not a refusal (an
interrupt raised while a consent checker was asked) keeps no locals of the frames below it:
they held subject ids.

The hot path, measured in ``benchmarks/run.py`` (``checked_read_ratio``, about 9× a plain
slotted attrs read on CPython 3.11), is the generated getter::

    seen, last, inline, notes = _fast()      # one context-variable get
    if last is obj:                          # the record read last
        if _policy in seen:                  # already read for it in this scope
            return obj.<storage>             # a specialised slot load
        if _policy in inline:                # decided for the class: note it here
            seen.add(_policy)
            if inline:                       # not emptied meanwhile by a close or a part
                return obj.<storage>
    elif _policy in inline and type(obj) is _cls:   # another record of the class
        if notes is FREE:                    # the scope's report goes nowhere
            return obj.<storage>
        if notes is not None and len(notes.held) < notes.room:
            seen = {_policy}                 # note (subject, fields) for the report
            notes.held.append((obj.<subject>, seen))
            _fast_set((seen, obj, inline, notes))
            if inline:
                return obj.<storage>
    value = _slow(_policy, obj)              # decided (and noted) there, or refused
    if value is not _read_it:
        return value
    return obj.<storage>

So the audit trail can say which fields of which person's records a scope read: a field
decided for the record's class (no consent needed: *inline*) is decided once per scope,
and each record read is noted once, in the scope's `Notes`, as its subject and the set of
its fields read, which the scope groups by person when it reports (`Scope._gather`); a
field that needs consent, and a class's first read, take the slow path, which decides and
notes per person. Later reads of the record are the first test alone. A scope whose
report goes nowhere (no sink) notes nothing (`FREE`). The notes are bounded
(`Notes.room`): a getter that finds no room takes the slow path, which groups them and
sends a part if one is due.

When the extension is built (``_speedups.c``; `COMPILED`), the getter is that same hot path
in C, calling a generated Python trampoline for the slow path so that ``read_slow`` still
finds the reader two frames up; ``PURPOSEFUL_PURE_PYTHON=1`` keeps the Python getter, the
reference the compiled one is tested against.

Where the value lives: a slotted record keeps it in the slot attrs made; the guard takes
the slot's name, and the slot's member descriptor is kept under a storage name made for
this process (``_pf<token>_<field>``), which ``dir()`` does not list. CPython specialises
the final read only when the storage is found on the class by name: reading it through the
descriptor's ``__get__`` instead adds about 45 ns, half again the whole guard. A record that
keeps values in its ``__dict__`` (``slots=False``) is read from there.
"""

from __future__ import annotations

import linecache
import os
import secrets
import sys
import traceback
import types
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from inspect import CO_ASYNC_GENERATOR, CO_GENERATOR
from typing import TYPE_CHECKING, Any

from ._policies import own_policy
from ._refusals import protocol_note, refusal_var
from ._seal import KEPT, SEALED, sealed_access
from ._trail import read_unscoped
from .errors import PurposefulError, SubjectChangeRefused, detached

if TYPE_CHECKING:
    from .records import FieldPolicy
    from .scope import Scope

# The hot path compiled (`_speedups.c`, built from source when a compiler is there), unless
# PURPOSEFUL_PURE_PYTHON is set; the generated Python getter is the fallback and the reference.
# The writer that seals a slotted field's value (`_seal`) is compiled there too.
_CompiledGuard: Callable[..., Callable[[Any], Any]] | None
_CompiledSealer: Callable[..., Callable[[Any, Any], None]] | None
if os.environ.get("PURPOSEFUL_PURE_PYTHON", "") not in ("", "0"):
    _CompiledGuard = _CompiledSealer = None
else:
    try:
        from ._speedups import Guard as _CompiledGuard
        from ._speedups import Sealer as _CompiledSealer
    except ImportError:
        _CompiledGuard = _CompiledSealer = None
#: True if the guards installed from now on are the compiled ones.
COMPILED = _CompiledGuard is not None

__all__ = [
    "COMPILED",
    "FREE",
    "NO_FAST",
    "STORAGE_PREFIX",
    "Notes",
    "add_context_driver",
    "effective_scope",
    "exempt",
    "fast_state",
    "install_getter",
    "iterated_generator_frame",
    "orphans",
    "owner_frame",
    "passthrough",
    "protect",
    "raw_access",
    "read_slow",
    "validates_on_init",
    "within",
]

#: The scope opened last in this context (possibly one that does not cover the code
#: running now: see `effective_scope`).
scope_var: ContextVar[Scope | None] = ContextVar("purposeful.scope", default=None)


class Notes:
    """A scope's notes of the records its getters read fast: ``held``, a list of (the
    record's raw subject, the set of its fields read), in the order met. ``room`` is how
    many it may hold before a getter must take the slow path (`Scope.read` sets it, so that
    the reads noted, each at most the class's managed fields, stay within ``flush_reads``).

    Not a list itself: a getter's frame holds it, and an error tracker that records frames'
    locals shows this object's repr, never the raw subject ids it holds."""

    __slots__ = ("held", "room")

    def __init__(self) -> None:
        self.held: list[tuple[object, set[object]]] = []
        self.room = 0

    def __repr__(self) -> str:
        return f"<purposeful notes: {len(self.held)} record(s)>"


#: The notes of a scope whose report goes nowhere: its getters read any record of a class
#: whose field is decided for the class without noting it.
FREE = Notes()
#: What the hot path reads: (the fields the scope read of the record read last in this
#: context, that record, the fields decided for its class that the getter may note by
#: itself, and where the getter notes a record of that class it meets next: the scope's
#: `Notes`, `FREE`, or None for "take the slow path"). See `Scope.read`.
FastState = tuple[
    set[object] | frozenset[object], object, set[object] | frozenset[object], Notes | None
]
fast_var: ContextVar[FastState] = ContextVar(
    "purposeful.fast", default=(frozenset(), None, frozenset(), None)
)
#: The hot path's one context-variable get.
fast_state = fast_var.get
#: The fast state of a context where nothing may be read fast.
NO_FAST: FastState = (frozenset(), None, frozenset(), None)

#: What the slow path returns for "allowed: read the value yourself": the getter's own
#: storage read is a specialised load, where the slow path would call a descriptor.
READ_IT = object()


#: Storage names are made per process, so no code can know one in advance.
STORAGE_PREFIX = f"_pf{secrets.token_hex(4)}_"

# Reads whose caller is one of these code objects are construction, not use: attrs'
# generated __init__ reads a value back to run the field's validator. Kept by id (an int
# hashes in constant time; a code object hashes its constants), and kept alive here.
_exempt_ids: set[int] = set()
_exempt_keep: list[types.CodeType] = []

#: Record classes whose generated __init__ reads a managed field back (to validate it): only
#: for their instances, and their subclasses' (which inherit that __init__), does the slow
#: path look at its caller's code (about 90 ns a read). `_validates` caches the answer.
#: Both hold classes weakly: a record class declared in a function and dropped must go.
#: `_validates` is keyed by the class's id (a plain dict lookup on the slow path), and an
#: entry leaves with its class.
_validating: weakref.WeakSet[type] = weakref.WeakSet()
_validates: dict[int, bool] = {}
_validates_refs: dict[int, weakref.ref[type]] = {}


def _validates_on_init(cls: type) -> bool:
    key = id(cls)
    found = _validates.get(key)
    if found is None:
        found = any(klass in _validating for klass in cls.__mro__)

        def forget(_: object, key: int = key) -> None:
            _validates.pop(key, None)
            _validates_refs.pop(key, None)

        _validates_refs[key] = weakref.ref(cls, forget)
        _validates[key] = found
    return found


# Code that drives a generator as a context manager: a scope opened inside such a generator
# is meant for the code in the caller's ``with`` block. Kept by id, as `_exempt_ids` (the
# code objects tested are the callers', of any size), the code kept alive as the value.
_context_drivers: dict[int, types.CodeType] = {}


def exempt(code: types.CodeType) -> None:
    """Let reads made directly by *code* through undecided (attrs' generated __init__)."""
    if id(code) not in _exempt_ids:
        _exempt_keep.append(code)
        _exempt_ids.add(id(code))


def add_context_driver(code: types.CodeType) -> None:
    """Treat generators resumed by *code* as context managers (see `iterated_generator_frame`).

    contextlib's are known; the pytest plugin adds pytest's fixture caller.
    """
    _context_drivers[id(code)] = code


def _known_drivers() -> None:
    import contextlib

    add_context_driver(contextlib._GeneratorContextManager.__enter__.__code__)
    add_context_driver(contextlib._AsyncGeneratorContextManager.__aenter__.__code__)


_known_drivers()


# Library code between a `use(...)` and the code that asked for it: an exit stack entering
# it for its caller. By id, as `_context_drivers`.
passthrough: dict[int, types.CodeType] = {}


def _known_passthrough() -> None:
    import contextlib

    for code in (
        contextlib.ExitStack.enter_context.__code__,
        contextlib.AsyncExitStack.enter_async_context.__code__,
    ):
        passthrough[id(code)] = code


_known_passthrough()


def owner_frame(frame: types.FrameType) -> types.FrameType:
    """The frame of the code that asked for a scope entered from *frame*: past exit stacks
    and generator-based context managers (a ``@contextmanager`` helper's body), which
    enter it on their caller's behalf."""
    current: types.FrameType | None = frame
    while current is not None:
        code = current.f_code
        caller = current.f_back
        if id(code) in passthrough:
            current = caller
        elif (
            code.co_flags & (CO_GENERATOR | CO_ASYNC_GENERATOR)
            and caller is not None
            and id(caller.f_code) in _context_drivers
        ):
            current = caller.f_back  # whoever entered the context manager
        else:
            return current
    return frame


def iterated_generator_frame(frame: types.FrameType) -> types.FrameType | None:
    """The frame of the iterated generator (sync or async) whose code entered a scope from
    *frame* (see `owner_frame`), else None.

    A scope opened there covers the generator's code only: between iterations its consumer
    runs in the same context, and must not read under the generator's purpose. A generator
    resumed by a context-manager driver (``contextlib.contextmanager``, a pytest fixture) is
    not iterated: its scope is for the caller's ``with`` block.
    """
    owner = owner_frame(frame)
    if not owner.f_code.co_flags & (CO_GENERATOR | CO_ASYNC_GENERATOR):
        return None
    caller = owner.f_back
    if caller is not None and id(caller.f_code) in _context_drivers:
        return None
    return owner


#: Scopes of iterated generators closed under them (an outer scope exited first), by the id
#: of the generator's frame, until the generator's own block exits: if the generator
#: resumes, its code is still lexically inside its scope, which refuses as closed.
orphans: dict[int, Scope] = {}


def _stack_depths() -> dict[int, int]:
    """Frame id → depth (0 innermost) for every frame on this thread's stack."""
    depths: dict[int, int] = {}
    frame: types.FrameType | None = sys._getframe(2)
    depth = 0
    while frame is not None:
        depths[id(frame)] = depth
        frame = frame.f_back
        depth += 1
    return depths


def effective_scope() -> Scope | None:
    """The scope that covers the code running now, or None.

    Without a generator's scope about, the scope opened last. Otherwise the innermost
    iterated generator whose frame is on this thread's stack decides:

    - running inside such a generator, the code is covered by the generator's scope, or by a
      scope opened within it; a scope its consumer opened (code the generator's scope did
      not cover, see `within`) does not cover it, and a generator scope closed under the
      generator (`orphans`) refuses as closed;
    - running outside any (the consumer between iterations, another thread or task), no
      generator's scope covers it, nor any scope opened within one.
    """
    scope = scope_var.get()
    if not orphans and (scope is None or not scope._generators):
        return scope
    depths = _stack_depths()
    chain: list[Scope] = []
    while scope is not None:
        chain.append(scope)
        scope = scope._outer
    running: Scope | None = None
    best = len(depths)
    for candidate in [*chain, *orphans.values()]:
        frame = candidate._frame
        depth = depths.get(id(frame), best) if frame is not None else best
        if depth < best:
            running, best = candidate, depth
    if running is not None:
        for candidate in chain:
            if candidate is running or within(candidate, running):
                return candidate
        return running
    for candidate in chain:
        if candidate._frame is None and not any(
            c._frame is not None and within(candidate, c) for c in chain
        ):
            return candidate
    return None


def within(scope: Scope, other: Scope) -> bool:
    """True if *scope* was opened by code that *other* covered (directly or not)."""
    current = scope._within
    while current is not None:
        if current is other:
            return True
        current = current._within
    return False


def read_slow(policy: FieldPolicy, obj: object) -> Any:
    """The slow path of a managed field read: anything the hot path could not answer.

    Called from the generated getter, so the frame two above it (`_reader`) is the code that
    read the field.
    Returns the value, or `READ_IT` when the read is allowed and the getter may read it.
    """
    cls = type(obj)
    validates = _validates.get(id(cls))
    if validates is None:
        validates = _validates_on_init(cls)
    if validates and id(_reader().f_code) in _exempt_ids:
        return policy._raw(obj)
    if cls is not policy.record.cls:  # a subclass's instance, or super().field
        policy = own_policy(policy, cls)
    scope = scope_var.get()
    if orphans or (scope is not None and scope._generators):
        scope = effective_scope()
    try:
        if scope is not None and not scope._closed:
            value = scope.read(policy, obj)
            if not scope._closed:
                return value
            scope.raced_close()  # it closed on another thread while this read was decided
        if scope is not None:
            fast_var.set(NO_FAST)  # a note that raced the close must not outlive it here
        return read_unscoped(policy, obj, _reader(), closed=scope is not None)
    except BaseException as error:
        if not isinstance(error, PurposefulError):  # an interrupt (a consent checker's): the
            traceback.clear_frames(error.__traceback__)  # frames below keep no subject id
            raise
        caller = _reader()
        if caller.f_code.co_name.startswith("<") and caller.f_back is not None:
            caller = caller.f_back  # a comprehension inside the method that read
        note = protocol_note(caller.f_code)
        if note:
            error.add_note(note)
        detached(error)  # raised here, not in the frames below, which hold raw subject ids
        refusal_var.set(error)  # for the scope's exit, should a framework wrap it
        if scope is not None and not scope._closed:  # and where a thread pool's copy of the
            scope._refused = error  # context cannot hide it (its exit lets it go)
        elif scope is not None:  # closed while the read was decided: keep no id noted since
            scope.raced_close()
        raise error from error.__cause__


def _reader() -> types.FrameType:
    """For `read_slow`: the frame of the code that read the field, two above its own; or,
    when the getter was called with no Python frame above it (the first call of a greenlet,
    as SQLAlchemy's ``awaitable_attrs`` makes), the getter's own."""
    try:
        return sys._getframe(3)
    except ValueError:
        return sys._getframe(2)


def _getter_source(name: str, read: list[str], subject: str = "_subject(obj)") -> str:
    """The guard's source for one field. *read* is the statement(s) that return the stored
    value; *subject* the expression of the record's raw subject."""
    # the names below are the globals of the namespace it is made in, one per field: never
    # parameters, which a caller could pass (fget(record, _policy=another_field's))
    lines = [f"def {name}(obj, /):"]
    # the hot path proper: one get (unpacked: a specialised tuple unpack is cheaper than
    # subscripts), an identity test (the record read last) and one membership test (the
    # field already read for this record in this scope); then the inline note
    lines += ["    seen, last, inline, notes = _fast()", "    if last is obj:"]
    lines += ["        if _policy in seen:"]
    lines += [f"            {line}" for line in read]
    # inline: noted, then read only if the inline set is still not empty; a close (or a
    # part) empties it first, so a note racing either goes to the slow path, which refuses
    # (or lists the person for the next part)
    lines += [
        "        if _policy in inline:",
        "            seen.add(_policy)",
        "            if inline:",
    ]
    lines += [f"                {line}" for line in read]
    # another record of the class whose field is decided for the class: read freely when
    # the report goes nowhere, else noted (its subject, never held in a local: a traceback's
    # frames must not show it) with the same emptied-inline test after the note
    lines += ["    elif _policy in inline and type(obj) is _cls:", "        if notes is _free:"]
    lines += [f"            {line}" for line in read]
    lines += [
        "        if notes is not None and len(notes.held) < notes.room:",
        "            seen = {_policy}",
        f"            notes.held.append(({subject}, seen))",
        "            _fast_set((seen, obj, inline, notes))",
        "            if inline:",
    ]
    lines += [f"                {line}" for line in read]
    lines += ["    value = _slow(_policy, obj)", "    if value is not _read_it:"]
    lines += ["        return value"]
    lines += [f"    {line}" for line in read]
    return "\n".join(lines) + "\n"


def getter_namespace(policy: FieldPolicy) -> dict[str, Any]:
    """The globals a generated getter of *policy*'s field reads (`_getter_source`)."""
    return {
        "_policy": policy,
        "_slow": read_slow,
        "_read_it": READ_IT,
        "_fast": fast_state,
        "_fast_set": fast_var.set,
        "_free": FREE,
        "_cls": policy.record.cls,
        "_subject": policy.record._subject_raw,
    }


def _compile(source: str, filename: str, namespace: dict[str, Any]) -> None:
    """Run generated *source*, registering it with linecache so tracebacks show it."""
    exec(compile(source, filename, "exec"), namespace)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def slot_of(cls: type, name: str) -> types.MemberDescriptorType | None:
    """The member descriptor that stores *name* in a slotted class (or a base), else None."""
    for klass in cls.__mro__:
        attribute = klass.__dict__.get(name)
        if isinstance(attribute, types.MemberDescriptorType):
            return attribute
        if isinstance(attribute, property):  # a guard of a record base class
            storage = getattr(attribute.fget, "__purposeful_storage__", None)
            if storage is None:  # a subject's property reads its slot directly
                storage = getattr(attribute.fget, "__self__", None)
            if isinstance(storage, types.MemberDescriptorType):
                return storage
    return None


def install_getter(
    cls: type,
    policy: FieldPolicy,
    *,
    store: Callable[[Any, Any], None] | None = None,
    missing: Callable[[Any], Any] | None = None,
    compiled: bool = True,
) -> Callable[[Any], Any]:
    """Replace the field's class attribute with a guard property; return the undecided
    reader the library itself uses (`FieldPolicy._raw`).

    *store* writes a value assigned to the field, for a record kind whose assignments must
    keep its own bookkeeping (pydantic's set of fields set); default: the slot or
    ``__dict__``. *missing* gives the value of a ``__dict__`` field the instance does not
    hold yet, after the read was decided (an ORM's deferred column, loaded then); default:
    `AttributeError`. *compiled* false installs the generated Python getter even where the
    compiled one is there (`COMPILED`), to compare the two."""
    name = policy.name
    member = slot_of(cls, name)
    raw: Callable[[Any], Any]
    if member is not None:  # the slot holds the value sealed (`ManagedValue`)
        storage = f"{STORAGE_PREFIX}{name}"
        type.__setattr__(cls, storage, member)
        read = [f"return obj.{storage}.{SEALED}"]
        deleter = member.__delete__
        raw, setter = sealed_access(member)
        if _CompiledSealer is not None and compiled:
            setter = _CompiledSealer(member, KEPT)
    else:
        read = [
            "try:",
            f"    return obj.__dict__[{name!r}]",
            "except KeyError:",
            "    return _missing(obj)"
            if missing
            else f"    raise AttributeError({name!r}) from None",
        ]

        def setter(obj: Any, value: Any) -> None:
            obj.__dict__[name] = value

        def deleter(obj: Any) -> None:
            del obj.__dict__[name]

        raw = dict_reader(name)

    if store is not None:
        setter = store
    filename = f"<purposeful guard {cls.__module__}.{cls.__qualname__}.{name}>"
    namespace = getter_namespace(policy) | {"_missing": missing}
    # a slotted record's subject is read from its slot by a name made for this process, as
    # the field's value is (a specialised load); else (and a managed subject, which its
    # slot keeps sealed) through the kind's reader
    subject_member = None
    if member is not None and policy.record.subject not in policy.record.fields:
        subject_member = slot_of(cls, policy.record.subject)
    subject = "_subject(obj)"
    if subject_member is not None:
        subject_storage = f"{STORAGE_PREFIX}{policy.record.subject}"
        type.__setattr__(cls, subject_storage, subject_member)
        subject = f"obj.{subject_storage}"
    getter: Any
    if _CompiledGuard is not None and compiled:
        # the C getter answers what the hot path can; the rest goes through this trampoline,
        # whose frame stands where the Python getter's would for read_slow's _getframe(2)
        _compile(_trampoline_source(name), filename, namespace)
        getter = _CompiledGuard(
            policy,
            fast_var,
            namespace[name],
            READ_IT,
            member,
            name,
            missing,
            policy.record.cls,
            FREE,
            subject_member if subject_member is not None else policy.record._subject_raw,
            KEPT if member is not None else None,
        )
    else:
        _compile(_getter_source(name, read, subject), filename, namespace)
        getter = namespace[name]
        getter.__purposeful_field__ = policy
        getter.__purposeful_storage__ = member
    getter.__qualname__ = f"{cls.__qualname__}.{name}"
    guard = property(getter, setter, deleter, doc=f"Managed field {name!r} (purposeful).")
    type.__setattr__(cls, name, guard)
    return raw


def _trampoline_source(name: str) -> str:
    """The slow path of the compiled guard for one field: the compiled guard calls it with
    the record when the hot path cannot answer."""
    return (
        f"def {name}(obj, /):\n"
        "    # the compiled guard's slow path (its hot path is purposeful/_speedups.c)\n"
        "    return _slow(_policy, obj)\n"
    )


def dict_reader(name: str) -> Callable[[Any], Any]:
    """Read *name* from an instance ``__dict__``, as attribute access would."""

    def from_dict(obj: Any) -> Any:
        try:
            return obj.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    return from_dict


def guarded_field(attribute: object) -> FieldPolicy | None:
    """The policy behind a guard property installed by `install_getter`, else None."""
    return getattr(getattr(attribute, "fget", None), "__purposeful_field__", None)


def protect(
    cls: type,
    subject: str,
    *,
    slotted: bool,
    names_of: Callable[[type], list[str]],
) -> None:
    """Close the ways around the getters on a record class, whatever its kind: the subject
    cannot be changed once set, ``dir()`` hides the storage, and a ``__dict__`` record's
    state is read through the guards (*names_of* gives the fields of an instance's class).
    What is particular to a kind (its exempt constructor, its validators' errors, its
    serialisers) is closed by the kind (`purposeful._kinds`)."""
    _install_subject_guard(cls, subject)
    type.__setattr__(cls, "__dir__", _dir)
    if not slotted:  # object's own __getstate__ would hand out __dict__ undecided
        type.__setattr__(cls, "__getstate__", _make_getstate(names_of))
        type.__setattr__(cls, "__setstate__", _setstate)


def validates_on_init(cls: type) -> None:
    """Note that *cls*'s exempt constructor reads a managed field back (to validate it):
    only then does the slow path look at its caller's code."""
    _validating.add(cls)
    _validates.clear()  # a subclass's cached answer may change
    _validates_refs.clear()


def raw_access(
    cls: type, name: str, *, sealed: bool
) -> tuple[Callable[[Any], Any], Callable[[Any, Any], None]]:
    """(read, write) of *name*'s stored value on *cls*'s instances, with no guard: its slot,
    opened through the seal if *sealed* (a managed field's: `_seal`), else its ``__dict__``
    entry."""
    member = slot_of(cls, name)
    if member is None:

        def store_in_dict(obj: Any, value: Any) -> None:
            obj.__dict__[name] = value

        return dict_reader(name), store_in_dict
    if sealed:
        return sealed_access(member)
    return member.__get__, member.__set__


def _install_subject_guard(cls: type, subject: str) -> None:
    """Make the subject field refuse a change once set: consent, the audit trail and
    bundles follow it, so rewriting it would present one person's values as another's."""
    managed = cls.__dict__.get(subject)
    read, store = raw_access(cls, subject, sealed=guarded_field(managed) is not None)

    def set_subject(obj: Any, value: Any) -> None:
        try:
            current = read(obj)
        except AttributeError:  # construction, unpickling
            store(obj, value)
            return
        same = current is value or _equal(current, value)
        del current, value  # no subject id in this frame when it raises
        if not same:
            raise SubjectChangeRefused(
                f"{type(obj).__qualname__}.{subject} identifies the person the record is about "
                f"and cannot be changed once set: consent and the audit trail follow it. "
                f"Build a new record for the other person instead"
            )

    def delete_subject(obj: Any) -> None:
        raise SubjectChangeRefused(
            f"{type(obj).__qualname__}.{subject} identifies the person the record is about "
            f"and cannot be deleted"
        )

    if guarded_field(managed) is not None:  # a managed subject keeps its guard
        assert isinstance(managed, property)
        type.__setattr__(cls, subject, managed.setter(set_subject).deleter(delete_subject))
        return
    # the slot's own reader (a C method-wrapper, about 4× a plain read, where a Python
    # getter would cost 10×): the subject is read in every row of a list view
    type.__setattr__(cls, subject, property(read, set_subject, delete_subject))


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(type(a) is type(b) and a == b)
    except Exception:
        return False


def _dir(self: Any) -> list[str]:
    """dir() without the guard's storage names: code that walks dir() with getattr
    (debugger panes, serialisers) meets the guards only."""
    return [n for n in object.__dir__(self) if not n.startswith(STORAGE_PREFIX)]


def _make_getstate(names_of: Callable[[type], list[str]]) -> Callable[[Any], dict[str, Any]]:
    def __getstate__(self: Any) -> dict[str, Any]:
        """Pickling and copying a ``__dict__`` record read every field through its guard."""
        return {n: getattr(self, n) for n in names_of(type(self)) if _has(self, n)}

    return __getstate__


def _has(obj: Any, name: str) -> bool:
    """Whether the field is set, in a slot or in ``__dict__`` (a record may have both)."""
    member = slot_of(type(obj), name)
    if member is None:
        return name in obj.__dict__
    try:
        member.__get__(obj)
    except AttributeError:
        return False
    return True


def _setstate(self: Any, state: dict[str, Any]) -> None:
    for name, value in state.items():
        object.__setattr__(self, name, value)
