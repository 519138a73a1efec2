"""The copy for the person as a document: what was recorded, item by item, in plain words.

Private to the access package: `PersonCopy.document` calls it. The page says, for each record
and each item on it: what was recorded, why it is held and the law it rests on, who may see
it, whether the person had to give it (IPP 3(1)), and what they can do; then what is not on
the copy (in plain words, never its value), that something is held back for a safety check
(never what), the person's rights with the law cited, how to reach the agency, and, in the
footer, that the copy is a disclosure to them under IPP 11(1)(b).

Every sentence goes through the agency's `Wording.say`, so an agency can reword any of it;
the agency's own passages keep their language (``lang``). The page is built from document
blocks only: the renderer escapes every piece of text where it writes it, and nothing here
builds markup or escapes anything. Dates are written by `purposeful._shared.nztime`.

What this module must not do: read a record (the copy holds what was read), or name a field
held back for safety review.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .._shared.document import (
    LARGE_PRINT_STYLE,
    PAGE_STYLE,
    Block,
    Bullets,
    Definitions,
    Document,
    Heading,
    Paragraph,
    Section,
    fill,
    paragraphs,
)
from .._shared.nztime import nz_time

if TYPE_CHECKING:
    from .copies import CopyItem, CopyRecord, PersonCopy

__all__ = ["copy_document"]

_Say = Callable[[str], str]

_TITLE = "What we recorded about you"
_INTRO = (
    "This is a copy of what {agency} has just recorded about you, for you to keep. For each "
    "item it says why we hold it, who may see it, whether you had to give it to us, and what "
    "you can do about it."
)
_NOT_SHOWN_INTRO = (
    "These items are not on this copy. You can still ask us for everything we hold about "
    "you (see “What you can do” below)."
)
_NOT_READABLE = "Not shown here: the person giving you this copy cannot see it for this work."
_HELD_BACK = (
    "Some information is held back from this copy until a member of our staff has checked "
    "that it is safe to share. This is not a decision to keep it from you: you can ask us "
    "for it."
)
_ASK_ALL = (
    "Ask us for everything we hold about you (Privacy Act 2020, information privacy "
    "principle 6). We answer as soon as we reasonably can, and within 20 working days (s 44)."
)
_CORRECT = (
    "Ask us to correct anything you think is wrong (Privacy Act 2020, information privacy "
    "principle 7). If we do not correct it, you can give us a statement of the correction you "
    "wanted, and we keep it with your information."
)
_WITHDRAW = (
    "Change your mind about what you agreed to: you can withdraw your consent at any time, "
    "and we stop using your information for that purpose from then on (your consent is your "
    "authorisation under Privacy Act 2020, information privacy principles 10(1)(c) and "
    "11(1)(c))."
)
_COMPLAIN = (
    "If you are not happy with how we handle your information, please talk to us first. You "
    "can also complain to the Privacy Commissioner: www.privacy.org.nz, 0800 803 909."
)
_FOOTER = (
    "We gave you this copy under the Privacy Act 2020, information privacy principle "
    "11(1)(b) (giving people their own information), and recorded that we did. Reference "
    "{reference}, made {made}."
)
_CONTACT = "Contact our {officer} about this copy (reference {reference})."


def copy_document(copy: PersonCopy, *, large_print: bool = False) -> Document:
    """*copy* as a document: a header, a section per record, then what is not shown, the
    person's rights and the agency's contact details."""
    wording = copy.wording
    say = wording.say
    made = nz_time(copy.made)
    values = {
        "agency": copy.agency.name,
        "officer": copy.agency.privacy_officer,
        "reference": copy.reference,
        "made": made,
    }
    title = say(_TITLE)
    header: list[Block] = []
    if wording.greeting.strip():
        header.append(Paragraph(wording.greeting, lang=wording.greeting_lang))
    header += [Heading(1, title), *paragraphs(fill(say(_INTRO), values))]
    for passage in copy.passages:
        header += [
            Paragraph(part.strip(), lang=passage.lang)
            for part in passage.text.split("\n\n")
            if part.strip()
        ]
    header.append(
        Definitions(
            [
                (say("From"), copy.agency.name),
                (say("Made"), made),
                (say("Reference"), copy.reference),
            ]
        )
    )
    totals: dict[str, int] = {}
    for record in copy.records:
        totals[record.label] = totals.get(record.label, 0) + 1
    seen: dict[str, int] = {}
    sections = []
    for record in copy.records:
        seen[record.label] = number = seen.get(record.label, 0) + 1
        label = record.label
        if totals[label] > 1:
            label = f"{label} ({number} {say('of')} {totals[label]})"
        sections.append(Section(_record_blocks(record, label, say)))
    if not copy.records:
        sections.append(
            Section([Heading(2, say("What we recorded")), Paragraph(say("Nothing to show."))])
        )
    missing = _not_shown(copy, say)
    if missing:
        sections.append(Section(missing))
    consent = any(item.consent for item in copy.items if item.shown)
    can_do = [say(_ASK_ALL), say(_CORRECT)]
    if consent:
        can_do.append(say(_WITHDRAW))
    can_do.append(say(_COMPLAIN))
    sections.append(Section([Heading(2, say("What you can do")), Bullets(can_do)]))
    contact = [(say("Agency"), copy.agency.name)]
    contact += [(say(label), value) for label, value in copy.agency.contact_lines()]
    sections.append(
        Section(
            [
                Heading(2, wording.contact_heading),
                *paragraphs(fill(say(_CONTACT), values)),
                Definitions(contact),
            ]
        )
    )
    style = PAGE_STYLE + ("\n" + LARGE_PRINT_STYLE if large_print else "")
    return Document(
        title=f"{title}: {copy.agency.name}",
        lang=wording.lang,
        header=header,
        sections=sections,
        footer=paragraphs(fill(say(_FOOTER), values), note=True),
        style=style,
    )


def _record_blocks(record: CopyRecord, label: str, say: _Say) -> list[Block]:
    blocks: list[Block] = [Heading(2, label)]
    shown = [item for item in record.items if item.shown]
    if not shown:
        blocks.append(Paragraph(say("Nothing from this record is shown on this copy.")))
    for item in shown:
        blocks += [Heading(3, item.label), Definitions(_facts(item, say))]
    return blocks


def _facts(item: CopyItem, say: _Say) -> list[tuple[str, str]]:
    """What the page says of one item shown."""
    facts = [(say("What we recorded"), item.value or say("(blank)"))]
    if item.source is not None:
        facts.append((say("Where this came from"), item.source))
    facts.append(
        (say("Why we hold it"), "\n".join(item.purposes) or say("Ask us why we hold this."))
    )
    if item.law:
        facts.append((say("The law it rests on"), "; ".join(item.law)))
    if item.who:
        facts.append((say("Who at our agency may see it"), "; ".join(item.who)))
    if item.supply is not None:
        had_to = say("Yes, you had to give us this.") if item.supply.mandatory else None
        had_to = had_to or say("No, it was up to you.")
        facts.append((say("Did you have to give it?"), f"{had_to} {item.supply.consequence}"))
    elif item.purposes and item.law:
        facts.append(
            (
                say("Did you have to give it?"),
                say("Ask us whether you had to give us this, and what happens if you do not."),
            )
        )
    can = [say("Ask us to correct it (information privacy principle 7).")]
    if item.consent:
        can.append(
            fill(
                say(
                    "We use it for {purposes} only with your consent: you can withdraw it at "
                    "any time."
                ),
                {"purposes": ", ".join(item.consent)},
            )
        )
    facts.append((say("What you can do"), "\n".join(can)))
    return facts


def _not_shown(copy: PersonCopy, say: _Say) -> list[Block]:
    """What is not on the copy, in plain words: each item left off (never its value), and
    that something is held back for a safety check (never what)."""
    lines: list[str] = []
    for record in copy.records:
        for item in record.items:
            if item.shown:
                continue
            if item.ground is not None:
                why = f"{item.ground.reason} ({item.ground.cite()})"
            else:
                why = say(_NOT_READABLE)
            line = f"{record.label}, {item.label}: {why}"
            if line not in lines:
                lines.append(line)
    if not lines and not copy.held_back:
        return []
    blocks: list[Block] = [Heading(2, say("Not on this copy"))]
    if lines:
        blocks += [Paragraph(say(_NOT_SHOWN_INTRO)), Bullets(lines)]
    if copy.held_back:
        blocks.append(Paragraph(say(_HELD_BACK)))
    return blocks
