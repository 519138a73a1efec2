"""The global configuration, set in one place with `configure()`.

The configuration is an immutable `Configuration`; `configure()` swaps it whole, so a reader
on another thread sees either the old or the new one, never a mixture. A scope takes the
configuration in force when it opens and keeps it until it closes; nothing reads it on the
hot path.

`configured(...)` changes it for the block and only for the task or thread that entered the
block (a context variable): another thread's reads keep the process-wide configuration.
Inside such a block `configure()` changes the block's configuration, not the process's.
Tests restore it with `reset_configuration()`, or scope a change with `configured(...)`.
"""

from __future__ import annotations

import gc
import re
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any

import attrs

from ._hierarchy import lineage
from .bases import is_agency_kind
from .categories import CategoryRegistry
from .decisions import Mode
from .errors import ConfigurationError
from .purposes import Purpose, PurposeRegistry
from .typing import AuditSink, CareFlagSource, ConsentChecker, CorrectionSource, DisclosureLog

__all__ = [
    "Configuration",
    "configure",
    "configured",
    "declared_records",
    "get_configuration",
    "reset_configuration",
]


@attrs.frozen
class Configuration:
    """The settings every scope reads. Build it with `configure()`.

    Attributes:
        registry: the purposes scopes and records are checked against.
        categories: the data categories fields may name.
        mode: the default mode, `Mode.ENFORCE` unless set.
        purpose_modes: a mode per purpose id; it applies to the purpose's descendants too.
        record_modes: a mode per record class. It wins over `purpose_modes`, which wins over
            `mode`: record types are the unit of incremental adoption.
        sinks: where scope reports go.
        consent: the consent checker, or None (fields that need consent are then denied).
        pseudonymise: turns a subject identifier into a keyed pseudonym for scope reports
            (e.g. ``PseudonymKey.pseudonym``); None: reports carry counts only.
        disclosure_log: where `purposeful.disclose` records each disclosure (a sharing
            store, e.g. ``SQLiteSharingStore``); None: disclosing is refused.
        corrections: where `purposeful.disclose` finds the statements of correction that
            go with a field (a correction store); None: no statements.
        care_flags: where enforcement finds which people need more care
            (`purposeful.typing.CareFlagSource`); None: nobody is known to, and the care
            requirements of purposes and agreements are inert (`purposeful.care`).
        agency_kinds: what kind of agency this is under the sharing regimes whose statutes
            only some agencies may rely on (``"child-welfare-and-protection"`` under the
            Oranga Tamariki Act 1989 s 66C, ``"family-violence"`` under the Family Violence
            Act 2018 s 20); empty: none of them.
        flush_reads, flush_seconds: the bounds on what a crash can lose. A scope that is
            still open sends what it has read so far to the sinks, as a part of its report,
            once it holds *flush_reads* new reads (a person's field read for the first time
            in the scope) or its oldest unsent read is *flush_seconds* old, whichever comes
            first. Reads outside any scope are sent on the same bounds.
    """

    registry: PurposeRegistry
    categories: CategoryRegistry
    mode: Mode = Mode.ENFORCE
    purpose_modes: Mapping[str, Mode] = attrs.field(factory=dict)
    record_modes: Mapping[type, Mode] = attrs.field(factory=dict)
    sinks: tuple[AuditSink, ...] = ()
    consent: ConsentChecker | None = None
    pseudonymise: Callable[[str], str] | None = None
    disclosure_log: DisclosureLog | None = None
    corrections: CorrectionSource | None = None
    care_flags: CareFlagSource | None = None
    agency_kinds: frozenset[str] = frozenset()
    flush_reads: int = 1000
    flush_seconds: float = 1.0

    def mode_for(self, purpose: Purpose | None, record_type: type) -> Mode:
        """The mode a decision about *record_type* under *purpose* is made in."""
        for cls in record_type.__mro__:
            if cls in self.record_modes:
                return self.record_modes[cls]
        if purpose is not None and self.purpose_modes:
            for ident in lineage(purpose.id):
                if ident in self.purpose_modes:
                    return self.purpose_modes[ident]
        return self.mode


