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
values, statements, reasons) is untrusted: it passes through `html.escape` once, at the
point it is put in the page (`_cell`, `paragraphs`), and nowhere else builds markup from text.
The agency's wording is escaped too: it is text, not HTML.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from ..errors import ConfigurationError

__all__ = [
    "AgencyDetails",
    "Page",
    "Section",
    "Wording",
    "document_head",
    "fill",
    "html_table",
    "long_date",
    "nz_time",
    "paragraphs",
    "render_page",
]


def _text(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be non-empty text"
        )


def _optional_text(instance: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        _text(instance, attribute, value)  # type: ignore[arg-type]


@attrs.frozen
class AgencyDetails:
    """Who answers the request, and how the person reaches them.

    Attributes:
        name: the agency's name, as the person knows it.
        email, phone, postal_address, website: how to reach the privacy officer; give at
            least one.
        privacy_officer: a name or title, e.g. ``"Privacy Officer"``.
    """

    name: str = attrs.field(validator=_text)
    email: str | None = attrs.field(default=None, validator=_optional_text)
    phone: str | None = attrs.field(default=None, validator=_optional_text)
    postal_address: str | None = attrs.field(default=None, validator=_optional_text)
    website: str | None = attrs.field(default=None, validator=_optional_text)
    privacy_officer: str = attrs.field(default="Privacy Officer", validator=_text)

    def __attrs_post_init__(self) -> None:
        if not (self.email or self.phone or self.postal_address or self.website):
            raise ConfigurationError(
                "AgencyDetails needs at least one way to reach the privacy officer: "
                "email=, phone=, postal_address= or website="
            )

    def contact_lines(self) -> list[tuple[str, str]]:
        """(label, value) for each way to reach the privacy officer."""
        found = [
            ("Email", self.email),
            ("Phone", self.phone),
            ("Post", self.postal_address),
            ("Website", self.website),
        ]
        return [(label, value) for label, value in found if value]


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

    Attributes:
        lang: the page's language tag (BCP 47), e.g. ``"en-NZ"``.
        greeting: the first word; empty for none.
        greeting_lang: the greeting's language tag (``"mi"``: te reo Māori).
        title: the page title.
        intro: what the bundle is.
        holdings_heading, holdings_intro: the section on the records.
        record_labels: a plain name for a record type, by type name: ``{"CaseNote":
            "Case notes"}``; the type name is shown where none is given.
        sample_rows: how many records of each type the page lists; the rest are in the CSV.
        consents_heading, consents_intro, consents_none: the section on consent.
        disclosures_heading, disclosures_intro, disclosures_none: who it was shared with.
        corrections_heading, corrections_intro, corrections_none: correction requests.
        withheld_heading, withheld_intro, withheld_none: what was withheld and why.
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
        not_included: said instead of a part whose source was not connected to the bundle.
        rights_heading, rights: the person's rights (correction, complaint).
        contact_heading, contact_intro: how to reach the agency.
        files_heading, files_intro: the other files in the bundle.
        phrases: replacements for any other fixed text on the page, by its English text,
            e.g. ``{"Answer due by": "Me whakautu i mua i te"}``.
        field_labels: a plain name for a field, by ``"Type.field"`` or ``"field"``, e.g.
            ``{"CaseNote.text": "What your caseworker wrote"}``; the field's name otherwise.
    """

    lang: str = attrs.field(default="en-NZ", validator=_text)
    greeting: str = "Kia ora"
    greeting_lang: str = "mi"
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

    def __attrs_post_init__(self) -> None:
        if isinstance(self.sample_rows, bool) or not isinstance(self.sample_rows, int):
            raise ConfigurationError("Wording.sample_rows must be a whole number, 0 or more")
        if self.sample_rows < 0:
            raise ConfigurationError("Wording.sample_rows must be a whole number, 0 or more")

    phrases: Mapping[str, str] = attrs.field(factory=dict)
    field_labels: Mapping[str, str] = attrs.field(factory=dict)

    def label(self, record_type: str) -> str:
        """The plain name of *record_type*."""
        return self.record_labels.get(record_type, record_type)

    def say(self, text: str) -> str:
        """*text* as the agency words it (`phrases`), else as it is."""
        return self.phrases.get(text, text)

    def field_label(self, record_type: str, field: str) -> str:
        """The plain name of *field* of *record_type* (`field_labels`)."""
        return self.field_labels.get(f"{record_type}.{field}", self.field_labels.get(field, field))

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


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;
max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;background:#fff}
h1{font-size:1.8rem}h2{margin-top:2.5rem;border-bottom:2px solid #333}
table{border-collapse:collapse;width:100%;margin:1rem 0}
caption{text-align:left;font-weight:bold;padding:.25rem 0}
th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top;
overflow-wrap:anywhere;white-space:pre-wrap}
th{background:#eee}
.note{font-style:italic}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}
a::after{content:" (" attr(href) ")"}}
""".strip()


def fill(text: str, values: Mapping[str, str]) -> str:
    """*text* with ``{name}`` replaced from *values*; other braces are left as they are."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def paragraphs(text: str) -> str:
    """Paragraphs of escaped text: a blank line separates them."""
    return "\n".join(
        f"<p>{html.escape(part.strip())}</p>" for part in text.split("\n\n") if part.strip()
    )


def _cell(text: str, tag: str = "td", scope: str = "") -> str:
    attribute = f' scope="{scope}"' if scope else ""
    return f"<{tag}{attribute}>{html.escape(text)}</{tag}>"


def html_table(section: Section, say: Callable[[str], str]) -> list[str]:
    out = ["<table>", f"<caption>{html.escape(section.caption)}</caption>", "<thead><tr>"]
    out += [_cell(say(heading), "th", "col") for heading in section.header]
    out += ["</tr></thead>", "<tbody>"]
    for row in section.rows:
        out.append("<tr>" + "".join(_cell(value) for value in row) + "</tr>")
    out += ["</tbody>", "</table>"]
    if section.note:
        out.append(f'<p class="note">{html.escape(section.note)}</p>')
    return out


def _part(
    heading: str, intro: str, none: str, section: Section | None, say: Callable[[str], str]
) -> list[str]:
    out = [f"<h2>{html.escape(heading)}</h2>"]
    if section is None or not section.rows:
        out.append(paragraphs(none))
        return out
    out.append(paragraphs(intro))
    out += html_table(section, say)
    return out


def _access_gaps(page: Page) -> list[str]:
    """Why the access history may be incomplete: the lead sentence, then each reason once."""
    reasons = dict.fromkeys(page.wording.access_gap(code) for code in page.access_gaps)
    out = [paragraphs(page.wording.access_incomplete)]
    if reasons:
        out += ["<ul>", *(f"<li>{html.escape(reason)}</li>" for reason in reasons), "</ul>"]
    return out


def document_head(lang: str, title: str) -> list[str]:
    """The start of a self-contained page, up to ``</head>``: its language, title and style,
    and a content security policy that lets nothing load."""
    return [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing may load: a policy that forbids every fetch, should a future edit add one.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
    ]


def render_page(page: Page) -> str:
    """The page as one HTML document (UTF-8 text)."""
    wording = page.wording
    values = {
        "agency": page.agency.name,
        "received": long_date(page.received),
        "due": long_date(page.due),
        "request_id": page.request_id,
        "officer": page.agency.privacy_officer,
    }
    title = fill(wording.title, values)
    out = [
        *document_head(wording.lang, title),
        "<body>",
        "<header>",
    ]
    say = wording.say
    if wording.greeting.strip():
        greeting_lang = html.escape(wording.greeting_lang)
        out.append(f'<p><span lang="{greeting_lang}">{html.escape(wording.greeting)}</span></p>')
    out += [f"<h1>{html.escape(title)}</h1>", paragraphs(fill(wording.intro, values))]
    out += [
        "<dl>",
        f"<dt>{html.escape(say('Reference'))}</dt><dd>{html.escape(page.request_id)}</dd>",
        f"<dt>{html.escape(say('Received'))}</dt><dd>{html.escape(values['received'])}</dd>",
        f"<dt>{html.escape(say('Answer due by'))}</dt><dd>{html.escape(values['due'])}</dd>",
        "</dl>",
        "</header>",
        "<main>",
        "<section>",
        f"<h2>{html.escape(wording.holdings_heading)}</h2>",
        paragraphs(fill(wording.holdings_intro, values)),
    ]
    if not page.holdings:
        out.append(paragraphs(say("We found no records about you.")))
    for label, sections in page.holdings:
        out.append(f"<h3>{html.escape(label)}</h3>")
        for section in sections:
            out += html_table(section, say)
    out.append("</section>")
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
    for name, heading, intro, none, table in parts:
        if name in page.not_included:
            none, table = wording.not_included, None
        out += ["<section>", *_part(heading, fill(intro, values), none, table, say)]
        if name == "access" and name not in page.not_included and not page.access_complete:
            out += _access_gaps(page)
        out.append("</section>")
    out += [
        "<section>",
        f"<h2>{html.escape(wording.rights_heading)}</h2>",
        paragraphs(fill(wording.rights, values)),
        "</section>",
        "<section>",
        f"<h2>{html.escape(wording.contact_heading)}</h2>",
        paragraphs(fill(wording.contact_intro, values)),
        "<dl>",
        f"<dt>{html.escape(say('Agency'))}</dt><dd>{html.escape(page.agency.name)}</dd>",
    ]
    out += [
        f"<dt>{html.escape(say(label))}</dt><dd>{html.escape(value)}</dd>"
        for label, value in page.agency.contact_lines()
    ]
    out += [
        "</dl>",
        "</section>",
        "<section>",
        f"<h2>{html.escape(wording.files_heading)}</h2>",
        paragraphs(fill(wording.files_intro, values)),
        "<ul>",
        *(f"<li>{html.escape(name)}</li>" for name in page.files),
        "</ul>",
        "</section>",
        "</main>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out)


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(day: date) -> str:
    """``"10 December 2026"``: the New Zealand way, unambiguous, whatever the locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def nz_time(moment: datetime) -> str:
    """``"10 December 2026, 2:05 pm"`` in New Zealand time (UTC, said so, without tz data)."""
    try:
        local = moment.astimezone(ZoneInfo("Pacific/Auckland"))
        zone = ""
    except ZoneInfoNotFoundError:
        local, zone = moment.astimezone(UTC), " UTC"
    hour = local.hour % 12 or 12
    half = "am" if local.hour < 12 else "pm"
    return f"{long_date(local.date())}, {hour}:{local.minute:02d} {half}{zone}"
