"""The grounds cite their paragraph; the answers besides giving and withholding (neither
confirm nor deny, s 47; release on conditions or in another form, ss 54–56) are recorded in
the bundle, in the manifest and on the page; and the page names fields in plain words,
never as ``Type.field``."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from _bundles import (
    NOTIFIER,
    SUBJECT,
    CaseNote,
    build_bundle,
    members,
    note,
    records_source,
    subject_access,
)

import purposeful
from purposeful import SENSITIVE, ServiceAgreement
from purposeful.access import NeitherConfirmNorDeny, ReleaseAs, ReleaseForm
from purposeful.errors import ConfigurationError, SubjectAccessError
from purposeful.sharing import DisclosureEntry
from purposeful.withholding import (
    AGAINST_INTERESTS_OF_CHILD,
    ANOTHER_PERSONS_AFFAIRS,
    EVALUATIVE_MATERIAL,
    FRIVOLOUS_OR_TRIVIAL,
    LEGAL_PROFESSIONAL_PRIVILEGE,
    MAINTENANCE_OF_THE_LAW,
    NOT_READILY_RETRIEVABLE,
    PROTECTION_OF_INDIVIDUAL,
    SECURITY_AND_DEFENCE,
    SERIOUS_HARM_TO_HEALTH,
    TRADE_SECRET,
    WithholdingGround,
)

ABOUT = "whether anyone has told us they are worried about your children"


@pytest.mark.parametrize(
    ("ground", "citation"),
    [
        (PROTECTION_OF_INDIVIDUAL, "Privacy Act 2020 s 49(1)(a)"),
        (SERIOUS_HARM_TO_HEALTH, "Privacy Act 2020 s 49(1)(b)"),
        (AGAINST_INTERESTS_OF_CHILD, "Privacy Act 2020 s 49(1)(c)"),
        (EVALUATIVE_MATERIAL, "Privacy Act 2020 s 50"),
        (SECURITY_AND_DEFENCE, "Privacy Act 2020 s 51"),
        (TRADE_SECRET, "Privacy Act 2020 s 52"),
        (NOT_READILY_RETRIEVABLE, "Privacy Act 2020 s 53(a)"),
        (ANOTHER_PERSONS_AFFAIRS, "Privacy Act 2020 s 53(b)"),
        (MAINTENANCE_OF_THE_LAW, "Privacy Act 2020 s 53(c)"),
        (LEGAL_PROFESSIONAL_PRIVILEGE, "Privacy Act 2020 s 53(d)"),
        (FRIVOLOUS_OR_TRIVIAL, "Privacy Act 2020 s 53(h)"),
    ],
)
def test_each_ground_cites_its_paragraph_with_a_reason_for_the_person(
    ground: WithholdingGround, citation: str
) -> None:
    assert ground.cite() == citation
    assert ground.reason.endswith(".")
    assert not re.search(r"\bs \d", ground.reason)  # plain words: the law is cited beside them


@pytest.mark.parametrize("section", ["s 53", "s 49", "s 49(1)", " s 53 ", "s49"])
def test_a_ground_citing_s49_or_s53_without_its_paragraph_is_refused(section: str) -> None:
    with pytest.raises(ConfigurationError, match="cite the paragraph"):
        WithholdingGround("vague", section, "A reason.")


def test_a_subparagraph_is_within_its_paragraph() -> None:
    harassment = WithholdingGround("harassment", "s 49(1)(a)(ii)", "Someone could be harassed.")
    assert harassment.within("s 49(1)(a)")
    assert not harassment.within("s 49(1)(b)")
    assert not WithholdingGround("x", "s 49(1)(ab)", "x").within("s 49(1)(a)")


def built(tmp_path: Path, *answers: Any, records: tuple[object, ...] = ()) -> dict[str, bytes]:
    access = subject_access(records_source(*(records or (note(1), note(2), note(3)))))
    return members(build_bundle(tmp_path / "bundle.zip", access, answers=answers).path)


def manifest_answers(contents: dict[str, bytes]) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = json.loads(contents["manifest.json"])["answers"]
    return answers


def test_neither_confirm_nor_deny_leaves_the_records_out_and_counts_them_nowhere(
    tmp_path: Path,
) -> None:
    answer = NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, ABOUT, key="N-2")
    contents = built(tmp_path, answer)
    everything = b"".join(contents.values())
    assert b"visit 2." not in everything
    assert b"visit 1." in everything
    assert json.loads(contents["records.json"])["record_types"][0]["count"] == 2
    withheld = json.loads(contents["withheld.json"])["withheld"]
    assert all(item["what"] != "a whole record" for item in withheld)  # not counted
    assert manifest_answers(contents) == [
        {
            "answer": "neither-confirm-nor-deny",
            "about": ABOUT,
            "act": "Privacy Act 2020",
            "section": "s 47",
            "ground": "another-persons-affairs",
            "ground_section": "s 53(b)",
            "reason": ANOTHER_PERSONS_AFFAIRS.reason,
        }
    ]
    page = contents["index.html"].decode()
    assert "What we neither confirm nor deny" in page
    assert f"<td>{ABOUT}</td>" in page
    assert "Privacy Act 2020 s 47 (s 53(b))" in page


def test_neither_confirm_nor_deny_reads_the_same_whether_or_not_anything_was_left_out(
    tmp_path: Path,
) -> None:
    answer = NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, ABOUT, key="N-9")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    hid = built(tmp_path / "a", answer, records=(note(1), note(9)))
    none = built(tmp_path / "b", answer, records=(note(1),))
    assert manifest_answers(hid) == manifest_answers(none)
    assert hid["withheld.json"] == none["withheld.json"]
    assert hid["records.json"] == none["records.json"]
    assert hid["index.html"] == none["index.html"]


def test_neither_confirm_nor_deny_on_a_field_marks_every_record_alike(tmp_path: Path) -> None:
    answer = NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, ABOUT, field="text")
    contents = built(tmp_path, answer)
    csv = contents["records/CaseNote.csv"].decode("utf-8-sig")
    assert csv.count("Privacy Act 2020 s 47") == 3
    assert b"Met at home" not in b"".join(contents.values())
    with pytest.raises(ConfigurationError, match="marking it would show"):
        NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, ABOUT, key="N-1", field="text")


def test_a_correction_request_about_what_is_neither_confirmed_nor_denied_is_hidden(
    tmp_path: Path,
) -> None:
    from purposeful.corrections import MemoryCorrectionStore

    store = MemoryCorrectionStore()
    store.request_correction(SUBJECT, note(2), "text", requested="HIDDEN-ASK", reason="why")
    access = subject_access(records_source(note(1), note(2)), corrections=store)
    answer = NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, ABOUT, key="N-2")
    contents = members(build_bundle(tmp_path / "b.zip", access, answers=[answer]).path)
    everything = b"".join(contents.values())
    assert b"HIDDEN-ASK" not in everything
    assert json.loads(contents["withheld.json"])["withheld"][0]["what"] != "a correction request"


def test_release_on_conditions_keeps_the_information_and_states_the_conditions(
    tmp_path: Path,
) -> None:
    conditions = "that you do not show it to your former partner"
    answer = ReleaseAs(CaseNote, key="N-1", conditions=conditions)
    contents = built(tmp_path, answer)
    assert b"visit 1." in contents["records.json"]
    (entry,) = manifest_answers(contents)
    assert entry == {
        "answer": "release-with-conditions",
        "record_type": "CaseNote",
        "field": None,
        "count": 1,
        "form": None,
        "conditions": conditions,
        "act": "Privacy Act 2020",
        "section": "ss 54–56",
    }
    page = contents["index.html"].decode()
    assert "Information given on conditions, or another way" in page
    assert f"<td>{conditions}</td>" in page
    assert "<td>1 Case note record</td>" in page
    assert "<td>It is in this bundle.</td>" in page


def test_release_in_another_form_leaves_the_value_out_and_says_how_to_get_it(
    tmp_path: Path,
) -> None:
    answer = ReleaseAs(CaseNote, field="text", form=ReleaseForm.INSPECTION)
    contents = built(tmp_path, answer)
    assert b"Met at home" not in b"".join(contents.values())
    csv = contents["records/CaseNote.csv"].decode("utf-8-sig")
    assert csv.count("[given another way: Privacy Act 2020 s 56]") == 3
    assert json.loads(contents["withheld.json"])["withheld"][0]["field"] == "notifier"
    (entry,) = manifest_answers(contents)
    assert (entry["answer"], entry["form"], entry["count"]) == (
        "release-in-another-form",
        "inspection",
        3,
    )
    page = contents["index.html"].decode()
    assert "<td>Text in 3 Case note records</td>" in page
    assert f"<td>{ReleaseForm.INSPECTION.describe()}</td>" in page
    assert "Privacy Act 2020 s 56" in page


def test_withholding_wins_over_another_form(tmp_path: Path) -> None:
    answer = ReleaseAs(CaseNote, field="notifier", form=ReleaseForm.SUMMARY)
    contents = built(tmp_path, answer)
    assert NOTIFIER.encode() not in b"".join(contents.values())
    csv = contents["records/CaseNote.csv"].decode("utf-8-sig")
    assert "given another way" not in csv
    assert csv.count("[withheld: Privacy Act 2020 s 53(b)]") == 3


def test_an_answer_about_nothing_is_a_mistake_but_ncnd_never_is(tmp_path: Path) -> None:
    with pytest.raises(SubjectAccessError, match=r"ReleaseAs\(CaseNote, key=\.\.\.\)"):
        built(tmp_path, ReleaseAs(CaseNote, key="N-404", conditions="none"))
    assert built(tmp_path, NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, ABOUT))


@pytest.mark.parametrize(
    "make",
    [
        lambda: ReleaseAs(CaseNote, key="N-1"),
        lambda: ReleaseAs(CaseNote, form="inspection"),  # type: ignore[arg-type]
        lambda: ReleaseAs(CaseNote, conditions=" "),
        lambda: ReleaseAs(CaseNote, field="nope", conditions="x"),
        lambda: ReleaseAs(dict, conditions="x"),
        lambda: NeitherConfirmNorDeny(CaseNote, "s 47", ABOUT),  # type: ignore[arg-type]
        lambda: NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, ""),
    ],
)
def test_a_badly_made_answer_is_a_configuration_error(make: Any) -> None:
    with pytest.raises(ConfigurationError):
        make()


def test_build_takes_only_answers_as_answers(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="takes NeitherConfirmNorDeny and ReleaseAs"):
        built(tmp_path, "release it")
    assert repr(ReleaseAs(CaseNote, key=SUBJECT, conditions="x")).count(SUBJECT) == 0


# --- plain labels on the page --------------------------------------------------------------

HEALTH_AGREEMENT = ServiceAgreement("Service delivery agreement")


@purposeful.record(subject="client_id")
class ClientProfile:
    client_id: str
    health_note: str = purposeful.field(
        purposes={"service-delivery": HEALTH_AGREEMENT}, sensitivity=SENSITIVE, category="health"
    )
    preferred_name: str = purposeful.field(
        purposes={"service-delivery": HEALTH_AGREEMENT}, category="identity"
    )


class OneDisclosure:
    def for_subject(self, subject: str) -> Any:
        yield DisclosureEntry(
            at=datetime(2026, 3, 1, tzinfo=UTC),
            recipient="Budgeting Service",
            purpose="service-delivery.referral",
            basis="your consent",
            fields=["ClientProfile.health_note", "ClientProfile.preferred_name"],
        )


def test_the_page_names_fields_in_plain_words_never_as_type_dot_field(tmp_path: Path) -> None:
    from purposeful.corrections import MemoryCorrectionStore

    profile = ClientProfile(SUBJECT, "Anxious about the move.", "Aroha")
    store = MemoryCorrectionStore()
    asked = store.request_correction(SUBJECT, profile, "health_note", requested="x", reason="y")
    store.decline(asked.id, by="staff-1", reason="z", statement="I was not anxious.")
    access = subject_access(
        records_source(profile, note(1)), disclosures=OneDisclosure(), corrections=store
    )
    contents = members(build_bundle(tmp_path / "b.zip", access).path)
    page = contents["index.html"].decode()
    text = re.sub(r"<[^>]+>", " ", page)
    for dotted in ("ClientProfile.health_note", "health_note", "CaseNote.text", "preferred_name"):
        assert dotted not in text
    assert "<td>Health note (Client profile)\nPreferred name (Client profile)</td>" in page
    assert '<th scope="col">Health note</th>' in page
    assert "<td>Client profile: Health note</td>" in page
    assert "Health note: I was not anxious." in page
    # the machine-readable files keep the names
    assert b"ClientProfile.health_note" in contents["disclosures.json"]
    assert b'"health_note"' in contents["records/ClientProfile.csv"]
