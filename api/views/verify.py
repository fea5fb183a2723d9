"""Verification: is a text a genuine quote, a fragment, altered, misattributed or unknown?"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from quotes_db.matching import verify
from quotes_db.models import Verification

from ..jsonld import CLAIM_REVIEW_SCHEMA, claim_review, jsonld_response, ld_doc, wants_jsonld
from ..metrics import count_verdicts
from ..schemas import (
    VerificationBatchSchema,
    VerificationSchema,
    VerifyBatchRequestSchema,
    VerifyRequestSchema,
)
from . import Blueprint, current_store

blp = Blueprint(
    "verify", __name__, url_prefix="/v1", description="Check quotes against the records."
)


@blp.route("/verify")
class Verify(MethodView):
    @blp.arguments(VerifyRequestSchema)
    @blp.response(200, VerificationSchema)
    @blp.doc(**ld_doc(CLAIM_REVIEW_SCHEMA))
    def post(self, args: dict[str, Any]) -> Verification | Response:
        """Verify one text, optionally credited to a speaker.

        With ``Accept: application/ld+json`` the answer is a schema.org ClaimReview.
        """
        result = verify(
            current_store(),
            args["text"],
            speaker=args.get("speaker"),
            limit=args["limit"],
            include_pending=args["include_pending"],
        )
        count_verdicts([result], endpoint="verify")
        if wants_jsonld():
            return jsonld_response(claim_review(args["text"], args.get("speaker"), result))
        return result


@blp.route("/verify/batch")
class VerifyBatch(MethodView):
    @blp.arguments(VerifyBatchRequestSchema)
    @blp.response(200, VerificationBatchSchema)
    def post(self, args: dict[str, Any]) -> dict[str, list[Verification]]:
        """Verify several texts; the results come in the order of the items."""
        store = current_store()
        results = [
            verify(
                store,
                item["text"],
                speaker=item.get("speaker"),
                limit=args["limit"],
                include_pending=args["include_pending"],
            )
            for item in args["items"]
        ]
        count_verdicts(results, endpoint="batch")
        return {"results": results}
