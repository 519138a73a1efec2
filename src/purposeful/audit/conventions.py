"""The names the audit trail writes: span names, attribute keys, event names, ledger keys.

These names are a contract. Tracing backends, dashboards and alerts query the span names,
attribute keys and event names (``docs/semantic-conventions.md`` lists each, and a test
holds that page and this module to each other); ledgers written years ago are read with
the ledger's keys and format names. Every module that writes or reads one of them, the span
sink, the ledger's writer and verifier and the report's readers, takes it from here, so a
name is spelled once.

Each group of keys is a namespace class, never instantiated: `SpanAttribute`,
`EventAttribute` and `DisclosureAttribute` for spans; `LineType`, `LedgerKey`, `DecisionKey`
and `SiteKey` for ledger lines.

What this module must not do: hold anything but names (no logic, no imports of the rest of
the library, so that anything may import it); rename or remove a name: within 0.x names are
only added, and a change is a changelog entry under *Changed* or *Removed*.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CLAIM_REFUSED_EVENT",
    "CONVENTIONS_EDITION",
    "DENIED_EVENT",
    "DISCLOSURE_EVENT",
    "LEDGER_FORMAT",
    "LEDGER_FORMATS",
    "SPAN_NAME",
    "SUBJECTS_FIELDS_SEPARATOR",
    "SUBJECTS_SEPARATOR",
    "TRACER_NAME",
    "UNSCOPED_SPAN_NAME",
    "WOULD_DENY_EVENT",
    "DecisionKey",
    "DisclosureAttribute",
    "EventAttribute",
    "LedgerKey",
    "LineType",
    "RequestAttribute",
    "SiteKey",
    "SpanAttribute",
    "UpstreamKey",
    "names",
]

# --- spans ----------------------------------------------------------------------------------

CONVENTIONS_EDITION: Final = 2
"""The edition of the span conventions the span sink writes. Edition 1 carried
``purposeful.subjects`` and ``purposeful.subjects.fields`` as ``string[]``; edition 2 carries
each as one string (`SUBJECTS_SEPARATOR`, `SUBJECTS_FIELDS_SEPARATOR`), and the readers take
both. The value of an attribute tells which edition wrote it: an OTLP array is edition 1."""
SUBJECTS_SEPARATOR: Final = " "
"""Between two pseudonyms in an edition-2 ``purposeful.subjects``: one space."""
SUBJECTS_FIELDS_SEPARATOR: Final = ","
"""Between two people's items in an edition-2 ``purposeful.subjects.fields``; within an
item, the positions are separated by spaces, as in edition 1."""

TRACER_NAME: Final = "purposeful"
"""The tracer's instrumentation scope name; its version is ``purposeful.__version__``."""
SPAN_NAME: Final = "purposeful.use"
"""The name of a purpose scope's span."""
UNSCOPED_SPAN_NAME: Final = "purposeful.unscoped_read"
"""The name of the span of a read outside any open scope."""

DENIED_EVENT: Final = "purposeful.denied"
"""The event of a refused read."""
WOULD_DENY_EVENT: Final = "purposeful.would_deny"
"""The event of a read that monitor mode let through although it would have been refused."""
DISCLOSURE_EVENT: Final = "purposeful.disclosure"
"""The event of a disclosure to a partner agency (`purposeful.disclose`) made in the scope."""
CLAIM_REFUSED_EVENT: Final = "purposeful.claim_refused"
"""The event a web service adds to the request's span when it refuses a purpose claim that
came with the request (`purposeful.web`), or, in monitor mode, records one it did not honour."""


