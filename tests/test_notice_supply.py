"""IPP 3(1): whether supplying a field is voluntary or mandatory, and the consequence of not
supplying it: declared on the field (`purposeful.supply`), told by the notice, the register
and the IPP 3A collection notice, and checked by the drift check.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import purposeful
from purposeful import CONSENT, ServiceAgreement
from purposeful.access import AgencyDetails
from purposeful.cli import main
from purposeful.errors import AnnotationError, NoticeError
from purposeful.notices import DriftKind, build_notice, check_drift, collection_notice
from purposeful.supply import Mandatory, Supply, Voluntary

SERVICE = ServiceAgreement("Service delivery agreement")
AGENCY = AgencyDetails(name="Te Whare Tautoko", email="privacy@tautoko.example.nz")
REFERRAL_HELP = "We can still help you, but we cannot refer you for housing."
ELIGIBILITY = "Without it we cannot check whether you can receive the service."


@purposeful.record(subject="client_id")
class IntakeForm:
    client_id: str
    date_of_birth: str = purposeful.field(
        purposes={"service-delivery.eligibility-assessment": SERVICE},
        category="identity",
        supply=Mandatory(ELIGIBILITY),
    )
    phone: str = purposeful.field(
        purposes={"service-delivery": SERVICE, "service-delivery.referral": CONSENT},
        category="contact",
        supply=Voluntary(REFERRAL_HELP),
    )
    iwi: str = purposeful.field(purposes={"service-delivery": SERVICE}, category="ethnicity")


def intake_notice(**changes: Any) -> Any:
    return build_notice(agency=AGENCY, records=[IntakeForm], **changes)


# --- the declaration ----------------------------------------------------------------------


def test_a_field_keeps_its_supply_declaration() -> None:
    fields = purposeful.record_policy(IntakeForm).fields
    assert fields["date_of_birth"].supply == Mandatory(ELIGIBILITY)
    assert fields["date_of_birth"].supply.mandatory
    assert fields["phone"].supply == Voluntary(REFERRAL_HELP)
    assert not fields["phone"].supply.mandatory
    assert fields["iwi"].supply is None


def test_voluntary_and_mandatory_with_the_same_words_differ() -> None:
    assert Voluntary("Nothing changes.") != Mandatory("Nothing changes.")
    assert (Voluntary("x").kind, Mandatory("x").kind) == ("voluntary", "mandatory")


def test_a_dataclass_field_declares_supply_through_managed() -> None:
    @purposeful.record(subject="client_id")
    @dataclasses.dataclass(slots=True)
    class SupplyDataclassForm:
        client_id: str
        phone: str = dataclasses.field(
            metadata={
                "purposeful": purposeful.Managed(
                    purposes={"service-delivery": SERVICE}, supply=Voluntary(REFERRAL_HELP)
                )
            }
        )

    policy = purposeful.record_policy(SupplyDataclassForm)
    assert policy.fields["phone"].supply == Voluntary(REFERRAL_HELP)


@pytest.mark.parametrize(
    ("supply", "words"),
    [
        ("voluntary", "takes purposeful.supply.Voluntary"),
        (True, "takes purposeful.supply.Voluntary"),
    ],
)
def test_supply_of_the_wrong_kind_is_an_annotation_error(supply: object, words: str) -> None:
    with pytest.raises(AnnotationError, match=words):
        purposeful.field(purposes={"service-delivery": SERVICE}, supply=supply)  # type: ignore[arg-type]


@pytest.mark.parametrize("consequence", ["", "   ", None, 3, "nul\x00"])
def test_a_consequence_must_be_a_sentence(consequence: object) -> None:
    with pytest.raises(AnnotationError, match="consequence of not supplying"):
        Voluntary(consequence)  # type: ignore[arg-type]
    with pytest.raises(AnnotationError, match="consequence of not supplying"):
        Mandatory(consequence)  # type: ignore[arg-type]


def test_the_base_is_not_a_declaration() -> None:
    with pytest.raises(AnnotationError, match="Voluntary"):
        Supply("Something happens.")


# --- the notice, the register, the collection notice --------------------------------------


def test_the_notice_says_for_each_field_whether_it_must_be_given_and_why() -> None:
    text = intake_notice().to_markdown()
    section = text[text.index("## Whether you have to give it to us") : text.index("## Why")]
    assert f"- **Date of birth:** You have to give us this. {ELIGIBILITY}" in section
    assert f"- **Phone:** It is up to you whether you give us this. {REFERRAL_HELP}" in section
    assert "- **Iwi:** Ask us whether you have to give us this" in section
    page = intake_notice().to_html()
    assert "It is up to you whether you give us this. We can still help you" in page


def test_a_consequence_is_text_never_markup() -> None:
    @purposeful.record(subject="client_id")
    class SupplyMarkupForm:
        client_id: str
        note: str = purposeful.field(
            purposes={"service-delivery": SERVICE},
            supply=Voluntary("<script>x</script> [link](https://example.com)"),
        )

    built = build_notice(agency=AGENCY, records=[SupplyMarkupForm])
    assert "<script>" not in built.to_html()
    assert "\\[link\\](https\\://example.com)" in built.to_markdown()


def test_the_wording_of_supply_can_be_changed() -> None:
    from purposeful.notices import NoticeWording

    wording = NoticeWording(
        supply_heading="Me hoatu e koe?", supply_mandatory="Me hoatu.", supply_unknown="Pātai mai."
    )
    text = intake_notice(wording=wording).to_markdown()
    assert "## Me hoatu e koe?" in text
    assert f"- **Date of birth:** Me hoatu. {ELIGIBILITY}" in text
    assert "- **Iwi:** Pātai mai." in text


def test_the_register_carries_supply_and_its_digest_changes_with_it() -> None:
    built = intake_notice()
    fields = {f["name"]: f for f in built.register()["records"][0]["fields"]}
    assert fields["date_of_birth"]["supply"] == {"kind": "mandatory", "consequence": ELIGIBILITY}
    assert fields["phone"]["supply"] == {"kind": "voluntary", "consequence": REFERRAL_HELP}
    assert fields["iwi"]["supply"] is None

    voluntary = build_notice(agency=AGENCY, records=[declare(Voluntary("x"))])
    changed = build_notice(agency=AGENCY, records=[declare(Mandatory("x"))])
    assert changed.version != voluntary.version
    reworded = build_notice(agency=AGENCY, records=[declare(Mandatory("y"))])
    assert reworded.version != changed.version


@attrs.frozen
class Referred:
    subject: str
    record_type: str
    source: str
    purpose: str
    collected_at: datetime
    law: str | None = None


def test_the_collection_notice_says_whether_the_person_would_have_to_give_each_field() -> None:
    collection = Referred(
        "C-5511", "IntakeForm", "Kāinga Ora", "service-delivery.referral", datetime.now(UTC)
    )
    text = collection_notice(collection, agency=AGENCY, agreements=[], records=[IntakeForm])
    assert "## If we ask you for it ourselves" in text
    assert f"- Date of birth: You have to give us this. {ELIGIBILITY}" in text
    assert f"- Phone: It is up to you whether you give us this. {REFERRAL_HELP}" in text
    assert "- Iwi: Ask us whether you have to give us this" in text
    assert "C-5511" not in text


# --- drift --------------------------------------------------------------------------------


def test_a_field_without_a_declaration_is_drift_that_says_how_to_declare_it() -> None:
    built = intake_notice()
    drifts = check_drift(built.register(), built)
    assert [(d.kind, d.field) for d in drifts] == [(DriftKind.SUPPLY_UNDECLARED, "iwi")]
    said = drifts[0].describe()
    assert said.startswith("IntakeForm.iwi does not say whether supplying it is voluntary")
    assert "IPP 3(1)" in said
    assert "supply=purposeful.supply.Voluntary(" in said
    assert "purposeful.supply.Mandatory(" in said


def declare(supply: Supply | None) -> type:
    """A version of one record type, as the code declares it at some point in time."""

    @purposeful.record(subject="client_id")
    class SupplyVersioned:
        client_id: str
        phone: str = purposeful.field(purposes={"service-delivery": SERVICE}, supply=supply)

    return SupplyVersioned


def drift_between(before: Supply | None, after: Supply | None) -> list[DriftKind]:
    published = build_notice(agency=AGENCY, records=[declare(before)]).register()
    now = build_notice(agency=AGENCY, records=[declare(after)])
    return [d.kind for d in check_drift(published, now)]


SUPPLIES = st.one_of(
    st.none(),
    st.builds(Voluntary, st.sampled_from(["We can still help.", "Nothing changes."])),
    st.builds(Mandatory, st.sampled_from(["We cannot help.", "We must stop."])),
)


@given(before=SUPPLIES, after=SUPPLIES)
def test_supply_drift_is_exactly_a_missing_declaration_or_a_newly_mandatory_field(
    before: Supply | None, after: Supply | None
) -> None:
    expected = []
    if after is not None and after.mandatory and not (before is not None and before.mandatory):
        expected.append(DriftKind.NOW_MANDATORY)
    if after is None:
        expected.append(DriftKind.SUPPLY_UNDECLARED)
    assert drift_between(before, after) == expected


def test_a_register_from_before_supply_was_told_reads_as_saying_nothing() -> None:
    register = build_notice(agency=AGENCY, records=[declare(Mandatory("x"))]).register()
    for record in register["records"]:
        for field in record["fields"]:
            del field["supply"]
    now = build_notice(agency=AGENCY, records=[declare(Mandatory("x"))])
    assert [d.kind for d in check_drift(register, now)] == [DriftKind.NOW_MANDATORY]
    now = build_notice(agency=AGENCY, records=[declare(Voluntary("x"))])
    assert check_drift(register, now) == []


@pytest.mark.parametrize("supply", [{"kind": "sometimes"}, "voluntary", {"consequence": "x"}])
def test_a_malformed_supply_in_a_register_is_a_notice_error_naming_the_place(
    supply: object,
) -> None:
    register = intake_notice().register()
    register["records"][0]["fields"][1]["supply"] = supply
    with pytest.raises(NoticeError, match=r"records\[0\]\.fields\[1\]\.supply"):
        check_drift(register, intake_notice())


# --- the command line ---------------------------------------------------------------------

APP = """
    import purposeful
    from purposeful import ServiceAgreement
    from purposeful.supply import Mandatory

    @purposeful.record(subject="client_id")
    class Kiritaki:
        client_id: str
        phone: str = purposeful.field(
            purposes={"service-delivery": ServiceAgreement("Service delivery agreement")},
            SUPPLY
        )
