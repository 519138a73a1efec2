"""The report's renderers: a `Report` as plain text, or as one HTML page with an SVG chart.

The report is built here once as a document (`purposeful._shared.document`): a summary,
then a section per table, each a heading, the table (or a line saying it is empty) and the
notes that go with it. `render_text` and `render_html` hand that document to the library's
one renderer; `render_would_deny_gate` is the check before turning on enforce mode. With a
subject asked about, a page shows only the sources and the answer about that person: what
other people's scopes say stays out of a page that may be handed on.

The document is *exact*: its names come from files anyone could have written, so every
format shows a control character, a line break or a bidirectional override in them as its
escape, and the renderer escapes the rest for its format.

What this module must not do: escape anything or write markup itself (the renderer does,
by construction); print a subject identifier or a field's value (a `Report` holds
neither); compute anything the builder should (it only lays out what the `Report` says).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from ..._shared import document
from ..._shared.document import (
    BarChart,
    Block,
    Definitions,
    Document,
    Heading,
    Paragraph,
    Section,
    Table,
)
from ..conventions import SPAN_NAME, UNSCOPED_SPAN_NAME
from ..history import SubjectAccess, SubjectAnswer
from .building import BUSIEST_ACTORS, ActorRow, RefusalRow, Report
from .reading import LEDGER_INPUT, OTLP_JSON_INPUT

__all__ = ["render_html", "render_text", "render_would_deny_gate"]

_TITLE: Final = "purposeful audit report"
_NO_SCOPE: Final = "(outside any scope)"
_UNKNOWN: Final = "-"

#: The page's style: the library's own CSS, for the classes the renderer writes.
_STYLE: Final = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2433;
margin:2rem auto;max-width:72rem;padding:0 1rem;overflow-wrap:break-word}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
dl{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem;margin:.5rem 0}
dt{font-weight:600}dd{margin:0}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #d8dde6;vertical-align:top}
caption{text-align:left;font-weight:600;padding:.25rem 0;overflow-wrap:anywhere}
th{background:#f0f3f8}td.number{text-align:right;font-variant-numeric:tabular-nums}
p.note{color:#4a5568;margin:.3rem 0}
svg text{font:12px system-ui,sans-serif;fill:#1d2433}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}
svg{break-inside:avoid}}
""".strip()


