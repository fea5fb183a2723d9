"""Provenance: articles, appearances (first appearance first) and the review state."""

from __future__ import annotations

import datetime as dt

import pytest

from quotes_db.errors import InvalidQuoteError
from quotes_db.matching import verify
from quotes_db.models import NewQuote, Source
from quotes_db.store import QuoteStore

WORDS = "We will build the bridge across the river before the winter comes to town"


def test_an_article_is_stored_once(store: QuoteStore) -> None:
    first, new = store.add_article("Some text.", url="https://news.example/a", title="A")
    again, new_again = store.add_article("Some text.", url="https://news.example/a")
    same_text, new_text = store.add_article("Some text.")
    assert new and not new_again and not new_text
    assert first.id == again.id == same_text.id
    assert store.get_article(first.id).title == "A"
    assert store.list_articles().total == 1


def test_appearances_come_first_appearance_first(store: QuoteStore) -> None:
    quote = store.add_quote(
        NewQuote(
            text=WORDS,
            speaker="Ann Mayor",
            source=Source(title="Later paper", published_at=dt.date(2024, 5, 2)),
        )
    )
    article, _ = store.add_article("Ann Mayor said ...", title="Early paper")
    store.add_appearance(
        quote.id,
        Source(title="Early paper", published_at=dt.date(2024, 5, 1)),
        article_id=article.id,
        start=3,
        end=40,
    )
    store.add_appearance(quote.id, Source(title="Undated blog", url="https://blog.example/x"))
    # the same appearance twice is recorded once
    again = store.add_appearance(
        quote.id, Source(title="Undated blog", url="https://blog.example/x")
    )
    titles = [a.source.title for a in again.appearances]
    assert titles == ["Early paper", "Later paper", "Undated blog"]
    assert again.first_appearance is not None
    assert again.first_appearance.article_id == article.id
    [(found, appearance)] = store.article_quotes(article.id)
    assert found.id == quote.id and (appearance.start, appearance.end) == (3, 40)


def test_a_pending_quote_never_verifies_text(store: QuoteStore) -> None:
    store.add_quote(NewQuote(text=WORDS, speaker="Ann Mayor", review="pending"))
    plain = verify(store, WORDS)
    assert plain.verdict == "no_match" and plain.pending == ()
    asked = verify(store, WORDS, include_pending=True)
    assert asked.verdict == "no_match"  # still: only approved quotes decide
    [pending] = asked.pending
    assert pending.quote.review == "pending" and pending.match == "verified"


def test_a_curator_approves_or_rejects(store: QuoteStore) -> None:
    quote = store.add_quote(NewQuote(text=WORDS, speaker="Ann Mayor", review="pending"))
    approved = store.update_quote(quote.id, {"review": "approved"})
    assert approved.review == "approved"
    assert verify(store, WORDS).verdict == "verified"
    store.update_quote(quote.id, {"review": "rejected"})
    assert verify(store, WORDS, include_pending=True).verdict == "no_match"
    with pytest.raises(InvalidQuoteError):
        store.update_quote(quote.id, {"review": "maybe"})


def test_imported_and_created_quotes_are_approved(store: QuoteStore) -> None:
    created = store.add_quote(NewQuote(text=WORDS, speaker="Ann Mayor"))
    store.import_quotes([NewQuote(text="Another quote with enough words", speaker="B", ref="r")])
    assert created.review == "approved"
    assert {q.review for q in store.iter_quotes()} == {"approved"}


def test_export_and_import_round_trip_everything(store: QuoteStore, tmp_path) -> None:
    # speakers' aliases, articles, appearances and review states survive export -> import
    from quotes_db.importing import export_quotes, import_file
    from quotes_db.sqlite_store import SQLiteQuoteStore

    quote = store.add_quote(
        NewQuote(text=WORDS, speaker="Ann Mayor", ref="r1", source=Source(title="Paper"))
    )
    store.add_quote(NewQuote(text="A pending quote with words", speaker="Bo", review="pending"))
    article, _ = store.add_article("Ann Mayor said the words.", url="https://n.example/1")
    store.add_appearance(
        quote.id,
        Source(title="N", url="https://n.example/1"),
        article_id=article.id,
        start=4,
        end=20,
    )
    store.update_speaker(quote.speaker.id, aliases=["Mayor Ann", "A. Mayor"])
    first = tmp_path / "first.jsonl"
    export_quotes(store, first)

    other = SQLiteQuoteStore(tmp_path / "other.db")
    other.migrate()
    import_file(other, first)
    second = tmp_path / "second.jsonl"
    export_quotes(other, second)
    assert second.read_text() == first.read_text()
    [copied] = [q for q in other.iter_quotes() if q.ref == "r1"]
    assert [a.source.title for a in copied.appearances] == ["Paper", "N"]
    assert other.find_speaker("mayor ann") is not None
    assert {q.review for q in other.iter_quotes()} == {"approved", "pending"}
    other.close()
