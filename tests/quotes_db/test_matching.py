"""The matcher, as a table of edits around the seed quote, and the speaker check."""

from __future__ import annotations

import gc
import random
from typing import NamedTuple

import pytest
from conftest import SEED_QUOTE

from quotes_db.lexicon import load as load_lexicon
from quotes_db.matching import prepare, verify
from quotes_db.models import VERDICTS, NewQuote, Speaker, Verification
from quotes_db.normalization import words
from quotes_db.speakers import name_tokens, speaker_agrees
from quotes_db.store import QuoteStore

SEED_REF = "seed:taliban-equipment-rally"
Q = SEED_QUOTE


class Case(NamedTuple):
    text: str
    verdict: str
    match: str | None = None  # matches[0].match; None when it is the verdict itself
    speaker: str | None = None
    quoted: str | None = None  # the part of the text the match spans; None: the whole text


TWEET = f'Wow. "{Q}" - Trump at a rally last week. Unbelievable! #news'
CASES = {
    "exact": Case(Q, "verified"),
    "exact-as-stored": Case(Q.replace("'", "’"), "verified"),  # curly apostrophes
    "shouted": Case(
        Q.upper().replace("'", "’") + "!!!", "verified", quoted=Q.upper().replace("'", "’")
    ),
    "noisy": Case(  # hyphenation across a line break, soft hyphen, zero-width space
        Q.replace("going", "go-\ning", 1)
        .replace("billions", "bil\u00adlions")
        .replace("dollars", "dol\u200blars"),
        "verified",
    ),
    "in-a-post": Case(TWEET, "verified", quoted=Q),
    "as-x-said": Case(f"As Trump said at the rally: {Q}.", "verified", quoted=Q),
    "typo": Case(Q.replace("billions", "bilions"), "verified"),
    "fragment": Case("tell them we're not going to give them the money", "fragment"),
    "fragment-head": Case(
        "If we're going to pay billions of dollars a year, tell them we're not going to give "
        "them the money",
        "fragment",
    ),
    "ellipsis": Case(
        "If we're going to pay billions of dollars a year ... give back our military equipment",
        "fragment",
    ),
    "ellipsis-char": Case(
        "If we’re going to pay billions of dollars a year … give back our military equipment",
        "fragment",
    ),
    "ellipsis-brackets": Case(
        "If we're going to pay billions of dollars a year [...] give back our military equipment",
        "fragment",
    ),
    "millions": Case(Q.replace("billions", "millions"), "altered"),  # a real word, not a typo
    "substitution": Case(Q.replace("dollars", "euros"), "altered"),
    "number-word": Case(Q.replace("billions", "hundreds"), "altered"),
    "not-removed": Case(Q.replace("we're not going", "we're going"), "altered"),
    "words-changed": Case(Q.replace("we're not", "we are not"), "altered"),
    "clause-swapped": Case(
        "Tell them we're not going to give them the money unless they give back our military "
        "equipment, if we're going to pay billions of dollars a year",
        "altered",
    ),
    "words-cut": Case(Q.replace("tell them ", ""), "altered"),
    # 12 of the quote's 27 words silently cut from the middle: every word shown is genuine
    "clause-cut": Case(
        "If we're going to pay billions of dollars a year, give back our military equipment",
        "altered",
    ),
    "cut-and-changed": Case("Tell them we're going to give them the money", "altered"),
    "altered-in-a-post": Case(
        f"Unbelievable. He said {Q.replace('dollars', 'euros')} and everyone cheered.",
        "altered",
        quoted=Q.replace("dollars", "euros"),
    ),
    "biden": Case(Q, "misattributed", "verified", speaker="Joe Biden"),
    "biden-fragment": Case(
        "tell them we're not going to give them the money", "misattributed", "fragment", "Biden"
    ),
    "biden-altered": Case(
        Q.replace("dollars", "euros"), "misattributed", "altered", "President Biden"
    ),
    "trump": Case(Q, "verified", speaker="Trump"),
    "president-trump": Case(Q, "verified", speaker="President Trump"),
    "former-president": Case(Q, "verified", speaker="former U.S. President Donald Trump"),
    # the seed file records "Donald J. Trump" as his alias
    "middle-initial": Case(Q, "verified", speaker="former U.S. President Donald J. Trump"),
    "odd-spacing": Case(Q, "verified", speaker="donald  TRUMP"),
    "unrelated": Case("The Taliban will return all equipment next week.", "no_match"),
    "same-vocabulary": Case("Taliban military equipment money billions", "no_match"),
    "empty": Case("", "no_match"),
    "punctuation-only": Case("... !!! “”", "no_match"),
}