def render_text(report: Report) -> str:
    """The report as plain text, for a terminal or a file; ends with a newline.

    With a subject asked about, only the sources and the answer: what other people's scopes
    say stays out of a page that may be handed on.
    """
    return document.render_text(_document(report, chart=False))


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page: inline CSS and SVG, no script, no links.

    The same tables as `render_text`, after a chart of scopes and refusals over time
    (left out of the answer about one person), whose counts are also a table at the end of
    the page: a screen reader announces a chart as one image.
    """
    return document.render_html(_document(report, chart=True))


def render_would_deny_gate(report: Report) -> str:
    """The would-deny decisions, for a check before turning on enforce mode; ends with a newline.

    Says there are none, or lists each (purpose, record type, field, reasons, count) under
    a heading giving the total.
    """
    if not report.would_deny:
        blocks: list[Block] = [
            Paragraph("Would-deny gate: passed, no monitor-mode read would be refused.")
        ]
    else:
        total = _plural(report.would_deny, "would-deny decision")
        blocks = _titled(
            f"Would-deny gate: failed, {total}: enforce mode would refuse the reads",
            Table(
                ("purpose", "record type", "field", "reasons", "count"),
                [_refusal_cells(row)[1:] for row in report.would_deny_rows],
                numeric={4},
            ),
            notes=[
                *(
                    [f"and {report.unitemised_would_deny} more not itemised (span event limit)"]
                    if report.unitemised_would_deny
                    else []
                ),
                f"Counted by decision: {_DECISIONS}.",
            ],
        )
    return document.render_text(Document(_TITLE, "en", sections=[Section(blocks)], exact=True))


def _document(report: Report, *, chart: bool) -> Document:
    """The report as a document; with *chart*, the timeline opens the main part.

    The answer about one person comes alone (with the sources it rests on): it may be
    handed on, and must not carry what other people's scopes say.
    """
    if report.subject is not None:
        sections = [_sources(report), _subject(report.subject)]
    else:
        sections = [
            _sources(report),
            _accesses(report),
            _refusals(report),
            _disclosures(report),
            _actors(report),
            _sites(report),
        ]
        if chart:
            sections.insert(0, _timeline(report))
            if report.timeline:
                sections.append(_timeline_table(report))
    return Document(
        _TITLE,
        "en",
        header=[Heading(1, _TITLE), Definitions(_summary(report))],
        sections=[Section(blocks) for blocks in sections],
        style=_STYLE,
        exact=True,  # names read from the inputs are shown as they are, never acted on
    )


def _titled(
    title: str, table: Table, *, notes: Iterable[str] = (), empty: str = "None."
) -> list[Block]:
    """A section: its heading, the table (or *empty*, when it has no rows), its notes."""
    return [
        Heading(2, title),
        table if table.rows else Paragraph(empty, note=True),
        *(Paragraph(note, note=True) for note in notes),
    ]


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else _UNKNOWN


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _scopes(count: int, one: str, many: str) -> str:
    """``1 scope <one>`` or ``<count> scopes <many>``."""
    return f"1 scope {one}" if count == 1 else f"{count} scopes {many}"


#: What a refusal counted in the report is: a decision, not each read it refused.
_DECISIONS: Final = (
    "one for each field a scope was refused (one for each person, where the field needs "
    "their consent), whatever the number of reads it refused or, in monitor mode, let "
    "through; one for each read outside any scope"
)


def _summary(report: Report) -> list[tuple[str, str]]:
    """The report's summary, as labelled values."""
    summary = [
        ("Period", f"{_time(report.first)} to {_time(report.last)} (UTC)"),
        (
            "Scopes",
            f"{report.scopes}"
            + (
                f", of which {report.unscoped_reads} outside any scope"
                if report.unscoped_reads
                else ""
            ),
        ),
    ]
    if report.subject is None:
        summary.append(
            (
                "Refusals",
                f"{report.denied} denied (enforce mode), "
                f"{report.would_deny} would-deny (monitor mode), counted by decision",
            )
        )
    if report.incomplete_scopes:
        scopes = _scopes(
            report.incomplete_scopes,
            "is missing parts of its record",
            "are missing parts of their record",
        )
        summary.append(
            (
                "Note",
                f"{scopes} (no last part, or a gap): a process ended abruptly, or a scope was "
                "still running. They may have read more than is recorded.",
            )
        )
    if report.ledgers_verified is not None and any(
        source.format == LEDGER_INPUT for source in report.sources
    ):
        summary.append(
            (
                "Ledgers",
                "verified against their signed checkpoints before this report"
                if report.ledgers_verified
                else "NOT verified: pass --public-key (or run purposeful audit verify) to "
                "check that no line was edited, deleted or inserted",
            )
        )
    if len({source.format for source in report.sources}) > 1:
        summary.append(
            (
                "Note",
                "both trace files and ledgers were read; a scope part found in both is "
                "counted once, from the ledger (the trace files' copies are listed under "
                "Sources, ignored).",
            )
        )
    return summary


#: The timeline's series, in the chart and in its table.
_TIMELINE_SERIES: Final = ("scopes", "denied", "would-deny")


def _timeline_bars(report: Report) -> list[tuple[str, tuple[int, int, int]]]:
    """(the hour or day, its counts) for each step of the timeline."""
    label = "%Y-%m-%d %H:00" if report.bucket == "hour" else "%Y-%m-%d"
    return [
        (bucket.start.strftime(label), (bucket.scopes, bucket.denied, bucket.would_deny))
        for bucket in report.timeline
    ]


