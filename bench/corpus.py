"""The benchmark's quotes: the real development quotes and synthetic ones made from them.

A store of a given size is the real quotes (a fixed random sample of them when the size is
smaller) plus synthetic quotes, each joining the leading clauses of one real quote to the
trailing clauses of another quote by the same speaker ("synth:<n>"). Vocabulary, lengths and
speakers stay real; the texts are new.

A fixed set of real quotes (``HELD_OUT``) never goes into any store, and synthetic quotes
made only from those are kept out too: that is the "unseen" material, real-looking text
that no store holds, and it shares no clause with anything stored.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from quotes_db.normalization import words

__all__ = [
    "DEV_QUOTES",
    "Corpus",
    "clauses",
    "load_corpus",
    "parse_size",
    "size_label",
    "synthesize",
]

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev"
DEV_QUOTES = DEV / "quotes.jsonl.gz"
DEV_QUERIES = DEV / "queries.jsonl"

SEED = 20261127
HELD_OUT = 1_500  # real quotes kept out of every store
HELD_OUT_MIN_WORDS = 8  # a held-out quote long enough to be recognisably "a quote"
QUERY_BASE = 10_000  # queries are built from the first quotes of the store order

# A clause ends at , ; : (followed by a space), at an em dash, or at a spaced hyphen.
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|(?<=\u2014)\s*|(?<=\s-)\s+")


def clauses(text: str) -> list[str]:
    """Split ``text`` after each , ; : and dash; every piece keeps its own punctuation."""
    return [c for c in _CLAUSE_END.split(text.strip()) if c]


def parse_size(label: str) -> int:
    """Return the number of quotes a size label names: "10k", "1m", "2.5k" or "25000"."""
    text = label.strip().lower().replace("_", "").replace(",", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if scale > 1 else text
    value = int(float(number) * scale)
    if value < 1:
        raise ValueError(f"a store size must be positive: {label!r}")
    return value


def size_label(n: int) -> str:
    """Return the short label of a size: 10000 -> "10k", 1000000 -> "1m"."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


@dataclass(frozen=True, slots=True)
class Corpus:
    """The real quotes, split into the ones stores may hold and the held-out ones.

    ``pool`` is in store order: a fixed shuffle, so that the store of size n < len(pool)
    is ``pool[:n]`` and smaller stores are subsets of larger ones.
    """

    pool: tuple[dict, ...]
    held_out: tuple[dict, ...]

    @property
    def query_base(self) -> tuple[dict, ...]:
        """The quotes queries are built from: in every store of QUERY_BASE quotes or more."""
        return self.pool[:QUERY_BASE]

    def store_records(self, n: int) -> Iterator[dict]:
        """Yield the records of the store of ``n`` quotes: real ones, then synthetic ones."""
        if n <= len(self.pool):
            yield from self.pool[:n]
            return
        yield from self.pool
        yield from synthesize(self.pool, n - len(self.pool), seed=SEED, avoid=self.pool)

    def unseen_synthetic(self, n: int) -> list[dict]:
        """Synthetic quotes made from held-out quotes only: in no store."""
        return list(synthesize(self.held_out, n, seed=SEED + 1, prefix="unseen-synth"))


def load_corpus(path: Path = DEV_QUOTES, *, held_out: int = HELD_OUT) -> Corpus:
    """Read the real quotes and split them into the store pool and the held-out quotes."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return split_corpus(records, held_out=held_out)


def split_corpus(records: Sequence[dict], *, held_out: int = HELD_OUT) -> Corpus:
    """Hold out ``held_out`` quotes of some length whose words no other quote repeats."""
    norms = [" ".join(words(r["text"])) for r in records]
    seen: dict[str, int] = defaultdict(int)
    for norm in norms:
        seen[norm] += 1
    eligible = [
        i
        for i, norm in enumerate(norms)
        if seen[norm] == 1 and norm.count(" ") + 1 >= HELD_OUT_MIN_WORDS
    ]
    rng = random.Random(SEED)
    out = set(rng.sample(eligible, min(held_out, len(eligible))))
    pool = [r for i, r in enumerate(records) if i not in out]
    rng.shuffle(pool)
    return Corpus(tuple(pool), tuple(r for i, r in enumerate(records) if i in out))


def synthesize(
    donors: Sequence[dict],
    count: int,
    *,
    seed: int,
    prefix: str = "synth",
    avoid: Sequence[dict] = (),
) -> Iterator[dict]:
    """Yield ``count`` new quotes, each the leading clauses of one donor quote followed by
    the trailing clauses of another quote of the same speaker.

    Deterministic for a given donor order and seed; no text is yielded twice or repeats a
    donor's (or an ``avoid`` record's) text. The n-th quote's ref is ``<prefix>:<n>``; it
    keeps the first donor's speaker, date, context and source.
    """
    split = [clauses(r["text"]) for r in donors]
    by_speaker: dict[str, list[int]] = defaultdict(list)
    for i, parts in enumerate(split):
        if len(parts) >= 2:
            by_speaker[donors[i]["speaker"]].append(i)
    usable = [i for members in by_speaker.values() if len(members) >= 2 for i in members]
    usable.sort()
    if not usable:
        raise ValueError("no speaker has two quotes with more than one clause")
    # hashes, not texts: a million texts would hold hundreds of megabytes
    texts = {hash(r["text"]) for r in donors}
    texts.update(hash(r["text"]) for r in avoid)
    rng = random.Random(seed)
    made = attempts = 0
    while made < count:
        attempts += 1
        if attempts > 20 * count + 1000:
            raise RuntimeError(f"could only make {made} of {count} distinct synthetic quotes")
        a = usable[int(rng.random() * len(usable))]
        mates = by_speaker[donors[a]["speaker"]]
        b = mates[int(rng.random() * len(mates))]
        if b == a:
            continue
        head = split[a][: 1 + int(rng.random() * (len(split[a]) - 1))]
        tail = split[b][-1 - int(rng.random() * (len(split[b]) - 1)) :]
        first = " ".join(head)
        text = first + ("" if first.endswith("\u2014") else " ") + " ".join(tail)
        if hash(text) in texts:
            continue
        texts.add(hash(text))
        yield _derived(donors[a], f"{prefix}:{made}", text)
        made += 1


def _derived(donor: dict, ref: str, text: str) -> dict:
    record = {"ref": ref, "text": text, "speaker": donor["speaker"]}
    for key in ("said_at", "context", "source"):
        if key in donor:
            record[key] = donor[key]
    return record
