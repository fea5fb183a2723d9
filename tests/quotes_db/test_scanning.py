"""scan_text: a page's quotations and the stored quotes it repeats without marks."""

from __future__ import annotations

import pytest

from quotes_db.scanning import find_unmarked, page_text, scan_text

MILLIONS = (
    "If we're going to pay millions of dollars a year, tell them we're not going to give "
    "them the money unless they give back our military equipment."
)
LINCOLN = (
    "four score and seven years ago our fathers brought forth on this continent, a new "
    "nation, conceived in Liberty, and dedicated to the proposition that all men are created "
    "equal"
)
PAGE = (
    "The weather was mild on Tuesday and the market opened late.\n"
    f'At a rally in Ohio, Joe Biden said: "{MILLIONS}" The crowd cheered.\n'
    f"A columnist later wrote that {LINCOLN}. Nobody objected to that.\n"
    '"We will open the new bridge before the winter comes," said Mayor Alice Ferreira.\n'
)


def _by_kind(result, kind):
    return [f for f in result.findings if f.kind == kind]


def test_finds_the_quotation_and_the_unmarked_quote(seeded_store):
    result = scan_text(seeded_store, PAGE)
    assert result.text == PAGE
    starts = [f.start for f in result.findings]
    assert starts == sorted(starts)
    for f in result.findings:
        assert PAGE[f.start : f.end] == f.quote
    table = {(f.kind, f.quote.rstrip(".,")): f for f in result.findings}
    altered = table[("quotation", MILLIONS.rstrip("."))]
    assert altered.speaker == "Joe Biden"
    # the words are Trump's (altered), credited to Biden
    assert altered.verification.verdict == "misattributed"
    assert altered.verification.attribution.recorded == "Donald Trump"
    unmarked = table[("unmarked", LINCOLN)]
    assert unmarked.speaker is None
    assert unmarked.verification.verdict == "verified"
    assert unmarked.verification.attribution.recorded == "Abraham Lincoln"
    mayor = table[("quotation", "We will open the new bridge before the winter comes")]
    assert mayor.speaker == "Alice Ferreira"
    assert mayor.verification.verdict == "no_match"
    assert result.stats["quotations"] == 2
    assert result.stats["unmarked"] == 1
    assert result.stats["characters"] == len(PAGE)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        # the stored quote's own words, quoted and credited to no one: verified, not unmarked
        (f'"{MILLIONS.replace("millions", "billions")}" was heard at the rally.', "verified"),
        # the altered quote without a speaker is altered, not misattributed
        (f'The crowd heard "{MILLIONS}" at the rally.', "altered"),
    ],
)
def test_a_quoted_stored_quote_is_one_quotation_finding(seeded_store, text, verdict):
    result = scan_text(seeded_store, text)
    assert [(f.kind, f.speaker) for f in result.findings] == [("quotation", None)]
    assert result.findings[0].verification.verdict == verdict


def test_unmarked_span_leaves_out_the_pages_own_words(seeded_store):
    text = (
        "Later he added that ask not what your country can do for you, ask what you can do "
        "for your country, and left."
    )
    [finding] = scan_text(seeded_store, text).findings
    assert finding.kind == "unmarked"
    assert finding.quote == (
        "ask not what your country can do for you, ask what you can do for your country"
    )
    assert finding.verification.verdict == "fragment"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "Nothing here is a quote of anyone, only an ordinary sentence about the weather.",
    ],
)
def test_a_page_without_quotes_has_no_findings(seeded_store, text):
    result = scan_text(seeded_store, text)
    assert result.findings == ()
    assert find_unmarked(seeded_store, text) == []


def test_long_page_finds_the_quote_among_filler(seeded_store):
    filler = " ".join(f"Paragraph {i} talks about gardens, rivers and trains." for i in range(300))
    text = f"{filler} And then: {LINCOLN}. {filler}"
    result = scan_text(seeded_store, text)
    [finding] = result.findings
    assert finding.kind == "unmarked"
    assert text[finding.start : finding.end] == LINCOLN
    assert finding.verification.verdict == "verified"


def test_limit_and_pending_reach_each_verification(seeded_store):
    result = scan_text(seeded_store, PAGE, limit=2, include_pending=True)
    for f in result.findings:
        assert len(f.verification.matches) <= 2


def test_page_text_takes_the_main_text_of_html():
    html = (
        "<html><head><title>T</title></head><body><nav>Home | About</nav><article>"
        f"<p>At a rally in Ohio, Joe Biden said: &quot;{MILLIONS}&quot; The crowd cheered.</p>"
        "<p>The weather was mild on Tuesday and the market opened late.</p>"
        "</article></body></html>"
    )
    text = page_text(html, url="https://news.example/a")
    assert MILLIONS in text
    assert "<p>" not in text
    assert page_text("<html><body></body></html>") == ""
