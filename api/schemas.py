"""Marshmallow schemas of the HTTP API: request bodies and query strings in, records out.

Limits that an operator can change (MAX_TEXT_CHARS, ARTICLE_MAX_CHARS, MAX_BATCH_ITEMS,
MAX_PAGE_SIZE, MAX_MATCHES) are read from the app config when a request is validated; fixed
limits are declared on the fields so that they show in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, missing, validate, validates_schema

from quotes_db.importing import MAX_TEXT_CHARS as MAX_QUOTE_CHARS
from quotes_db.models import REVIEW_STATES, VERDICTS

MAX_ID = 2**63 - 1  # SQLite's largest integer
MAX_OFFSET = 1_000_000_000
MAX_NAME_CHARS = 200
MAX_FIELD_CHARS = 2000
MAX_QUERY_CHARS = 500
OUTCOMES = ("appearance", "new", "unattributed")


class Text(fields.String):
    """A string the store can keep: no lone surrogates (SQLite cannot encode them), no NUL."""

    default_error_messages = {
        **fields.String.default_error_messages,
        "surrogate": "Must not contain lone surrogate code points.",
        "nul": "Must not contain NUL characters.",
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.make_error("surrogate") from None
        return text


class StrictBoolean(fields.Boolean):
    """A JSON true or false; marshmallow's Boolean would also take 1, "yes" and "on"."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def _setting(name: str) -> int:
    return int(current_app.config[name])


def _text_within(value: str, setting: str) -> None:
    limit = _setting(setting)
    if len(value) > limit:
        raise ValidationError(f"Longer than maximum length {limit}.")
    if not value.strip():
        raise ValidationError("Must not be blank.")


def text_length(value: str) -> None:
    """At most MAX_TEXT_CHARS characters, and not only whitespace."""
    _text_within(value, "MAX_TEXT_CHARS")


def article_length(value: str) -> None:
    """At most ARTICLE_MAX_CHARS characters, and not only whitespace."""
    _text_within(value, "ARTICLE_MAX_CHARS")


def scan_length(value: str) -> None:
    """At most MAX_SCAN_CHARS characters, and not only whitespace."""
    _text_within(value, "MAX_SCAN_CHARS")


def batch_size(value: list[Any]) -> None:
    """Between 1 and MAX_BATCH_ITEMS items."""
    limit = _setting("MAX_BATCH_ITEMS")
    if not 1 <= len(value) <= limit:
        raise ValidationError(f"Must have between 1 and {limit} items.")


def page_size(value: int) -> None:
    """Between 1 and MAX_PAGE_SIZE."""
    limit = _setting("MAX_PAGE_SIZE")
    if not 1 <= value <= limit:
        raise ValidationError(f"Must be between 1 and {limit}.")


def match_count(value: int) -> None:
    """Between 1 and MAX_MATCHES."""
    limit = _setting("MAX_MATCHES")
    if not 1 <= value <= limit:
        raise ValidationError(f"Must be between 1 and {limit}.")


def _strict_int(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, **kwargs)


# problems --------------------------------------------------------------------------------


class ProblemSchema(Schema):
    """RFC 9457 problem details, the body of every error response."""

    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages by field path; validation problems (422) only."},
    )
    request_id = fields.String(
        metadata={"description": "The response's X-Request-ID, to quote when reporting it."}
    )


# health ----------------------------------------------------------------------------------


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "ok"})
    worker = fields.Integer(metadata={"description": "Process id of the worker that answered."})


class ReadySchema(Schema):
    status = fields.String(metadata={"example": "ready"})
    quotes = fields.Integer(metadata={"description": "Number of stored quotes."})


# quotes ----------------------------------------------------------------------------------


class SourceSchema(Schema):
    """Where a quote was reported; every field is optional."""

    title = Text(allow_none=True, validate=validate.Length(max=MAX_FIELD_CHARS))
    url = Text(allow_none=True, validate=validate.Length(max=MAX_FIELD_CHARS))
    publisher = Text(allow_none=True, validate=validate.Length(max=MAX_FIELD_CHARS))
    published_at = fields.Date(allow_none=True)


class SpeakerRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class AppearanceSchema(Schema):
    """One place a quote was reported: the quote's own source, or an ingested article."""

    title = fields.String(attribute="source.title", allow_none=True)
    url = fields.String(attribute="source.url", allow_none=True)
    publisher = fields.String(attribute="source.publisher", allow_none=True)
    published_at = fields.Date(attribute="source.published_at", allow_none=True)
    article_id = fields.Integer(
        allow_none=True, metadata={"description": "The stored article, if it was ingested."}
    )
    start = fields.Integer(
        allow_none=True, metadata={"description": "Where the quotation starts in the article."}
    )
    end = fields.Integer(allow_none=True, metadata={"description": "Where it ends (exclusive)."})


class QuoteSchema(Schema):
    """A stored quote."""

    id = fields.Integer()
    ref = fields.String(allow_none=True)
    text = fields.String()
    speaker = fields.Nested(SpeakerRefSchema)
    said_at = fields.Date(allow_none=True)
    context = fields.String(allow_none=True)
    source = fields.Nested(SourceSchema, allow_none=True)
    tags = fields.List(fields.String())
    review = fields.String(
        validate=validate.OneOf(REVIEW_STATES),
        metadata={"description": "Only approved quotes decide a verdict."},
    )
    appearances = fields.List(
        fields.Nested(AppearanceSchema),
        metadata={"description": "Where the quote was reported, first appearance first."},
    )
    first_appearance = fields.Nested(AppearanceSchema, allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class QuoteWriteSchema(Schema):
    """The fields of a quote a client may set; PATCH sends any subset of them."""

    text = Text(validate=validate.Length(min=1, max=MAX_QUOTE_CHARS))
    speaker = Text(
        validate=validate.Length(min=1, max=MAX_NAME_CHARS),
        metadata={"description": "The speaker's name or one of their aliases."},
    )
    ref = Text(allow_none=True, validate=validate.Length(max=MAX_NAME_CHARS))
    said_at = fields.Date(allow_none=True)
    context = Text(allow_none=True, validate=validate.Length(max=MAX_FIELD_CHARS))
    source = fields.Nested(SourceSchema, allow_none=True)
    tags = fields.List(Text(validate=validate.Length(max=MAX_NAME_CHARS)))
    review = fields.String(
        validate=validate.OneOf(REVIEW_STATES),
        metadata={"description": "A curator approves or rejects a pending quote."},
    )


class QuoteCreateSchema(QuoteWriteSchema):
    text = Text(required=True, validate=validate.Length(min=1, max=MAX_QUOTE_CHARS))
    speaker = Text(
        required=True,
        validate=validate.Length(min=1, max=MAX_NAME_CHARS),
        metadata={"description": "The speaker's name or one of their aliases."},
    )


class QuoteQuerySchema(Schema):
    speaker = Text(
        validate=validate.Length(max=MAX_NAME_CHARS),
        metadata={"description": "Speaker name or alias, in any case."},
    )
    speaker_id = fields.Integer(validate=validate.Range(min=0, max=MAX_ID))
    q = Text(
        validate=validate.Length(max=MAX_QUERY_CHARS),
        metadata={"description": "Words that must all occur in the text."},
    )
    limit = fields.Integer(load_default=20, validate=page_size)
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_OFFSET))


class QuotePageSchema(Schema):
    items = fields.List(fields.Nested(QuoteSchema))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


# speakers --------------------------------------------------------------------------------


class SpeakerSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    aliases = fields.List(fields.String())
    quote_count = fields.Integer()


class SpeakerUpdateSchema(Schema):
    name = Text(validate=validate.Length(min=1, max=MAX_NAME_CHARS))
    aliases = fields.List(
        Text(validate=validate.Length(max=MAX_NAME_CHARS)),
        metadata={"description": "Replaces every alias of the speaker."},
    )


class SpeakerQuerySchema(Schema):
    q = Text(
        validate=validate.Length(max=MAX_NAME_CHARS),
        metadata={"description": "Part of a name or alias, in any case."},
    )
    limit = fields.Integer(load_default=20, validate=page_size)
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_OFFSET))


class SpeakerPageSchema(Schema):
    items = fields.List(fields.Nested(SpeakerSchema))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


# verification ----------------------------------------------------------------------------


class VerifyItemSchema(Schema):
    text = Text(
        required=True,
        validate=text_length,
        metadata={"description": "The quote as published; at most MAX_TEXT_CHARS characters."},
    )
    speaker = Text(
        allow_none=True,
        validate=validate.Length(max=MAX_NAME_CHARS),
        metadata={"description": "Who the text is credited to, if anyone."},
    )


