"""What every store does the same way, whatever the database: the word index's arithmetic,
an import's decisions, and the mapping between rows and the model records.

The SQLite and PostgreSQL stores differ only in how they read and write rows; both call
these functions, so that the same data gives the same candidates, scores and verdicts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from .errors import InvalidQuoteError, NotFoundError, StoreUnavailableError
from .models import (
    REVIEW_STATES,
    ApiKey,
    Appearance,
    Article,
    NewQuote,
    NormalizedQuote,
    Quote,
    Source,
    Speaker,
)
from .normalization import words

__all__ = [
    "COMPARED",
    "ID_DTYPE",
    "ImportPlan",
    "PostingLists",
    "article_from_row",
    "compared_fields",
    "plan_import",
    "quote_from_row",
    "rank_candidates",
]

# Candidate retrieval: which words are worth reading posting lists for.
RARE_SHARE = 0.02  # a word in more than 2% of quotes says little about which one is meant
RARE_FLOOR = 50  # ...but in a small store every word is "rare"
MIN_TERMS = 3  # fall back to the rarest words when a text has too few rare ones
MAX_TERMS = 32
MAX_POSTINGS = 40_000  # stop reading posting lists after this many ids
WIDE_POSTINGS = 250_000  # ...unless the rare words leave too many quotes tied (no budget)

ID_DTYPE = np.dtype("<u4")  # quote ids in posting lists: 32-bit, little-endian
MAX_ID = 2**63 - 1
NO_DATE = dt.date.min

# Fields whose change makes an import an update rather than "unchanged".
COMPARED = (
    "text",
    "speaker_id",
    "said_at",
    "context",
    "source_title",
    "source_url",
    "source_publisher",
    "source_published_at",
    "tags",
    "review",
)


# the word index ------------------------------------------------------------------------


def rank_candidates(
    df: Mapping[str, int],
    total: int,
    *,
    limit: int,
    budget: int | None,
    postings: Callable[[list[str]], Mapping[str, np.ndarray]],
    buffer: Callable[[int, np.ndarray | None], np.ndarray],
) -> list[int]:
    """Return up to ``limit`` quote ids by the summed rarity (IDF) of the terms of ``df``
    (term -> document frequency) they contain, best first, older quote first among equals.

    Only terms in at most ``RARE_SHARE`` of the quotes are read (with a floor for small
    stores), rarest first, until ``budget`` (default ``MAX_POSTINGS``) ids have been read:
    common words cost the most to read and say the least about which quote is meant. When
    the words read leave more than ``limit`` quotes tied and no budget was set, commoner
    words are read too (up to ``WIDE_POSTINGS`` ids) to tell them apart.
    ``postings(terms)`` reads posting lists; ``buffer(n, current)`` lends a zeroed float
    array of at least ``n`` entries (holding ``current``'s scores when it had to grow past
    it), and gets it back zeroed.
    """
    usable = sorted((t for t in df if df[t] > 0), key=lambda t: (df[t], t))
    rare_limit = max(RARE_FLOOR, int(total * RARE_SHARE))
    chosen = [t for t in usable if df[t] <= rare_limit][:MAX_TERMS]
    if len(chosen) < MIN_TERMS:
        chosen = usable[:MIN_TERMS]
    picked = _within(chosen, df, MAX_POSTINGS if budget is None else budget)
    # a caller that sets a budget searches many pieces of one text (an article's chunks):
    # a wide read per piece would cost more than all the rest, so its ties stay as read
    wide = WIDE_POSTINGS if budget is None else 0
    if not picked:
        return []
    lists = postings(picked)
    if not lists:
        return []
    touched = np.concatenate(list(lists.values()))
    scores = buffer(int(touched.max()) + 1, None)
    weights = {t: math.log((total + 1) / df[t]) for t in usable}
    for term, ids in lists.items():
        # ids are unique within a list, so a fancy-indexed add counts each once
        scores[ids] += weights[term]
    touched_scores = scores[touched]
    read = sum(df[t] for t in picked)
    rest = [t for t in usable if t not in lists]
    while rest and read < wide and _tied_at_top(touched, touched_scores) > limit:
        # the rare words cannot tell more than ``limit`` quotes apart (all of them hold
        # every one): read commoner words of the text too, so that the quote holding
        # the most of them comes first, rather than the oldest of the ties
        more = _within(rest, df, wide - read)
        if not more:
            break
        extra = postings(more)
        if extra:
            scores = buffer(max(int(i.max()) for i in extra.values()) + 1, scores)
        for term, ids in extra.items():
            scores[ids] += weights[term]
        read += sum(df[t] for t in more)
        rest = rest[len(more) :]
        touched = np.concatenate([touched, *extra.values()])
        touched_scores = scores[touched]
    scores[touched] = 0.0  # leave the buffer clean for the next query
    # an id repeats once per chosen word it contains; the best ones contain many, so
    # a few times ``limit`` entries leave ``limit`` distinct ids in practice
    wanted = limit * min(len(lists), 8)
    if len(touched) > wanted:
        # most ids hold one word of the text; when enough hold more, the best are among
        # those scoring above any one word's weight, a far shorter list to partition
        # (the rarest word, always read first, weighs the most)
        several = touched_scores > weights[usable[0]] + 1e-9
        if np.unique(touched[several]).size >= limit:
            touched, touched_scores = touched[several], touched_scores[several]
    if len(touched) > wanted:
        keep = np.argpartition(-touched_scores, wanted - 1)[:wanted]
        touched, touched_scores = touched[keep], touched_scores[keep]
    order = np.lexsort((touched, -touched_scores))  # best score first, then older quote
    ordered = touched[order]
    _, first = np.unique(ordered, return_index=True)
    return [int(i) for i in ordered[np.sort(first)][:limit]]


def _within(terms: Sequence[str], df: Mapping[str, int], budget: int) -> list[str]:
    """The leading ``terms`` whose posting lists add up to at most ``budget`` ids (at least
    the first one)."""
    picked: list[str] = []
    for term in terms:
        if df[term] > budget and picked:
            break
        budget -= df[term]
        picked.append(term)
    return picked


def _tied_at_top(ids: np.ndarray, scores: np.ndarray) -> int:
    """How many distinct quotes share the best score."""
    if not len(ids):
        return 0
    return int(np.unique(ids[scores >= scores.max() - 1e-9]).size)


def score_buffer(holder: object, size: int, current: np.ndarray | None = None) -> np.ndarray:
    """A float array of at least ``size`` entries kept on ``holder`` (a threading.local),
    reused from one query to the next: zeroed, or holding ``current``'s scores when it had
    to grow past ``current``."""
    found: np.ndarray | None = getattr(holder, "scores", None)
    if found is None or len(found) < size:
        grown = np.zeros(max(size, 1024) * 5 // 4, dtype=np.float64)
        if current is not None:
            grown[: len(current)] = current
        holder.scores = found = grown  # type: ignore[attr-defined]
    return found


def unpack(blobs: Iterable[bytes]) -> np.ndarray:
    """The ids of a word's posting-list segments, in segment order."""
    return np.frombuffer(b"".join(bytes(b) for b in blobs), dtype=ID_DTYPE)


