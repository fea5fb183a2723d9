"""The web page at ``/``: a form to check a quote, and the check's result, rendered here.

A check is a link: ``/?text=...&speaker=...`` renders the result on the server (it works
with JavaScript off, and can be shared). The page's script only fetches that same URL and
swaps the result in. The text goes through VerifyRequestSchema and ``verify_one``, the
path of ``POST /v1/verify``, and counts against the verify rate limit (api/limits.py).

``/?url=...`` (or a lone http(s) address typed as the text) fetches that page with the
articles' Fetcher (the same SSRF rules and FETCH_* limits as ``POST /v1/articles``), finds
its quotations (quotes_db.extraction) and checks each one, credited as the page credits it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_limiter import RateLimitExceeded
from marshmallow import ValidationError

from quotes_db.extraction import ExtractedQuote, extract_quotes
from quotes_db.fetching import (
    FetchedArticle,
    FetchFailedError,
    FetchTimeoutError,
    UrlRefusedError,
)
from quotes_db.models import Verification

from ..errors import STATUS_OF_STORE_ERROR, flatten_messages
from ..limits import retry_after
from ..schemas import MAX_FIELD_CHARS, VerifyRequestSchema
from .articles import fetch_article
from .verify import verify_one

__all__ = ["blp"]

blp = Blueprint("page", __name__)


@blp.app_template_filter("percent")
def percent(confidence: float) -> str:
    """A confidence as a percentage a reader can take at its word: 0.9974 is "99.7%", not
    "100%", which would claim a certainty no verdict has."""
    value = confidence * 100
    if value >= 99 and confidence < 1:
        return f"{int(value * 10) / 10:.1f}%"
    return f"{value:.0f}%"


PAGE_MATCHES = 5  # the best match and up to four other close ones
PAGE_QUOTATIONS = 30  # most quotations of a fetched page checked (and shown)
WEB_ADDRESS = re.compile(r"https?://\S+", re.IGNORECASE)

# The verdict in words and a symbol: colour is never the only thing that tells them apart.
VERDICT_LABELS = {
    "verified": ("Verified", "\u2713", "These are the recorded words."),
    "fragment": ("Fragment", "\u25d4", "Part of a longer recorded quote."),
    "altered": ("Altered", "\u2260", "Close to a recorded quote, but the words differ."),
    "misattributed": ("Misattributed", "!", "Recorded, but said by someone else."),
    "no_match": ("Not in our records", "?", "We hold no quote like this one."),
}
FIELD_LABELS = {"text": "The quote", "speaker": "The speaker's name"}
# The page loads only its own script and stylesheet; nobody may frame it.
CSP = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none';"
    " object-src 'none'"
)


@blp.get("/")
def index() -> tuple[str, int]:
    """The form; with ``text``, also the verification of that text; with ``url``, the
    verification of every quotation on that page."""
    if "text" not in request.args and "url" not in request.args:
        return _render(), 200
    text = request.args.get("text", "")
    url = request.args.get("url", "").strip()
    if not url and WEB_ADDRESS.fullmatch(text.strip()):
        text, url = "", text.strip()
    if url and text.strip():
        return _render(problem="Give either the words of a quote or a page's address."), 422
    if url:
        return _check_page(url)
    if not text.strip():
        return _render(problem="Type or paste the words of a quote to check."), 422
    speaker = (request.args.get("speaker") or "").strip()
    try:
        args = VerifyRequestSchema().load(
            {
                "text": text,
                "speaker": speaker or None,
                "limit": min(PAGE_MATCHES, int(current_app.config["MAX_MATCHES"])),
            }
        )
    except ValidationError as exc:
        return _render(problem=_friendly(flatten_messages(exc.messages))), 422
    return _render(result=verify_one(args, endpoint="page")), 200


def _check_page(url: str) -> tuple[str, int]:
    if not WEB_ADDRESS.fullmatch(url) or len(url) > MAX_FIELD_CHARS:
        return _render(problem="The page's address must be an http:// or https:// URL."), 422
    try:
        fetched = fetch_article(url)
    except (UrlRefusedError, FetchFailedError, FetchTimeoutError) as exc:
        status = STATUS_OF_STORE_ERROR[type(exc)]
        return _render(problem=f"That page could not be read: {exc}"), status
    if not fetched.text.strip():
        return _render(problem=f"No article text was found at {fetched.url}."), 422
    if len(fetched.text) > current_app.config["ARTICLE_MAX_CHARS"]:
        limit = current_app.config["ARTICLE_MAX_CHARS"]
        return _render(problem=f"The page is longer than {limit} characters."), 422
    quotations = extract_quotes(fetched.text)
    checks = [
        (
            quotation,
            verify_one(
                {
                    "text": quotation.text,
                    "speaker": quotation.speaker,
                    "limit": 1,
                    "include_pending": False,
                },
                endpoint="page",
            ),
        )
        for quotation in quotations[:PAGE_QUOTATIONS]
    ]
    return _render(page=_PageCheck(fetched, checks, len(quotations))), 200


@dataclass(frozen=True, slots=True)
class _PageCheck:
    """What the page shows of a fetched page: its metadata and each quotation's check."""

    article: FetchedArticle
    checks: list[tuple[ExtractedQuote, Verification]]
    found: int  # quotations found; only the first PAGE_QUOTATIONS are checked


@blp.errorhandler(RateLimitExceeded)
def too_many_checks(error: RateLimitExceeded) -> tuple[str, int, dict[str, str]]:
    """The verify limit, said on the page (the API says it in problem+json)."""
    seconds = retry_after()
    problem = (
        f"Too many checks from here: the limit is {error.description}."
        f" Please try again in {seconds} s."
    )
    return _render(problem=problem), 429, {"Retry-After": str(seconds)}


@blp.after_request
def _page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    # the checked text is in the URL: do not send it to the sites the page links to
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _friendly(errors: dict[str, list[str]]) -> str:
    parts = [
        f"{FIELD_LABELS.get(field, field)}: {' '.join(messages)}"
        for field, messages in sorted(errors.items())
    ]
    return " ".join(parts) or "That check could not be made."


def _share_url(result: Verification | None, page: _PageCheck | None) -> str | None:
    """The check's own link, absolute, with an empty speaker left out."""
    if page is not None:
        return url_for("page.index", _external=True, url=page.article.url)
    if result is None:
        return None
    params = {"text": request.args.get("text", "")}
    if result.attribution.claimed:
        params["speaker"] = result.attribution.claimed
    return url_for("page.index", _external=True, **params)


def _render(
    *,
    result: Verification | None = None,
    page: _PageCheck | None = None,
    problem: str | None = None,
) -> str:
    context: dict[str, Any] = {
        "text": request.args.get("text", ""),
        "speaker": request.args.get("speaker", ""),
        "url": request.args.get("url", ""),
        "result": result,
        "page": page,
        "problem": problem,
        "labels": VERDICT_LABELS,
        "max_text_chars": current_app.config["MAX_TEXT_CHARS"],
        "max_url_chars": MAX_FIELD_CHARS,
        "share_url": _share_url(result, page),
    }
    return render_template("index.html", **context)
