"""Every figure of the report as a SQL query over the relational shape, and the `Report`
built from their answers.

The queries read only the tables of `purposeful.audit.report.shape` (``scope_parts``,
``scopes``, ``part_fields``, ``part_subjects``, ``part_reads``, ``part_refusals``,
``part_disclosures``, ``disclosure_fields``, ``sources``, ``source_ignored``, and
``wanted``, the pseudonyms of the person asked about), by name: an engine supplies them as
tables, Parquet files or views over its own schema, and runs the same text. They keep to
SQL that DuckDB and ClickHouse both take (``CASE``, ``COALESCE``, ``GREATEST``,
``COUNT(DISTINCT …)``, ``date_trunc('hour', …)``, ``||``): no list functions, no
``IS NOT DISTINCT FROM``, no ``QUALIFY``. Every table has a total order (its ``ORDER BY``
breaks every tie), and every count of people is exact. What SQL would need lists or
dialect for (a table's sorted fields, empty hours of the timeline, the top ten) is put
together here, in Python, from rows the queries return in order.

`report_from` runs them through any engine's `Run` and builds the same `Report` as
`purposeful.audit.report.ReportBuilder` folds from the same inputs.

What this module must not do: import an engine; quote an input value into SQL (the only
values put into SQL are the engine's own table names; the person's pseudonyms go into the
``wanted`` table the engine fills).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, TypeAlias

from ..history import (
    SubjectAccess,
    SubjectAnswer,
    SubjectDisclosure,
    SubjectQuery,
    attributed_in_scope,
    would_deny_for_everyone,
    would_deny_marks,
)
from .building import (
    BUSIEST_ACTORS,
    BUSIEST_SITES,
    HOURLY_UP_TO,
    AccessRow,
    ActorRow,
    DisclosureRow,
    RefusalRow,
    Report,
    SiteRow,
    SourceSummary,
    TimeBucket,
)
from .shape import decode_reasons

__all__ = ["FIGURES", "Run", "report_from"]

Run: TypeAlias = Callable[[str], Sequence[Sequence[Any]]]
"""Runs one query's text on an engine and returns its rows."""

_FIRST: Final = "SUM(CASE WHEN first_seen THEN 1 ELSE 0 END)"

