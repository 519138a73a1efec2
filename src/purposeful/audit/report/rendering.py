"""The report's renderers: a `Report` as plain text, or as one HTML page with an SVG chart.

`render_text` and `render_html` draw the same tables, built once here from the `Report`
(`_Table` is the table model both draw); `render_would_deny_gate` is the check before
turning on enforce mode. With a subject asked about, a page shows only the sources and the
answer about that person: what other people's scopes say stays out of a page that may be
handed on.

What this module must not do: print a name read from the inputs unescaped (HTML is escaped,
and control characters are shown as escapes, since a terminal would act on them); print a
subject identifier or a field's value (a `Report` holds neither); compute anything the
builder should (it only lays out what the `Report` says).
"""

from __future__ import annotations

import html
import textwrap
from datetime import datetime
from typing import Final

import attrs

from ..conventions import SPAN_NAME, UNSCOPED_SPAN_NAME
from ..history import SubjectAnswer
from .building import ActorRow, RefusalRow, Report
from .reading import OTLP_JSON_INPUT

__all__ = ["render_html", "render_text", "render_would_deny_gate"]

_NO_SCOPE: Final = "(outside any scope)"
_TEXT_WIDTH: Final = 96
_UNKNOWN: Final = "-"


@attrs.frozen
class _Table:
    """A titled table, which both renderers draw; notes follow it."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    empty: str = "None."


def _printable(text: str) -> str:
    """*text* with control and other unprintable characters shown as escapes.

    Names come from files anyone could have written: a terminal must not act on them.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else _UNKNOWN


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _scopes(count: int, one: str, many: str) -> str:
    """``1 scope <one>`` or ``<count> scopes <many>``."""
    return f"1 scope {one}" if count == 1 else f"{count} scopes {many}"


def _summary(report: Report) -> list[str]:
    lines = [
        f"Period: {_time(report.first)} to {_time(report.last)} (UTC)",
        f"Scopes: {report.scopes}"
        + (
            f", of which {report.unscoped_reads} outside any scope" if report.unscoped_reads else ""
        ),
    ]
    if report.subject is None:
        lines.append(
            f"Refused reads: {report.denied} denied (enforce mode), "
            f"{report.would_deny} would-deny (monitor mode)"
        )
    if report.incomplete_scopes:
        scopes = _scopes(
            report.incomplete_scopes,
            "is missing parts of its record",
            "are missing parts of their record",
        )
        lines.append(
            f"Note: {scopes} (no last part, or a gap): a "
            "process ended abruptly, or a scope was still running. They may have read more "
            "than is recorded."
        )
    formats = {source.format for source in report.sources}
    if len(formats) > 1:
        lines.append(
            "Note: both trace files and ledgers were read; a scope sent to both sinks is "
            "counted twice."
        )
    return lines


def _tables(report: Report) -> list[_Table]:
    """The report's tables, in order, for either renderer.

    The answer about one person comes alone (with the sources it rests on): it may be
    handed on, and must not carry what other people's scopes say.
    """
    if report.subject is not None:
        return [_sources_table(report), _subject_table(report.subject)]
    return [
        _sources_table(report),
        _accesses_table(report),
        _refusals_table(report),
        _actors_table(report),
        _sites_table(report),
    ]


def _sources_table(report: Report) -> _Table:
    return _Table(
        "Sources",
        ("file", "format", "scopes", "ignored"),
        tuple(
            (
                source.path,
                source.format,
                str(source.scopes),
                ", ".join(f"{count} {what}" for what, count in source.ignored) or "nothing",
            )
            for source in report.sources
        ),
        notes=(f"Only {SPAN_NAME} and {UNSCOPED_SPAN_NAME} spans are read.",)
        if any(source.format == OTLP_JSON_INPUT for source in report.sources)
        else (),
    )


def _accesses_table(report: Report) -> _Table:
    return _Table(
        "Accesses by purpose, record type and actor",
        ("purpose", "record type", "actor", "role", "scopes", "fields read"),
        tuple(
            (
                row.purpose or _NO_SCOPE,
                row.record_type,
                row.actor_id or _UNKNOWN,
                row.actor_role or _UNKNOWN,
                str(row.scopes),
                ", ".join(row.fields_read) or "(none)",
            )
            for row in report.accesses
        ),
    )


