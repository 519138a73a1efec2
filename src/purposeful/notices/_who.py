"""The notice's "who may see what" section: for each piece of information and each purpose
it is used for, which roles inside the agency may use it.

The answers are `purposeful.asking.who_may_see`'s, so the notice says exactly what a read
would meet (`may_use`): the same rules, never a second copy. It is written as blocks of the
library's document renderer, which escapes every piece of text where it writes it. A role
named by the agency is text like any other. The section appears only when the notice is
built with ``roles=``; it reads declarations, never a record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._shared.document import Block, Heading, Table, fill, paragraphs
from ..asking import Verdict, who_may_see

if TYPE_CHECKING:
    from ._notice import Notice

__all__ = ["who_blocks"]

#: What each answer says to the person, in words the agency may replace (``phrases``). A
#: would-deny (monitor mode) is a use the rules do not allow: the person is told no.
_SAID = {
    Verdict.YES: "Yes",
    Verdict.NO: "No",
    Verdict.WOULD_DENY: "No",
    Verdict.WITH_CONSENT: "With your consent",
    Verdict.WITH_JUSTIFICATION: "Only with a recorded reason",
}

_INTRO = (
    "Inside {agency}, people see only what their work needs and they are cleared for. For "
    "each piece of information and each reason we use it, this shows which roles may use "
    "it. “Only with a recorded reason” means only to keep someone safe, when the law allows "
    "it and the reason is written down first."
)


def who_blocks(notice: Notice) -> list[Block]:
    """The section's heading, introduction, and a table per record type: a row per field
    and purpose it is declared for, a column per role. Empty without roles."""
    if not notice.roles:
        return []
    wording = notice.wording
    say = wording.say
    roles = dict(notice.roles)
    blocks: list[Block] = [
        Heading(2, say("Who may see what")),
        *paragraphs(fill(say(_INTRO), {"agency": notice.agency.name})),
    ]
    header = [say("Information"), say("Used for"), *roles]
    for record in notice.records:
        if not record.fields:
            continue
        answers = {
            (answer.field, answer.purpose.id, answer.role): answer.verdict
            for answer in who_may_see(record.name, roles=roles)
        }
        rows = []
        for field in record.fields:
            label = wording.field_label(record.name, field.name)
            for use in field.uses:
                cells = [say(_SAID[answers[(field.name, use.purpose.id, role)]]) for role in roles]
                rows.append((label, use.purpose.title, *cells))
        label = wording.label(record.name)
        blocks += [Heading(3, label), Table(header, rows, caption=label)]
    return blocks
