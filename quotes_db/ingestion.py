"""Articles in, quotes out: extract quotations, attribute them, and keep their provenance.

An article is stored once (same URL or same text: the same article). Each quotation found
in it is checked against the store:

- the same words (whole, or a fragment) as a stored quote credited to the same speaker: an
  *appearance* of that quote (first appearance first, so the earliest source is known);
- anything else (new words, an altered version, the words credited to someone else): a
  *new* quote awaiting review (``review: "pending"``), which never makes a text
  ``verified`` until a curator approves it: an article that misquotes someone must not
  become the record;
- a quotation the article attributes to nobody: reported, never stored under a guess.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .errors import ConflictError
from .extraction import ExtractedQuote, extract_quotes
from .matching import verify
from .models import Article, NewQuote, Quote, Source
from .speakers import speaker_agrees
from .store import QuoteStore

__all__ = ["IngestedQuote", "IngestReport", "ingest_article"]


@dataclass(frozen=True, slots=True)
class IngestedQuote:
    """One quotation found in an article and what became of it."""

    extracted: ExtractedQuote
    outcome: str  # "appearance" | "new" | "unattributed"
    verdict: str  # how the quotation compares with the store before this article
    quote: Quote | None  # the stored quote it now belongs to (None for dry runs / unattributed)


@dataclass(frozen=True, slots=True)
class IngestReport:
    article: Article | None  # None on a dry run
    article_is_new: bool
    quotes: tuple[IngestedQuote, ...]


def ingest_article(
    store: QuoteStore,
    text: str,
    *,
    url: str | None = None,
    title: str | None = None,
    publisher: str | None = None,
    published_at: dt.date | None = None,
    dry_run: bool = False,
) -> IngestReport:
    """Store an article and the quotations in it (or, with ``dry_run``, only say what would
    be stored); return the article and each quotation's outcome, in text order."""
    source = Source(title=title, url=url, publisher=publisher, published_at=published_at)
    article: Article | None = None
    is_new = True
    if not dry_run:
        article, is_new = store.add_article(
            text, url=url, title=title, publisher=publisher, published_at=published_at
        )
        text = article.text  # a known article keeps the text its spans refer to
    extracted = extract_quotes(text)
    results = []
    for quote in extracted:
        results.append(_ingest_one(store, quote, source, article, dry_run=dry_run))
    return IngestReport(article, is_new, tuple(results))


def _ingest_one(
    store: QuoteStore,
    found: ExtractedQuote,
    source: Source,
    article: Article | None,
    *,
    dry_run: bool,
) -> IngestedQuote:
    if found.speaker is None:
        return IngestedQuote(found, "unattributed", "no_match", None)
    result = verify(store, found.text, speaker=found.speaker, limit=1, include_pending=True)
    same = _same_quote(result.matches, found.speaker) or _same_quote(result.pending, found.speaker)
    verdict = result.verdict
    if dry_run:
        return IngestedQuote(found, "appearance" if same else "new", verdict, same)
    article_id = article.id if article is not None else None
    if same is not None:
        quote = store.add_appearance(
            same.id, source, article_id=article_id, start=found.start, end=found.end
        )
        _add_aliases(store, quote, found)
        return IngestedQuote(found, "appearance", verdict, quote)
    try:
        created = store.add_quote(
            NewQuote(
                # "...," he said: the comma belongs to the sentence, not to the quote
                text=found.text.rstrip(",;: ") or found.text,
                speaker=found.speaker,
                context=found.context,
                review="pending",
                tags=("extracted",),
            )
        )
    except ConflictError:
        # the same words under this speaker already exist (rejected, say): point at them
        page = store.list_quotes(speaker=found.speaker, text=found.text, limit=1)
        if not page.items:
            raise
        created = page.items[0]
    quote = store.add_appearance(
        created.id, source, article_id=article_id, start=found.start, end=found.end
    )
    _add_aliases(store, quote, found)
    return IngestedQuote(found, "new", verdict, quote)


def _same_quote(matches: tuple, speaker: str) -> Quote | None:
    """The matched quote if it has the same words (whole or in part) and speaker."""
    for match in matches:
        if match.match in ("verified", "fragment") and speaker_agrees(speaker, match.quote.speaker):
            return match.quote
    return None


def _add_aliases(store: QuoteStore, quote: Quote, found: ExtractedQuote) -> None:
    """Keep the article's other forms of the speaker's name as aliases, where free."""
    speaker = quote.speaker
    known = {speaker.name.casefold(), *(a.casefold() for a in speaker.aliases)}
    new = [a for a in found.aliases if a.casefold() not in known and a.strip()]
    for alias in new:
        try:
            store.update_speaker(speaker.id, aliases=[*speaker.aliases, alias])
        except ConflictError:
            continue  # the name belongs to someone else: leave it there
        speaker = store.get_speaker(speaker.id)
