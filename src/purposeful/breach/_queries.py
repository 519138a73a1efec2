"""The assessment's SQL, over the report's relational shape (`purposeful.audit.report.shape`).

Every query reads the shape's tables by name and keeps to SQL that DuckDB, ClickHouse and
SQLite all take (``CASE``, ``COALESCE``, ``COUNT(DISTINCT …)``, ``UNION ALL`` under a
``SELECT DISTINCT``, ``IN``), over the tables ClickHouse spells as views too (not
``part_record_types``). A part
of a scope is in question (`in_question`) when it overlaps the window and, if principals
are named, was run by one of them; with record types, only what it read or disclosed of
those types counts.

Who was affected, in words a query can keep: with no record type named, every person a
part in question lists; with record types, the people whose records of those types the
part read (where it says which fields it read for whom), else every person it lists (an
upper bound, counted as such), and the people whose records of those types it disclosed.
Only pseudonyms are people here: a subject that is not one is counted, never returned.

What this module must not do: put a value into SQL except through `Trail.text` and
`Trail.moment`; select a subject entry that is not a pseudonym.
"""

from __future__ import annotations

from collections.abc import Iterable

from .compromise import Compromise
from .trail import Trail

__all__ = ["Queries"]


def _in(trail: Trail, column: str, names: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(trail.text(name) for name in sorted(names))})"


