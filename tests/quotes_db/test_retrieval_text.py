"""Any text at all reaches the word index and the matcher safely: nothing is query syntax."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quotes_db.matching import verify
from quotes_db.models import VERDICTS
from quotes_db.normalization import words
from quotes_db.seeding import load_seeds
from quotes_db.store import QuoteStore, open_store

FTS5_SYNTAX = [
    "NEAR(",
    "NEAR(a b, 2)",
    '"',
    '""',
    "*",
    "^",
    "-",
    "+",
    "AND",
    "OR",
    "NOT",
    ":",
    "norm:",
    "{norm}:",
    "(",
    ")",
    "'",
    ".",
    "a.b",
    "1.5",
    "\x00",
]

# every Unicode plane, and texts built from FTS5 operators, quote marks and words
texts = (
    st.text()
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
    | st.lists(
        st.sampled_from(FTS5_SYNTAX) | st.sampled_from(["billions", "equipment", "the", "we’re"]),
        max_size=12,
    ).map(" ".join)
    | st.lists(st.sampled_from(FTS5_SYNTAX), max_size=8).map("".join)
)
# pieces of the seed quote inside arbitrary text, to reach the aligner and not just the index
SEED = (
    "If we’re going to pay billions of dollars a year, tell them we’re not going to give them "
    "the money unless they give back our military equipment"
)
seeded_texts = st.builds(
    lambda noise, start, end, tail: noise + SEED[start:end] + tail,
    texts,
    st.integers(0, len(SEED)),
    st.integers(0, len(SEED)),
    texts,
)
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
EXAMPLES = [
    'NEAR("billions" "dollars", 2)',
    "billions* AND ^military OR -equipment",
    'norm: "give back',
    "{norm}: money",
    "tell them\x00 we're",
    "1.5 a.b . .. ...",
    "",
]


@pytest.fixture(scope="module")
def fts_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuoteStore]:
    """One seeded store for the whole module: these tests only read."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('fts') / 'quotes.db'}")
    store.migrate()
    load_seeds(store)
    yield store
    store.close()


def _with_examples(test, **extra):
    for text in EXAMPLES:
        test = example(text=text, **extra)(test)
    return test


@SETTINGS
@given(text=texts)
@_with_examples
def test_candidates_never_raise(fts_store: QuoteStore, text: str) -> None:
    found = fts_store.candidates(words(text), limit=50)
    assert len(found) <= 50


@SETTINGS
@given(text=texts)
@_with_examples
def test_list_quotes_never_raises(fts_store: QuoteStore, text: str) -> None:
    page = fts_store.list_quotes(text=text, limit=5)
    assert page.total >= len(page.items)


@SETTINGS
@given(text=texts | seeded_texts, speaker=st.none() | texts)
@example(text="If we're going to pay billions of dollars a year", speaker='NEAR("Trump"')
@functools.partial(_with_examples, speaker=None)
def test_verify_never_raises(fts_store: QuoteStore, text: str, speaker: str | None) -> None:
    result = verify(fts_store, text, speaker=speaker)
    assert result.verdict in VERDICTS
    assert 0.0 <= result.confidence <= 1.0
    for match in result.matches:
        assert 0 <= match.text_span[0] <= match.text_span[1] <= len(text)
        assert 0 <= match.quote_span[0] <= match.quote_span[1] <= len(match.quote.text)


def test_operators_are_literal_words(fts_store: QuoteStore) -> None:
    # "AND"/"OR" in a search are words to find, not operators joining the others
    assert fts_store.list_quotes(text="billions OR lincoln").total == 0
    assert fts_store.list_quotes(text="billions AND dollars").total == 0
    assert fts_store.list_quotes(text="billions dollars").total == 1
