"""Hypothesis strategies for annotated records, purposes, actors and consent histories.

Importing this module registers every module-level purposeful record class, declared before
or after, with ``hypothesis.strategies.register_type_strategy``, so ``st.from_type(Client)``
and ``st.builds(...)`` inference use `records` too.

Needs hypothesis (``pip install purposeful[test]``). Building a record is not a read, so
strategies work outside any purpose scope.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import typing
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import attrs

try:
    from hypothesis import strategies as st
    from hypothesis.errors import HypothesisException
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "purposeful.testing.strategies needs hypothesis: pip install 'purposeful[test]'"
    ) from exc

from .._config import declared_records, get_configuration, on_record_declared
from ..actors import Actor
from ..consent.events import (
    RECORDABLE_STATES,
    Agency,
    ConsentEvent,
    ConsentMethod,
    Expresser,
    Incapacity,
    Person,
    Relationship,
    Representative,
)
from ..decisions import ConsentState
from ..errors import ConfigurationError
from ..purposes import Purpose, PurposeRegistry
from ..records import record_policy
from ..sensitivity import NZ_CLASSIFICATION, Level, Scale

__all__ = ["actors", "consent_histories", "purposes", "records"]

T = TypeVar("T")

DEFAULT_ROLES = ("caseworker", "team-leader", "intake-worker", "analyst", "reporting-job")

#: The subjects of `consent_histories` by default: few, so that histories interleave.
DEFAULT_SUBJECTS = ("C-1001", "C-1002", "C-1003")


def records(cls: type[T], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[T]:
    """Valid instances of the record class *cls*.

    Every ``__init__`` field with a type gets a value of that type. A field with a validator
    is left to hypothesis's own inference from attrs validators when it is required, and
    keeps its default otherwise, so validators are respected. A ``str`` subject identifier
    is never blank (a record without one is about nobody). Pass a strategy per field name
    to choose values yourself.

    Raises:
        AnnotationError: *cls* is not a purposeful record.
    """
    policy = record_policy(cls)
    klass = policy.cls
    if policy.kind == "django":  # no type hints: each field's strategy from its class
        return _built(cls, policy.subject, policy.names, fields, hints=_django_types(klass))
    if policy.kind != "attrs":  # a dataclass or a pydantic model: hypothesis infers the rest
        return _built(cls, policy.subject, policy.names, fields)
    attrs.resolve_types(klass)
    kwargs: dict[str, st.SearchStrategy[Any]] = {}
    for attribute in attrs.fields(klass):
        if not attribute.init:
            continue
        name = attribute.alias or attribute.name
        if name in fields or attribute.type is None or attribute.validator is not None:
            continue
        if attribute.name == policy.subject and attribute.type is str:
            kwargs[name] = st.text(min_size=1).filter(str.strip)
        else:
            kwargs[name] = st.from_type(attribute.type)
    unknown = set(fields) - {a.alias or a.name for a in attrs.fields(klass)}
    if unknown:
        raise ConfigurationError(
            f"records({cls.__qualname__}) got strategies for unknown fields: "
            f"{', '.join(sorted(unknown))}"
        )
    kwargs.update(fields)
    return st.builds(cls, **kwargs)


def purposes(
    registry: PurposeRegistry | None = None, *, within: Purpose | str | None = None
) -> st.SearchStrategy[Purpose]:
    """Purposes of *registry* (default: the configured one), optionally only *within* one
    purpose (itself and its descendants).

    Raises:
        UnknownPurpose: *within* is not in the registry.
    """
    registry = registry if registry is not None else get_configuration().registry
    choices = list(registry)
    if within is not None:
        root = registry.resolve(within)
        choices = [p for p in choices if root.covers(p)]
    return st.sampled_from(choices)


def actors(
    *,
    roles: st.SearchStrategy[str] | None = None,
    clearance: Level | st.SearchStrategy[Level] | None = None,
    scale: Scale = NZ_CLASSIFICATION,
) -> st.SearchStrategy[Actor]:
    """Actors with a staff-like id, a role and a clearance.

    Args:
        roles: a strategy for roles; default: a few common social-service roles.
        clearance: a fixed level or a strategy; default: any level of *scale*.
        scale: the scale clearances come from when *clearance* is not given.
    """
    clearances: st.SearchStrategy[Level]
    if clearance is None:
        clearances = st.sampled_from(list(scale))
    elif isinstance(clearance, Level):
        clearances = st.just(clearance)
    else:
        clearances = clearance
    return st.builds(
        Actor,
        id=st.from_regex(r"staff-[0-9]{1,6}", fullmatch=True),
        role=roles if roles is not None else st.sampled_from(DEFAULT_ROLES),
        clearance=clearances,
    )


_EVIDENCE = ("FAM-2021-485-000123", "EPA-2019-0042", "doc:4471", "intake/2026-0117")
#: The kinds that can act on consent, given the recorded incapacity a personal-care
#: attorney needs (an attorney for property never can).
_ACTING = tuple(
    kind
    for kind in Relationship
    if kind not in (Relationship.PROPERTY_ATTORNEY, Relationship.ATTORNEY, Relationship.OTHER)
)
_REASONS = (
    "consent was obtained without a current notice",
    "the person lacked capacity when it was given",
    "recorded against the wrong purpose",
)
_EARLIEST = datetime(2015, 1, 1)
_INCAPACITY_FROM = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2035, 1, 1)
_MAX_GAP = timedelta(days=120)
_MAX_TERM = timedelta(days=400)


@st.composite
def _representatives(draw: st.DrawFn) -> Representative:
    """Representatives whose authority can act on consent; a personal-care attorney's
    incapacity is recorded from 2000, before any drawn event (`consent_histories` moves it,
    and the verification of the authority, to the event when they would come after it)."""
    relationship = draw(st.sampled_from(_ACTING))
    incapacity = None
    if relationship is Relationship.PERSONAL_CARE_ATTORNEY:
        incapacity = Incapacity(_INCAPACITY_FROM, draw(st.sampled_from(_EVIDENCE)))
    return Representative(
        relationship,
        evidence=draw(st.sampled_from(_EVIDENCE)),
        verified_by=draw(st.from_regex(r"staff-[0-9]{1,4}", fullmatch=True)),
        verified_at=draw(st.datetimes(_EARLIEST, _LATEST, timezones=st.just(UTC))),
        incapacity=incapacity,
    )


def _people() -> st.SearchStrategy[Expresser]:
    """The person, usually, or someone acting for them."""
    return st.one_of(st.just(Person()), st.just(Person()), _representatives())


def _agencies() -> st.SearchStrategy[Agency]:
    return st.builds(
        Agency,
        actor=st.from_regex(r"staff-[0-9]{1,4}", fullmatch=True),
        reason=st.sampled_from(_REASONS),
    )


#: One step of a history before it is made to fit: subject index, purpose, state, the gap
#: since the previous event, who expressed it, how, the notice, the grant's term and the
#: evidence.
_Step = tuple[
    int, str, ConsentState, timedelta, Expresser, Agency, ConsentMethod, str, timedelta | None,
    str | None,
]  # fmt: skip


def consent_histories(
    subjects: Sequence[str] | st.SearchStrategy[str] | None = None,
    purposes: Iterable[Purpose | str] | None = None,
    *,
    registry: PurposeRegistry | None = None,
    within: Purpose | str | None = None,
    start: datetime | None = None,
    min_size: int = 0,
    max_size: int = 20,
) -> st.SearchStrategy[list[ConsentEvent]]:
    """Valid consent histories: lists of `ConsentEvent` in the order they are recorded.

    Times never go backwards (several events may share an instant) and are timezone-aware
    UTC. Every state appears: grants (some with an expiry after the grant), refusals,
    withdrawals by the person or a `Representative` (of a kind that can act on consent,
    with an evidence reference and its verification), revocations by the `Agency`, and
    renewals, only where the latest earlier event for the same subject and purpose is a
    grant (expired or not). So every history records into an empty store without error,
    given a store that takes events dated ahead (times run to 2035; a store refuses events
    more than its ``future_skew`` ahead of its clock, so make the store with, say,
    ``future_skew=timedelta(days=365 * 20)``).
    Event ids are fresh unique ids.

    Args:
        subjects: the subject ids to use, or a strategy of valid ones (non-empty text; a
            few are drawn per history); default: `DEFAULT_SUBJECTS`, few so that subjects
            interleave.
        purposes: the purposes events may be about (purposes or ids of *registry*);
            default: every purpose of the registry (or of *within*).
        registry: where purposes come from; default: the configured registry, now.
        within: only this purpose and its descendants.
        start: no event before this instant (timezone-aware); default: drawn from
            2015-2035.
        min_size, max_size: how many events.

    Raises:
        UnknownPurpose: a purpose or *within* is not in the registry.
        ConfigurationError: no subjects or purposes to draw from, a naive *start*, or
            sizes that make no sense.
    """
    registry = registry if registry is not None else get_configuration().registry
    choices = list(registry) if purposes is None else [registry.resolve(p) for p in purposes]
    if within is not None:
        root = registry.resolve(within)
        choices = [p for p in choices if root.covers(p)]
    ids = sorted({p.id for p in choices})
    if not ids:
        raise ConfigurationError("consent_histories() has no purposes to draw from")
    pool: st.SearchStrategy[list[str]]
    if isinstance(subjects, st.SearchStrategy):
        pool = st.lists(subjects, min_size=1, max_size=3, unique=True)
        most = 3
    else:
        names = list(DEFAULT_SUBJECTS if subjects is None else subjects)
        if not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise ConfigurationError(
                "consent_histories(subjects=) takes non-empty subject id strings"
            )
        pool = st.just(names)
        most = len(names)
    starts: st.SearchStrategy[datetime]
    if start is None:
        starts = st.datetimes(_EARLIEST, _LATEST, timezones=st.just(UTC))
    elif isinstance(start, datetime) and start.tzinfo is not None:
        starts = st.just(start.astimezone(UTC))
    else:
        raise ConfigurationError("consent_histories(start=) must be a timezone-aware datetime")
    if not 0 <= min_size <= max_size:
        raise ConfigurationError("consent_histories() needs 0 <= min_size <= max_size")
    # Short and long gaps and terms both, so that expiries fall between events.
    gaps = st.one_of(st.just(timedelta(0)), _spans(_MAX_GAP))
    steps: st.SearchStrategy[_Step] = st.tuples(
        st.integers(0, most - 1),
        st.sampled_from(ids),
        st.sampled_from(sorted(RECORDABLE_STATES, key=lambda s: s.value)),
        gaps,
        _people(),
        _agencies(),
        st.sampled_from(list(ConsentMethod)),
        st.sampled_from(("unversioned", "2024-07", "2025-02")),
        st.none() | _spans(_MAX_TERM),
        st.none() | st.from_regex(r"form-[0-9]{4}", fullmatch=True),
    )

    @st.composite
    def histories(draw: st.DrawFn) -> list[ConsentEvent]:
        names = draw(pool)
        now = draw(starts)
        latest: dict[tuple[str, str], ConsentState] = {}
        events: list[ConsentEvent] = []
        for which, purpose, state, gap, person, agency, method, notice, term, evidence in draw(
            st.lists(steps, min_size=min_size, max_size=max_size)
        ):
            now += gap
            subject = names[which % len(names)]
            if state is ConsentState.RENEWED and not _grant(latest.get((subject, purpose))):
                # Renew the grant made last that is still the latest event for its subject
                # and purpose (expired or not); with none, it is a grant.
                granted = [pair for pair, last in latest.items() if last.in_force]
                if granted:
                    subject, purpose = granted[-1]
                else:
                    state = ConsentState.GIVEN
            by: Expresser = agency if state is ConsentState.REVOKED else person
            if isinstance(by, Representative) and by.incapacity and by.incapacity.at > now:
                by = attrs.evolve(by, incapacity=attrs.evolve(by.incapacity, at=now))
            if isinstance(by, Representative) and by.verified_at > now:
                by = attrs.evolve(by, verified_at=now)  # verified by the time they act
            events.append(
                ConsentEvent(
                    subject=subject,
                    purpose=purpose,
                    state=state,
                    at=now,
                    by=by,
                    method=method,
                    notice_version=notice,
                    expires_at=now + term if term is not None and state.in_force else None,
                    evidence=evidence,
                )
            )
            latest.pop((subject, purpose), None)  # keep the dict in order of last event
            latest[(subject, purpose)] = state
        return events

    return histories()


def _spans(longest: timedelta) -> st.SearchStrategy[timedelta]:
    """Positive durations up to *longest*: as often within a few days as anywhere up to it."""
    shortest = timedelta(microseconds=1)
    return st.timedeltas(shortest, timedelta(days=3)) | st.timedeltas(shortest, longest)


def _grant(state: ConsentState | None) -> bool:
    """True for given or renewed consent (expired or not): something a renewal can renew."""
    return state is not None and state.in_force


def _built(
    cls: type[T],
    subject: str,
    names: tuple[str, ...],
    fields: dict[str, st.SearchStrategy[Any]],
    *,
    hints: dict[str, Any] | None = None,
) -> st.SearchStrategy[T]:
    """Instances of a dataclass, pydantic, SQLAlchemy or Django record, each field inferred
    from its type (*hints*, or the class's own annotations)."""
    unknown = set(fields) - set(names)
    if unknown:
        raise ConfigurationError(
            f"records({cls.__qualname__}) got strategies for unknown fields: "
            f"{', '.join(sorted(unknown))}"
        )
    hints = _hints(cls, names) if hints is None else hints
    kwargs: dict[str, st.SearchStrategy[Any]] = {
        name: hint if isinstance(hint, st.SearchStrategy) else st.from_type(hint)
        for name, hint in hints.items()
        if name in names
    }
    if hints.get(subject) is str or isinstance(hints.get(subject), st.SearchStrategy):
        kwargs[subject] = st.text(min_size=1, max_size=20).filter(str.strip)
    kwargs.update(fields)
    return st.builds(cls, **kwargs)


def _hints(cls: type, names: tuple[str, ...]) -> dict[str, Any]:
    """The type of each field in *names*, without Annotated's metadata (a declaration); a
    SQLAlchemy column's ``Mapped[X]`` is X. Only the fields are resolved: a model's
    relationship may name a class not defined yet."""
    try:
        hints = typing.get_type_hints(cls)
    except NameError:
        hints = {}
        for klass in reversed(cls.__mro__):
            module = vars(sys.modules[klass.__module__]) if klass.__module__ in sys.modules else {}
            for name, annotation in inspect.get_annotations(klass).items():
                if name not in names:
                    continue
                try:
                    hints[name] = typing._eval_type(  # type: ignore[attr-defined]
                        typing.ForwardRef(annotation)
                        if isinstance(annotation, str)
                        else annotation,
                        dict(module),
                        dict(vars(klass)),
                    )
                except NameError:
                    continue
    found = {}
    for name, hint in hints.items():
        while getattr(typing.get_origin(hint), "__name__", "") == "Mapped":
            hint = typing.get_args(hint)[0]
        found[name] = hint
    return found


#: Django field classes (by name, so this module never imports Django) and their types.
_DJANGO_TYPES: dict[str, type] = {
    "CharField": str,
    "TextField": str,
    "IntegerField": int,
    "BooleanField": bool,
    "FloatField": float,
    "DateField": date,
    "DateTimeField": datetime,
}


def _django_types(cls: type) -> dict[str, Any]:
    """The type of each concrete field of a Django model that is not its automatic key, by
    the field's class or a base of it (``EmailField`` is a ``CharField``); a text field with
    a ``max_length`` gets text no longer than that. Fields of other classes keep their
    defaults."""
    found: dict[str, Any] = {}
    for field in cls._meta.concrete_fields:  # type: ignore[attr-defined]
        if field.auto_created or type(field).__name__.endswith("AutoField"):
            continue
        names = [k.__name__ for k in type(field).__mro__]
        kind = next((_DJANGO_TYPES[n] for n in names if n in _DJANGO_TYPES), None)
        if kind is str and field.max_length:
            found[field.attname] = st.text(max_size=field.max_length)
        elif kind is not None:
            found[field.attname] = kind
    return found


def _register(cls: type) -> None:
    # Hypothesis keeps registered types alive, so only module-level classes (which live as
    # long as their module anyway) are registered; a class defined inside a function still
    # works with st.from_type through hypothesis's own inference from its __init__.
    if "<locals>" in cls.__qualname__:
        return
    # Hypothesis checks the strategy as it registers it; a class it cannot build yet (untyped
    # fields, say) is left to hypothesis's own inference, and `records(cls)` says what is
    # wrong when a test asks for it.
    with contextlib.suppress(HypothesisException):
        st.register_type_strategy(cls, st.deferred(lambda: records(cls)))


for _cls in declared_records():
    _register(_cls)
on_record_declared(_register)
