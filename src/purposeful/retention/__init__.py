"""Retention and disposal (IPP 9): keep information no longer than its lawful purposes need.

Purposes declare how long information used for them is kept (`purposeful.Retention`).
This package acts on it:

- **sources** (`sources`): the agency's stores, as `RetentionSource` values (every record
  with the dates its retention runs from, and a hook that deletes or de-identifies one),
  named in `RetentionSources`;
- **the rule** (`rules`): a record is kept while some purpose it is held for still needs
  it; periods are inherited down the purpose hierarchy; days are New Zealand days;
- **what is due** (`due`): `assess` streams one `Assessment` per record, `retention_due`
  gathers what is past retention, due or held, into a `DueReport` (`output`: text, CSV,
  JSON, counts and record types, never values);
- **disposal** (`disposal`): `dispose_due` disposes of what is due through each source's
  hook, writing evidence to the audit ledger before and after each record.

Holds (a legal hold, a pending access or correction request) are kept in a hold register,
`purposeful.holds`; a held record is never disposed of.

What this package must not do: dispose of a record some purpose still needs or a hold
keeps; show or write a value, a subject id or a record's key (evidence and output carry
pseudonyms and counts); treat an example retention period as law.
"""

from .disposal import PUBLIC_OFFICE, DisposalSummary, dispose_due
from .due import Assessment, DueReport, Interrupted, assess, retention_due
from .output import due_csv, due_json, due_text
from .rules import RetentionRule, RetentionStatus, kept_until, rule_for
from .sources import Dated, DisposalMethod, RetentionSource, RetentionSources

__all__ = [
    "PUBLIC_OFFICE",
    "Assessment",
    "Dated",
    "DisposalMethod",
    "DisposalSummary",
    "DueReport",
    "Interrupted",
    "RetentionRule",
    "RetentionSource",
    "RetentionSources",
    "RetentionStatus",
    "assess",
    "dispose_due",
    "due_csv",
    "due_json",
    "due_text",
    "kept_until",
    "retention_due",
    "rule_for",
]
