"""The notice as words: one document, written as Markdown and as self-contained HTML.

`notice_document` turns a `Notice` into a document of plain-text blocks (headings,
paragraphs, tables, labelled values, lists); `render_markdown` and `render_html` write that
one document with the library's document renderer. So the two outputs always say the same
thing, and neither this module nor any other in notices escapes anything: the renderer
escapes every piece of text where it writes it.

The document is built from declarations and the agency's wording only; it never sees a
record, so no personal value can reach a notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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
    render_markdown,
    split_sections,
)
from .._shared.nztime import long_date
from ..bases import BasisKind, LawfulBasis, plain_description
from ._who import who_blocks

if TYPE_CHECKING:
    from ..supply import Supply
    from ._notice import Notice
    from ._wording import NoticeWording

__all__ = ["basis_text", "notice_document", "notice_html", "notice_markdown", "supply_text"]


def basis_text(basis: LawfulBasis, wording: NoticeWording) -> str:
    """A basis as the person reads it: "your consent", rather than "the person's consent"."""
    if basis.kind is BasisKind.CONSENT:
        return wording.say("your consent")
    if basis.kind is BasisKind.AUTHORISED_BY_PERSON:
        return wording.say("your authorisation (Privacy Act 2020, IPP 10(1)(c) and IPP 11(1)(c))")
    if basis.kind is BasisKind.STATUTE:
        return fill(wording.say("the law ({law})"), {"law": basis.describe()})
    return plain_description(basis)


def supply_text(supply: Supply | None, wording: NoticeWording) -> str:
    """Whether the person must supply a field, and the consequence of not (IPP 3(1)), in
    the agency's words; for a field that does not declare it, that they can ask us."""
    if supply is None:
        return wording.supply_unknown
    said = wording.supply_mandatory if supply.mandatory else wording.supply_voluntary
    return f"{said} {supply.consequence}"


def _join(items: Sequence[str]) -> str:
    return "; ".join(dict.fromkeys(items))


def _collect(notice: Notice) -> list[Block]:
    wording = notice.wording
    blocks: list[Block] = [Heading(2, wording.collect_heading)]
    records = [r for r in notice.records if r.fields]
    if not records:
        return [*blocks, *paragraphs(wording.collect_none)]
    blocks += paragraphs(wording.collect_intro)
    header = [
        wording.say(heading)
        for heading in ("Information", "Kind of information", "Used for", "Needs your consent")
    ]
    for record in records:
        label = wording.label(record.name)
        rows = []
        for field in record.fields:
            kind = field.category.title if field.category is not None else wording.say("Other")
            used_for = ", ".join(dict.fromkeys(u.purpose.title for u in field.uses))
            consent = ", ".join(notice.purpose_title(c) for c in field.consent)
            answer = (
                fill(wording.say("Yes, for {purposes}"), {"purposes": consent})
                if consent
                else wording.say("No")
            )
            rows.append((wording.field_label(record.name, field.name), kind, used_for, answer))
        blocks += [Heading(3, label), Table(header, rows, caption=label)]
    return blocks


def _why(notice: Notice) -> list[Block]:
    wording = notice.wording
    say = wording.say
    blocks: list[Block] = [Heading(2, wording.why_heading), *paragraphs(wording.why_intro)]
    for purpose in notice.purposes():
        used: dict[str, list[str]] = {}
        bases: list[str] = []
        # every field code may read for the purpose: declared for it or an ancestor
        for field, use in notice.fields_for(purpose.id):
            label = wording.label(field.record_type)
            used.setdefault(label, []).append(wording.field_label(field.record_type, field.name))
            bases.append(basis_text(use.basis, wording))
        items = [
            (say("How it helps you"), purpose.benefit),
            (
                say("What we use"),
                "; ".join(f"{label}: {', '.join(names)}" for label, names in used.items()),
            ),
            (say("On what basis"), _join(bases)),
        ]
        retention = notice.retention(purpose)
        if retention is not None:
            items.append((say("How long we keep it"), retention.describe()))
        blocks += [Heading(3, purpose.title), *paragraphs(purpose.description), Definitions(items)]
    return blocks


def _supply(notice: Notice) -> list[Block]:
    wording = notice.wording
    records = [r for r in notice.records if r.fields]
    if not records:
        return []
    blocks: list[Block] = [Heading(2, wording.supply_heading), *paragraphs(wording.supply_intro)]
    for record in records:
        label = wording.label(record.name)
        items = [
            (wording.field_label(record.name, f.name), supply_text(f.supply, wording))
            for f in record.fields
        ]
        blocks += [Heading(3, label), Definitions(items)]
    return blocks