def _check_span(text: str, result: Verification, case: Case) -> None:
    match = result.matches[0]
    start, end = match.text_span
    expected = case.quoted if case.quoted is not None else text.strip(" !.")
    assert text[start:end] == expected
    q_start, q_end = match.quote_span
    assert 0 <= q_start < q_end <= len(match.quote.text)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_verify_seed_quote(seeded_store: QuoteStore, case: Case) -> None:
    result = verify(seeded_store, case.text, speaker=case.speaker)
    assert result.verdict == case.verdict, result.summary
    assert result.verdict in VERDICTS
    assert 0.0 <= result.confidence <= 1.0
    assert result.summary
    if case.verdict == "no_match":
        assert result.matches == ()
        assert result.attribution.recorded is None
        return
    match = result.matches[0]
    assert match.quote.ref == SEED_REF
    assert match.match == (case.match or case.verdict)
    assert 0.0 <= match.similarity <= 1.0
    assert result.attribution.recorded == "Donald Trump"
    if case.speaker is None:
        assert result.attribution.agrees is None
    else:
        assert result.attribution.claimed == case.speaker
        assert result.attribution.agrees is (case.verdict != "misattributed")
    _check_span(case.text, result, case)


def test_substitution_is_a_replace_diff_op(seeded_store: QuoteStore) -> None:
    result = verify(seeded_store, Q.replace("dollars", "euros"))
    changes = [d for d in result.matches[0].diff if d.op != "equal"]
    assert [(d.op, d.original, d.submitted) for d in changes] == [("replace", "dollars", "euros")]


def test_millions_for_billions_is_a_replace_diff_op(seeded_store: QuoteStore) -> None:
    result = verify(seeded_store, Q.replace("billions", "millions"))
    changes = [d for d in result.matches[0].diff if d.op != "equal"]
    assert [(d.op, d.original, d.submitted) for d in changes] == [
        ("replace", "billions", "millions")
    ]


def test_removed_not_is_a_delete_diff_op(seeded_store: QuoteStore) -> None:
    result = verify(seeded_store, Q.replace("we're not going", "we're going"))
    changes = [d for d in result.matches[0].diff if d.op != "equal"]
    assert [(d.op, d.original, d.submitted) for d in changes] == [("delete", "not", "")]


def test_diff_of_a_verified_quote_is_all_equal(seeded_store: QuoteStore) -> None:
    result = verify(seeded_store, TWEET)
    assert {d.op for d in result.matches[0].diff} == {"equal"}


def test_fragment_diff_and_spans(seeded_store: QuoteStore) -> None:
    text = "tell them we're not going to give them the money"
    match = verify(seeded_store, text).matches[0]
    start, end = match.quote_span
    assert words(match.quote.text[start:end]) == words(text)
    deleted = [d.original for d in match.diff if d.op == "delete"]
    assert deleted == [
        "If we’re going to pay billions of dollars a year",
        "unless they give back our military equipment",
    ]


def test_limit_caps_matches(seeded_store: QuoteStore) -> None:
    assert len(verify(seeded_store, Q, limit=1).matches) == 1
    assert len(verify(seeded_store, Q, limit=5).matches) <= 5


@pytest.mark.parametrize("claimed", ["Donald Trump", "Someone Repeating Trump"])
def test_a_tie_goes_to_the_claimed_speaker(seeded_store: QuoteStore, claimed: str) -> None:
    # the same words recorded for two speakers: crediting either is not a misattribution
    seeded_store.add_quote(NewQuote(text=Q, speaker="Someone Repeating Trump"))
    result = verify(seeded_store, Q, speaker=claimed)
    assert result.verdict == "verified"
    assert result.attribution.agrees is True
    assert result.attribution.recorded == claimed
    assert result.matches[0].quote.speaker.name == claimed


# the speaker check -------------------------------------------------------------------------

TRUMP = Speaker(1, "Donald Trump", ("Donald J. Trump",))
LINCOLN = Speaker(2, "Abraham Lincoln", ("Honest Abe",))
BUSH = Speaker(3, "George W. Bush")
MARTI = Speaker(4, "José Martí")
CHURCHILL = Speaker(5, "Winston Churchill")
PUTIN = Speaker(6, "Vladimir Putin")
CURIE = Speaker(7, "Marie Curie")


