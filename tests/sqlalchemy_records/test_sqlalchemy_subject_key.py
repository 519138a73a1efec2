"""A record whose subject is a foreign key to another record by another column than that
record's subject (an adopter's finding, on Django; the same holds here): ``person_id``
referring to ``person.id`` holds a primary key, not the person's NHI, so one person is known
by two ids and consent is asked of whoever has the key's value as an NHI. Refused when the
mappers are configured; a foreign key to the related record's subject passes."""

from __future__ import annotations

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import ForeignKey  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column  # noqa: E402

import purposeful  # noqa: E402
from purposeful import CONSENT, Managed, ServiceAgreement  # noqa: E402
from purposeful.errors import AnnotationError  # noqa: E402

AGREEMENT = ServiceAgreement("Subject key agreement")
pytestmark = pytest.mark.filterwarnings("ignore::purposeful.errors.DictStorageWarning")


def _models(target: str) -> type:
    class Base(DeclarativeBase):
        pass

    @purposeful.record(subject="nhi")
    class SubjKeyPerson(Base):
        __tablename__ = "subj_key_person"
        id: Mapped[int] = mapped_column(primary_key=True)
        nhi: Mapped[str] = mapped_column(unique=True)
        name: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}
        )

    @purposeful.record(subject="person_id", key="id")
    class SubjKeySurvey(Base):
        __tablename__ = "subj_key_survey"
        id: Mapped[int] = mapped_column(primary_key=True)
        person_id: Mapped[str] = mapped_column(ForeignKey(target))
        answers: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={"research": CONSENT})}
        )

    return SubjKeySurvey


def test_a_subject_referring_to_the_related_records_primary_key_is_refused() -> None:
    survey = _models("subj_key_person.id")
    registry = survey.registry  # type: ignore[attr-defined]
    try:
        with pytest.raises(AnnotationError) as refused:
            registry.configure()
    finally:
        registry.dispose()  # refused, it would fail every later configuration
    message = str(refused.value)
    assert "SubjKeySurvey's subject person_id is a foreign key to" in message
    assert "SubjKeyPerson.id, not to" in message
    assert "SubjKeyPerson's subject nhi" in message
    assert "refer to subj_key_person.nhi" in message


def test_a_subject_referring_to_the_related_records_subject_passes() -> None:
    survey = _models("subj_key_person.nhi")
    survey.registry.configure()  # type: ignore[attr-defined]
    assert survey.__mapper__.configured  # type: ignore[attr-defined]