class Queries:
    """The assessment's queries for one compromise, spelled for one trail's engine."""

    def __init__(self, trail: Trail, compromise: Compromise) -> None:
        self.trail = trail
        c = compromise
        conditions = [f"p.opened < {trail.moment(c.end)}", f"p.closed >= {trail.moment(c.start)}"]
        principals = []
        if c.actors:
            principals.append(_in(trail, "p.actor_id", c.actors))
        if c.roles:
            principals.append(_in(trail, "p.actor_role", c.roles))
        if c.services:
            principals.append(_in(trail, "p.upstream_service", c.services))
        if principals:
            conditions.append("(" + " OR ".join(principals) + ")")
        #: the parts of scopes in question, as a condition on ``scope_parts AS p``
        self.in_question = " AND ".join(conditions)
        types = c.record_types
        self.typed = bool(types)
        self._field_type = _in(trail, "f.record_type", types) if types else "1 = 1"
        self._disclosed_type = _in(trail, "d.record_type", types) if types else "1 = 1"
        self._refused_type = _in(trail, "r.record_type", types) if types else "1 = 1"
        # the parts that touched the record types in question (all parts in question without)
        self.touched = (
            f"{self.in_question} AND (p.part_key IN "
            f"(SELECT f.part_key FROM part_fields AS f WHERE {self._field_type}) "
            f"OR p.part_key IN "
            f"(SELECT d.part_key FROM part_disclosures AS d WHERE {self._disclosed_type}))"
            if types
            else self.in_question
        )

    def coverage(self) -> str:
        """The trail's first and last moment, and its scope parts (the whole trail)."""
        return "SELECT MIN(opened), MAX(closed), COUNT(*) FROM scope_parts"

    def known(self, column: str) -> str:
        """Every name of *column* (``actor_id``, ``actor_role``, ``upstream_service``) the
        trail recorded."""
        return (
            f"SELECT DISTINCT {column} FROM scope_parts WHERE {column} IS NOT NULL "
            f"ORDER BY {column}"
        )

    def known_record_types(self) -> str:
        """Every record type the trail recorded a scope reading, refusing or disclosing."""
        return """
SELECT DISTINCT record_type FROM (
  SELECT record_type FROM part_fields
  UNION ALL SELECT record_type FROM part_refusals
  UNION ALL SELECT record_type FROM part_disclosures WHERE record_type IS NOT NULL
) AS named ORDER BY record_type"""

    def scopes(self) -> str:
        """Over the parts in question: scopes, first and last moment, people not listed,
        scopes that list nobody, scopes listing a non-pseudonym, scopes whose people are
        listed without which fields were read of whom (with record types only), reads let
        through in monitor mode, and reads outside any scope."""
        by_scope = "1 = 0" if not self.typed else "NOT p.reads_known AND p.subjects_len > 0"
        return f"""
SELECT COUNT(DISTINCT p.scope_key), MIN(p.opened), MAX(p.closed),
       SUM(CASE WHEN p.subjects_said THEN COALESCE(p.subjects_overflow, 0) ELSE 0 END),
       COUNT(DISTINCT CASE WHEN NOT p.subjects_said THEN p.scope_key END),
       COUNT(DISTINCT CASE WHEN p.subjects_other THEN p.scope_key END),
       COUNT(DISTINCT CASE WHEN {by_scope} THEN p.scope_key END),
       SUM(p.would_deny),
       COUNT(DISTINCT CASE WHEN p.purpose IS NULL THEN p.scope_key END)
FROM scope_parts AS p WHERE {self.touched}"""

    def incomplete(self) -> str:
        """How many scopes in question are missing parts (spans lost, or still running)."""
        return f"""
SELECT COUNT(DISTINCT p.scope_key) FROM scope_parts AS p
JOIN scopes AS s ON s.scope_key = p.scope_key
WHERE NOT s.complete AND {self.touched}"""

    def principals(self) -> str:
        """Who ran the scopes in question: actor, role, service, scopes."""
        return f"""
SELECT p.actor_id, p.actor_role, p.upstream_service, COUNT(DISTINCT p.scope_key) AS n
FROM scope_parts AS p WHERE {self.touched}
GROUP BY p.actor_id, p.actor_role, p.upstream_service
ORDER BY n DESC, COALESCE(p.actor_id, ''), COALESCE(p.actor_role, ''),
         COALESCE(p.upstream_service, '')"""

    def reads(self) -> str:
        """What was read: purpose, record type, field, scopes."""
        return f"""
SELECT p.purpose, f.record_type, f.field, COUNT(DISTINCT p.scope_key) AS n
FROM part_fields AS f JOIN scope_parts AS p ON p.part_key = f.part_key
WHERE {self.in_question} AND {self._field_type}
GROUP BY p.purpose, f.record_type, f.field
ORDER BY f.record_type, f.field, COALESCE(p.purpose, '')"""

    def people(self) -> str:
        """The pseudonyms of the people whose records were read or disclosed, each once."""
        if not self.typed:
            read = f"""
SELECT s.pseudonym AS pseudonym FROM part_subjects AS s
JOIN scope_parts AS p ON p.part_key = s.part_key
WHERE s.is_pseudonym AND {self.in_question}"""
        else:
            read = f"""
SELECT r.pseudonym AS pseudonym FROM part_reads AS r
JOIN part_fields AS f ON f.part_key = r.part_key AND f.name = r.name
JOIN part_subjects AS s ON s.part_key = r.part_key AND s.pseudonym = r.pseudonym
JOIN scope_parts AS p ON p.part_key = r.part_key
WHERE s.is_pseudonym AND p.reads_known AND {self.in_question} AND {self._field_type}
UNION ALL
SELECT s.pseudonym AS pseudonym FROM part_subjects AS s
JOIN scope_parts AS p ON p.part_key = s.part_key
WHERE s.is_pseudonym AND NOT p.reads_known AND {self.in_question}
  AND s.part_key IN (SELECT f.part_key FROM part_fields AS f WHERE {self._field_type})"""
        return f"""
SELECT DISTINCT pseudonym FROM ({read}
UNION ALL
SELECT d.subject AS pseudonym FROM part_disclosures AS d
JOIN scope_parts AS p ON p.part_key = d.part_key
WHERE d.subject_key_id IS NOT NULL AND {self.in_question} AND {self._disclosed_type}
) AS people ORDER BY pseudonym"""

    def disclosures(self) -> str:
        """What was disclosed: recipient, agreement, record type, disclosures, of nobody
        named (no pseudonym of whose record it was)."""
        return f"""
SELECT d.recipient, d.agreement, d.record_type, COUNT(*) AS n,
       SUM(CASE WHEN d.subject_key_id IS NULL THEN 1 ELSE 0 END)
FROM part_disclosures AS d JOIN scope_parts AS p ON p.part_key = d.part_key
WHERE {self.in_question} AND {self._disclosed_type}
GROUP BY d.recipient, d.agreement, d.record_type
ORDER BY COALESCE(d.recipient, ''), COALESCE(d.agreement, ''), COALESCE(d.record_type, '')"""

    def disclosed_fields(self) -> str:
        """The fields each (recipient, agreement, record type) was given."""
        return f"""
SELECT DISTINCT d.recipient, d.agreement, d.record_type, x.field
FROM disclosure_fields AS x
JOIN part_disclosures AS d ON d.part_key = x.part_key AND d.position = x.position
JOIN scope_parts AS p ON p.part_key = d.part_key
WHERE {self.in_question} AND {self._disclosed_type}
ORDER BY 1, 2, 3, 4"""

    def refused(self) -> str:
        """Reads refused (nothing given): record type, field, reads."""
        return f"""
SELECT r.record_type, r.field, SUM(r.reads) AS n
FROM part_refusals AS r JOIN scope_parts AS p ON p.part_key = r.part_key
WHERE r.outcome = 'denied' AND {self.in_question} AND {self._refused_type}
GROUP BY r.record_type, r.field ORDER BY r.record_type, r.field"""