def pack(ids: Iterable[int]) -> bytes:
    return np.asarray(ids, dtype=ID_DTYPE).tobytes()


class PostingLists:
    """New posting-list entries gathered in memory, to be written as one segment per word."""

    def __init__(self) -> None:
        self._lists: dict[str, array[int]] = {}

    def add(self, quote_id: int, norm: str, *, skip: set[str] | None = None) -> None:
        self.add_terms(quote_id, set(norm.split()) - (skip or set()))

    def put_before(self, lower: dict[str, bytes]) -> None:
        """Put packed ids, all lower than the gathered ones, in front of them."""
        for term, packed in lower.items():
            ids = array("I")
            ids.frombytes(packed)
            ids.extend(self._lists.get(term, array("I")))
            self._lists[term] = ids

    def add_terms(self, quote_id: int, terms: set[str]) -> None:
        if quote_id > 0xFFFFFFFF:
            raise StoreUnavailableError("quote ids beyond 2**32 do not fit the word index")
        lists = self._lists
        for term in terms:
            found = lists.get(term)
            if found is None:
                lists[term] = array("I", (quote_id,))
            else:
                found.append(quote_id)

    def empty(self) -> bool:
        return not self._lists

    def take(self) -> list[tuple[str, array[int]]]:
        """Return the gathered lists in term order (B-tree pages are visited once) and
        forget them."""
        items = sorted(self._lists.items())
        self._lists = {}
        return items