#: Every figure's query, by name: the text an engine runs.
FIGURES: Final[dict[str, str]] = {
    # the summary: period, scopes, refusals (decisions)
    "summary": f"""
SELECT MIN(opened), MAX(closed), {_FIRST},
       SUM(CASE WHEN first_seen AND purpose IS NULL THEN 1 ELSE 0 END),
       SUM(denied), SUM(would_deny)
FROM scope_parts""",
    "itemised": """
SELECT outcome, SUM(reads) AS total FROM part_refusals GROUP BY outcome ORDER BY outcome""",
    "incomplete": "SELECT COUNT(*) FROM scopes WHERE NOT complete",
    "sources": f"""
SELECT s.source_no, s.path, s.format, COALESCE(x.scopes, 0)
FROM sources AS s
LEFT JOIN (SELECT source_no, {_FIRST} AS scopes FROM scope_parts GROUP BY source_no) AS x
  ON x.source_no = s.source_no
ORDER BY s.source_no""",
    "ignored": "SELECT source_no, what, entries FROM source_ignored ORDER BY source_no, position",
    # accesses: a scope counts once per record type, in the first part of it that read it
    # (`counts_scope`, decided as the parts were read)
    "access_scopes": """
SELECT p.purpose, f.record_type, p.actor_id, p.actor_role, COUNT(*) AS scopes
FROM part_fields AS f JOIN scope_parts AS p ON p.part_key = f.part_key
WHERE f.counts_scope
GROUP BY p.purpose, f.record_type, p.actor_id, p.actor_role""",
    "access_fields": """
SELECT DISTINCT p.purpose, f.record_type, p.actor_id, p.actor_role, f.field
FROM part_fields AS f JOIN scope_parts AS p ON p.part_key = f.part_key
ORDER BY p.purpose IS NULL, COALESCE(p.purpose, ''), f.record_type,
         COALESCE(p.actor_id, ''), COALESCE(p.actor_role, ''),
         p.actor_id IS NULL, p.actor_role IS NULL, f.field""",
    "refusals": """
SELECT r.outcome, p.purpose, r.record_type, r.field, r.reasons, SUM(r.reads) AS total
FROM part_refusals AS r JOIN scope_parts AS p ON p.part_key = r.part_key
GROUP BY r.outcome, p.purpose, r.record_type, r.field, r.reasons
ORDER BY total DESC, r.outcome, COALESCE(p.purpose, ''), r.record_type, r.field, r.reasons,
         p.purpose IS NULL""",
    # busiest actors: exact distinct people read, bounded by what scopes say they did not
    # list. Where a part says per person what was read (reads_known), its people read are
    # those with a field in part_reads: a person listed with no field read (only asked
    # about) is not one; a part's own count bounds the people only where it lists fewer
    # than it read (an overflow) or says nothing per person
    "actors": f"""
SELECT a.actor_id, a.scopes, a.without_subjects,
       GREATEST(COALESCE(n.people, 0), a.largest) AS at_least,
       GREATEST(COALESCE(n.people, 0), a.largest, COALESCE(n.people, 0) + a.overflow)
         AS at_most
FROM (SELECT actor_id, {_FIRST} AS scopes,
             SUM(CASE WHEN first_seen AND NOT subjects_said THEN 1 ELSE 0 END)
               AS without_subjects,
             MAX(CASE WHEN subjects_said AND (COALESCE(subjects_overflow, 0) > 0
                                              OR NOT reads_known)
                      THEN COALESCE(subjects_count, 0) ELSE 0 END) AS largest,
             SUM(CASE WHEN subjects_said THEN subjects_overflow ELSE 0 END) AS overflow
      FROM scope_parts WHERE actor_id IS NOT NULL GROUP BY actor_id) AS a
LEFT JOIN (SELECT x.actor_id, COUNT(DISTINCT x.pseudonym) AS people
           FROM (SELECT p.actor_id AS actor_id, r.pseudonym AS pseudonym
                 FROM part_reads AS r JOIN scope_parts AS p ON p.part_key = r.part_key
                 WHERE p.actor_id IS NOT NULL
                 UNION ALL
                 SELECT p.actor_id AS actor_id, s.pseudonym AS pseudonym
                 FROM part_subjects AS s JOIN scope_parts AS p ON p.part_key = s.part_key
                 WHERE p.actor_id IS NOT NULL AND NOT p.reads_known) AS x
           GROUP BY x.actor_id) AS n
  ON n.actor_id = a.actor_id
ORDER BY at_least DESC, at_most DESC, a.scopes DESC, a.actor_id
LIMIT {BUSIEST_ACTORS}""",
    "actor_roles": """
SELECT DISTINCT actor_id, actor_role FROM scope_parts
WHERE actor_id IS NOT NULL AND actor_role IS NOT NULL ORDER BY actor_id, actor_role""",
    # reads outside any scope, by call site
    "sites": """
SELECT site_file, site_function, site_line, SUM(denied + would_deny) AS total
FROM scope_parts WHERE purpose IS NULL
GROUP BY site_file, site_function, site_line
ORDER BY total DESC, site_file IS NULL, COALESCE(site_file, ''), COALESCE(site_function, ''),
         COALESCE(site_line, 0)""",
    "site_fields": """
SELECT DISTINCT site_file, site_function, site_line, name FROM (
  SELECT p.site_file, p.site_function, p.site_line, f.name
  FROM part_fields AS f JOIN scope_parts AS p ON p.part_key = f.part_key
  WHERE p.purpose IS NULL
  UNION ALL
  SELECT p.site_file, p.site_function, p.site_line, r.record_type || '.' || r.field
  FROM part_refusals AS r JOIN scope_parts AS p ON p.part_key = r.part_key
  WHERE p.purpose IS NULL) AS x
ORDER BY name""",
    "timeline": f"""
SELECT date_trunc('hour', opened) AS opened_hour, {_FIRST}, SUM(denied), SUM(would_deny)
FROM scope_parts GROUP BY opened_hour ORDER BY opened_hour""",
    # disclosures to other agencies
    "disclosures": """
SELECT d.recipient, d.agreement, p.purpose, d.record_type, COUNT(*), SUM(d.statements)
FROM part_disclosures AS d JOIN scope_parts AS p ON p.part_key = d.part_key
GROUP BY d.recipient, d.agreement, p.purpose, d.record_type
ORDER BY d.recipient, d.agreement, p.purpose IS NULL, COALESCE(p.purpose, ''),
         d.record_type""",
    "disclosure_fields": """
SELECT DISTINCT d.recipient, d.agreement, p.purpose, d.record_type, f.field
FROM disclosure_fields AS f
JOIN part_disclosures AS d ON d.part_key = f.part_key AND d.position = f.position
JOIN scope_parts AS p ON p.part_key = d.part_key
ORDER BY f.field""",
    # who read one person: what each scope's parts say about the pseudonyms in `wanted`
    "subject_scopes": """
SELECT x.scope_key, x.listed, x.unknown_fields, x.overflowed, x.unlisted,
       x.without_subjects, x.not_pseudonyms
FROM (SELECT p.scope_key,
             MAX(CASE WHEN l.part_key IS NOT NULL THEN 1 ELSE 0 END) AS listed,
             MAX(CASE WHEN l.part_key IS NOT NULL AND NOT p.reads_known THEN 1 ELSE 0 END)
               AS unknown_fields,
             MAX(CASE WHEN p.subjects_listed AND l.part_key IS NULL AND p.subjects_overflow > 0
                      AND p.subjects_len > 0 THEN 1 ELSE 0 END) AS overflowed,
             MAX(CASE WHEN p.subjects_listed AND l.part_key IS NULL AND p.subjects_overflow > 0
                      AND p.subjects_len = 0 THEN 1 ELSE 0 END) AS unlisted,
             MAX(CASE WHEN NOT p.subjects_listed THEN 1 ELSE 0 END) AS without_subjects,
             MAX(CASE WHEN p.subjects_other THEN 1 ELSE 0 END) AS not_pseudonyms
      FROM scope_parts AS p
      LEFT JOIN (SELECT DISTINCT s.part_key FROM part_subjects AS s
                 JOIN wanted AS w ON w.pseudonym = s.pseudonym) AS l
        ON l.part_key = p.part_key
      WHERE l.part_key IS NOT NULL OR p.subjects_overflow > 0 OR NOT p.subjects_listed
         OR p.subjects_other
      GROUP BY p.scope_key) AS x""",
    "subject_identity": """
SELECT f.scope_key, f.opened, c.closed, f.purpose, f.actor_id, f.actor_role,
       f.upstream_service, f.upstream_scope_id, s.complete, s.settle_order
FROM (SELECT p.scope_key, MAX(p.closed) AS closed FROM scope_parts AS p
      WHERE p.scope_key IN (
        SELECT q.scope_key FROM part_subjects AS t JOIN wanted AS w ON w.pseudonym = t.pseudonym
        JOIN scope_parts AS q ON q.part_key = t.part_key
        UNION ALL
        SELECT q.scope_key FROM part_disclosures AS d
        JOIN scope_parts AS q ON q.part_key = d.part_key
        WHERE d.subject IN (SELECT pseudonym FROM wanted))
      GROUP BY p.scope_key) AS c
JOIN scope_parts AS f ON f.scope_key = c.scope_key AND f.first_seen
JOIN scopes AS s ON s.scope_key = c.scope_key
ORDER BY f.opened, s.settle_order""",
    "subject_fields": """
SELECT DISTINCT p.scope_key, r.name
FROM part_reads AS r JOIN wanted AS w ON w.pseudonym = r.pseudonym
JOIN scope_parts AS p ON p.part_key = r.part_key
ORDER BY r.name""",
    # which of the person's fields were read under a would-deny decision: the would-deny
    # decisions of the scopes that read the person, by part (a decision whose reasons hold
    # for everyone marks the person's read of its field in any part of the scope), and, for
    # each field read for the person in a scope with a would-deny decision, how many people
    # the scope's parts list reading it, and whether every part lists everyone it read (a
    # decision that turned on the person is theirs when the scope's would-deny decisions
    # on the field are as many as that: `attributed_in_scope`)
    "subject_would_deny": """
SELECT p.scope_key, r.part_key, r.record_type, r.field, r.reasons, SUM(r.reads) AS total
FROM part_refusals AS r JOIN scope_parts AS p ON p.part_key = r.part_key
WHERE r.outcome = 'would-deny' AND p.scope_key IN (
  SELECT q.scope_key FROM part_reads AS t JOIN wanted AS w ON w.pseudonym = t.pseudonym
  JOIN scope_parts AS q ON q.part_key = t.part_key)
GROUP BY p.scope_key, r.part_key, r.record_type, r.field, r.reasons""",
    "subject_scope_readers": """
SELECT x.scope_key, x.name, SUM(x.readers) AS readers
FROM (SELECT m.scope_key AS scope_key, m.name AS name, COUNT(DISTINCT a.pseudonym) AS readers
      FROM (SELECT DISTINCT q.scope_key, t.name FROM part_reads AS t
            JOIN wanted AS w ON w.pseudonym = t.pseudonym
            JOIN scope_parts AS q ON q.part_key = t.part_key
            WHERE q.scope_key IN (SELECT s.scope_key FROM part_refusals AS r
                                  JOIN scope_parts AS s ON s.part_key = r.part_key
                                  WHERE r.outcome = 'would-deny')) AS m
      JOIN scope_parts AS p ON p.scope_key = m.scope_key
      JOIN part_reads AS a ON a.part_key = p.part_key AND a.name = m.name
      GROUP BY m.scope_key, m.name, a.part_key) AS x
GROUP BY x.scope_key, x.name""",
    "subject_scope_listed": """
SELECT p.scope_key
FROM scope_parts AS p
WHERE p.scope_key IN (SELECT s.scope_key FROM part_refusals AS r
                      JOIN scope_parts AS s ON s.part_key = r.part_key
                      WHERE r.outcome = 'would-deny')
GROUP BY p.scope_key
HAVING MAX(CASE WHEN p.subjects_listed AND p.reads_known
                     AND COALESCE(p.subjects_overflow, 0) = 0 THEN 0 ELSE 1 END) = 0""",
    # what was disclosed of the person's records: disclosures that name one of `wanted`
    "subject_disclosures": """
SELECT p.scope_key, d.part_key, d.position, d.recipient, d.agreement, d.record_type
FROM part_disclosures AS d JOIN scope_parts AS p ON p.part_key = d.part_key
WHERE d.subject IN (SELECT pseudonym FROM wanted)""",
    "subject_disclosure_fields": """
SELECT DISTINCT f.part_key, f.position, f.field
FROM disclosure_fields AS f
JOIN part_disclosures AS d ON d.part_key = f.part_key AND d.position = f.position
WHERE d.subject IN (SELECT pseudonym FROM wanted)
ORDER BY f.field""",
    "unattributed_disclosures": """
SELECT COUNT(*) FROM part_disclosures WHERE subject_key_id IS NULL""",
    "key_ids": """
SELECT DISTINCT key_id FROM (
  SELECT key_id FROM part_subjects WHERE is_pseudonym
  UNION ALL
  SELECT subject_key_id AS key_id FROM part_disclosures WHERE subject_key_id IS NOT NULL) AS k
ORDER BY key_id""",
}

