"""The neutral decision, as a property: for every route declaration, claim purpose, actor
and mode, `RequestPolicy.decide` opens exactly the scope the rules say or refuses with the
right status; and no problem ever holds a value or a subject id."""

from __future__ import annotations

import functools

import pytest
from _webkit import CASEWORKER, INTAKE_ACTOR, claim_headers, client, leaks, trust_store
from hypothesis import given
from hypothesis import strategies as st

import purposeful
from purposeful import Mode, PurposeViolation
from purposeful.errors import ClaimPurposeRefused, NoActor, UntrustedClaim
from purposeful.web import Open, RequestPolicy, problem_for
from purposeful.web._declare import EXEMPT

PURPOSES = sorted(p.id for p in purposeful.get_configuration().registry)
POLICY = RequestPolicy(trust=trust_store())


@functools.cache
def baggage(purpose: str) -> str:
    return claim_headers(purpose)["baggage"]


def covers(asked: str, required: str) -> bool:
    return required == asked or required.startswith(asked + ".")


@given(
    declared=st.sampled_from([None, EXEMPT, *PURPOSES]),
    asked=st.sampled_from([None, "forged", *PURPOSES]),
    actor=st.sampled_from([None, CASEWORKER]),
    monitor=st.booleans(),
)
def test_the_scope_opened_or_the_status_refused_follows_the_rules(
    declared: object, asked: str | None, actor: object, monitor: bool
) -> None:
    headers = (
        {}
        if asked is None
        else {"baggage": baggage(asked) if asked != "forged" else "purposeful=x"}
    )
    purposeful.reset_configuration()
    if monitor:
        purposeful.configure(mode=Mode.MONITOR)
    try:
        found: object = POLICY.decide(declared, actor, headers, route="/r")  # type: ignore[arg-type]
    except (UntrustedClaim, ClaimPurposeRefused, NoActor) as error:
        found = error
    if declared is EXEMPT:
        assert found is None
        return
    if asked == "forged":
        assert isinstance(found, UntrustedClaim)  # in every mode
        assert found.status == 401
        return
    if asked is not None and declared is None:
        assert found == Open(
            purposeful.get_configuration().registry.get(asked), INTAKE_ACTOR, found.upstream
        )  # type: ignore[union-attr]
        return
    if asked is not None and isinstance(declared, str) and covers(declared, asked):
        assert isinstance(found, Open)
        assert found.purpose.id == asked  # the caller's own, never broader than it
        assert found.actor == INTAKE_ACTOR
        assert found.upstream is not None
        return
    if asked is not None and not monitor:
        assert isinstance(found, ClaimPurposeRefused)
        assert found.reason == "purpose-not-covering"
        assert found.status == 403
        return
    if declared is None:
        assert found is None
    elif actor is None:
        assert isinstance(found, NoActor)
    else:
        assert found == Open(purposeful.get_configuration().registry.get(declared), CASEWORKER)


@given(actor=st.sampled_from([CASEWORKER.__class__("x-1", "clerk", purposeful.UNCLASSIFIED)]))
def test_a_problem_for_a_refused_read_holds_no_value_or_subject_id(actor: purposeful.Actor) -> None:
    record = client()
    with pytest.raises(PurposeViolation) as caught, purposeful.use("research", actor=actor):
        _ = record.diagnosis
    problem = problem_for(caught.value)
    assert problem is not None
    assert problem.status == 403
    assert leaks(problem.body()) == []
    assert actor.id not in problem.body().decode()
