"""Shared pieces of the retention tests: record classes, a registry with periods, and a
source over a dict that counts its disposals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import purposeful
from purposeful import Purpose, PurposeRegistry, Retention, ServiceAgreement
from purposeful.retention import Dated, DisposalMethod, RetentionSource, RetentionSources

AGREEMENT = ServiceAgreement("Service agreement")


def purpose(ident: str, retention: Retention | None = None) -> Purpose:
    return Purpose(ident, ident, "What it is for.", "How it helps.", retention=retention)


#: service-delivery (3 years) > service-delivery.case-management (inherits 3 years),
#: service-delivery.referral (1 year);
#: funder-reporting (2 years from delivery); service-improvement (no period).
REGISTRY = PurposeRegistry(
    [
        purpose("service-delivery", Retention(years=3, after="the case closes")),
        purpose("service-delivery.case-management"),
        purpose("service-delivery.referral", Retention(years=1, after="the last visit")),
        purpose("funder-reporting", Retention(years=2, after="the report is delivered")),
        purpose("service-improvement"),
    ]
)


@purposeful.record(subject="person", key="ref", registry=REGISTRY)
class RetainedNote:
    person: str
    ref: str
    text: str = purposeful.field(purposes={"service-delivery.case-management": AGREEMENT})


@purposeful.record(subject="person", key="ref", registry=REGISTRY)
class RetainedVisit:
    person: str
    ref: str
    notes: str = purposeful.field(
        purposes={"service-delivery.referral": AGREEMENT, "funder-reporting": AGREEMENT}
    )


@purposeful.record(subject="person", key="ref", registry=REGISTRY)
class ArchivedLetter:
    person: str
    ref: str
    body: str = purposeful.field(
        purposes={"service-improvement": AGREEMENT, "service-delivery": AGREEMENT}
    )


class DictSource:
    """Records in a dict by (person, ref), each with its dates; disposals are counted."""

    def __init__(self, method: DisposalMethod = DisposalMethod.DELETE) -> None:
        self.rows: dict[tuple[str, str], Dated] = {}
        self.disposed: list[tuple[str, str, DisposalMethod]] = []
        self.fail_on: set[str] = set()
        self.source = RetentionSource(self.every, self.dispose, method=method)

    def add(self, record: object, since: date | datetime, **since_for: date | datetime) -> None:
        key = (record.person, record.ref)  # type: ignore[attr-defined]
        self.rows[key] = Dated(
            record, since, {k.replace("__", ".").replace("_", "-"): v for k, v in since_for.items()}
        )

    def every(self) -> Iterator[Dated]:
        yield from list(self.rows.values())

    def dispose(self, record: object, method: DisposalMethod) -> None:
        key = (record.person, record.ref)  # type: ignore[attr-defined]
        if record.ref in self.fail_on:  # type: ignore[attr-defined]
            raise OSError("the database went away")
        self.rows.pop(key, None)
        self.disposed.append((*key, method))


def sources_of(**named: DictSource) -> RetentionSources:
    sources = RetentionSources()
    for name, source in named.items():
        sources.register(name.replace("_", "-"), source.source)
    return sources
