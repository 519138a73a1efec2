"""A page's language, and its greeting's, must be a language tag a screen reader can use:
the wording of the subject-access page and of the notice refuses anything else when it is
made, and a page in another language passes the accessibility audit."""

from __future__ import annotations

from datetime import date

import _pages
import pytest
from _axe import assert_accessible, require
from hypothesis import given
from hypothesis import strategies as st

from purposeful._shared.language import is_language_tag
from purposeful.access import AgencyDetails
from purposeful.access.page import Page, Wording, render_page
from purposeful.errors import ConfigurationError
from purposeful.notices import NoticeWording, build_notice

GOOD = ["en", "en-NZ", "mi", "mi-NZ", "sm", "to", "zh-Hant-TW", "sr-Latn-RS", "es-419", "EN-nz"]
BAD = ["English", "Māori", "en_NZ", "en NZ", "", "e", "en-", "-en", "mi\n", "x-klingon", "en--NZ"]

ALPHA = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=1)


def letters(low: int, high: int) -> st.SearchStrategy[str]:
    return st.lists(ALPHA, min_size=low, max_size=high).map("".join)


TAGS = st.builds(
    lambda language, script, region: language + script + region,
    letters(2, 3),
    st.one_of(st.just(""), letters(4, 4).map("-".__add__)),
    st.one_of(
        st.just(""),
        letters(2, 2).map("-".__add__),
        st.integers(100, 999).map(lambda n: f"-{n}"),
    ),
)


@pytest.mark.parametrize("tag", GOOD)
def test_well_formed_tags_are_accepted_by_both_wordings(tag: str) -> None:
    assert Wording(lang=tag, greeting_lang=tag).lang == tag
    assert NoticeWording(lang=tag, greeting_lang=tag).greeting_lang == tag


@pytest.mark.parametrize("tag", BAD)
@pytest.mark.parametrize("attribute", ["lang", "greeting_lang"])
@pytest.mark.parametrize("wording", [Wording, NoticeWording])
def test_anything_else_is_refused_saying_what_a_tag_looks_like(
    wording: type[Wording] | type[NoticeWording], attribute: str, tag: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        wording(**{attribute: tag})
    message = str(refused.value)
    assert message.startswith(f"{wording.__name__}.{attribute} must be a language tag (BCP 47)")
    assert "'en-NZ'" in message
    assert "screen readers" in message


@given(TAGS)
def test_language_script_and_region_make_a_tag(tag: str) -> None:
    assert is_language_tag(tag)


@given(st.text(max_size=12))
def test_a_tag_is_ascii_letters_digits_and_hyphens_only(text: str) -> None:
    if is_language_tag(text):
        assert text.isascii()
        assert set(text) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
        assert not text.startswith("-")
        assert not text.endswith("-")
        assert "--" not in text


@pytest.mark.parametrize("value", [None, 3, b"en"])
def test_only_text_can_be_a_tag(value: object) -> None:
    assert not is_language_tag(value)


def test_a_page_and_a_notice_wholly_in_te_reo_maori_pass_the_audit() -> None:
    require()
    agency = AgencyDetails(name="Te Puna Tautoko", email="privacy@tepunatautoko.example.nz")
    wording = Wording(lang="mi", title="Ō pārongo kei a {agency}")
    page = Page(
        agency=agency,
        wording=wording,
        request_id="SAR-2026-0110",
        received=date(2026, 3, 2),
        due=date(2026, 3, 30),
        holdings=[],
        consents=None,
        disclosures=None,
        corrections=None,
        withheld=None,
        access=None,
        access_complete=True,
        files=["records.json"],
    )
    assert '<html lang="mi">' in render_page(page)
    assert_accessible(render_page(page), "subject-access page in te reo Māori")
    notice = build_notice(
        agency=agency, records=_pages.RECORDS, wording=NoticeWording(lang="mi")
    ).to_html()
    assert_accessible(notice, "privacy notice in te reo Māori")