_HOUR: Final = timedelta(hours=1)
_DAY: Final = timedelta(days=1)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


def report_from(
    run: Run, *, subject: SubjectQuery | None = None, ledgers_verified: bool | None = None
) -> Report:
    """The `Report` the figure queries answer, run by *run* over the shape's tables.

    With *subject* (the engine must have filled ``wanted`` with its pseudonyms), only what
    the page about one person shows is asked for: the sources, the summary, the refusals
    (for the would-deny gate) and the answer. The tables about everyone's scopes
    (accesses, busiest actors, call sites, timeline, disclosures) are left empty.
    """
    first, last, scopes, unscoped, denied, would_deny = run(FIGURES["summary"])[0]
    itemised = {outcome: int(total) for outcome, total in run(FIGURES["itemised"])}
    denied, would_deny = int(denied or 0), int(would_deny or 0)
    first, last = _utc(first), _utc(last)
    bucket: Literal["hour", "day"] = "hour"
    if first is not None and last is not None:
        bucket = "hour" if last - first <= HOURLY_UP_TO else "day"
    incomplete = int(run(FIGURES["incomplete"])[0][0])
    answer = _subject(run, subject, incomplete) if subject is not None else None
    # about one person, only what the page shows: other people's scopes stay out of it
    sites, site_count = _sites(run) if answer is None else ((), 0)
    return Report(
        sources=_sources(run),
        first=first,
        last=last,
        scopes=int(scopes or 0),
        unscoped_reads=int(unscoped or 0),
        denied=denied,
        would_deny=would_deny,
        unitemised_denied=max(0, denied - itemised.get("denied", 0)),
        unitemised_would_deny=max(0, would_deny - itemised.get("would-deny", 0)),
        accesses=_accesses(run) if answer is None else (),
        refusals=tuple(
            RefusalRow(outcome, purpose, record_type, field, decode_reasons(reasons), int(total))
            for outcome, purpose, record_type, field, reasons, total in run(FIGURES["refusals"])
        ),
        busiest_actors=_actors(run) if answer is None else (),
        bucket=bucket,
        timeline=_timeline(run, bucket) if answer is None else (),
        subject=answer,
        incomplete_scopes=incomplete,
        unscoped_sites=sites,
        unscoped_site_count=site_count,
        disclosures=_disclosures(run) if answer is None else (),
        ledgers_verified=ledgers_verified,
    )


