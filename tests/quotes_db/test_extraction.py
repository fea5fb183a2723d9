"""Quote extraction and speaker attribution, as tables of small invented articles."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from quotes_db.extraction import ExtractedQuote, extract_quotes, resolve_names

SEED_ARTICLE = Path(__file__).resolve().parents[2] / "seeds" / "taliban-equipment-article.txt"


class Case(NamedTuple):
    text: str
    quotes: list[tuple[str, str | None]]  # (quotation text, speaker), in order


CASES = {
    # the cue after the quote
    "x said": Case(
        '"We will not raise taxes this year," Mayor Jane Doe said.',
        [("We will not raise taxes this year,", "Jane Doe")],
    ),
    "said x": Case(
        '"We will not raise taxes this year," said Mayor Jane Doe, who took office in May.',
        [("We will not raise taxes this year,", "Jane Doe")],
    ),
    "x, appositive, said": Case(
        '"This is a sad day for democracy," Rep. Nancy Pelosi, D-Calif., said Tuesday.',
        [("This is a sad day for democracy,", "Nancy Pelosi")],
    ),
    "x stated during": Case(
        '"The border is closed to new arrivals," Kim stated during his rally.',
        [("The border is closed to new arrivals,", "Kim")],
    ),
    # the cue before the quote
    "x said:": Case(
        'Sen. John Smith said: "The bill is dead on arrival in the Senate."',
        [("The bill is dead on arrival in the Senate.", "John Smith")],
    ),
    "x said that, fragment": Case(
        'Christie said jobs grew and that residents are "back to work now since I became'
        ' governor." Chris Christie is the governor.',
        [("back to work now since I became governor.", "Chris Christie")],
    ),
    "appositive and relative clause before the cue": Case(
        "Nune Phillips, a policy analyst at the Center for Law and Social Policy, which"
        ' advocates for low-income people, said: "Nobody here was ever eligible for it."',
        [("Nobody here was ever eligible for it.", "Nune Phillips")],
    ),
    "according to x, after": Case(
        '"The economy is strong and getting stronger," according to Treasury Secretary'
        " Janet Yellen.",
        [("The economy is strong and getting stronger,", "Janet Yellen")],
    ),
    "according to x, before": Case(
        'According to Janet Yellen, "the economy is strong and getting stronger."',
        [("the economy is strong and getting stronger.", "Janet Yellen")],
    ),
    "x told CNN": Case(
        'Governor Maria Lopez told CNN: "We are doing everything we can to help."',
        [("We are doing everything we can to help.", "Maria Lopez")],
    ),
    "x told the Associated Press": Case(
        '"We never expected this many people," organizer Sam Reed told The Associated Press.',
        [("We never expected this many people,", "Sam Reed")],
    ),
    "y quoted x as saying": Case(
        '"The foundation is a disgrace to everyone," the blog quoted Klaus Eberwein as saying.',
        [("The foundation is a disgrace to everyone,", "Klaus Eberwein")],
    ),
    "a party tag is not a name": Case(
        'Rep. Jim Jordan, R-Ohio, said, "The American people deserve answers on this."',
        [("The American people deserve answers on this.", "Jim Jordan")],
    ),
    "a role, then its holder's name": Case(
        '"The senator has always supported veterans," Collins\' spokeswoman, Annie Clark, said.',
        [("The senator has always supported veterans,", "Annie Clark")],
    ),
    "a possessive claim": Case(
        'President Joe Biden\u2019s claim that "inflation is at zero this month" is false.',
        [("inflation is at zero this month", "Joe Biden")],
    ),
    # the speaker named in the sentence before
    "speaker in previous sentence": Case(
        'Representative Adam Schiff left the hearing early. "This process is a sham from'
        ' start to finish."',
        [("This process is a sham from start to finish.", "Adam Schiff")],
    ),
    "continuation of the quote before": Case(
        '"Are you serious? My goodness," Larry Kilgore said, when we asked. "I guess we need'
        ' some more updated numbers." He had not checked.',
        [
            ("Are you serious? My goodness,", "Larry Kilgore"),
            ("I guess we need some more updated numbers.", "Larry Kilgore"),
        ],
    ),
    # pronouns
    "he said": Case(
        'Tom Hanks arrived late.\n"I was stuck in traffic for two hours," he said.',
        [("I was stuck in traffic for two hours,", "Tom Hanks")],
    ),
    "she said skips a man": Case(
        "Carla Smith said she had not heard from Bill Powell. Smith, who was angry, said the"
        ' flier was wrong about Robert Welsh. "He should check all of his information," she'
        " said.",
        [("He should check all of his information,", "Carla Smith")],
    ),
    "pronoun in the same sentence": Case(
        'When reporters asked Joe Biden about inflation, he said, "It is coming down, month'
        ' after month."',
        [("It is coming down, month after month.", "Joe Biden")],
    ),
    "it: an organisation": Case(
        'Greenpeace criticized the decision. "This is a disaster for the oceans," it said.',
        [("This is a disaster for the oceans,", "Greenpeace")],
    ),
    # one record per stretch of quotation
    "split quote is two records": Case(
        'Coach Dan Miller was defiant. "We will fight this decision," he said, "and we will'
        ' win in the end."',
        [
            ("We will fight this decision,", "Dan Miller"),
            ("and we will win in the end.", "Dan Miller"),
        ],
    ),
    "multi-paragraph quote": Case(
        'Governor Ann Richards spoke at length.\n"We have done a lot for this state. We built'
        ' roads.\n"But there is more to do, and we will do it together."',
        [
            ("We have done a lot for this state. We built roads.", "Ann Richards"),
            ("But there is more to do, and we will do it together.", "Ann Richards"),
        ],
    ),
    "nested single quotes belong to the quote": Case(
        "Dan Miller said: \u201cThey called it \u2018a total farce\u2019 and I agree with"
        " every word.\u201d",
        [("They called it \u2018a total farce\u2019 and I agree with every word.", "Dan Miller")],
    ),
    "curly quotes": Case(
        "\u201cIt\u2019s a great day for America,\u201d President Joe Biden said.",
        [("It\u2019s a great day for America,", "Joe Biden")],
    ),
    # not quotations
    "scare quotes and short terms": Case(
        'The "experts" were wrong about the "Global Laundromat" scandal again.', []
    ),
    "so-called label": Case('The so-called "war on the middle class" is a rallying cry.', []),
    "title of a work": Case('She is reading "The Old Man and the Sea" this week.', []),
    "title of a bill": Case('Congress passed the "Help America Vote Act of 2002" last year.', []),
    "story title after its date": Case(
        'The aide cited a Journal Sentinel story from Jan. 21, 2010, "Crime in Milwaukee'
        ' continues to decline." The article compared two years.',
        [],
    ),
    "nickname": Case('Critics dubbed it "the bridge to nowhere in Alaska."', []),
    "song title then a quote": Case(
        'With someone singing "99 Bottles of Beer," the House Majority PAC ad claims Walters'
        ' votes with the president "99 percent of the time."',
        [("99 percent of the time.", "House Majority PAC")],
    ),
    # unattributable: None, never a guess
    "unnamed spokeswoman": Case(
        'An unnamed spokeswoman said, "We have no comment on the matter at this time."',
        [("We have no comment on the matter at this time.", None)],
    ),
    "anonymous post": Case(
        'A post shared on Facebook claims "the vaccine contains microchips that track you."',
        [("the vaccine contains microchips that track you.", None)],
    ),
    "statute text": Case(
        'Section 4015 stated "a state agency shall be required to use a verification system."',
        [("a state agency shall be required to use a verification system.", None)],
    ),
    "asked by someone unnamed": Case(
        "At a town hall, Sen. Amy Klobuchar was asked by a member of the audience: \"Why can't"
        ' we have Medicare for All?"',
        [("Why can't we have Medicare for All?", None)],
    ),
    "a cue whose subject is nobody known": Case(
        '"We will win this election in a landslide," Trump said. The crowd chanted "four more'
        ' years, four more years."',
        [
            ("We will win this election in a landslide,", "Trump"),
            ("four more years, four more years.", None),
        ],
    ),
    # organisations and their material
    "a tweet to whoever tweeted it": Case(
        'Donald Trump tweeted on Jan. 5. "The Vice President has the power to reject electors,"'
        " the tweet said.",
        [("The Vice President has the power to reject electors,", "Donald Trump")],
    ),
    "a group's ad to the group": Case(
        'The Club for Growth released an ad. The ad says Smith "voted to raise taxes on working'
        ' families."',
        [("voted to raise taxes on working families.", "Club for Growth")],
    ),
    "a report to the body that issued it": Case(
        'A report from the Congressional Budget Office estimated that "the deficit will reach'
        ' $2 trillion next year."',
        [("the deficit will reach $2 trillion next year.", "Congressional Budget Office")],
    ),
    "campaign material to the candidate": Case(
        "Milwaukee Mayor Tom Barrett, a Democrat, on his campaign website highlights crime.\n"
        '"Violent crime has decreased by over 20 percent," the website reads.',
        [("Violent crime has decreased by over 20 percent,", "Tom Barrett")],
    ),
    "the e-mail: owner from its introduction": Case(
        "Or so says the advocacy group Public Citizen in a July 10, 2009, e-mail.\n"
        '"It is time to put an end to insider trading," the e-mail reads.',
        [("It is time to put an end to insider trading,", "Public Citizen")],
    ),
    "a repeated claim keeps its speaker": Case(
        '"Hugo Chavez secretly owns the voting company," the clickbait site Kwotable wrote.'
        '\nBloggers claimed that "Hugo Chavez secretly owns the voting company."',
        [
            ("Hugo Chavez secretly owns the voting company,", "Kwotable"),
            ("Hugo Chavez secretly owns the voting company.", "Kwotable"),
        ],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_extracts_and_attributes(case: Case) -> None:
    got = extract_quotes(case.text)
    assert [(q.text, q.speaker) for q in got] == case.quotes


# (text, speaker, speaker_mention, cue, context): the verbatim fields around the quote
DETAILS = [
    (
        '"I want to thank them all," Trump said in his introduction on Oct. 22 at the I-X'
        " Center, an exhibition hall. Donald Trump spoke for an hour.",
        "Donald Trump",
        "Trump",
        "said",
        "in his introduction on Oct. 22 at the I-X Center",
    ),
    (
        'In an e-mail, Phil Walzak said the campaign started there "because those are the'
        ' best figures we have."',
        "Phil Walzak",
        "Phil Walzak",
        "said",
        "In an e-mail",
    ),
    (
        '"We are not going back," Kamala Harris told CNN during a town hall in Iowa.',
        "Kamala Harris",
        "Kamala Harris",
        "told CNN",
        "during a town hall in Iowa",
    ),
    (
        '"Free speech is the bedrock of democracy," Elon Musk wrote in a tweet.',
        "Elon Musk",
        "Elon Musk",
        "wrote",
        "in a tweet",
    ),
    (
        'Christie said on New Jersey 101.5 FM\'s "Ask the Governor" program, "So I absolutely'
        ' believe the comeback has begun."',
        "Christie",
        "Christie",
        "said",
        'on New Jersey 101.5 FM\'s "Ask the Governor" program',
    ),
]


@pytest.mark.parametrize(("text", "speaker", "mention", "cue", "context"), DETAILS)
def test_mention_cue_and_context(
    text: str, speaker: str, mention: str, cue: str, context: str | None
) -> None:
    (quote,) = extract_quotes(text)
    assert (quote.speaker, quote.speaker_mention, quote.cue, quote.context) == (
        speaker,
        mention,
        cue,
        context,
    )


def test_names_resolve_to_the_fullest_form_with_aliases() -> None:
    text = (
        "The Taliban rejected the demand from former U.S. President Donald Trump on Monday.\n"
        '"Give back our equipment or lose the money," Trump said.'
    )
    (quote,) = extract_quotes(text)
    assert quote.speaker == "Donald Trump"
    assert quote.speaker_mention == "Trump"
    assert set(quote.aliases) == {"former U.S. President Donald Trump", "Trump"}
    names = resolve_names(text)
    assert names["Trump"] == names["former U.S. President Donald Trump"] == "Donald Trump"


@pytest.mark.parametrize(
    ("text", "full"),
    [
        ("Gen. David H. Berger spoke. Later, Berger left.", "David H. Berger"),
        ("Your News Wire ran it. YourNewsWire is a site.", "Your News Wire"),
        ("The Environmental Protection Agency (EPA) said so. The EPA agreed.", None),
        ("U.S. Sen. Amy Klobuchar of Minnesota spoke. Klobuchar smiled.", "Amy Klobuchar"),
        ("Senate Majority Leader Chuck Schumer, D-N.Y., spoke. Schumer left.", "Chuck Schumer"),
    ],
)
def test_resolve_names(text: str, full: str | None) -> None:
    names = resolve_names(text)
    if full is not None:
        assert set(names.values()) >= {full}
        short = full.split()[-1]
        assert names.get(short, full) == full
    else:
        assert names["EPA"] == "Environmental Protection Agency"


def test_a_junior_is_another_person() -> None:
    names = resolve_names("Donald Trump Jr. spoke first. Then Donald Trump spoke. Trump left.")
    assert names["Trump"] == "Donald Trump"
    assert names["Donald Trump Jr."] == "Donald Trump Jr."


def test_an_inch_mark_opens_no_quote() -> None:
    text = 'He bought a 55" TV. "We love watching the games on it," Smith said.'
    assert [(q.text, q.speaker) for q in extract_quotes(text)] == [
        ("We love watching the games on it,", "Smith")
    ]


def test_min_words_is_a_keyword_cut_off() -> None:
    text = 'Smith said "no way, never" and then "we will see about that," Smith said.'
    assert [q.text for q in extract_quotes(text)] == ["we will see about that,"]
    assert len(extract_quotes(text, min_words=3)) == 2


def test_fact_check_box_credits_the_box_speaker() -> None:
    text = (
        "Featured Fact-check\n\nJake Tapper\n\nstated on January 13, 2021 in remarks in a CNN"
        " broadcast\n\nThe impeachment of Donald Trump was \u201cthe most bipartisan"
        " impeachment in American history.\u201d\n\nBy Louis Jacobson \u2022 January 13, 2021\n"
        "\nFeatured Fact-check\n\nFacebook posts\n\nstated on January 23, 2021 in on social"
        " media\n\n\u201cBiden invested the entire family fortune in Ukraine gas and oil.\u201d"
        "\n\nBy Louis Jacobson \u2022 January 28, 2021\n"
    )
    first, second = extract_quotes(text)
    assert (first.speaker, first.context) == ("Jake Tapper", "in remarks in a CNN broadcast")
    assert (second.speaker, second.speaker_mention) == (None, "Facebook posts")


def test_record_is_a_frozen_dataclass() -> None:
    (quote,) = extract_quotes('"We will not raise taxes this year," Jane Doe said.')
    assert dataclasses.is_dataclass(quote) and not hasattr(quote, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        quote.speaker = "someone else"  # type: ignore[misc]


def test_seed_article_has_one_quote_by_donald_trump_at_a_rally() -> None:
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    (quote,) = extract_quotes(text)  # the anonymous spokesperson is only paraphrased
    assert quote.text.startswith("If we\u2019re going to pay billions of dollars a year")
    assert quote.text.endswith("unless they give back our military equipment,")
    assert text[quote.start : quote.end] == quote.text
    assert quote.speaker == "Donald Trump"
    assert quote.speaker_mention == "Trump"
    assert quote.cue == "stated"
    assert quote.context is not None and "rally" in quote.context
    assert "former U.S. President Donald Trump" in quote.aliases


_ARTICLE_BITS = st.sampled_from(
    [
        '"',
        "\u201c",
        "\u201d",
        "\u2018",
        "\u2019",
        "'",
        ",",
        ".",
        ":",
        " ",
        "\n",
        "\n\n",
        " said ",
        " he said",
        "Trump",
        "Donald Trump",
        "according to ",
        "the e-mail reads",
        "Featured Fact-check\n",
        "stated on January 1, 2021 in a tweet\n",
        "By A B \u2022 January 2, 2021\n",
        "PolitiFact Rating: False ",
        "We will win this fight together",
        "Sen. ",
        " who ",
        ", a spokesman for the group, ",
        "It",
        "--",
        "\u2014",
        "U.S.",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(_ARTICLE_BITS, max_size=40).map("".join)))
@example('"')
@example('"" "  " \u201c\u201d')
@example('"one two three four\n"five six seven eight')
@example(
    "Featured Fact-check\n\nX\n\nstated on May 1, 2020 in a tweet\n\n\u201ca b c d\u201d"
    "\n\nBy Z \u2022 May 2, 2020"
)
def test_never_raises_and_spans_are_consistent(text: str) -> None:
    quotes = extract_quotes(text)
    for quote in quotes:
        assert isinstance(quote, ExtractedQuote)
        assert text[quote.start : quote.end] == quote.text
        assert quote.text == quote.text.strip() and quote.text
        assert quote.speaker is None or quote.speaker.strip()
    starts = [q.start for q in quotes]
    assert starts == sorted(starts)