def _refusals_table(report: Report) -> _Table:
    notes = []
    if report.unitemised_denied or report.unitemised_would_deny:
        notes.append(
            f"{report.unitemised_denied} denied and {report.unitemised_would_deny} would-deny "
            "reads are counted but not itemised: their spans had more events than the SDK "
            "keeps (OTEL_SPAN_EVENT_COUNT_LIMIT)."
        )
    return _Table(
        "Denials and would-denies",
        ("outcome", "purpose", "record type", "field", "reasons", "count"),
        tuple(_refusal_cells(row) for row in report.refusals),
        notes=tuple(notes),
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


def _actors_table(report: Report) -> _Table:
    notes: tuple[str, ...] = ()
    if report.busiest_actors:
        notes = (
            "People are counted by pseudonym. A range means some scopes read more people than "
            "they list; after a key rotation one person has two pseudonyms.",
        )
    return _Table(
        "Busiest actors, by distinct people read",
        ("actor", "roles", "scopes", "people", "scopes not saying whom"),
        tuple(
            (
                row.actor_id,
                ", ".join(row.roles) or _UNKNOWN,
                str(row.scopes),
                _people(row),
                str(row.scopes_without_subjects),
            )
            for row in report.busiest_actors
        ),
        notes=notes,
    )


def _people(row: ActorRow) -> str:
    if row.scopes_without_subjects == row.scopes:
        return "unknown"
    if row.people_at_least == row.people_at_most:
        return str(row.people_at_least)
    return f"{row.people_at_least}-{row.people_at_most}"


def _sites_table(report: Report) -> _Table:
    notes: tuple[str, ...] = ()
    if report.unscoped_site_count > len(report.unscoped_sites):
        more = report.unscoped_site_count - len(report.unscoped_sites)
        notes = (f"And {_plural(more, 'more call site')}, with fewer reads.",)
    return _Table(
        "Reads outside any scope, by call site",
        ("call site", "function", "fields read", "reads"),
        tuple(
            (
                f"{row.site[0]}:{row.site[2]}" if row.site else "(not recorded)",
                row.site[1] if row.site else _UNKNOWN,
                ", ".join(row.fields_read) or "(none)",
                str(row.reads),
            )
            for row in report.unscoped_sites
        ),
        notes=notes,
    )


#: After the fields of an access that cannot say which were this person's.
_NOT_KNOWN: Final = " (not all recorded for this person)"
#: After the fields of an access whose record is missing parts.
_CUT_SHORT: Final = " +"


def _subject_table(answer: SubjectAnswer) -> _Table:
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
            "Complete: every scope read says whom it read, and which of this person's information."
        )
    notes.append(
        "Fields read are the fields read from this person's records; other people's are "
        "never shown."
    )
    return _Table(
        f"Who read the person with pseudonym {' or '.join(answer.pseudonyms)}",
        ("opened", "closed", "actor", "role", "purpose", "fields read"),
        tuple(
            (
                _time(access.opened),
                _time(access.closed),
                access.actor_id or _UNKNOWN,
                access.actor_role or _UNKNOWN,
                access.purpose or _NO_SCOPE,
                (", ".join(access.fields_read) or ("(none)" if access.fields_known else ""))
                + ("" if access.fields_known else _NOT_KNOWN)
                + (_CUT_SHORT if access.parts_missing else ""),
            )
            for access in answer.accesses
        ),
        notes=tuple(notes),
        empty="No scope lists this person.",
    )


def _text_table(table: _Table) -> list[str]:
    lines = ["", table.title, "-" * len(table.title)]
    if not table.rows:
        lines.append(table.empty)
    else:
        cells = [table.columns, *(tuple(map(_printable, row)) for row in table.rows)]
        widths = [max(len(row[i]) for row in cells) for i in range(len(table.columns))]
        for row in cells:
            padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
            lines.append("  ".join([*padded, row[-1]]).rstrip())
    lines.extend(textwrap.fill(note, width=_TEXT_WIDTH) for note in table.notes)
    return lines


def render_text(report: Report) -> str:
    """The report as plain text, for a terminal or a file; ends with a newline.

    With a subject asked about, only the sources and the answer: what other people's scopes
    say stays out of a page that may be handed on.
    """
    title = "purposeful audit report"
    lines = [title, "=" * len(title), *_summary(report)]
    for table in _tables(report):
        lines.extend(_text_table(table))
    return "\n".join(lines) + "\n"


def render_would_deny_gate(report: Report) -> str:
    """The would-deny reads, for a check before turning on enforce mode; ends with a newline.

    Says there are none, or lists each (purpose, record type, field, reasons, count) under
    a line giving the total.
    """
    if not report.would_deny:
        return "Would-deny gate: passed, no monitor-mode read would be refused.\n"
    table = _Table(
        f"Would-deny gate: failed, enforce mode would refuse {_plural(report.would_deny, 'read')}",
        ("purpose", "record type", "field", "reasons", "count"),
        tuple(_refusal_cells(row)[1:] for row in report.would_deny_rows),
        notes=(f"and {report.unitemised_would_deny} more not itemised (span event limit)",)
        if report.unitemised_would_deny
        else (),
    )
    return "\n".join(_text_table(table)[1:]) + "\n"


