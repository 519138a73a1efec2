"""Under each purpose, the notice lists exactly the fields code may read for it.

A field declared for a purpose may be read for that purpose and every descendant of it (a
purpose covers its descendants, as the guard decides). So under "Referral"
(``service-delivery.referral``) the notice lists the fields declared for it *and* those
declared for ``service-delivery``, as the sharing section (what a referral agreement hands
over) and the guard already do. These tests check that against the declarations
themselves, for the docs' example and for record types generated over the default pack.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import CONSENT, SENSITIVE, InformationSharingAgreement, ServiceAgreement
from purposeful._hierarchy import covers, lineage
from purposeful.access import AgencyDetails
from purposeful.notices import Notice, NoticeWording, build_notice
from purposeful.purposes import PurposeRegistry
from purposeful.sharing.agreements import Party, SharingAgreement
from purposeful.supply import Voluntary

SERVICE = ServiceAgreement("Service delivery agreement")
AGENCY = AgencyDetails(name="Te Whare Āwhina", email="privacy@tewhareawhina.example.nz")
WORDING = NoticeWording()
DEFAULT = PurposeRegistry.default()
ASKED = Voluntary("We can still help you.")


@purposeful.record(subject="client_id")
class DocsClient:
    """The record type of docs/notices.md, as declared there."""

    client_id: str
    name: str = purposeful.field(
        purposes={"service-delivery": SERVICE}, category="identity", supply=ASKED
    )
    address: str = purposeful.field(
        purposes={"service-delivery": SERVICE, "service-delivery.referral": CONSENT},
        category="contact",
        supply=ASKED,
    )
    wellbeing_score: int = purposeful.field(
        purposes={"service-delivery": SERVICE, "research": CONSENT},
        category="health.mental-health",
        sensitivity=SENSITIVE,
        supply=ASKED,
    )


REFERRALS = SharingAgreement(
    id="docs-housing-referrals",
    name="Housing referrals",
    parties=[Party("Te Whare Āwhina"), Party("Kāinga Ora", "7 Waterloo Quay, Wellington 6011")],
    purposes=["service-delivery.referral"],
    basis=InformationSharingAgreement("Housing referrals AISA"),
    starts=date(2026, 1, 1),
    expires=date(2028, 6, 30),
    review=date(2027, 6, 30),
    fields=["DocsClient.name", "DocsClient.address"],
)


def listed(notice: Notice) -> dict[str, set[tuple[str, str]]]:
    """Purpose title → (record label, field label) for each field the Markdown lists under
    it, read from the rendered notice as a person reads it."""
    text = notice.to_markdown()
    why = text[text.index("## Why we collect it") : text.index("## Who we share it with")]
    found: dict[str, set[tuple[str, str]]] = {}
    for part in why.split("\n### ")[1:]:
        title = part.splitlines()[0]
        line = next(x for x in part.splitlines() if x.startswith("- **What we use:** "))
        fields: set[tuple[str, str]] = set()
        for group in line.removeprefix("- **What we use:** ").split("; "):
            label, _, names = group.partition(": ")
            fields |= {(label, name) for name in names.split(", ")}
        found[title] = fields
    return found


def declared_for(records: list[type], purpose: str) -> set[tuple[str, str]]:
    """The fields whose declaration names *purpose* or an ancestor of it: those code may
    read for it. Computed from the record policies, not from the notice."""
    found = set()
    for cls in records:
        policy = purposeful.record_policy(cls)
        for name, field in policy.fields.items():
            if any(covers(declared, purpose) for declared in field.purposes):
                found.add((WORDING.label(policy.name), WORDING.field_label(policy.name, name)))
    return found


def check(notice: Notice, records: list[type], registry: PurposeRegistry) -> None:
    shown = listed(notice)
    register = {p["id"]: p for p in notice.register()["purposes"]}
    for purpose in registry:
        expected = declared_for(records, purpose.id)
        if purpose.title in shown:
            assert shown[purpose.title] == expected, purpose.id
            assert set(register[purpose.id]["fields"]) == {
                f"{policy.name}.{name}"
                for policy in map(purposeful.record_policy, records)
                for name, field in policy.fields.items()
                if any(covers(declared, purpose.id) for declared in field.purposes)
            }, purpose.id
            continue
        # not a heading of its own: nothing declares it, and every field that may be read
        # for it is listed under an ancestor that is a heading
        assert not any(
            purpose.id in purposeful.record_policy(cls).fields[name].purposes
            for cls in records
            for name in purposeful.record_policy(cls).fields
        ), purpose.id
        under_ancestors: set[tuple[str, str]] = set()
        for ident in lineage(purpose.id)[1:]:
            ancestor = registry.as_mapping()[ident]
            under_ancestors |= shown.get(ancestor.title, set())
        assert expected <= under_ancestors, purpose.id


def test_under_referral_the_docs_notice_lists_every_field_it_may_use() -> None:
    notice = build_notice(agency=AGENCY, records=[DocsClient], agreements=[REFERRALS])
    shown = listed(notice)
    client = "Docs client"
    assert shown["Referral"] == {
        (client, "Name"),
        (client, "Address"),
        (client, "Wellbeing score"),
    }
    assert shown["Research"] == {(client, "Wellbeing score")}
    # what the referral agreement hands over is among what the notice says is used for it
    shared = {
        (client, WORDING.field_label("DocsClient", f.split(".")[1])) for f in REFERRALS.fields
    }
    assert shared <= shown["Referral"]
    check(notice, [DocsClient], DEFAULT)


def test_a_purpose_only_an_agreement_names_is_listed_with_the_fields_it_may_use() -> None:
    @purposeful.record(subject="client_id", name="BroadlyDeclared")
    class BroadlyDeclared:
        client_id: str
        name: str = purposeful.field(purposes={"service-delivery": SERVICE}, supply=ASKED)

    agreement = SharingAgreement(
        id="broad-referrals",
        name="Referrals",
        parties=["Te Whare Āwhina", "Kāinga Ora"],
        purposes=["service-delivery.referral"],
        basis=InformationSharingAgreement("Referrals AISA"),
        starts=date(2026, 1, 1),
        expires=date(2028, 1, 1),
        review=date(2027, 1, 1),
        fields=["BroadlyDeclared.name"],
    )
    notice = build_notice(agency=AGENCY, records=[BroadlyDeclared], agreements=[agreement])
    assert listed(notice)["Referral"] == {("Broadly declared", "Name")}
    check(notice, [BroadlyDeclared], DEFAULT)


# --- generated declarations over the default pack -------------------------------------------

USABLE = [p for p in DEFAULT if p.bases]  # a purpose without bases cannot be declared
FIELD_NAMES = ["name", "address", "phone", "iwi", "income", "mood", "notes"]


@st.composite
def declarations(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """Field name → its purposes (each with a basis the purpose may rest on)."""
    names = draw(st.lists(st.sampled_from(FIELD_NAMES), min_size=1, max_size=5, unique=True))
    found = {}
    for name in names:
        chosen = draw(st.lists(st.sampled_from(USABLE), min_size=1, max_size=4, unique=True))
        found[name] = {p.id: draw(st.sampled_from(p.bases)) for p in chosen}
    return found


def declare(fields: dict[str, dict[str, Any]]) -> type:
    namespace: dict[str, Any] = {
        "__annotations__": {"client_id": str, **dict.fromkeys(fields, str)}
    }
    for name, purposes in fields.items():
        namespace[name] = purposeful.field(purposes=purposes, supply=ASKED)
    return purposeful.record(subject="client_id")(type("GeneratedNoticeRecord", (), namespace))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=declarations())
def test_for_every_purpose_of_the_default_pack_the_listed_fields_are_the_declared_ones(
    fields: dict[str, dict[str, Any]],
) -> None:
    cls = declare(fields)
    notice = build_notice(agency=AGENCY, records=[cls], registry=DEFAULT)
    check(notice, [cls], DEFAULT)
