"""schema.org in JSON-LD: a stored quote as a ``Quotation``, a verification as a
``ClaimReview`` (the markup fact-checkers publish, as schema.org and Google's fact-check
structured data describe it).

A client asks for them with ``Accept: application/ld+json``; plain JSON stays the default
(content negotiation honours quality values: ``application/ld+json;q=0.5,
application/json`` gets JSON). The rating scale of a ``ClaimReview`` is ``RATINGS``: 1 to
5, and no number at all when the text is not in our records, because "we have no record of
it" is not a judgement that it is false.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, request, url_for

from quotes_db.models import Quote, Source, Verification

__all__ = [
    "JSONLD",
    "RATINGS",
    "claim_review",
    "jsonld_response",
    "ld_doc",
    "quotation",
    "wants_jsonld",
]

JSONLD = "application/ld+json"
CONTEXT = "https://schema.org"
BEST_RATING, WORST_RATING = 5, 1
# verdict -> (ratingValue, alternateName); no_match has no value on the scale
RATINGS: dict[str, tuple[int | None, str]] = {
    "verified": (5, "Accurate quote"),
    "fragment": (4, "Accurate, but part of a longer quote"),
    "altered": (2, "Altered quote"),
    "misattributed": (1, "Misattributed quote"),
    "no_match": (None, "Not in our records"),
}


def wants_jsonld() -> bool:
    """True when the request's Accept header prefers JSON-LD to JSON (by quality value;
    on a tie, or when it names neither, JSON)."""
    best = request.accept_mimetypes.best_match(["application/json", JSONLD])
    return best == JSONLD


def jsonld_response(document: dict[str, Any]) -> Response:
    response = Response(json.dumps(document, ensure_ascii=False), mimetype=JSONLD)
    response.vary.add("Accept")
    return response


def _drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v not in (None, [], "")}


def person(name: str, aliases: tuple[str, ...] = ()) -> dict[str, Any]:
    return _drop_none({"@type": "Person", "name": name, "alternateName": list(aliases)})


def creative_work(source: Source | None) -> dict[str, Any] | None:
    """A source as a schema.org CreativeWork; None when nothing is known of it."""
    if source is None or source.is_empty():
        return None
    publisher = {"@type": "Organization", "name": source.publisher} if source.publisher else None
    return _drop_none(
        {
            "@type": "CreativeWork",
            "name": source.title,
            "url": source.url,
            "datePublished": source.published_at.isoformat() if source.published_at else None,
            "publisher": publisher,
        }
    )


def _appearances(quote: Quote) -> list[dict[str, Any]]:
    works = [creative_work(a.source) for a in quote.appearances]
    if not works:
        works = [creative_work(quote.source)]
    return [w for w in works if w is not None]


def quotation(quote: Quote) -> dict[str, Any]:
    """A stored quote as a schema.org Quotation: its words, who spoke them, when, and
    where they were reported (``isBasedOn`` the source, ``citation`` every appearance)."""
    url = url_for("quotes.QuoteItem", quote_id=quote.id, _external=True)
    return _drop_none(
        {
            "@context": CONTEXT,
            "@type": "Quotation",
            "@id": url,
            "url": url,
            "identifier": quote.ref or str(quote.id),
            "text": quote.text,
            "spokenByCharacter": person(quote.speaker.name, quote.speaker.aliases),
            "dateCreated": quote.said_at.isoformat() if quote.said_at else None,
            "description": quote.context,
            "isBasedOn": creative_work(quote.source),
            "citation": _appearances(quote),
            "keywords": list(quote.tags),
            "creativeWorkStatus": quote.review,
        }
    )


def _organization() -> dict[str, Any]:
    config = current_app.config
    return {
        "@type": "Organization",
        "name": config["ORGANIZATION_NAME"],
        "url": config["ORGANIZATION_URL"] or request.url_root,
    }


def share_url(text: str, speaker: str | None) -> str:
    """The web page's link to this check, which renders the result (``/?text=&speaker=``)."""
    query = {"text": text, **({"speaker": speaker} if speaker else {})}
    return f"{request.url_root}?{urlencode(query)}"


def rating(verdict: str, explanation: str) -> dict[str, Any]:
    value, name = RATINGS[verdict]
    if value is None:
        return {"@type": "Rating", "alternateName": name, "ratingExplanation": explanation}
    return {
        "@type": "Rating",
        "ratingValue": value,
        "bestRating": BEST_RATING,
        "worstRating": WORST_RATING,
        "alternateName": name,
        "ratingExplanation": explanation,
    }