def _include_pending() -> StrictBoolean:
    return StrictBoolean(
        load_default=False,
        metadata={"description": "Also report matches among quotes awaiting review."},
    )


class VerifyRequestSchema(VerifyItemSchema):
    limit = _strict_int(
        load_default=3,
        validate=match_count,
        metadata={"description": "Most matches to return; at most MAX_MATCHES (20)."},
    )
    include_pending = _include_pending()


class VerifyBatchRequestSchema(Schema):
    items = fields.List(fields.Nested(VerifyItemSchema), required=True, validate=batch_size)
    limit = _strict_int(
        load_default=3,
        validate=match_count,
        metadata={"description": "Most matches to return; at most MAX_MATCHES (20)."},
    )
    include_pending = _include_pending()


class DiffOpSchema(Schema):
    op = fields.String(validate=validate.OneOf(("equal", "insert", "delete", "replace")))
    original = fields.String(metadata={"description": "The stored wording."})
    submitted = fields.String(metadata={"description": "The submitted wording."})


class MatchSchema(Schema):
    quote = fields.Nested(QuoteSchema)
    match = fields.String(validate=validate.OneOf(("verified", "fragment", "altered")))
    similarity = fields.Float()
    diff = fields.List(fields.Nested(DiffOpSchema))
    quote_span = fields.Tuple(
        (fields.Integer(), fields.Integer()),
        metadata={"description": "[start, end) of the matched part in the stored text."},
    )
    text_span = fields.Tuple(
        (fields.Integer(), fields.Integer()),
        metadata={"description": "[start, end) of the matched part in the submitted text."},
    )


class AttributionSchema(Schema):
    claimed = fields.String(allow_none=True)
    recorded = fields.String(allow_none=True)
    agrees = fields.Boolean(allow_none=True)


class VerificationSchema(Schema):
    verdict = fields.String(validate=validate.OneOf(VERDICTS))
    confidence = fields.Float()
    summary = fields.String()
    attribution = fields.Nested(AttributionSchema)
    matches = fields.List(fields.Nested(MatchSchema))
    pending_matches = fields.List(
        fields.Nested(MatchSchema),
        attribute="pending",
        metadata={
            "description": "Matches among quotes awaiting review (never part of the verdict);"
            " empty unless include_pending was asked for."
        },
    )


class VerificationBatchSchema(Schema):
    results = fields.List(fields.Nested(VerificationSchema))


# page scan -------------------------------------------------------------------------------


