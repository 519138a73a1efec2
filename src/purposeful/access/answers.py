"""The answers besides giving and withholding: neither confirm nor deny, and release with
conditions or in another form.

The Privacy Act 2020 allows more answers to an access request than "here it is" and "we
withheld it" (`purposeful.access.Withhold`):

- **neither confirm nor deny** (s 47): where even saying whether information exists would
  harm an interest a withholding ground protects, the agency says it neither confirms nor
  denies holding it. `NeitherConfirmNorDeny` leaves what it names out of the bundle without
  counting it anywhere, and the person's page states the answer, in the agency's words
  (*about*), the same whether or not anything was left out: a bundle never shows that the
  answer hid something;
- **release with conditions, or in another form** (ss 54–56; s 56 sets the ways information
  in a document may be made available): instead of refusing, the agency gives the
  information on conditions (it stays in the bundle, and the page states them), or in
  another way (`ReleaseForm`: the person may inspect it, hear it, or have a summary), and
  the bundle says so where the value would have been. `ReleaseAs` records either.

Each is a decision for one request, given to ``SubjectAccess.build(answers=...)``, and names
what it is about as `Withhold` does: a record type, and a record (``key=``), a field
(``field=``), or both. Whether an answer applies is the privacy officer's decision; these
values only record it.

What this module must not do: hold a value in a repr or a message (a key may be the
person's id, and is hidden).
"""

from __future__ import annotations

import enum

import attrs

from .._shared.checks import is_text
from ..errors import AnnotationError, ConfigurationError
from ..records import RecordPolicy, record_policy
from ..withholding import WithholdingGround

__all__ = ["NCND_SECTION", "NeitherConfirmNorDeny", "ReleaseAs", "ReleaseForm"]

NCND_SECTION = "s 47"
"""Where the Privacy Act 2020 allows an agency to neither confirm nor deny."""


def _optional_key(key: object) -> str | None:
    """Record keys compare as text (`RecordPolicy.key_of`): ``key=102`` means ``"102"``."""
    return None if key is None else str(key)


def _hidden_key(key: str | None) -> str:
    return "<key>" if key else "None"


class ReleaseForm(enum.Enum):
    """A way of making information available other than a copy in the bundle (s 56)."""

    INSPECTION = "inspection"
    """The person may come and see it."""
    SUMMARY = "summary"
    """The person is given a summary of it."""
    ORAL = "oral"
    """The person is told what it says."""
    LISTEN_OR_VIEW = "listen-or-view"
    """The person may hear or view a recording."""

    def describe(self) -> str:
        """How the person gets it, in plain words (the page's default wording)."""
        return _FORMS[self]


_FORMS = {
    ReleaseForm.INSPECTION: "You can come and see it at our office.",
    ReleaseForm.SUMMARY: "We will give you a summary of it.",
    ReleaseForm.ORAL: "We will tell you what it says.",
    ReleaseForm.LISTEN_OR_VIEW: "You can come and hear or view the recording.",
}


def _checked(record_type: object, field: str | None, what: str) -> RecordPolicy:
    try:
        policy = record_policy(record_type)  # type: ignore[arg-type]
    except (AnnotationError, TypeError) as exc:
        raise ConfigurationError(f"{what}(record_type=...): {exc}") from None
    if field is not None and field not in policy.names:
        raise ConfigurationError(
            f"{what}(field={field!r}): {policy.name} has no such field; choose one of: "
            f"{', '.join(policy.names)}"
        )
    return policy


@attrs.frozen
class NeitherConfirmNorDeny:
    """Neither confirm nor deny holding some information (s 47), for one request.

    Attributes:
        record_type: the record class.
        ground: the interest that confirming or denying would harm (a withholding ground,
            e.g. `purposeful.withholding.ANOTHER_PERSONS_AFFAIRS`).
        about: what the answer is about, in plain words for the person, e.g. "whether
            anyone has reported a concern about you". It is on the page whether or not
            anything was left out.
        key: a record's key; None for every record of the type.
        field: a field of every record of the type; None for whole records. A field of one
            record cannot be answered so: marking it would show there is something there.
    """

    record_type: type
    ground: WithholdingGround
    about: str
    key: str | None = attrs.field(default=None, converter=_optional_key, repr=_hidden_key)
    field: str | None = None

    def __attrs_post_init__(self) -> None:
        _checked(self.record_type, self.field, "NeitherConfirmNorDeny")
        if not isinstance(self.ground, WithholdingGround):
            raise ConfigurationError(
                "NeitherConfirmNorDeny(ground=...) takes the WithholdingGround whose interest "
                "confirming would harm, such as purposeful.withholding.ANOTHER_PERSONS_AFFAIRS"
            )
        if not is_text(self.about):
            raise ConfigurationError(
                "NeitherConfirmNorDeny(about=...) says what the answer is about, for the "
                "person, e.g. 'whether anyone has reported a concern about you'"
            )
        if self.key is not None and self.field is not None:
            raise ConfigurationError(
                "NeitherConfirmNorDeny names a field of one record: marking it would show "
                "there is something there. Answer for the field of every record (leave out "
                "key=), for the whole record (leave out field=), or withhold it (Withhold)"
            )

    def cite(self) -> str:
        """The citation: s 47, with the ground's section."""
        return f"{self.ground.act} {NCND_SECTION} ({self.ground.section})"


@attrs.frozen
class ReleaseAs:
    """Release information with conditions, or in another form, for one request (ss 54–56).

    Attributes:
        record_type: the record class.
        key: a record's key; None for every record of the type.
        field: the field; None for whole records.
        form: how the person gets it instead of a copy in the bundle (s 56); None: it is
            in the bundle.
        conditions: the conditions it is given on, in plain words for the person, e.g.
            "that you do not share it with your former partner".
    """

    record_type: type
    key: str | None = attrs.field(default=None, converter=_optional_key, repr=_hidden_key)
    field: str | None = None
    form: ReleaseForm | None = None
    conditions: str | None = None

    def __attrs_post_init__(self) -> None:
        _checked(self.record_type, self.field, "ReleaseAs")
        if self.form is None and self.conditions is None:
            raise ConfigurationError(
                "ReleaseAs needs form= (a ReleaseForm), conditions= (plain words), or both: "
                "without them it is an ordinary release, which needs no decision"
            )
        if self.form is not None and not isinstance(self.form, ReleaseForm):
            raise ConfigurationError(
                "ReleaseAs(form=...) takes a ReleaseForm, such as ReleaseForm.INSPECTION"
            )
        if self.conditions is not None and not is_text(self.conditions):
            raise ConfigurationError(
                "ReleaseAs(conditions=...) is the conditions in plain words, non-empty text"
            )

    def cite(self) -> str:
        """The citation: s 56 for another form, ss 54–56 for conditions."""
        return "Privacy Act 2020 s 56" if self.form is not None else "Privacy Act 2020 ss 54–56"