@pytest.mark.parametrize(
    ("claimed", "speaker", "agrees"),
    [
        ("Donald Trump", TRUMP, True),
        ("donald  TRUMP", TRUMP, True),  # any case and spacing
        ("Donald J. Trump", TRUMP, True),  # an alias
        ("DONALD J TRUMP", TRUMP, True),  # ...without its period
        ("Trump", TRUMP, True),  # the surname alone
        ("President Trump", TRUMP, True),  # with a title
        ("former U.S. President Donald Trump", TRUMP, True),
        ("Mr. Trump", TRUMP, True),
        ("D. Trump", TRUMP, True),  # an initial of the recorded name
        ("Biden", TRUMP, False),
        ("Joe Biden", TRUMP, False),
        ("President Biden", TRUMP, False),
        ("Ivanka Trump", TRUMP, False),  # the surname, but another first name
        ("Donald", TRUMP, False),  # a first name alone is not enough
        ("President", TRUMP, False),  # a title alone
        ("Trump Tower", TRUMP, False),
        ("", TRUMP, False),
        ("   ", TRUMP, False),
        ("Honest Abe", LINCOLN, True),
        ("President Lincoln", LINCOLN, True),
        ("abraham lincoln", LINCOLN, True),
        ("Mary Todd Lincoln", LINCOLN, False),
        ("George Bush", BUSH, True),  # a middle initial may be left out
        ("President George W. Bush", BUSH, True),
        ("George H. W. Bush", BUSH, False),  # another initial: another person
        ("Jose Marti", MARTI, True),  # accents are not a difference
        ("JOSÉ MARTÍ", MARTI, True),
        ("Donald Trump Jr.", TRUMP, False),  # the son is not the father
        # titles and offices of other countries and callings, and honours after a name
        ("Prime Minister Churchill", CHURCHILL, True),
        ("The Rt Hon Sir Winston Churchill", CHURCHILL, True),
        ("Winston Churchill MP", CHURCHILL, True),
        ("Sir Winston Churchill KG OM", CHURCHILL, True),
        ("British Prime Minister Winston Churchill", CHURCHILL, True),
        ("Randolph Churchill", CHURCHILL, False),
        ("Russian President Putin", PUTIN, True),
        ("then-Foreign Minister Putin", PUTIN, True),
        ("Ambassador Putin", PUTIN, True),
        ("Vladimir Putin Jr.", PUTIN, False),
        ("Marie Curie PhD", CURIE, True),
        ("physicist Marie Curie", CURIE, True),
        ("Pierre Curie", CURIE, False),
    ],
)
def test_speaker_agrees(claimed: str, speaker: Speaker, agrees: bool) -> None:
    assert speaker_agrees(claimed, speaker) is agrees


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("Donald J. Trump", ["donald", "j", "trump"]),
        ("  José   MARTÍ ", ["jose", "marti"]),
        ("Martin Luther King Jr.", ["martin", "luther", "king"]),
        ("Beto O’Rourke", ["beto", "orourke"]),
        ("", []),
    ],
)
def test_name_tokens(name: str, tokens: list[str]) -> None:
    assert name_tokens(name) == tokens


def test_a_misspelt_rare_word_still_finds_its_quote(store: QuoteStore) -> None:
    # the quote's one rare word is misspelt, and 80 older quotes share all its other
    # words: only the stored word nearest in spelling can single the quote out
    store.import_quotes(
        [NewQuote(f"The people will remember this day, part {i}.", "X") for i in range(80)]
        + [NewQuote("The people will remember this photosynthesis day.", "Ada Lovelace")]
    )
    result = verify(store, "The people will remember this photosynthezis day.")
    assert result.verdict == "verified"
    assert result.matches[0].quote.speaker.name == "Ada Lovelace"


