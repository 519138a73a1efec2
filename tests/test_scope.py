"""Purpose scopes: what a read is decided against, and how scopes travel and report."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from typing import Any

import attrs
import pytest

import purposeful
from _records import (
    ADMINISTRATOR,
    CASE_MANAGEMENT,
    CASEWORKER,
    FUNDER_JOB,
    SERVICE_AGREEMENT,
    SUPERVISOR,
    AlwaysConsent,
    Case,
    Contact,
    FailingSink,
    FakeConsent,
    Household,
    NeverConsent,
    RecordingSink,
    Referral,
    case,
)
from purposeful import (
    RESTRICTED,
    SENSITIVE,
    UNCLASSIFIED,
    Actor,
    ConfigurationError,
    Mode,
    NoPurposeScope,
    Outcome,
    Purpose,
    PurposeViolation,
    Reason,
    Scope,
    ScopeReport,
    carry_scope,
    current_scope,
    use,
)
from purposeful.errors import AuditSinkError, UnknownPurpose


@purposeful.record(subject="client_id")
class Parenting:
    """``plan`` is declared for the parent purpose ``service-delivery`` only."""

    client_id: str
    plan: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})


# --- purpose hierarchy ---


@pytest.mark.parametrize(
    "child",
    [
        "service-delivery.case-management",
        "service-delivery.referral",
        "service-delivery.eligibility-assessment",
    ],
)
def test_grant_of_a_parent_purpose_covers_each_child(child: str) -> None:
    with use(child, actor=CASEWORKER) as scope:
        assert Parenting("C-1", "weekly visits").plan == "weekly visits"
    (decision,) = scope.decisions
    assert decision.outcome is Outcome.ALLOWED
    assert decision.basis == SERVICE_AGREEMENT
    assert decision.purpose is not None
    assert decision.purpose.id == child


def test_grant_of_a_child_purpose_does_not_cover_its_parent() -> None:
    with use("service-delivery", actor=CASEWORKER), pytest.raises(PurposeViolation) as info:
        _ = case().diagnosis
    assert info.value.decision.reasons == (Reason.PURPOSE_NOT_DECLARED,)


def test_grant_of_a_child_purpose_does_not_cover_a_sibling() -> None:
    with use("service-delivery.referral", actor=CASEWORKER), pytest.raises(PurposeViolation):
        _ = case().diagnosis


def test_grant_of_a_parent_does_not_cover_an_unrelated_purpose() -> None:
    with use("service-improvement", actor=CASEWORKER), pytest.raises(PurposeViolation):
        _ = Parenting("C-1", "weekly visits").plan


def test_nearest_declared_ancestor_gives_the_basis() -> None:
    referral = Referral(7, "history", "summary")
    with use("service-delivery.referral", actor=CASEWORKER, consent=AlwaysConsent()) as scope:
        assert referral.summary == "summary"
    assert scope.decisions[0].basis == purposeful.CONSENT
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        assert referral.summary == "summary"
    assert scope.decisions[0].basis == SERVICE_AGREEMENT


# --- clearance ---


def test_clearance_below_the_field_is_denied() -> None:
    with use(CASE_MANAGEMENT, actor=ADMINISTRATOR), pytest.raises(PurposeViolation) as info:
        _ = case().diagnosis
    assert info.value.decision.reasons == (Reason.CLEARANCE_TOO_LOW,)
    assert info.value.decision.sensitivity == SENSITIVE


@pytest.mark.parametrize("actor", [CASEWORKER, SUPERVISOR], ids=["equal", "above"])
def test_clearance_equal_to_or_above_the_field_is_allowed(actor: Actor) -> None:
    assert actor.clearance >= SENSITIVE
    with use(CASE_MANAGEMENT, actor=actor):
        assert case().diagnosis == "generalised anxiety"


def test_wrong_purpose_and_low_clearance_give_both_reasons() -> None:
    with use("funder-reporting", actor=ADMINISTRATOR), pytest.raises(PurposeViolation) as info:
        _ = case().diagnosis
    assert info.value.decision.reasons == (Reason.PURPOSE_NOT_DECLARED, Reason.CLEARANCE_TOO_LOW)


def test_lowest_clearance_cannot_read_an_in_confidence_field() -> None:
    visitor = Actor("vol-1", "volunteer", UNCLASSIFIED)
    with use("service-delivery", actor=visitor), pytest.raises(PurposeViolation) as info:
        _ = case().address
    assert info.value.decision.reasons == (Reason.CLEARANCE_TOO_LOW,)


# --- consent ---


def test_consent_basis_field_is_denied_when_no_consent_checker_is_configured() -> None:
    with use(CASE_MANAGEMENT, actor=CASEWORKER), pytest.raises(PurposeViolation) as info:
        _ = case().case_notes
    assert info.value.decision.reasons == (Reason.NO_CONSENT_CHECKER,)


def test_consent_list_field_needs_consent_only_for_the_listed_purpose() -> None:
    referral = Referral(7, "history", "summary")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert referral.history == "history"
    with (
        use("service-delivery.referral", actor=CASEWORKER),
        pytest.raises(PurposeViolation) as info,
    ):
        _ = referral.history
    assert info.value.decision.reasons == (Reason.NO_CONSENT_CHECKER,)


def test_consent_true_field_needs_consent_for_every_declared_purpose() -> None:
    household = Household("C-1", "two adults, one child")
    for purpose in ("service-delivery", CASE_MANAGEMENT, "service-delivery.referral"):
        with use(purpose, actor=CASEWORKER), pytest.raises(PurposeViolation) as info:
            _ = household.members
        assert info.value.decision.reasons == (Reason.NO_CONSENT_CHECKER,)


def test_configured_consent_checker_allows_a_subject_who_consented() -> None:
    checker = FakeConsent({("C-1001", CASE_MANAGEMENT)})
    purposeful.configure(consent=checker)
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        assert case().case_notes == "met at home"
    assert checker.calls == [("C-1001", CASE_MANAGEMENT, scope.opened_at)]
    assert scope.decisions[0].outcome is Outcome.ALLOWED


def test_consent_to_a_parent_purpose_is_asked_about_the_scope_purpose() -> None:
    checker = FakeConsent({("C-1001", "service-delivery")})
    purposeful.configure(consent=checker)
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert case().case_notes == "met at home"
    assert [purpose for _, purpose, _ in checker.calls] == [CASE_MANAGEMENT]


def test_configured_consent_checker_denies_a_subject_who_did_not_consent() -> None:
    purposeful.configure(consent=FakeConsent({("C-other", CASE_MANAGEMENT)}))
    with use(CASE_MANAGEMENT, actor=CASEWORKER), pytest.raises(PurposeViolation) as info:
        _ = case().case_notes
    assert info.value.decision.reasons == (Reason.CONSENT_NOT_HELD,)


def test_consent_is_decided_per_subject_within_one_scope() -> None:
    purposeful.configure(consent=FakeConsent({("C-yes", CASE_MANAGEMENT)}))
    consented, refused = case(client_id="C-yes"), case(client_id="C-no")
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        assert consented.case_notes == "met at home"
        with pytest.raises(PurposeViolation) as info:
            _ = refused.case_notes
        assert consented.case_notes == "met at home"
    assert info.value.decision.reasons == (Reason.CONSENT_NOT_HELD,)
    assert [(d.field, d.outcome) for d in scope.decisions] == [
        ("case_notes", Outcome.ALLOWED),
        ("case_notes", Outcome.DENIED),
    ]


def test_consent_is_asked_once_per_subject_per_scope() -> None:
    checker = FakeConsent({("C-1001", CASE_MANAGEMENT), ("C-2", CASE_MANAGEMENT)})
    purposeful.configure(consent=checker)
    first, second = case(), case(client_id="C-2")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        for _ in range(5):
            assert first.case_notes == "met at home"
            assert second.case_notes == "met at home"
    assert [subject for subject, _, _ in checker.calls] == ["C-1001", "C-2"]


def test_consent_checker_receives_the_subject_as_a_string() -> None:
    checker = FakeConsent({("7", "service-delivery.referral")})
    with use("service-delivery.referral", actor=CASEWORKER, consent=checker):
        assert Referral(7, "history", "summary").history == "history"
    assert checker.calls[0][0] == "7"


def test_consent_is_asked_again_in_the_next_scope() -> None:
    checker = FakeConsent({("C-1001", CASE_MANAGEMENT)})
    purposeful.configure(consent=checker)
    record = case()
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert record.case_notes == "met at home"
    checker.grants.clear()
    with use(CASE_MANAGEMENT, actor=CASEWORKER), pytest.raises(PurposeViolation) as info:
        _ = record.case_notes
    assert info.value.decision.reasons == (Reason.CONSENT_NOT_HELD,)
    assert len(checker.calls) == 2


def test_per_scope_consent_checker_overrides_a_missing_global_one() -> None:
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=AlwaysConsent()):
        assert case().case_notes == "met at home"


def test_per_scope_consent_checker_overrides_the_configured_one() -> None:
    purposeful.configure(consent=AlwaysConsent())
    with (
        use(CASE_MANAGEMENT, actor=CASEWORKER, consent=NeverConsent()),
        pytest.raises(PurposeViolation) as info,
    ):
        _ = case().case_notes
    assert info.value.decision.reasons == (Reason.CONSENT_NOT_HELD,)
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert case().case_notes == "met at home"


def test_consent_does_not_cure_an_undeclared_purpose() -> None:
    with (
        use("funder-reporting", actor=CASEWORKER, consent=AlwaysConsent()),
        pytest.raises(PurposeViolation) as info,
    ):
        _ = case().case_notes
    assert info.value.decision.reasons == (Reason.PURPOSE_NOT_DECLARED,)


def test_consent_checker_without_the_protocol_method_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not a consent checker"):
        purposeful.configure(consent=object())


# --- monitor and enforce ---


def test_enforce_is_the_default_mode() -> None:
    assert purposeful.get_configuration().mode is Mode.ENFORCE


def test_global_monitor_mode_returns_the_value_and_records_would_deny(
    sink: RecordingSink,
) -> None:
    purposeful.configure(mode=Mode.MONITOR)
    with use("funder-reporting", actor=FUNDER_JOB) as scope:
        assert case().diagnosis == "generalised anxiety"
        assert case().diagnosis == "generalised anxiety"
    (decision,) = scope.decisions
    assert decision.outcome is Outcome.WOULD_DENY
    assert decision.reasons == (Reason.PURPOSE_NOT_DECLARED, Reason.CLEARANCE_TOO_LOW)
    assert decision.violation
    assert not decision.allowed
    (report,) = sink.reports
    assert report.violations == (decision,)


def test_monitor_mode_lets_a_consent_refusal_through() -> None:
    purposeful.configure(mode=Mode.MONITOR)
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        assert case().case_notes == "met at home"
    assert scope.decisions[0].outcome is Outcome.WOULD_DENY
    assert scope.decisions[0].reasons == (Reason.NO_CONSENT_CHECKER,)


def test_monitor_mode_still_allows_what_is_allowed() -> None:
    purposeful.configure(mode=Mode.MONITOR)
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        assert case().diagnosis == "generalised anxiety"
    assert scope.decisions[0].outcome is Outcome.ALLOWED


def test_purpose_mode_applies_to_the_purpose_and_its_descendants() -> None:
    purposeful.configure(purpose_modes={"service-delivery": Mode.MONITOR})
    for purpose in ("service-delivery", "service-delivery.referral"):
        with use(purpose, actor=CASEWORKER) as scope:
            assert case().diagnosis == "generalised anxiety"
        assert scope.decisions[0].outcome is Outcome.WOULD_DENY
    with use("funder-reporting", actor=CASEWORKER), pytest.raises(PurposeViolation):
        _ = case().diagnosis


def test_purpose_mode_of_a_child_does_not_apply_to_its_parent() -> None:
    purposeful.configure(purpose_modes={"service-delivery.referral": Mode.MONITOR})
    with use("service-delivery", actor=CASEWORKER), pytest.raises(PurposeViolation):
        _ = case().diagnosis


def test_purpose_mode_can_enforce_under_a_global_monitor_mode() -> None:
    purposeful.configure(mode=Mode.MONITOR, purpose_modes={"funder-reporting": Mode.ENFORCE})
    with use("funder-reporting", actor=CASEWORKER), pytest.raises(PurposeViolation):
        _ = case().diagnosis
    with use("research", actor=CASEWORKER):
        assert case().diagnosis == "generalised anxiety"


def test_purpose_mode_for_an_unknown_purpose_is_refused() -> None:
    with pytest.raises(UnknownPurpose):
        purposeful.configure(purpose_modes={"no-such-purpose": Mode.MONITOR})
    assert purposeful.get_configuration().purpose_modes == {}


def test_record_mode_wins_over_purpose_mode() -> None:
    purposeful.configure(
        purpose_modes={"funder-reporting": Mode.ENFORCE}, record_modes={Case: Mode.MONITOR}
    )
    with use("funder-reporting", actor=CASEWORKER) as scope:
        assert case().diagnosis == "generalised anxiety"
        with pytest.raises(PurposeViolation):
            _ = Contact("C-1", "021 555 0101", "a@example.org").phone
    assert [d.outcome for d in scope.decisions] == [Outcome.WOULD_DENY, Outcome.DENIED]


def test_record_mode_enforce_wins_over_global_monitor() -> None:
    purposeful.configure(
        mode=Mode.MONITOR,
        purpose_modes={"funder-reporting": Mode.MONITOR},
        record_modes={Case: Mode.ENFORCE},
    )
    with use("funder-reporting", actor=CASEWORKER):
        with pytest.raises(PurposeViolation):
            _ = case().diagnosis
        assert Contact("C-1", "021 555 0101", "a@example.org").phone == "021 555 0101"


def test_record_mode_of_a_record_class_applies_to_its_record_subclasses() -> None:
    @purposeful.record(subject="client_id")
    class MobileContact(Contact):
        carrier: str = "One NZ"

    purposeful.configure(record_modes={Contact: Mode.MONITOR})
    with use("research", actor=CASEWORKER) as scope:
        assert MobileContact("C-1", "021 555 0101", "a@example.org").phone == "021 555 0101"
    assert [d.outcome for d in scope.decisions] == [Outcome.WOULD_DENY]


def test_record_mode_key_that_is_not_a_class_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"declared with @purposeful\.record"):
        purposeful.configure(record_modes={"Case": Mode.MONITOR})


def test_record_mode_key_that_is_a_plain_class_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"declared with @purposeful\.record, not int"):
        purposeful.configure(record_modes={int: Mode.MONITOR})


def test_mode_that_is_not_a_mode_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"Mode\.ENFORCE or Mode\.MONITOR"):
        purposeful.configure(mode="monitor")
    assert purposeful.get_configuration().mode is Mode.ENFORCE


# --- reads outside any scope ---


def test_read_outside_any_scope_raises_no_purpose_scope(sink: RecordingSink) -> None:
    assert current_scope() is None
    with pytest.raises(NoPurposeScope) as info:
        _ = case().address
    assert isinstance(info.value, PurposeViolation)
    assert isinstance(info.value, PermissionError)
    decision = info.value.decision
    assert decision.reasons == (Reason.NO_SCOPE,)
    assert decision.outcome is Outcome.DENIED
    assert decision.purpose is None
    assert decision.actor is None
    (report,) = sink.reports
    assert report.purpose is None
    assert report.actor is None
    assert report.decisions == (decision,)


def test_read_outside_any_scope_in_monitor_mode_is_let_through_and_reported(
    sink: RecordingSink,
) -> None:
    purposeful.configure(mode=Mode.MONITOR)
    assert case().address == "12 Cuba Street"
    assert sink.reports == []  # in its window until flush_seconds, or a flush
    purposeful.audit.flush()
    (report,) = sink.reports
    (decision,) = report.decisions
    assert decision.outcome is Outcome.WOULD_DENY
    assert decision.reasons == (Reason.NO_SCOPE,)
    assert report.violations == (decision,)


def test_record_mode_monitor_lets_an_unscoped_read_through() -> None:
    purposeful.configure(record_modes={Case: Mode.MONITOR})
    assert case().address == "12 Cuba Street"
    with pytest.raises(NoPurposeScope):
        _ = Contact("C-1", "021 555 0101", "a@example.org").phone


def test_purpose_modes_do_not_apply_to_an_unscoped_read() -> None:
    purposeful.configure(purpose_modes={"service-delivery": Mode.MONITOR})
    with pytest.raises(NoPurposeScope):
        _ = case().address


def test_scope_is_gone_after_the_block() -> None:
    record = case()
    with use("service-delivery", actor=CASEWORKER):
        assert record.address == "12 Cuba Street"
    assert current_scope() is None
    with pytest.raises(NoPurposeScope):
        _ = record.address


# --- nested scopes ---


def test_inner_scope_replaces_the_outer_one() -> None:
    record = case()
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as outer:
        assert record.diagnosis == "generalised anxiety"
        with use("funder-reporting", actor=FUNDER_JOB) as inner:
            assert current_scope() is inner
            with pytest.raises(PurposeViolation) as info:
                _ = record.diagnosis
        assert current_scope() is outer
    assert info.value.decision.purpose is not None
    assert info.value.decision.purpose.id == "funder-reporting"


def test_inner_scope_does_not_inherit_the_outer_purpose() -> None:
    record = case()
    with use("service-delivery", actor=CASEWORKER):
        assert record.address == "12 Cuba Street"
        with use("research", actor=CASEWORKER), pytest.raises(PurposeViolation):
            _ = record.address


def test_narrower_inner_scope_gets_exactly_its_own_purpose() -> None:
    with use("service-delivery", actor=CASEWORKER), use(CASE_MANAGEMENT, actor=CASEWORKER) as inner:
        assert inner.purpose.id == CASE_MANAGEMENT
        assert case().diagnosis == "generalised anxiety"


def test_outer_scope_is_restored_with_its_cached_decisions(sink: RecordingSink) -> None:
    record = case()
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as outer:
        assert record.diagnosis == "generalised anxiety"
        with use("service-delivery", actor=CASEWORKER) as inner:
            assert record.address == "12 Cuba Street"
            with pytest.raises(PurposeViolation):
                _ = record.diagnosis
        assert current_scope() is outer
        assert record.diagnosis == "generalised anxiety"
        assert record.address == "12 Cuba Street"
    assert [d.field for d in outer.decisions] == ["diagnosis", "address"]
    assert [d.field for d in inner.decisions] == ["address", "diagnosis"]
    assert [r.purpose.id for r in sink.reports if r.purpose] == [
        "service-delivery",
        CASE_MANAGEMENT,
    ]


def test_same_use_object_can_be_entered_again_after_exit() -> None:
    scope_opener = use("service-delivery", actor=CASEWORKER)
    with scope_opener as first:
        assert case().address == "12 Cuba Street"
    with scope_opener as second:
        assert case().address == "12 Cuba Street"
    assert first is not second
    assert first.closed
    assert second.closed


def test_scope_exposes_purpose_actor_and_an_aware_opening_time() -> None:
    with use("service-delivery", actor=CASEWORKER) as scope:
        assert isinstance(scope, Scope)
        assert scope.purpose is purposeful.get_configuration().registry.get("service-delivery")
        assert scope.actor is CASEWORKER
        assert scope.opened_at.tzinfo is UTC
        assert not scope.closed
    assert scope.closed


# --- decorator form ---


def test_decorated_function_runs_in_a_fresh_scope_per_call(sink: RecordingSink) -> None:
    @use(CASE_MANAGEMENT, actor=CASEWORKER)
    def summarise(record: Any) -> tuple[str, Scope | None]:
        return record.diagnosis, current_scope()

    first_value, first_scope = summarise(case())
    second_value, second_scope = summarise(case())
    assert first_value == second_value == "generalised anxiety"
    assert first_scope is not None
    assert second_scope is not None
    assert first_scope is not second_scope
    assert current_scope() is None
    assert len(sink.reports) == 2
    assert summarise.__name__ == "summarise"


def test_decorated_function_that_raises_closes_its_scope_as_failed(sink: RecordingSink) -> None:
    @use("funder-reporting", actor=FUNDER_JOB)
    def report_on(record: Any) -> str:
        return record.diagnosis  # type: ignore[no-any-return]

    with pytest.raises(PurposeViolation):
        report_on(case())
    assert current_scope() is None
    (report,) = sink.reports
    assert report.failed


def test_decorated_async_function_runs_in_a_fresh_scope_per_call(sink: RecordingSink) -> None:
    @use(CASE_MANAGEMENT, actor=CASEWORKER)
    async def summarise(record: Any) -> tuple[str, Scope | None]:
        await asyncio.sleep(0)
        return record.diagnosis, current_scope()

    async def main() -> list[tuple[str, Scope | None]]:
        return [await summarise(case()), await summarise(case())]

    (value_a, scope_a), (value_b, scope_b) = asyncio.run(main())
    assert value_a == value_b == "generalised anxiety"
    assert scope_a is not None
    assert scope_a is not scope_b
    assert len(sink.reports) == 2
    assert inspect.iscoroutinefunction(summarise)


def test_decorator_with_an_unknown_purpose_raises_at_definition() -> None:
    with pytest.raises(UnknownPurpose, match="'no-such-purpose'"):

        @use("no-such-purpose", actor=CASEWORKER)
        def work() -> None:
            raise AssertionError("must not run")


def test_purpose_removed_from_the_registry_after_definition_raises_on_entry() -> None:
    pilot = purposeful.Purpose(
        id="research.pilot",
        title="Pilot study",
        description="A pilot study of a new service.",
        benefit="New services are tried carefully before they reach everyone.",
    )
    with purposeful.configured(registry=purposeful.PurposeRegistry.default().extend([pilot])):
        opener = use("research.pilot", actor=CASEWORKER)
    with pytest.raises(UnknownPurpose, match=r"'research\.pilot'"), opener:
        raise AssertionError("must not run")
    assert current_scope() is None


# --- asyncio ---


def test_async_with_opens_a_scope(sink: RecordingSink) -> None:
    async def main() -> str:
        async with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
            assert current_scope() is scope
            value: str = case().diagnosis
        assert current_scope() is None
        return value

    assert asyncio.run(main()) == "generalised anxiety"
    (report,) = sink.reports
    assert [d.field for d in report.decisions] == ["diagnosis"]


def test_async_with_reports_failure_when_the_block_raises(sink: RecordingSink) -> None:
    async def main() -> None:
        async with use("funder-reporting", actor=FUNDER_JOB):
            _ = case().diagnosis

    with pytest.raises(PurposeViolation):
        asyncio.run(main())
    assert sink.reports[0].failed


def test_asyncio_tasks_inherit_the_scope_and_report_into_it(sink: RecordingSink) -> None:
    record = case()

    async def read(name: str) -> tuple[Any, Scope | None]:
        await asyncio.sleep(0)
        return getattr(record, name), current_scope()

    async def main() -> tuple[Scope, list[tuple[Any, Scope | None]]]:
        async with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
            tasks = [asyncio.create_task(read(n)) for n in ("diagnosis", "address")]
            results = await asyncio.gather(*tasks)
        return scope, results

    scope, results = asyncio.run(main())
    assert results == [("generalised anxiety", scope), ("12 Cuba Street", scope)]
    (report,) = sink.reports
    assert sorted(d.field for d in report.decisions) == ["address", "diagnosis"]


def test_asyncio_task_refused_in_the_scope_raises_and_is_reported(sink: RecordingSink) -> None:
    record = case()

    async def read() -> str:
        await asyncio.sleep(0)
        return record.diagnosis  # type: ignore[no-any-return]

    async def main() -> None:
        async with use("funder-reporting", actor=FUNDER_JOB):
            await asyncio.gather(asyncio.create_task(read()))

    with pytest.raises(PurposeViolation):
        asyncio.run(main())
    (report,) = sink.reports
    assert [d.outcome for d in report.decisions] == [Outcome.DENIED]
    assert report.failed


def test_asyncio_task_that_outlives_its_scope_is_refused_as_scope_closed() -> None:
    record = case()

    async def main() -> None:
        release = asyncio.Event()

        async def late_read() -> str:
            await release.wait()
            return record.address  # type: ignore[no-any-return]

        async with use("service-delivery", actor=CASEWORKER):
            task = asyncio.create_task(late_read())
        release.set()
        await task

    with pytest.raises(NoPurposeScope) as info:
        asyncio.run(main())
    assert info.value.decision.reasons == (Reason.SCOPE_CLOSED,)


def test_asyncio_to_thread_carries_the_scope() -> None:
    async def main() -> str:
        async with use(CASE_MANAGEMENT, actor=CASEWORKER):
            return await asyncio.to_thread(lambda: case().diagnosis)

    assert asyncio.run(main()) == "generalised anxiety"


# --- threads ---


def test_plain_thread_does_not_inherit_the_scope() -> None:
    record = case()
    outcome: list[BaseException | str] = []

    def worker() -> None:
        try:
            outcome.append(record.address)
        except NoPurposeScope as exc:
            outcome.append(exc)

    with use("service-delivery", actor=CASEWORKER):
        assert record.address == "12 Cuba Street"
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    (result,) = outcome
    assert isinstance(result, NoPurposeScope)
    assert result.decision.reasons == (Reason.NO_SCOPE,)


def test_thread_pool_does_not_inherit_the_scope() -> None:
    record = case()
    with use("service-delivery", actor=CASEWORKER), ThreadPoolExecutor(max_workers=1) as pool:
        assert record.address == "12 Cuba Street"
        future = pool.submit(lambda: record.address)
        with pytest.raises(NoPurposeScope):
            future.result()


def test_carry_scope_runs_the_worker_in_the_scope_and_reports_its_decisions(
    sink: RecordingSink,
) -> None:
    record = case()

    def summarise(item: Any) -> tuple[str, Scope | None]:
        return item.diagnosis, current_scope()

    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope, ThreadPoolExecutor(2) as pool:
        value, worker_scope = pool.submit(carry_scope(summarise), record).result()
    assert value == "generalised anxiety"
    assert worker_scope is scope
    (report,) = sink.reports
    assert [d.field for d in report.decisions] == ["diagnosis"]


def test_carry_scope_refusal_in_the_worker_is_a_purpose_violation() -> None:
    with use("funder-reporting", actor=FUNDER_JOB) as scope, ThreadPoolExecutor(1) as pool:
        future = pool.submit(carry_scope(lambda: case().diagnosis))
        with pytest.raises(PurposeViolation):
            future.result()
    assert [d.outcome for d in scope.decisions] == [Outcome.DENIED]


def test_carry_scope_leaves_the_worker_thread_without_a_scope_afterwards() -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        with use("service-delivery", actor=CASEWORKER):
            assert pool.submit(carry_scope(lambda: case().address)).result() == "12 Cuba Street"
        assert pool.submit(current_scope).result() is None


def test_reading_through_a_carried_scope_after_it_closed_is_scope_closed() -> None:
    record = case()
    with use("service-delivery", actor=CASEWORKER):
        assert record.address == "12 Cuba Street"
        late = carry_scope(lambda: record.address)
    with pytest.raises(NoPurposeScope) as info:
        late()
    assert info.value.decision.reasons == (Reason.SCOPE_CLOSED,)


def test_scope_closed_is_enforced_even_in_monitor_mode() -> None:
    purposeful.configure(mode=Mode.MONITOR)
    with use("service-delivery", actor=CASEWORKER):
        late = carry_scope(lambda: case().address)
    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(NoPurposeScope) as info:
        pool.submit(late).result()
    assert info.value.decision.reasons == (Reason.SCOPE_CLOSED,)


def test_carry_scope_outside_any_scope_carries_no_scope() -> None:
    wrapped = carry_scope(lambda: case().address)
    with use("service-delivery", actor=CASEWORKER), pytest.raises(NoPurposeScope) as info:
        wrapped()
    assert info.value.decision.reasons == (Reason.NO_SCOPE,)


# --- audit sinks ---


def test_sink_receives_one_report_per_scope_with_distinct_decisions(sink: RecordingSink) -> None:
    record = case()
    with use("service-delivery", actor=CASEWORKER) as scope:
        for _ in range(100):
            assert record.address == "12 Cuba Street"
        assert case(client_id="C-2").address == "12 Cuba Street"
    (report,) = sink.reports
    assert isinstance(report, ScopeReport)
    assert report.purpose is scope.purpose
    assert report.actor is CASEWORKER
    assert report.opened_at == scope.opened_at
    assert report.opened_at <= report.closed_at
    assert report.closed_at.tzinfo is UTC
    assert not report.failed
    assert len(report.decisions) == 1
    assert report.decisions == scope.decisions
    assert report.violations == ()


def test_denied_read_is_decided_once_however_often_it_is_tried(sink: RecordingSink) -> None:
    record = case()
    with use("funder-reporting", actor=FUNDER_JOB):
        for _ in range(10):
            with pytest.raises(PurposeViolation):
                _ = record.diagnosis
    (report,) = sink.reports
    assert len(report.decisions) == 1
    assert report.violations == report.decisions


def test_each_scope_reports_even_without_reads(sink: RecordingSink) -> None:
    with use("service-delivery", actor=CASEWORKER):
        pass
    with use("research", actor=CASEWORKER):
        pass
    assert [(r.purpose.id if r.purpose else None, r.decisions) for r in sink.reports] == [
        ("service-delivery", ()),
        ("research", ()),
    ]


def test_report_is_marked_failed_when_the_block_raises(sink: RecordingSink) -> None:
    def work() -> None:
        with use("service-delivery", actor=CASEWORKER):
            assert case().address == "12 Cuba Street"
            raise KeyError("boom")

    with pytest.raises(KeyError):
        work()
    (report,) = sink.reports
    assert report.failed
    assert [d.field for d in report.decisions] == ["address"]


def test_failing_sink_raises_audit_sink_error_after_the_others_got_the_report() -> None:
    before, broken, after = RecordingSink(), FailingSink(), RecordingSink()
    purposeful.configure(sinks=[before, broken, after])
    with pytest.raises(AuditSinkError) as info, use("service-delivery", actor=CASEWORKER):
        assert case().address == "12 Cuba Street"
    assert isinstance(info.value.__cause__, RuntimeError)
    assert broken.calls == 1
    assert len(before.reports) == 1
    assert after.reports == before.reports
    assert current_scope() is None


def test_failing_sink_does_not_leave_the_scope_open() -> None:
    purposeful.configure(sinks=[FailingSink()])
    with pytest.raises(AuditSinkError), use("service-delivery", actor=CASEWORKER) as scope:
        pass
    assert scope.closed
    assert current_scope() is None


def test_configure_rejects_a_sink_without_emit() -> None:
    with pytest.raises(ConfigurationError, match="not an audit sink"):
        purposeful.configure(sinks=[object()])
    assert purposeful.get_configuration().sinks == ()


def test_configured_restores_the_sinks_after_the_block() -> None:
    recording = RecordingSink()
    with purposeful.configured(sinks=[recording]), use("service-delivery", actor=CASEWORKER):
        pass
    with use("service-delivery", actor=CASEWORKER):
        pass
    assert len(recording.reports) == 1


# --- errors at scope entry ---


def test_unknown_purpose_raises_unknown_purpose_before_any_scope_opens() -> None:
    with pytest.raises(UnknownPurpose, match="'case-work'"), use("case-work", actor=CASEWORKER):
        raise AssertionError("must not run")
    assert current_scope() is None


def test_purpose_object_differing_from_the_registry_is_an_unknown_purpose() -> None:
    impostor = Purpose(
        id="funder-reporting",
        title="Funder reporting",
        description="Something else entirely.",
        benefit="None.",
    )
    with pytest.raises(UnknownPurpose, match="differs"), use(impostor, actor=CASEWORKER):
        raise AssertionError("must not run")


def test_registry_purpose_object_opens_a_scope() -> None:
    purpose = purposeful.get_configuration().registry.get("service-delivery")
    with use(purpose, actor=CASEWORKER) as scope:
        assert scope.purpose is purpose


@pytest.mark.parametrize(
    "actor",
    ["staff-0042", None, {"id": "staff-0042", "role": "caseworker", "clearance": RESTRICTED}],
    ids=["string", "none", "dict"],
)
def test_actor_that_is_not_an_actor_is_a_configuration_error(actor: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"takes a purposeful\.Actor"):
        use("service-delivery", actor=actor)


def test_actor_with_a_clearance_that_is_not_a_level_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        Actor("staff-1", "caseworker", "SENSITIVE")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        Actor(" ", "caseworker", SENSITIVE)


# --- consent: one question per subject per scope, and the fast path for repeated reads ---


def test_two_records_of_one_subject_share_one_consent_question() -> None:
    checker = FakeConsent([("C-1", CASE_MANAGEMENT)])
    first, same_subject = case(Case, "C-1"), case(Case, "C-1")
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=checker):
        for _ in range(50):
            assert first.case_notes == same_subject.case_notes == "met at home"
    assert [subject for subject, _, _ in checker.calls] == ["C-1"]


def test_a_repeated_consent_read_does_not_carry_over_to_another_subject() -> None:
    checker = FakeConsent([("C-1", CASE_MANAGEMENT)])
    consented, other = case(Case, "C-1"), case(Case, "C-2")
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=checker):
        assert consented.case_notes
        with pytest.raises(PurposeViolation) as info:
            _ = other.case_notes
        assert consented.case_notes  # the refusal of C-2 does not disturb C-1
        with pytest.raises(PurposeViolation):
            _ = other.case_notes
    assert info.value.decision.reasons == (Reason.CONSENT_NOT_HELD,)


def test_a_consented_read_is_not_reusable_in_another_scope() -> None:
    record = case(Case, "C-1")
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=AlwaysConsent()):
        assert record.case_notes
    with (
        use(CASE_MANAGEMENT, actor=CASEWORKER, consent=NeverConsent()),
        pytest.raises(PurposeViolation),
    ):
        _ = record.case_notes


def test_a_consented_read_is_refused_through_a_carried_scope_after_it_closed() -> None:
    record = case(Case, "C-1")
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=AlwaysConsent()):
        assert record.case_notes
        late = carry_scope(lambda: record.case_notes)
    with pytest.raises(NoPurposeScope) as info:
        late()
    assert info.value.decision.reasons == (Reason.SCOPE_CLOSED,)


# --- whose records a scope read: counted per record type, named only by pseudonym ---


def test_a_report_counts_the_people_read_per_record_type_without_naming_them(
    sink: RecordingSink,
) -> None:
    people = [case(client_id=f"C-{n}") for n in range(3)]
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        for person in people * 2:  # each read twice: still three people
            assert person.address
        _ = Contact("C-0", "021 555 0101", "a@example.org").phone
    (report,) = sink.reports
    assert report.subject_counts == {"Case": 3, "Contact": 1}
    assert report.subject_count == 3  # C-0 is the same person in both record types
    assert report.subjects == frozenset()  # no pseudonymiser configured
    assert "C-1" not in repr(report)


def stand_in_pseudonym(subject: str) -> str:
    """A keyed-hash stand-in (a real one is PseudonymKey.pseudonym)."""
    return "p-" + hashlib.sha256(b"test key:" + subject.encode()).hexdigest()[:12]


def test_a_report_names_people_only_by_the_configured_pseudonymiser(
    sink: RecordingSink,
) -> None:
    purposeful.configure(pseudonymise=stand_in_pseudonym)
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert case(client_id="C-7").address
    with use("funder-reporting", actor=FUNDER_JOB), pytest.raises(PurposeViolation):
        _ = case(client_id="C-8").diagnosis
    read, refused = sink.reports
    assert read.subjects == frozenset({stand_in_pseudonym("C-7")})
    assert (refused.subjects, refused.subject_count) == (frozenset(), 0)  # nothing handed out


def test_an_unscoped_monitor_read_reports_whose_record_it_was(sink: RecordingSink) -> None:
    purposeful.configure(mode=Mode.MONITOR, pseudonymise=stand_in_pseudonym)
    assert case(client_id="C-9").address
    purposeful.audit.flush()
    (report,) = sink.reports
    assert (report.subject_counts, report.subjects) == (
        {"Case": 1},
        frozenset({stand_in_pseudonym("C-9")}),
    )


@pytest.mark.parametrize(
    "pseudonymise",
    [
        str,
        repr,
        lambda s: s,
        lambda s: "p-" + s,
        lambda s: s + "-x",
        lambda s: s.upper(),
        lambda s: s.replace("-", "_"),
        lambda s: s[::-1],
        "p",
    ],
)
def test_a_pseudonymiser_that_lets_the_subject_id_through_is_refused(pseudonymise: Any) -> None:
    before = purposeful.get_configuration()
    with pytest.raises(purposeful.ConfigurationError, match="pseudonymise"):
        purposeful.configure(pseudonymise=pseudonymise)
    assert purposeful.get_configuration() is before


def test_a_failing_pseudonymiser_costs_the_pseudonyms_not_the_report(sink: RecordingSink) -> None:
    purposeful.configure(pseudonymise=stand_in_pseudonym)
    import purposeful._config as config_module

    def broken(subject: str) -> str:
        raise RuntimeError("hsm offline")

    config_module._install(attrs.evolve(purposeful.get_configuration(), pseudonymise=broken))
    with (
        pytest.raises(purposeful.errors.AuditSinkError, match="pseudonymiser failed") as info,
        use("service-delivery", actor=CASEWORKER),
    ):
        assert case(client_id="C-PSEUDO-1").address
    (report,) = sink.reports
    assert (report.subject_count, report.subjects) == (1, frozenset())
    tb = info.value.__traceback__
    while tb is not None:
        if "purposeful" in tb.tb_frame.f_code.co_filename:
            assert "C-PSEUDO-1" not in repr(tb.tb_frame.f_locals)
        tb = tb.tb_next


def test_a_pseudonymiser_that_returns_some_subject_ids_costs_the_pseudonyms(
    sink: RecordingSink,
) -> None:
    import hashlib

    def sometimes(subject: str) -> str:  # passes configure()'s probe, leaks "C-" ids
        return subject if subject.startswith("C-") else hashlib.sha256(subject.encode()).hexdigest()

    purposeful.configure(pseudonymise=sometimes)
    with (
        pytest.raises(purposeful.errors.AuditSinkError, match="pseudonymiser failed"),
        use("service-delivery", actor=CASEWORKER),
    ):
        assert case(client_id="C-LEAK-1").address
    (report,) = sink.reports
    assert (report.subject_count, report.subjects) == (1, frozenset())


def test_a_pseudonym_key_subclass_that_leaks_subject_ids_is_still_checked(
    sink: RecordingSink,
) -> None:
    # a PseudonymKey's own method is trusted to hold no id (its pseudonyms are keyed
    # hashes); a subclass's method of its own is checked person by person, as any other
    from purposeful.audit import PseudonymKey

    class Leaky(PseudonymKey):
        def pseudonym(self, subject: str) -> str:
            return subject if subject.startswith("C-") else super().pseudonym(subject)

    base = PseudonymKey.generate()
    leaky = Leaky(base.key_id, base.secret)
    purposeful.configure(pseudonymise=leaky.pseudonym)
    with (
        pytest.raises(purposeful.errors.AuditSinkError, match="pseudonymiser failed"),
        use("service-delivery", actor=CASEWORKER),
    ):
        assert case(client_id="C-LEAK-2").address
    (report,) = sink.reports
    assert (report.subject_count, report.subjects) == (1, frozenset())
    purposeful.configure(pseudonymise=base.pseudonym)
    with use("service-delivery", actor=CASEWORKER):
        assert case(client_id="C-LEAK-2").address
    assert sink.reports[-1].subjects == frozenset({base.pseudonym("C-LEAK-2")})
