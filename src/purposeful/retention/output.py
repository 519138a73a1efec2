"""A `DueReport` as people and tools read it: text, CSV and JSON.

Each shows counts and record types, the rule that made records due and the holds that keep
them, never a value. Subject ids are never shown; with a pseudonym function
(``pseudonymise=``), each record past retention is listed on its own line under its
person's pseudonym, for the privacy team to match against the audit trail. Interrupted
disposals (begun in the ledger and never done) are rows of status ``interrupted``.

What this module must not do: show a subject id, a record's key or a hold's reason; build
text markup by hand (the text form is a `purposeful._shared.document` document).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from .._config import hides_subjects
from .._shared.document import Document, Heading, Paragraph, Section, Table, neutralise, render_text
from .._shared.nztime import long_date
from ..errors import ConfigurationError
from .due import Assessment, DueReport, Interrupted

__all__ = ["due_csv", "due_json", "due_text"]

_COLUMNS = ("status", "source", "record_type", "rule", "kept_until", "holds", "count")


def _holds(item: Assessment) -> str:
    return "; ".join(hold.describe() for hold in item.holds)


def _rows(report: DueReport, pseudonymise: Callable[[str], str] | None) -> list[dict[str, Any]]:
    """One row per group of records (or per record, with pseudonyms), due first."""
    rows: list[dict[str, Any]] = []
    if pseudonymise is not None:
        if not hides_subjects(pseudonymise):  # it would print the ids themselves
            raise ConfigurationError(
                "pseudonymise= takes a pseudonym function, such as PseudonymKey.pseudonym, "
                "whose result never holds the subject id; nothing was listed"
            )
        for item in sorted(report.items, key=lambda i: (i.status.value, i.source)):
            rows.append(_row(item, 1) | {"subject": pseudonymise(item.subject)})
    else:
        groups: Counter[tuple[str, str, str, str, str, str]] = Counter()
        for item in report.items:
            row = _row(item, 1)
            groups[tuple(str(row[c]) for c in _COLUMNS[:-1])] += 1  # type: ignore[index]
        for key, count in sorted(groups.items()):
            rows.append(dict(zip(_COLUMNS, (*key, count), strict=True)))
    interrupted: Counter[tuple[str, ...]] = Counter()
    for stopped in report.interrupted:
        if pseudonymise is not None:
            rows.append(_interrupted_row(stopped, 1) | {"subject": stopped.subject})
        else:
            found = _interrupted_row(stopped, 1)
            interrupted[tuple(str(found[c]) for c in _COLUMNS[:-1])] += 1
    for kind, count in sorted(interrupted.items()):
        rows.append(dict(zip(_COLUMNS, (*kind, count), strict=True)))
    for (source, record_type), count in sorted(report.kept.items()):
        rows.append(
            {"status": "kept", "source": source, "record_type": record_type, "rule": "",
             "kept_until": "", "holds": "", "count": count}
        )  # fmt: skip
    return rows


def _interrupted_row(stopped: Interrupted, count: int) -> dict[str, Any]:
    """An interrupted disposal (begun, never done), as a row: status ``interrupted``."""
    return {
        "status": "interrupted",
        "source": stopped.source,
        "record_type": stopped.record_type,
        "rule": stopped.rule,
        "kept_until": stopped.kept_until.isoformat(),
        "holds": "",
        "count": count,
    }


def _row(item: Assessment, count: int) -> dict[str, Any]:
    return {
        "status": item.status.value,
        "source": item.source,
        "record_type": item.record_type,
        "rule": item.rule.describe() if item.rule is not None else "",
        "kept_until": item.kept_until.isoformat() if item.kept_until is not None else "",
        "holds": _holds(item),
        "count": count,
    }


def due_json(report: DueReport, *, pseudonymise: Callable[[str], str] | None = None) -> str:
    """The report as one JSON object: ``today`` and ``rows`` (see `due_csv`)."""
    rows = _rows(report, pseudonymise)
    document = {
        "today": report.today.isoformat(),
        "due": len(report.due),
        "held": len(report.held),
        "kept": sum(report.kept.values()),
        "interrupted": len(report.interrupted),
        "rows": rows,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def due_csv(report: DueReport, *, pseudonymise: Callable[[str], str] | None = None) -> str:
    """The report as CSV: status, source, record type, rule, kept until, holds and count
    (and the subject's pseudonym with *pseudonymise*); cells a spreadsheet would run as a
    formula are neutralised."""
    rows = _rows(report, pseudonymise)
    columns = [*_COLUMNS, "subject"] if pseudonymise is not None else list(_COLUMNS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise(str(row.get(column, ""))) for column in columns])
    return buffer.getvalue()


def due_text(report: DueReport, *, pseudonymise: Callable[[str], str] | None = None) -> str:
    """The report for a terminal: a summary line, then a table."""
    rows = _rows(report, pseudonymise)
    summary = (
        f"On {long_date(report.today)}: {len(report.due)} past retention and due for disposal, "
        f"{len(report.held)} past retention but held, {sum(report.kept.values())} kept."
    )
    if report.interrupted:
        summary += (
            f" {len(report.interrupted)} disposals were interrupted (begun and never done): "
            f"the next disposal run finishes them."
        )
    header = ["status", "source", "record type", "rule", "kept until", "holds", "count"]
    if pseudonymise is not None:
        header.append("subject")
    table = Table(
        header=header,
        rows=[
            [
                row["status"],
                row["source"],
                row["record_type"],
                row["rule"] or "-",
                long_date_or_dash(row["kept_until"]),
                row["holds"] or "-",
                str(row["count"]),
                *([row.get("subject", "-")] if pseudonymise is not None else []),
            ]
            for row in rows
        ],
        numeric=[6],
    )
    document = Document(
        title="Retention due",
        lang="en-NZ",
        header=(Heading(1, "Retention due"), Paragraph(summary)),
        sections=(Section((table,)),) if rows else (),
        exact=True,
    )
    return render_text(document)


def long_date_or_dash(text: str) -> str:
    from datetime import date

    return long_date(date.fromisoformat(text)) if text else "-"