def _timeline(report: Report) -> list[Block]:
    """Scopes, denied and would-deny decisions per hour or day, as a chart; the same counts are
    in a table at the end of the page (`_timeline_table`)."""
    title = f"Over time, per {report.bucket}"
    if not report.timeline:
        return [Heading(2, title), Paragraph("No scopes.", note=True)]
    return [
        Heading(2, title),
        BarChart(
            f"Scopes and refusals per {report.bucket} (UTC)",
            _TIMELINE_SERIES,
            _timeline_bars(report),
        ),
        Paragraph("The same counts are in a table at the end of this page.", note=True),
    ]


def _timeline_table(report: Report) -> list[Block]:
    """The chart's counts as a table, for whoever cannot see the chart: a screen reader
    announces a chart as one image, not its bars."""
    return [
        Heading(2, f"Over time, per {report.bucket}: the counts"),
        Table(
            (f"{report.bucket} (UTC)", *_TIMELINE_SERIES),
            [(label, *map(str, counts)) for label, counts in _timeline_bars(report)],
            caption=f"Scopes and refusals per {report.bucket} (UTC)",
            numeric={1, 2, 3},
        ),
    ]


def _sources(report: Report) -> list[Block]:
    return _titled(
        "Sources",
        Table(
            ("file", "format", "scopes", "ignored"),
            [
                (
                    source.path,
                    source.format,
                    str(source.scopes),
                    ", ".join(f"{count} {what}" for what, count in source.ignored) or "nothing",
                )
                for source in report.sources
            ],
            numeric={2},
        ),
        notes=[f"Only {SPAN_NAME} and {UNSCOPED_SPAN_NAME} spans are read."]
        if any(source.format == OTLP_JSON_INPUT for source in report.sources)
        else [],
    )


def _accesses(report: Report) -> list[Block]:
    return _titled(
        "Accesses by purpose, record type and actor",
        Table(
            ("purpose", "record type", "actor", "role", "scopes", "fields read"),
            [
                (
                    row.purpose or _NO_SCOPE,
                    row.record_type,
                    row.actor_id or _UNKNOWN,
                    row.actor_role or _UNKNOWN,
                    str(row.scopes),
                    ", ".join(row.fields_read) or "(none)",
                )
                for row in report.accesses
            ],
            numeric={4},
        ),
        notes=[
            "A scope counts once for each record type it read a field of, so these rows need "
            "not add up to Scopes; a scope that read no field (each read refused, or only "
            "questions asked) is not here, and is counted under Scopes and Busiest actors."
        ]
        if report.accesses
        else [],
    )


def _refusals(report: Report) -> list[Block]:
    notes = []
    if report.unitemised_denied or report.unitemised_would_deny:
        notes.append(
            f"{report.unitemised_denied} denied and {report.unitemised_would_deny} would-deny "
            "decisions are counted but not itemised: their spans had more events than the SDK "
            "keeps (OTEL_SPAN_EVENT_COUNT_LIMIT)."
        )
    if report.refusals:
        notes.append(f"Counted by decision: {_DECISIONS}.")
    return _titled(
        "Denials and would-denies",
        Table(
            ("outcome", "purpose", "record type", "field", "reasons", "count"),
            [_refusal_cells(row) for row in report.refusals],
            numeric={5},
        ),
        notes=notes,
    )


def _refusal_cells(row: RefusalRow) -> tuple[str, ...]:
    return (
        row.outcome,
        row.purpose or _NO_SCOPE,
        row.record_type,
        row.field,
        ", ".join(row.reasons) or _UNKNOWN,
        str(row.count),
    )


def _disclosures(report: Report) -> list[Block]:
    return _titled(
        "Disclosures to other agencies",
        Table(
            (
                "recipient",
                "agreement",
                "purpose",
                "record type",
                "disclosures",
                "statements",
                "fields",
            ),
            [
                (
                    row.recipient,
                    row.agreement,
                    row.purpose or _NO_SCOPE,
                    row.record_type,
                    str(row.disclosures),
                    str(row.statements),
                    ", ".join(row.fields) or "(none)",
                )
                for row in report.disclosures
            ],
            numeric={4, 5},
        ),
    )


