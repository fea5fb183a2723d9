"""Scan a page: every quotation in it, and every stored quote it repeats without quote marks.

A page (a news article, a post) is checked in two ways:

- each *quotation* (a passage in quotation marks, found by ``extraction.extract_quotes``)
  is verified on its own, credited to the speaker the page attributes it to;
- the whole text is searched chunk by chunk for stored quotes (``matching``'s long-text
  retrieval), and each passage that lines up with an approved quote outside every
  quotation is reported as *unmarked*: the page repeats the words without saying so.

Every finding carries its character span in the scanned text and the same
``Verification`` that ``matching.verify`` gives for its passage alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import trafilatura
from rapidfuzz.distance import LCSseq

from .extraction import extract_quotes
from .matching import (
    DEFAULT_OPTIONS,
    Alignment,
    MatchOptions,
    _score,
    align,
    classify,
    verify,
)
from .models import Candidate, Verification
from .normalization import NormalizedText, normalize
from .store import QuoteStore

__all__ = ["ScanFinding", "ScanResult", "UnmarkedMatch", "find_unmarked", "page_text", "scan_text"]

# A candidate is aligned only if its words, in order, make up at least this share of it
# within the part of the page it was found for: an altered quote keeps most of its words.
LEAST_SHARED = 0.5


@dataclass(frozen=True, slots=True)
class ScanFinding:
    """One passage of the page: a quotation, or a stored quote repeated without marks."""

    start: int
    end: int
    quote: str  # the passage as in the page: text[start:end]
    speaker: str | None  # who the page credits (quotations only)
    kind: str  # "quotation" | "unmarked"
    verification: Verification


@dataclass(frozen=True, slots=True)
class ScanResult:
    text: str
    findings: tuple[ScanFinding, ...]  # by start

    @property
    def stats(self) -> dict[str, object]:
        """Counts for a summary line: size of the page, findings by kind and by verdict."""
        kinds = Counter(f.kind for f in self.findings)
        verdicts = Counter(f.verification.verdict for f in self.findings)
        return {
            "characters": len(self.text),
            "words": len(self.text.split()),
            "quotations": kinds.get("quotation", 0),
            "unmarked": kinds.get("unmarked", 0),
            "verdicts": dict(verdicts),
        }


@dataclass(frozen=True, slots=True)
class UnmarkedMatch:
    """A span of the text that lines up with a stored (approved) quote."""

    quote_id: int
    start: int
    end: int
    kind: str  # "verified" | "fragment" | "altered"
    score: float


def page_text(html: str, *, url: str | None = None) -> str:
    """Return the main text of an HTML page (one paragraph a line, no comments or tables),
    as trafilatura finds it; "" when it finds none."""
    text = trafilatura.extract(
        html,
        url=url,
        include_comments=False,
        include_tables=False,
        with_metadata=False,
    )
    return text or ""


def scan_text(
    store: QuoteStore,
    text: str,
    *,
    limit: int = 1,
    include_pending: bool = False,
    options: MatchOptions = DEFAULT_OPTIONS,
) -> ScanResult:
    """Return every quotation of ``text`` and every stored quote it repeats without quote
    marks, each verified (with up to ``limit`` matches), sorted by where they start."""
    findings: list[ScanFinding] = []
    for found in extract_quotes(text):
        result = verify(
            store,
            found.text,
            speaker=found.speaker,
            limit=limit,
            include_pending=include_pending,
            options=options,
        )
        findings.append(
            ScanFinding(
                found.start,
                found.end,
                text[found.start : found.end],
                found.speaker,
                "quotation",
                result,
            )
        )
    covered = [(f.start, f.end) for f in findings]
    for m in find_unmarked(store, text, options=options):
        if any(m.start < end and start < m.end for start, end in covered):
            continue
        passage = text[m.start : m.end]
        result = verify(
            store, passage, limit=limit, include_pending=include_pending, options=options
        )
        if result.verdict == "no_match":
            continue  # only lined up in the context of its neighbours
        covered.append((m.start, m.end))
        findings.append(ScanFinding(m.start, m.end, passage, None, "unmarked", result))
    findings.sort(key=lambda f: (f.start, f.end))
    return ScanResult(text, tuple(findings))


def find_unmarked(
    store: QuoteStore, text: str, *, options: MatchOptions = DEFAULT_OPTIONS
) -> list[UnmarkedMatch]:
    """Return the spans of ``text`` that line up with approved stored quotes (best first,
    no two overlapping), whether or not they stand in quotation marks."""
    normalized = normalize(text)
    if not normalized.tokens:
        return []
    words = normalized.words
    vocabulary = store.document_frequencies(words)
    matches: list[UnmarkedMatch] = []
    for candidate, first, last in _candidates(store, words, vocabulary, options):
        if candidate.review != "approved":
            continue
        shared = LCSseq.similarity(list(candidate.words), list(words[first:last]))
        if shared < min(options.min_words, len(candidate.words)):
            continue
        if shared < LEAST_SHARED * len(candidate.words):
            continue  # too few of its words, in order, to be its altered form
        a, start, end = _align_within(normalized, first, last, candidate, vocabulary, options)
        if a.kind == "no_match" or end <= start:
            continue
        matches.append(UnmarkedMatch(candidate.quote_id, start, end, a.kind, a.score))
    matches.sort(key=lambda m: m.score, reverse=True)
    kept: list[UnmarkedMatch] = []
    for m in matches:
        if not any(m.start < k.end and k.start < m.end for k in kept):
            kept.append(m)
    return kept


def _candidates(
    store: QuoteStore,
    words: tuple[str, ...],
    vocabulary: dict[str, int],
    options: MatchOptions,
) -> Iterator[tuple[Candidate, int, int]]:
    """Candidates for every chunk of the text, each with the word range around its chunk.

    Unlike verify's search, a quote found by several chunks is kept with each of them: in a
    small store every chunk finds every quote, and only the right chunk lines it up."""
    size = options.chunk_words
    n = len(words)
    if n <= size + size // 2:
        for c in store.candidates(list(words), limit=options.retrieve, frequencies=vocabulary):
            yield c, 0, n
        return
    stride = size - size // 4
    for start in range(0, n - size // 4, stride):
        chunk = list(words[start : start + size])
        for c in store.candidates(
            chunk,
            limit=options.chunk_retrieve,
            frequencies=vocabulary,
            budget=options.chunk_postings,
        ):
            reach = len(c.words)
            yield c, max(0, start - reach), min(n, start + size + reach)


def _align_within(
    text: NormalizedText,
    first: int,
    last: int,
    candidate: Candidate,
    vocabulary: dict[str, int],
    options: MatchOptions,
) -> tuple[Alignment, int, int]:
    """Align a candidate with the words first..last-1 of the text only (a long page is not
    read again for every candidate); return the alignment over that part and the character
    span of the aligned region in the whole text."""
    last = min(last, len(text.tokens))
    offset, part_end = text.span(first, last - 1)
    part = normalize(text.original[offset:part_end])
    a = align(part, candidate, vocabulary)
    a.kind = classify(a, options)
    a.score = _score(a)
    same = [op for op in a.ops if op[0] == "equal" and op[4] > op[3]]
    if not same:
        return a, offset, offset
    # the passage runs from the first to the last word the page shares with the quote: the
    # words the aligner replaced at its edges belong to the page's own sentence
    first_token = a.qwords[same[0][3]].first
    last_token = a.qwords[same[-1][4] - 1].last
    start, end = part.span(first_token, last_token)
    return a, offset + start, offset + end