def _default() -> Configuration:
    return Configuration(registry=PurposeRegistry.default(), categories=CategoryRegistry.default())


_current: Configuration = _default()


class _Override:
    """A configuration `configured()` put in force for one task or thread, until its block
    ends. A task started inside the block copies the context, and with it this holder: once
    the block has ended, the holder is closed and the task falls back to what was in force
    outside the block."""

    __slots__ = ("config", "open", "outer")

    def __init__(self, config: Configuration, outer: _Override | None) -> None:
        self.config = config
        self.outer = outer
        self.open = True


_override: ContextVar[_Override | None] = ContextVar("purposeful.configuration", default=None)


def _open_override() -> _Override | None:
    override = _override.get()
    while override is not None and not override.open:
        override = override.outer
    return override


# Record classes declared so far, each with a function that re-checks it against a new
# registry. The function must not refer to the class, or the class would never be collected.
_RecordCheck = Callable[[type, PurposeRegistry | None, CategoryRegistry | None], None]
_record_checks: weakref.WeakKeyDictionary[type, _RecordCheck] = weakref.WeakKeyDictionary()
_UNSET: Any = object()


def get_configuration() -> Configuration:
    """The configuration in force in this task or thread."""
    override = _open_override()
    return _current if override is None else override.config


def _install(configuration: Configuration) -> None:
    global _current
    override = _open_override()
    if override is not None:
        override.config = configuration
    else:
        _current = configuration


_declaration_listeners: list[Callable[[type], None]] = []


def register_record_check(cls: type, check: _RecordCheck) -> None:
    """Remember a newly declared record class and how to re-check it against a new registry.

    Used by `records`; tells every declaration listener about *cls*.
    """
    _record_checks[cls] = check
    for listener in list(_declaration_listeners):
        listener(cls)


#: What forgets a cache of decisions made under a configuration (`_scope`'s plans): called
#: before a new registry or categories are checked against the declared records, so a
#: record class that only such a cache holds on to is gone by then.
_cache_resets: list[Callable[[], None]] = []


def on_new_registry(reset: Callable[[], None]) -> None:
    """Call *reset* whenever ``configure`` is given a registry or categories."""
    _cache_resets.append(reset)


def _check_records(registry: Any, categories: Any) -> None:
    """Check every declared record class against a new registry or categories. A class no
    longer referenced anywhere but in a cycle of its own is not declared any more: on a
    failure, collect such garbage once and check again."""
    for attempt in range(2):
        try:
            for cls, check in list(_record_checks.items()):
                check(cls, registry, categories)
            return
        except ConfigurationError:
            if attempt:
                raise
        cls = check = None  # type: ignore[assignment]  # no strong reference left here
        gc.collect()


def on_record_declared(listener: Callable[[type], None]) -> None:
    """Call *listener* with each record class declared from now on (used by `testing`)."""
    _declaration_listeners.append(listener)


def declared_records() -> tuple[type, ...]:
    """The record classes declared with `purposeful.record` that are still alive."""
    return tuple(_record_checks)


