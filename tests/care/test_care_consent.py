"""People who need more care: a purpose that counts only a representative's consent for
flagged people, over every combination of flags, requirements and who consented."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import CONSENT, IN_CONFIDENCE, Actor
from purposeful.care import CareFlag, CareNeed, CareRequirement, flags_of, needs_for
from purposeful.consent import MemoryConsentStore, Relationship, Representative
from purposeful.decisions import ScopeReport
from purposeful.errors import ConfigurationError, PurposeViolation, RegistryFileError
from purposeful.purposes import Purpose, PurposeRegistry

RESEARCHER = Actor("staff-31", "care-researcher", IN_CONFIDENCE)
FLAGS = [*CareFlag, "kaumatua-support"]
NEEDS = list(CareNeed)
VERIFIED = datetime(2026, 1, 5, tzinfo=UTC)


@purposeful.record(subject="client_id")
class CareStudyClient:
    client_id: str
    score: int = purposeful.field(purposes={"research": CONSENT})


class Flags:
    """Flags kept in a dict, as an agency's query would answer."""

    def __init__(self, flags: Mapping[str, Collection[str]]) -> None:
        self.flags = dict(flags)
        self.asked: list[list[str]] = []

    def care_flags(self, subjects: Sequence[str]) -> Mapping[str, Collection[str]]:
        self.asked.append(list(subjects))
        return {s: self.flags[s] for s in subjects if s in self.flags}


def parent() -> Representative:
    return Representative(
        Relationship.PARENT, evidence="intake/2026-0001", verified_by="staff-07",
        verified_at=VERIFIED,
    )  # fmt: skip


def registry_with(*care: CareRequirement) -> PurposeRegistry:
    default = PurposeRegistry.default()
    return default.extend([attrs.evolve(default.get("research"), care=care)])


def read(client: CareStudyClient) -> int:
    with purposeful.use("research", actor=RESEARCHER):
        return client.score


requirements = st.lists(
    st.builds(
        CareRequirement,
        flags=st.sets(st.sampled_from(FLAGS), min_size=1, max_size=3),
        needs=st.sets(st.sampled_from(NEEDS), min_size=1),
    ),
    max_size=3,
)


OUTCOMES = Purpose("research.outcomes", "Outcomes", "What changed for you.", "Better help.")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    care=requirements,
    declared_on=st.sampled_from(["research", "research.outcomes"]),
    read_under=st.sampled_from(["research", "research.outcomes"]),
    flags=st.sets(st.sampled_from(FLAGS), max_size=3),
    by_representative=st.booleans(),
    consented=st.booleans(),
)
def test_only_a_representatives_consent_counts_where_the_purpose_requires_it(
    care: list[CareRequirement],
    declared_on: str,
    read_under: str,
    flags: set[str],
    by_representative: bool,
    consented: bool,
) -> None:
    default = registry_with().extend([OUTCOMES])  # the pack's example requirement removed
    registry = default.extend([attrs.evolve(default.get(declared_on), care=tuple(care))])
    store = MemoryConsentStore()
    purposeful.configure(registry=registry, consent=store, care_flags=Flags({"C-1": flags}))
    if consented:
        store.give("C-1", "research", by=parent() if by_representative else None)
    applies = declared_on == "research" or declared_on == read_under
    needs_representative = applies and CareNeed.REPRESENTATIVE_CONSENT in needs_for(care, flags)
    client = CareStudyClient("C-1", 7)
    if consented and (by_representative or not needs_representative):
        with purposeful.use(read_under, actor=RESEARCHER):
            assert client.score == 7
        return
    with pytest.raises(PurposeViolation) as refused, purposeful.use(read_under, actor=RESEARCHER):
        _ = client.score
    codes = refused.value.decision.reason_codes
    if consented:
        assert codes == ("representative-consent-needed",)
    else:
        assert codes == ("consent-not-held",)
    text = refused.value.decision.explain() + str(refused.value)
    assert "C-1" not in text
    assert not any(str(flag) in text for flag in FLAGS)


@settings(max_examples=30, deadline=None)
@given(care=requirements, flags=st.sets(st.sampled_from(FLAGS), max_size=3))
def test_unflagged_people_are_unaffected_and_never_looked_up_without_a_requirement(
    care: list[CareRequirement], flags: set[str]
) -> None:
    store = MemoryConsentStore()
    source = Flags({"C-1": flags})
    purposeful.configure(registry=registry_with(*care), consent=store, care_flags=source)
    store.give("C-2", "research")  # C-2 carries no flag: their own consent counts
    assert read(CareStudyClient("C-2", 3)) == 3
    representative_flags = {
        f for r in care if CareNeed.REPRESENTATIVE_CONSENT in r.needs for f in r.flags
    }
    assert bool(source.asked) == bool(representative_flags)