def _actors(report: Report) -> list[Block]:
    notes = []
    if report.busiest_actors:
        notes.append(
            "People are counted by pseudonym. A range means some scopes read more people than "
            "they list; after a key rotation one person has two pseudonyms."
        )
    if len(report.busiest_actors) >= BUSIEST_ACTORS:
        notes.append(
            f"The {BUSIEST_ACTORS} actors who read the most people; any other read fewer "
            "(Accesses, above, lists every actor who read a field)."
        )
    return _titled(
        "Busiest actors, by distinct people read",
        Table(
            ("actor", "roles", "scopes", "people", "scopes not saying whom"),
            [
                (
                    row.actor_id,
                    ", ".join(row.roles) or _UNKNOWN,
                    str(row.scopes),
                    _people(row),
                    str(row.scopes_without_subjects),
                )
                for row in report.busiest_actors
            ],
            numeric={2, 3, 4},
        ),
        notes=notes,
    )


def _people(row: ActorRow) -> str:
    if row.scopes_without_subjects == row.scopes:
        return "unknown"
    if row.people_at_least == row.people_at_most:
        return str(row.people_at_least)
    return f"{row.people_at_least}-{row.people_at_most}"


def _sites(report: Report) -> list[Block]:
    notes = []
    if report.unscoped_site_count > len(report.unscoped_sites):
        more = report.unscoped_site_count - len(report.unscoped_sites)
        notes.append(f"And {_plural(more, 'more call site')}, with fewer reads.")
    return _titled(
        "Reads outside any scope, by call site",
        Table(
            ("call site", "function", "fields read", "reads"),
            [
                (
                    f"{row.site[0]}:{row.site[2]}" if row.site else "(not recorded)",
                    row.site[1] if row.site else _UNKNOWN,
                    ", ".join(row.fields_read) or "(none)",
                    str(row.reads),
                )
                for row in report.unscoped_sites
            ],
            numeric={3},
        ),
        notes=notes,
    )


#: After the fields of an access that cannot say which were this person's.
_NOT_KNOWN: Final = " (not all recorded for this person)"
#: After the fields of an access whose record is missing parts.
_CUT_SHORT: Final = " +"
#: After a field read for the person under a decision enforce mode would have refused.
_WOULD_DENY: Final = " (read in monitor mode: enforce mode would refuse)"


def _fields_read(access: SubjectAccess) -> str:
    """An access's fields read, each read under a would-deny decision marked as such."""
    marked = set(access.fields_would_deny)
    shown = ", ".join(name + (_WOULD_DENY if name in marked else "") for name in access.fields_read)
    return (
        (shown or ("(none)" if access.fields_known else ""))
        + ("" if access.fields_known else _NOT_KNOWN)
        + (_CUT_SHORT if access.parts_missing else "")
    )


def _subject(answer: SubjectAnswer) -> list[Block]:
    return _titled(
        f"Who read the person with pseudonym {' or '.join(answer.pseudonyms)}",
        Table(
            (
                "opened",
                "closed",
                "actor",
                "role",
                "purpose",
                "fields read",
                "on behalf of",
                "shared",
            ),
            [
                (
                    _time(access.opened),
                    _time(access.closed),
                    access.actor_id or _UNKNOWN,
                    access.actor_role or _UNKNOWN,
                    access.purpose or _NO_SCOPE,
                    _fields_read(access),
                    _upstream(access.upstream),
                    "; ".join(disclosure.describe() for disclosure in access.disclosures),
                )
                for access in answer.accesses
            ],
        ),
        notes=_subject_notes(answer),
        empty=(
            "No scope lists this person. Before answering that nobody read their information, "
            "check that the identifier was given exactly as the services' records hold it "
            "(another spelling, letter case or a space makes another pseudonym), and that "
            "the files given cover the period asked about (Period, above)."
        ),
    )


def _upstream(upstream: tuple[str, str] | None) -> str:
    """Where a scope's request came from: the calling service and its scope id."""
    return "" if upstream is None else f"{upstream[0]} (scope {upstream[1]})"


