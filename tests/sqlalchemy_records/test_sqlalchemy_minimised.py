"""Query-time minimisation: the columns a purpose may not read are never fetched, and reading
one is the usual refusal, not a lazy load."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column  # noqa: E402

import purposeful  # noqa: E402
from purposeful import (  # noqa: E402
    RESTRICTED,
    SENSITIVE,
    Actor,
    Managed,
    Mode,
    ServiceAgreement,
)
from purposeful.errors import (  # noqa: E402
    AnnotationError,
    ConfigurationError,
    DictStorageWarning,
    UnknownPurpose,
)
from purposeful.sqlalchemy import minimised, withheld_columns  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
WORKER = Actor("staff-6", role="caseworker", clearance=SENSITIVE)
CASE_NOTE = "case-note-secret-1618"
INCOME = "income-secret-5772"


class MinimisedBase(DeclarativeBase):
    pass


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    class MinimisedClient(MinimisedBase):
        __tablename__ = "minimised_client"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        region: Mapped[str]
        case_note: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}
        )
        income: Mapped[int] = mapped_column(
            info={
                "purposeful": Managed(
                    purposes={"service-delivery": AGREEMENT, "funder-reporting": AGREEMENT},
                    sensitivity=RESTRICTED,
                )
            }
        )


@purposeful.record(subject="client_id")
class MinimisedAttrs:
    client_id: str


@pytest.fixture
def session(engine: Any) -> Iterator[Session]:
    MinimisedBase.metadata.create_all(engine)
    with Session(engine) as made:
        made.add(MinimisedClient(client_id="C-1", region="Otago", case_note=CASE_NOTE, income=9))
        made.commit()
        made.expunge_all()
        yield made


def _fetched(statements: Any) -> str:
    return " ".join(statements.statements)


def test_columns_a_purpose_may_not_read_are_never_fetched(
    session: Session, statements: Any
) -> None:
    query = select(MinimisedClient).options(minimised(MinimisedClient, "funder-reporting"))
    statements.clear()
    client = session.scalars(query).one()
    assert "case_note" not in _fetched(statements)
    assert "income" in _fetched(statements)
    assert "case_note" not in client.__dict__
    statements.clear()
    with (
        pytest.raises(purposeful.PurposeViolation) as refused,
        purposeful.use("funder-reporting", actor=WORKER),
    ):
        _ = client.case_note
    assert refused.value.decision.reason_codes == ("purpose-not-declared",)
    assert statements.statements == []  # refused, not lazily loaded


def test_a_withheld_column_stays_refused_under_a_purpose_that_may_read_it(
    session: Session,
) -> None:
    query = select(MinimisedClient).options(minimised(MinimisedClient, "funder-reporting"))
    client = session.scalars(query).one()
    boss = Actor("staff-1", role="manager", clearance=RESTRICTED)
    with (
        purposeful.use("service-delivery", actor=boss),
        pytest.raises(sqlalchemy.exc.InvalidRequestError, match="raiseload"),
    ):
        _ = client.case_note  # allowed, but never fetched: SQLAlchemy's raiseload


def test_the_actors_clearance_withholds_columns_too(session: Session, statements: Any) -> None:
    assert withheld_columns(MinimisedClient, "service-delivery") == ()
    assert withheld_columns(MinimisedClient, "service-delivery", actor=WORKER) == ("income",)
    query = select(MinimisedClient).options(
        minimised(MinimisedClient, "service-delivery", actor=WORKER)
    )
    statements.clear()
    client = session.scalars(query).one()
    assert "income" not in _fetched(statements)
    with purposeful.use("service-delivery", actor=WORKER):
        assert client.case_note == CASE_NOTE
        with pytest.raises(purposeful.PurposeViolation):
            _ = client.income


def test_the_purpose_and_actor_default_to_the_scopes(session: Session) -> None:
    with purposeful.use("service-delivery", actor=WORKER):
        assert withheld_columns(MinimisedClient) == ("income",)
        client = session.scalars(select(MinimisedClient).options(minimised(MinimisedClient))).one()
        assert client.case_note == CASE_NOTE
    with purposeful.use("service-delivery", actor=WORKER):
        assert withheld_columns(MinimisedClient, "funder-reporting") == ("case_note",)


def test_a_purpose_every_column_allows_fetches_everything(
    session: Session, statements: Any
) -> None:
    boss = Actor("staff-1", role="manager", clearance=RESTRICTED)
    query = select(MinimisedClient).options(
        minimised(MinimisedClient, "service-delivery.case-management", actor=boss)
    )
    statements.clear()
    client = session.scalars(query).one()
    assert {"case_note", "income"} <= set(client.__dict__)
    with purposeful.use("service-delivery.case-management", actor=boss):
        assert (client.case_note, client.income) == (CASE_NOTE, 9)


def test_in_monitor_mode_a_withheld_column_loads_on_a_would_deny_read(
    session: Session, statements: Any
) -> None:
    purposeful.configure(record_modes={MinimisedClient: Mode.MONITOR})
    query = select(MinimisedClient).options(minimised(MinimisedClient, "funder-reporting"))
    client = session.scalars(query).one()
    statements.clear()
    with purposeful.use("funder-reporting", actor=WORKER) as scope:
        assert client.case_note == CASE_NOTE
    assert len(statements.statements) == 1  # deferred, not raiseload: loaded on the read
    assert [d.outcome for d in scope.decisions] == [purposeful.Outcome.WOULD_DENY]


def test_minimised_needs_a_purpose() -> None:
    with pytest.raises(ConfigurationError, match="needs a purpose"):
        minimised(MinimisedClient)


def test_minimised_refuses_an_unknown_purpose() -> None:
    with pytest.raises(UnknownPurpose):
        minimised(MinimisedClient, "no-such-purpose")


def test_minimised_refuses_a_record_of_another_kind_and_a_plain_class() -> None:
    with pytest.raises(AnnotationError, match="attrs record"):
        minimised(MinimisedAttrs, "service-delivery")
    with pytest.raises(AnnotationError, match="not a purposeful record"):
        minimised(dict, "service-delivery")
