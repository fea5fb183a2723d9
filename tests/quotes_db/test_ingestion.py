"""Articles in: quotations become appearances of stored quotes, or new pending quotes."""

from __future__ import annotations

from pathlib import Path

from quotes_db.ingestion import ingest_article
from quotes_db.matching import verify
from quotes_db.store import QuoteStore

SEED_ARTICLE = Path(__file__).resolve().parents[2] / "seeds" / "taliban-equipment-article.txt"


def test_the_seed_article_adds_an_appearance_of_the_seed_quote(seeded_store: QuoteStore) -> None:
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    report = ingest_article(seeded_store, text, url="https://news.example/taliban", title="T")
    [found] = report.quotes
    assert found.outcome == "appearance"
    assert found.extracted.speaker == "Donald Trump"
    assert found.quote is not None and found.quote.ref == "seed:taliban-equipment-rally"
    assert any(a.source.url == "https://news.example/taliban" for a in found.quote.appearances)
    # the same article again is the same article, and the same appearance
    again = ingest_article(seeded_store, text, url="https://news.example/taliban")
    assert not again.article_is_new
    assert again.quotes[0].quote is not None
    assert len(again.quotes[0].quote.appearances) == len(found.quote.appearances)


def test_a_new_quotation_waits_for_review(store: QuoteStore) -> None:
    text = (
        'Mayor Ann Lee spoke on Monday. "We will build the bridge before the winter comes," '
        "Lee said during a council meeting."
    )
    dry = ingest_article(store, text, dry_run=True)
    assert dry.article is None and store.count_quotes() == 0
    [found] = dry.quotes
    assert found.outcome == "new" and found.extracted.speaker == "Ann Lee"

    [stored] = ingest_article(store, text).quotes
    assert stored.quote is not None and stored.quote.review == "pending"
    words = "We will build the bridge before the winter comes"
    assert verify(store, words).verdict == "no_match"
    assert verify(store, words, include_pending=True).pending


def test_an_unattributed_quotation_is_never_stored(store: QuoteStore) -> None:
    text = 'A post shared thousands of times claimed "the bridge was never built at all".'
    [found] = ingest_article(store, text).quotes
    assert found.outcome == "unattributed" and found.quote is None
    assert store.count_quotes() == 0
