"""schema.org JSON-LD: a quote as a Quotation, a verification as a ClaimReview, by
content negotiation; the shapes checked against schema.org and Google's fact-check
(ClaimReview) structured-data requirements."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from api.jsonld import RATINGS

LD = "application/ld+json"
SEED_QUOTE = (
    "If we're going to pay billions of dollars a year, tell them we're not going to give "
    "them the money unless they give back our military equipment"
)
MILLIONS = SEED_QUOTE.replace("billions", "millions")
FRAGMENT = "tell them we're not going to give them the money"
UNKNOWN = "The Taliban will return all equipment next week."


def _seed_id(client) -> int:
    page = client.get("/v1/quotes", query_string={"q": "military equipment"}).get_json()
    return next(q["id"] for q in page["items"] if q["ref"] == "seed:taliban-equipment-rally")


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        (LD, LD),
        (f"{LD}, application/json;q=0.9", LD),
        # quality values decide, not the order
        (f"application/json;q=0.5, {LD}", LD),
        (f"{LD};q=0.5, application/json", "application/json"),
        # a tie, no preference or neither type named: plain JSON, the default
        (f"application/json, {LD}", "application/json"),
        ("*/*", "application/json"),
        (None, "application/json"),
        ("text/html", "application/json"),
    ],
)
def test_content_negotiation(client, accept, mimetype):
    headers = {"Accept": accept} if accept else {}
    quote = client.get(f"/v1/quotes/{_seed_id(client)}", headers=headers)
    verify = client.post("/v1/verify", json={"text": SEED_QUOTE}, headers=headers)
    for response in (quote, verify):
        assert response.status_code == 200
        assert response.mimetype == mimetype
    if mimetype == LD:
        assert "Accept" in quote.headers["Vary"]


def test_quotation_shape(client):
    quote_id = _seed_id(client)
    doc = client.get(f"/v1/quotes/{quote_id}", headers={"Accept": LD}).get_json()
    assert doc["@context"] == "https://schema.org"
    assert doc["@type"] == "Quotation"
    assert doc["url"].endswith(f"/v1/quotes/{quote_id}")
    assert doc["text"].startswith("If we")
    assert doc["spokenByCharacter"] == {
        "@type": "Person",
        "name": "Donald Trump",
        "alternateName": ["Donald J. Trump", "Donald John Trump"],  # the seed file's aliases
    }
    assert doc["isBasedOn"]["@type"] == "CreativeWork"
    assert doc["isBasedOn"]["name"].startswith("Seed article")
    assert all(work["@type"] == "CreativeWork" for work in doc["citation"])
    assert "dateCreated" not in doc  # the seed quote has no date: none is invented


def test_quotation_with_full_source_and_appearances(client, writer):
    body = {
        "text": "We shall build the longest bridge this river has ever carried, by spring.",
        "speaker": "Alice Ferreira",
        "said_at": "2025-03-04",
        "source": {
            "title": "Mayor's speech",
            "url": "https://news.example/speech",
            "publisher": "Example News",
            "published_at": "2025-03-05",
        },
    }
    created = writer.post("/v1/quotes", json=body)
    assert created.status_code == 201
    doc = writer.get(created.headers["Location"], headers={"Accept": LD}).get_json()
    assert doc["dateCreated"] == "2025-03-04"
    assert doc["spokenByCharacter"]["name"] == "Alice Ferreira"
    assert doc["isBasedOn"] == {
        "@type": "CreativeWork",
        "name": "Mayor's speech",
        "url": "https://news.example/speech",
        "datePublished": "2025-03-05",
        "publisher": {"@type": "Organization", "name": "Example News"},
    }
    assert doc["citation"] == [doc["isBasedOn"]]


def test_missing_quote_is_a_problem_even_for_jsonld(client):
    response = client.get("/v1/quotes/999999", headers={"Accept": LD})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


# Google's ClaimReview: required claimReviewed, reviewRating (alternateName), url; author
# recommended (we always give it); itemReviewed a Claim (author, appearance, firstAppearance).
@pytest.mark.parametrize(
    ("body", "verdict", "claim_author"),
    [
        ({"text": SEED_QUOTE}, "verified", "Donald Trump"),
        ({"text": FRAGMENT}, "fragment", "Donald Trump"),
        ({"text": MILLIONS}, "altered", "Donald Trump"),
        # the claim is what was submitted: credited to the claimed speaker
        ({"text": SEED_QUOTE, "speaker": "Joe Biden"}, "misattributed", "Joe Biden"),
        ({"text": UNKNOWN, "speaker": "Joe Biden"}, "no_match", "Joe Biden"),
        ({"text": UNKNOWN}, "no_match", None),
    ],
)
def test_claim_review_shape(client, body, verdict, claim_author):
    plain = client.post("/v1/verify", json=body).get_json()
    assert plain["verdict"] == verdict
    response = client.post("/v1/verify", json=body, headers={"Accept": LD})
    assert response.status_code == 200
    assert response.mimetype == LD
    doc = response.get_json()
    assert doc["@context"] == "https://schema.org"
    assert doc["@type"] == "ClaimReview"
    assert doc["claimReviewed"] == body["text"]
    dt.date.fromisoformat(doc["datePublished"])
    assert doc["author"]["@type"] == "Organization"
    assert doc["author"]["name"] == "quotecheck"
    assert doc["author"]["url"] == "http://localhost/"
    # the shareable check on the web page
    url = urlsplit(doc["url"])
    assert (url.scheme, url.netloc, url.path) == ("http", "localhost", "/")
    query = parse_qs(url.query)
    assert query["text"] == [body["text"]]
    assert query.get("speaker") == ([body["speaker"]] if "speaker" in body else None)

    rating = doc["reviewRating"]
    assert rating["@type"] == "Rating"
    value, name = RATINGS[verdict]
    assert rating["alternateName"] == name
    assert rating["ratingExplanation"] == plain["summary"]
    if verdict == "no_match":
        assert name == "Not in our records"
        assert "ratingValue" not in rating  # not a judgement of falsity
    else:
        assert rating["ratingValue"] == value
        assert (rating["worstRating"], rating["bestRating"]) == (1, 5)
        assert 1 <= rating["ratingValue"] <= 5
    assert "false" not in name.lower()

    claim = doc["itemReviewed"]
    assert claim["@type"] == "Claim"
    if claim_author is None:
        assert "author" not in claim
    else:
        assert claim["author"] == {"@type": "Person", "name": claim_author}
    if verdict == "no_match":
        assert "appearance" not in claim and "firstAppearance" not in claim
    else:
        assert claim["firstAppearance"]["@type"] == "CreativeWork"
        assert claim["firstAppearance"]["name"].startswith("Seed article")
        assert claim["firstAppearance"] in claim["appearance"]


def test_verdict_scale_is_ordered():
    values = [RATINGS[v][0] for v in ("misattributed", "altered", "fragment", "verified")]
    assert values == sorted(values)
    assert RATINGS["no_match"][0] is None


def test_organization_comes_from_configuration(database_url):
    from api import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "ORGANIZATION_NAME": "Example Fact Check",
            "ORGANIZATION_URL": "https://factcheck.example/",
        }
    )
    try:
        doc = (
            app.test_client()
            .post("/v1/verify", json={"text": UNKNOWN}, headers={"Accept": LD})
            .get_json()
        )
    finally:
        app.extensions["quotecheck"].close()
    assert doc["author"] == {
        "@type": "Organization",
        "name": "Example Fact Check",
        "url": "https://factcheck.example/",
    }


def test_errors_stay_problems_with_jsonld_accept(client):
    response = client.post("/v1/verify", json={"text": ""}, headers={"Accept": LD})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_openapi_documents_both_types(client):
    spec = client.get("/openapi.json").get_json()
    for path, method in (("/v1/verify", "post"), ("/v1/quotes/{quote_id}", "get")):
        content = spec["paths"][path][method]["responses"]["200"]["content"]
        assert set(content) == {"application/json", LD}
    review = spec["paths"]["/v1/verify"]["post"]["responses"]["200"]["content"][LD]["schema"]
    assert {"claimReviewed", "reviewRating", "url", "author"} <= set(review["required"])
