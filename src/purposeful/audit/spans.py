"""OpenTelemetry spans: one span per purpose scope, for the privacy team's tracing backend.

`SpanSink` is an `AuditSink`. It turns each `ScopeReport` into one span named
``purposeful.use`` (``purposeful.unscoped_read`` for reads outside any scope). A scope that
closes within the flush bounds gives one report, so one span, running from its opening to
its closing, whose parent is the span current when it closes. A long scope gives a span per
part, each from the scope's opening to when the part was sent, joined by
``purposeful.scope.id``. Attributes, events and status follow the stable contract in
``docs/semantic-conventions.md``: names and codes in the ``purposeful.`` namespace, counts,
pseudonyms with the fields read from each person's records, and one event per refused or
monitored decision. Every name comes from `purposeful.audit.conventions`.

The span is made when a report is sent, never on the hot path.

What this module must not do: put a field's value or a subject identifier on a span (a
`ScopeReport` holds neither, only counts and keyed pseudonyms, and nothing here reaches for
a record); spell a span, event or attribute name itself; import the OpenTelemetry SDK. It
uses the API only, so an application that configures no tracer provider gets no-op spans
and nothing else.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

import attrs
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from .._shared.checks import EPOCH
from .._version import __version__
from ..bases import LawfulBasis
from ..decisions import Decision, Outcome, ScopeReport
from ..errors import ConfigurationError
from .conventions import (
    DENIED_EVENT,
    DISCLOSURE_EVENT,
    SPAN_NAME,
    SUBJECTS_FIELDS_SEPARATOR,
    SUBJECTS_SEPARATOR,
    TRACER_NAME,
    UNSCOPED_SPAN_NAME,
    WOULD_DENY_EVENT,
    EventAttribute,
    SpanAttribute,
)

__all__ = ["SpanSink"]

#: How many refused fields the status description names before it says "and N more".
_NAMED_IN_STATUS: Final = 5

# Enum members as module globals: on Python 3.11 ``Outcome.ALLOWED`` costs ~60 ns a lookup,
# which was most of the time a 20-decision report took to summarise.
_ALLOWED: Final = Outcome.ALLOWED
_DENIED: Final = Outcome.DENIED
_WOULD_DENY: Final = Outcome.WOULD_DENY
_WITHHELD: Final = Outcome.WITHHELD

_MICROSECOND: Final = timedelta(microseconds=1)


class SpanSink:
    """An audit sink that sends each scope to OpenTelemetry as one span.

    Configure it with ``purposeful.configure(sinks=[SpanSink()])``. The span's name,
    attributes, events and status are a stable contract; see the semantic conventions page.

    Args:
        tracer_provider: the provider to get the ``purposeful`` tracer from; default: the
            global provider, including one set after the sink is made. With none set, the
            spans are no-ops.
        max_subjects: at most this many subject pseudonyms on a span (the lowest, sorted);
            ``purposeful.subjects.overflow`` says how many more there were.

    Raises:
        ConfigurationError: *tracer_provider* is not an OpenTelemetry `TracerProvider`.
    """

    __slots__ = ("_max_subjects", "_tracer")

    def __init__(
        self, tracer_provider: TracerProvider | None = None, *, max_subjects: int = 100
    ) -> None:
        if isinstance(max_subjects, bool) or not isinstance(max_subjects, int) or max_subjects < 0:
            raise ConfigurationError("SpanSink(max_subjects=) takes a whole number, 0 or more")
        self._max_subjects = max_subjects
        if tracer_provider is not None and not isinstance(tracer_provider, TracerProvider):
            raise ConfigurationError(
                f"SpanSink(tracer_provider=) takes an OpenTelemetry TracerProvider (such as "
                f"opentelemetry.sdk.trace.TracerProvider()), not {type(tracer_provider).__name__}"
            )
        self._tracer = trace.get_tracer(TRACER_NAME, __version__, tracer_provider)

    def emit(self, report: ScopeReport) -> None:
        """Make the span of *report*, a child of the span current on the closing thread."""
        # Once per report, never per read. Measured for a part of a list view with 17
        # pseudonyms (Python 3.11, CPU time on a shared 2-core machine): ~9 us to build the
        # attributes (18 us before each distinct set of fields was spelled once), ~30 us
        # for the SDK's span with them (an empty one: ~10 us, the rest is the SDK checking
        # each attribute and each listed pseudonym), ~47 us for the whole of this method.
        end = _nanoseconds(report.closed_at)
        counts = report.counts
        attributes = _span_attributes(report, self._max_subjects)
        span = self._tracer.start_span(
            SPAN_NAME if report.purpose is not None else UNSCOPED_SPAN_NAME,
            start_time=_nanoseconds(report.opened_at),
            attributes=attributes,
        )
        try:
            if not span.is_recording():
                return
            _keep_whole(span, attributes)
            refused: list[Decision] = []
            for index, decision in enumerate(report.decisions):
                count = counts[index] if counts else 1
                if decision.outcome is _DENIED:
                    refused.append(decision)
                    span.add_event(DENIED_EVENT, _event_attributes(decision, count), timestamp=end)
                elif decision.outcome is _WOULD_DENY:
                    span.add_event(
                        WOULD_DENY_EVENT, _event_attributes(decision, count), timestamp=end
                    )
            for disclosure in report.disclosures:
                span.add_event(DISCLOSURE_EVENT, dict(disclosure), timestamp=end)
            if refused:
                span.set_status(Status(StatusCode.ERROR, _status_description(refused)))
        finally:
            span.end(end_time=end)

    def __repr__(self) -> str:
        return f"<SpanSink tracer={type(self._tracer).__name__}>"


@attrs.frozen
class _Decided:
    """What a span says of its decisions alone: the same for every scope of one purpose and
    actor that decided the same fields (their decisions are the same objects, shared by the
    scopes' plan), so it is worked out once for each such set (`_decided`)."""

    decisions: tuple[Decision, ...]  # held: the ids in the cache's key stay theirs
    denied: int
    would_deny: int
    withheld: int
    record_types: frozenset[str]
    fields_read: frozenset[str]
    categories: tuple[str, ...]
    basis_kinds: tuple[str, ...]


#: Decision sets (by the ids of their decisions, and their counts) → what they say; bounded.
_DECIDED: dict[tuple[object, ...], _Decided] = {}
_DECIDED_KEPT: Final = 256


def _decided(decisions: tuple[Decision, ...], counts: tuple[int, ...]) -> _Decided:
    """What *decisions* (with *counts*) say, from `_DECIDED` if a span said it lately."""
    key = (*map(id, decisions), counts)
    found = _DECIDED.get(key)
    if found is not None and found.decisions == decisions:  # the same objects, so ids hold
        return found
    denied = would_deny = withheld = 0
    record_types: set[str] = set()
    fields_read: set[str] = set()
    categories: set[str] = set()
    # the bases of allowed reads, by identity: decisions about one field share its basis
    bases: dict[int, LawfulBasis] = {}
    for index, decision in enumerate(decisions):
        outcome = decision.outcome
        record_types.add(decision.record_type)
        if outcome is _WITHHELD:
            withheld += 1
            continue
        if outcome is _DENIED:
            denied += counts[index] if counts else 1
            continue
        # read: the value was handed back (allowed, or let through by monitor mode)
        if outcome is _WOULD_DENY:
            would_deny += counts[index] if counts else 1
        elif outcome is _ALLOWED and decision.basis is not None:
            bases[id(decision.basis)] = decision.basis
        fields_read.add(f"{decision.record_type}.{decision.field}")
        if decision.category is not None:
            categories.add(decision.category.id)
    found = _Decided(
        decisions,
        denied,
        would_deny,
        withheld,
        frozenset(record_types),
        frozenset(fields_read),
        _distinct(categories),
        _distinct(b.kind.value for b in bases.values()),
    )
    if len(_DECIDED) >= _DECIDED_KEPT:
        _DECIDED.clear()
    _DECIDED[key] = found
    return found


def _span_attributes(report: ScopeReport, max_subjects: int) -> dict[str, AttributeValue]:
    """The span's attributes: names, codes, counts and pseudonyms only; what the decisions
    say is worked out once per set of decisions (`_decided`)."""
    decided = _decided(report.decisions, report.counts)
    record_types: set[str] = set(decided.record_types)
    fields_read: set[str] = set(report.fields_read)
    fields_read |= decided.fields_read
    reads = report.reads
    # people mostly share a few sets of fields read: each distinct set once (a frozenset
    # keeps its hash, so this costs a lookup per person)
    try:
        distinct_reads: Collection[Collection[str]] = set(reads.values())
    except TypeError:  # a report made by hand, with lists
        distinct_reads = list(reads.values())
    fields_read.update(*distinct_reads)
    # the types of fields read that no decision of this part names (decided in an earlier one)
    record_types.update(name.rpartition(".")[0] for name in fields_read - decided.fields_read)
    fields = _distinct(fields_read)
    types = _distinct(record_types)
    attributes: dict[str, AttributeValue] = {}
    if report.purpose is not None:
        attributes[SpanAttribute.PURPOSE] = report.purpose.id
    if report.actor is not None:
        attributes[SpanAttribute.ACTOR_ID] = report.actor.id
        attributes[SpanAttribute.ACTOR_ROLE] = report.actor.role
    if report.mode is not None:
        attributes[SpanAttribute.MODE] = report.mode.value
    if report.upstream is not None:
        attributes[SpanAttribute.UPSTREAM_SERVICE] = report.upstream.service
        attributes[SpanAttribute.UPSTREAM_SCOPE_ID] = report.upstream.scope_id
    if report.justification is not None:
        attributes[SpanAttribute.JUSTIFICATION] = report.justification
    attributes[SpanAttribute.SCOPE_ID] = report.scope_id
    attributes[SpanAttribute.SCOPE_PART] = report.part
    attributes[SpanAttribute.SCOPE_FINAL] = report.final
    attributes[SpanAttribute.DECISIONS_COUNT] = len(report.decisions)
    attributes[SpanAttribute.DENIED_COUNT] = decided.denied
    attributes[SpanAttribute.WOULD_DENY_COUNT] = decided.would_deny
    attributes[SpanAttribute.WITHHELD_COUNT] = decided.withheld
    attributes[SpanAttribute.RECORD_TYPES] = types
    attributes[SpanAttribute.FIELDS_READ] = fields
    attributes[SpanAttribute.CATEGORIES] = decided.categories
    attributes[SpanAttribute.BASIS_KINDS] = decided.basis_kinds
    attributes[SpanAttribute.SCOPE_FAILED] = report.failed
    listed = sorted(report.subjects)[:max_subjects]
    positions = _positions(listed, reads, fields, distinct_reads)
    joined = _joined(listed)
    if joined is not None:  # edition 2: one string each, what the SDK checks cheaply
        attributes[SpanAttribute.SUBJECTS] = joined
        attributes[SpanAttribute.SUBJECTS_FIELDS] = SUBJECTS_FIELDS_SEPARATOR.join(positions)
    else:  # a pseudonym the string form cannot hold: the lists of edition 1
        attributes[SpanAttribute.SUBJECTS] = listed
        attributes[SpanAttribute.SUBJECTS_FIELDS] = positions
    attributes[SpanAttribute.SUBJECTS_COUNT] = report.subject_count
    attributes[SpanAttribute.SUBJECTS_OVERFLOW] = report.subject_count - len(listed)
    attributes[SpanAttribute.RECORD_TYPES_SUBJECT_COUNTS] = [
        report.subject_counts.get(record_type, 0) for record_type in types
    ]
    if report.site is not None:
        attributes[SpanAttribute.CODE_FILE_PATH] = report.site.file
        attributes[SpanAttribute.CODE_FUNCTION_NAME] = report.site.function
        attributes[SpanAttribute.CODE_LINE_NUMBER] = report.site.line
    return attributes


def _joined(listed: list[str]) -> str | None:
    """*listed* (sorted) as edition 2's ``purposeful.subjects``, pseudonyms separated by one
    space; None if one of them cannot be told apart in it: empty, holding a space, or (the
    first, which a ClickHouse map would read as an edition-1 array) starting with ``[``.
    A `PseudonymKey`'s pseudonyms (``keyid:hex``) always can."""
    if not listed:
        return ""
    joined = SUBJECTS_SEPARATOR.join(listed)
    first = listed[0]  # the lowest: an empty pseudonym sorts first
    if not first or first[0] == "[" or joined.count(SUBJECTS_SEPARATOR) != len(listed) - 1:
        return None
    return joined


def _positions(
    listed: list[str],
    reads: Mapping[str, Collection[str]],
    fields: tuple[str, ...],
    distinct: Collection[Collection[str]],
) -> list[str]:
    """For each listed pseudonym, the positions in *fields* of the fields read from that
    person's records, in order, as text (``"0 2 4"``). *distinct* holds the values of
    *reads*, each once: a set when they are hashable (a trail's frozensets, shared by the
    people read alike), so each is spelled once and each person costs a lookup."""
    if not listed:
        return []
    position = {name: str(i) for i, name in enumerate(fields)}
    if isinstance(distinct, set):
        spelled: dict[object, str] = {
            names: " ".join([position[name] for name in sorted(names)]) for names in distinct
        }
        spelled[()] = ""
        get = reads.get
        return [spelled[get(pseudonym, ())] for pseudonym in listed]
    texts = []  # a report made by hand, with lists
    for pseudonym in listed:
        names = reads.get(pseudonym, ())
        texts.append(" ".join([position[name] for name in sorted(names)]))
    return texts


def _keep_whole(span: Span, attributes: Mapping[str, AttributeValue]) -> None:
    """If the tracer provider cut edition 2's strings short (a span attribute length limit,
    ``OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT``), write the lists of edition 1 instead, each
    pseudonym an item of its own: a cut list of pseudonyms would name people wrongly."""
    subjects = attributes[SpanAttribute.SUBJECTS]
    fields = attributes[SpanAttribute.SUBJECTS_FIELDS]
    if type(subjects) is not str or type(fields) is not str:
        return
    recorded = getattr(span, "attributes", None)  # the SDK's: what it kept
    if not isinstance(recorded, Mapping):
        return
    kept = recorded.get(SpanAttribute.SUBJECTS)
    kept_fields = recorded.get(SpanAttribute.SUBJECTS_FIELDS)
    if (kept is None or kept == subjects) and (kept_fields is None or kept_fields == fields):
        return
    listed = subjects.split(SUBJECTS_SEPARATOR) if subjects else []
    span.set_attribute(SpanAttribute.SUBJECTS, listed)
    span.set_attribute(
        SpanAttribute.SUBJECTS_FIELDS, fields.split(SUBJECTS_FIELDS_SEPARATOR) if listed else []
    )


def _event_attributes(decision: Decision, count: int) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {
        EventAttribute.RECORD_TYPE: decision.record_type,
        EventAttribute.FIELD: decision.field,
        EventAttribute.REASON_CODES: decision.reason_codes,
        EventAttribute.SENSITIVITY: decision.sensitivity.name,
        EventAttribute.READS_COUNT: count,
    }
    if decision.category is not None:
        attributes[EventAttribute.CATEGORY] = decision.category.id
    return attributes


def _status_description(refused: list[Decision]) -> str:
    """Which fields were refused and why, e.g. ``refused Case.diagnosis (no-scope)``."""
    named = list(
        dict.fromkeys(f"{d.record_type}.{d.field} ({', '.join(d.reason_codes)})" for d in refused)
    )
    shown = "; ".join(named[:_NAMED_IN_STATUS])
    more = len(named) - _NAMED_IN_STATUS
    return f"refused {shown}" + (f"; and {more} more" if more > 0 else "")


def _distinct(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(names)))


def _nanoseconds(moment: datetime) -> int:
    """Nanoseconds since the Unix epoch, exactly (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _MICROSECOND * 1_000
