"""Whether a person must supply a field, and what happens if they do not (IPP 3(1)).

When an agency collects information from the person it is about, IPP 3(1) of the Privacy Act
2020 (s 22) asks it to tell the person whether supplying the information is voluntary or
mandatory, and the consequences of not supplying it. A field says so in its declaration::

    referral_consent_notes: str = purposeful.field(
        purposes={"service-delivery.referral": CONSENT},
        supply=Voluntary("We can still help you, but we cannot refer you for housing."),
    )
    date_of_birth: date = purposeful.field(
        purposes={"service-delivery.eligibility-assessment": SERVICE},
        supply=Mandatory("Without it we cannot check whether you can receive the service."),
    )

The consequence is the agency's own sentence, written for the person; the notices show it
as written (escaped). It is declaration text, never a value read from a record.

What this module must not do: import anything but the errors and the shared checks, or
take part in deciding a read: supply is what people are told, not a rule the guard applies.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from ._shared.checks import is_text, storable
from .errors import AnnotationError

__all__ = ["Mandatory", "Supply", "Voluntary"]


def _consequence(instance: Supply, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value) or not storable(value):
        raise AnnotationError(
            f"{type(instance).__name__}(...) takes the consequence of not supplying the "
            f"field, as a plain sentence for the person, e.g. {type(instance).__name__}("
            f"'We can still help you, but we cannot refer you for housing.')"
        )


@attrs.frozen
class Supply:
    """Whether supplying a field is voluntary or mandatory, and the consequence of not
    supplying it. Declare `Voluntary` or `Mandatory`, not this base.

    Attributes:
        consequence: what happens if the person does not supply it, as a plain sentence
            written for them.
        kind: ``"voluntary"`` or ``"mandatory"``: a stable machine name (the register's).
    """

    consequence: str = attrs.field(validator=_consequence)
    kind: ClassVar[str] = ""

    def __attrs_pre_init__(self) -> None:
        if type(self) is Supply:
            raise AnnotationError(
                "declare supply=purposeful.supply.Voluntary(...) or Mandatory(...), not Supply(...)"
            )

    @property
    def mandatory(self) -> bool:
        """True if the person must supply the field."""
        return self.kind == "mandatory"


@attrs.frozen
class Voluntary(Supply):
    """Supplying the field is up to the person; *consequence* says what happens if they do
    not (``"We can still help you, but we cannot refer you for housing."``)."""

    kind: ClassVar[str] = "voluntary"


@attrs.frozen
class Mandatory(Supply):
    """The person must supply the field; *consequence* says what happens if they do not
    (``"Without it we cannot check whether you can receive the service."``)."""

    kind: ClassVar[str] = "mandatory"
