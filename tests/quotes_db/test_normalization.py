"""The normaliser: which differences comparison ignores, and spans into the original text."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from quotes_db.normalization import normalize, words

# (submitted, expected words): each row is one difference that comparison must ignore
IGNORED = [
    # Unicode form (NFKC)
    ("ﬁne ﬂow", ["fine", "flow"]),  # ligatures
    ("ＦＵＬＬ width", ["full", "width"]),
    ("cafe\u0301", ["café"]),  # combining accent composes with its letter
    ("café", ["café"]),
    # case
    ("Hello WORLD", ["hello", "world"]),
    ("STRASSE Straße", ["strasse", "strasse"]),  # casefold, not lower
    # quote marks, curly and straight
    ("we’re", ["were"]),
    ("we're", ["were"]),
    ("we‘re we`re", ["were", "were"]),
    ("we´re", ["were"]),  # an acute accent typed as an apostrophe
    ('“quoted” "quoted" «quoted» „quoted“', ["quoted"] * 4),
    ("'single' ‘single’", ["single", "single"]),
    # dashes and punctuation between words
    ("yes — no – maybe - so", ["yes", "no", "maybe", "so"]),
    ("well-known well\u2010known well\u2011known", ["wellknown"] * 3),  # hyphen variants
    ("Stop. Now! Really? (yes); [no]: {maybe}", ["stop", "now", "really", "yes", "no", "maybe"]),
    # soft hyphen and zero-width characters
    ("imp\u00adorts", ["imports"]),
    ("imp\u200borts imp\u200corts imp\u200dorts imp\u2060orts", ["imports"] * 4),
    ("\ufeffimports", ["imports"]),  # byte-order mark
    # hyphenation across a line break
    ("imp-\norts", ["imports"]),
    ("imp-\r\norts", ["imports"]),
    ("imp- \n  orts", ["imports"]),
    # whitespace and line breaks
    ("hello\u00a0world", ["hello", "world"]),  # NBSP
    ("hello\u202fworld\u2009again", ["hello", "world", "again"]),  # narrow and thin spaces
    ("  hello\n\tworld\r\n", ["hello", "world"]),
    # numbers keep their separators' meaning
    ("$1,000,000 and 3.5%", ["1000000", "and", "3.5"]),
    ("", []),
    ("... !!! --", []),
]


@pytest.mark.parametrize(("text", "expected"), IGNORED)
def test_words_ignore(text: str, expected: list[str]) -> None:
    assert words(text) == expected
    assert normalize(text).words == tuple(expected)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("If we’re going to pay billions", "if were going to pay BILLIONS"),
        ("“Tell them,” he said—", "tell them he said"),
        ("the mon\u00adey un-\nless", "the money unless"),
    ],
)
def test_variants_compare_equal(a: str, b: str) -> None:
    assert words(a) == words(b)


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("Hello, “world”!", [(0, 5), (8, 13)]),
        ("we’re here", [(0, 5), (6, 10)]),
        ("imp-\norts now", [(0, 9), (10, 13)]),  # the span covers the line break
        ("imp\u00adorts now", [(0, 8), (9, 12)]),  # ...and the soft hyphen
        ("\u200bzero width", [(1, 5), (6, 11)]),  # a leading invisible is outside the span
        ("ﬁne day", [(0, 3), (4, 7)]),  # a ligature expands but its span does not
        ("cafe\u0301 au lait", [(0, 5), (6, 8), (9, 13)]),
        ("a\u00a0b", [(0, 1), (2, 3)]),
    ],
)
def test_spans_point_at_the_original_text(text: str, spans: list[tuple[int, int]]) -> None:
    tokens = normalize(text).tokens
    assert [(t.start, t.end) for t in tokens] == spans
    for token in tokens:
        assert words(text[token.start : token.end]) == [token.norm]


def test_span_of_a_token_range() -> None:
    text = "He said: “tell them we’re not going” and left."
    n = normalize(text)
    start, end = n.span(2, 6)
    assert text[start:end] == "tell them we’re not going"


@pytest.mark.parametrize(
    ("text", "ellipsis_at"),
    [
        ("one ... two", [1]),
        ("one…two", [1]),
        ("one [...] two", [1]),
        ("one [\u2026] two", [1]),
        ("one. . . two", [1]),
        ("... one two", [0]),
        ("one two …", [2]),
        ("one. two", []),  # a full stop is not an ellipsis
    ],
)
def test_ellipses_are_recorded_between_tokens(text: str, ellipsis_at: list[int]) -> None:
    n = normalize(text)
    assert len(n.ellipsis_before) == len(n.tokens) + 1
    assert [i for i, e in enumerate(n.ellipsis_before) if e] == ellipsis_at


def test_quotation_marks_are_recorded_between_tokens() -> None:
    n = normalize("He said “tell them” today")
    assert [i for i, q in enumerate(n.quote_before) if q] == [2, 4]


# properties ----------------------------------------------------------------------------------

# every Unicode plane, plus the characters the normaliser treats specially
SPECIAL = "'’‘`´\"“”«»-‐‑–—…. ,\u00ad\u200b\u200d\u2060\ufeff\u00a0\n\r\t0123456789aAßﬁ½"
texts = st.text() | st.text(alphabet=st.sampled_from(SPECIAL) | st.characters(), max_size=60)


@settings(max_examples=300, deadline=None)
@given(texts)
@example("imp-\norts")
@example("1,000.5")
@example("x\u0301\u0301'-\n'y")
def test_normalize_and_words_agree(text: str) -> None:
    assert normalize(text).words == tuple(words(text))


@settings(max_examples=300, deadline=None)
@given(texts)
@example("ﬁne\u00adly we’re done")
@example("a\u0301\u200bb")
@example("¼")
def test_token_spans_lie_within_the_text_and_hold_the_token(text: str) -> None:
    n = normalize(text)
    previous_start = 0
    for token in n.tokens:
        assert 0 <= token.start < token.end <= len(text)
        assert token.start >= previous_start  # in order
        previous_start = token.start
        assert token.norm in words(text[token.start : token.end])


@settings(max_examples=300, deadline=None)
@given(texts)
@example("imp-\nor\u00adts we’re")
def test_a_token_span_normalises_back_to_the_token(text: str) -> None:
    tokens = normalize(text).tokens
    for i, token in enumerate(tokens):
        # a character (with its combining marks) that expands into several words shares its
        # span among them: a documented limit of quotes_db.normalization
        overlaps = (i > 0 and tokens[i - 1].end > token.start) or (
            i + 1 < len(tokens) and tokens[i + 1].start < token.end
        )
        if not overlaps:
            assert words(text[token.start : token.end]) == [token.norm]


HANGUL_FILLERS = "\u3164\uffa0"


@settings(max_examples=300, deadline=None)
@given(texts)
@example("1,000")
@example("don't")
def test_normalisation_is_idempotent(text: str) -> None:
    once = words(text)
    assert words(" ".join(once)) == once
    assert all(once), "no empty words"


@pytest.mark.parametrize("filler", list(HANGUL_FILLERS))
def test_hangul_filler_is_not_a_word(filler: str) -> None:
    once = words(f"a {filler} b")
    assert once == ["a", "b"]
    assert words(" ".join(once)) == once
