"""Benchmark queries with known answers, made from stored quotes by known edits.

Every generator is deterministic for its seed. A query carries what counts as finding its
quote: the expected ``ref``, or (``target``, ``contains``) for a stored quote recorded twice
or a synthetic quote sharing the clause a fragment was cut from: a match whose words equal
``target`` (or, when ``contains``, hold ``target`` as a contiguous run) is as good.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

from quotes_db.normalization import words

__all__ = [
    "KINDS",
    "LongInput",
    "Query",
    "QueryMaterial",
    "build_queries",
    "build_long_inputs",
    "is_equivalent",
    "make_typos",
]

KINDS = (
    "exact",
    "embedded",
    "typo",
    "fragment",
    "altered",
    "misattributed",
    "unseen",
    "unrelated",
)
EXPECTED = {
    "exact": "verified",
    "embedded": "verified",
    "typo": "verified",
    "fragment": "fragment",
    "altered": "altered",
    "misattributed": "misattributed",
    "unseen": "no_match",
    "unrelated": "no_match",
}

_LEADS = (
    "Can't believe this.",
    "Saw this quoted in a thread today.",
    "My uncle keeps posting this one.",
    "Found this in an old newspaper clipping.",
    "Worth reading twice.",
    "Someone shared this in our group chat and I had to check it.",
    "People keep sharing this without a source.",
    "Quote of the day:",
)
_TAILS = (
    "Thoughts?",
    "Still true today.",
    "Is this real?",
    "Source unknown, but it sounds right.",
    "Hard to argue with that.",
    "Share if you agree.",
    "Who actually said this?",
)
_NUMBER_WORDS = (
    "two three four five six seven eight nine ten twelve twenty thirty forty fifty "
    "hundred thousand million billion"
).split()
_AUXILIARIES = re.compile(
    r"\b(is|are|was|were|will|would|can|could|should|must|may|might|shall|do|does|did)\b",
    re.IGNORECASE,
)
_NOT = re.compile(r"\s+not\b", re.IGNORECASE)
_DIGITS = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?![\w])")
_WORD = re.compile(r"[A-Za-z]{4,}")
_LETTERS = re.compile(r"\b[A-Za-z]+\b")


@dataclass(frozen=True, slots=True)
class Query:
    """One benchmark query and its expected answer."""

    qid: str
    kind: str
    variant: str  # how it was made, within its kind (e.g. "number" for an altered number)
    text: str
    speaker: str | None
    verdict: str  # expected headline verdict
    ref: str | None  # expected quote, None for no_match
    target: tuple[str, ...] = ()  # the normalised words a match must have (see module doc)
    contains: bool = False

    def record(self) -> dict:
        """Return the query as a JSON-ready dict (the form written to .cache/bench/)."""
        out = asdict(self)
        out["target"] = " ".join(self.target)
        return out


@dataclass(frozen=True, slots=True)
class LongInput:
    """An article-length text with one stored quote somewhere inside it."""

    qid: str
    size: int  # the length aimed at, in characters
    text: str
    ref: str
    target: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QueryMaterial:
    """What queries are made from.

    ``base`` are stored quotes (in every store measured); ``unseen`` are quotes in no store;
    ``unrelated`` are claims about other things; ``vocabulary`` is a sorted list of real
    words for substitutions; ``known`` says whether a word is real (store or language), so
    that a typo makes a non-word; ``filler`` are sentences for long texts that share no
    run of words with any stored quote (empty: the unseen quotes).
    """

    base: Sequence[dict]
    unseen: Sequence[dict]
    unrelated: Sequence[str]
    vocabulary: Sequence[str]
    speakers: Sequence[str]
    known: Callable[[str], bool]
    filler: Sequence[str] = ()


def is_equivalent(query: Query | LongInput, ref: str | None, text: str) -> bool:
    """Return True when a match (its ref and text) finds what ``query`` was made from."""
    if ref is not None and ref == query.ref:
        return True
    if not query.target:
        return False
    found = tuple(words(text))
    target = query.target
    if not getattr(query, "contains", False):
        return found == target
    n = len(target)
    return any(found[i : i + n] == target for i in range(len(found) - n + 1))


def _norm(text: str) -> tuple[str, ...]:
    return tuple(words(text))


def _surname(name: str) -> str:
    parts = name.casefold().replace(".", " ").split()
    return parts[-1] if parts else ""


def _counts(total: int) -> dict[str, int]:
    share, extra = divmod(total, len(KINDS))
    return {kind: share + (i < extra) for i, kind in enumerate(KINDS)}


def build_queries(material: QueryMaterial, total: int, *, seed: int = 1) -> list[Query]:
    """Return ``total`` queries, the kinds in equal shares and interleaved (so that the
    first k queries of the list are a sample with the same mix)."""
    counts = _counts(total)
    makers: dict[str, Callable[[QueryMaterial, int, random.Random], list[Query]]] = {
        "exact": _exact,
        "embedded": _embedded,
        "typo": _typo,
        "fragment": _fragment,
        "altered": _altered,
        "misattributed": _misattributed,
        "unseen": _unseen,
        "unrelated": _unrelated,
    }
    per_kind = {
        kind: makers[kind](material, counts[kind], random.Random(f"{seed}:{kind}"))
        for kind in KINDS
    }
    out: list[Query] = []
    for i in range(max(counts.values(), default=0)):
        for kind in KINDS:
            if i < len(per_kind[kind]):
                out.append(replace(per_kind[kind][i], qid=f"b{len(out):05d}"))
    return out


def _sources(material: QueryMaterial, rng: random.Random, min_words: int = 1) -> list[dict]:
    """The base quotes in a kind's own random order, keeping those long enough."""
    order = list(material.base)
    rng.shuffle(order)
    return [r for r in order if len(r["text"].split()) >= min_words]