def _sources(run: Run) -> tuple[SourceSummary, ...]:
    ignored: dict[int, list[tuple[str, int]]] = {}
    for source_no, what, entries in run(FIGURES["ignored"]):
        ignored.setdefault(source_no, []).append((what, int(entries)))
    return tuple(
        SourceSummary(path, format, int(scopes), tuple(ignored.get(source_no, ())))
        for source_no, path, format, scopes in run(FIGURES["sources"])
    )


def _accesses(run: Run) -> tuple[AccessRow, ...]:
    counts = {tuple(row[:4]): int(row[4]) for row in run(FIGURES["access_scopes"])}
    fields: dict[tuple[Any, ...], list[str]] = {}
    for *key, field in run(FIGURES["access_fields"]):
        fields.setdefault(tuple(key), []).append(field)
    return tuple(
        AccessRow(purpose, record_type, actor_id, role, counts.get(key, 0), tuple(names))
        for key, names in fields.items()
        for purpose, record_type, actor_id, role in [key]
    )


def _actors(run: Run) -> tuple[ActorRow, ...]:
    roles: dict[str, list[str]] = {}
    for actor_id, role in run(FIGURES["actor_roles"]):
        roles.setdefault(actor_id, []).append(role)
    return tuple(
        ActorRow(
            actor_id,
            tuple(roles.get(actor_id, ())),
            int(scopes),
            int(at_least),
            int(at_most),
            int(without),
        )
        for actor_id, scopes, without, at_least, at_most in run(FIGURES["actors"])
    )


