"""IPP 3A collection notices: telling a person that we collected their information from
someone else.

IPP 3A of the Privacy Act 2020 (inserted by the Privacy Amendment Act 2025) applies to
information collected on or after 1 May 2026. When an agency collects information about a
person from someone other than the person, it takes reasonable steps to make the person
aware, as soon as reasonably practicable, of:

1. the fact of the collection, and its purpose;
2. the intended recipients;
3. the names and addresses of the agencies that collected and hold it;
4. any law that authorises or requires the collection;
5. the rights of access and correction.

It also says, for each field of the record type, whether the person would have to give it
to us if we asked them, and what happens if they do not (IPP 3(1), from each field's
``supply=`` declaration).

`collection_notice` writes that text for one collection, from the collection's
particulars, the purpose registry, the declared record types and the sharing agreements.
It reads a collection through the `IndirectCollection` protocol, so the sharing log's
``Collection`` (or any object with the same attributes) can be passed as it is.

The text never holds the person's identifier: the collection's ``subject`` is never read.
Deciding whether an exception applies (the person already knows, say) stays with the
agency; it records which one with `record_exception`, as an `IPP3AException` value.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from .. import _config
from .._shared.agency import AgencyDetails
from .._shared.document import (
    Block,
    Bullets,
    Document,
    Heading,
    Paragraph,
    fill,
    paragraphs,
    render_markdown,
    split_sections,
)
from .._shared.nztime import long_date, nz_date
from ..errors import ConfigurationError
from ..purposes import PurposeRegistry
from ..records import RecordPolicy, record_policy
from ..sharing.agreements import Party, SharingAgreement
from ..sharing.exchange import IPP_3A_IN_FORCE
from ._text import supply_text
from ._wording import NoticeWording

__all__ = ["IPP_3A_IN_FORCE", "IndirectCollection", "collection_notice", "ipp3a_applies"]


@runtime_checkable
class IndirectCollection(Protocol):
    """Information about a person collected from someone else (what IPP 3A is about).

    ``purposeful.sharing.Collection`` has these attributes; so may any object.

    Attributes:
        subject: the person's identifier. Never read by `collection_notice`.
        record_type: the record type collected: its class, or its class name.
        source: who it was collected from: a party's name (or a `Party`).
        purpose: the id of the purpose it was collected for.
        collected_at: when it was collected (timezone-aware).
        law: the law that authorises or requires the collection, if any, e.g.
            ``"Oranga Tamariki Act 1989 s 66C"``.
    """

    @property
    def subject(self) -> object: ...
    @property
    def record_type(self) -> str | type[Any]: ...
    @property
    def source(self) -> str | Party: ...
    @property
    def purpose(self) -> str: ...
    @property
    def collected_at(self) -> datetime: ...
    @property
    def law(self) -> str | None: ...


def ipp3a_applies(collection: IndirectCollection) -> bool:
    """True if IPP 3A applies to *collection*: collected on or after 1 May 2026 (New
    Zealand time)."""
    return nz_date(collection.collected_at) >= IPP_3A_IN_FORCE


def _record(name: str, records: Iterable[type]) -> RecordPolicy | None:
    for cls in records:
        if isinstance(cls, type) and record_policy(cls).name == name:
            return record_policy(cls)
    return None


def _address(agency: AgencyDetails) -> str:
    if agency.postal_address:
        return agency.postal_address
    return "; ".join(value for _, value in agency.contact_lines())


def collection_notice(
    collection: IndirectCollection,
    *,
    agency: AgencyDetails,
    agreements: Iterable[SharingAgreement],
    registry: PurposeRegistry | None = None,
    records: Iterable[type] | None = None,
    wording: NoticeWording | None = None,
) -> str:
    """The IPP 3A notice for one collection, as Markdown (readable as plain text).

    It says, in the agency's voice: that we collected the information, from whom, when and
    for what purpose; who we intend to share it with (the other parties to each agreement
    that allows sharing for the purpose, is not over by the day of collection, and covers
    a field of the record type when the type is declared); the names and addresses of the
    source and of the agency; the law, if given; whether the person would have to give each
    field to us if we asked them, and what happens if they do not (IPP 3(1), when the
    record type is declared); and the rights of access and correction.

    Args:
        collection: the collection (see `IndirectCollection`); its subject is never read.
        agency: us: the agency that collected and holds the information.
        agreements: the sharing agreements, where the source's address and the recipients
            are found.
        registry: the purposes; default: the configured registry.
        records: the record classes to find the record type among; default: every record
            declared so far.
        wording: phrases to reword the notice's sentences (by their English text).

    Raises:
        UnknownPurpose: the collection's purpose is not in the registry.
        ConfigurationError: an agency or agreement of the wrong kind.
    """
    if not isinstance(agency, AgencyDetails):
        raise ConfigurationError(
            "agency= takes purposeful.access.AgencyDetails(name=..., postal_address=...)"
        )
    agreements = tuple(agreements)
    for agreement in agreements:
        if not isinstance(agreement, SharingAgreement):
            raise ConfigurationError(
                f"agreements= holds SharingAgreement values, not {type(agreement).__name__}"
            )
    wording = NoticeWording() if wording is None else wording
    say = wording.say
    registry = _config.get_configuration().registry if registry is None else registry
    purpose_id = str(getattr(collection.purpose, "id", collection.purpose))
    purpose = registry.get(purpose_id)
    kind = collection.record_type
    type_name = kind.__qualname__ if isinstance(kind, type) else str(kind)
    policy = _record(type_name, _config.declared_records() if records is None else records)
    source = collection.source
    source_name = source.name if isinstance(source, Party) else str(source)
    day = nz_date(collection.collected_at)

    covering = [
        a
        for a in agreements
        if a.allows_purpose(purpose_id)
        and a.expires >= day
        and (policy is None or any(a.covers(f) for f in policy.fields.values()))
    ]
    recipients: dict[str, tuple[Party, list[str]]] = {}
    for agreement in covering:
        for party in agreement.parties:
            if party.name != agency.name:
                recipients.setdefault(party.name, (party, []))[1].append(agreement.name)
    source_address = source.address if isinstance(source, Party) else None
    for agreement in [*covering, *agreements]:
        found = agreement.party(source_name)
        if source_address is None and found is not None and found.address:
            source_address = found.address

    label = wording.label(type_name)
    what = label
    if policy is not None and policy.fields:
        names = ", ".join(wording.field_label(type_name, f) for f in policy.fields)
        what = f"{label} ({names})"
    values = {
        "agency": agency.name,
        "officer": agency.privacy_officer,
        "date": long_date(day),
        "source": source_name,
        "what": what,
        "purpose": purpose.title,
        "description": purpose.description,
        "benefit": purpose.benefit,
        "law": collection.law or "",
        "address": _address(agency),
        "source_address": source_address or "",
    }

    def text(template: str) -> str:
        return fill(say(template), values)

    title = text("We have collected information about you")
    header: list[Block] = []
    if wording.greeting.strip():
        header.append(Paragraph(wording.greeting, lang=wording.greeting_lang))
    header += [
        Heading(1, title),
        *paragraphs(
            text("On {date}, {agency} collected information about you from {source}: {what}.")
        ),
    ]
    blocks: list[Block] = [
        Heading(2, text("Why we collected it")),
        *paragraphs(text("We collected it for {purpose}: {description}")),
        *paragraphs(text("How it helps you: {benefit}")),
        Heading(2, text("Who will receive it")),
        *paragraphs(text("We, {agency}, hold it and use it for this purpose.")),
    ]
    if recipients:
        shares = []
        for name, (party, under) in recipients.items():
            where = f"{name}, {party.address}" if party.address else name
            shares.append(
                fill(
                    say("{recipient}, under {agreements}"),
                    {"recipient": where, "agreements": "; ".join(dict.fromkeys(under))},
                )
            )
        blocks += [*paragraphs(text("We may also share it with:")), Bullets(shares)]
    else:
        blocks += paragraphs(text("We do not intend to share it with anyone else."))
    collected_by = (
        text("{source}, {source_address}: collected it and gave it to us.")
        if source_address
        else text("{source}: collected it and gave it to us. Ask us for their address.")
    )
    blocks += [
        Heading(2, text("Who collected it and who holds it")),
        Bullets((collected_by, text("{agency}, {address}: collected it from them, and holds it."))),
        *_supply(type_name, policy, wording),
        Heading(2, text("The law")),
        *paragraphs(
            text("This law authorises or requires the collection: {law}.")
            if collection.law
            else text("No particular law requires or authorises this collection.")
        ),
        Heading(2, text("Your rights")),
        *paragraphs(
            text(
                "You have the right to ask for a copy of this information (access) and to ask "
                "us to correct it (correction): Privacy Act 2020, information privacy "
                "principles 6 and 7. Contact our {officer}:"
            )
        ),
        Bullets(f"{say(lbl)}: {value}" for lbl, value in agency.contact_lines()),
    ]
    document = Document(
        title=title, lang=wording.lang, header=header, sections=split_sections(blocks)
    )
    return render_markdown(document)


def _supply(type_name: str, policy: RecordPolicy | None, wording: NoticeWording) -> list[Block]:
    """Whether the person would have to give us each field, and what happens if not."""
    if policy is None or not policy.fields:
        return []
    lines = [
        f"{wording.field_label(type_name, name)}: {supply_text(field.supply, wording)}"
        for name, field in policy.fields.items()
    ]
    return [Heading(2, wording.say("If we ask you for it ourselves")), Bullets(lines)]