def test_a_representative_requirement_of_a_parent_purpose_holds_for_its_children() -> None:
    child = CareRequirement([CareFlag.CHILD_OR_YOUNG_PERSON], ["representative-consent"])
    registry = registry_with(child).extend([OUTCOMES])
    assert registry.representative_flags("research.outcomes") == {"child-or-young-person"}
    assert registry.care_for("research.outcomes") == (child,)
    assert registry.representative_flags("service-delivery") == frozenset()


def test_the_persons_own_withdrawal_ends_a_representatives_consent() -> None:
    store = MemoryConsentStore()
    purposeful.configure(
        registry=registry_with(
            CareRequirement(["child-or-young-person"], ["representative-consent"])
        ),
        consent=store,
        care_flags=Flags({"C-1": {"child-or-young-person"}}),
    )
    store.give("C-1", "research", by=parent(), at=datetime.now(UTC) - timedelta(minutes=2))
    assert read(CareStudyClient("C-1", 7)) == 7
    store.withdraw("C-1", "research", at=datetime.now(UTC) - timedelta(minutes=1))
    with pytest.raises(PurposeViolation, match="consent was withdrawn"):
        read(CareStudyClient("C-1", 7))


def test_without_a_flag_source_requirements_are_inert() -> None:
    store = MemoryConsentStore()
    purposeful.configure(consent=store)  # the default pack's research example requirement
    store.give("C-1", "research")
    assert read(CareStudyClient("C-1", 5)) == 5


