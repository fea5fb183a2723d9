"""Articles: ingest one (its text, or a URL to fetch), list them, read one with its quotes.

Ingesting finds the quotations in an article and records each one: as an appearance of a
stored quote, as a new quote awaiting review, or (credited to no one) not at all.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import current_app, url_for
from flask.views import MethodView

from quotes_db.fetching import FetchedArticle, Fetcher
from quotes_db.ingestion import ingest_article
from quotes_db.models import Article, Page

from ..errors import PROBLEM_JSON, Problem
from ..schemas import (
    MAX_ID,
    ArticleCreateSchema,
    ArticleDetailSchema,
    ArticlePageSchema,
    ArticleQuerySchema,
    IngestionSchema,
    ProblemSchema,
)
from . import Blueprint, current_store

blp = Blueprint(
    "articles", __name__, url_prefix="/v1", description="Articles and the quotes found in them."
)

METADATA = ("url", "title", "publisher", "published_at")


def fetch_article(url: str) -> FetchedArticle:
    """Fetch ``url`` with the FETCH_* settings; the fetch errors become 422, 502 and 504."""
    config = current_app.config
    with Fetcher(
        max_bytes=config["FETCH_MAX_BYTES"],
        connect_timeout=config["FETCH_CONNECT_TIMEOUT"],
        read_timeout=config["FETCH_READ_TIMEOUT"],
        total_timeout=config["FETCH_TOTAL_TIMEOUT"],
        allow_private=bool(config["FETCH_ALLOW_PRIVATE"]),
    ) as fetcher:
        return fetcher.fetch(url)


def _article_input(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return the article's text and metadata: as given (text mode), or fetched (url only).

    In fetch mode, metadata given in the request overrides what the page declares."""
    if "text" in data:
        return data["text"], {name: data.get(name) for name in METADATA}
    fetched = fetch_article(data["url"])
    limit = int(current_app.config["ARTICLE_MAX_CHARS"])
    problem = None
    if not fetched.text.strip():
        problem = f"No article text was found at {fetched.url}."
    elif len(fetched.text) > limit:
        problem = f"The article at {fetched.url} is longer than {limit} characters."
    if problem is not None:
        raise Problem(422, problem, errors={"url": [problem]})
    declared = {
        "url": fetched.url,  # after redirects
        "title": fetched.title,
        "publisher": fetched.publisher,
        "published_at": fetched.published_at,
    }
    return fetched.text, {name: data.get(name, declared[name]) for name in METADATA}


def _problem(description: str) -> dict[str, Any]:
    return {"schema": ProblemSchema, "description": description, "content_type": PROBLEM_JSON}


@blp.route("/articles")
class ArticleList(MethodView):
    @blp.arguments(ArticleQuerySchema, location="query")
    @blp.response(200, ArticlePageSchema)
    def get(self, args: dict[str, Any]) -> Page[Article]:
        """List stored articles newest first, without their text."""
        return current_store().list_articles(limit=args["limit"], offset=args["offset"])

    @blp.arguments(ArticleCreateSchema)
    @blp.response(201, IngestionSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(
        200,
        schema=IngestionSchema,
        description="A dry run, or an article that was already stored (same URL or text).",
    )
    @blp.alt_response(502, **_problem("The article's site could not be fetched."))
    @blp.alt_response(504, **_problem("The article's site did not answer in time."))
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Ingest an article: store it and record the quotations in it.

        Send ``text`` (``url`` and the rest are then only metadata), or ``url`` without text
        to fetch the page (a ``title``, ``publisher`` or ``published_at`` given overrides the
        page's own). With ``dry_run``, nothing is stored and the article is only a preview.
        """
        text, metadata = _article_input(data)
        dry_run: bool = data["dry_run"]
        report = ingest_article(current_store(), text, dry_run=dry_run, **metadata)
        body = {
            "article": metadata if dry_run else report.article,
            "dry_run": dry_run,
            "quotes": report.quotes,
        }
        if report.article is not None and report.article_is_new:
            location = url_for("articles.ArticleItem", article_id=report.article.id)
            return body, 201, {"Location": location}
        return body, 200, {}


@blp.route(f"/articles/<int(max={MAX_ID}):article_id>")
class ArticleItem(MethodView):
    @blp.response(200, ArticleDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id: int) -> dict[str, Any]:
        """Return one article with its text and the stored quotes that appear in it."""
        store = current_store()
        article = store.get_article(article_id)
        quotes = [
            {"quote": quote, "appearance": appearance}
            for quote, appearance in store.article_quotes(article_id)
        ]
        return {**dataclasses.asdict(article), "quotes": quotes}
