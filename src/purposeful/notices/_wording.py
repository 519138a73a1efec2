"""`NoticeWording`: every sentence a notice says, so an agency can reword it without a fork.

This module holds text only. It renders nothing and escapes nothing: the renderers in
`_text` and `_collection` escape every piece of it where it is put in a document.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from .._shared.checks import is_text
from .._shared.language import LANGUAGE_TAG_HINT, is_language_tag
from ..errors import ConfigurationError

__all__ = ["NoticeWording"]


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


def _str(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise ConfigurationError(f"{type(instance).__name__}.{attribute.name} must be text")


def _labels(instance: object, attribute: attrs.Attribute[Mapping[str, str]], value: object) -> None:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must map text to text, e.g. "
            f'{{"CaseNote": "Case notes"}}'
        )


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _humane(name: str) -> str:
    """``"CaseNote"`` → ``"Case note"``; ``"date_of_birth"`` → ``"Date of birth"``."""
    words = _CAMEL.sub(" ", name).replace("_", " ").split()
    if not words:
        return name
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[0].upper() + text[1:]


@attrs.frozen
class NoticeWording:
    """Every sentence the notice and the IPP 3A collection notices say.

    Change any with ``NoticeWording(intro=...)`` or ``attrs.evolve(wording, ...)``. Text may
    use ``{agency}`` (the agency's name) and ``{officer}`` (`AgencyDetails.privacy_officer`);
    ``version_line`` may use ``{version}``. A blank line starts a new paragraph. Text is
    escaped in every output: write plain text, not HTML or Markdown.

    Every other word (table headings, labels such as "How it helps you", the sentences of a
    collection notice) can be replaced through *phrases*, by its English text, so a notice
    can be written wholly in another language, with *lang* set to match.

    Raises:
        ConfigurationError: *lang* or *greeting_lang* is not a language tag (``"en_NZ"``,
            ``"English"``), or a text that must not be empty is empty.

    Attributes:
        lang: the notice's language tag (BCP 47), e.g. ``"en-NZ"``; screen readers
            choose their voice by it.
        greeting, greeting_lang: the first word and its language tag (``"mi"``: te reo
            Māori); an empty greeting for none.
        title, intro: the notice's title and opening paragraphs.
        collect_heading, collect_intro, collect_none: what we collect.
        supply_heading, supply_intro: whether you have to give it to us (IPP 3(1)).
        supply_mandatory, supply_voluntary: what is said of a field that must be given, or
            need not be, before the field's own consequence (`purposeful.supply`).
        supply_unknown: what is said of a field that does not declare it.
        why_heading, why_intro: why, and how it helps you.
        share_heading, share_intro, share_none: who we share it with.
        consent_heading, consent_intro, consent_none, consent_change: what needs consent,
            and how to change your mind.
        rights_heading, rights, withheld_intro: the rights to see and correct (IPP 6, 7).
        contact_heading, contact_intro: how to reach the privacy officer.
        version_line: the last line, naming the notice's version.
        record_labels: a plain name for a record type, by class name: ``{"CaseNote": "Case
            notes"}``. Default: the class name in words ("Case note").
        field_labels: a plain name for a field, by ``"Type.field"`` or ``"field"``. Default:
            the field's name in words ("Date of birth").
        phrases: replacements for any other fixed text, by its English text.
    """

    lang: str = attrs.field(default="en-NZ", validator=_language)
    greeting: str = attrs.field(default="Kia ora", validator=_str)
    greeting_lang: str = attrs.field(default="mi", validator=_language)
    title: str = attrs.field(default="How {agency} uses your information", validator=_text)
    intro: str = attrs.field(
        default=(
            "This notice tells you what information {agency} collects about you, whether you "
            "have to give it to us, why we collect it and how it helps you, who we share it "
            "with, what needs your consent, and your rights to see and correct your "
            "information.\n\n"
            "We make it from the same descriptions our systems use to control how your "
            "information is used."
        ),
        validator=_text,
    )
    collect_heading: str = attrs.field(default="What we collect", validator=_text)
    collect_intro: str = attrs.field(
        default="These are the kinds of information we keep about you, and what each is used for.",
        validator=_text,
    )
    collect_none: str = attrs.field(default="We do not keep records about you.", validator=_text)
    supply_heading: str = attrs.field(default="Whether you have to give it to us", validator=_text)
    supply_intro: str = attrs.field(
        default=(
            "For each kind of information, whether you have to give it to us, and what "
            "happens if you do not."
        ),
        validator=_text,
    )
    supply_mandatory: str = attrs.field(default="You have to give us this.", validator=_text)
    supply_voluntary: str = attrs.field(
        default="It is up to you whether you give us this.", validator=_text
    )
    supply_unknown: str = attrs.field(
        default="Ask us whether you have to give us this, and what happens if you do not.",
        validator=_text,
    )
    why_heading: str = attrs.field(
        default="Why we collect it, and how it helps you", validator=_text
    )
    why_intro: str = attrs.field(
        default="We use your information for these purposes.", validator=_text
    )
    share_heading: str = attrs.field(default="Who we share it with", validator=_text)
    share_intro: str = attrs.field(
        default=(
            "We have agreed with these agencies what we share with them, why, and on what basis."
        ),
        validator=_text,
    )
    share_none: str = attrs.field(
        default="We have no agreements to share your information with other agencies.",
        validator=_text,
    )
    consent_heading: str = attrs.field(
        default="What needs your consent, and how to change your mind", validator=_text
    )
    consent_intro: str = attrs.field(
        default="We use this information for these purposes only if you agree:", validator=_text
    )
    consent_none: str = attrs.field(
        default=(
            "None of the uses in this notice needs your consent: each rests on the basis shown "
            "above."
        ),
        validator=_text,
    )
    consent_change: str = attrs.field(
        default=(
            "You can say yes or no, and you can change your mind at any time: contact us (see "
            "below). If you withdraw your consent, we stop using your information for that "
            "purpose from then on."
        ),
        validator=_text,
    )
    rights_heading: str = attrs.field(
        default="Your rights to see and correct your information", validator=_text
    )
    rights: str = attrs.field(
        default=(
            "You can ask us for a copy of the information we hold about you (Privacy Act "
            "2020, information privacy principle 6). We answer as soon as we reasonably can, "
            "and within 20 working days.\n\n"
            "You can ask us to correct information you think is wrong (information privacy "
            "principle 7). If we do not correct it, you can give us a statement of the "
            "correction you wanted. We keep it with your information and, where we can, tell "
            "anyone we shared the information with.\n\n"
            "If you are not happy with how we handle your information, please talk to us "
            "first. You can also complain to the Privacy Commissioner: www.privacy.org.nz, "
            "0800 803 909, or PO Box 10094, Wellington 6143."
        ),
        validator=_text,
    )
    withheld_intro: str = attrs.field(
        default=(
            "The law lets us hold back some information when you ask for it. We do not give "
            "you these kinds of information, for the reasons shown:"
        ),
        validator=_text,
    )
    contact_heading: str = attrs.field(default="How to contact us", validator=_text)
    contact_intro: str = attrs.field(
        default="Contact our {officer} about anything in this notice.", validator=_text
    )
    version_line: str = attrs.field(default="Notice version {version}.", validator=_text)
    record_labels: Mapping[str, str] = attrs.field(factory=dict, validator=_labels)
    field_labels: Mapping[str, str] = attrs.field(factory=dict, validator=_labels)
    phrases: Mapping[str, str] = attrs.field(factory=dict, validator=_labels)

    def say(self, text: str) -> str:
        """*text* as the agency words it (`phrases`), else as it is."""
        return self.phrases.get(text, text)

    def label(self, record_type: str) -> str:
        """The plain name of *record_type* (a class name)."""
        found = self.record_labels.get(record_type)
        return found if found is not None else _humane(record_type.rpartition(".")[2])

    def field_label(self, record_type: str, field: str) -> str:
        """The plain name of *field* of *record_type*."""
        found = self.field_labels.get(f"{record_type}.{field}", self.field_labels.get(field))
        return found if found is not None else _humane(field)
