"""Verification: find the stored quote a text derives from, and say how it differs.

How it works, in four steps (the README has the longer story):

1. **Normalise** the submitted text into words, keeping each word's span in the original.
2. **Retrieve** a few hundred candidates from the store's index by the rare words they share
   with the text (``QuoteStore.candidates``), then rank them by the longest common
   subsequence of words (rapidfuzz ``LCSseq``) and keep the best few.
3. **Align** each of those with the text at word level: pick the window of the text where
   the quote's words are densest, map misspellings (a word the store does not know, within
   two edits of a quote word) and run-together or split words onto the quote's words, and
   take rapidfuzz's Levenshtein opcodes over the word sequences.
4. **Classify** the alignment: whole quote and nothing changed but spelling is
   ``verified``; a contiguous run (or an abridgement marked with ellipses) is ``fragment``;
   substituted, inserted, deleted or moved words make it ``altered``; too little in common
   is ``no_match``. A credited speaker who is not the recorded one makes it
   ``misattributed``.
"""

from __future__ import annotations

import gc
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel, LCSseq, Levenshtein

from . import calibration
from .lexicon import is_english_word
from .lexicon import load as load_lexicon
from .models import Attribution, Candidate, DiffOp, Match, Quote, Verification
from .normalization import NormalizedText, normalize
from .speakers import speaker_agrees
from .store import QuoteStore

__all__ = ["Alignment", "MatchOptions", "align", "classify", "prepare", "verify"]

Op = tuple[str, int, int, int, int]  # (tag, quote start, quote end, text start, text end)


@dataclass(frozen=True, slots=True)
class MatchOptions:
    """Tunable thresholds of the matcher (defaults measured with ``make eval``)."""

    retrieve: int = 60  # candidates read from the index
    rescore: int = 4  # candidates aligned word by word
    fragment_coverage: float = 0.9  # a run covering less of the quote is a fragment
    typo_share: float = 1 / 8  # misspellings allowed in a verified quote
    min_words: int = 4  # fewer shared words than this is never a match
    altered_similarity: float = 0.6  # least word similarity for "altered"
    cut_precision: float = 0.85  # a text this faithful to the quote's words, in order...
    cut_share: float = 0.4  # ...and showing this much of it is "altered" however much is cut
    reorder_overlap: float = 0.85  # bag-of-words overlap that makes a reorder "altered"
    outside_share: float = 0.25  # most of a text outside a partial match, unless quoted
    chunk_words: int = 80  # a longer text is searched in overlapping chunks of this size
    chunk_retrieve: int = 20  # candidates per chunk
    chunk_postings: int = 20_000  # index entries read per chunk


DEFAULT_OPTIONS = MatchOptions()


@dataclass(frozen=True, slots=True)
class _QWord:
    """A word of the submitted text as the aligner sees it."""

    word: str  # canonical form (a misspelling is replaced by the quote word it stands for)
    first: int  # index of the first original token it comes from
    last: int  # index of the last original token it comes from
    typo: bool


@dataclass(slots=True)
class Alignment:
    """How one stored quote lines up with the submitted text, and what differs."""

    candidate: Candidate
    ops: list[Op]  # over the window of the text
    qwords: list[_QWord]
    matched: int = 0  # quote words found (misspellings included)
    typos: int = 0
    replaced_quote: int = 0  # quote words replaced by other words
    replaced_text: int = 0
    inserted: int = 0  # words added inside the quote
    deleted: int = 0  # quote words dropped inside the quote, with no ellipsis
    omitted: int = 0  # quote words left out at the ends or at an ellipsis
    ellipsis: bool = False
    moved: int = 0  # quote words found in a clause moved to the other end
    s_first: int = 0
    s_last: int = -1
    q_first: int = 0  # original token indices of the aligned region
    q_last: int = -1
    outside: int = 0  # words of the text outside the aligned region (not quote-delimited)
    overlap: float = 0.0  # bag-of-words overlap of region and quote
    kind: str = "no_match"
    score: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.candidate.words)

    @property
    def edits(self) -> int:
        return (
            max(self.replaced_quote, self.replaced_text)
            + self.inserted
            + self.deleted
            + (1 if self.moved else 0)
        )

    @property
    def similarity(self) -> float:
        """Word similarity of the shown part of the quote and the aligned text, in [0, 1]."""
        shown = self.size - self.omitted
        denom = shown + self.inserted + max(0, self.replaced_text - self.replaced_quote)
        if denom <= 0:
            return 0.0
        return max(0.0, min(1.0, (self.matched - 0.5 * self.typos / max(shown, 1)) / denom))

    @property
    def precision(self) -> float:
        """Share of the aligned text's words that are the quote's words, in order."""
        shown = self.matched + max(self.replaced_quote, self.replaced_text) + self.inserted
        return self.matched / shown if shown else 0.0

    @property
    def coverage(self) -> float:
        return self.matched / self.size if self.size else 0.0