# rows and records ----------------------------------------------------------------------


def valid_id(value: int, what: str) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFoundError(f"no {what} with id {value}")
    return value


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def to_date(value: str | dt.date | None) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value) if value else None


def to_datetime(value: str | dt.datetime) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def norm_of(text: str, known: str = "") -> tuple[str, str]:
    """Return a text's normalised words and their key (a short hash) for duplicate checks."""
    norm = known or " ".join(words(text))
    if not norm:
        raise InvalidQuoteError("the quote text contains no words", field="text")
    return norm, hashlib.blake2b(norm.encode(), digest_size=12).hexdigest()


def review_state(state: str) -> str:
    if state not in REVIEW_STATES:
        raise InvalidQuoteError(f"review must be one of {', '.join(REVIEW_STATES)}", field="review")
    return state


def known_norm(quote: NewQuote) -> str:
    return quote.norm if isinstance(quote, NormalizedQuote) else ""


def compared_fields(quote: NewQuote, speaker_id: int) -> tuple[object, ...]:
    """The stored columns named in COMPARED, in that order, for a quote (dates as ISO
    text: a store whose columns are dates compares them as text)."""
    source = quote.source
    return (
        quote.text,
        speaker_id,
        quote.said_at.isoformat() if quote.said_at else None,
        quote.context,
        source.title if source else None,
        source.url if source else None,
        source.publisher if source else None,
        source.published_at.isoformat() if source and source.published_at else None,
        json.dumps(list(quote.tags), ensure_ascii=False) if quote.tags else "[]",
        review_state(quote.review),
    )


def row_values(quote: NewQuote, speaker_id: int) -> dict[str, object]:
    """The quote's columns (dates as ISO text), ready for an INSERT or an UPDATE."""
    norm, norm_key = norm_of(quote.text)
    source = quote.source or Source()
    return {
        "ref": quote.ref,
        "text": quote.text,
        "norm": norm,
        "norm_key": norm_key,
        "speaker_id": speaker_id,
        "said_at": quote.said_at.isoformat() if quote.said_at else None,
        "context": quote.context,
        "source_title": source.title,
        "source_url": source.url,
        "source_publisher": source.publisher,
        "source_published_at": (source.published_at.isoformat() if source.published_at else None),
        "tags": json.dumps(list(quote.tags), ensure_ascii=False),
        "review": review_state(quote.review),
    }


# the columns quote_from_row reads, joined with the speaker as s
QUOTE_COLUMNS = (
    "q.id, q.ref, q.text, q.said_at, q.context, q.source_title, q.source_url, "
    "q.source_publisher, q.source_published_at, q.tags, q.created_at, q.updated_at, "
    "s.id, s.name, q.review"
)
APPEARANCE_COLUMNS = 'id, quote_id, article_id, title, url, publisher, published_at, start, "end"'
ARTICLE_COLUMNS = "id, url, title, publisher, published_at, text, created_at"


def quote_from_row(row: tuple, speaker: Speaker, appearances: list[Appearance]) -> Quote:
    """A Quote from a row of QUOTE_COLUMNS, its speaker and its recorded appearances."""
    source = Source(row[5], row[6], row[7], to_date(row[8]))
    every = ([Appearance(None, source)] if not source.is_empty() else []) + appearances
    # first appearance first: dated ones by date, then the undated in the order recorded
    every.sort(key=lambda a: (a.source.published_at is None, a.source.published_at or NO_DATE))
    return Quote(
        id=row[0],
        ref=row[1],
        text=row[2],
        speaker=speaker,
        said_at=to_date(row[3]),
        context=row[4],
        source=None if source.is_empty() else source,
        tags=tuple(json.loads(row[9])),
        created_at=to_datetime(row[10]),
        updated_at=to_datetime(row[11]),
        review=row[14],
        appearances=tuple(every),
    )


def appearance_from_row(row: tuple) -> Appearance:
    """An Appearance from a row of APPEARANCE_COLUMNS."""
    source = Source(row[3], row[4], row[5], to_date(row[6]))
    return Appearance(row[0], source, article_id=row[2], start=row[7], end=row[8])