def _subject_notes(answer: SubjectAnswer) -> list[str]:
    """Whether the answer about one person is complete, and if not, why."""
    notes = []
    if answer.overflowed_scopes:
        scopes = _scopes(
            answer.overflowed_scopes,
            "read more people than it lists",
            "read more people than they list",
        )
        notes.append(
            f"Incomplete: {scopes}, and may have read this person (or more of their "
            "information) too."
        )
    if answer.unlisted_scopes:
        scopes = _scopes(
            answer.unlisted_scopes,
            "lists none of the people it read",
            "list none of the people they read",
        )
        notes.append(
            f"Incomplete: {scopes}: configure purposeful.configure(pseudonymise=key.pseudonym) "
            "in the services."
        )
    if answer.scopes_without_subjects:
        scopes = _scopes(
            answer.scopes_without_subjects, "does not say whom it read", "do not say whom they read"
        )
        notes.append(f"Incomplete: {scopes} (written before purposeful recorded subjects).")
    if answer.non_pseudonym_scopes:
        scopes = _scopes(
            answer.non_pseudonym_scopes,
            "lists subjects that are not pseudonyms",
            "list subjects that are not pseudonyms",
        )
        notes.append(
            f"Incomplete: {scopes} (raw identifiers, or made without a pseudonym key), so "
            "they cannot be matched to this person and are not shown: configure "
            "purposeful.configure(pseudonymise=key.pseudonym) in the services."
        )
    if answer.unattributed_disclosures:
        count = answer.unattributed_disclosures
        disclosures = _plural(count, "disclosure")
        says = "does" if count == 1 else "do"
        notes.append(
            f"Incomplete: {disclosures} to other agencies {says} not say whose record "
            f"{'it was' if count == 1 else 'they were'} by pseudonym (made with no "
            "pseudonymiser, or before purposeful recorded it), and may have been of this "
            "person's: configure purposeful.configure(pseudonymise=key.pseudonym) in the "
            "services."
        )
    if answer.other_key_ids:
        notes.append(
            "Incomplete: some scopes hold pseudonyms made with keys not given "
            f"({', '.join(answer.other_key_ids)}); pass those key files too."
        )
    if answer.unitemised_scopes:
        scopes = _scopes(
            answer.unitemised_scopes,
            "lists this person but does not say which fields it read for whom",
            "list this person but do not say which fields they read for whom",
        )
        notes.append(
            f"Incomplete: {scopes} (written before purposeful recorded that): for those, "
            f"which of this person's information was read is not known."
        )
    if answer.incomplete_scopes:
        scopes = _scopes(
            answer.incomplete_scopes,
            "is missing parts of its record",
            "are missing parts of their record",
        )
        notes.append(
            f"Incomplete: {scopes} (a process ended abruptly, or a scope was still running), "
            "and may have read this person, or more of their information, in a part that "
            f"is not there. Those listing this person are marked{_CUT_SHORT}."
        )
    if answer.complete:
        notes.append(
            "Complete: every scope read says whom it read, and which of this person's "
            "information; every disclosure to another agency says whose record it was."
        )
    if any(access.disclosures for access in answer.accesses):
        notes.append(
            "Shared: what each scope disclosed of this person's records to other agencies, "
            "to whom and under which agreement."
        )
    notes.append(
        "Fields read are the fields read from this person's records; other people's are "
        "never shown."
    )
    if answer.accesses:
        notes.append(
            "A scope lists the people whose information was handed to its code: a read "
            "refused is counted in the whole report (Refusals), never against a person. A "
            "field read in monitor mode under a decision enforce mode would have refused is "
            f"marked{_WOULD_DENY}: its use went against the declared policy. A decision on "
            "the purpose, role or basis holds for the whole scope; one on consent or care "
            "is made per person and names nobody, so it is marked only where the whole scope "
            "shows it was this person's (every person it lists reading the field was "
            "refused)."
        )
    return notes