def test_a_quoted_passage_does_not_narrow_a_whole_quote(store: QuoteStore) -> None:
    # the whole quote is submitted with one number changed; five other quotes hold its
    # quoted passage word for word, which alone would make them look like better matches
    whole = (
        'In my message of the 5th of August, 1846, I recommended to Congress that "provision '
        'should be made by law, at the earliest practicable period, for a government."'
    )
    passage = (
        "provision should be made by law, at the earliest practicable period, for a government"
    )
    store.import_quotes(
        [NewQuote(f"Plainly {passage}, said speaker {i}.", f"S{i}") for i in range(5)]
        + [NewQuote(whole, "James K. Polk")]
    )
    result = verify(store, whole.replace("1846", "1849"))
    assert result.verdict == "altered"
    assert result.matches[0].quote.speaker.name == "James K. Polk"
    changed = [op for op in result.matches[0].diff if op.op != "equal"]
    assert [(op.op, op.original, op.submitted) for op in changed] == [("replace", "1846", "1849")]


def test_a_quote_at_the_end_of_a_long_text_is_found_there(seeded_store: QuoteStore) -> None:
    # 600 words made of the other seed quotes' words, then the altered seed quote without
    # quotation marks: every chunk of the text finds the seed quote (the store is small),
    # and it must be ranked against the chunk that holds it, not the first one
    others = [q for q in seeded_store.list_quotes(limit=100).items if q.ref != SEED_REF]
    filler = [w for q in others for w in q.text.replace('"', "").split()]
    random.Random(1).shuffle(filler)
    altered = Q.replace("billions", "millions")
    text = " ".join(filler[:600]) + f". Then he said: {altered}. The crowd cheered."
    result = verify(seeded_store, text)
    assert result.verdict == "altered"
    assert result.matches[0].quote.ref == SEED_REF
    changed = [op for op in result.matches[0].diff if op.op != "equal"]
    assert [(op.op, op.original, op.submitted) for op in changed] == [
        ("replace", "billions", "millions")
    ]


def test_two_clauses_of_about_equal_length_swapped_are_a_move(store: QuoteStore) -> None:
    # Levenshtein reads "Y, X" for "X, Y" with X and Y of about equal length as a run of
    # replacements; it is the quote with a clause moved, not a text we know nothing of
    said = (
        "When the rivers rose across the northern valleys last spring, the farmers of "
        "this nation stood together and rebuilt their towns."
    )
    store.import_quotes([NewQuote(said, "Ada Lovelace"), NewQuote("The harbour is open.", "X")])
    swapped = (
        "The farmers of this nation stood together and rebuilt their towns, when the "
        "rivers rose across the northern valleys last spring."
    )
    result = verify(store, swapped)
    assert result.verdict == "altered"
    assert result.matches[0].quote.speaker.name == "Ada Lovelace"
    assert "moved" in result.summary
    diff = result.matches[0].diff
    assert sorted(op.op for op in diff) == ["delete", "equal", "insert"]
    (deleted,) = [op.original for op in diff if op.op == "delete"]
    (inserted,) = [op.submitted for op in diff if op.op == "insert"]
    assert words(deleted) == words(inserted)  # the same clause, at the other end


@pytest.mark.parametrize(
    ("said", "submitted", "left_out"),
    [
        # Levenshtein matches the first "you" and "had", leaving a word stranded before
        # each of two gaps; the gaps join and slide to the start: a plain fragment
        (
            "You see, we who had trusted you had simply grown so tired that we let the "
            "garden go to seed.",
            "you had simply grown so tired that we let the garden go to",
            ["you see we who had trusted", "seed"],
        ),
        # the words left out can be "to the farmers and" (where the ellipsis stands) as
        # well as "farmers and to the" (where it does not): the ellipsis decides
        (
            "We can be fair to the farmers and to the families of this country.",
            "We can be fair … to the families of this country.",
            ["to the farmers and"],
        ),
    ],
)
def test_a_fragment_is_aligned_where_its_words_were_left_out(
    store: QuoteStore, said: str, submitted: str, left_out: list[str]
) -> None:
    store.import_quotes([NewQuote(said, "Ada Lovelace"), NewQuote("The harbour is open.", "X")])
    result = verify(store, submitted)
    assert result.verdict == "fragment", result.summary
    diff = result.matches[0].diff
    assert [" ".join(words(op.original)) for op in diff if op.op == "delete"] == left_out
    assert [op.op for op in diff if op.op not in ("equal", "delete")] == []


def test_prepare_takes_the_word_list_out_of_the_collectors_sight() -> None:
    # a full collection walking half a million words added 60-190 ms to the request it
    # happened in; after prepare() it does not walk them
    prepare()
    lexicon = load_lexicon()
    assert gc.get_freeze_count() > 0
    assert not any(o is lexicon for o in gc.get_objects())
