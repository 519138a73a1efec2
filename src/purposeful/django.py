"""Declaring managed fields of Django models.

``purposeful.django.managed(models.TextField(...), purposes=...)`` puts the declaration on
a model field; ``@purposeful.record(subject=...)`` on the model then guards it (the Django
record kind lives in `purposeful._kinds.django_kind`). This module must not import Django:
the declaration is an attribute of the field object, which Django's ``deconstruct()``
(and so ``makemigrations``) never looks at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from ._kinds import METADATA_KEY
from ._kinds.django_kind import refuse_undecorated
from .bases import LawfulBasis
from .categories import DataCategory
from .errors import AnnotationError
from .purposes import Purpose
from .records import Managed
from .sensitivity import IN_CONFIDENCE, Level
from .supply import Supply
from .withholding import WithholdingGround

__all__ = ["managed"]

F = TypeVar("F")


def managed(
    field: F,
    *,
    purposes: Mapping[Purpose | str, LawfulBasis],
    sensitivity: Level = IN_CONFIDENCE,
    category: DataCategory | str | None = None,
    consent: bool | Iterable[Purpose | str] = False,
    withhold: WithholdingGround | None = None,
    supply: Supply | None = None,
) -> F:
    """Declare a Django model field managed, and return the field itself.

    ``notes = managed(models.TextField(blank=True), purposes={...})``. The arguments are
    those of `purposeful.field`; the declaration is checked when `purposeful.record`
    decorates the model. Migrations do not see it: the column is unchanged.

    Raises:
        AnnotationError: *field* is not a Django model field, it is declared twice, or an
            argument is of the wrong type.
    """
    if not any(
        k.__module__ == "django.db.models.fields" and k.__qualname__ == "Field"
        for k in type(field).__mro__
    ):
        raise AnnotationError(
            f"purposeful.django.managed(...) takes a Django model field, such as "
            f"models.TextField(), not {type(field).__name__}"
        )
    if getattr(field, METADATA_KEY, None) is not None:
        raise AnnotationError(
            "purposeful.django.managed(...) was given a field that is already managed; "
            "declare each field once"
        )
    declaration = Managed(
        purposes=purposes,
        sensitivity=sensitivity,
        category=category,
        consent=consent,
        withhold=withhold,
        supply=supply,
    )
    setattr(field, METADATA_KEY, declaration)
    refuse_undecorated()  # until the model is decorated, reading the field is refused
    return field
