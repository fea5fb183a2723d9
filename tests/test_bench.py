"""The benchmark's pure parts: sizes, clause splitting, synthetic quotes, queries, tables."""

from __future__ import annotations

import random

import pytest

from bench.corpus import clauses, parse_size, size_label, split_corpus, synthesize
from bench.queries import EXPECTED, KINDS, QueryMaterial, build_queries, is_equivalent, make_typos
from bench.tables import format_table, percentile
from quotes_db.normalization import words

SPEAKERS = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra")
VOCABULARY = sorted(
    "engine number machine program people country question answer reason nation future "
    "history freedom justice science letter second thousand government congress".split()
)


def _corpus(n: int = 120, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        parts = [
            " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(3, 7)))
            for _ in range(rng.randint(1, 4))
        ]
        text = ", ".join(parts).capitalize() + f" and {i} more were not enough."
        records.append({"ref": f"t:{i}", "text": text, "speaker": SPEAKERS[i % len(SPEAKERS)]})
    return records


def _material(records: list[dict]) -> QueryMaterial:
    corpus = split_corpus(records, held_out=20)
    known = set(VOCABULARY) | {w for r in records for w in words(r["text"])}
    return QueryMaterial(
        base=corpus.pool,
        unseen=corpus.held_out,
        unrelated=["The moon is made of cheese.", "A cat was elected mayor."],
        vocabulary=VOCABULARY,
        speakers=SPEAKERS,
        known=known.__contains__,
    )


@pytest.mark.parametrize(
    ("label", "n", "short"),
    [
        ("10k", 10_000, "10k"),
        ("1M", 1_000_000, "1m"),
        ("2.5k", 2_500, "2500"),
        ("25000", 25_000, "25k"),
    ],
)
def test_sizes(label: str, n: int, short: str) -> None:
    assert parse_size(label) == n
    assert size_label(n) == short


def test_clauses_keep_their_punctuation_and_numbers() -> None:
    assert clauses("We came, we saw; and then\u2014we left: done.") == [
        "We came,",
        "we saw;",
        "and then\u2014",
        "we left:",
        "done.",
    ]
    assert clauses("It cost $1,000,000 in all.") == ["It cost $1,000,000 in all."]


def test_synthetic_quotes_are_deterministic_new_and_from_one_speaker() -> None:
    donors = _corpus()
    first = list(synthesize(donors, 200, seed=3))
    assert first == list(synthesize(donors, 200, seed=3))
    assert [r["ref"] for r in first[:2]] == ["synth:0", "synth:1"]
    texts = [r["text"] for r in first]
    assert len(set(texts)) == len(texts)
    assert not set(texts) & {r["text"] for r in donors}
    for record in first:
        parts = clauses(record["text"])
        same = [r["text"] for r in donors if r["speaker"] == record["speaker"]]
        # a head of one quote and a tail of another, both the same speaker's
        assert any(text.startswith(parts[0]) for text in same)
        assert any(text.endswith(parts[-1]) for text in same)


def test_held_out_quotes_are_in_no_store() -> None:
    records = _corpus()
    corpus = split_corpus(records, held_out=20)
    assert len(corpus.held_out) == 20
    assert len(corpus.pool) + len(corpus.held_out) == len(records)
    assert not {r["ref"] for r in corpus.pool} & {r["ref"] for r in corpus.held_out}
    assert corpus == split_corpus(records, held_out=20)
    stored = {r["text"] for r in corpus.store_records(len(corpus.pool) + 50)}
    assert not stored & {r["text"] for r in corpus.unseen_synthetic(10)}


def test_queries_are_deterministic_and_cover_every_kind() -> None:
    material = _material(_corpus())
    queries = build_queries(material, 80)
    assert queries == build_queries(material, 80)
    assert [q.kind for q in queries[: len(KINDS)]] == list(KINDS)  # interleaved
    assert {q.kind for q in queries} == set(KINDS)
    assert len({q.qid for q in queries}) == len(queries)
    stored = {r["ref"]: r for r in material.base}
    for q in queries:
        assert q.verdict == EXPECTED[q.kind]
        assert (q.ref is None) == (q.verdict == "no_match")
        source = stored.get(q.ref) if q.ref else None
        if q.kind == "misattributed":
            assert source is not None and q.speaker != source["speaker"]
        if q.kind == "fragment":
            assert source is not None and is_equivalent(q, None, source["text"])
            assert len(q.target) < len(words(source["text"]))
        if q.kind == "altered":
            assert source is not None and words(q.text) != words(source["text"])


def test_typos_make_non_words_in_about_one_word_of_eight() -> None:
    text = "the people of this nation will answer every question about freedom and justice now"
    typo, made = make_typos(text, random.Random(1), set(VOCABULARY).__contains__)
    assert made == 1
    changed = [(a, b) for a, b in zip(text.split(), typo.split(), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1] not in VOCABULARY


def test_equivalent_matches() -> None:
    material = _material(_corpus())
    fragment = next(q for q in build_queries(material, 16) if q.kind == "fragment")
    holder = "Before it, " + " ".join(fragment.target) + ", after it."
    assert is_equivalent(fragment, fragment.ref, "unrelated words")
    assert is_equivalent(fragment, "other", holder)
    assert not is_equivalent(fragment, "other", "nothing in common")


def test_table_alignment_and_percentiles() -> None:
    table = format_table(["kind", "p50 ms"], [["exact", "3.5"], ["unrelated", "12.25"]])
    lines = table.splitlines()
    assert lines[0] == "kind       p50 ms"
    assert lines[2] == "exact         3.5"
    assert lines[3] == "unrelated   12.25"
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile([], 99) == 0.0