def configure(
    *,
    registry: PurposeRegistry = _UNSET,
    categories: CategoryRegistry = _UNSET,
    mode: Mode = _UNSET,
    purpose_modes: Mapping[str | Purpose, Mode] = _UNSET,
    record_modes: Mapping[type, Mode] = _UNSET,
    sinks: Iterable[AuditSink] = _UNSET,
    consent: ConsentChecker | None = _UNSET,
    pseudonymise: Callable[[str], str] | None = _UNSET,
    disclosure_log: DisclosureLog | None = _UNSET,
    corrections: CorrectionSource | None = _UNSET,
    care_flags: CareFlagSource | None = _UNSET,
    agency_kinds: Iterable[str] = _UNSET,
    flush_reads: int = _UNSET,
    flush_seconds: float = _UNSET,
) -> Configuration:
    """Change the global configuration; arguments left out keep their current value.

    Returns:
        The new configuration.

    Raises:
        ConfigurationError: a wrong type, a purpose mode for an unknown purpose, a sink or
            consent checker without the protocol's method, or a new purpose or category
            registry that lacks an entry an already-declared record uses; or, with a care
            flag source, a consent checker without ``consent_statuses_represented`` while
            some purpose counts only a representative's consent for flagged people. Nothing
            changes when it raises.
    """
    current = get_configuration()
    changes: dict[str, Any] = {}
    new_registry = current.registry if registry is _UNSET else registry
    if registry is not _UNSET:
        if not isinstance(registry, PurposeRegistry):
            raise ConfigurationError("registry= must be a purposeful.PurposeRegistry")
        changes["registry"] = registry
    if categories is not _UNSET:
        if not isinstance(categories, CategoryRegistry):
            raise ConfigurationError("categories= must be a purposeful.CategoryRegistry")
        changes["categories"] = categories
    if mode is not _UNSET:
        changes["mode"] = _mode(mode, "mode=")
    if purpose_modes is not _UNSET:
        _mapping(purpose_modes, "purpose_modes=", "{'funder-reporting': Mode.MONITOR}")
        resolved = {}
        for purpose_key, value in dict(purpose_modes).items():
            ident = purpose_key.id if isinstance(purpose_key, Purpose) else purpose_key
            new_registry.get(ident)
            resolved[ident] = _mode(value, f"purpose_modes[{ident!r}]")
        changes["purpose_modes"] = resolved
    elif registry is not _UNSET:
        for ident in current.purpose_modes:
            new_registry.get(ident)
    if record_modes is not _UNSET:
        _mapping(record_modes, "record_modes=", "{Client: Mode.MONITOR}")
        for key, value in dict(record_modes).items():
            if not (isinstance(key, type) and key in _record_checks):
                raise ConfigurationError(
                    f"record_modes keys must be classes declared with @purposeful.record, "
                    f"not {getattr(key, '__qualname__', type(key).__name__)}"
                )
            _mode(value, f"record_modes[{key.__qualname__}]")
        changes["record_modes"] = dict(record_modes)
    if sinks is not _UNSET:
        if isinstance(sinks, AuditSink) or not isinstance(sinks, Iterable):
            raise ConfigurationError(
                "sinks= takes a list of audit sinks, e.g. sinks=[my_sink]; use sinks=[] for none"
            )
        sinks = tuple(sinks)
        for sink in sinks:
            if not isinstance(sink, AuditSink):
                raise ConfigurationError(
                    f"{type(sink).__name__} is not an audit sink: it needs an emit(report) method"
                )
        changes["sinks"] = sinks
    if consent is not _UNSET:
        if consent is not None and not isinstance(consent, ConsentChecker):
            raise ConfigurationError(
                f"{type(consent).__name__} is not a consent checker: it needs a "
                f"consent_in_force(subject, purpose, at) method"
            )
        changes["consent"] = consent
    if pseudonymise is not _UNSET:
        if pseudonymise is not None:
            _check_pseudonymiser(pseudonymise)
        changes["pseudonymise"] = pseudonymise
    if disclosure_log is not _UNSET:
        if disclosure_log is not None and not isinstance(disclosure_log, DisclosureLog):
            raise ConfigurationError(
                f"{type(disclosure_log).__name__} is not a disclosure log: it needs "
                f"log(disclosure) and for_subject(subject) methods, as purposeful.sharing's "
                f"stores have"
            )
        changes["disclosure_log"] = disclosure_log
    if corrections is not _UNSET:
        if corrections is not None and not isinstance(corrections, CorrectionSource):
            raise ConfigurationError(
                f"{type(corrections).__name__} is not a correction store: it needs "
                f"for_subject(subject) and statements(subject, record, field) methods"
            )
        changes["corrections"] = corrections
    if care_flags is not _UNSET:
        if care_flags is not None and not isinstance(care_flags, CareFlagSource):
            raise ConfigurationError(
                f"{type(care_flags).__name__} is not a care flag source: it needs a "
                f"care_flags(subjects) method answering each person's flags"
            )
        changes["care_flags"] = care_flags
    if agency_kinds is not _UNSET:
        changes["agency_kinds"] = _agency_kinds(agency_kinds)
    if flush_reads is not _UNSET:
        if type(flush_reads) is not int or not 1 <= flush_reads <= _MAX_FLUSH_READS:
            raise ConfigurationError(
                f"flush_reads= takes a whole number of reads from 1 to {_MAX_FLUSH_READS:,}, "
                f"not {flush_reads!r}: how many new reads a scope may hold before it sends "
                f"them to the sinks"
            )
        changes["flush_reads"] = flush_reads
    if flush_seconds is not _UNSET:
        if (
            isinstance(flush_seconds, bool)
            or not isinstance(flush_seconds, int | float)
            or not _MIN_FLUSH_SECONDS <= flush_seconds <= _MAX_FLUSH_SECONDS
        ):
            raise ConfigurationError(
                f"flush_seconds= takes a number of seconds from {_MIN_FLUSH_SECONDS} to "
                f"{_MAX_FLUSH_SECONDS:,}, not {flush_seconds!r}: how long a read may wait "
                f"before it is sent to the sinks"
            )
        changes["flush_seconds"] = float(flush_seconds)
    if "registry" in changes or "categories" in changes:
        for reset in _cache_resets:
            reset()
        _check_records(changes.get("registry"), changes.get("categories"))
    new = attrs.evolve(current, **changes)
    if changes.keys() & {"registry", "consent", "care_flags"}:
        _check_care_consent(new)
    _install(new)
    return new


