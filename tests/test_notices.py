"""Notices: the plain-language notice (Markdown, HTML), the register, the fides crosswalk,
the drift check, IPP 3A collection notices and the ``purposeful notice`` commands.

The record types live at module level so agreements can name them (``"ServiceUser.name"``);
their names are unique in the test suite, because agreements find record types by name.
The fides crosswalk is checked with the ``fideslang`` package (a test-only dependency).
"""

from __future__ import annotations

import ast
import html
import json
import re
import stat
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import cmarkgfm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import (
    AUTHORISED_BY_PERSON,
    CONSENT,
    DIRECTLY_RELATED_PURPOSE,
    ORANGA_TAMARIKI_ACT_S66C,
    SENSITIVE,
    InformationSharingAgreement,
    ServiceAgreement,
)
from purposeful._shared.document import visible
from purposeful.access import AgencyDetails
from purposeful.cli import main
from purposeful.errors import NoticeError, UnknownPurpose
from purposeful.notices import (
    FIDESLANG_CATEGORIES,
    REGISTER_FORMAT,
    Drift,
    DriftKind,
    Notice,
    NoticeWording,
    build_notice,
    check_drift,
    collection_notice,
    fides_categories,
    ipp3a_applies,
    read_register,
)
from purposeful.sharing.agreements import Party, SharingAgreement
from purposeful.supply import Mandatory, Voluntary
from purposeful.withholding import ANOTHER_PERSONS_AFFAIRS

SERVICE = ServiceAgreement("Service delivery agreement")
REFERRAL = "service-delivery.referral"
AGENCY = AgencyDetails(
    name="Te Whare Āwhina",
    email="privacy@tewhareawhina.example.nz",
    postal_address="PO Box 4021, Gisborne 4040",
)


NEEDED = Mandatory("Without it we cannot give you the service.")
UP_TO_YOU = Voluntary("We can still help you, but we cannot refer you for housing.")


@purposeful.record(subject="client_id")
class ServiceUser:
    client_id: str
    name: str = purposeful.field(
        purposes={"service-delivery": SERVICE}, category="identity", supply=NEEDED
    )
    address: str = purposeful.field(
        purposes={"service-delivery": SERVICE, REFERRAL: CONSENT},
        category="contact",
        supply=UP_TO_YOU,
    )
    wellbeing_score: int = purposeful.field(
        purposes={"service-delivery": SERVICE, "research": CONSENT},
        category="health.mental-health",
        sensitivity=SENSITIVE,
        supply=Voluntary("It makes no difference to the help you get."),
    )


@purposeful.record(subject="client_id", key="note_id")
class SupportNote:
    client_id: str
    note_id: str
    text: str = purposeful.field(
        purposes={"service-delivery.case-management": SERVICE},
        category="case-notes",
        supply=NEEDED,
    )
    notifier: str = purposeful.field(
        purposes={"care-and-protection": ORANGA_TAMARIKI_ACT_S66C},
        category="identity",
        withhold=ANOTHER_PERSONS_AFFAIRS,
        supply=Voluntary("We keep children safe either way."),
    )


RECORDS = (ServiceUser, SupportNote)

JOINT_REFERRALS = SharingAgreement(
    id="joint-referrals",
    name="Joint housing referrals",
    parties=[
        Party("Te Whare Āwhina", "12 Peel Street, Gisborne"),
        Party("Kāinga Ora", "7 Waterloo Quay, Wellington 6011"),
    ],
    purposes=[REFERRAL],
    basis=InformationSharingAgreement("Joint referrals AISA"),
    starts=date(2026, 1, 1),
    expires=date(2028, 6, 30),
    review=date(2027, 6, 30),
    fields=["ServiceUser.name"],
    categories=["contact"],
    description="When you ask us to, we refer you to Kāinga Ora for housing.",
)

CHILD_SAFETY = SharingAgreement(
    id="child-safety",
    name="Child safety information sharing",
    parties=["Te Whare Āwhina", Party("Oranga Tamariki", "56 The Terrace, Wellington 6011")],
    purposes=["care-and-protection"],
    basis=ORANGA_TAMARIKI_ACT_S66C,
    starts=date(2026, 1, 1),
    expires=date(2030, 12, 31),
    review=date(2028, 1, 1),
    fields=["SupportNote.notifier"],
)

AGREEMENTS = (JOINT_REFERRALS, CHILD_SAFETY)


def notice(**changes: Any) -> Notice:
    arguments: dict[str, Any] = {
        "agency": AGENCY,
        "records": RECORDS,
        "agreements": AGREEMENTS,
    }
    arguments.update(changes)
    return build_notice(**arguments)


# --- the notice ---------------------------------------------------------------------------


