"""The pages a breach assessment gives people: the assessment for the person who decides,
and the draft notification for the people affected.

- `assessment_document`: what the trail shows, what it cannot see (`BLIND_SPOTS`), the
  facts the Commissioner's notification (NotifyUs) asks for (`COMMISSIONER_FACTS`), and
  the serious-harm factors (`HARM_FACTORS`, Privacy Act 2020, Part 6) beside what the trail
  says of each, for a person to weigh. It says the decision is theirs.
- `notification_document`: a plain-language draft for the people affected, from the
  agency's own words for what happened and what it has done.

Both are `purposeful._shared.document` blocks; render them with `render_text`,
`render_markdown` or `render_html` (re-exported by `purposeful.breach`).

What this module must not do: decide or suggest whether serious harm is likely; hold a
subject identifier or a pseudonym (the pages have neither); build markup by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import attrs

from .._shared.agency import AgencyDetails
from .._shared.document import (
    PAGE_STYLE,
    Block,
    Bullets,
    Definitions,
    Document,
    Heading,
    Paragraph,
    Section,
    Table,
)
from .._shared.nztime import nz_time
from .._shared.words import humane
from .assessment import Assessment

__all__ = [
    "BLIND_SPOTS",
    "COMMISSIONER_FACTS",
    "HARM_FACTORS",
    "Notification",
    "assessment_document",
    "notification_document",
]

#: What the audit trail cannot see, whatever it holds.
BLIND_SPOTS: Final[tuple[str, ...]] = (
    "Reads outside purposeful: code, reports or tools that reach the data without a purpose "
    "scope and without purposeful's guard leave nothing in the trail.",
    "Raw SQL and database consoles: a query run straight against the database is not a "
    "read of a guarded record.",
    "Backups, exports and copies: a copy taken of the database, or a file exported from it, "
    "is read wherever it went, unseen.",
    "Reads in monitor mode are recorded (as would-deny where they break a rule); reads with "
    "purposeful switched off are not recorded at all.",
    "Spans lost before the collector (a process that crashed, a full queue, a network "
    "outage) are missing from trace files; a ledger, written before the scope ends, is not.",
    "Time outside the trail's retention: what happened before the oldest trace kept, or "
    "after the newest, cannot be seen.",
)

#: The facts the Commissioner's breach notification asks for (NotifyUs, Part 6).
COMMISSIONER_FACTS: Final[tuple[str, ...]] = (
    "A description of the breach: what happened, when, and how it was found.",
    "The number of people affected, if known.",
    "Who may have the information (a person or body suspected), if known, without "
    "identifying anyone affected.",
    "The kind of personal information involved, and how sensitive it is.",
    "The steps taken or intended in response, including whether the people affected have "
    "been or will be told (and, if not, why).",
    "Other agencies contacted about the breach, and why.",
    "A contact person at the agency.",
)

#: The factors in judging serious harm (Privacy Act 2020, Part 6), for a person to weigh.
HARM_FACTORS: Final[tuple[str, ...]] = (
    "The sensitivity of the information",
    "The nature of the harm that may be caused to the people affected",
    "Who has obtained or may obtain the information",
    "The security protecting it, for example encryption",
    "What the agency has done to reduce the risk of harm",
)

_DECISION: Final = (
    "Whether serious harm is likely is a judgement for the privacy officer, not for this "
    "assessment. If it is reasonable to believe the breach has caused or is likely to cause "
    "serious harm, the Privacy Act 2020 (Part 6) requires notifying the Privacy Commissioner "
    "(through NotifyUs) and the people affected as soon as practicable; failing to notify the "
    "Commissioner can lead to a fine of up to $10,000."
)


_HEADNOTE: Final = (
    "What the audit trail shows a compromise reached, and what it cannot see. Whether serious "
    "harm is likely is for the privacy officer to decide; this assessment does not decide it."
)


def _when(moment: datetime | None) -> str:
    return nz_time(moment) if moment is not None else "not known"


def _people_line(a: Assessment) -> str:
    line = f"{a.people} people whose records were read or disclosed"
    if a.window_misses_trail:
        return line + " (not known: no part of the window is in the trail)"
    if a.people_exact:
        return line + " (exact: every scope said whom it read)"
    notes = []
    if a.people_unlisted_at_most:
        notes.append(f"up to {a.people_unlisted_at_most} more read but not listed")
    if a.scopes_listing_nobody:
        notes.append(f"{a.scopes_listing_nobody} scopes say nothing of whom they read")
    if a.scopes_with_identifiers:
        notes.append(
            f"{a.scopes_with_identifiers} scopes list people without a pseudonym (not counted)"
        )
    if a.scopes_listing_all_people:
        notes.append(
            f"{a.scopes_listing_all_people} scopes do not say whose records of which type "
            "they read: all their people are counted"
        )
    if a.incomplete_scopes:
        notes.append(f"{a.incomplete_scopes} scopes are missing parts")
    if a.pseudonym_keys > 1:
        # a key rotation: the count can be too high as well as too low
        notes.append(
            f"the pseudonyms were made with {a.pseudonym_keys} keys (a key rotation), so a "
            "person read under more than one is counted once for each: name the people "
            "(name_people, with every key) to count each once"
        )
        return f"{line}, not an exact count; " + "; ".join(notes)
    return f"at least {line}; " + "; ".join(notes)


def _specific_gaps(a: Assessment) -> list[str]:
    gaps = []
    if a.trail_from is None:
        gaps.append("The trail holds no scope at all: nothing in it can be assessed.")
    elif a.window_misses_trail:
        gaps.append(
            f"The trail runs from {_when(a.trail_from)} to {_when(a.trail_to)}: no part of "
            "the window is in it, so nothing in the window can be seen. Check the dates and "
            "times: the window is in New Zealand time, and the audit report's are UTC."
        )
    elif a.window_outside_trail:
        gaps.append(
            f"The trail runs from {_when(a.trail_from)} to {_when(a.trail_to)}: part of the "
            "window is outside it, and unseen."
        )
    for name in a.never_seen:
        gaps.append(
            f"The trail never recorded the {name}: check the name, and whether it reaches "
            "the data some other way."
        )
    if a.let_through:
        gaps.append(
            f"{a.let_through} reads were let through in monitor mode (recorded and counted here)."
        )
    if a.outside_scopes:
        gaps.append(f"{a.outside_scopes} groups of reads were made outside any purpose scope.")
    if a.ledgers_verified is False:
        gaps.append("The ledgers were not verified against their signed checkpoints.")
    return gaps


def _factor_notes(a: Assessment) -> list[tuple[str, str]]:
    sensitivity = ", ".join(a.sensitivities) or "not declared (pass the record classes)"
    categories = ", ".join(a.category_titles) or "none declared"
    recipients = sorted({row.recipient for row in a.disclosures if row.recipient})
    return [
        (HARM_FACTORS[0], f"levels {sensitivity}; categories {categories}"),
        (HARM_FACTORS[1], "for the privacy officer: consider each category above"),
        (
            HARM_FACTORS[2],
            "whoever held the compromised credential or service"
            + (f"; disclosed to {', '.join(recipients)}" if recipients else ""),
        ),
        (HARM_FACTORS[3], "not in the audit trail: describe it"),
        (HARM_FACTORS[4], "not in the audit trail: describe it"),
    ]


def assessment_document(assessment: Assessment) -> Document:
    """The assessment, for the person who decides whether to notify."""
    a = assessment
    summary = [
        ("People", _people_line(a)),
        ("Scopes", str(a.scopes)),
        ("First read", _when(a.first_read)),
        ("Last read", _when(a.last_read)),
        ("Purposes", ", ".join(p or "(outside any scope)" for p in a.purposes) or "none"),
        ("Record types", ", ".join(a.record_types) or "none"),
        ("Categories", ", ".join(a.categories) or "none declared"),
        ("Sensitivity", ", ".join(a.sensitivities) or "not declared"),
        ("Trail", f"{a.source} ({a.engine})"),
    ]
    sections = [
        Section(
            (
                Heading(2, "What was compromised"),
                Bullets(a.compromise.describe()),
                Heading(2, "What the audit trail shows"),
                Definitions(summary),
            )
        )
    ]
    rows: list[tuple[str, ...]]
    header: tuple[str, ...]
    if a.run_by:
        rows = [(r.actor or "-", r.role or "-", r.service or "-", str(r.scopes)) for r in a.run_by]
        sections.append(
            Section(
                (
                    Heading(2, "Who ran the scopes"),
                    Table(("Actor", "Role", "Service", "Scopes"), rows, numeric={3}),
                )
            )
        )
    if a.reads:
        rows = [
            (
                r.record_type,
                r.field,
                r.purpose or "(outside any scope)",
                r.sensitivity or "-",
                r.category or "-",
                str(r.scopes),
            )
            for r in a.reads
        ]
        header = ("Record type", "Field", "Purpose", "Sensitivity", "Category", "Scopes")
        sections.append(
            Section(
                (
                    Heading(2, "Information read (names, never values)"),
                    Table(header, rows, numeric={5}),
                )
            )
        )
    if a.disclosures:
        rows = [
            (
                d.recipient or "-",
                d.agreement or "-",
                d.record_type or "-",
                ", ".join(d.fields) or "-",
                str(d.disclosures),
            )
            for d in a.disclosures
        ]
        header = ("Recipient", "Agreement", "Record type", "Fields", "Disclosures")
        sections.append(
            Section((Heading(2, "Disclosed to others"), Table(header, rows, numeric={4})))
        )
    if a.refused:
        rows = [(r.record_type, r.field, str(r.reads)) for r in a.refused]
        sections.append(
            Section(
                (
                    Heading(2, "Tried and refused (nothing given)"),
                    Table(("Record type", "Field", "Reads"), rows, numeric={2}),
                )
            )
        )
    sections += [
        Section(
            (
                Heading(2, "What the trail cannot see"),
                Bullets((*_specific_gaps(a), *BLIND_SPOTS)),
            )
        ),
        Section(
            (
                Heading(2, "For the Commissioner (NotifyUs)"),
                Paragraph("The notification asks for these facts:"),
                Bullets(COMMISSIONER_FACTS),
            )
        ),
        Section(
            (
                Heading(2, "Serious harm: factors to weigh"),
                Definitions(_factor_notes(a)),
                Paragraph(_DECISION),
            )
        ),
    ]
    return Document(
        title="Breach assessment",
        lang="en-NZ",
        header=(Heading(1, "Breach assessment"), Paragraph(_HEADNOTE, note=True)),
        sections=sections,
        exact=True,
    )


@attrs.frozen
class Notification:
    """The agency's own words for a notification; the library adds the facts and rights.

    Attributes:
        agency: who writes, and how to reach their privacy officer.
        what_happened: what happened, in plain words (no one's details).
        what_we_did: the steps taken or intended.
        what_you_can_do: steps the person may take to protect themselves, if any.
        commissioner_told: whether the Privacy Commissioner has been notified already: the
            draft then says "We have told the Privacy Commissioner."; by default it says the
            agency is telling them, so that a draft written first claims nothing not yet done.
        holder_identified: whether the agency knows who may have the information (never
            name them here).
    """

    agency: AgencyDetails
    what_happened: str
    what_we_did: str
    what_you_can_do: str | None = None
    commissioner_told: bool = False
    holder_identified: bool = False


def notification_document(assessment: Assessment, notification: Notification) -> Document:
    """A draft notification to the people *assessment* found, in plain language.

    It is the same for everyone: the kinds of information listed are every kind the
    breach reached. A person reviews it before it is sent.
    """
    n = notification
    kinds = list(assessment.category_titles) or [humane(name) for name in assessment.record_types]
    window = assessment.compromise
    body: list[Block] = [
        Heading(2, "What happened"),
        Paragraph(
            f"Between {nz_time(window.start)} and {nz_time(window.end)}, someone may have "
            f"seen some of your information held by {n.agency.name}."
        ),
        Paragraph(n.what_happened),
        Paragraph(
            "We know who may have your information."
            if n.holder_identified
            else "We do not know who may have your information."
        ),
        Heading(2, "The information involved"),
        Bullets(kinds or ["Information about you"]),
        Heading(2, "What we have done"),
        Paragraph(n.what_we_did),
    ]
    if n.what_you_can_do:
        body += [Heading(2, "What you can do"), Paragraph(n.what_you_can_do)]
    rights = (
        "We have told the Privacy Commissioner."
        if n.commissioner_told
        else "We are telling the Privacy Commissioner."
    )
    body += [
        Heading(2, "Your rights"),
        Paragraph(
            f"{rights} You have the right to complain to the Privacy Commissioner "
            "(privacy.org.nz) about how we handled your information."
        ),
        Heading(2, "Talk to us"),
        Paragraph(f"Contact our {n.agency.privacy_officer}:"),
        Definitions(n.agency.contact_lines()),
    ]
    title = f"About your information at {n.agency.name}"
    return Document(
        title=title,
        lang="en-NZ",
        header=(
            Heading(1, title),
            Paragraph("Draft: to be reviewed by a person before it is sent.", note=True),
        ),
        sections=[Section(tuple(body))],
        style=PAGE_STYLE,
    )