def _query(kind: str, variant: str, text: str, source: dict | None, **kw: object) -> Query:
    fields: dict = {
        "qid": "",
        "kind": kind,
        "variant": variant,
        "text": text,
        "speaker": None,
        "verdict": EXPECTED[kind],
        "ref": None if source is None else source["ref"],
        "target": () if source is None else _norm(source["text"]),
    }
    fields.update(kw)
    return Query(**fields)


def _exact(material: QueryMaterial, n: int, rng: random.Random) -> list[Query]:
    return [_query("exact", "whole", r["text"], r) for r in _sources(material, rng)[:n]]


def _embedded(material: QueryMaterial, n: int, rng: random.Random) -> list[Query]:
    out = []
    for r in _sources(material, rng, min_words=4)[:n]:
        lead, tail = rng.choice(_LEADS), rng.choice(_TAILS)
        style = rng.randrange(3)
        if style == 0:
            text = f'{lead} "{r["text"]}" {tail}'
        elif style == 1:
            text = f'{lead} {r["speaker"]} said: "{r["text"]}" {tail}'
        else:
            text = f'"{r["text"]}" \u2014 {r["speaker"]}. {tail}'
        out.append(_query("embedded", f"style{style}", text, r))
    return out


def make_typos(text: str, rng: random.Random, known: Callable[[str], bool]) -> tuple[str, int]:
    """Misspell about one word in eight of ``text`` (at least one) with one character edit
    each, so that every misspelling is a non-word; return the text and how many were made."""
    n_words = len(text.split())
    spots = list(_WORD.finditer(text))
    want = max(1, n_words // 8)
    chosen = sorted(rng.sample(spots, min(want, len(spots))), key=lambda m: m.start())
    pieces, last, made = [], 0, 0
    for m in chosen:
        typo = _misspell(m.group(), rng, known)
        if typo is None:
            continue
        pieces.append(text[last : m.start()] + typo)
        last = m.end()
        made += 1
    pieces.append(text[last:])
    return "".join(pieces), made


def _misspell(word: str, rng: random.Random, known: Callable[[str], bool]) -> str | None:
    letters = "abcdefghijklmnopqrstuvwxyz"
    for _ in range(20):
        i = rng.randrange(1, len(word))  # keep the first letter, as most typos do
        op = rng.randrange(4)
        if op == 0 and i < len(word) - 1:
            typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swap neighbours
        elif op == 1:
            typo = word[:i] + word[i + 1 :]  # drop a letter
        elif op == 2:
            typo = word[:i] + rng.choice(letters) + word[i:]  # add one
        else:
            typo = word[:i] + rng.choice(letters) + word[i + 1 :]  # replace one
        if typo.lower() != word.lower() and not known(typo.lower()):
            return typo
    return None


def _typo(material: QueryMaterial, n: int, rng: random.Random) -> list[Query]:
    out: list[Query] = []
    for r in _sources(material, rng, min_words=5):
        if len(out) == n:
            break
        text, made = make_typos(r["text"], rng, material.known)
        if made:
            out.append(_query("typo", f"{made}typo", text, r))
    return out


def _fragment(material: QueryMaterial, n: int, rng: random.Random) -> list[Query]:
    out = []
    for r in _sources(material, rng, min_words=10)[:n]:
        tokens = r["text"].split()
        size = max(4, round(len(tokens) * rng.uniform(0.4, 0.7)))
        start = rng.randrange(len(tokens) - size + 1)
        text = " ".join(tokens[start : start + size]).strip(",;:")
        out.append(_query("fragment", "run", text, r, target=_norm(text), contains=True))
    return out


def _altered(material: QueryMaterial, n: int, rng: random.Random) -> list[Query]:
    """A third each of substituted words, changed numbers and added or removed "not" (as far
    as the quotes have numbers), each variant from the quotes it can apply to."""
    sources = iter(_sources(material, rng, min_words=6))
    pending: dict[str, list[dict]] = {"substitution": [], "number": [], "negation": []}
    out: list[Query] = []
    variants = tuple(pending)
    for r in sources:
        if len(out) == n:
            break
        for variant in variants:
            if _applies(r["text"], variant):
                pending[variant].append(r)
        wanted = variants[len(out) % 3]
        if not pending[wanted]:
            continue
        source = pending[wanted].pop(0)
        for queue in pending.values():
            if source in queue:
                queue.remove(source)
        text = _alter(source["text"], wanted, rng, material.vocabulary)
        if text is not None and _norm(text) != _norm(source["text"]):
            out.append(_query("altered", wanted, text, source))
    return out


def _applies(text: str, variant: str) -> bool:
    if variant == "number":
        return bool(_DIGITS.search(text)) or any(
            m.group().lower() in _NUMBER_WORDS for m in _LETTERS.finditer(text)
        )
    if variant == "negation":
        return bool(_NOT.search(text) or _AUXILIARIES.search(text))
    return bool(_WORD.search(text))


def _alter(text: str, variant: str, rng: random.Random, vocabulary: Sequence[str]) -> str | None:
    if variant == "number":
        digits = list(_DIGITS.finditer(text))
        if digits:
            m = rng.choice(digits)
            value = int(m.group().replace(",", ""))
            if value >= 100 and value % 100 == 0:
                value *= rng.choice((2, 3, 5))  # 1,000 -> 3,000
            else:
                value += rng.choice((1, 2, 3, 10))  # 1789 -> 1790, 3 -> 4
            new = f"{value:,}" if "," in m.group() else str(value)
            return text[: m.start()] + new + text[m.end() :]
        spelled = [m for m in _LETTERS.finditer(text) if m.group().lower() in _NUMBER_WORDS]
        if not spelled:
            return None
        m = rng.choice(spelled)
        new = rng.choice([w for w in _NUMBER_WORDS if w != m.group().lower()])
        return text[: m.start()] + new + text[m.end() :]
    if variant == "negation":
        nots = list(_NOT.finditer(text))
        if nots:
            m = rng.choice(nots)
            return text[: m.start()] + text[m.end() :]
        aux = list(_AUXILIARIES.finditer(text))
        if not aux:
            return None
        m = rng.choice(aux)
        return text[: m.end()] + " not" + text[m.end() :]
    spots = list(_WORD.finditer(text))
    if not spots or not vocabulary:
        return None
    m = rng.choice(spots)
    for _ in range(20):
        new = vocabulary[rng.randrange(len(vocabulary))]
        if new != m.group().lower() and abs(len(new) - len(m.group())) <= 3:
            break
    if m.group()[0].isupper():
        new = new.capitalize()
    return text[: m.start()] + new + text[m.end() :]


def _misattributed(material: QueryMaterial, n: int, rng: random.Random) -> list[Query]:
    out = []
    for r in _sources(material, rng, min_words=4)[:n]:
        recorded = _surname(r["speaker"])
        others = [s for s in material.speakers if _surname(s) != recorded]
        claimed = others[rng.randrange(len(others))]
        out.append(_query("misattributed", "whole", r["text"], r, speaker=claimed))
    return out


def _unseen(material: QueryMaterial, n: int, rng: random.Random) -> list[Query]:
    order = list(material.unseen)
    rng.shuffle(order)
    out = []
    for i, r in enumerate(order[:n]):
        speaker = r["speaker"] if i % 2 else None
        variant = "synthetic" if r["ref"].startswith("unseen-synth") else "real"
        out.append(_query("unseen", variant, r["text"], None, speaker=speaker))
    return out


def _unrelated(material: QueryMaterial, n: int, rng: random.Random) -> list[Query]:
    texts = list(material.unrelated)
    rng.shuffle(texts)
    if not texts:
        return []
    # more queries than claims: cycle through them again (the answer does not change)
    return [_query("unrelated", "claim", texts[i % len(texts)], None) for i in range(n)]


def build_long_inputs(
    material: QueryMaterial, sizes: Sequence[int], per_size: int, *, seed: int = 2
) -> list[LongInput]:
    """Return ``per_size`` article-like texts of each size (in characters): filler
    sentences as paragraphs, with one stored quote quoted somewhere inside."""
    rng = random.Random(f"{seed}:long")
    targets = _sources(material, rng, min_words=12)
    filler = list(material.filler) or [r["text"] for r in material.unseen]
    out: list[LongInput] = []
    for size in sizes:
        for k in range(per_size):
            target = targets[len(out) % len(targets)]
            insert = f'{target["speaker"]} said: "{target["text"]}"'
            sentences: list[str] = []
            used = len(insert)
            for text in (filler[rng.randrange(len(filler))] for _ in range(100_000)):
                if used + len(text) + 2 > size:
                    break
                sentences.append(text)
                used += len(text) + 2
            sentences.insert(rng.randrange(len(sentences) + 1), insert)
            paragraphs, i = [], 0
            while i < len(sentences):
                step = rng.randint(2, 5)
                paragraphs.append(" ".join(sentences[i : i + step]))
                i += step
            text = "\n\n".join(paragraphs)
            out.append(
                LongInput(f"long{size}-{k}", size, text, target["ref"], _norm(target["text"]))
            )
    return out
