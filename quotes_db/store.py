"""The storage interface. Matching talks to this protocol only, never to a database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from .models import (
    ApiKey,
    Appearance,
    Article,
    Candidate,
    ImportReport,
    NewQuote,
    Page,
    Quote,
    Source,
    Speaker,
)

__all__ = ["QuoteStore", "open_store", "speaker_key"]

# Fields of a quote that an update may change.
UPDATABLE_FIELDS = frozenset(
    {"text", "speaker", "ref", "said_at", "context", "source", "tags", "review"}
)


def speaker_key(name: str) -> str:
    """Return the key under which speaker names and aliases are compared (case, spacing)."""
    return " ".join(name.casefold().split())


class QuoteStore(Protocol):
    """What the service needs from a database of attributed quotes."""

    url: str

    def migrate(self) -> int:
        """Bring the schema up to date; return the schema version."""
        ...

    def ping(self) -> None:
        """Raise StoreUnavailableError unless the database answers."""
        ...

    def close(self) -> None: ...

    # quotes
    def add_quote(self, quote: NewQuote) -> Quote:
        """Store one quote and return it; ConflictError when its ref is taken."""
        ...

    def import_quotes(
        self,
        quotes: Iterable[NewQuote],
        *,
        commit_every: int | None = None,
        may_commit: Callable[[], bool] = lambda: True,
    ) -> ImportReport:
        """Upsert quotes by ref; return the counts.

        One transaction: all of them are stored, or none. With ``commit_every``, the work so
        far is committed after about that many quotes whenever ``may_commit()`` says so, so
        that a long import that is interrupted keeps what it had done.
        """
        ...

    def get_quote(self, quote_id: int) -> Quote:
        """Return the quote; NotFoundError when there is none."""
        ...

    def get_quotes(self, quote_ids: Sequence[int]) -> dict[int, Quote]:
        """Return the quotes that exist among ``quote_ids``, by id."""
        ...

    def update_quote(self, quote_id: int, changes: Mapping[str, object]) -> Quote:
        """Change the given fields (see UPDATABLE_FIELDS) and return the new quote."""
        ...

    def delete_quote(self, quote_id: int) -> None: ...

    def list_quotes(
        self,
        *,
        speaker_id: int | None = None,
        speaker: str | None = None,
        text: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Page[Quote]:
        """Return quotes newest first, filtered by speaker and by words in the text."""
        ...

    def iter_quotes(self) -> Iterator[Quote]:
        """Yield every quote in id order (for export)."""
        ...

    def count_quotes(self) -> int: ...

    # speakers
    def get_speaker(self, speaker_id: int) -> Speaker: ...

    def find_speaker(self, name: str) -> Speaker | None:
        """Return the speaker whose name or alias is ``name`` (any case and spacing)."""
        ...

    def list_speakers(
        self, *, name: str | None = None, limit: int = 20, offset: int = 0
    ) -> Page[Speaker]: ...

    def update_speaker(
        self, speaker_id: int, *, name: str | None = None, aliases: Sequence[str] | None = None
    ) -> Speaker: ...

    # provenance
    def add_article(
        self,
        text: str,
        *,
        url: str | None = None,
        title: str | None = None,
        publisher: str | None = None,
        published_at: dt.date | None = None,
    ) -> tuple[Article, bool]:
        """Store an article, or find the same one (URL or text); return it and if it is new."""
        ...

    def get_article(self, article_id: int) -> Article: ...

    def list_articles(self, *, limit: int = 20, offset: int = 0) -> Page[Article]: ...

    def article_quotes(self, article_id: int) -> list[tuple[Quote, Appearance]]:
        """The quotes that appear in an article, each with that appearance, in text order."""
        ...

    def add_appearance(
        self,
        quote_id: int,
        source: Source,
        *,
        article_id: int | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> Quote:
        """Record that a quote appeared in a source; return the quote."""
        ...

    # API keys (the secret itself is never stored: see quotes_db.keys)
    def add_api_key(self, name: str, scope: str, key_id: str, salt: bytes, digest: bytes) -> ApiKey:
        """Store a key's salted digest; return its record. ConflictError if key_id is taken."""
        ...

    def list_api_keys(self) -> list[ApiKey]:
        """Return every key, revoked ones too, oldest first."""
        ...

    def revoke_api_key(self, key_id: str) -> ApiKey:
        """Mark the key revoked and return it; NotFoundError when there is none."""
        ...

    def find_api_key(self, key_id: str) -> tuple[ApiKey, bytes, bytes] | None:
        """Return the key's record, salt and digest; None when there is none."""
        ...

    # retrieval, for matching
    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        """Return how many quotes contain each term (0 for a term the store never saw)."""
        ...

    def total_documents(self) -> int: ...

    def terms_with_prefix(self, prefix: str) -> dict[str, int]:
        """Return every stored term starting with ``prefix`` (non-empty) and its document
        frequency: the neighbourhood in which a misspelt word's intended word is sought."""
        ...

    def candidates(
        self,
        terms: Sequence[str],
        *,
        limit: int,
        frequencies: Mapping[str, int] | None = None,
        budget: int | None = None,
    ) -> list[Candidate]:
        """Return up to ``limit`` quotes sharing the most informative of ``terms``, best first.

        Served by an index; never a scan of every quote. ``frequencies``, when the caller
        already has them from ``document_frequencies``, saves looking them up again.
        ``budget`` caps the index entries read (None: the store's default), for callers
        that search many pieces of one text.
        """
        ...


def open_store(url: str) -> QuoteStore:
    """Open the store a database URL names: ``sqlite:///rel.db``, ``sqlite:////abs.db``, a path."""
    if url.startswith("sqlite:"):
        from .sqlite_store import SQLiteQuoteStore

        # SQLAlchemy's convention: sqlite:///relative.db and sqlite:////absolute.db
        path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else ""
        if path in ("", ":memory:"):
            raise ValueError("an in-memory SQLite store is not supported; give a file path")
        return SQLiteQuoteStore(Path(path))
    if "://" not in url:
        from .sqlite_store import SQLiteQuoteStore

        return SQLiteQuoteStore(Path(url))
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path/to/file.db")