def test_a_failing_flag_source_refuses_and_logs_without_the_subject(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        def care_flags(self, subjects: Sequence[str]) -> Mapping[str, Collection[str]]:
            raise OSError("C-1 is unreachable")

    store = MemoryConsentStore()
    purposeful.configure(consent=store, care_flags=Broken())
    store.give("C-1", "research")
    with pytest.raises(PurposeViolation) as refused:
        read(CareStudyClient("C-1", 5))
    assert refused.value.decision.reason_codes == ("care-flags-unavailable",)
    assert "care flag source" in str(refused.value)
    assert "C-1" not in caplog.text


def test_a_flag_source_that_answers_the_wrong_shape_is_a_configuration_error() -> None:
    class Wrong:
        def care_flags(self, subjects: Sequence[str]) -> object:
            return ["child-or-young-person"]

    with pytest.raises(ConfigurationError, match="mapping of subject ids"):
        flags_of(Wrong(), ["C-1"])

    class NotAFlag:
        def care_flags(self, subjects: Sequence[str]) -> object:
            return {"C-1": "child-or-young-person"}

    with pytest.raises(ConfigurationError, match="collection of flag ids"):
        flags_of(NotAFlag(), ["C-1"])


def test_a_checker_that_cannot_say_who_consented_is_refused_at_configure() -> None:
    class YesNo:
        def consent_in_force(self, subject: str, purpose: object, at: datetime) -> bool:
            return True

    flags = Flags({"C-1": {"welfare-guardian"}})
    before = purposeful.get_configuration()
    with pytest.raises(ConfigurationError, match="consent_statuses_represented") as refused:
        purposeful.configure(consent=YesNo(), care_flags=flags)
    assert "'research'" in str(refused.value)
    assert purposeful.get_configuration() is before  # nothing was changed
    # in either order: a flag source added to such a checker is refused too
    purposeful.configure(consent=YesNo(), care_flags=None)
    with pytest.raises(ConfigurationError, match="consent_statuses_represented"):
        purposeful.configure(care_flags=flags)
    # without flags nobody is known to need more care: the checker is fine
    assert purposeful.get_configuration().care_flags is None


def test_a_checker_that_lost_its_method_after_configure_fails_the_read() -> None:
    store = MemoryConsentStore()
    purposeful.configure(consent=store, care_flags=Flags({"C-1": {"welfare-guardian"}}))

    class Forgetful:  # passes configure, then cannot say who consented at the read
        def __init__(self) -> None:
            self.consent_statuses_represented = store.consent_statuses_represented

        def consent_in_force(self, subject: str, purpose: object, at: datetime) -> bool:
            return True

    checker = Forgetful()
    purposeful.configure(consent=checker)
    del checker.consent_statuses_represented
    with pytest.raises(ConfigurationError, match="consent_statuses_represented"):
        read(CareStudyClient("C-1", 5))


def test_configure_refuses_something_that_is_not_a_flag_source() -> None:
    with pytest.raises(ConfigurationError, match="care_flags"):
        purposeful.configure(care_flags=object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("flags", "needs", "match"),
    [
        ([], ["safety-review"], "at least one flag"),
        (["child-or-young-person"], [], "at least one need"),
        (["Child Or Young"], ["safety-review"], "lower-case words"),
        (["child-or-young-person"], ["a-hug"], "'a-hug'"),
    ],
)
def test_a_malformed_requirement_is_refused(flags: list[str], needs: list[str], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        CareRequirement(flags, needs)


def test_a_purpose_pack_declares_requirements_and_a_bad_one_names_the_file(
    tmp_path: object,
) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    good = folder / "good.toml"
    good.write_text(
        '[[purpose]]\nid = "research"\ntitle = "Research"\ndescription = "d"\nbenefit = "b"\n'
        'care = [{ flags = ["kaumatua-support"], needs = ["second-reviewer"] }]\n',
        encoding="utf-8",
    )
    registry = PurposeRegistry.from_toml(good, extends=PurposeRegistry.default())
    assert registry.care_for("research") == (
        CareRequirement(["kaumatua-support"], ["second-reviewer"]),
    )
    bad = folder / "bad.toml"
    bad.write_text(
        '[[purpose]]\nid = "research"\ntitle = "Research"\ndescription = "d"\nbenefit = "b"\n'
        'care = [{ flags = ["kaumatua-support"] }]\n',
        encoding="utf-8",
    )
    with pytest.raises(RegistryFileError, match=r"bad\.toml"):
        PurposeRegistry.from_toml(bad, extends=PurposeRegistry.default())


def test_the_default_pack_labels_its_requirements_as_examples() -> None:
    registry = PurposeRegistry.default()
    assert registry.representative_flags("research") == {
        "child-or-young-person",
        "welfare-guardian",
    }
    assert needs_for(
        registry.care_for("service-delivery.referral"), {"family-violence-safety"}
    ) == {
        CareNeed.SAFETY_REVIEW,
        CareNeed.SECOND_REVIEWER,
    }


def test_asking_first_says_only_a_representatives_consent_counts_for_flagged_people() -> None:
    from purposeful import may_use

    purposeful.configure(
        registry=registry_with(CareRequirement(["welfare-guardian"], ["representative-consent"]))
    )
    answer = may_use(CareStudyClient, "score", purpose="research", actor=RESEARCHER)
    assert answer.verdict.value == "with-consent"
    assert "For people who need more care (welfare-guardian), only consent given by a" in (
        answer.explanation
    )
    store = MemoryConsentStore()
    purposeful.configure(consent=store, care_flags=Flags({"C-1": {"welfare-guardian"}}))
    store.give("C-1", "research")
    with purposeful.use("research", actor=RESEARCHER):
        about = may_use(CareStudyClient, "score", subject="C-1")
    assert about.verdict.value == "no"
    assert about.reasons == ("representative-consent-needed",)


def test_a_list_view_asks_the_flag_source_and_the_store_once_for_everyone() -> None:
    class CountingStore(MemoryConsentStore):
        represented_calls: ClassVar[list[list[str]]] = []

        def consent_statuses_represented(self, subjects, purpose, at=None):  # type: ignore[no-untyped-def]
            wanted = list(subjects)
            self.represented_calls.append(wanted)
            return super().consent_statuses_represented(wanted, purpose, at)

    store = CountingStore()
    people = [f"C-{n}" for n in range(50)]
    flagged = {p: {"child-or-young-person"} for p in people[:10]}
    source = Flags(flagged)
    purposeful.configure(
        registry=registry_with(
            CareRequirement(["child-or-young-person"], ["representative-consent"])
        ),
        consent=store,
        care_flags=source,
    )
    at = datetime.now(UTC) - timedelta(minutes=1)
    for person in people:
        store.give(person, "research", at=at, by=parent() if person in people[:5] else None)
    records = [CareStudyClient(p, n) for n, p in enumerate(people)]
    reports: list[ScopeReport] = []

    class Sink:
        def emit(self, report: ScopeReport) -> None:
            reports.append(report)

    purposeful.configure(mode=purposeful.Mode.MONITOR, sinks=[Sink()])
    with purposeful.use("research", actor=RESEARCHER) as scope:
        scope.prefetch_consent(records)
        assert [record.score for record in records] == list(range(50))
    assert len(source.asked) == 1
    assert sorted(source.asked[0]) == sorted(people)
    assert len(store.represented_calls) == 1
    assert sorted(store.represented_calls[0]) == sorted(people[:10])
    refused = [d for r in reports for d in r.decisions if d.violation]
    assert len(refused) == 5  # the flagged five whose consent is their own
    assert {d.reason_codes for d in refused} == {("representative-consent-needed",)}


def test_a_flag_id_the_source_makes_up_badly_is_a_configuration_error() -> None:
    store = MemoryConsentStore()
    purposeful.configure(consent=store, care_flags=Flags({"C-1": {"Child Under 16"}}))
    store.give("C-1", "research")
    with pytest.raises(ConfigurationError, match="lower-case words") as raised:
        read(CareStudyClient("C-1", 5))
    assert "Child Under 16" not in str(raised.value)


def test_a_store_that_fails_to_say_who_consented_refuses_as_a_failed_check() -> None:
    class Failing(MemoryConsentStore):
        def consent_statuses_represented(self, subjects, purpose, at=None):  # type: ignore[no-untyped-def]
            raise TimeoutError

    store = Failing()
    purposeful.configure(consent=store, care_flags=Flags({"C-1": {"welfare-guardian"}}))
    store.give("C-1", "research")
    with pytest.raises(PurposeViolation) as refused:
        read(CareStudyClient("C-1", 5))
    assert refused.value.decision.reason_codes == ("consent-check-failed",)


def test_a_care_check_that_fails_leaves_no_answer_for_a_later_read_of_the_scope() -> None:
    """A review finding: the people's own consent was kept before the care requirement
    judged it, so when the flag answer was malformed (a ConfigurationError the caller
    caught), a second read in the same scope was allowed on the person's own consent."""

    class BadFlags:
        def care_flags(self, subjects: Sequence[str]) -> Mapping[str, Collection[str]]:
            return {s: ["Child"] for s in subjects}  # not a flag id

    store = MemoryConsentStore()
    store.give("C-CARE-91", "research")  # their own consent, no representative's
    purposeful.configure(
        registry=registry_with(
            CareRequirement(
                flags=[CareFlag.CHILD_OR_YOUNG_PERSON], needs=[CareNeed.REPRESENTATIVE_CONSENT]
            )
        ),
        consent=store,
        care_flags=BadFlags(),
    )
    client = CareStudyClient("C-CARE-91", 7)
    with purposeful.use("research", actor=RESEARCHER):
        for _ in range(2):
            with pytest.raises(ConfigurationError):
                client.score  # noqa: B018


@pytest.mark.parametrize("given", [5, "child-or-young-person", object(), None])
def test_care_that_is_not_a_list_of_requirements_is_a_typed_error(given: object) -> None:
    """``care=`` of a purpose (and, by the same converter, an agreement) given one
    requirement, a string or anything not a list of them is a ConfigurationError, not a
    bare TypeError from iterating it."""
    requirement = CareRequirement(
        flags=[CareFlag.CHILD_OR_YOUNG_PERSON], needs=[CareNeed.SECOND_REVIEWER]
    )
    for value in (given, requirement):
        if value is None:
            assert Purpose("research.typed", "T", "d", "b").care == ()
            continue
        with pytest.raises(ConfigurationError, match="care= takes a list"):
            Purpose("research.typed", "T", "d", "b", care=value)  # type: ignore[arg-type]


def test_a_scope_judges_care_by_the_configuration_it_was_opened_under() -> None:
    """A review finding: the care flag source was read from the configuration in force at
    the first consent question, not the scope's own, so configuring mid-scope changed the
    care rule while every other decision of the scope kept its configuration."""
    store = MemoryConsentStore()
    store.give("C-CARE-92", "research")  # their own consent, no representative's
    purposeful.configure(
        registry=registry_with(
            CareRequirement(
                flags=[CareFlag.CHILD_OR_YOUNG_PERSON], needs=[CareNeed.REPRESENTATIVE_CONSENT]
            )
        ),
        consent=store,
        care_flags=Flags({"C-CARE-92": [CareFlag.CHILD_OR_YOUNG_PERSON.value]}),
    )
    client = CareStudyClient("C-CARE-92", 7)
    with purposeful.use("research", actor=RESEARCHER):
        purposeful.configure(care_flags=None)  # another thread's configure, say
        with pytest.raises(PurposeViolation):
            client.score  # noqa: B018