# A word only the store knows must occur in this many quotes to count as a word: stored
# transcripts have misspellings of their own ("monthy"), which are not words either.
STORE_WORD_MIN_DF = 3


def _known(word: str, vocabulary: dict[str, int]) -> bool:
    """A word the store or the language knows (so not a misspelling); numbers are words."""
    return vocabulary.get(word, 0) >= STORE_WORD_MIN_DF or word.isdigit() or is_english_word(word)


def _max_edits(word: str) -> int:
    """Edits (a swap of neighbours counts as one) that a misspelling of ``word`` may have."""
    return 1 if len(word) <= 3 else 2


def _canonical_words(
    text: NormalizedText,
    first: int,
    last: int,
    quote_words: tuple[str, ...],
    vocabulary: dict[str, int],
) -> list[_QWord]:
    """Map tokens first..last of ``text`` onto quote words where they are misspellings."""
    qset = set(quote_words)
    ordered = tuple(dict.fromkeys(quote_words))  # for ties broken the same way every time
    pairs = {a + b: (a, b) for a, b in zip(quote_words, quote_words[1:], strict=False)}
    words = text.words
    out: list[_QWord] = []
    i = first
    while i <= last:
        w = words[i]
        if w in qset:
            out.append(_QWord(w, i, i, False))
            i += 1
            continue
        # two words of the text that are one quote word ("be fore", "fellow citizens")
        if i < last:
            joined = w + words[i + 1]
            best = _closest(joined, ordered, limit=1)
            if best is not None and (
                joined == best or not (_known(w, vocabulary) and _known(words[i + 1], vocabulary))
            ):
                out.append(_QWord(best, i, i + 1, joined != best))
                i += 2
                continue
        if not _known(w, vocabulary):
            # one word of the text that is two quote words run together ("makethe")
            if w in pairs:
                a, b = pairs[w]
                out.extend((_QWord(a, i, i, False), _QWord(b, i, i, False)))
                i += 1
                continue
            best = _closest(w, ordered, limit=_max_edits(w))
            if best is not None:
                out.append(_QWord(best, i, i, True))
                i += 1
                continue
            near = _closest(w, pairs.keys(), limit=1)
            if near is not None and len(w) >= 6:
                a, b = pairs[near]
                out.extend((_QWord(a, i, i, True), _QWord(b, i, i, True)))
                i += 1
                continue
        out.append(_QWord(w, i, i, False))
        i += 1
    return out


def _closest(word: str, options: Iterable[str], *, limit: int) -> str | None:
    """The option within ``limit`` edits of ``word`` (the nearest; the first on a tie)."""
    found = process.extractOne(
        word, options, scorer=OSA.distance, processor=None, score_cutoff=limit
    )
    return None if found is None else str(found[0])


