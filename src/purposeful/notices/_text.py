"""The notice as words: Markdown and self-contained HTML, from one outline.

`outline` turns a `Notice` into a list of blocks (headings, paragraphs, tables, labelled
values, lists); `render_markdown` and `render_html` write the same blocks. So the two
outputs always say the same thing, and each escapes text in exactly one place:

- HTML: `html.escape`, through the subject-access page's helpers (`paragraphs`, `_cell`,
  `html_table`), where text is put in the page;
- Markdown: `md_escape`, which backslash-escapes every character that could start markup
  (emphasis, links, code, HTML tags, entities, table cells).

The outline is built from declarations and the agency's wording only; it never sees a
record, so no personal value can reach a notice.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs

from ..access.page import Section, document_head, fill, html_table, long_date, paragraphs
from ..bases import BasisKind, LawfulBasis

if TYPE_CHECKING:
    from ._notice import Notice
    from ._wording import NoticeWording

__all__ = ["markdown", "md_escape", "outline", "render_html", "render_markdown"]


@attrs.frozen
class Greeting:
    text: str
    lang: str


@attrs.frozen
class Heading:
    level: int
    text: str


@attrs.frozen
class Para:
    """Text; a blank line separates paragraphs."""

    text: str


@attrs.frozen
class Table:
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@attrs.frozen
class Pairs:
    """Labelled values: ``<dl>`` in HTML, a list of "**Label:** value" in Markdown."""

    items: tuple[tuple[str, str], ...]


@attrs.frozen
class Bullets:
    items: tuple[str, ...]


@attrs.frozen
class Footer:
    text: str


Block = Greeting | Heading | Para | Table | Pairs | Bullets | Footer

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def md_escape(text: str) -> str:
    """*text* as literal Markdown: every character that could start markup is escaped."""
    return _MD_ENTITY.sub(r"\\&", _MD_SPECIAL.sub(r"\\\1", text))


def basis_text(basis: LawfulBasis, wording: NoticeWording) -> str:
    """A basis as the person reads it: "your consent", rather than "the person's consent"."""
    if basis.kind is BasisKind.CONSENT:
        return wording.say("your consent")
    if basis.kind is BasisKind.STATUTE:
        return fill(wording.say("the law ({law})"), {"law": basis.describe()})
    return basis.describe()


def _join(items: Sequence[str]) -> str:
    return "; ".join(dict.fromkeys(items))


def _collect(notice: Notice) -> list[Block]:
    wording = notice.wording
    blocks: list[Block] = [Heading(2, wording.collect_heading)]
    records = [r for r in notice.records if r.fields]
    if not records:
        return [*blocks, Para(wording.collect_none)]
    blocks.append(Para(wording.collect_intro))
    header = ("Information", "Kind of information", "Used for", "Needs your consent")
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
        blocks += [Heading(3, label), Table(label, header, tuple(rows))]
    return blocks


def _why(notice: Notice) -> list[Block]:
    wording = notice.wording
    say = wording.say
    blocks: list[Block] = [Heading(2, wording.why_heading), Para(wording.why_intro)]
    for purpose in notice.purposes():
        used: dict[str, list[str]] = {}
        bases: list[str] = []
        for field in notice.fields():
            for use in field.uses:
                if use.purpose.id == purpose.id:
                    label = wording.label(field.record_type)
                    used.setdefault(label, []).append(
                        wording.field_label(field.record_type, field.name)
                    )
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
        blocks += [Heading(3, purpose.title), Para(purpose.description), Pairs(tuple(items))]
    return blocks


def _share(notice: Notice) -> list[Block]:
    wording = notice.wording
    say = wording.say
    blocks: list[Block] = [Heading(2, wording.share_heading)]
    if not notice.agreements:
        return [*blocks, Para(wording.share_none)]
    blocks.append(Para(wording.share_intro))
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
            blocks.append(Para(agreement.description))
        items = (
            (say("Shared with"), _join(recipients)),
            (say("What we share"), _join(covered)),
            (say("Why"), _join([notice.purpose_title(p) for p in agreement.purposes])),
            (say("On what basis"), basis_text(agreement.basis, wording)),
            (say("When"), when),
        )
        blocks.append(Pairs(items))
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
        return [*blocks, Para(wording.consent_none)]
    items = tuple(f"{title}: {', '.join(labels)}" for title, labels in needed.items())
    return [*blocks, Para(wording.consent_intro), Bullets(items), Para(wording.consent_change)]


def _rights(notice: Notice, values: dict[str, str]) -> list[Block]:
    wording = notice.wording
    blocks: list[Block] = [
        Heading(2, wording.rights_heading),
        Para(fill(wording.rights, values)),
    ]
    withheld = [
        f"{wording.field_label(f.record_type, f.name)} ({wording.label(f.record_type)}): "
        f"{f.withhold.reason} ({f.withhold.cite()})"
        for f in notice.fields()
        if f.withhold is not None
    ]
    if withheld:
        blocks += [Para(wording.withheld_intro), Bullets(tuple(withheld))]
    return blocks


def outline(notice: Notice) -> list[Block]:
    """The notice's blocks, in order: title, the five topics, how to contact us, version."""
    wording = notice.wording
    agency = notice.agency
    values = {"agency": agency.name, "officer": agency.privacy_officer}
    blocks: list[Block] = []
    if wording.greeting.strip():
        blocks.append(Greeting(wording.greeting, wording.greeting_lang))
    blocks += [Heading(1, fill(wording.title, values)), Para(fill(wording.intro, values))]
    blocks += _collect(notice)
    blocks += _why(notice)
    blocks += _share(notice)
    blocks += _consent(notice)
    blocks += _rights(notice, values)
    contact = [(wording.say("Agency"), agency.name)]
    contact += [(wording.say(label), value) for label, value in agency.contact_lines()]
    blocks += [
        Heading(2, wording.contact_heading),
        Para(fill(wording.contact_intro, values)),
        Pairs(tuple(contact)),
        Footer(fill(wording.version_line, {**values, "version": notice.version})),
    ]
    return blocks