def _sites(run: Run) -> tuple[tuple[SiteRow, ...], int]:
    totals = run(FIGURES["sites"])
    fields: dict[tuple[Any, ...], list[str]] = {}
    for *key, name in run(FIGURES["site_fields"]):
        fields.setdefault(tuple(key), []).append(name)
    rows = []
    for file, function, line, total in totals[:BUSIEST_SITES]:
        site = None if file is None else (file, function, int(line))
        rows.append(SiteRow(site, tuple(fields.get((file, function, line), ())), int(total)))
    return tuple(rows), len(totals)


def _timeline(run: Run, bucket: Literal["hour", "day"]) -> tuple[TimeBucket, ...]:
    totals: dict[datetime, list[int]] = {}
    for hour, scopes, denied, would_deny in run(FIGURES["timeline"]):
        start = hour.replace(tzinfo=UTC)
        if bucket == "day":
            start = start.replace(hour=0)
        total = totals.setdefault(start, [0, 0, 0])
        for i, count in enumerate((scopes, denied, would_deny)):
            total[i] += int(count)
    if not totals:
        return ()
    step = _HOUR if bucket == "hour" else _DAY
    buckets = []
    start, end = min(totals), max(totals)
    while start <= end:
        scopes, denied, would_deny = totals.get(start, (0, 0, 0))
        buckets.append(TimeBucket(start, scopes, denied, would_deny))
        start += step
    return tuple(buckets)


def _disclosures(run: Run) -> tuple[DisclosureRow, ...]:
    fields: dict[tuple[Any, ...], list[str]] = {}
    for *key, field in run(FIGURES["disclosure_fields"]):
        fields.setdefault(tuple(key), []).append(field)
    return tuple(
        DisclosureRow(
            recipient,
            agreement,
            purpose,
            record_type,
            int(count),
            int(statements),
            tuple(fields.get((recipient, agreement, purpose, record_type), ())),
        )
        for recipient, agreement, purpose, record_type, count, statements in run(
            FIGURES["disclosures"]
        )
    )


