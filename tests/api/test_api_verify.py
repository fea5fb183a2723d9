"""POST /v1/verify and /v1/verify/batch against the seed quotes."""

from __future__ import annotations

import pytest

# The founding article's quote, as tests/conftest.py spells it (straight apostrophes).
SEED_QUOTE = (
    "If we're going to pay billions of dollars a year, tell them we're not going to give "
    "them the money unless they give back our military equipment"
)
MILLIONS = SEED_QUOTE.replace("billions", "millions")
FRAGMENT = "tell them we're not going to give them the money"
UNKNOWN = "The Taliban will return all equipment next week."
LINCOLN = (
    "Four score and seven years ago our fathers brought forth on this continent, a new "
    "nation, conceived in Liberty, and dedicated to the proposition that all men are created "
    "equal."
)


@pytest.mark.parametrize(
    ("body", "verdict", "recorded", "agrees"),
    [
        ({"text": SEED_QUOTE}, "verified", "Donald Trump", None),
        ({"text": MILLIONS}, "altered", "Donald Trump", None),
        ({"text": FRAGMENT}, "fragment", "Donald Trump", None),
        ({"text": SEED_QUOTE, "speaker": "Joe Biden"}, "misattributed", "Donald Trump", False),
        # a title before the recorded surname is the same person
        ({"text": SEED_QUOTE, "speaker": "President Trump"}, "verified", "Donald Trump", True),
        ({"text": UNKNOWN}, "no_match", None, None),
        # a null speaker is no claim at all
        ({"text": SEED_QUOTE, "speaker": None}, "verified", "Donald Trump", None),
    ],
)
def test_verify_verdicts(client, body, verdict, recorded, agrees):
    response = client.post("/v1/verify", json=body)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    result = response.get_json()
    assert result["verdict"] == verdict
    assert result["attribution"] == {
        "claimed": body.get("speaker"),
        "recorded": recorded,
        "agrees": agrees,
    }
    assert 0 <= result["confidence"] <= 1
    assert result["summary"]
    if verdict == "no_match":
        assert result["matches"] == []
    else:
        assert result["matches"][0]["quote"]["speaker"]["name"] == recorded


def test_verify_match_shape(client):
    result = client.post("/v1/verify", json={"text": SEED_QUOTE}).get_json()
    match = result["matches"][0]
    assert set(match) == {"quote", "match", "similarity", "diff", "quote_span", "text_span"}
    assert match["match"] == "verified"
    assert match["text_span"] == [0, len(SEED_QUOTE)]
    start, end = match["quote_span"]
    assert match["quote"]["text"][start:end] == match["quote"]["text"]
    assert set(match["quote"]) == {
        "id", "ref", "text", "speaker", "said_at", "context", "source", "tags",
        "review", "appearances", "first_appearance", "created_at", "updated_at",
    }  # fmt: skip
    assert match["quote"]["ref"] == "seed:taliban-equipment-rally"
    assert match["quote"]["review"] == "approved"
    # the seed quote's own source is its first (and only) appearance
    seed_source = {
        "title": match["quote"]["source"]["title"], "url": None, "publisher": None,
        "published_at": None, "article_id": None, "start": None, "end": None,
    }  # fmt: skip
    assert match["quote"]["appearances"] == [seed_source]
    assert match["quote"]["first_appearance"] == seed_source
    assert result["pending_matches"] == []
    assert {d["op"] for d in match["diff"]} == {"equal"}


def test_verify_altered_diff(client):
    result = client.post("/v1/verify", json={"text": MILLIONS}).get_json()
    replaced = [d for d in result["matches"][0]["diff"] if d["op"] == "replace"]
    assert replaced == [{"op": "replace", "original": "billions", "submitted": "millions"}]


def test_verify_fragment_spans(client):
    result = client.post("/v1/verify", json={"text": FRAGMENT}).get_json()
    match = result["matches"][0]
    assert match["match"] == "fragment"
    start, end = match["quote_span"]
    stored = match["quote"]["text"].replace("\u2019", "'")
    assert stored[start:end] == FRAGMENT


def test_verify_limit(client):
    result = client.post("/v1/verify", json={"text": SEED_QUOTE, "limit": 1}).get_json()
    assert len(result["matches"]) == 1


def test_verify_every_unicode_plane(client):
    # BMP, supplementary planes (emoji, CJK extension B, plane 14 tags) and private use
    text = f"{SEED_QUOTE} 😀 𠀀 \U000e0041 \U000f0000 \U0010fffd"
    response = client.post("/v1/verify", json={"text": text})
    assert response.status_code == 200
    assert response.get_json()["matches"][0]["quote"]["speaker"]["name"] == "Donald Trump"


def test_verify_accepts_the_longest_text(app, client):
    limit = app.config["MAX_TEXT_CHARS"]
    text = (SEED_QUOTE + " ") * (limit // (len(SEED_QUOTE) + 1))
    text += "x" * (limit - len(text))
    assert len(text) == limit
    assert client.post("/v1/verify", json={"text": text}).status_code == 200


def test_verify_batch_keeps_order(client):
    items = [
        {"text": UNKNOWN},
        {"text": SEED_QUOTE, "speaker": "Joe Biden"},
        {"text": LINCOLN},
        {"text": FRAGMENT, "speaker": None},
    ]
    response = client.post("/v1/verify/batch", json={"items": items, "limit": 2})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["verdict"] for r in results] == ["no_match", "misattributed", "verified", "fragment"]
    assert results[2]["attribution"]["recorded"] == "Abraham Lincoln"
    assert all(len(r["matches"]) <= 2 for r in results)


def test_verify_batch_same_shape_as_single(client):
    single = client.post("/v1/verify", json={"text": MILLIONS}).get_json()
    batch = client.post("/v1/verify/batch", json={"items": [{"text": MILLIONS}]}).get_json()
    assert batch["results"] == [single]