def test_markdown_covers_the_five_topics() -> None:
    text = notice().to_markdown()
    # what we collect
    assert "## What we collect" in text
    row = "| Wellbeing score | Mental health | Service delivery, Research | Yes, for Research |"
    assert row in text
    # why, and how it helps you
    assert "## Why we collect it, and how it helps you" in text
    assert "### Research" in text
    assert "Research helps find out what improves people's lives." in text
    assert "7 years after your last contact with the service" in text
    # who we share it with, under what agreement
    assert "## Who we share it with" in text
    assert "### Joint housing referrals" in text
    assert "Kāinga Ora, 7 Waterloo Quay, Wellington 6011" in text
    assert "“Joint referrals AISA”" in text  # plain text, not Python's repr
    assert "the law (Oranga Tamariki Act 1989 s 66C)" in text
    # what needs your consent, and how to change your mind
    assert "## What needs your consent, and how to change your mind" in text
    assert "- Referral: Address (Service user)" in text
    assert "you can change your mind at any time" in text
    # rights to see and correct
    assert "## Your rights to see and correct your information" in text
    assert "information privacy principle 6" in text
    assert "information privacy principle 7" in text
    assert "Notifier (Support note)" in text
    assert "Privacy Act 2020 s 53" in text
    assert "privacy`@`tewhareawhina.example.nz" in text  # an address, not a link


def test_an_agreement_on_an_everyday_basis_names_the_principle_in_plain_words() -> None:
    referrals = attrs.evolve(JOINT_REFERRALS, basis=AUTHORISED_BY_PERSON)
    text = notice(agreements=[referrals]).to_markdown()
    assert (
        "**On what basis:** your authorisation (Privacy Act 2020, IPP 10(1)(c) and IPP 11(1)(c))"
    ) in text


def test_the_agency_is_not_listed_as_its_own_recipient() -> None:
    text = notice().to_markdown()
    shared_with = [line for line in text.splitlines() if line.startswith("- **Shared with:**")]
    assert shared_with == [
        "- **Shared with:** Kāinga Ora, 7 Waterloo Quay, Wellington 6011",
        "- **Shared with:** Oranga Tamariki, 56 The Terrace, Wellington 6011",
    ]


