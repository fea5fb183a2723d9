"""The web page at ``/``: a form to check a quote, and the check's result, rendered here.

A check is a link: ``/?text=...&speaker=...`` renders the result on the server (it works
with JavaScript off, and can be shared). The page's script only fetches that same URL and
swaps the result in. The text goes through VerifyRequestSchema and ``verify_one``, the
path of ``POST /v1/verify``, and counts against the verify rate limit (api/limits.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_limiter import RateLimitExceeded
from marshmallow import ValidationError

from quotes_db.models import Verification

from ..errors import flatten_messages
from ..limits import retry_after
from ..schemas import VerifyRequestSchema
from .verify import verify_one

__all__ = ["blp"]

blp = Blueprint("page", __name__)
PAGE_MATCHES = 5  # the best match and up to four other close ones

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
    """The form; with ``text``, also the verification of that text."""
    text = request.args.get("text")
    speaker = (request.args.get("speaker") or "").strip()
    if text is None:
        return _render(), 200
    if not text.strip():
        return _render(problem="Type or paste the words of a quote to check."), 422
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


def _share_url(result: Verification | None) -> str | None:
    """The check's own link, absolute, with an empty speaker left out."""
    if result is None:
        return None
    params = {"text": request.args.get("text", "")}
    if result.attribution.claimed:
        params["speaker"] = result.attribution.claimed
    return url_for("page.index", _external=True, **params)


def _render(*, result: Verification | None = None, problem: str | None = None) -> str:
    context: dict[str, Any] = {
        "text": request.args.get("text", ""),
        "speaker": request.args.get("speaker", ""),
        "result": result,
        "problem": problem,
        "labels": VERDICT_LABELS,
        "max_text_chars": current_app.config["MAX_TEXT_CHARS"],
        "share_url": _share_url(result),
    }
    return render_template("index.html", **context)