def _check_care_consent(config: Configuration) -> None:
    """Refuse, at `configure`, a consent checker that cannot say who gave a consent when
    care flags are kept and some purpose counts only a representative's consent for people
    with some flags: every such read would fail. (The read checks it again, as a backstop.)
    """
    checker, registry = config.consent, config.registry
    if config.care_flags is None or checker is None:
        return
    if callable(getattr(checker, "consent_statuses_represented", None)):
        return
    needing = sorted(
        purpose.id for purpose in registry if registry.representative_flags(purpose.id)
    )
    if needing:
        named = ", ".join(repr(ident) for ident in needing[:5])
        more = f" and {len(needing) - 5} more" if len(needing) > 5 else ""
        raise ConfigurationError(
            f"{type(checker).__name__} cannot say who gave a consent, and purposes {named}"
            f"{more} count only a representative's consent for some people, whose flags the "
            f"configured care flag source answers: use a purposeful consent store, or give "
            f"the checker a consent_statuses_represented(subjects, purpose, at) method "
            f"(purposeful.typing.RepresentedConsentSource). Nothing was changed"
        )


_PROBE = "purposeful-probe-subject-0001"
# A part of a report is bounded in size by flush_reads; the flusher wakes twice per
# flush_seconds, so very short bounds would keep a core busy.
_MAX_FLUSH_READS = 1_000_000
_MIN_FLUSH_SECONDS = 0.01
_MAX_FLUSH_SECONDS = 86_400


# Every character that is not `str.isalnum` (``\w`` matches isalnum and the underscore): the
# checks below run on every pseudonym of every report, and a regular expression takes half
# the time of a generator over the characters.
_NOT_ALNUM = re.compile(r"[\W_]+")


def _normal(text: str) -> str:
    """*text* casefolded, with only its `str.isalnum` characters."""
    return _NOT_ALNUM.sub("", text.casefold())


def holds_subject(subject: str, pseudonym: str) -> bool:
    """True if *pseudonym* visibly carries *subject* (the probe's test): as it is, in another
    case, with other punctuation, or reversed. A keyed hash of this long probe never does."""
    bare = _normal(subject)
    text = _normal(pseudonym)
    return subject in pseudonym or (bool(bare) and (bare in text or bare[::-1] in text))