def _window(text: NormalizedText, quote_words: tuple[str, ...]) -> tuple[int, int]:
    """Return the token range of the text where the quote's words are densest."""
    n, m = len(text.tokens), len(quote_words)
    width = m + max(3, m // 4)
    if n <= width:
        return 0, n - 1
    qset = set(quote_words)
    hits = [1 if w in qset else 0 for w in text.words]
    current = sum(hits[:width])
    best, best_start = current, 0
    for start in range(1, n - width + 1):
        current += hits[start + width - 1] - hits[start - 1]
        if current > best:
            best, best_start = current, start
    # trim non-matching tokens at the window's edges, then allow a little slack
    first, last = best_start, best_start + width - 1
    while first < last and not hits[first]:
        first += 1
    while last > first and not hits[last]:
        last -= 1
    slack = 3
    return max(0, first - slack), min(n - 1, last + slack)


def align(
    text: NormalizedText,
    candidate: Candidate,
    vocabulary: dict[str, int],
) -> Alignment:
    """Align a stored quote (as a Candidate) with the submitted text, word by word."""
    quote_words = candidate.words
    first, last = _window(text, quote_words)
    qwords = _canonical_words(text, first, last, quote_words, vocabulary)
    submitted = [q.word for q in qwords]
    result = _aligned_by(Levenshtein.opcodes, text, candidate, qwords, submitted)
    if result.matched < 0.5 * result.size and result.overlap >= MOVED_OVERLAP:
        # nearly the quote's words, but few in line: two clauses of about equal length
        # swapped ("Y, X" for "X, Y") cost Levenshtein less as a run of replacements than
        # as one clause deleted at one end and added at the other, which is what
        # ``_find_moves`` recognises; an alignment without replacements reads it that way
        other = _aligned_by(Indel.opcodes, text, candidate, qwords, submitted)
        if other.matched > result.matched:
            return other
    return result


MOVED_OVERLAP = 0.8  # bag-of-words overlap at which a poor alignment is tried for a move


def _aligned_by(
    opcodes: Callable[[list[str], list[str]], Iterable[Any]],
    text: NormalizedText,
    candidate: Candidate,
    qwords: list[_QWord],
    submitted: list[str],
) -> Alignment:
    ops: list[Op] = [
        (op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end)
        for op in opcodes(list(candidate.words), submitted)
    ]
    ops = _consolidate(ops, candidate.words, submitted)
    ops = _slide_to_ellipses(ops, candidate.words, text, qwords)
    result = Alignment(candidate, ops, qwords)
    _measure(result, text)
    return result


def _slide_gaps(ops: list[Op], slide: Callable[[list[Op], int], int]) -> list[Op]:
    """Slide gaps (a gap being ``ops[i]`` between two equal runs) by what ``slide(ops, i)``
    says (words; negative: left; 0: stay) until none moves. Gaps that meet after a slide
    are merged at once, so that the merged gap can slide on."""
    ops = _merge_ops([op for op in ops if not (op[1] == op[2] and op[3] == op[4])])
    changed = True
    while changed:
        changed = False
        for i in range(1, len(ops) - 1):
            if ops[i - 1][0] != "equal" or ops[i + 1][0] != "equal":
                continue
            k = slide(ops, i)
            if k:
                ops = _merge_ops(_shift(ops, i, k))
                changed = True
                break
    return ops


def _consolidate(ops: list[Op], s: tuple[str, ...], q: list[str]) -> list[Op]:
    """Slide gaps so that a short equal run stranded at an end joins the body.

    Levenshtein ties are broken arbitrarily: for "the human race" in "...of the human race",
    matching the first "the" and skipping four words costs the same as matching the second.
    A reader expects the contiguous reading, so a gap is slid over an end run of equal words
    whenever the words allow it (the words it uncovers equal the words it covers).
    """

    def to_an_end(ops: list[Op], i: int) -> int:
        prev, gap, nxt = ops[i - 1], ops[i], ops[i + 1]
        if gap[0] not in ("delete", "insert"):
            return 0
        at_start = i - 1 == 0 or ops[i - 2][0] in ("delete", "insert")
        at_end = i + 1 == len(ops) - 1 or ops[i + 2][0] in ("delete", "insert")
        seq, lo, hi = (s, gap[1], gap[2]) if gap[0] == "delete" else (q, gap[3], gap[4])
        k_prev, k_next = prev[2] - prev[1], nxt[2] - nxt[1]
        if (
            at_start
            and k_prev <= k_next
            and all(seq[lo - 1 - j] == seq[hi - 1 - j] for j in range(k_prev))
        ):
            return -k_prev
        if at_end and k_next < k_prev and all(seq[lo + j] == seq[hi + j] for j in range(k_next)):
            return k_next
        return 0

    return _merge_ops(_slide_gaps(ops, to_an_end))


def _slide_to_ellipses(
    ops: list[Op], s: tuple[str, ...], text: NormalizedText, qwords: list[_QWord]
) -> list[Op]:
    """Put a gap of left-out quote words at an ellipsis when the words let it slide there.

    "we can be fair … to the consumers" for "we can be fair to the providers and to the
    consumers" leaves out "to the providers and", which the ellipsis marks; Levenshtein may
    as well match the first "to the" and leave out "providers and to the" after it, which
    no ellipsis marks, and the abridged quote would read as altered.
    """
    if not any(text.ellipsis_before):
        return ops

    def to_an_ellipsis(ops: list[Op], i: int) -> int:
        prev, gap, nxt = ops[i - 1], ops[i], ops[i + 1]
        if gap[0] != "delete":
            return 0
        lo, hi, at = gap[1], gap[2], gap[3]
        if text.ellipsis_before[qwords[at].first]:
            return 0
        for k in range(1, prev[2] - prev[1] + 1):  # leftwards, over the equal run before
            if s[lo - k] != s[hi - k]:
                break
            if text.ellipsis_before[qwords[at - k].first]:
                return -k
        for k in range(1, nxt[2] - nxt[1] + 1):  # rightwards, over the equal run after
            if s[lo + k - 1] != s[hi + k - 1] or at + k >= len(qwords):
                break
            if text.ellipsis_before[qwords[at + k].first]:
                return k
        return 0

    return _slide_gaps(ops, to_an_ellipsis)


def _shift(ops: list[Op], i: int, k: int) -> list[Op]:
    """Move gap ``ops[i]`` by ``k`` words (negative: left), resizing its equal neighbours."""
    prev, gap, nxt = ops[i - 1], ops[i], ops[i + 1]
    prev = (prev[0], prev[1], prev[2] + k, prev[3], prev[4] + k)
    if gap[0] == "delete":
        gap = (gap[0], gap[1] + k, gap[2] + k, gap[3] + k, gap[4] + k)
    else:
        gap = (gap[0], gap[1] + k, gap[2] + k, gap[3] + k, gap[4] + k)
    nxt = (nxt[0], nxt[1] + k, nxt[2], nxt[3] + k, nxt[4])
    out = ops[: i - 1] + [prev, gap, nxt] + ops[i + 2 :]
    return [op for op in out if not (op[1] == op[2] and op[3] == op[4])]


def _merge_ops(ops: list[Op]) -> list[Op]:
    out: list[Op] = []
    for op in ops:
        if out and out[-1][0] == op[0]:
            last = out[-1]
            out[-1] = (op[0], last[1], op[2], last[3], op[4])
        else:
            out.append(op)
    return out


def _split_edge_replace(ops: list[Op], text: NormalizedText, qwords: list[_QWord]) -> list[Op]:
    """At the ends, a replace next to a quotation mark is debris plus an omission."""
    out = list(ops)
    if len(out) >= 2 and out[0][0] == "replace" and out[1][0] == "equal":
        tag, s1, s2, q1, q2 = out[0]
        if text.quote_before[qwords[q2].first] or text.ellipsis_before[qwords[q2].first]:
            out[0:1] = [("delete", s1, s2, q1, q1), ("insert", s2, s2, q1, q2)]
    if len(out) >= 2 and out[-1][0] == "replace" and out[-2][0] == "equal":
        tag, s1, s2, q1, q2 = out[-1]
        if (
            text.quote_before[qwords[q1 - 1].last + 1]
            or text.ellipsis_before[qwords[q1 - 1].last + 1]
        ):
            out[-1:] = [("insert", s1, s1, q1, q2), ("delete", s1, s2, q2, q2)]
    return out


def _measure(a: Alignment, text: NormalizedText) -> None:
    ops = _split_edge_replace(a.ops, text, a.qwords)
    # leading/trailing insertions are text around the quote; leading/trailing deletions are
    # the parts of the quote the text does not show
    body_start, body_end = 0, len(ops)
    while body_start < body_end and ops[body_start][0] in ("insert", "delete"):
        body_start += 1
    while body_end > body_start and ops[body_end - 1][0] in ("insert", "delete"):
        body_end -= 1
    body = ops[body_start:body_end]
    if not body:
        a.kind = "no_match"
        return
    for tag, s1, s2, _q1, _q2 in ops[:body_start] + ops[body_end:]:
        if tag == "delete":
            a.omitted += s2 - s1
    a.s_first, a.s_last = body[0][1], body[-1][2] - 1
    a.q_first, a.q_last = a.qwords[body[0][3]].first, a.qwords[body[-1][4] - 1].last
    for tag, s1, s2, q1, q2 in body:
        if tag == "equal":
            a.matched += s2 - s1
            a.typos += sum(1 for q in a.qwords[q1:q2] if q.typo)
        elif tag == "replace":
            a.replaced_quote += s2 - s1
            a.replaced_text += q2 - q1
        elif tag == "insert":
            a.inserted += q2 - q1
        elif tag == "delete":
            if text.ellipsis_before[a.qwords[q1].first]:
                a.omitted += s2 - s1
                a.ellipsis = True
            else:
                a.deleted += s2 - s1
    # an ellipsis right before or after the region marks the omitted head or tail
    if (
        a.omitted
        and (text.ellipsis_before[a.q_first] or text.ellipsis_before[a.q_last + 1])
        and (a.s_first > 0 or a.s_last < a.size - 1)
    ):
        a.ellipsis = True
    _find_moves(a, ops, body_start, body_end)
    a.outside = _outside_words(text, a.q_first, a.q_last)
    region = Counter(text.words[a.q_first : a.q_last + 1])
    quote = Counter(a.candidate.words)
    common = sum((region & quote).values())
    a.overlap = common / max(len(a.candidate.words), sum(region.values()))


def _find_moves(a: Alignment, ops: list[Op], body_start: int, body_end: int) -> None:
    """Recognise a clause moved from one end of the quote to the other ("Y, X" for "X, Y").

    Levenshtein sees a moved clause as words omitted at one end and words added at the
    other; when the added words are (nearly) the omitted ones, it is a reordering.
    """
    s_words = a.candidate.words
    q_words = [q.word for q in a.qwords]
    body_q1, body_q2 = ops[body_start][3], ops[body_end - 1][4]
    body_s1, body_s2 = ops[body_start][1], ops[body_end - 1][2]
    pairs = (
        (s_words[body_s2:], q_words[:body_q1], "head"),  # the end moved to the front
        (s_words[:body_s1], q_words[body_q2:], "tail"),  # the start moved to the back
    )
    for seg_s, seg_q, where in pairs:
        if len(seg_s) < 3 or not seg_q:
            continue
        if where == "head":
            seg_q = seg_q[-(len(seg_s) + 2) :]
        else:
            seg_q = seg_q[: len(seg_s) + 2]
        common = LCSseq.similarity(list(seg_s), list(seg_q))
        if common >= max(3, 0.7 * len(seg_s)):
            a.moved += common
            a.matched += common
            a.omitted -= len(seg_s)
            a.replaced_quote += len(seg_s) - common
            a.replaced_text += len(seg_q) - common
            if where == "head":
                a.q_first = a.qwords[body_q1 - len(seg_q)].first
                a.s_last = len(s_words) - 1
            else:
                a.q_last = a.qwords[body_q2 + len(seg_q) - 1].last
                a.s_first = 0


def _outside_words(text: NormalizedText, first: int, last: int) -> int:
    """Count words of the text outside first..last that are not fenced off by quote marks."""
    n = len(text.tokens)
    before = 0
    i = first
    while i > 0 and not text.quote_before[i]:
        before += 1
        i -= 1
    after = 0
    i = last + 1
    while i < n and not text.quote_before[i]:
        after += 1
        i += 1
    return before + after


def classify(a: Alignment, options: MatchOptions = DEFAULT_OPTIONS) -> str:
    """Return "verified", "fragment", "altered" or "no_match" for one alignment."""
    size = a.size
    need = min(options.min_words, size)
    if a.matched < need:
        return "no_match"
    text_words = a.q_last - a.q_first + 1
    partial = a.omitted > 0
    if partial and a.outside > options.outside_share * (text_words + a.outside) + 1:
        return "no_match"
    allowed_typos = max(1, math.floor(size * options.typo_share + 0.5))
    if a.edits == 0:
        if a.typos > allowed_typos:
            return "altered"
        if not partial:
            return "verified"
        if a.ellipsis or a.matched < options.fragment_coverage * size:
            return "fragment"
        return "altered"
    if a.similarity >= options.altered_similarity:
        return "altered"
    if a.precision >= options.cut_precision and a.matched >= max(6, options.cut_share * size):
        return "altered"  # a clause silently cut out: every word shown is the quote's
    if a.moved and a.coverage >= options.reorder_overlap:
        return "altered"
    if a.overlap >= options.reorder_overlap:
        return "altered"
    return "no_match"


def _score(a: Alignment) -> float:
    """Rank alignments: most quote words found, fewest edits, then the shorter quote."""
    if a.kind == "no_match":
        return a.similarity * 0.5
    return a.matched - 0.5 * a.edits - 0.1 * a.typos + a.similarity - 0.001 * a.size


BEST_SCORED_KEPT = 2  # candidates aligned for their rough score, beyond ``rescore``
SPELLING_WORDS = 8  # unknown words of a text looked up as misspellings of stored ones
SPELLING_ALTERNATIVES = 3  # stored words tried for each


def _rank(
    text: NormalizedText, found: list[tuple[Candidate, int, int]], keep: int
) -> list[Candidate]:
    """The ``keep`` candidates sharing the longest word subsequence with the part of the
    text they were found for (the whole text, or a chunk of a long one)."""
    words = list(text.words)
    scored = []
    for c, first, last in found:
        part = words[first:last]
        lcs = LCSseq.similarity(list(c.words), part)
        n = len(part)
        m = len(c.words)
        # roughly what ``_score`` will say: words shared, less half the words either side
        # has that the other lacks
        rough = lcs - 0.5 * ((m - lcs) + (n - lcs))
        scored.append((lcs / max(1, min(m, n)), lcs / max(m, n, 1), rough, c))
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    kept = [t[3] for t in scored[:keep]]
    # a quote wholly inside the text ranks first by share, however little of the text it
    # covers; in a big store many such pieces of a long text exist, so the candidates
    # likely to score best are aligned too (the whole quote with one word changed)
    by_score = sorted(scored[keep:], key=lambda t: (t[2], t[1]), reverse=True)
    kept.extend(t[3] for t in by_score[:BEST_SCORED_KEPT])
    return kept


def prepare() -> None:
    """Load what verification needs once per process (the English word list, ~0.5 s), so
    that the first request does not pay for it; a forking server calls this before forking.

    Then everything the process holds so far is moved out of the cyclic garbage
    collector's sight (``gc.freeze``): it lives as long as the process, and a full
    collection would otherwise walk the word list's half a million entries every time,
    adding 60 ms or more to whichever request it happens in. (Frozen pages also stay
    shared between forked workers, which a collection's writes would copy.)"""
    load_lexicon()
    gc.collect()
    gc.freeze()


def _retrieve(
    store: QuoteStore,
    text: NormalizedText,
    vocabulary: dict[str, int],
    options: MatchOptions,
) -> list[tuple[Candidate, int, int]]:
    """Candidates, each with the range of words it was found for. A long text (a post, an
    article) is searched chunk by chunk, so that a quote inside it competes only with its
    neighbourhood's words, and is ranked against that neighbourhood."""
    words = text.words
    size = options.chunk_words
    short = len(words) <= size + size // 2
    # in a short text, a word the store has never seen is looked up as a misspelling:
    # when that word was the quote's one rare word, its common neighbours alone cannot
    # single the quote out of a big store
    spelled = _spellings(store, words, vocabulary) if short else {}

    def terms(first: int, last: int) -> list[str]:
        return [t for w in words[first:last] for t in spelled.get(w, (w,))]

    found: dict[int, tuple[Candidate, int, int]] = {}
    if short:
        for c in store.candidates(
            terms(0, len(words)), limit=options.retrieve, frequencies=vocabulary
        ):
            found[c.quote_id] = (c, 0, len(words))
    else:
        # a quote found in several chunks (in a small store every chunk finds every quote
        # sharing a word with it) is ranked against the chunk holding most of its words,
        # not the first: the quote at the end of an article is where the article quotes it
        shared_most: dict[int, int] = {}
        stride = size - size // 4
        for start in range(0, len(words) - size // 4, stride):
            chunk = words[start : start + size]
            present = set(chunk)
            for c in store.candidates(
                chunk,
                limit=options.chunk_retrieve,
                frequencies=vocabulary,
                budget=options.chunk_postings,
            ):
                shared = len(present.intersection(c.words))
                if shared <= shared_most.get(c.quote_id, -1):
                    continue
                shared_most[c.quote_id] = shared
                # rank against the chunk and a quote's length around it
                reach = len(c.words)
                found[c.quote_id] = (c, max(0, start - reach), start + size + reach)
    # a passage in quotation marks is searched on its own too, so that rare words around
    # it ("— John F. Kennedy. Share if you agree") cannot crowd it out; a quote found
    # both ways is ranked against the wider range, as it may reach beyond the marks
    for first, last in _quoted_spans(text):
        for c in store.candidates(
            terms(first, last), limit=options.chunk_retrieve, frequencies=vocabulary
        ):
            found.setdefault(c.quote_id, (c, first, last))
    return list(found.values())


def _spellings(
    store: QuoteStore, words: Sequence[str], vocabulary: dict[str, int]
) -> dict[str, tuple[str, ...]]:
    """For up to ``SPELLING_WORDS`` words of the text that no stored quote contains, the
    stored words nearest to them in spelling (the commonest few at the least distance),
    to search for in their place. Adds the replacements' frequencies to ``vocabulary``.

    The replacements are sought among stored words with the same first letter, which a
    misspelling seldom changes; a word of the language or a number is left as it is."""
    out: dict[str, tuple[str, ...]] = {}
    for word in dict.fromkeys(words):
        if len(out) >= SPELLING_WORDS:
            break
        if vocabulary.get(word, 0) or len(word) < 4 or word.isdigit() or is_english_word(word):
            continue
        limit = 1 if len(word) <= 5 else 2
        stored = store.terms_with_prefix(word[0])
        found = process.extract(
            word, list(stored), scorer=OSA.distance, processor=None, score_cutoff=limit, limit=None
        )
        if not found:
            continue
        # any stored word will do, however rare ("righted" in two quotes): the nearest
        # one is the likeliest meant, and its rarity is what singles the quote out
        near = sorted((int(distance), -stored[term], term) for term, distance, _ in found)
        best = [term for distance, _, term in near if distance == near[0][0]]
        out[word] = tuple(best[:SPELLING_ALTERNATIVES])
        # each counts as the commonest of them: which one was meant is a guess, and a
        # rare guess ("hop" for "hopw") must not outweigh the words the text does have
        weight = stored[best[0]]
        for term in out[word]:
            vocabulary.setdefault(term, weight)
    return out


def _quoted_spans(
    text: NormalizedText, *, least: int = 4, longest: int = 80, most: int = 16
) -> list[tuple[int, int]]:
    """Word ranges between neighbouring double quotation marks that leave words outside
    them (``least`` to ``longest`` words inside; at most ``most`` such passages).

    Every neighbouring pair is tried, not only the first and second, third and fourth...:
    one stray mark earlier in an article would otherwise pair every later closing mark
    with the next opening one. A pair that is not a quotation is searched in vain."""
    marks = [i for i, mark in enumerate(text.quote_before) if mark]
    spans = []
    for first, last in zip(marks, marks[1:], strict=False):
        if least <= last - first <= longest and (first > 0 or last < len(text.tokens)):
            spans.append((first, last))
    return spans[:most]


def verify(
    store: QuoteStore,
    text: str,
    *,
    speaker: str | None = None,
    limit: int = 3,
    include_pending: bool = False,
    options: MatchOptions = DEFAULT_OPTIONS,
) -> Verification:
    """Verify ``text`` (optionally credited to ``speaker``) against the stored quotes.

    Returns the headline verdict with its confidence, a one-sentence summary, the
    attribution check, and up to ``limit`` matches, best first, each with a word diff. Only
    approved quotes decide the verdict; with ``include_pending``, matches among quotes that
    await review (extracted from articles) are reported apart, in ``pending``.
    """
    claimed = speaker.strip() if speaker and speaker.strip() else None
    normalized = normalize(text)
    if not normalized.tokens:
        return _no_match(claimed, 1.0)
    vocabulary = store.document_frequencies(normalized.words)
    found = _retrieve(store, normalized, vocabulary, options)
    approved = _aligned(
        normalized, [f for f in found if f[0].review == "approved"], vocabulary, options
    )
    pending = (
        _aligned(normalized, [f for f in found if f[0].review == "pending"], vocabulary, options)
        if include_pending
        else []
    )
    matched = [a for a in approved if a.kind != "no_match"][: max(limit, 1)]
    waiting = [a for a in pending if a.kind != "no_match"][: max(limit, 1)]
    quotes = store.get_quotes([a.candidate.quote_id for a in matched + waiting])
    matched = [a for a in matched if a.candidate.quote_id in quotes]
    pending_matches = tuple(
        _match(a, quotes[a.candidate.quote_id], normalized)
        for a in waiting
        if a.candidate.quote_id in quotes
    )
    if not matched:
        evidence = _no_match_evidence(approved)
        return _no_match(claimed, evidence, pending_matches)
    matched = _prefer_agreeing(matched, quotes, claimed)
    best = matched[0]
    best_quote = quotes[best.candidate.quote_id]
    agrees = None if claimed is None else speaker_agrees(claimed, best_quote.speaker)
    verdict = "misattributed" if agrees is False else best.kind
    evidence = _evidence(best, matched[1] if len(matched) > 1 else None, verdict)
    confidence = calibration.apply(verdict, evidence)
    matches = tuple(_match(a, quotes[a.candidate.quote_id], normalized) for a in matched[:limit])
    return Verification(
        verdict=verdict,
        confidence=confidence,
        summary=_summary(verdict, matches[0], claimed, best),
        attribution=Attribution(claimed, best_quote.speaker.name, agrees),
        matches=matches,
        evidence=evidence,
        pending=pending_matches,
    )


def _aligned(
    text: NormalizedText,
    found: list[tuple[Candidate, int, int]],
    vocabulary: dict[str, int],
    options: MatchOptions,
) -> list[Alignment]:
    """Align and classify the best-ranked candidates; best alignment first."""
    alignments = []
    for candidate in _rank(text, found, options.rescore):
        a = align(text, candidate, vocabulary)
        a.kind = classify(a, options)
        a.score = _score(a)
        alignments.append(a)
    alignments.sort(key=lambda a: a.score, reverse=True)
    return alignments


def _prefer_agreeing(
    matched: list[Alignment], quotes: dict[int, Quote], claimed: str | None
) -> list[Alignment]:
    """Among equally good matches (the same words recorded twice), put the claimed speaker's
    first, so a correct attribution is never called a misattribution."""
    if claimed is None or len(matched) < 2:
        return matched
    top = matched[0]
    ties = [
        a
        for a in matched
        if a.kind == top.kind
        and a.score >= top.score - 1e-9
        and speaker_agrees(claimed, quotes[a.candidate.quote_id].speaker)
    ]
    if ties and ties[0] is not top:
        matched = [ties[0]] + [a for a in matched if a is not ties[0]]
    return matched


def _no_match(
    claimed: str | None, evidence: float, pending: tuple[Match, ...] = ()
) -> Verification:
    return Verification(
        verdict="no_match",
        confidence=calibration.apply("no_match", evidence),
        summary=(
            "No quote in our records matches this text; that says nothing about whether "
            "it is true or who said it."
        ),
        attribution=Attribution(claimed, None, None),
        matches=(),
        evidence=evidence,
        pending=pending,
    )


def _no_match_evidence(alignments: list[Alignment]) -> float:
    """How clearly nothing matched: 1 when no candidate came close, less as one did."""
    best = max((a.similarity for a in alignments), default=0.0)
    return round(max(0.0, min(1.0, 1.0 - best)), 4)


def _evidence(best: Alignment, runner_up: Alignment | None, verdict: str) -> float:
    """How clear-cut the alignment behind a text verdict is, in [0, 1] (before calibration).

    Misspellings (one might be a real word we do not know), a similarity close to the
    "altered" threshold, a short fragment and a close second candidate all make an answer
    less certain; ``calibration.apply`` turns this into a probability.
    """
    score = 1.0
    if best.kind == "verified":
        score -= 0.15 * best.typos
    elif best.kind == "fragment":
        score -= 0.4 * max(0.0, 1.0 - best.matched / 12)
        score -= 0.1 * best.typos
    else:  # altered
        score -= 1.5 * max(0.0, 0.9 - best.similarity)
        score -= 0.1 * best.typos
    if runner_up is not None and runner_up.score >= best.score - 0.5:
        score -= 0.3
    if verdict == "misattributed":
        score -= 0.05
    return round(max(0.0, min(1.0, score)), 4)


def _match(a: Alignment, quote: Quote, text: NormalizedText) -> Match:
    stored = normalize(quote.text)
    if len(stored.tokens) != a.size:
        # the quote changed since the candidate was read; align afresh for the spans
        a = align(text, _candidate_of(quote, stored), {})
    diff = _diff(a, stored, text)
    quote_span = stored.span(a.s_first, a.s_last) if a.s_last >= a.s_first else (0, 0)
    text_span = text.span(a.q_first, a.q_last) if a.q_last >= a.q_first else (0, 0)
    return Match(
        quote=quote,
        match=a.kind,
        similarity=round(a.similarity, 3),
        diff=diff,
        quote_span=quote_span,
        text_span=text_span,
    )


def _candidate_of(quote: Quote, stored: NormalizedText) -> Candidate:
    return Candidate(quote.id, quote.speaker.id, stored.words)


def _slice(text: NormalizedText, first: int, last: int) -> str:
    if last < first:
        return ""
    start, end = text.span(first, last)
    return text.original[start:end]


def _diff(a: Alignment, stored: NormalizedText, text: NormalizedText) -> tuple[DiffOp, ...]:
    """Word-level diff of the whole stored quote against the aligned part of the text."""
    out: list[DiffOp] = []
    qwords = a.qwords
    for tag, s1, s2, q1, q2 in a.ops:
        if tag == "insert" and (
            q2 <= 0 or qwords[q1].first < a.q_first or qwords[q2 - 1].last > a.q_last
        ):
            continue  # text around the quote is not part of the diff
        original = _slice(stored, s1, s2 - 1)
        submitted = _slice(text, qwords[q1].first, qwords[q2 - 1].last) if q2 > q1 else ""
        if out and out[-1].op == tag == "equal":
            continue
        out.append(DiffOp(tag, original, submitted))
    return tuple(out)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary(verdict: str, match: Match, claimed: str | None, a: Alignment) -> str:
    """One plain-English sentence saying what the verdict rests on."""
    quote = match.quote
    who = quote.speaker.name
    where = f" ({quote.context})" if quote.context else ""
    if verdict == "misattributed":
        how = {"verified": "", "fragment": " (in part)", "altered": " (in altered form)"}
        return (
            f"These words are recorded{how[match.match]} as said by {who}{where}, not by {claimed}."
        )
    if verdict == "verified":
        spelling = f", apart from {_plural(a.typos, 'misspelled word')}" if a.typos else ""
        return f"This is a genuine quote by {who}{where}, word for word{spelling}."
    if verdict == "fragment":
        marked = " (omissions marked with an ellipsis)" if a.ellipsis else ""
        return (
            f"This is part of a longer quote by {who}{where}; "
            f"{_plural(a.omitted, 'word')} of it are left out{marked}."
        )
    return f"This is an altered version of a quote by {who}{where}: {_changes(match, a)}."


def _changes(match: Match, a: Alignment) -> str:
    """Describe the first change and count the rest."""
    # a changed word says most, then an added one, then a dropped one
    changes = [d for op in ("replace", "insert", "delete") for d in match.diff if d.op == op]
    if a.moved:
        first = "a clause was moved to the other end"
    elif not changes:
        first = "words were changed"
    else:
        d = changes[0]
        if d.op == "replace":
            first = f'"{d.original}" became "{d.submitted}"'
        elif d.op == "insert":
            first = f'"{d.submitted}" was added'
        else:
            first = f'"{d.original}" was left out'
    more = len(changes) - 1
    return first + (f", and {_plural(more, 'other change')}" if more > 0 and not a.moved else "")
