"""Red team 16: a refusal raised in the middle of Django's own bulk readers.

``model_to_dict`` and ``serializers.serialize`` read a model's fields one by one into a dict
of their own (``data``, the serializer's ``_current``); a refusal part-way leaves, in their
frames, the subject id and every managed value read before the refused field. When the
refusal leaves the scope, the scope's exit clears the frames of attrs' and dataclasses'
functions (and now the standard library's copying), not Django's: an error tracker that
records locals (the one answering the request's 403) sends them on.

How: a case-management scope with no consent checker: ``diagnosis`` and ``address`` are
allowed, ``case_notes`` (on consent) is refused; the model's fields are read in order.
"""

from __future__ import annotations

import pytest
from _family_models import DjangoCase

import purposeful
from _frames import frames_holding
from _records import CASE_MANAGEMENT, CASEWORKER

SUBJECT = "SUBJ-RED16-DJANGO"
DIAGNOSIS = "DIAG-RED16-DJANGO"


def _model_to_dict(case: DjangoCase) -> object:
    from django.forms.models import model_to_dict

    return model_to_dict(case)


def _serialize(case: DjangoCase) -> object:
    from django.core import serializers

    return serializers.serialize("python", [case])


@pytest.mark.parametrize("read", [_model_to_dict, _serialize], ids=["model_to_dict", "serialize"])
def test_a_refused_django_bulk_read_leaves_no_earlier_value_in_its_frames(read: object) -> None:
    case = DjangoCase(
        id=1, client_id=SUBJECT, diagnosis=DIAGNOSIS, address="addr", case_notes="notes"
    )
    with (
        pytest.raises(purposeful.PurposeViolation) as raised,
        purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        read(case)  # type: ignore[operator]
    assert frames_holding(raised.value.__traceback__, SUBJECT, DIAGNOSIS, but=__file__) == []