def _share(notice: Notice) -> list[Block]:
    wording = notice.wording
    say = wording.say
    blocks: list[Block] = [Heading(2, wording.share_heading)]
    if not notice.agreements:
        return [*blocks, *paragraphs(wording.share_none)]
    blocks += paragraphs(wording.share_intro)
    for agreement in notice.agreements:
        recipients = []
        for name in notice.recipients(agreement):
            party = agreement.party(name)
            address = party.address if party is not None else None
            recipients.append(f"{name}, {address}" if address else name)
        covered = []
        for qualified in agreement.fields:
            record_type, _, field = qualified.rpartition(".")
            covered.append(
                f"{wording.field_label(record_type, field)} ({wording.label(record_type)})"
            )
        covered += [notice.category_title(c) for c in agreement.categories]
        when = fill(
            say("From {starts} to {expires}"),
            {"starts": long_date(agreement.starts), "expires": long_date(agreement.expires)},
        )
        blocks.append(Heading(3, agreement.name))
        if agreement.description.strip():
            blocks += paragraphs(agreement.description)
        items = (
            (say("Shared with"), _join(recipients)),
            (say("What we share"), _join(covered)),
            (say("Why"), _join([notice.purpose_title(p) for p in agreement.purposes])),
            (say("On what basis"), basis_text(agreement.basis, wording)),
            (say("When"), when),
        )
        blocks.append(Definitions(items))
    return blocks


def _consent(notice: Notice) -> list[Block]:
    wording = notice.wording
    blocks: list[Block] = [Heading(2, wording.consent_heading)]
    needed: dict[str, list[str]] = {}
    for field in notice.fields():
        for ident in field.consent:
            needed.setdefault(notice.purpose_title(ident), []).append(
                f"{wording.field_label(field.record_type, field.name)} "
                f"({wording.label(field.record_type)})"
            )
    if not needed:
        return [*blocks, *paragraphs(wording.consent_none)]
    items = tuple(f"{title}: {', '.join(labels)}" for title, labels in needed.items())
    return [
        *blocks,
        *paragraphs(wording.consent_intro),
        Bullets(items),
        *paragraphs(wording.consent_change),
    ]


def _rights(notice: Notice, values: dict[str, str]) -> list[Block]:
    wording = notice.wording
    blocks: list[Block] = [
        Heading(2, wording.rights_heading),
        *paragraphs(fill(wording.rights, values)),
    ]
    withheld = [
        f"{wording.field_label(f.record_type, f.name)} ({wording.label(f.record_type)}): "
        f"{f.withhold.reason} ({f.withhold.cite()})"
        for f in notice.fields()
        if f.withhold is not None
    ]
    if withheld:
        blocks += [*paragraphs(wording.withheld_intro), Bullets(withheld)]
    return blocks


def notice_document(notice: Notice) -> Document:
    """The notice as a document: the title and introduction, the five topics, how to
    contact us, and the version."""
    wording = notice.wording
    agency = notice.agency
    values = {"agency": agency.name, "officer": agency.privacy_officer}
    title = fill(wording.title, values)
    header: list[Block] = []
    if wording.greeting.strip():
        header.append(Paragraph(wording.greeting, lang=wording.greeting_lang))
    header += [Heading(1, title), *paragraphs(fill(wording.intro, values))]
    contact = [(wording.say("Agency"), agency.name)]
    contact += [(wording.say(label), value) for label, value in agency.contact_lines()]
    topics = [
        *_collect(notice),
        *_supply(notice),
        *_why(notice),
        *who_blocks(notice),
        *_share(notice),
        *_consent(notice),
        *_rights(notice, values),
        Heading(2, wording.contact_heading),
        *paragraphs(fill(wording.contact_intro, values)),
        Definitions(contact),
    ]
    version = fill(wording.version_line, {**values, "version": notice.version})
    return Document(
        title=title,
        lang=wording.lang,
        header=header,
        sections=split_sections(topics),
        footer=paragraphs(version),
        style=PAGE_STYLE,
    )


def notice_markdown(notice: Notice) -> str:
    """The notice as Markdown."""
    return render_markdown(notice_document(notice))


def notice_html(notice: Notice) -> str:
    """The notice as one self-contained HTML document."""
    return render_html(notice_document(notice))