def _subject(run: Run, query: SubjectQuery, incomplete: int) -> SubjectAnswer:
    fields: dict[int, list[str]] = {}
    for scope_key, name in run(FIGURES["subject_fields"]):
        fields.setdefault(scope_key, []).append(name)
    unknown: set[int] = set()
    overflowed = unlisted = without = not_pseudonyms = 0
    for row in run(FIGURES["subject_scopes"]):
        scope_key, listed, unknown_fields, over, unlist, no_subjects, other = row
        not_pseudonyms += int(other)
        without += int(no_subjects)
        if unlist:
            unlisted += 1
        elif over:
            overflowed += 1
        if listed and unknown_fields:
            unknown.add(scope_key)
    shared = _subject_disclosures(run)
    for_everyone, counts, readers, listed = _subject_would_deny(run)
    accesses = []
    for row in run(FIGURES["subject_identity"]):
        scope_key, opened, closed, purpose, actor_id, actor_role, service, upstream_id = row[:8]
        read = tuple(fields.get(scope_key, ()))
        accesses.append(
            SubjectAccess(
                opened.replace(tzinfo=UTC),
                closed.replace(tzinfo=UTC),
                purpose,
                actor_id,
                actor_role,
                read,
                fields_known=scope_key not in unknown,
                parts_missing=not row[8],
                upstream=None if service is None else (service, upstream_id),
                disclosures=tuple(sorted(shared.get(scope_key, ()))),
                fields_would_deny=would_deny_marks(
                    read,
                    for_everyone.get(scope_key, ()),
                    [
                        name
                        for name in read
                        if attributed_in_scope(
                            counts.get((scope_key, name), 0),
                            readers.get((scope_key, name), 0),
                            complete=bool(row[8]) and scope_key in listed,
                        )
                    ],
                ),
            )
        )
    key_ids = {key_id for (key_id,) in run(FIGURES["key_ids"])}
    (unattributed,) = run(FIGURES["unattributed_disclosures"])[0]
    return SubjectAnswer(
        pseudonyms=query.pseudonyms,
        accesses=tuple(accesses),
        overflowed_scopes=overflowed,
        unlisted_scopes=unlisted,
        scopes_without_subjects=without,
        other_key_ids=tuple(sorted(key_ids - query.key_ids)),
        unitemised_scopes=len(unknown),
        incomplete_scopes=incomplete,
        non_pseudonym_scopes=not_pseudonyms,
        unattributed_disclosures=int(unattributed or 0),
    )


def _subject_would_deny(
    run: Run,
) -> tuple[dict[Any, set[str]], dict[tuple[Any, str], int], dict[tuple[Any, str], int], set[Any]]:
    """By scope key: the fields of its would-deny decisions that hold for everyone; by
    (scope key, field): how many reads the scope's would-deny decisions on it stand for,
    and how many people its parts list reading it, summed over the parts; and the keys
    of the scopes whose every part lists everyone it read (`attributed_in_scope`)."""
    for_everyone: dict[Any, set[str]] = {}
    counts: dict[tuple[Any, str], int] = {}
    for scope_key, _part_key, record_type, field, reasons, total in run(
        FIGURES["subject_would_deny"]
    ):
        name = f"{record_type}.{field}"
        counts[scope_key, name] = counts.get((scope_key, name), 0) + int(total)
        if would_deny_for_everyone(decode_reasons(reasons)):
            for_everyone.setdefault(scope_key, set()).add(name)
    readers = {
        (scope_key, name): int(total)
        for scope_key, name, total in run(FIGURES["subject_scope_readers"])
    }
    listed = {scope_key for (scope_key,) in run(FIGURES["subject_scope_listed"])}
    return for_everyone, counts, readers, listed


def _subject_disclosures(run: Run) -> dict[Any, list[SubjectDisclosure]]:
    """By scope key: what each scope disclosed of the person's records."""
    fields: dict[tuple[Any, Any], list[str]] = {}
    for part_key, position, field in run(FIGURES["subject_disclosure_fields"]):
        fields.setdefault((part_key, position), []).append(field)
    shared: dict[Any, list[SubjectDisclosure]] = {}
    for scope_key, part_key, position, recipient, agreement, record_type in run(
        FIGURES["subject_disclosures"]
    ):
        found = tuple(fields.get((part_key, position), ()))
        disclosed = SubjectDisclosure(recipient, agreement, record_type, found)
        shared.setdefault(scope_key, []).append(disclosed)
    return shared
