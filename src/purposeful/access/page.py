"""``index.html``: the bundle's summary for the person, in plain language.

The page is written for the person who asked, not for the agency: what we hold about you,
why, who we shared it with, what we withheld and why, and what you can do next. It is one
self-contained file: no scripts, no images, no style sheets or fonts fetched from anywhere,
and a print style, so it can be opened offline, printed, or read by a screen reader
(headings in order, tables with captions and header cells, a ``lang`` on the page and on
every passage in another language).

The agency's own words go in `Wording` (every sentence the page says) and `AgencyDetails`
(its name and how to reach its privacy officer); neither needs a fork of the library.

Everything on the page that came from the agency's data or the person's words (field
values, statements, reasons) is untrusted, and the agency's wording is text, not HTML. This
module builds the page as a document of plain-text blocks (`page_document`); the document
renderer escapes every piece of text where it writes it, so nothing here builds markup or
escapes anything. Dates are written by `purposeful._shared.nztime`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

import attrs

from .._shared.agency import AgencyDetails
from .._shared.checks import is_text
from .._shared.document import (
    PAGE_STYLE,
    Block,
    Bullets,
    Definitions,
    Document,
    Heading,
    Paragraph,
    Table,
    fill,
    paragraphs,
    render_html,
)
from .._shared.document import Section as DocumentSection
from .._shared.language import LANGUAGE_TAG_HINT, is_language_tag
from .._shared.nztime import long_date
from .._shared.words import humane
from ..errors import ConfigurationError

__all__ = ["Page", "Section", "Wording", "page_document", "render_page"]


def _text(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value):
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be non-empty text"
        )


def _language(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_language_tag(value):
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be {LANGUAGE_TAG_HINT}, not "
            f"{value!r}: screen readers choose their voice by it"
        )


@attrs.frozen
class Wording:
    """Every sentence the page says. Change any with ``Wording(intro=...)`` or
    ``attrs.evolve(wording, ...)``.

    Text may use ``{agency}`` (the agency's name), ``{received}`` and ``{due}`` (dates of
    the request), ``{request_id}`` and ``{officer}`` (`AgencyDetails.privacy_officer`). A
    blank line starts a new paragraph. Text is escaped: write plain text, not HTML.

    Every other word on the page (table captions and column headings, labels such as
    "Reference", status words such as "declined", the sentences for empty parts) can be
    replaced through *phrases*, by its English text; field names through *field_labels*.
    So a page can be written wholly in another language, with *lang* set to match.

    Raises:
        ConfigurationError: *lang* or *greeting_lang* is not a language tag (``"en_NZ"``,
            ``"English"``), *title* is empty, or *sample_rows* is not a whole number, 0 or
            more.

    Attributes:
        lang: the page's language tag (BCP 47), e.g. ``"en-NZ"``; screen readers choose
            their voice by it.
        greeting: the first word; empty for none.
        greeting_lang: the greeting's language tag (``"mi"``: te reo Māori).
        title: the page title.
        intro: what the bundle is.
        holdings_heading, holdings_intro: the section on the records.
        record_labels: a plain name for a record type, by type name: ``{"CaseNote":
            "Case notes"}``; the type name in words ("Case note") where none is given.
        sample_rows: how many records of each type the page lists; the rest are in the CSV.
        consents_heading, consents_intro, consents_none: the section on consent.
        disclosures_heading, disclosures_intro, disclosures_none: who it was shared with.
        corrections_heading, corrections_intro, corrections_none: correction requests.
        withheld_heading, withheld_intro, withheld_none: what was withheld and why.
        ncnd_heading, ncnd_intro: the answers that neither confirm nor deny (s 47), shown
            only when the request has one.
        other_forms_heading, other_forms_intro: information given on conditions or in
            another way (ss 54–56), shown only when the request has some.
        draft_notice: said at the top of a draft, which is not an answer to give anyone.
        access_heading, access_intro: when it was read, and why.
        access_incomplete: said when the audit records may not show every use, before the
            reasons that apply, each a sentence of its own: *access_not_listed* (records
            that do not say whose information was used), *access_partly_listed* (records
            that list only some of the people), *access_other_keys* (records that could not
            be checked), *access_not_itemised* (older records that say the person's
            information was used but not which of it), *access_cut_short* (records cut
            short: work still going on, or stopped suddenly).
        access_fields_unknown: said in a use's "what was read" when the records of that
            time do not say which of the person's information was looked at.
        access_more_possible: added to a use's "what was read" when its record was cut
            short.
        access_would_deny: said after a piece of information in a use's "what was read"
            when our rules did not allow that use, and the system, in monitor mode, recorded
            it instead of stopping it.
        not_included: said instead of a part whose source was not connected to the bundle.
        rights_heading, rights: the person's rights (correction, complaint).
        contact_heading, contact_intro: how to reach the agency.
        files_heading, files_intro: the other files in the bundle.
        phrases: replacements for any other fixed text on the page, by its English text,
            e.g. ``{"Answer due by": "Me whakautu i mua i te"}``.
        field_labels: a plain name for a field, by ``"Type.field"`` or ``"field"``, e.g.
            ``{"CaseNote.text": "What your caseworker wrote"}``; the field's name in words
            ("Health note" for ``health_note``) otherwise. The page never shows a field's
            code name: where the audit trail or the disclosure log names
            ``ClientProfile.health_note``, the page says "Health note (Client profile)".
    """

    lang: str = attrs.field(default="en-NZ", validator=_language)
    greeting: str = "Kia ora"
    greeting_lang: str = attrs.field(default="mi", validator=_language)
    title: str = attrs.field(default="Your information held by {agency}", validator=_text)
    intro: str = (
        "You asked {agency} for the information we hold about you. We received your request "
        "on {received}. This page summarises everything we found. The other files in this "
        "bundle hold the same information in full, in forms a computer can read."
    )
    holdings_heading: str = "What we hold about you, and why"
    holdings_intro: str = (
        "For each kind of record, the first table says what each piece of information is "
        "used for and on what basis. The second lists your records."
    )
    record_labels: Mapping[str, str] = attrs.field(factory=dict)
    sample_rows: int = 50
    consents_heading: str = "What you agreed to"
    consents_intro: str = (
        "Every choice you (or someone acting for you) made about your information, oldest "
        "first. You can change your mind at any time: contact us."
    )
    consents_none: str = "We have no record of you giving or refusing consent."
    disclosures_heading: str = "Who we shared your information with"
    disclosures_intro: str = "Each time we gave your information to another agency."
    disclosures_none: str = "We have not shared your information with anyone."
    corrections_heading: str = "Corrections you asked for"
    corrections_intro: str = (
        "When we do not make a correction you asked for, you can give us a statement of the "
        "correction you wanted. We keep it with the information and show it to anyone we "
        "share that information with."
    )
    corrections_none: str = "You have not asked us to correct anything."
    withheld_heading: str = "What we did not give you, and why"
    withheld_intro: str = (
        "The law lets us hold back some information in some cases. We have not given you "
        "the information below, for the reasons shown. You can ask the Privacy Commissioner "
        "to review this."
    )
    withheld_none: str = "We have not held anything back."
    access_heading: str = "When your information was looked at, and why"
    access_intro: str = (
        "Each time our staff or systems used your information, from our audit records."
    )
    not_included: str = (
        "This bundle does not include this information. Please ask us about it: our contact "
        "details are below."
    )
    access_incomplete: str = (
        "Our audit records may not show every time your information was looked at, or "
        "everything that was looked at:"
    )
    access_not_listed: str = "Some of our audit records do not say whose information was used."
    access_partly_listed: str = (
        "Some of our audit records list only some of the people whose information was used."
    )
    access_other_keys: str = "Some of our audit records could not be checked for your information."
    access_not_itemised: str = (
        "Some of our older audit records say that your information was looked at, but not "
        "which of it."
    )
    access_cut_short: str = (
        "Some of our audit records were cut short, because the work they record was still "
        "going on when we prepared this answer, or stopped suddenly. That work may have "
        "looked at more of your information than is shown."
    )
    access_fields_unknown: str = (
        "Our records of that time do not say which of your information was looked at."
    )
    access_more_possible: str = "This record was cut short: more may have been looked at."
    access_would_deny: str = (
        "(our rules did not allow this use: our system recorded it instead of stopping it)"
    )
    rights_heading: str = "Your rights"
    rights: str = (
        "You can ask us to correct any of this information if you think it is wrong. If we "
        "do not correct it, you can give us a statement of the correction you wanted, and we "
        "will keep it with your information.\n\n"
        "If you are not happy with how we have answered your request, please talk to us "
        "first. You can also complain to the Privacy Commissioner: www.privacy.org.nz, "
        "0800 803 909, or PO Box 10094, Wellington 6143."
    )
    contact_heading: str = "How to contact us"
    contact_intro: str = "Contact our {officer} about this request (reference {request_id})."
    files_heading: str = "The files in this bundle"
    files_intro: str = (
        "records.json and the files in the records folder hold every record in full; open "
        "the .csv files in a spreadsheet. manifest.json and manifest.sig let anyone check "
        "that nothing in the bundle was changed after we made it."
    )
    ncnd_heading: str = "What we neither confirm nor deny"
    ncnd_intro: str = (
        "For the information below, the law lets us neither confirm nor deny whether we hold "
        "it, because saying either could cause the harm shown. This is not a sign that we do "
        "or do not hold it. You can ask the Privacy Commissioner to review this."
    )
    other_forms_heading: str = "Information given on conditions, or another way"
    other_forms_intro: str = (
        "Instead of holding this information back, we are giving it to you on the conditions "
        "shown, or in another way than a copy in this bundle."
    )
    draft_notice: str = (
        "DRAFT: this is a draft for our own review. It is not our answer to the request, and "
        "must not be given to anyone."
    )

    def __attrs_post_init__(self) -> None:
        if isinstance(self.sample_rows, bool) or not isinstance(self.sample_rows, int):
            raise ConfigurationError("Wording.sample_rows must be a whole number, 0 or more")
        if self.sample_rows < 0:
            raise ConfigurationError("Wording.sample_rows must be a whole number, 0 or more")

    phrases: Mapping[str, str] = attrs.field(factory=dict)
    field_labels: Mapping[str, str] = attrs.field(factory=dict)

    def label(self, record_type: str) -> str:
        """The plain name of *record_type* (`record_labels`, else its name in words)."""
        found = self.record_labels.get(record_type)
        if found is not None:
            return found
        last = record_type.rpartition(".")[2]
        return humane(last) if last.isidentifier() else record_type

    def say(self, text: str) -> str:
        """*text* as the agency words it (`phrases`), else as it is."""
        return self.phrases.get(text, text)

    def field_label(self, record_type: str, field: str) -> str:
        """The plain name of *field* of *record_type* (`field_labels`, else its name in
        words)."""
        found = self.field_labels.get(f"{record_type}.{field}", self.field_labels.get(field))
        return found if found is not None else humane(field)

    def item_label(self, dotted: str) -> str:
        """The plain name of a field named as ``"Type.field"`` (as the audit trail and the
        disclosure log name fields): ``"Health note (Client profile)"``."""
        record_type, dot, field = dotted.rpartition(".")
        if not dot or not record_type or not field.isidentifier():
            found = self.field_labels.get(dotted)
            return (
                found if found is not None else humane(dotted) if dotted.isidentifier() else dotted
            )
        return f"{self.field_label(record_type, field)} ({self.label(record_type)})"

    def access_gap(self, code: str) -> str:
        """The sentence for one reason the access history may be incomplete (`Page.access_gaps`).

        Raises:
            ConfigurationError: *code* is not one of the reasons.
        """
        name = _ACCESS_GAPS.get(code)
        if name is None:
            raise ConfigurationError(
                f"unknown reason {code!r} for an incomplete access history; use one of: "
                f"{', '.join(_ACCESS_GAPS)}"
            )
        text: str = getattr(self, name)
        return text


#: Why an access history may be incomplete, by the code ``access-history.json`` gives, and
#: the `Wording` attribute that says so to the person.
_ACCESS_GAPS: Mapping[str, str] = {
    "subjects-not-recorded": "access_not_listed",
    "subjects-not-listed": "access_not_listed",
    "subjects-capped": "access_partly_listed",
    "other-keys": "access_other_keys",
    "subjects-not-pseudonyms": "access_other_keys",
    "fields-not-per-person": "access_not_itemised",
    "parts-missing": "access_cut_short",
}


@attrs.frozen
class Section:
    """One table of the page.

    Attributes:
        caption: the table's caption.
        header: the column headings.
        rows: the cells, as text (escaped when the page is written).
        note: a sentence after the table, e.g. "the other 1,200 are in records/Note.csv".
    """

    caption: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    note: str = ""


@attrs.frozen
class Page:
    """What the page shows; built by the bundle writer, rendered by `render_page`."""

    agency: AgencyDetails
    wording: Wording
    request_id: str
    received: date
    due: date
    holdings: Sequence[tuple[str, Sequence[Section]]]
    consents: Section | None
    disclosures: Section | None
    corrections: Section | None
    withheld: Section | None
    access: Section | None
    access_complete: bool
    files: Sequence[str]
    #: parts whose source the agency did not connect: "consents", "disclosures",
    #: "corrections", "access". The page says so rather than "none".
    not_included: frozenset[str] = frozenset()
    #: why the access history may be incomplete, as the codes ``access-history.json``
    #: gives (`Wording.access_gap`); each is said once, after `Wording.access_incomplete`.
    access_gaps: Sequence[str] = ()
    #: a draft, for the agency's review: the page says so at the top.
    draft: bool = False
    #: who asked: "person", "agent", or None when the request does not say.
    requester: str | None = None
    #: the answers that neither confirm nor deny (s 47): what about, why, the law.
    ncnd: Section | None = None
    #: information given on conditions or in another way (ss 54–56).
    other_forms: Section | None = None
    #: where information came from: a line per item filled from a partner's referral.
    provenance: Section | None = None


def _table_blocks(section: Section, say: Callable[[str], str]) -> list[Block]:
    """*section* as a table (its headings as the agency words them), and its note."""
    blocks: list[Block] = [
        Table(
            caption=section.caption,
            header=[say(heading) for heading in section.header],
            rows=section.rows,
        )
    ]
    if section.note:
        blocks.append(Paragraph(section.note, note=True))
    return blocks


def _part(
    heading: str, intro: str, none: str, section: Section | None, say: Callable[[str], str]
) -> list[Block]:
    blocks: list[Block] = [Heading(2, heading)]
    if section is None or not section.rows:
        return [*blocks, *paragraphs(none)]
    return [*blocks, *paragraphs(intro), *_table_blocks(section, say)]


def _access_gaps(page: Page) -> list[Block]:
    """Why the access history may be incomplete: the lead sentence, then each reason once."""
    reasons = dict.fromkeys(page.wording.access_gap(code) for code in page.access_gaps)
    blocks: list[Block] = list(paragraphs(page.wording.access_incomplete))
    if reasons:
        blocks.append(Bullets(reasons))
    return blocks


def page_document(page: Page) -> Document:
    """What the page says, as a document: header, a section per topic."""
    wording = page.wording
    received, due = long_date(page.received), long_date(page.due)
    values = {
        "agency": page.agency.name,
        "received": received,
        "due": due,
        "request_id": page.request_id,
        "officer": page.agency.privacy_officer,
    }
    say = wording.say
    title = fill(wording.title, values)
    header: list[Block] = []
    if page.draft:
        title = f"{say('Draft')}: {title}"
        header += paragraphs(fill(wording.draft_notice, values))
    if wording.greeting.strip():
        header.append(Paragraph(wording.greeting, lang=wording.greeting_lang))
    header += [Heading(1, title), *paragraphs(fill(wording.intro, values))]
    facts = [
        (say("Reference"), page.request_id),
        (say("Received"), received),
        (say("Answer due by"), due),
    ]
    if page.requester is not None:
        asked_by = "You" if page.requester == "person" else "Someone acting for you"
        facts.append((say("Asked by"), say(asked_by)))
    header.append(Definitions(facts))
    holdings: list[Block] = [
        Heading(2, wording.holdings_heading),
        *paragraphs(fill(wording.holdings_intro, values)),
    ]
    if not page.holdings:
        holdings += paragraphs(say("We found no records about you."))
    for label, sections in page.holdings:
        holdings.append(Heading(3, label))
        for section in sections:
            holdings += _table_blocks(section, say)
    parts: list[tuple[str, str, str, str, Section | None]] = [
        (
            "consents",
            wording.consents_heading,
            wording.consents_intro,
            wording.consents_none,
            page.consents,
        ),
        (
            "disclosures",
            wording.disclosures_heading,
            wording.disclosures_intro,
            wording.disclosures_none,
            page.disclosures,
        ),
        (
            "corrections",
            wording.corrections_heading,
            wording.corrections_intro,
            wording.corrections_none,
            page.corrections,
        ),
        (
            "withheld",
            wording.withheld_heading,
            wording.withheld_intro,
            wording.withheld_none,
            page.withheld,
        ),
        (
            "access",
            wording.access_heading,
            wording.access_intro,
            say("None recorded."),
            page.access,
        ),
    ]
    topics = [DocumentSection(holdings)]
    for name, heading, intro, none, table in parts:
        if name in page.not_included:
            none, table = wording.not_included, None
        blocks = _part(heading, fill(intro, values), none, table, say)
        if name == "access" and name not in page.not_included and not page.access_complete:
            blocks += _access_gaps(page)
        topics.append(DocumentSection(blocks))
        if name == "disclosures" and page.provenance is not None and page.provenance.rows:
            intro = say(
                "Information another agency gave us when it referred you, so that we did not "
                "ask you for it again."
            )
            heading = say("Where this came from")
            topics.append(DocumentSection(_part(heading, intro, "", page.provenance, say)))
        if name == "withheld":
            for heading, intro, table in (
                (wording.ncnd_heading, wording.ncnd_intro, page.ncnd),
                (wording.other_forms_heading, wording.other_forms_intro, page.other_forms),
            ):
                if table is not None and table.rows:
                    topics.append(
                        DocumentSection(_part(heading, fill(intro, values), "", table, say))
                    )
    contact = [(say("Agency"), page.agency.name)]
    contact += [(say(label), value) for label, value in page.agency.contact_lines()]
    topics += [
        DocumentSection(
            [Heading(2, wording.rights_heading), *paragraphs(fill(wording.rights, values))]
        ),
        DocumentSection(
            [
                Heading(2, wording.contact_heading),
                *paragraphs(fill(wording.contact_intro, values)),
                Definitions(contact),
            ]
        ),
        DocumentSection(
            [
                Heading(2, wording.files_heading),
                *paragraphs(fill(wording.files_intro, values)),
                Bullets(page.files),
            ]
        ),
    ]
    return Document(
        title=title, lang=wording.lang, header=header, sections=topics, style=PAGE_STYLE
    )


def render_page(page: Page) -> str:
    """The page as one HTML document (UTF-8 text)."""
    return render_html(page_document(page))