_CSS: Final = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2433;
margin:2rem auto;max-width:72rem;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #d8dde6;vertical-align:top}
th{background:#f0f3f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
p.note{color:#4a5568;margin:.3rem 0}.summary p{margin:.1rem 0}
svg text{font:12px system-ui,sans-serif;fill:#1d2433}
""".strip()
_COLOURS: Final = (("scopes", "#3f6fb5"), ("denied", "#c0392b"), ("would-deny", "#d99a00"))


def _escape(text: str) -> str:
    return html.escape(_printable(text), quote=True)


def _html_table(table: _Table) -> list[str]:
    parts = [f"<h2>{_escape(table.title)}</h2>"]
    if not table.rows:
        parts.append(f'<p class="note">{_escape(table.empty)}</p>')
    else:
        parts.append("<table><thead><tr>")
        parts.extend(f"<th>{_escape(column)}</th>" for column in table.columns)
        parts.append("</tr></thead><tbody>")
        for row in table.rows:
            cells = (
                f'<td class="n">{_escape(cell)}</td>'
                if cell.isdigit()
                else f"<td>{_escape(cell)}</td>"
                for cell in row
            )
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table>")
    parts.extend(f'<p class="note">{_escape(note)}</p>' for note in table.notes)
    return parts


def _bucket_label(report: Report, start: datetime) -> str:
    return start.strftime("%Y-%m-%d %H:00" if report.bucket == "hour" else "%Y-%m-%d")


def _chart(report: Report) -> str:
    """An inline SVG bar chart: scopes, denied and would-deny reads per hour or day."""
    width, height = 960, 300
    left, right, top, bottom = 48, 56, 34, 40
    plot_width, plot_height = width - left - right, height - top - bottom
    baseline = top + plot_height
    buckets = report.timeline
    highest = max(max(b.scopes, b.denied, b.would_deny) for b in buckets) or 1
    title = f"Scopes and refused reads per {report.bucket} (UTC)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{_escape(title)}">',
        f"<title>{_escape(title)}</title>",
    ]
    for fraction in (0.0, 0.5, 1.0):
        value = round(highest * fraction)
        y = baseline - plot_height * value / highest
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{"#8a94a6" if value == 0 else "#e3e7ee"}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    slot = min(plot_width / len(buckets), 72)  # a few buckets get bars, not walls
    bar = slot * 0.8 / len(_COLOURS)
    # Labels are about 7 px a character, with a gap: label only every so many slots.
    label_width = 7 * len(_bucket_label(report, buckets[0].start)) + 24
    label_every = -(-len(buckets) * label_width // plot_width)
    for i, bucket in enumerate(buckets):
        label = _bucket_label(report, bucket.start)
        counts = (bucket.scopes, bucket.denied, bucket.would_deny)
        for j, ((name, colour), value) in enumerate(zip(_COLOURS, counts, strict=True)):
            bar_height = plot_height * value / highest
            parts.append(
                f'<rect x="{left + i * slot + slot * 0.1 + j * bar:.2f}" '
                f'y="{baseline - bar_height:.2f}" width="{bar:.2f}" height="{bar_height:.2f}" '
                f'fill="{colour}"><title>{_escape(f"{label}: {value} {name}")}</title></rect>'
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{left + (i + 0.5) * slot:.1f}" y="{baseline + 18}" '
                f'text-anchor="middle">{_escape(label)}</text>'
            )
    for j, (name, colour) in enumerate(_COLOURS):
        parts.append(
            f'<rect x="{left + j * 120}" y="8" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + j * 120 + 18}" y="18">{_escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page: inline CSS and SVG, no script, no links.

    The same tables as `render_text`, after a chart of scopes and refused reads over time
    (left out of the answer about one person). Everything read from the inputs is escaped.
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>purposeful audit report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>purposeful audit report</h1>",
        '<div class="summary">',
        *(f"<p>{_escape(line)}</p>" for line in _summary(report)),
        "</div>",
    ]
    if report.subject is None:
        parts.append(f"<h2>Over time, per {report.bucket}</h2>")
        parts.append(_chart(report) if report.timeline else '<p class="note">No scopes.</p>')
    for table in _tables(report):
        parts.extend(_html_table(table))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