def claim_review(text: str, speaker: str | None, result: Verification) -> dict[str, Any]:
    """A verification as a schema.org ClaimReview: the submitted text is the claim
    reviewed, credited to the claimed speaker (else the recorded one), appearing where the
    matched stored quote was reported; the verdict is the rating's ``alternateName``."""
    claimed = speaker.strip() if speaker and speaker.strip() else None
    best = result.matches[0].quote if result.matches else None
    author = claimed or (best.speaker.name if best is not None else None)
    claim: dict[str, Any] = {"@type": "Claim"}
    if author:
        claim["author"] = person(author)
    if best is not None:
        works = _appearances(best)
        first = best.first_appearance
        first_work = creative_work(first.source) if first is not None else None
        claim = _drop_none(
            {
                **claim,
                "appearance": works,
                "firstAppearance": first_work or (works[0] if works else None),
            }
        )
    return {
        "@context": CONTEXT,
        "@type": "ClaimReview",
        "url": share_url(text, claimed),
        "claimReviewed": text,
        "datePublished": dt.datetime.now(dt.UTC).date().isoformat(),
        "author": _organization(),
        "reviewRating": rating(result.verdict, result.summary),
        "itemReviewed": claim,
    }


# OpenAPI: the JSON-LD bodies, as alternative content of the 200 responses -----------------

_TEXT = {"type": "string"}
_PERSON = {
    "type": "object",
    "properties": {
        "@type": {"type": "string", "enum": ["Person"]},
        "name": _TEXT,
        "alternateName": {"type": "array", "items": _TEXT},
    },
}
_WORK = {
    "type": "object",
    "description": "A schema.org CreativeWork: where the quote was reported.",
    "properties": {
        "@type": {"type": "string", "enum": ["CreativeWork"]},
        "name": _TEXT,
        "url": _TEXT,
        "datePublished": {"type": "string", "format": "date"},
        "publisher": {
            "type": "object",
            "properties": {"@type": {"type": "string"}, "name": _TEXT},
        },
    },
}
QUOTATION_SCHEMA = {
    "type": "object",
    "description": "The quote as a schema.org Quotation (JSON-LD).",
    "properties": {
        "@context": {"type": "string", "enum": [CONTEXT]},
        "@type": {"type": "string", "enum": ["Quotation"]},
        "@id": _TEXT,
        "url": _TEXT,
        "identifier": _TEXT,
        "text": _TEXT,
        "spokenByCharacter": _PERSON,
        "dateCreated": {"type": "string", "format": "date"},
        "description": _TEXT,
        "isBasedOn": _WORK,
        "citation": {"type": "array", "items": _WORK},
        "keywords": {"type": "array", "items": _TEXT},
        "creativeWorkStatus": {"type": "string", "enum": ["approved", "pending", "rejected"]},
    },
    "required": ["@context", "@type", "text", "spokenByCharacter"],
}
CLAIM_REVIEW_SCHEMA = {
    "type": "object",
    "description": "The verification as a schema.org ClaimReview (JSON-LD). reviewRating:"
    " verified 5 'Accurate quote', fragment 4 'Accurate, but part of a longer quote',"
    " altered 2 'Altered quote', misattributed 1 'Misattributed quote' (bestRating 5,"
    " worstRating 1); no_match has no ratingValue, only 'Not in our records'.",
    "properties": {
        "@context": {"type": "string", "enum": [CONTEXT]},
        "@type": {"type": "string", "enum": ["ClaimReview"]},
        "url": {"type": "string", "description": "The web page's shareable check."},
        "claimReviewed": {"type": "string", "description": "The submitted text."},
        "datePublished": {"type": "string", "format": "date"},
        "author": {
            "type": "object",
            "description": "The organisation (ORGANIZATION_NAME, ORGANIZATION_URL).",
            "properties": {"@type": {"type": "string"}, "name": _TEXT, "url": _TEXT},
        },
        "reviewRating": {
            "type": "object",
            "properties": {
                "@type": {"type": "string", "enum": ["Rating"]},
                "ratingValue": {"type": "integer", "minimum": 1, "maximum": 5},
                "bestRating": {"type": "integer"},
                "worstRating": {"type": "integer"},
                "alternateName": {
                    "type": "string",
                    "enum": [name for _, name in RATINGS.values()],
                },
                "ratingExplanation": _TEXT,
            },
            "required": ["alternateName"],
        },
        "itemReviewed": {
            "type": "object",
            "properties": {
                "@type": {"type": "string", "enum": ["Claim"]},
                "author": _PERSON,
                "appearance": {"type": "array", "items": _WORK},
                "firstAppearance": _WORK,
            },
        },
    },
    "required": ["@context", "@type", "url", "claimReviewed", "author", "reviewRating"],
}


def ld_doc(schema: dict[str, Any]) -> dict[str, Any]:
    """The ``@blp.doc`` addition that documents JSON-LD as the 200 response's other type."""
    # keyed 200, not "200", like flask-smorest's own entry, so that the two merge
    return {"responses": {200: {"content": {JSONLD: {"schema": schema}}}}}
