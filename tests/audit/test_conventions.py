"""The audit trail's names are spelled once, in `purposeful.audit.conventions`, and that
module and the semantic conventions page say the same: every span name, attribute key and
event name is documented, and everything documented is a name the library uses. What the
span sink and the ledger write holds no name that is not there."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import purposeful
from _records import ADMINISTRATOR, CASEWORKER, case
from purposeful import Mode, PurposeViolation, use
from purposeful.audit import Ledger, PseudonymKey, SpanSink
from purposeful.audit.conventions import (
    CLAIM_REFUSED_EVENT,
    DENIED_EVENT,
    DISCLOSURE_EVENT,
    SPAN_NAME,
    UNSCOPED_SPAN_NAME,
    WOULD_DENY_EVENT,
    DecisionKey,
    DisclosureAttribute,
    EventAttribute,
    LedgerKey,
    RequestAttribute,
    SiteKey,
    SpanAttribute,
    names,
)
from purposeful.sharing import MemorySharingStore, disclose
from purposeful.sharing.agreements import Party, SharingAgreement

CONVENTIONS = Path(__file__).parents[2] / "docs" / "semantic-conventions.md"


def documented() -> dict[str, set[str]]:
    """The names in each kind of table on the page, by the table's first column heading:
    ``span name``, ``attribute``, ``event name``, ``event attribute``."""
    tables: dict[str, set[str]] = {}
    heading: str | None = None
    for line in CONVENTIONS.read_text("utf-8").splitlines():
        if not line.startswith("|"):
            heading = None
            continue
        first = line.split("|")[1].strip()
        if heading is None:
            heading = first
            continue
        name = re.fullmatch(r"`([^`]+)`", first)
        if name is not None:
            tables.setdefault(heading, set()).add(name.group(1))
    return tables


def test_every_span_attribute_key_is_documented_and_every_documented_one_is_named() -> None:
    assert documented()["attribute"] == set(names(SpanAttribute))


def test_every_event_attribute_key_is_documented_and_every_documented_one_is_named() -> None:
    assert documented()["event attribute"] == {
        *names(EventAttribute),
        *names(DisclosureAttribute),
        *names(RequestAttribute),
    }


def test_the_span_and_event_names_are_the_documented_ones() -> None:
    tables = documented()
    assert tables["span name"] == {SPAN_NAME, UNSCOPED_SPAN_NAME}
    assert tables["event name"] == {
        DENIED_EVENT,
        WOULD_DENY_EVENT,
        DISCLOSURE_EVENT,
        CLAIM_REFUSED_EVENT,
    }


def test_no_name_is_spelled_twice() -> None:
    spans = [
        *names(SpanAttribute),
        *names(EventAttribute),
        *names(DisclosureAttribute),
        *names(RequestAttribute),
    ]
    assert len(spans) == len(set(spans))
    for namespace in (LedgerKey, DecisionKey, SiteKey):
        assert len(names(namespace)) == len(set(names(namespace)))


def test_a_span_holds_only_names_from_the_conventions() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    purposeful.configure(sinks=[SpanSink(provider)], pseudonymise=PseudonymKey.generate().pseudonym)
    purposeful.configure(mode=Mode.MONITOR)
    with use("service-delivery", actor=ADMINISTRATOR):
        _ = case().diagnosis
    _ = case().address  # outside any scope: the call site's code.* attributes
    purposeful.configure(mode=Mode.ENFORCE)
    with pytest.raises(PurposeViolation), use("research", actor=CASEWORKER):
        _ = case().address
    purposeful.audit.flush()
    spans = exporter.get_finished_spans()
    assert {span.name for span in spans} == {SPAN_NAME, UNSCOPED_SPAN_NAME}
    attributes = {key for span in spans for key in span.attributes or {}}
    assert attributes <= set(names(SpanAttribute))
    assert SpanAttribute.CODE_LINE_NUMBER in attributes
    events = [event for span in spans for event in span.events]
    assert {event.name for event in events} == {DENIED_EVENT, WOULD_DENY_EVENT}
    assert {key for event in events for key in event.attributes or {}} <= set(names(EventAttribute))
    provider.shutdown()


def test_every_key_a_ledger_writes_is_named_in_the_conventions(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    purposeful.configure(mode=Mode.MONITOR)
    with Ledger(path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        purposeful.configure(sinks=[ledger], pseudonymise=PseudonymKey.generate().pseudonym)
        with use("service-delivery", actor=ADMINISTRATOR):
            _ = case().diagnosis
        _ = case().address  # outside any scope: a line with a site
        purposeful.audit.flush()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    checkpoints = [json.loads(line) for line in Path(f"{path}.checkpoints").read_text().split()]
    keys = {key for line in [*lines, *checkpoints] for key in line}
    assert keys <= set(names(LedgerKey))
    decisions = [decision for line in lines for decision in line.get(LedgerKey.DECISIONS, ())]
    assert decisions
    assert {key for decision in decisions for key in decision} == set(names(DecisionKey))
    sites = [line[LedgerKey.SITE] for line in lines if LedgerKey.SITE in line]
    assert sites
    assert {key for site in sites for key in site} == set(names(SiteKey))


# --- a disclosure's keys, which the sharing package spells itself ---------------------------

REFERRAL = "service-delivery.referral"
SHARING = purposeful.InformationSharingAgreement("Housing support referrals AISA")


@purposeful.record(subject="client_id")
class PartnerReferral:
    client_id: str
    name: str = purposeful.field(purposes={REFERRAL: purposeful.DIRECTLY_RELATED_PURPOSE})


PARTNER = Party("Kāinga Ora", address="PO Box 2628, Wellington")
AGREEMENT = SharingAgreement(
    id="housing-referrals",
    name="Housing referrals",
    parties=(Party("Te Whare Āwhina", address="12 Rata Street, Hamilton"), PARTNER),
    purposes=(REFERRAL,),
    basis=SHARING,
    # in force now, whenever the tests run: disclose discloses now
    starts=date.today() - timedelta(days=365),
    expires=date.today() + timedelta(days=3 * 365),
    review=date.today() + timedelta(days=365),
    fields=("PartnerReferral.name",),
)


@pytest.fixture
def sharing_log() -> Iterator[MemorySharingStore]:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    yield store
    store.close()


def test_a_disclosure_event_holds_the_disclosure_attributes_of_the_conventions(
    sharing_log: MemorySharingStore,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    purposeful.configure(sinks=[SpanSink(provider)], pseudonymise=PseudonymKey.generate().pseudonym)
    disclose(PartnerReferral("C-3310", "Mere"), to=PARTNER, under=AGREEMENT, actor=CASEWORKER)
    events: list[Any] = [
        event
        for span in exporter.get_finished_spans()
        for event in span.events
        if event.name == DISCLOSURE_EVENT
    ]
    (event,) = events
    # the care attributes are there only for a person who needs more care, the request and
    # the record count only for a released subject-access bundle (tests/care)
    care = {
        DisclosureAttribute.CARE_NEEDS,
        DisclosureAttribute.CARE_SECOND_REVIEWER,
        DisclosureAttribute.CARE_SAFETY_REVIEW,
        DisclosureAttribute.REQUEST,
        DisclosureAttribute.RECORDS_COUNT,
    }
    assert set(event.attributes or {}) == set(names(DisclosureAttribute)) - care
    provider.shutdown()