class SpanAttribute:
    """The attribute keys of a ``purposeful.use`` or ``purposeful.unscoped_read`` span."""

    PURPOSE: Final = "purposeful.purpose"
    ACTOR_ID: Final = "purposeful.actor.id"
    ACTOR_ROLE: Final = "purposeful.actor.role"
    SCOPE_ID: Final = "purposeful.scope.id"
    SCOPE_PART: Final = "purposeful.scope.part"
    SCOPE_FINAL: Final = "purposeful.scope.final"
    UPSTREAM_SERVICE: Final = "purposeful.scope.upstream.service"
    UPSTREAM_SCOPE_ID: Final = "purposeful.scope.upstream.id"
    JUSTIFICATION: Final = "purposeful.justification"
    MODE: Final = "purposeful.mode"
    DECISIONS_COUNT: Final = "purposeful.decisions.count"
    DENIED_COUNT: Final = "purposeful.denied.count"
    WOULD_DENY_COUNT: Final = "purposeful.would_deny.count"
    WITHHELD_COUNT: Final = "purposeful.withheld.count"
    RECORD_TYPES: Final = "purposeful.record_types"
    FIELDS_READ: Final = "purposeful.fields_read"
    CATEGORIES: Final = "purposeful.categories"
    BASIS_KINDS: Final = "purposeful.basis.kinds"
    SCOPE_FAILED: Final = "purposeful.scope.failed"
    SUBJECTS: Final = "purposeful.subjects"
    SUBJECTS_FIELDS: Final = "purposeful.subjects.fields"
    SUBJECTS_COUNT: Final = "purposeful.subjects.count"
    SUBJECTS_OVERFLOW: Final = "purposeful.subjects.overflow"
    RECORD_TYPES_SUBJECT_COUNTS: Final = "purposeful.record_types.subject_counts"
    # OpenTelemetry's stable code.* attributes: the call site of reads outside any scope
    CODE_FILE_PATH: Final = "code.file.path"
    CODE_FUNCTION_NAME: Final = "code.function.name"
    CODE_LINE_NUMBER: Final = "code.line.number"


class EventAttribute:
    """The attribute keys of a ``purposeful.denied`` or ``purposeful.would_deny`` event."""

    RECORD_TYPE: Final = "purposeful.record_type"
    FIELD: Final = "purposeful.field"
    REASON_CODES: Final = "purposeful.reason_codes"
    SENSITIVITY: Final = "purposeful.sensitivity"
    CATEGORY: Final = "purposeful.category"
    READS_COUNT: Final = "purposeful.reads.count"


class DisclosureAttribute:
    """The attribute keys of a ``purposeful.disclosure`` event, and of the entries under
    ``disclosures`` on a ledger line.

    `purposeful.disclose` builds the mapping (the sharing package sits below audit, so it
    spells the keys itself); the span sink and the ledger pass it on as it is.
    """

    ID: Final = "purposeful.disclosure.id"
    AGREEMENT: Final = "purposeful.disclosure.agreement"
    RECIPIENT: Final = "purposeful.disclosure.recipient"
    RECORD_TYPE: Final = "purposeful.disclosure.record_type"
    FIELDS: Final = "purposeful.disclosure.fields"
    STATEMENTS_COUNT: Final = "purposeful.disclosure.statements.count"
    SUBJECT: Final = "purposeful.disclosure.subject"
    """The pseudonym of the person whose record was disclosed; absent without a
    pseudonymiser, or when it failed (and in inputs written before it was recorded)."""
    CARE_NEEDS: Final = "purposeful.disclosure.care.needs"
    """For a person who needs more care, the codes of what the purpose and the agreement
    needed first and was there (``second-reviewer``, ``safety-review``,
    ``representative-consent``); absent otherwise. Never the person's flags."""
    CARE_SECOND_REVIEWER: Final = "purposeful.disclosure.care.second_reviewer"
    """The id of the second staff member who approved, when one was needed."""
    CARE_SAFETY_REVIEW: Final = "purposeful.disclosure.care.safety_review"
    """The reference to the recorded safety review, when one was needed."""
    REQUEST: Final = "purposeful.disclosure.request"
    """For a subject-access bundle released to the person (IPP 6), the request's reference;
    absent on other disclosures."""
    RECORDS_COUNT: Final = "purposeful.disclosure.records.count"
    """For a subject-access bundle released to the person, how many records it holds."""


# --- the ledger -----------------------------------------------------------------------------