def is_subject(subject: str, pseudonym: str) -> bool:
    """True if *pseudonym* is *subject* itself, in another case, with other punctuation, or
    reversed: checked for every pseudonym, where a substring test would fail keyed hashes of
    short ids by chance."""
    if pseudonym == subject:
        return True
    bare = _normal(subject)
    if not bare:
        return False
    if pseudonym.isascii() and pseudonym[:1].isalnum() and pseudonym[-1:].isalnum():
        # An ASCII pseudonym that starts and ends with a letter or digit normalises to text
        # that starts and ends with those, lower-cased: a keyed hash that cannot match is
        # told apart by its ends (~0.2 us) instead of normalising all of it (~1.2 us).
        ends = (pseudonym[0].lower(), pseudonym[-1].lower())
        if ends != (bare[0], bare[-1]) and ends != (bare[-1], bare[0]):
            return False
    return _normal(pseudonym) in (bare, bare[::-1])


def _check_pseudonymiser(pseudonymise: object) -> None:
    """Refuse a pseudonymiser that is not a function, or that lets the subject id through
    (``str``, an identity function, a prefix): its output goes into spans and the ledger."""
    advice = (
        "pseudonymise= takes a function from a subject id to a keyed pseudonym, such as "
        "purposeful.audit.load_pseudonym_key(...).pseudonym"
    )
    if not callable(pseudonymise) or isinstance(pseudonymise, type):
        raise ConfigurationError(advice)
    try:
        probe = pseudonymise(_PROBE)
    except Exception as exc:
        raise ConfigurationError(
            f"{advice}; it failed on a probe id ({type(exc).__name__})"
        ) from None
    if not isinstance(probe, str) or not probe:
        raise ConfigurationError(f"{advice}; it must return a non-empty str")
    if holds_subject(_PROBE, probe) or _normal(probe) in _normal(_PROBE):
        raise ConfigurationError(
            f"{advice}; it returned the subject id (or part of it) in its result, which would "
            f"put raw subject ids into spans and the ledger"
        )


def hides_subjects(pseudonymise: object) -> bool:
    """Whether *pseudonymise* is a function whose result does not visibly carry the subject
    id it is given (`holds_subject`), tried on a probe id, for a pseudonym function passed
    to one call rather than configured. One that raises for the probe (it knows only its
    own people) is taken as hiding them; a configured one is held to more
    (`configure` refuses it)."""
    if not callable(pseudonymise) or isinstance(pseudonymise, type):
        return False
    try:
        probe = pseudonymise(_PROBE)
    except Exception:  # one that knows only its own people: not told apart
        return True
    return (
        isinstance(probe, str)
        and bool(probe)
        and not holds_subject(_PROBE, probe)
        and _normal(probe) not in _normal(_PROBE)
    )


def _agency_kinds(value: object) -> frozenset[str]:
    """*value* as a set of agency kinds: lower-case words joined by hyphens."""
    advice = (
        'agency_kinds= takes a list of agency kinds, e.g. ["family-violence"]: lower-case '
        "words joined by hyphens, as the statutes in purposeful.bases name them; use [] for "
        "none"
    )
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ConfigurationError(advice)
    kinds = tuple(value)
    if not all(is_agency_kind(kind) for kind in kinds):
        raise ConfigurationError(advice)
    return frozenset(kinds)


def _mapping(value: object, where: str, example: str) -> None:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where} takes a mapping, e.g. {example}; use {{}} for none")


def _mode(value: object, where: str) -> Mode:
    if not isinstance(value, Mode):
        raise ConfigurationError(f"{where} must be purposeful.Mode.ENFORCE or Mode.MONITOR")
    return value


def reset_configuration() -> None:
    """Restore the default configuration: the default packs, enforce mode, no sinks."""
    global _current
    override = _open_override()
    if override is not None:
        override.config = _default()
    else:
        _current = _default()


@contextmanager
def configured(**changes: Any) -> Iterator[Configuration]:
    """Apply `configure(**changes)` for the duration of a ``with`` block, then restore.

    The change applies to the task or thread that entered the block only; `configure()`
    inside the block changes the block's configuration. With no arguments it restores
    whatever the block itself configured.
    """
    outer = _open_override()
    override = _Override(get_configuration(), outer)
    token = _override.set(override)
    try:
        yield configure(**changes)
    finally:
        override.open = False  # wherever the holder was copied to, it is over
        if _override.get() is override:
            # entered in another context: leave this one's holders alone
            with suppress(ValueError):
                _override.reset(token)
