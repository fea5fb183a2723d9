"""Plain frozen records that the store and the matcher return. No framework types here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = [
    "ApiKey",
    "API_KEY_SCOPES",
    "Appearance",
    "Article",
    "Attribution",
    "Candidate",
    "DiffOp",
    "ImportReport",
    "Match",
    "NewQuote",
    "NormalizedQuote",
    "Page",
    "Quote",
    "REVIEW_STATES",
    "Source",
    "Speaker",
    "Verification",
    "VERDICTS",
]

VERDICTS = ("verified", "fragment", "altered", "misattributed", "no_match")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a quote was reported: every field is optional, and none is ever invented."""

    title: str | None = None
    url: str | None = None
    publisher: str | None = None
    published_at: dt.date | None = None

    def is_empty(self) -> bool:
        return not (self.title or self.url or self.publisher or self.published_at)


@dataclass(frozen=True, slots=True)
class Speaker:
    id: int
    name: str
    aliases: tuple[str, ...] = ()
    quote_count: int = 0


REVIEW_STATES = ("approved", "pending", "rejected")

API_KEY_SCOPES = ("write", "admin")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as the store keeps it: its public id and metadata, never its secret."""

    id: int
    key_id: str
    name: str
    scope: str  # "write" | "admin"
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class Appearance:
    """One place a quote was reported: a source, and where in its text (if stored)."""

    id: int | None  # None for the quote's own source record
    source: Source
    article_id: int | None = None
    start: int | None = None  # span of the quotation in the article's text
    end: int | None = None


@dataclass(frozen=True, slots=True)
class Article:
    id: int
    url: str | None
    title: str | None
    publisher: str | None
    published_at: dt.date | None
    text: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Quote:
    id: int
    ref: str | None
    text: str
    speaker: Speaker
    said_at: dt.date | None
    context: str | None
    source: Source | None
    tags: tuple[str, ...]
    created_at: dt.datetime
    updated_at: dt.datetime
    review: str = "approved"  # "pending" quotes (extracted, unreviewed) never verify text
    appearances: tuple[Appearance, ...] = ()  # first appearance first

    @property
    def first_appearance(self) -> Appearance | None:
        return self.appearances[0] if self.appearances else None


@dataclass(frozen=True, slots=True)
class NewQuote:
    """A quote as a caller or an import file gives it; the speaker is a name."""

    text: str
    speaker: str
    ref: str | None = None
    said_at: dt.date | None = None
    context: str | None = None
    source: Source | None = None
    tags: tuple[str, ...] = ()
    review: str = "approved"


@dataclass(frozen=True, slots=True)
class NormalizedQuote(NewQuote):
    """A NewQuote whose normalised words (``normalization.words`` joined by spaces) were
    already computed, by an import worker process, so the store need not redo it."""

    norm: str = ""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing, with the total number of items across all pages."""

    items: tuple[T, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True, slots=True)
class Candidate:
    """A quote found by the index: its id, speaker id and normalised words."""

    quote_id: int
    speaker_id: int
    words: tuple[str, ...]
    review: str = "approved"


@dataclass(frozen=True, slots=True)
class DiffOp:
    """One step of a word-level diff; ``original`` is the stored wording."""

    op: str  # "equal" | "insert" | "delete" | "replace"
    original: str
    submitted: str


@dataclass(frozen=True, slots=True)
class Match:
    quote: Quote
    match: str  # "verified" | "fragment" | "altered"
    similarity: float
    diff: tuple[DiffOp, ...]
    quote_span: tuple[int, int]
    text_span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Attribution:
    claimed: str | None
    recorded: str | None
    agrees: bool | None


@dataclass(frozen=True, slots=True)
class Verification:
    verdict: str
    confidence: float
    summary: str
    attribution: Attribution
    matches: tuple[Match, ...]
    evidence: float = 0.0  # the uncalibrated evidence score behind ``confidence``
    pending: tuple[Match, ...] = ()  # matches among unreviewed quotes, when asked for