LEDGER_FORMAT: Final = "purposeful-ledger/2"
"""The ``format`` of the lines the ledger writes: a new ledger's header says it."""
LEDGER_FORMATS: Final = ("purposeful-ledger/1", LEDGER_FORMAT)
"""The formats the ledger reads and continues. Lines of ``purposeful-ledger/1`` do not say
per person which fields a scope read (no ``scope``, ``fields`` or ``reads``); a /1 ledger
continued by a newer version gets a ``format`` line saying that the lines after it are /2."""


class LineType:
    """The values of a ledger line's ``type``: what kind of line it is."""

    HEADER: Final = "header"
    SCOPE: Final = "scope"
    FORMAT: Final = "format"
    CHECKPOINT: Final = "checkpoint"
    RECOVERY: Final = "recovery"
    DISPOSAL: Final = "disposal"


class LedgerKey:
    """The keys of the lines of a ledger and of its checkpoint file."""

    TYPE: Final = "type"
    SEQ: Final = "seq"
    MAC: Final = "mac"
    TIME: Final = "time"
    # the header, and a format line
    FORMAT: Final = "format"
    CREATED: Final = "created"
    KEY: Final = "key"
    LEDGER: Final = "ledger"
    # a scope line
    ACTOR: Final = "actor"
    ROLE: Final = "role"
    PURPOSE: Final = "purpose"
    OPENED: Final = "opened"
    DECISIONS: Final = "decisions"
    FAILED: Final = "failed"
    SCOPE: Final = "scope"
    PART: Final = "part"
    FINAL: Final = "final"
    FIELDS: Final = "fields"
    SUBJECTS: Final = "subjects"
    READS: Final = "reads"
    SUBJECTS_COUNT: Final = "subjects_count"
    SUBJECTS_OVERFLOW: Final = "subjects_overflow"
    DISCLOSURES: Final = "disclosures"
    SITE: Final = "site"
    UPSTREAM: Final = "upstream"
    JUSTIFICATION: Final = "justification"
    # a checkpoint
    HEAD: Final = "head"
    SIGNATURE: Final = "signature"
    CLOSED: Final = "closed"
    # a recovery line: the torn last line a crash left, set aside to a side file
    FILE: Final = "file"
    SIZE: Final = "size"
    SHA256: Final = "sha256"
    TORN_SEQ: Final = "torn_seq"
    # a disposal line (IPP 9): evidence that a record past retention was disposed of
    STAGE: Final = "stage"
    DISPOSAL: Final = "disposal"
    SOURCE: Final = "source"
    RECORD: Final = "record"
    SUBJECT: Final = "subject"
    RULE: Final = "rule"
    KEPT_UNTIL: Final = "kept_until"
    METHOD: Final = "method"
    AUTHORITY: Final = "authority"


class DecisionKey:
    """The keys of one entry of a scope line's ``decisions``."""

    RECORD: Final = "record"
    FIELD: Final = "field"
    OUTCOME: Final = "outcome"
    REASONS: Final = "reasons"
    BASIS: Final = "basis"
    CATEGORY: Final = "category"
    SENSITIVITY: Final = "sensitivity"
    COUNT: Final = "count"


class RequestAttribute:
    """The attributes of the ``purposeful.claim_refused`` event (`purposeful.web`): codes and
    route templates only, never a header's content or a request's path."""

    CLAIM_REASON: Final = "purposeful.claim.reason"
    ROUTE: Final = "purposeful.route"
    CLAIM_OUTCOME: Final = "purposeful.claim.outcome"


class UpstreamKey:
    """The keys of a scope line's ``upstream``: the scope in another service it worked for."""

    SERVICE: Final = "service"
    SCOPE: Final = "scope"


class SiteKey:
    """The keys of a scope line's ``site``: where reads outside any scope came from."""

    FILE: Final = "file"
    FUNCTION: Final = "function"
    LINE: Final = "line"


def names(namespace: type) -> tuple[str, ...]:
    """The names a namespace class above holds, in the order written.

    For instance ``names(SpanAttribute)`` lists every span attribute key.
    """
    return tuple(
        value
        for attribute, value in vars(namespace).items()
        if attribute.isupper() and isinstance(value, str)
    )
