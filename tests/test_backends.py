"""SQLite and PostgreSQL hold the same data the same way: the same verify answers to the
last decimal, and a store moved from one to the other with export/import loses nothing."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SEED_QUOTE, postgres_database

from api import cli
from quotes_db.matching import verify
from quotes_db.models import NewQuote, Source, Verification
from quotes_db.seeding import SEED_FILE, load_seeds
from quotes_db.store import QuoteStore, open_store


def filler(n: int) -> list[NewQuote]:
    """Quotes made of the seed quotes' words, so that rare and common words both occur."""
    records = [json.loads(line) for line in SEED_FILE.read_text().splitlines() if line.strip()]
    vocabulary = sorted({w for r in records if "text" in r for w in r["text"].split()})
    rng = random.Random(20)
    return [
        NewQuote(
            text=" ".join(rng.sample(vocabulary, rng.randint(6, 24))),
            speaker=rng.choice(["Ann Mayor", "Bo Chief", "Donald Trump", "Cy Senator"]),
            ref=f"filler:{i}",
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def both() -> Iterator[tuple[QuoteStore, QuoteStore]]:
    """The same quotes, written the same way, in a SQLite file and a PostgreSQL database."""
    with tempfile.TemporaryDirectory() as tmp, postgres_database() as pg_url:
        stores = (open_store(f"sqlite:///{tmp}/same.db"), open_store(pg_url))
        for store in stores:
            store.migrate()
            load_seeds(store)
            store.import_quotes(filler(400))
            # writes after the bulk import: new segments, an edit, a deletion
            store.add_quote(NewQuote(text=SEED_QUOTE + " Believe me.", speaker="Donald Trump"))
            store.update_quote(41, {"text": "Military equipment for billions of dollars, believe"})
            store.delete_quote(42)
        yield stores
        for store in stores:
            store.close()


def answer(result: Verification) -> tuple:
    """Everything verify says, with quotes named by id and ref (not by creation time)."""
    return (
        result.verdict,
        result.confidence,
        result.evidence,
        result.summary,
        result.attribution,
        [
            (m.quote.id, m.quote.ref, m.match, m.similarity, m.diff, m.quote_span, m.text_span)
            for m in result.matches
        ],
    )


def queries() -> list[tuple[str, str | None]]:
    from quotes_db.matching import prepare

    prepare()
    rng = random.Random(5)
    records = [json.loads(line) for line in SEED_FILE.read_text().splitlines() if line.strip()]
    seeds = [r for r in records if "text" in r]  # not the speakers' aliases
    out: list[tuple[str, str | None]] = [(SEED_QUOTE, None), (SEED_QUOTE, "Joe Biden")]
    for record in seeds:
        words = record["text"].split()
        out.append((record["text"], record["speaker"]))
        out.append((" ".join(words[: max(4, len(words) // 2)]), None))  # a fragment
        changed = list(words)
        changed[rng.randrange(len(changed))] = "banana"
        out.append((" ".join(changed), None))  # altered
        out.append((f'She wrote: "{record["text"]}" and left.', "Nobody Known"))
    out.append(("Entirely unrelated words about gardening and tomatoes", None))
    return out


def test_verify_gives_identical_answers_on_both_backends(both) -> None:
    sqlite, postgres = both
    for text, speaker in queries():
        a = verify(sqlite, text, speaker=speaker, limit=3)
        b = verify(postgres, text, speaker=speaker, limit=3)
        assert answer(a) == answer(b), text


def test_the_word_index_is_identical_on_both_backends(both) -> None:
    sqlite, postgres = both
    terms = sorted({w for q in filler(400) for w in q.text.lower().split()})[:300]
    assert sqlite.total_documents() == postgres.total_documents()
    assert sqlite.document_frequencies(terms) == postgres.document_frequencies(terms)
    for start in range(0, 60, 3):
        wanted = terms[start : start + 7]
        assert sqlite.candidates(wanted, limit=20) == postgres.candidates(wanted, limit=20)
    assert [q.id for q in sqlite.list_quotes(text="military", limit=50).items] == [
        q.id for q in postgres.list_quotes(text="military", limit=50).items
    ]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_export_from_sqlite_and_import_into_postgresql_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sqlite_url = f"sqlite:///{tmp_path / 'from.db'}"
    monkeypatch.setenv("QUOTECHECK_DATABASE_URL", sqlite_url)
    run(capsys, "init")
    source = open_store(sqlite_url)
    quote = source.add_quote(
        NewQuote(
            text="Every field of this quote has to survive the move",
            speaker="Ann Mayor",
            ref="move:1",
            said_at=dt.date(2020, 2, 29),
            context="A test of moving stores",
            source=Source("Paper", "https://paper.example/a", "Paper Inc", None),
            tags=("moving", "test", "ünïcode"),
        )
    )
    source.add_quote(NewQuote(text="A pending quote, not reviewed", speaker="Bo", review="pending"))
    source.add_quote(NewQuote(text="A rejected quote", speaker="Bo", review="rejected"))
    article, _ = source.add_article(
        "Ann Mayor said: every field of this quote has to survive the move.",
        url="https://news.example/1",
        title="Moving",
        publisher="News",
        published_at=dt.date(2021, 3, 4),
    )
    source.add_appearance(
        quote.id, Source("News", "https://news.example/1"), article_id=article.id, start=16, end=66
    )
    source.update_speaker(quote.speaker.id, aliases=["Mayor Ann", "A. Mayor"])
    source.close()
    exported = tmp_path / "all.jsonl.gz"
    run(capsys, "export", exported)

    with postgres_database() as pg_url:
        monkeypatch.setenv("QUOTECHECK_DATABASE_URL", pg_url)
        run(capsys, "init", "--no-seeds")
        run(capsys, "import", exported)
        moved = tmp_path / "moved.jsonl.gz"
        run(capsys, "export", moved)
        before, after = open_store(sqlite_url), open_store(pg_url)
        try:
            assert _content(after) == _content(before)
        finally:
            before.close()
            after.close()
    # the export of the PostgreSQL store is the export of the SQLite one, record for record
    assert gzip.open(moved).read() == gzip.open(exported).read()


def _content(store: QuoteStore) -> dict:
    """Every stored fact, without ids and creation times (a new store gives new ones)."""
    quotes = [
        (
            q.ref,
            q.text,
            q.speaker.name,
            q.speaker.aliases,
            q.said_at,
            q.context,
            q.source,
            q.tags,
            q.review,
            [(a.source, a.start, a.end, a.article_id is not None) for a in q.appearances],
        )
        for q in store.iter_quotes()
    ]
    speakers = [(s.name, s.aliases, s.quote_count) for s in store.list_speakers(limit=1000).items]
    articles = [
        (a.url, a.title, a.publisher, a.published_at, a.text)
        for a in store.list_articles(limit=1000).items
    ]
    in_articles = [
        [(q.ref, a.start, a.end) for q, a in store.article_quotes(article.id)]
        for article in store.list_articles(limit=1000).items
    ]
    return {
        "quotes": quotes,
        "speakers": speakers,
        "articles": articles,
        "appearances": in_articles,
        "count": store.count_quotes(),
    }


def test_verify_reads_the_word_index_from_the_read_replica_url() -> None:
    # the "replica" is the primary itself here: what matters is which pool serves which read
    with postgres_database() as url:
        store = open_store(url, read_url=url)
        try:
            store.migrate()
            load_seeds(store)
            assert set(store._pools) == {"write"}  # type: ignore[attr-defined]
            result = verify(store, SEED_QUOTE, limit=3)
            assert result.verdict == "verified"
            assert set(store._pools) == {"write", "read"}  # type: ignore[attr-defined]
        finally:
            store.close()
