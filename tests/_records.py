"""Record classes, actors, sinks and consent checkers shared by the enforcement tests.

The record classes live at module level so that pickle can find them by name.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

import purposeful
from purposeful import (
    CONSENT,
    DIRECTLY_RELATED_PURPOSE,
    IN_CONFIDENCE,
    ORANGA_TAMARIKI_ACT_S66C,
    RESTRICTED,
    SENSITIVE,
    Actor,
    Purpose,
    ScopeReport,
    ServiceAgreement,
    Statute,
)
from purposeful.consent import ConsentEvent, MemoryConsentStore
from purposeful.errors import DictStorageWarning

SERVICE_AGREEMENT = ServiceAgreement("Service delivery agreement")
FUNDING_AGREEMENT = ServiceAgreement("Funding agreement")
REFERRAL_BASIS = DIRECTLY_RELATED_PURPOSE

CASE_MANAGEMENT = "service-delivery.case-management"

CASEWORKER = Actor("staff-0042", "caseworker", SENSITIVE)
ADMINISTRATOR = Actor("staff-0099", "administrator", IN_CONFIDENCE)
SUPERVISOR = Actor("staff-0007", "supervisor", RESTRICTED)
FUNDER_JOB = Actor("svc-funder", "funder-reporting-job", IN_CONFIDENCE)


@purposeful.record(subject="client_id")
class Case:
    """Slotted (the default). ``diagnosis``: case management only, SENSITIVE.
    ``address``: service delivery and funder reporting. ``case_notes``: case management on
    consent. ``region``: a plain attrs field."""

    client_id: str
    diagnosis: str = purposeful.field(
        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, sensitivity=SENSITIVE, category="health"
    )
    address: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT, "funder-reporting": FUNDING_AGREEMENT},
        category="contact",
    )
    case_notes: str = purposeful.field(purposes={CASE_MANAGEMENT: CONSENT}, category="case-notes")
    region: str = "Wellington"


with warnings.catch_warnings():  # dict-based on purpose: the second tier
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id", slots=False)
    class DictCase:
        client_id: str
        diagnosis: str = purposeful.field(
            purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, sensitivity=SENSITIVE, category="health"
        )
        address: str = purposeful.field(
            purposes={"service-delivery": SERVICE_AGREEMENT, "funder-reporting": FUNDING_AGREEMENT},
            category="contact",
        )
        case_notes: str = purposeful.field(
            purposes={CASE_MANAGEMENT: CONSENT}, category="case-notes"
        )
        region: str = "Wellington"


@purposeful.record(subject="client_id", frozen=True)
class FrozenCase:
    client_id: str
    diagnosis: str = purposeful.field(
        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, sensitivity=SENSITIVE, category="health"
    )
    address: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT, "funder-reporting": FUNDING_AGREEMENT},
        category="contact",
    )
    case_notes: str = purposeful.field(purposes={CASE_MANAGEMENT: CONSENT}, category="case-notes")
    region: str = "Wellington"


with warnings.catch_warnings():  # dict-based on purpose: the second tier
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id", frozen=True, slots=False)
    class FrozenDictCase:
        client_id: str
        diagnosis: str = purposeful.field(
            purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, sensitivity=SENSITIVE, category="health"
        )
        address: str = purposeful.field(
            purposes={"service-delivery": SERVICE_AGREEMENT, "funder-reporting": FUNDING_AGREEMENT},
            category="contact",
        )
        case_notes: str = purposeful.field(
            purposes={CASE_MANAGEMENT: CONSENT}, category="case-notes"
        )
        region: str = "Wellington"


@purposeful.record(subject="client_id")
@attrs.define
class StackedCase:
    """``@purposeful.record`` on top of an existing slotted ``@attrs.define`` class."""

    client_id: str
    diagnosis: str = purposeful.field(
        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, sensitivity=SENSITIVE, category="health"
    )
    address: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT, "funder-reporting": FUNDING_AGREEMENT},
        category="contact",
    )
    case_notes: str = purposeful.field(purposes={CASE_MANAGEMENT: CONSENT}, category="case-notes")
    region: str = "Wellington"


with warnings.catch_warnings():  # dict-based on purpose: the second tier
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    @attrs.frozen(slots=False)
    class StackedFrozenDictCase:
        """``@purposeful.record`` on top of an existing frozen, dict-based attrs class."""

        client_id: str
        diagnosis: str = purposeful.field(
            purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, sensitivity=SENSITIVE, category="health"
        )
        address: str = purposeful.field(
            purposes={"service-delivery": SERVICE_AGREEMENT, "funder-reporting": FUNDING_AGREEMENT},
            category="contact",
        )
        case_notes: str = purposeful.field(
            purposes={CASE_MANAGEMENT: CONSENT}, category="case-notes"
        )
        region: str = "Wellington"


CASE_CLASSES = (Case, DictCase, FrozenCase, FrozenDictCase, StackedCase, StackedFrozenDictCase)
FROZEN_CASE_CLASSES = (FrozenCase, FrozenDictCase, StackedFrozenDictCase)
MUTABLE_CASE_CLASSES = (Case, DictCase, StackedCase)


@purposeful.record(subject="client_id")
class Contact:
    """Every managed field is usable for service delivery without consent."""

    client_id: str
    phone: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})
    email: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})


@purposeful.record(subject="client_id")
class Referral:
    """``history`` needs consent only when used for referral (``consent=[...]``)."""

    client_id: int
    history: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT},
        consent=["service-delivery.referral"],
    )
    summary: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT, "service-delivery.referral": CONSENT},
    )


@purposeful.record(subject="client_id", frozen=True)
class Household:
    """``members`` needs consent for every declared use (``consent=True``)."""

    client_id: str
    members: str = purposeful.field(
        purposes={
            "service-delivery": SERVICE_AGREEMENT,
            "service-delivery.referral": REFERRAL_BASIS,
        },
        consent=True,
        category="household",
    )


@purposeful.record(subject="client_id")
class Dossier:
    """Between them the fields are declared for every purpose of the default registry; the
    subject id is itself a managed field, so the record holds nothing printable."""

    client_id: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT}, category="identity"
    )
    diagnosis: str = purposeful.field(
        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT},
        sensitivity=SENSITIVE,
        category="health",
    )
    address: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT, "funder-reporting": FUNDING_AGREEMENT},
        category="contact",
    )
    story: str = purposeful.field(
        purposes={"research": CONSENT, "service-delivery.referral": CONSENT},
        category="case-notes",
    )
    safety_plan: str = purposeful.field(
        purposes={"care-and-protection": ORANGA_TAMARIKI_ACT_S66C},
        sensitivity=RESTRICTED,
        category="family-violence",
    )
    income: str = purposeful.field(
        purposes={
            "service-delivery.eligibility-assessment": SERVICE_AGREEMENT,
            "official-statistics": Statute("Data and Statistics Act 2022", "24"),
        },
        consent=True,
        category="financial",
    )
    feedback: str = purposeful.field(purposes={"service-improvement": SERVICE_AGREEMENT})


def case(cls: type = Case, client_id: str = "C-1001", **overrides: str) -> object:
    """An instance of one of the `Case` variants with recognisable values."""
    values = {
        "diagnosis": "generalised anxiety",
        "address": "12 Cuba Street",
        "case_notes": "met at home",
    }
    values.update(overrides)
    return cls(client_id, **values)


class RecordingSink:
    """An audit sink that keeps every report it is given."""

    def __init__(self) -> None:
        self.reports: list[ScopeReport] = []
        self._lock = threading.Lock()

    def emit(self, report: ScopeReport) -> None:
        with self._lock:
            self.reports.append(report)

    @property
    def decisions(self) -> list[purposeful.Decision]:
        return [d for r in self.reports for d in r.decisions]


class FailingSink:
    """An audit sink that always raises."""

    def __init__(self) -> None:
        self.calls = 0

    def emit(self, report: ScopeReport) -> None:
        self.calls += 1
        raise RuntimeError("sink is down")


class FakeConsent:
    """A consent checker holding (subject, purpose id) grants; a grant covers descendants."""

    def __init__(self, grants: Iterable[tuple[str, str]] = ()) -> None:
        self.grants = set(grants)
        self.calls: list[tuple[str, str, datetime]] = []

    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool:
        self.calls.append((subject, purpose.id, at))
        return any(
            granted_subject == subject
            and (purpose.id == granted or purpose.id.startswith(granted + "."))
            for granted_subject, granted in self.grants
        )


class AlwaysConsent:
    """A consent checker that says yes to everything."""

    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool:
        return True


class NeverConsent:
    """A consent checker that says no to everything."""

    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool:
        return False


class BatchCountingStore(MemoryConsentStore):
    """A memory consent store that notes how many people each question it is asked names
    (``batches``): one batch for everyone an ORM loaded, or one question a person."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def _events_of(
        self, subjects: Sequence[str], purposes: Sequence[str]
    ) -> dict[str, list[ConsentEvent]]:
        self.batches.append(len(subjects))
        return super()._events_of(subjects, purposes)
