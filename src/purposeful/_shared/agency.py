"""`AgencyDetails`: who speaks in what the library writes for a person, and how to reach them.

The subject-access page and the notices are written in the agency's voice and end with how
to reach its privacy officer. Both take the same `AgencyDetails`, defined once here and
re-exported publicly by `purposeful.access` and `purposeful.notices`.

This module holds the agency's details only: it renders nothing and escapes nothing (the
document renderer does, where the text is put in a document).
"""

from __future__ import annotations

import attrs

from ..errors import ConfigurationError
from .checks import is_text

__all__ = ["AgencyDetails"]


def _text(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value):
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