"""


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.chdir(tmp_path)
    names: list[str] = []

    def write(supply: str) -> str:
        name = f"supply_app_{uuid.uuid4().hex[:12]}"
        source = textwrap.dedent(APP).replace("SUPPLY", supply)
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
        names.append(name)
        return name

    yield write
    for name in names:
        sys.modules.pop(name, None)


def test_notice_check_reports_an_undeclared_field_and_a_newly_mandatory_one(
    module: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agency = ["--agency-name", "Te Whare Tautoko", "--agency-email", "privacy@example.nz"]
    before = module("")
    assert main(["notice", "build", before, *agency, "--out", str(tmp_path / "v1")]) == 0
    published = str(tmp_path / "v1" / "register.json")
    capsys.readouterr()
    assert main(["notice", "check", before, "--published", published]) == 1
    printed, err = capsys.readouterr()
    assert printed.splitlines() == [
        "Kiritaki.phone does not say whether supplying it is voluntary or mandatory, which the "
        "notice must tell (IPP 3(1)); declare it: purposeful.field(..., "
        "supply=purposeful.supply.Voluntary('what happens if the person does not give it')), "
        "or supply=purposeful.supply.Mandatory('...')"
    ]
    # a notice built again would not say it either: the summary says what to do instead
    assert "since the notice published" not in err
    assert err.startswith("1 field does not declare whether people must give it (IPP 3(1)): ")
    assert "declare supply= in the code, then build and publish the notice again" in err
    sys.modules.pop(before)
    after = module('supply=Mandatory("We cannot help without it."),')
    assert main(["notice", "check", after, "--published", published]) == 1
    printed, _ = capsys.readouterr()
    assert printed.splitlines() == [
        "Kiritaki.phone is now mandatory to supply, which the published notice does not say"
    ]
    register = json.loads(Path(published).read_text(encoding="utf-8"))
    assert register["records"][0]["fields"][0]["supply"] is None