class ScanRequestSchema(Schema):
    """A page to scan: its plain text, or its HTML (reduced to text with trafilatura)."""

    text = Text(
        validate=scan_length,
        metadata={"description": "The page's plain text; at most MAX_SCAN_CHARS characters."},
    )
    html = Text(
        validate=validate.Length(min=1),
        metadata={
            "description": "The page's HTML, instead of text; its main text (at most"
            " MAX_SCAN_CHARS characters) is scanned. The body is limited by MAX_BODY_BYTES."
        },
    )
    url = Text(
        allow_none=True,
        validate=validate.Length(max=MAX_FIELD_CHARS),
        metadata={"description": "Where the HTML comes from (a hint only, nothing is fetched)."},
    )
    limit = _strict_int(
        load_default=1,
        validate=match_count,
        metadata={"description": "Most matches per finding; at most MAX_MATCHES (20)."},
    )
    include_pending = _include_pending()

    @validates_schema
    def _text_or_html(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "text" not in data and "html" not in data:
            raise ValidationError("Give the page's text, or its html.", "text")
        if "text" in data and "html" in data:
            raise ValidationError("Give the page's text or its html, not both.", "html")
        if "url" in data and "html" not in data:
            raise ValidationError("A url goes with html only.", "url")


class ScanFindingSchema(Schema):
    start = fields.Integer(metadata={"description": "Where the passage starts in ``text``."})
    end = fields.Integer(metadata={"description": "Where it ends (exclusive)."})
    quote = fields.String(metadata={"description": "The passage as in the page: text[start:end]."})
    speaker = fields.String(
        allow_none=True,
        metadata={"description": "Who the page credits the quotation to; null if no one."},
    )
    kind = fields.String(
        validate=validate.OneOf(("quotation", "unmarked")),
        metadata={
            "description": "quotation: in quotation marks; unmarked: a stored quote's words"
            " repeated without them."
        },
    )
    verification = fields.Nested(
        VerificationSchema,
        metadata={"description": "What POST /v1/verify says of the passage (and speaker)."},
    )


class ScanStatsSchema(Schema):
    characters = fields.Integer()
    words = fields.Integer()
    quotations = fields.Integer()
    unmarked = fields.Integer()
    verdicts = fields.Dict(keys=fields.String(), values=fields.Integer())


class ScanSchema(Schema):
    text = fields.String(metadata={"description": "The page text that the spans refer to."})
    findings = fields.List(fields.Nested(ScanFindingSchema), metadata={"description": "By start."})
    stats = fields.Nested(ScanStatsSchema)


# articles --------------------------------------------------------------------------------


class ArticleCreateSchema(Schema):
    """An article to ingest: its text (text mode) or a URL to fetch it from (fetch mode)."""

    text = Text(
        validate=article_length,
        metadata={"description": "The article's plain text; at most ARTICLE_MAX_CHARS."},
    )
    url = Text(
        validate=validate.Length(min=1, max=MAX_FIELD_CHARS),
        metadata={
            "description": "Without text: the page to fetch. With text: where it was"
            " published (metadata only, nothing is fetched)."
        },
    )
    title = Text(allow_none=True, validate=validate.Length(max=MAX_FIELD_CHARS))
    publisher = Text(allow_none=True, validate=validate.Length(max=MAX_FIELD_CHARS))
    published_at = fields.Date(allow_none=True)
    dry_run = StrictBoolean(
        load_default=False,
        metadata={"description": "Report what would be stored, and store nothing."},
    )

    @validates_schema
    def _text_or_url(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "text" not in data and "url" not in data:
            raise ValidationError("Give the article's text, or a url to fetch it from.", "text")


class ArticleSchema(Schema):
    """A stored article, without its text (a dry run's preview has only the metadata)."""

    id = fields.Integer()
    url = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    publisher = fields.String(allow_none=True)
    published_at = fields.Date(allow_none=True)
    created_at = fields.DateTime()
    text_length = fields.Method("_text_length", metadata={"type": "integer"})

    def _text_length(self, article: object) -> object:
        text = (
            article.get("text") if isinstance(article, Mapping) else getattr(article, "text", None)
        )
        return missing if text is None else len(text)


class ArticleQuoteSchema(Schema):
    """A stored quote where it appears in an article."""

    start = fields.Integer(attribute="appearance.start", allow_none=True)
    end = fields.Integer(attribute="appearance.end", allow_none=True)
    quote = fields.Nested(QuoteSchema)


class ArticleDetailSchema(ArticleSchema):
    text = fields.String()
    quotes = fields.List(
        fields.Nested(ArticleQuoteSchema),
        metadata={"description": "The stored quotes that appear in the article, in text order."},
    )


class ArticleQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=page_size)
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_OFFSET))


class ArticlePageSchema(Schema):
    items = fields.List(fields.Nested(ArticleSchema))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class IngestedQuoteSchema(Schema):
    """A quotation found in the article and what became of it."""

    text = fields.String(attribute="extracted.text")
    start = fields.Integer(attribute="extracted.start")
    end = fields.Integer(attribute="extracted.end")
    speaker = fields.String(
        attribute="extracted.speaker",
        allow_none=True,
        metadata={"description": "Who the article credits, as its fullest name; null if no one."},
    )
    speaker_mention = fields.String(attribute="extracted.speaker_mention", allow_none=True)
    cue = fields.String(attribute="extracted.cue", allow_none=True)
    context = fields.String(attribute="extracted.context", allow_none=True)
    outcome = fields.String(
        validate=validate.OneOf(OUTCOMES),
        metadata={
            "description": "appearance: of a stored quote; new: stored, pending review;"
            " unattributed: credited to no one, not stored."
        },
    )
    verdict = fields.String(
        validate=validate.OneOf(VERDICTS),
        metadata={"description": "How the quotation compared with the store before."},
    )
    quote = fields.Nested(QuoteSchema, allow_none=True)


class IngestionSchema(Schema):
    article = fields.Nested(ArticleSchema, allow_none=True)
    dry_run = fields.Boolean()
    quotes = fields.List(fields.Nested(IngestedQuoteSchema))
