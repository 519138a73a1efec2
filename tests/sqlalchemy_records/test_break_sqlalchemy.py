"""Red-team findings against SQLAlchemy rows as records.

Each pins a finding that was fixed, or what held under attack.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import update  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column  # noqa: E402
from sqlalchemy.orm.exc import ObjectDeletedError  # noqa: E402

import purposeful  # noqa: E402
from _records import FakeConsent, RecordingSink  # noqa: E402
from purposeful import CONSENT, SENSITIVE, Actor, Managed, ServiceAgreement  # noqa: E402
from purposeful.audit import PseudonymKey  # noqa: E402
from purposeful.errors import DictStorageWarning, SubjectChangeRefused  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
WORKER = Actor("staff-brk", role="caseworker", clearance=SENSITIVE)
SECRET = "kaitiaki-secret-break"
KEY = PseudonymKey.generate()


class SaBreakBase(DeclarativeBase):
    pass


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id", name="SaBreakVisit")
    class SaBreakVisit(SaBreakBase):
        __tablename__ = "sa_break_visit"
        id: Mapped[int] = mapped_column(primary_key=True)
        client_id: Mapped[str]
        summary: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}
        )
        notes: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={"service-delivery": CONSENT})}
        )


@pytest.fixture
def session(engine: Any) -> Any:
    SaBreakBase.metadata.create_all(engine)
    with Session(engine) as made:
        made.add(SaBreakVisit(id=1, client_id="C-ALPHA", summary=SECRET, notes=SECRET))
        made.commit()
        yield made


def _repoint(engine: Any, subject: str) -> None:
    """Another connection moves the row to another person (a merge of duplicate clients)."""
    with Session(engine) as other:
        other.execute(update(SaBreakVisit).where(SaBreakVisit.id == 1).values(client_id=subject))
        other.commit()


def _configured() -> RecordingSink:
    sink = RecordingSink()
    purposeful.configure(
        sinks=[sink],
        pseudonymise=KEY.pseudonym,
        consent=FakeConsent({("C-ALPHA", "service-delivery")}),
    )
    return sink


def test_a_row_repointed_to_another_person_is_refused_when_it_reloads(
    session: Any, engine: Any
) -> None:
    sink = _configured()
    visit = session.get(SaBreakVisit, 1)
    with purposeful.use("service-delivery", actor=WORKER):
        assert visit.notes == SECRET  # C-ALPHA consented
        _repoint(engine, "C-BETA")
        session.commit()  # expire_on_commit: the row reloads with its next read
        with pytest.raises(SubjectChangeRefused) as raised:
            _ = visit.notes  # the hot path must not answer for C-ALPHA's row any more
        assert "C-BETA" not in str(raised.value)
        assert "C-ALPHA" not in str(raised.value)
    people = {p for report in sink.reports for p in report.reads}
    assert KEY.pseudonym("C-BETA") not in people
    with Session(engine) as fresh, purposeful.use("service-delivery", actor=WORKER):
        again = fresh.get(SaBreakVisit, 1)
        with pytest.raises(purposeful.PurposeViolation):
            _ = again.notes  # loaded anew: C-BETA's record, and C-BETA never consented


def test_a_repointed_row_read_after_another_row_is_decided_for_its_new_person(
    session: Any, engine: Any
) -> None:
    """A plain column's read reloads the row first: the managed read after it is refused too."""
    _configured()
    visit = session.get(SaBreakVisit, 1)
    session.add(SaBreakVisit(id=2, client_id="C-ALPHA", summary="other", notes="other"))
    session.commit()
    other = session.get(SaBreakVisit, 2)
    with purposeful.use("service-delivery", actor=WORKER):
        assert visit.notes == SECRET
        _repoint(engine, "C-BETA")
        session.commit()
        assert other.summary == "other"  # another row is the last one read
        with pytest.raises(SubjectChangeRefused):
            _ = visit.notes


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id", name="SaBreakClient")
    class SaBreakClient(SaBreakBase):
        """A record whose subject is its primary key."""

        __tablename__ = "sa_break_client"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        notes: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={"service-delivery": CONSENT})}
        )


def test_a_row_whose_key_is_its_subject_and_is_repointed_is_gone_for_the_session(
    session: Any, engine: Any
) -> None:
    """The subject is the primary key: another connection changing it leaves the instance
    with no row (SQLAlchemy reloads by identity), never the new person's value under the
    old person's decision."""
    session.add(SaBreakClient(client_id="C-ALPHA", notes=SECRET))
    session.commit()
    _configured()
    client = session.get(SaBreakClient, "C-ALPHA")
    with purposeful.use("service-delivery", actor=WORKER):
        assert client.notes == SECRET  # C-ALPHA consented
        with Session(engine) as other:
            other.execute(
                update(SaBreakClient)
                .where(SaBreakClient.client_id == "C-ALPHA")
                .values(client_id="C-BETA")
            )
            other.commit()
        session.commit()  # expire_on_commit: the next read reloads by identity
        with pytest.raises(ObjectDeletedError):
            _ = client.notes
        again = session.get(SaBreakClient, "C-BETA")
        assert again is not client
        with pytest.raises(purposeful.PurposeViolation):
            _ = again.notes  # C-BETA never consented