def _md_cell(text: str) -> str:
    return md_escape(" ".join(text.split()))


def _md_paragraphs(text: str) -> list[str]:
    parts = [part.strip() for part in text.split("\n\n") if part.strip()]
    out: list[str] = []
    for part in parts:
        out += [md_escape(" ".join(line.split())) for line in part.splitlines() if line.strip()]
        out.append("")
    return out


def render_markdown(notice: Notice) -> str:
    """The notice as Markdown."""
    return markdown(outline(notice), notice.wording.say)


def markdown(blocks: Sequence[Block], say: Callable[[str], str]) -> str:
    """*blocks* as Markdown; table headings pass through *say*."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Greeting):
            out += [md_escape(block.text), ""]
        elif isinstance(block, Heading):
            out += ["#" * block.level + " " + _md_cell(block.text), ""]
        elif isinstance(block, Para):
            out += _md_paragraphs(block.text)
        elif isinstance(block, Table):
            out.append("| " + " | ".join(_md_cell(say(h)) for h in block.header) + " |")
            out.append("|" + "---|" * len(block.header))
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            out.append("")
        elif isinstance(block, Pairs):
            out += [f"- **{_md_cell(label)}:** {_md_cell(value)}" for label, value in block.items]
            out.append("")
        elif isinstance(block, Bullets):
            out += [f"- {_md_cell(item)}" for item in block.items]
            out.append("")
        else:
            out += ["---", "", "*" + _md_cell(block.text) + "*", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def render_html(notice: Notice) -> str:
    """The notice as one self-contained HTML document; every text is escaped."""
    wording = notice.wording
    say = wording.say
    blocks = outline(notice)
    title = next(b.text for b in blocks if isinstance(b, Heading) and b.level == 1)
    out = [
        *document_head(wording.lang, title),
        "<body>",
        "<header>",
    ]
    in_main = in_section = False
    for block in blocks:
        if isinstance(block, Heading) and block.level == 2:
            if not in_main:
                out += ["</header>", "<main>"]
                in_main = True
            if in_section:
                out.append("</section>")
            out.append("<section>")
            in_section = True
        if isinstance(block, Greeting):
            lang = html.escape(block.lang)
            out.append(f'<p><span lang="{lang}">{html.escape(block.text)}</span></p>')
        elif isinstance(block, Heading):
            out.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            out.append(paragraphs(block.text))
        elif isinstance(block, Table):
            out += html_table(Section(block.caption, block.header, block.rows), say)
        elif isinstance(block, Pairs):
            out.append("<dl>")
            out += [
                f"<dt>{html.escape(label)}</dt><dd>{html.escape(value)}</dd>"
                for label, value in block.items
            ]
            out.append("</dl>")
        elif isinstance(block, Bullets):
            out += ["<ul>", *(f"<li>{html.escape(item)}</li>" for item in block.items), "</ul>"]
        else:
            if in_section:
                out.append("</section>")
                in_section = False
            out += ["</main>" if in_main else "</header>", "<footer>", paragraphs(block.text)]
            out.append("</footer>")
            in_main = False
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
