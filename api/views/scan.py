"""Page scan: every quotation in a page, and every stored quote it repeats without marks."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from quotes_db.scanning import page_text, scan_text

from ..errors import Problem
from ..metrics import count_verdicts
from ..schemas import ScanRequestSchema, ScanSchema
from . import Blueprint, current_store

blp = Blueprint(
    "scan", __name__, url_prefix="/v1", description="Find and check the quotes of a page."
)


@blp.route("/scan")
class Scan(MethodView):
    @blp.arguments(ScanRequestSchema)
    @blp.response(200, ScanSchema)
    @blp.alt_response(413, response="DEFAULT_ERROR", description="The page text is too long.")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """Scan a page's text or HTML: its quotations and unmarked stored quotes, verified."""
        text = args.get("text")
        if text is None:
            text = _text_of_html(args["html"], args.get("url"))
        result = scan_text(
            current_store(),
            text,
            limit=args["limit"],
            include_pending=args["include_pending"],
        )
        count_verdicts((f.verification for f in result.findings), endpoint="scan")
        return {"text": result.text, "findings": result.findings, "stats": result.stats}


def _text_of_html(html: str, url: str | None) -> str:
    text = page_text(html, url=url)
    if not text.strip():
        raise Problem(
            422,
            "No main text was found in the HTML.",
            errors={"html": ["No main text was found in the HTML."]},
        )
    limit = int(current_app.config["MAX_SCAN_CHARS"])
    if len(text) > limit:
        raise Problem(
            413, f"The page's text has {len(text)} characters; at most {limit} are scanned."
        )
    return text