class _Tags(HTMLParser):
    """The tags and attribute names of a page, and the text of its headings, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: set[str] = set()
        self.headings: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.update(name for name, _ in attrs)
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.headings.append(int(tag[1]))


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "main", "section", "footer",
    "h1", "h2", "h3", "p", "span", "table", "caption", "thead", "tbody", "tr", "th", "td",
    "dl", "dt", "dd", "ul", "li",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"lang", "charset", "name", "content", "http-equiv", "scope"}


def parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


def test_html_covers_the_five_topics_and_is_self_contained() -> None:
    page = notice().to_html()
    assert page.startswith('<!DOCTYPE html>\n<html lang="en-NZ">')
    for heading in (
        "What we collect",
        "Why we collect it, and how it helps you",
        "Who we share it with",
        "What needs your consent, and how to change your mind",
        "Your rights to see and correct your information",
        "How to contact us",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert "<caption>Service user</caption>" in page
    assert '<th scope="col">Needs your consent</th>' in page
    tags = parse(page)
    assert set(tags.tags) <= ALLOWED_TAGS  # no script, img, link, a, iframe, form…
    assert tags.attributes <= ALLOWED_ATTRIBUTES  # no src, href, on…
    assert tags.headings[0] == 1
    assert all(b - a <= 1 for a, b in zip(tags.headings, tags.headings[1:], strict=False))
    assert "http://" not in page
    assert "https://" not in page


MARKUP = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "' onmouseover='alert(1)",
        "&lt;script&gt;",
        "[click](javascript:alert(1))",
        "![x](http://example.com/x.png)",
        "*bold* _it_ `code` | cell |",
        "<!-- comment -->",
        "\\<b>",
    ]
)
TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=12)


@st.composite
def hostile(draw: st.DrawFn) -> str:
    """Text with markup somewhere in it, never blank."""
    return draw(TEXT) + draw(MARKUP) + draw(TEXT)


def _escaped_runs(text: str, char: str) -> bool:
    """True if every *char* in Markdown *text* is preceded by an odd run of backslashes."""
    for index, found in enumerate(text):
        if found != char:
            continue
        run = 0
        while index - run - 1 >= 0 and text[index - run - 1] == "\\":
            run += 1
        if run % 2 == 0:
            return False
    return True


@given(
    agency_name=hostile(),
    title=hostile(),
    intro=hostile(),
    label=hostile(),
    field_label=hostile(),
    agreement_name=hostile(),
    party=hostile(),
    address=hostile(),
)
def test_markup_in_wording_and_agreements_is_never_live(
    agency_name: str,
    title: str,
    intro: str,
    label: str,
    field_label: str,
    agreement_name: str,
    party: str,
    address: str,
) -> None:
    agency = AgencyDetails(name=agency_name, email="privacy@example.nz")
    partner = party if party != agency_name else party + "x"
    agreement = attrs.evolve(
        JOINT_REFERRALS,
        name=agreement_name,
        parties=[Party(agency_name), Party(partner, address)],
        description=intro,
    )
    wording = NoticeWording(
        title=title,
        intro=intro,
        record_labels={"ServiceUser": label},
        field_labels={"ServiceUser.name": field_label},
        phrases={"Information": label},
    )
    built = notice(agency=agency, agreements=[agreement], wording=wording)
    page = built.to_html()
    tags = parse(page)
    assert set(tags.tags) <= ALLOWED_TAGS
    assert tags.attributes <= ALLOWED_ATTRIBUTES
    assert html.escape(visible(agency_name)) in page
    assert html.escape(visible(agreement_name)) in page
    text = built.to_markdown().replace("`@`", "@")  # an email address's @, as code
    for char in "<[`":
        assert _escaped_runs(text, char), char


#: What GitHub and GitLab link by themselves, and what acts on a terminal or a page.
LINKS_AND_CONTROLS = st.sampled_from(
    [
        "www.evil.example",
        "https://evil.example/login",
        "HTTP://evil.example",
        "(ftp://evil.example)",
        "help@evil.example",
        "mailto:help@evil.example",
        "a_b+c@evil.example",
        "\u202egnp.exe",
        "\x1b[31mred",
        "nul\x00here",
        "\u2066isolate\u2069",
    ]
)


@given(
    wording=st.builds(lambda a, m, b: a + m + b, TEXT, LINKS_AND_CONTROLS, TEXT),
    name=st.builds(lambda a, m: a + m, TEXT, LINKS_AND_CONTROLS),
)
@settings(max_examples=40)
def test_no_wording_or_name_becomes_a_link_on_github_or_acts_on_the_page(
    wording: str, name: str
) -> None:
    agency = AgencyDetails(name=name, email="privacy@example.nz", website="www.example.nz")
    agreement = attrs.evolve(JOINT_REFERRALS, name=name, description=wording)
    built = notice(
        agency=agency,
        agreements=[agreement],
        wording=NoticeWording(intro=wording, collect_intro=wording, title=name),
    )
    markdown = built.to_markdown()
    page = cmarkgfm.github_flavored_markdown_to_html(markdown)
    assert "<a " not in page
    for written in (markdown, built.to_html()):
        assert not any(ch in written for ch in "\u202e\x1b\x00\u2066\u2069")
        written.encode("utf-8")


def test_a_lawful_basis_reads_as_plain_words_not_as_python() -> None:
    @purposeful.record(subject="client_id")
    class Funded:
        client_id: str
        name: str = purposeful.field(
            purposes={"service-delivery": ServiceAgreement("SA it's\nhere")}
        )

    text = notice(records=[Funded], agreements=[]).to_markdown()
    assert "the service agreement “SA it's here”" in text
    assert "\\n" not in text
    page = notice(records=[Funded], agreements=[]).to_html()
    assert "the service agreement “SA it&#x27;s\nhere”" in page  # HTML keeps line breaks


def test_wording_that_looks_like_a_list_or_heading_stays_a_sentence() -> None:
    wording = NoticeWording(
        intro="1. We collect.\n\n- We share.\n\n=== We keep. ===",
        collect_intro="# Not a heading",
    )
    text = notice(wording=wording).to_markdown()
    assert "\n1\\. We collect.\n" in text
    assert "\n\\- We share.\n" in text
    assert "\n\\=== We keep. ===\n" in text
    assert "\n\\# Not a heading\n" in text


def test_the_notice_and_the_subject_access_page_share_one_agency_details() -> None:
    import purposeful.access

    assert purposeful.notices.AgencyDetails is purposeful.access.AgencyDetails


def test_notices_import_nothing_from_subject_access() -> None:
    package = Path(purposeful.notices.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                name = "." * node.level + (node.module or "")
                assert not re.match(r"(\.\.|purposeful\.)access\b", name), module.name
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("purposeful.access") for a in node.names)


def test_the_notice_is_built_from_declarations_only() -> None:
    # A record with distinctive values exists; nothing of it reaches any output.
    person = ServiceUser("C-90210", "Aroha Secretname", "1 Hidden Lane", 3)
    built = notice()
    outputs = [
        built.to_markdown(),
        built.to_html(),
        json.dumps(built.register()),
        json.dumps(built.fideslang()),
    ]
    for output in outputs:
        for value in ("C-90210", "Aroha Secretname", "1 Hidden Lane"):
            assert value not in output
    assert person is not None


def test_the_version_is_a_digest_that_changes_with_what_the_notice_says() -> None:
    first, again = notice(), notice()
    assert first.version == again.version
    assert first.version.startswith("sha256:")
    assert notice(agreements=[JOINT_REFERRALS]).version != first.version
    assert notice(wording=NoticeWording(intro="Kia ora koutou.")).version != first.version
    assert notice(version="2026-07").version == "2026-07"


def test_two_record_types_with_one_name_are_refused() -> None:
    def declare() -> type:
        @purposeful.record(subject="client_id")
        class Twin:
            client_id: str

        return Twin

    with pytest.raises(purposeful.ConfigurationError, match="two record types are called"):
        notice(records=[declare(), declare()])


# --- the register and the fides crosswalk -------------------------------------------------


def test_the_register_round_trips_through_json_and_holds_every_declaration() -> None:
    built = notice()
    register = built.register()
    assert json.loads(json.dumps(register)) == register
    assert register["format"] == REGISTER_FORMAT
    assert register["format_version"] == 1
    assert register["notice_version"] == built.version
    assert register["agency"]["name"] == "Te Whare Āwhina"
    records = {r["type"]: r for r in register["records"]}
    assert set(records) == {"ServiceUser", "SupportNote"}
    score = next(f for f in records["ServiceUser"]["fields"] if f["name"] == "wellbeing_score")
    assert score == {
        "name": "wellbeing_score",
        "label": "Wellbeing score",
        "category": "health.mental-health",
        "sensitivity": "SENSITIVE",
        "purposes": [
            {
                "id": "service-delivery",
                "title": "Service delivery",
                "basis": {
                    "kind": "service-agreement",
                    "description": "the service agreement 'Service delivery agreement'",
                },
                "needs_consent": False,
            },
            {
                "id": "research",
                "title": "Research",
                "basis": {"kind": "consent", "description": "the person's consent"},
                "needs_consent": True,
            },
        ],
        "consent": ["research"],
        "withhold": None,
        "supply": {
            "kind": "voluntary",
            "consequence": "It makes no difference to the help you get.",
        },
    }
    notifier = next(f for f in records["SupportNote"]["fields"] if f["name"] == "notifier")
    assert notifier["withhold"] == "another-persons-affairs"
    agreement = next(a for a in register["agreements"] if a["id"] == "joint-referrals")
    assert agreement["parties"][1] == {
        "name": "Kāinga Ora",
        "address": "7 Waterloo Quay, Wellington 6011",
        "contact": None,
    }
    assert agreement["purposes"] == [{"id": REFERRAL, "title": "Referral"}]
    assert agreement["fields"] == ["ServiceUser.name"]
    assert agreement["categories"] == ["contact"]
    assert agreement["basis"]["kind"] == "information-sharing-agreement"
    assert (agreement["starts"], agreement["expires"]) == ("2026-01-01", "2028-06-30")
    assert {p["id"] for p in register["purposes"]} >= {"research", REFERRAL}


def test_the_fideslang_crosswalk_validates_as_fides_datasets() -> None:
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY
    from fideslang.models import Dataset

    known = {c.fides_key for c in DEFAULT_TAXONOMY.data_category}
    document = notice().fideslang()
    assert list(document) == ["dataset"]
    for dataset in document["dataset"]:
        model = Dataset.model_validate(dataset)
        assert model.fides_key == "te_whare_awhina"
        collections = {c.name: c for c in model.collections}
        assert set(collections) == {"ServiceUser", "SupportNote"}
        fields = {f.name: f for f in collections["ServiceUser"].fields}
        assert fields["wellbeing_score"].data_categories == ["user.health_and_medical"]
        assert fields["client_id"].data_categories == ["user.unique_id"]
        assert "Research (research; basis: the person's consent; needs consent)" in (
            fields["wellbeing_score"].description or ""
        )
        for collection in model.collections:
            for field in collection.fields:
                assert field.data_categories
                assert set(field.data_categories) <= known
        meta = (model.meta or {})["purposeful"]["fields"]
        assert meta["ServiceUser.address"]["purposes"] == ["service-delivery", REFERRAL]


def test_every_mapped_category_is_in_the_fideslang_taxonomy() -> None:
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    known = {c.fides_key for c in DEFAULT_TAXONOMY.data_category}
    for ident, keys in FIDESLANG_CATEGORIES.items():
        assert set(keys) <= known, ident
    for category in purposeful.CategoryRegistry.default():
        assert set(fides_categories(category)) <= known


def test_unmapped_categories_fall_back_to_user_and_can_be_mapped() -> None:
    assert fides_categories("housing.tenancy") == ("user",)
    assert fides_categories(None) == ("user",)
    assert fides_categories("ethnicity.iwi-affiliation") == ("user.demographic.race_ethnicity",)
    document = notice().fideslang(
        fides_key="twa.records", categories={"case-notes": ["user.content"]}
    )
    dataset = document["dataset"][0]
    assert dataset["fides_key"] == "twa.records"
    note = next(c for c in dataset["collections"] if c["name"] == "SupportNote")
    text = next(f for f in note["fields"] if f["name"] == "text")
    assert text["data_categories"] == ["user.content"]
    with pytest.raises(purposeful.ConfigurationError, match="fides key"):
        notice().fideslang(fides_key="not a key")


def test_a_lone_surrogate_is_written_as_its_escape_as_the_bundle_writes_it(
    tmp_path: Path,
) -> None:
    # text decoded badly upstream: shown and written as \\ud800, never a UnicodeEncodeError
    built = notice(
        agency=AgencyDetails(name="Te Whare \ud800", email="privacy@example.nz"),
        wording=NoticeWording(
            collect_intro="We keep \udcff this", record_labels={"Client": "\ud800"}
        ),
    )
    assert built.version.startswith("sha256:")
    assert "Te Whare \\\\ud800" in built.to_markdown()  # the escape, its backslash escaped
    assert "Te Whare \\ud800" in built.to_html()
    written = built.write(tmp_path / "published")
    assert "We keep \\udcff this" in written["html"].read_text(encoding="utf-8")
    published = read_register(written["register"])
    assert published.agency.name == "Te Whare \ud800"  # JSON reads the escape back exactly
    assert check_drift(published, built) == []


def test_write_puts_four_files_in_place(tmp_path: Path) -> None:
    built = notice()
    written = built.write(tmp_path / "published")
    assert {k: p.name for k, p in written.items()} == {
        "markdown": "notice.md",
        "html": "notice.html",
        "register": "register.json",
        "fides": "fides-dataset.yml",
    }
    assert written["markdown"].read_text(encoding="utf-8") == built.to_markdown()
    assert written["html"].read_text(encoding="utf-8") == built.to_html()
    assert json.loads(written["register"].read_text(encoding="utf-8")) == built.register()
    assert json.loads(written["fides"].read_text(encoding="utf-8")) == built.fideslang()
    for path in written.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in (tmp_path / "published").iterdir()) == sorted(
        p.name for p in written.values()
    )  # no temporary files left


def test_the_written_fides_manifest_loads_with_the_fides_tools(tmp_path: Path) -> None:
    from fideslang.manifests import ingest_manifests
    from fideslang.parse import load_manifests_into_taxonomy

    path = notice().write(tmp_path)["fides"]
    taxonomy = load_manifests_into_taxonomy(ingest_manifests(str(path)))
    assert [d.fides_key for d in taxonomy.dataset] == ["te_whare_awhina"]


def test_a_directory_that_cannot_be_written_is_a_notice_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(NoticeError, match="cannot write the notice"):
        notice().write(blocker / "out")


# --- drift --------------------------------------------------------------------------------


def declare_version(*, research: bool = False, mood: bool = False, consent: bool = True) -> type:
    """One version of a record type, as the code declares it at some point in time. Every
    version has the same name, as successive versions of one class would."""

    basis = CONSENT if consent else DIRECTLY_RELATED_PURPOSE
    purposes: dict[str, Any] = {"service-delivery": SERVICE, REFERRAL: basis}
    if research:
        purposes["research"] = CONSENT

    if mood:

        @purposeful.record(subject="client_id")
        class Whaiora:
            client_id: str
            address: str = purposeful.field(purposes=purposes, category="contact", supply=UP_TO_YOU)
            mood: str = purposeful.field(
                purposes={"research": CONSENT}, category="health", supply=UP_TO_YOU
            )

        return Whaiora

    @purposeful.record(subject="client_id")
    class Whaiora:  # type: ignore[no-redef]
        client_id: str
        address: str = purposeful.field(purposes=purposes, category="contact", supply=UP_TO_YOU)

    return Whaiora


def test_an_unchanged_notice_has_no_drift(tmp_path: Path) -> None:
    path = notice().write(tmp_path)["register"]
    assert check_drift(path, notice()) == []
    assert check_drift(json.loads(path.read_text(encoding="utf-8")), notice()) == []


def test_a_purpose_added_after_publishing_is_drift_naming_it() -> None:
    published = build_notice(agency=AGENCY, records=[declare_version()]).register()
    now = build_notice(agency=AGENCY, records=[declare_version(research=True)])
    drifts = check_drift(published, now)
    assert drifts == [
        Drift(
            DriftKind.NEW_PURPOSE,
            record_type="declare_version.<locals>.Whaiora",
            field="address",
            purpose="research",
        )
    ]
    assert drifts[0].describe() == (
        "declare_version.<locals>.Whaiora.address is now used for 'research', which the "
        "published notice does not mention for it"
    )


def test_a_new_field_is_drift_for_each_of_its_purposes() -> None:
    published = build_notice(agency=AGENCY, records=[declare_version()]).register()
    now = build_notice(agency=AGENCY, records=[declare_version(mood=True)])
    assert [(d.kind, d.field, d.purpose) for d in check_drift(published, now)] == [
        (DriftKind.NEW_FIELD, "mood", "research")
    ]


def test_consent_no_longer_asked_for_is_drift() -> None:
    published = build_notice(agency=AGENCY, records=[declare_version()]).register()
    now = build_notice(agency=AGENCY, records=[declare_version(consent=False)])
    assert [(d.kind, d.purpose) for d in check_drift(published, now)] == [
        (DriftKind.CONSENT_DROPPED, REFERRAL)
    ]


def test_narrowing_is_not_drift() -> None:
    published = build_notice(agency=AGENCY, records=[declare_version(research=True, mood=True)])
    now = build_notice(agency=AGENCY, records=[declare_version()])
    assert check_drift(published.register(), now) == []
    # a published purpose covers its descendants
    register = published.register()
    for field in register["records"][0]["fields"]:
        field["purposes"] = [p for p in field["purposes"] if p["id"] != REFERRAL]
    assert check_drift(register, now) == []


def test_new_agreements_recipients_and_shared_information_are_drift() -> None:
    published = notice(agreements=[JOINT_REFERRALS]).register()
    wider = attrs.evolve(
        JOINT_REFERRALS,
        parties=[*JOINT_REFERRALS.parties, Party("Whānau Ora Collective")],
        purposes=[REFERRAL, "service-improvement"],
        fields=["ServiceUser.name", "ServiceUser.address", "ServiceUser.wellbeing_score"],
        categories=["contact", "health"],
    )
    drifts = check_drift(published, notice(agreements=[wider, CHILD_SAFETY]))
    assert [(d.kind, d.agreement, d.party, d.purpose, d.field, d.category) for d in drifts] == [
        (DriftKind.NEW_RECIPIENT, "joint-referrals", "Whānau Ora Collective", None, None, None),
        (DriftKind.NEW_SHARING_PURPOSE, "joint-referrals", None, "service-improvement", None, None),
        # ServiceUser.address is contact information, which the agreement already covered
        (DriftKind.NEW_SHARED_INFORMATION, "joint-referrals", None, None, "wellbeing_score", None),
        (DriftKind.NEW_SHARED_INFORMATION, "joint-referrals", None, None, None, "health"),
        (DriftKind.NEW_AGREEMENT, "child-safety", None, None, None, None),
    ]
    assert all(str(d) == d.describe() for d in drifts)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected an object"),
        ('{"format": "something-else"}', "not a purposeful notice register"),
    ],
)
def test_a_malformed_published_file_is_a_notice_error_naming_it(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "register.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(NoticeError, match=problem) as raised:
        check_drift(path, notice())
    assert str(path) in str(raised.value)


def test_a_register_missing_a_key_names_the_place(tmp_path: Path) -> None:
    register = notice().register()
    del register["records"][1]["fields"][0]["purposes"]
    path = tmp_path / "register.json"
    path.write_text(json.dumps(register), encoding="utf-8")
    with pytest.raises(NoticeError, match=r"records\[1\]\.fields\[0\]: 'purposes' is missing"):
        read_register(path)


def test_a_register_from_a_newer_purposeful_is_refused() -> None:
    register = notice().register()
    register["format_version"] = 99
    with pytest.raises(NoticeError, match="newer purposeful"):
        check_drift(register, notice())


def test_a_missing_published_file_is_a_notice_error(tmp_path: Path) -> None:
    with pytest.raises(NoticeError, match="cannot read the published register"):
        check_drift(tmp_path / "nowhere.json", notice())


# --- IPP 3A collection notices ------------------------------------------------------------


@attrs.frozen
class Collected:
    """What the sharing log records of a collection (duck-typed, as notices read it)."""

    subject: str
    record_type: str
    source: str
    purpose: str
    collected_at: datetime
    law: str | None = None


def test_a_collection_notice_tells_all_five_things_and_never_the_subject() -> None:
    collection = Collected(
        subject="C-77031",
        record_type="ServiceUser",
        source="Kāinga Ora",
        purpose=REFERRAL,
        collected_at=datetime(2026, 6, 2, 22, 30, tzinfo=UTC),
        law="Oranga Tamariki Act 1989 s 66C",
    )
    text = collection_notice(collection, agency=AGENCY, agreements=AGREEMENTS, records=RECORDS)
    # the fact and purpose of the collection
    assert "On 3 June 2026, Te Whare Āwhina collected information about you from Kāinga Ora" in (
        text
    )
    assert "We collected it for Referral: Passing on what another service needs" in text
    # the intended recipients: the agreement for the purpose, not the child-safety one
    assert "Kāinga Ora, 7 Waterloo Quay, Wellington 6011, under Joint housing referrals" in text
    assert "Oranga Tamariki" not in text.replace("Oranga Tamariki Act", "")
    # the names and addresses of the agencies that collected and hold it
    assert "Kāinga Ora, 7 Waterloo Quay, Wellington 6011: collected it and gave it to us." in text
    assert "Te Whare Āwhina, PO Box 4021, Gisborne 4040: collected it from them" in text
    # the law
    assert "This law authorises or requires the collection: Oranga Tamariki Act 1989 s 66C" in (
        text
    )
    # the rights of access and correction
    assert "a copy of this information (access)" in text
    assert "correct it (correction)" in text
    assert "privacy`@`tewhareawhina.example.nz" in text  # an address, not a link
    assert "C-77031" not in text


def test_a_collection_notice_without_law_recipients_or_address_says_so() -> None:
    collection = Collected(
        subject="C-1",
        record_type="SupportNote",
        source="A neighbour's doctor",
        purpose="service-delivery.case-management",
        collected_at=datetime(2026, 8, 1, tzinfo=UTC),
    )
    text = collection_notice(collection, agency=AGENCY, agreements=AGREEMENTS, records=RECORDS)
    assert "No particular law requires or authorises this collection." in text
    assert "We do not intend to share it with anyone else." in text
    assert "Ask us for their address." in text
    assert "A neighbour's doctor" in text


def test_a_collection_for_an_unknown_purpose_is_refused() -> None:
    collection = Collected("C-1", "ServiceUser", "Kāinga Ora", "no-such-purpose", datetime.now(UTC))
    with pytest.raises(UnknownPurpose):
        collection_notice(collection, agency=AGENCY, agreements=AGREEMENTS)


def test_ipp3a_applies_from_1_may_2026_new_zealand_time() -> None:
    def at(moment: datetime) -> Collected:
        return Collected("C-1", "ServiceUser", "Kāinga Ora", REFERRAL, moment)

    assert not ipp3a_applies(at(datetime(2026, 4, 30, 11, 59, tzinfo=UTC)))
    assert ipp3a_applies(at(datetime(2026, 4, 30, 12, 0, tzinfo=UTC)))  # 1 May, 00:00 NZST


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Write application modules into a working directory; each gets a unique name, and
    is forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    names: list[str] = []

    def write(source: str) -> str:
        name = f"notice_app_{uuid.uuid4().hex[:12]}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        names.append(name)
        return name

    yield write
    for name in names:
        sys.modules.pop(name, None)


APP = """
    from datetime import date

    import purposeful
    from purposeful import CONSENT, InformationSharingAgreement, ServiceAgreement
    from purposeful.sharing.agreements import SharingAgreement
    from purposeful.supply import Voluntary

    SERVICE = ServiceAgreement("Service delivery agreement")


    @purposeful.record(subject="client_id")
    class Tangata:
        client_id: str
        address: str = purposeful.field(
            purposes=PURPOSES, category="contact", supply=Voluntary("We can still help you.")
        )


    REFERRALS = SharingAgreement(
        id="cli-referrals",
        name="Referrals",
        parties=["Te Whare Āwhina", "Kāinga Ora"],
        purposes=["service-delivery.referral"],
        basis=InformationSharingAgreement("Referrals AISA"),
        starts=date(2026, 1, 1),
        expires=date(2028, 1, 1),
        review=date(2027, 1, 1),
        fields=["Tangata.address"],
    )
