"""The notice's "who may see what" section: the answers `may_use` gives, per field, purpose
and role; escaped in HTML and Markdown like every other text; absent without roles, and then
the notice (and its version) is as it was."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _asking import AskVisit
from hypothesis import given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import IN_CONFIDENCE, RESTRICTED, SENSITIVE
from purposeful.cli import main
from purposeful.errors import ConfigurationError
from purposeful.notices import AgencyDetails, NoticeWording, build_notice

AGENCY = AgencyDetails(name="Te Whare Āwhina", email="privacy@tewhareawhina.example.nz")
ROLES = {"caseworker": SENSITIVE, "analyst": IN_CONFIDENCE, "manager": RESTRICTED}


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "main", "section", "footer",
    "h1", "h2", "h3", "p", "span", "table", "caption", "thead", "tbody", "tr", "th", "td",
    "dl", "dt", "dd", "ul", "li",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"lang", "charset", "name", "content", "http-equiv", "scope"}


def _section(markdown: str) -> list[str]:
    start = markdown.index("## Who may see what")
    end = markdown.index("\n## ", start + 1)
    return markdown[start:end].splitlines()


def test_the_section_says_what_may_use_answers_for_every_field_purpose_and_role() -> None:
    notice = build_notice(agency=AGENCY, records=[AskVisit], roles=ROLES)
    lines = _section(notice.to_markdown())
    assert "| Information | Used for | caseworker | analyst | manager |" in lines
    answers = {
        (a.field, a.purpose.id, a.role): a.verdict
        for a in purposeful.asking.who_may_see(AskVisit, roles=ROLES)
    }
    said = {"yes": "Yes", "no": "No", "would-deny": "No", "with-consent": "With your consent"}
    said["with-justification"] = "Only with a recorded reason"
    policy = purposeful.record_policy(AskVisit)
    rows = 0
    for name, field in policy.fields.items():
        for purpose, _ in field.purposes.values():
            cells = [said[answers[(name, purpose.id, role)].value] for role in ROLES]
            label = name.replace("_", " ").capitalize()
            assert f"| {label} | {purpose.title} | {' | '.join(cells)} |" in lines
            rows += 1
    assert rows == 8
    assert "| Address | Service delivery | No | No | Yes |" in lines


def test_without_roles_there_is_no_section_and_the_version_is_unchanged() -> None:
    plain = build_notice(agency=AGENCY, records=[AskVisit])
    assert "Who may see what" not in plain.to_markdown()
    with_roles = build_notice(agency=AGENCY, records=[AskVisit], roles=ROLES)
    assert with_roles.version != plain.version  # what it says changed
    assert build_notice(agency=AGENCY, records=[AskVisit], roles=None).version == plain.version


def test_the_agency_rewords_the_section_through_phrases() -> None:
    wording = NoticeWording(phrases={"Who may see what": "Ko wai ka kite", "Yes": "Āe"})
    notice = build_notice(agency=AGENCY, records=[AskVisit], roles=ROLES, wording=wording)
    page = notice.to_html()
    assert "<h2>Ko wai ka kite</h2>" in page
    assert "<td>Āe</td>" in page


@pytest.mark.parametrize("roles", [{"": SENSITIVE}, {"caseworker": "SENSITIVE"}, ["caseworker"]])
def test_roles_must_be_each_role_with_its_level(roles: object) -> None:
    with pytest.raises(ConfigurationError, match="each role with its clearance"):
        build_notice(agency=AGENCY, records=[AskVisit], roles=roles)  # type: ignore[arg-type]


MARKUP = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "[click](javascript:alert(1))",
        "| cell |",
        "<!-- comment -->",
    ]
)


@settings(max_examples=30)
@given(role=st.builds(lambda a, m: a + m, st.sampled_from(["case", "team ", "x"]), MARKUP))
def test_a_role_with_markup_is_text_in_the_page_and_the_markdown(role: str) -> None:
    notice = build_notice(agency=AGENCY, records=[AskVisit], roles={role: SENSITIVE})
    page = notice.to_html()
    markup = _Markup()
    markup.feed(page)
    assert markup.tags <= ALLOWED_TAGS
    assert markup.attributes <= ALLOWED_ATTRIBUTES
    assert f'<th scope="col">{html.escape(role)}</th>' in page
    assert role not in notice.to_markdown()  # escaped there too


def test_notice_build_takes_roles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["notice", "build", "_asking", "--agency-name", "Te Whare Āwhina"]
    argv += ["--agency-email", "privacy@example.nz", "--out", str(tmp_path)]
    assert main([*argv, "--role", "caseworker=SENSITIVE", "--role", "manager=restricted"]) == 0
    text = (tmp_path / "notice.md").read_text(encoding="utf-8")
    assert "| Information | Used for | caseworker | manager |" in text
    assert main([*argv, "--role", "caseworker=NOPE"]) == 2
    assert "has no level 'NOPE'" in capsys.readouterr().err