def article_from_row(row: tuple) -> Article:
    """An Article from a row of ARTICLE_COLUMNS."""
    return Article(
        id=row[0],
        url=row[1],
        title=row[2],
        publisher=row[3],
        published_at=to_date(row[4]),
        text=row[5],
        created_at=to_datetime(row[6]),
    )


KEY_COLUMNS = "id, key_id, name, scope, created_at, revoked_at"


def api_key_from_row(row: tuple) -> ApiKey:
    """An ApiKey from a row of KEY_COLUMNS."""
    return ApiKey(
        id=row[0],
        key_id=row[1],
        name=row[2],
        scope=row[3],
        created_at=to_datetime(row[4]),
        revoked_at=to_datetime(row[5]) if row[5] else None,
    )


def merge_changes(current: Quote, changes: Mapping[str, object]) -> NewQuote:
    """The quote as an update of ``current`` with ``changes`` (UPDATABLE_FIELDS) would
    leave it."""
    return NewQuote(
        text=str(changes.get("text", current.text)),
        speaker=str(changes.get("speaker", current.speaker.name)),
        ref=changes.get("ref", current.ref),  # type: ignore[arg-type]
        said_at=changes.get("said_at", current.said_at),  # type: ignore[arg-type]
        context=changes.get("context", current.context),  # type: ignore[arg-type]
        source=changes.get("source", current.source),  # type: ignore[arg-type]
        tags=tuple(cast(Iterable[str], changes.get("tags", current.tags))),
        review=str(changes.get("review", current.review)),
    )


def pair_appearances(
    rows: Iterable[tuple[int, int]], quotes: Mapping[int, Quote]
) -> list[tuple[Quote, Appearance]]:
    """Each (quote id, appearance id) of ``rows`` as the quote and that appearance, in
    order; quotes that no longer exist are left out."""
    out: list[tuple[Quote, Appearance]] = []
    for quote_id, appearance_id in rows:
        quote = quotes.get(quote_id)
        if quote is not None:
            out.extend((quote, a) for a in quote.appearances if a.id == appearance_id)
    return out


def article_key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


# imports -------------------------------------------------------------------------------


@dataclass
class ImportPlan:
    """What one chunk of an import does: rows to insert, rows to update, and counts."""

    inserts: list[tuple[NewQuote, tuple[object, ...]]] = field(default_factory=list)
    updates: list[tuple[int, NewQuote, int]] = field(default_factory=list)  # id, quote, speaker
    updated: int = 0
    unchanged: int = 0


def plan_import(
    rows: list[tuple[NewQuote, tuple[object, ...]]],
    existing: dict[str, tuple[int, tuple[object, ...]]],
    norms: Mapping[int, tuple[str, str]],
    duplicates: set[tuple[object, ...]],
) -> ImportPlan:
    """Decide, for each (quote, compared fields) of a chunk, whether it is new, an update
    of the stored quote with its ref, or unchanged. ``existing`` (stored quotes by ref) and
    ``duplicates`` ((norm_key, speaker_id, norm) of the stored quotes) are updated as the
    chunk is planned; ``norms`` holds each new quote's (norm, norm_key) by ``id(quote)``.
    A ref twice in one file: the last record wins."""
    plan = ImportPlan()
    new_refs: dict[str, int] = {}
    for quote, fields in rows:
        ref = quote.ref
        if ref is not None and ref in existing:
            quote_id, stored = existing[ref]
            if stored == fields:
                plan.unchanged += 1
            else:
                plan.updates.append((quote_id, quote, int(str(fields[1]))))
                existing[ref] = (quote_id, fields)
                plan.updated += 1
            continue
        if ref is not None and ref in new_refs:
            plan.inserts[new_refs[ref]] = (quote, fields)
            plan.updated += 1
            continue
        if ref is None:
            words_key = (norms[id(quote)][1], fields[1], norms[id(quote)][0])
            if words_key in duplicates:
                plan.unchanged += 1
                continue
            duplicates.add(words_key)
        else:
            new_refs[ref] = len(plan.inserts)
        plan.inserts.append((quote, fields))
    return plan


def batched(items: Iterable[NewQuote], size: int) -> Iterator[list[NewQuote]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
