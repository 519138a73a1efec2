"""The crosswalk to fides: the record types as a fideslang dataset manifest.

Agencies that run fides (ethyca/fides) can import the manifest with their other datasets.
One dataset holds the agency's record types; each record type is a collection, and each
managed field a field, with:

- ``data_categories``: our data category mapped to fideslang's default taxonomy through
  `FIDESLANG_CATEGORIES` (the nearest mapped ancestor counts; a category that maps to
  nothing, or a field with no category, becomes ``"user"``: personal data of some kind);
- ``description``: the category, every purpose with its basis and whether it needs consent,
  and the sensitivity, in words;
- and, in the dataset's free-form ``meta``, the same purposes per field as ids, for
  programs.

Our purposes are not written as fides ``data_uses``: a fides data use describes what a
system does with data, and our purposes are an agency's own, finer, legal vocabulary. An
agency maps its systems to fides data uses in those systems' privacy declarations.

The subject field of each record type is included too, as ``user.unique_id``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .._hierarchy import lineage
from ..errors import ConfigurationError
from ._register import REGISTER_FORMAT_VERSION

if TYPE_CHECKING:
    from ..categories import DataCategory
    from ._notice import Notice, NoticeField

__all__ = ["FIDESLANG_CATEGORIES", "FIDESLANG_FALLBACK", "crosswalk", "fides_categories"]

#: Our default data categories → fideslang's default data categories. A sub-category not
#: listed takes its nearest listed ancestor's mapping.
FIDESLANG_CATEGORIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        # "Name, date of birth, client and national identifiers": all four, deliberately
        # broad, so that a fides policy about any of them sees the field.
        "identity": (
            "user.name",
            "user.demographic.date_of_birth",
            "user.unique_id",
            "user.government_id",
        ),
        "contact": ("user.contact",),
        "health": ("user.health_and_medical",),
        # fideslang has no category for family violence; "user" says only "personal data".
        "family-violence": ("user",),
        "ethnicity": ("user.demographic.race_ethnicity",),
        "household": ("user.demographic",),
        "financial": ("user.financial",),
        "justice": ("user.criminal_history",),
        "case-notes": ("user.content.private",),
    }
)
#: The fideslang categories of a field whose category maps to nothing, or that has none.
FIDESLANG_FALLBACK: tuple[str, ...] = ("user",)
#: The fideslang category of a record type's subject field.
SUBJECT_CATEGORIES: tuple[str, ...] = ("user.unique_id",)

_FIDES_KEY = re.compile(r"[A-Za-z0-9_.<>-]+\Z")


def fides_categories(
    category: DataCategory | str | None,
    table: Mapping[str, tuple[str, ...]] = FIDESLANG_CATEGORIES,
) -> tuple[str, ...]:
    """The fideslang data categories for one of ours (nearest mapped ancestor, else
    `FIDESLANG_FALLBACK`)."""
    if category is None:
        return FIDESLANG_FALLBACK
    ident = category if isinstance(category, str) else category.id
    for level in lineage(ident):
        found = table.get(level)
        if found:
            return tuple(found)
    return FIDESLANG_FALLBACK


def _slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_") or "purposeful"


def _check_key(value: object, what: str) -> str:
    if not isinstance(value, str) or not _FIDES_KEY.match(value):
        raise ConfigurationError(
            f"{what} must be a fides key: letters, digits and . _ - < > only, e.g. "
            f"'te_whare_awhina.client'"
        )
    return value


def _table(extra: Mapping[str, Iterable[str]] | None) -> Mapping[str, tuple[str, ...]]:
    if extra is None:
        return FIDESLANG_CATEGORIES
    if not isinstance(extra, Mapping):
        raise ConfigurationError(
            'categories= maps our category ids to fideslang keys, e.g. {"housing": '
            '("user.contact.address",)}'
        )
    table = dict(FIDESLANG_CATEGORIES)
    for ident, keys in extra.items():
        values = (keys,) if isinstance(keys, str) else tuple(keys)
        if not values:
            raise ConfigurationError(f"categories[{ident!r}] names no fideslang category")
        for key in values:
            _check_key(key, f"categories[{ident!r}]")
        table[ident] = values
    return table


def _description(notice: Notice, field: NoticeField) -> str:
    parts = []
    if field.category is not None:
        parts.append(f"{field.category.title} ({field.category.id}).")
    uses = []
    for use in field.uses:
        consent = "; needs consent" if use.needs_consent else ""
        uses.append(
            f"{use.purpose.title} ({use.purpose.id}; basis: {use.basis.describe()}{consent})"
        )
    parts.append("Purposes: " + ", ".join(uses) + ".")
    extra = [c for c in field.consent if not any(u.purpose.id == c for u in field.uses)]
    if extra:
        titles = ", ".join(f"{notice.purpose_title(c)} ({c})" for c in extra)
        parts.append(f"Needs consent for: {titles}.")
    parts.append(f"Sensitivity: {field.sensitivity.name}.")
    if field.withhold is not None:
        parts.append(f"Withheld from the person on request: {field.withhold.cite()}.")
    return " ".join(parts)


def crosswalk(
    notice: Notice,
    *,
    fides_key: str | None = None,
    extra_categories: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, Any]:
    """The fideslang manifest of *notice*: ``{"dataset": [dataset]}``; see the module."""
    key = _check_key(fides_key, "fides_key=") if fides_key is not None else None
    key = key or _slug(notice.agency.name)
    table = _table(extra_categories)
    collections = []
    meta_fields: dict[str, Any] = {}
    for record in notice.records:
        fields: list[dict[str, Any]] = []
        names = {f.name for f in record.fields}
        if record.subject not in names:
            fields.append(
                {
                    "name": record.subject,
                    "description": "Identifies the person the record is about.",
                    "data_categories": list(SUBJECT_CATEGORIES),
                }
            )
        for field in record.fields:
            fields.append(
                {
                    "name": field.name,
                    "description": _description(notice, field),
                    "data_categories": list(fides_categories(field.category, table)),
                }
            )
            meta_fields[field.qualified_name] = {
                "purposes": [use.purpose.id for use in field.uses],
                "bases": {use.purpose.id: use.basis.kind.value for use in field.uses},
                "consent": list(field.consent),
                "category": field.category.id if field.category is not None else None,
                "sensitivity": field.sensitivity.name,
            }
        fields.sort(key=lambda f: str(f["name"]))
        collections.append(
            {
                "name": record.name,
                "description": (
                    f"{notice.wording.label(record.name)}: purposeful record type "
                    f"{record.module}.{record.name}, about one person (subject field "
                    f"{record.subject!r})."
                ),
                "fields": fields,
            }
        )
    collections.sort(key=lambda c: str(c["name"]))
    dataset = {
        "fides_key": key,
        "name": f"{notice.agency.name}: records about people",
        "description": (
            f"The record types {notice.agency.name} declares with purposeful, with the "
            f"purposes each field may be used for (notice version {notice.version})."
        ),
        "meta": {
            "purposeful": {
                "register_format_version": REGISTER_FORMAT_VERSION,
                "notice_version": notice.version,
                "fields": meta_fields,
            }
        },
        "collections": collections,
    }
    return {"dataset": [dataset]}