"""
BEFORE = '{"service-delivery": SERVICE}'
AFTER = '{"service-delivery": SERVICE, "research": CONSENT}'
AGENCY_ARGS = ["--agency-name", "Te Whare Āwhina", "--agency-email", "privacy@example.nz"]


def test_notice_build_writes_four_files_and_check_passes(
    app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(APP.replace("PURPOSES", BEFORE))
    out = tmp_path / "published"
    assert main(["notice", "build", module, *AGENCY_ARGS, "--out", str(out)]) == 0
    printed, err = capsys.readouterr()
    assert err == ""
    assert sorted(p.name for p in out.iterdir()) == [
        "fides-dataset.yml",
        "notice.html",
        "notice.md",
        "register.json",
    ]
    assert "(1 record type, 1 field, 1 agreement)" in printed
    register = json.loads((out / "register.json").read_text(encoding="utf-8"))
    assert [a["id"] for a in register["agreements"]] == ["cli-referrals"]
    assert [r["type"] for r in register["records"]] == ["Tangata"]

    published = str(out / "register.json")
    assert main(["notice", "check", module, "--published", published]) == 0
    printed, _ = capsys.readouterr()
    assert printed.startswith("no drift")


def test_notice_check_exits_1_with_one_line_per_drift(
    app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = app(APP.replace("PURPOSES", BEFORE))
    assert main(["notice", "build", before, *AGENCY_ARGS, "--out", str(tmp_path / "v1")]) == 0
    capsys.readouterr()
    sys.modules.pop(before)  # the next version of the application replaces it
    after = app(APP.replace("PURPOSES", AFTER))
    published = str(tmp_path / "v1" / "register.json")
    assert main(["notice", "check", after, "--published", published]) == 1
    printed, err = capsys.readouterr()
    assert printed.splitlines() == [
        "Tangata.address is now used for 'research', which the published notice does not "
        "mention for it"
    ]
    assert "publish a new notice" in err


def test_notice_check_exits_2_on_a_malformed_register_or_a_missing_module(
    app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(APP.replace("PURPOSES", BEFORE))
    broken = tmp_path / "register.json"
    broken.write_text("{", encoding="utf-8")
    assert main(["notice", "check", module, "--published", str(broken)]) == 2
    _, err = capsys.readouterr()
    assert err.startswith(f"purposeful: error: {broken}: not valid JSON")
    assert err.count("\n") == 1
    assert main(["notice", "check", "no_such_module_here", "--published", str(broken)]) == 2
    assert main(["notice", "check", module]) == 2  # --published is required
    capsys.readouterr()


def test_a_register_nested_too_deeply_is_a_notice_error_and_check_exits_2(
    app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # json recurses once a level: exit 1 would say "drift found"
    deep = tmp_path / "register.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(NoticeError, match="nested too deeply"):
        read_register(deep)
    with pytest.raises(NoticeError, match="nested too deeply"):
        check_drift(deep, notice())
    module = app(APP.replace("PURPOSES", BEFORE))
    assert main(["notice", "check", module, "--published", str(deep)]) == 2
    _, err = capsys.readouterr()
    assert err.startswith(f"purposeful: error: {deep}: its arrays or objects are nested")
    assert err.count("\n") == 1


def test_an_error_shows_a_path_with_terminal_escapes_as_escapes_on_one_line(
    app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(APP.replace("PURPOSES", BEFORE))
    hostile = tmp_path / "reg\x1b[2J\x1b]0;owned\x07\nister\u202e.json"
    assert main(["notice", "check", module, "--published", str(hostile)]) == 2
    _, err = capsys.readouterr()
    assert err.startswith("purposeful: error: cannot read the published register")
    assert "reg\\x1b[2J\\x1b]0;owned\\x07\\nister\\u202e.json" in err
    assert not any(ch in err for ch in "\x1b\x07\u202e")
    assert err.count("\n") == 1


def test_notice_check_shows_a_published_version_as_text_never_as_control_characters(
    app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(APP.replace("PURPOSES", BEFORE))
    out = tmp_path / "v1"
    assert main(["notice", "build", module, *AGENCY_ARGS, "--out", str(out)]) == 0
    register = json.loads((out / "register.json").read_text(encoding="utf-8"))
    register["notice_version"] = "v1\x1b[31m\u202e"
    (out / "register.json").write_text(json.dumps(register), encoding="utf-8")
    capsys.readouterr()
    assert main(["notice", "check", module, "--published", str(out / "register.json")]) == 0
    printed, _ = capsys.readouterr()
    assert "v1\\x1b[31m\\u202e" in printed
    assert "\x1b" not in printed


def test_notice_build_reads_agreements_from_toml(
    app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = app(APP.replace("PURPOSES", BEFORE))
    toml = tmp_path / "agreements.toml"
    toml.write_text(
        textwrap.dedent(
            """
            [[agreement]]
            id = "toml-referrals"
            name = "Referrals from the file"
            parties = ["Te Whare Āwhina", { name = "Kāinga Ora", address = "Wellington" }]
            purposes = ["service-delivery.referral"]
            basis = { kind = "information-sharing-agreement", name = "Referrals AISA" }
            starts = 2026-01-01
            expires = 2028-01-01
            review = 2027-01-01
            categories = ["contact"]
            """
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    arguments = ["notice", "build", module, *AGENCY_ARGS, "--agreements", str(toml)]
    assert main([*arguments, "--out", str(out)]) == 0
    capsys.readouterr()
    register = json.loads((out / "register.json").read_text(encoding="utf-8"))
    assert [a["id"] for a in register["agreements"]] == ["cli-referrals", "toml-referrals"]


def test_the_persons_authorisation_reads_as_yours() -> None:
    @purposeful.record(subject="client_id")
    class AuthorisedReferral:
        client_id: str
        name: str = purposeful.field(
            purposes={"service-delivery.referral": purposeful.AUTHORISED_BY_PERSON}
        )

    text = notice(records=[AuthorisedReferral], agreements=[]).to_markdown()
    assert "your authorisation (Privacy Act 2020, IPP 10(1)(c) and IPP 11(1)(c))" in text
    assert "the authorisation of the person it is about" not in text
