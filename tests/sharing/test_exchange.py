"""``purposeful.disclose``: only what the agreement covers and the purpose allows, with the
statements of correction, logged before it is handed over, refused with an explanation
otherwise; ``receive``: where information came from, and IPP 3A's list of people to tell."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import purposeful
from purposeful import CONSENT, SENSITIVE, Actor, InformationSharingAgreement
from purposeful.audit import Ledger, PseudonymKey, SpanSink, verify_ledger
from purposeful.consent import MemoryConsentStore
from purposeful.corrections import MemoryCorrectionStore
from purposeful.errors import (
    ConfigurationError,
    DisclosureRefused,
    DisclosureTimeError,
    StoreError,
)
from purposeful.sharing import (
    DISCLOSURE_SKEW,
    STATEMENTS,
    CollectionStatus,
    Disclosure,
    MemorySharingStore,
)
from purposeful.sharing.agreements import Party, SharingAgreement
from purposeful.sharing.exchange import disclose, disclosure_terms, receive
from purposeful.sharing.values import new_id

REFERRAL = "service-delivery.referral"


@purposeful.record(subject="client_id", key="referral_id")
class HousingReferral:
    client_id: str
    referral_id: str
    name: str = purposeful.field(purposes={REFERRAL: CONSENT}, category="identity")
    phone: str = purposeful.field(purposes={REFERRAL: CONSENT}, category="contact")
    history: str = purposeful.field(
        purposes={"service-delivery.case-management": CONSENT}, sensitivity=SENSITIVE
    )


US = Party("Te Whare Āwhina", address="12 Rata Street, Hamilton")
PARTNER = Party("Kāinga Ora", address="PO Box 2628, Wellington")
TODAY = date.today()
AGREEMENT = SharingAgreement(
    id="housing-referrals",
    name="Housing referrals",
    parties=(US, PARTNER),
    purposes=(REFERRAL,),
    basis=InformationSharingAgreement("Housing support referrals AISA"),
    # in force now, whenever the tests run: disclose discloses now
    starts=TODAY - timedelta(days=365),
    expires=TODAY + timedelta(days=3 * 365),
    review=TODAY + timedelta(days=365),
    fields=("HousingReferral.name", "HousingReferral.phone"),
)
CASEWORKER = Actor("staff-17", "caseworker", SENSITIVE)
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
SUBJECT = "C-3310"


def referral(subject: str = SUBJECT, **values: str) -> HousingReferral:
    fields = {"name": "Mere Tipene", "phone": "021 555 0199", "history": "private history"}
    fields.update(values)
    return HousingReferral(subject, "R-1", **fields)


@pytest.fixture
def log() -> Iterator[MemorySharingStore]:
    store = MemorySharingStore()
    consent = MemoryConsentStore()
    consent.give(SUBJECT, REFERRAL, at=datetime(2026, 1, 5, tzinfo=UTC))
    purposeful.configure(disclosure_log=store, consent=consent)
    yield store
    store.close()


def test_only_covered_fields_the_purpose_allows_go_and_the_disclosure_is_logged(
    log: MemorySharingStore,
) -> None:
    sent = disclose(referral(), to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER)
    # history is neither covered by the agreement nor allowed for the referral purpose
    assert dict(sent) == {"name": "Mere Tipene", "phone": "021 555 0199"}
    assert "history" in sent.left_out
    assert "Mere" not in repr(sent)
    [logged] = log.disclosures(SUBJECT)
    assert logged == sent.disclosure
    assert logged.recipient == "Kāinga Ora"
    assert logged.agreement == "housing-referrals"
    assert logged.purpose == REFERRAL
    assert logged.fields == ("name", "phone")
    assert logged.record_key == "R-1"
    [entry] = log.for_subject(SUBJECT)
    assert entry.fields == ("HousingReferral.name", "HousingReferral.phone")
    assert entry.agreement == "Housing referrals"


def test_a_disclosure_carries_our_reference_and_the_records_key_for_the_partners_reply(
    log: MemorySharingStore,
) -> None:
    sent = disclose(referral(), to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER)
    assert (sent.reference, sent.record_key) == (sent.disclosure.id, "R-1")
    # the partner replies quoting the reference: the log finds what was sent, and to whom
    [replied_about] = [d for d in log.disclosures(SUBJECT) if d.id == sent.reference]
    assert (replied_about.recipient, replied_about.record_key) == ("Kāinga Ora", "R-1")


EXPIRED = attrs.evolve(
    AGREEMENT,
    starts=TODAY - timedelta(days=400),
    review=TODAY - timedelta(days=100),
    expires=TODAY - timedelta(days=2),
)
NOT_STARTED = attrs.evolve(
    AGREEMENT,
    starts=TODAY + timedelta(days=2),
    review=TODAY + timedelta(days=100),
    expires=TODAY + timedelta(days=400),
)


@pytest.mark.parametrize(
    ("kwargs", "reason", "words"),
    [
        (
            {"under": EXPIRED},
            "agreement-expired",
            f"expired on {(TODAY - timedelta(days=2)).isoformat()}",
        ),
        ({"under": NOT_STARTED}, "agreement-not-started", "starts on"),
        ({"to": "Oranga Tamariki"}, "party-not-in-agreement", "is not a party to it"),
        ({"purpose": "research"}, "purpose-not-in-agreement", "does not allow sharing for"),
    ],
)
def test_a_disclosure_the_agreement_does_not_allow_is_refused_and_not_logged(
    log: MemorySharingStore, kwargs: dict[str, Any], reason: str, words: str
) -> None:
    arguments: dict[str, Any] = {"to": "Kāinga Ora", "actor": CASEWORKER, "under": AGREEMENT}
    arguments.update(kwargs)
    with pytest.raises(DisclosureRefused, match=words) as caught:
        disclose(referral(), **arguments)
    assert reason in caught.value.reasons
    assert isinstance(caught.value, PermissionError)
    assert log.disclosures(SUBJECT) == []
    assert SUBJECT not in str(caught.value)


def test_expiry_is_judged_on_the_new_zealand_day() -> None:
    """`disclose` checks its agreement with `disclosure_terms`, at the time it is called."""
    agreement = attrs.evolve(
        AGREEMENT, starts=date(2026, 1, 1), review=date(2027, 6, 30), expires=date(2027, 12, 31)
    )

    def terms(at: datetime) -> DisclosureRefused | None:
        found = disclosure_terms("HousingReferral", PARTNER, agreement, None, CASEWORKER, at, None)
        return found.refusal

    # 31 Dec 2027 11:30 UTC is already 1 January 2028 in New Zealand: expired.
    refused = terms(datetime(2027, 12, 31, 11, 30, tzinfo=UTC))
    assert refused is not None
    assert refused.reasons == ("agreement-expired",)
    assert terms(datetime(2027, 12, 31, 10, 30, tzinfo=UTC)) is None  # 23:30 on the 31st


@pytest.mark.parametrize(
    "off",
    [-timedelta(days=30), -timedelta(minutes=6), timedelta(minutes=6), timedelta(days=1)],
    ids=["a month ago", "6 minutes ago", "in 6 minutes", "tomorrow"],
)
def test_a_disclosure_at_another_time_than_now_is_refused_and_not_logged(
    log: MemorySharingStore, off: timedelta
) -> None:
    """`disclose` hands the record over now: a time away from now would check the agreement
    then (here one that expired yesterday, in force a month ago) and log a false time."""
    with pytest.raises(DisclosureTimeError) as caught:
        disclose(
            referral(), to="Kāinga Ora", under=EXPIRED, actor=CASEWORKER,
            at=datetime.now(UTC) + off,
        )  # fmt: skip
    assert log.disclosures(SUBJECT) == []
    message = str(caught.value)
    assert ("before" if off < timedelta(0) else "after") + " this machine's clock" in message
    assert "Leave at= out" in message
    assert "log(Disclosure(...))" in message  # how to record one made outside purposeful
    assert isinstance(caught.value, ConfigurationError)
    assert SUBJECT not in message


def test_a_time_within_the_clock_skew_is_the_time_logged(log: MemorySharingStore) -> None:
    at = datetime.now(UTC) - DISCLOSURE_SKEW + timedelta(seconds=30)
    sent = disclose(referral(), to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER, at=at)
    assert sent.disclosure.at == at
    with pytest.raises(DisclosureRefused, match="expired"):  # and the agreement checked then
        disclose(referral(), to="Kāinga Ora", under=EXPIRED, actor=CASEWORKER, at=at)


def test_a_disclosure_made_outside_purposeful_is_recorded_with_the_log(
    log: MemorySharingStore,
) -> None:
    """What the refusal says to do: the log records a past disclosure and hands nothing
    over."""
    made = datetime.now(UTC) - timedelta(days=30)
    recorded = log.log(
        Disclosure(
            id=new_id(), subject=SUBJECT, at=made, recipient="Kāinga Ora",
            agreement=AGREEMENT.id, agreement_name=AGREEMENT.name, purpose=REFERRAL,
            basis=AGREEMENT.basis.describe(), record_type="HousingReferral",
            record_key="R-1", fields=("phone",),
        )
    )  # fmt: skip
    assert log.disclosures(SUBJECT) == [recorded]
    assert recorded.at == made


def test_the_payload_carries_the_statements_of_correction_with_their_fields(
    log: MemorySharingStore,
) -> None:
    corrections = MemoryCorrectionStore()
    purposeful.configure(corrections=corrections)
    record = referral()
    plain = disclose(record, to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER).to_json()
    assert plain == {"name": "Mere Tipene", "phone": "021 555 0199"}  # none: no member
    asked = corrections.request_correction(SUBJECT, record, "phone", "021 000 0000", "old")
    corrections.decline(asked.id, by="staff-02", reason="verified", statement="It changed.")
    sent = disclose(record, to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER)
    assert sent.to_json() == plain | {STATEMENTS: {"phone": ["It changed."]}}
    assert sent.disclosure.statements == (asked.id,)  # what the log says went with it


def test_without_consent_nothing_the_purpose_allows_is_covered(log: MemorySharingStore) -> None:
    with pytest.raises(DisclosureRefused, match="covers none of the fields") as caught:
        disclose(referral("C-9999"), to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER)
    assert caught.value.reasons == ("nothing-covered",)
    assert log.disclosures("C-9999") == []


def test_statements_of_correction_travel_with_the_field(log: MemorySharingStore) -> None:
    corrections = MemoryCorrectionStore()
    purposeful.configure(corrections=corrections)
    record = referral()
    asked = corrections.request_correction(SUBJECT, record, "phone", "021 000 0000", "old number")
    corrections.decline(asked.id, by="staff-02", reason="verified", statement="My number changed.")
    sent = disclose(record, to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER)
    assert sent.statements == {"phone": ("My number changed.",)}
    assert sent.disclosure.statements == (asked.id,)
    # IPP 7: who received the field, and who is still to be told of the statement
    assert [d.recipient for d in log.recipients_of(SUBJECT, "HousingReferral", "R-1", "phone")] == [
        "Kāinga Ora"
    ]


def test_a_later_correction_names_the_parties_that_had_the_old_value(
    log: MemorySharingStore,
) -> None:
    corrections = MemoryCorrectionStore()
    record = referral()
    before = disclose(record, to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER)
    asked = corrections.request_correction(SUBJECT, record, "phone", "021 000 0000", "wrong")
    assert log.parties_to_tell(asked) == []  # not decided yet: nothing to tell
    applied = corrections.apply(asked.id, lambda _: None, by="staff-02")
    # a disclosure after the correction carried the corrected value: nobody to tell for it
    disclose(record, to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER)
    assert [d.id for d in log.parties_to_tell(applied)] == [before.disclosure.id]
    log.record_told(before.disclosure.id, applied.id, how="email to their privacy officer")
    assert log.parties_to_tell(applied) == []
    # a correction of another field names nobody: that field did not go out
    other = corrections.request_correction(SUBJECT, record, "history", "-", "wrong")
    other = corrections.apply(other.id, lambda _: None, by="staff-02")
    assert log.parties_to_tell(other) == []


def test_a_disclosure_that_did_not_carry_the_statement_names_its_party_whenever_made(
    log: MemorySharingStore,
) -> None:
    """IPP 7: a party that received the field without the person's statement of correction
    is told of it, even when the field went out after the statement was attached (here by
    a service that discloses without the correction store configured)."""
    corrections = MemoryCorrectionStore()
    record = referral()
    earlier = datetime(2026, 11, 2, tzinfo=UTC)
    asked = corrections.request_correction(
        SUBJECT, record, "phone", "021 000 0000", "old", at=earlier
    )
    declined = corrections.decline(
        asked.id, by="staff-02", reason="verified", statement="My number changed.", at=earlier
    )
    assert declined.statement_at == earlier < datetime.now(UTC)
    without = disclose(record, to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER)
    assert without.statements == {}
    assert [d.id for d in log.parties_to_tell(declined)] == [without.disclosure.id]
    # one that carried it has nothing to be told
    purposeful.configure(corrections=corrections)
    carried = disclose(record, to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER)
    assert carried.disclosure.statements == (asked.id,)
    assert [d.id for d in log.parties_to_tell(declined)] == [without.disclosure.id]


def test_the_exchange_module_is_not_hidden_by_the_function_it_exports() -> None:
    import purposeful.sharing.exchange as exchange

    assert exchange.__name__ == "purposeful.sharing.exchange"
    assert exchange.disclose is purposeful.sharing.disclose is purposeful.disclose
    assert exchange.receive is purposeful.receive


def test_the_configured_log_must_append_and_read_back() -> None:
    class AppendOnly:
        def log(self, disclosure: object) -> object:
            return disclosure

    with pytest.raises(ConfigurationError, match=r"needs log\(disclosure\) and for_subject"):
        purposeful.configure(disclosure_log=AppendOnly())  # type: ignore[arg-type]
    purposeful.configure(disclosure_log=MemorySharingStore())


def test_disclose_needs_a_log_and_an_actor() -> None:
    with pytest.raises(ConfigurationError, match="configure a disclosure log"):
        disclose(referral(), to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER)
    purposeful.configure(disclosure_log=MemorySharingStore())
    with pytest.raises(ConfigurationError, match="needs the actor"):
        disclose(referral(), to="Kāinga Ora", under=AGREEMENT)


def test_a_log_that_fails_means_nothing_is_disclosed(log: MemorySharingStore) -> None:
    log.close()
    with pytest.raises(StoreError):
        disclose(referral(), to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER)


def test_inside_a_scope_the_purpose_and_actor_come_from_it(log: MemorySharingStore) -> None:
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        sent = disclose(referral(), to=PARTNER, under=AGREEMENT)
    assert sent.disclosure.purpose == REFERRAL


def test_each_disclosure_is_an_event_on_its_scope_span_and_in_the_ledger(
    log: MemorySharingStore, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    key = PseudonymKey.generate()
    signing_key = Ed25519PrivateKey.generate()
    with Ledger(tmp_path / "audit.jsonl", signing_key=signing_key) as ledger:
        purposeful.configure(pseudonymise=key.pseudonym, sinks=[SpanSink(provider), ledger])
        with provider.get_tracer("test").start_as_current_span("referral"):
            sent = disclose(referral(), to="Kāinga Ora", under=AGREEMENT, actor=CASEWORKER)
        purposeful.configure(sinks=[])
    spans = {span.name: span for span in exporter.get_finished_spans()}
    scope = spans["purposeful.use"]
    assert scope.parent is not None
    assert scope.parent.span_id == spans["referral"].context.span_id  # nested in the app's
    [event] = [e for e in scope.events if e.name == "purposeful.disclosure"]
    attributes = dict(event.attributes or {})
    assert attributes["purposeful.disclosure.id"] == sent.disclosure.id
    assert attributes["purposeful.disclosure.recipient"] == "Kāinga Ora"
    assert attributes["purposeful.disclosure.fields"] == ("name", "phone")
    assert attributes["purposeful.disclosure.subject"] == key.pseudonym(SUBJECT)
    assert key.pseudonym(SUBJECT) in (scope.attributes or {})["purposeful.subjects"]
    everything = str(scope.attributes) + str(scope.events)
    assert "Mere" not in everything
    assert SUBJECT not in everything
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    [entry] = [line for line in lines if line.get("disclosures")]
    assert entry["disclosures"][0]["purposeful.disclosure.agreement"] == "housing-referrals"
    assert entry["disclosures"][0]["purposeful.disclosure.subject"] == key.pseudonym(SUBJECT)
    assert SUBJECT.encode() not in (tmp_path / "audit.jsonl").read_bytes()
    assert verify_ledger(tmp_path / "audit.jsonl", signing_key.public_key()).ok
    provider.shutdown()


def test_a_disclosure_names_no_one_in_the_trail_without_a_pseudonymiser(
    log: MemorySharingStore,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    purposeful.configure(sinks=[SpanSink(provider)])
    disclose(referral(), to=PARTNER, under=AGREEMENT, actor=CASEWORKER)
    [event] = [
        e
        for span in exporter.get_finished_spans()
        for e in span.events
        if e.name == "purposeful.disclosure"
    ]
    assert "purposeful.disclosure.subject" not in (event.attributes or {})
    assert SUBJECT not in str(event.attributes)
    provider.shutdown()


@settings(max_examples=30)
@given(
    name=st.text(st.characters(categories=["L"]), min_size=5, max_size=12),
    phone=st.text("0123456789 ", min_size=6, max_size=12),
)
def test_no_value_reaches_a_refusal_or_the_log(name: str, phone: str) -> None:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    record = referral("C-7", name=name, phone=phone)
    with pytest.raises(DisclosureRefused) as caught:
        disclose(record, to="Nobody", under=AGREEMENT, actor=CASEWORKER)
    assert name not in str(caught.value)
    assert phone.strip() not in str(caught.value) or not phone.strip()
    assert "C-7" not in str(caught.value)


def test_a_referral_in_puts_the_person_on_the_ipp_3a_list(log: MemorySharingStore) -> None:
    record = referral("C-4000")
    collected = receive(
        record, source=PARTNER, purpose=REFERRAL, law="Oranga Tamariki Act 1989 s 66C", at=NOW
    )
    assert collected.status is CollectionStatus.TO_TELL
    assert collected.source == "Kāinga Ora"
    assert [c.id for c in log.still_to_be_told()] == [collected.id]
    log.mark_told(collected.id, how="letter", at=NOW)
    assert log.still_to_be_told() == []


def test_information_collected_before_ipp_3a_is_recorded_as_an_exception(
    log: MemorySharingStore,
) -> None:
    collected = receive(
        referral("C-4001"),
        source="Kāinga Ora",
        purpose=REFERRAL,
        at=datetime(2026, 4, 1, tzinfo=UTC),
    )
    assert collected.status is CollectionStatus.EXCEPTION
    assert collected.how == "ipp3a:before-in-force"
    assert log.still_to_be_told() == []


def _frame_locals(error: BaseException) -> list[str]:
    """The text of every local of every frame in *error*'s traceback, its cause's and its
    context's: what an error tracker that captures locals would record."""
    texts: list[str] = []
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            if "purposeful" in tb.tb_frame.f_code.co_filename:
                texts += [repr(v) for v in tb.tb_frame.f_locals.values()]
            tb = tb.tb_next
        pending += [current.__cause__, current.__context__]
    return texts


@pytest.mark.parametrize("subject", [SUBJECT, "C-3310\x00"])
def test_receiving_into_a_log_that_refuses_leaves_no_subject_id_in_library_frames(
    log: MemorySharingStore, subject: str
) -> None:
    """A closed log, or a subject id a store cannot keep: the error's traceback holds no
    library frame whose locals hold the raw subject id (error trackers record locals)."""
    if subject == SUBJECT:
        log.close()
    with pytest.raises((StoreError, ConfigurationError)) as info:
        receive(referral(subject), source=PARTNER, purpose=REFERRAL, at=NOW)
    texts = _frame_locals(info.value)
    assert not [t for t in texts if SUBJECT in t or "Mere Tipene" in t or "021 555" in t]


def test_disclosing_to_a_closed_log_leaves_no_value_or_subject_id_in_library_frames(
    log: MemorySharingStore,
) -> None:
    log.close()
    with pytest.raises(StoreError) as info:
        disclose(referral(), to=PARTNER, under=AGREEMENT, actor=CASEWORKER)
    texts = _frame_locals(info.value)
    assert not [t for t in texts if SUBJECT in t or "Mere Tipene" in t or "021 555" in t]
