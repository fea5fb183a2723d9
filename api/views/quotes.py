"""Stored quotes: list, search, create, read, change and delete."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from flask import Response, url_for
from flask.views import MethodView

from quotes_db.importing import parse_quote, quote_record
from quotes_db.models import NewQuote, Page, Quote

from ..jsonld import QUOTATION_SCHEMA, jsonld_response, ld_doc, quotation, wants_jsonld
from ..schemas import (
    MAX_ID,
    QuoteCreateSchema,
    QuotePageSchema,
    QuoteQuerySchema,
    QuoteSchema,
    QuoteWriteSchema,
)
from . import Blueprint, current_store

blp = Blueprint("quotes", __name__, url_prefix="/v1", description="Attributed quotes.")


def _record(data: dict[str, Any]) -> dict[str, Any]:
    """Return validated fields in the import-record form that ``parse_quote`` reads."""
    record = dict(data)
    if isinstance(record.get("said_at"), dt.date):
        record["said_at"] = record["said_at"].isoformat()
    if record.get("source"):
        source = dict(record["source"])
        if isinstance(source.get("published_at"), dt.date):
            source["published_at"] = source["published_at"].isoformat()
        record["source"] = source
    return record


@blp.route("/quotes")
class QuoteList(MethodView):
    @blp.arguments(QuoteQuerySchema, location="query")
    @blp.response(200, QuotePageSchema)
    def get(self, args: dict[str, Any]) -> Page[Quote]:
        """List quotes newest first, filtered by speaker and by words in the text."""
        return current_store().list_quotes(
            speaker_id=args.get("speaker_id"),
            speaker=args.get("speaker"),
            text=args.get("q"),
            limit=args["limit"],
            offset=args["offset"],
        )

    @blp.arguments(QuoteCreateSchema)
    @blp.response(201, QuoteSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> tuple[Quote, dict[str, str]]:
        """Store a new quote; the speaker is created when the name is new.

        The quote is approved unless ``review`` says otherwise.
        """
        review = data.pop("review", None)
        new: NewQuote = parse_quote(_record(data))
        if review is not None:
            new = dataclasses.replace(new, review=review)
        quote = current_store().add_quote(new)
        return quote, {"Location": url_for("quotes.QuoteItem", quote_id=quote.id)}


@blp.route(f"/quotes/<int(max={MAX_ID}):quote_id>")
class QuoteItem(MethodView):
    @blp.response(200, QuoteSchema)
    @blp.doc(**ld_doc(QUOTATION_SCHEMA))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, quote_id: int) -> Quote | Response:
        """Return one quote.

        With ``Accept: application/ld+json`` the answer is a schema.org Quotation.
        """
        quote = current_store().get_quote(quote_id)
        if wants_jsonld():
            return jsonld_response(quotation(quote))
        return quote

    @blp.arguments(QuoteWriteSchema)
    @blp.response(200, QuoteSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data: dict[str, Any], quote_id: int) -> Quote:
        """Change some fields of a quote; a null clears an optional field.

        A curator approves or rejects a pending quote by setting ``review``.
        """
        store = current_store()
        current = store.get_quote(quote_id)
        review = data.pop("review", None)
        changes: dict[str, Any] = {}
        if data:
            # Validate the merged quote with the import rules, then send only what changed.
            merged = parse_quote({**quote_record(current), **_record(data)})
            changes = {field: getattr(merged, field) for field in data}
        if review is not None:
            changes["review"] = review
        if not changes:
            return current
        return store.update_quote(quote_id, changes)

    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, quote_id: int) -> None:
        """Delete a quote."""
        current_store().delete_quote(quote_id)
