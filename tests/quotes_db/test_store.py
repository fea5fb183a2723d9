"""The QuoteStore contract, against a real SQLite file.

Every contract test takes the ``store`` fixture (an empty, migrated store) and nothing
else that knows the backend, so a PostgreSQL store can be parametrised in later. Tests of
SQLite-only details (pragmas) are at the end and skip for other backends.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator

import pytest

from quotes_db.errors import ConflictError, InvalidQuoteError, NotFoundError
from quotes_db.models import ImportReport, NewQuote, Source
from quotes_db.normalization import words
from quotes_db.sqlite_store import SQLiteQuoteStore
from quotes_db.store import QuoteStore, open_store

GETTYSBURG = (
    "Four score and seven years ago our fathers brought forth on this continent, a new "
    "nation, conceived in Liberty, and dedicated to the proposition that all men are "
    "created equal."
)
MALICE = "With malice toward none, with charity for all, let us strive on to finish the work."
FEAR = "The only thing we have to fear is fear itself."


def new(text: str = GETTYSBURG, speaker: str = "Abraham Lincoln", **fields) -> NewQuote:
    return NewQuote(text=text, speaker=speaker, **fields)


# quotes: add, get, update, delete ----------------------------------------------------------


def test_add_and_get_quote_round_trips_every_field(store: QuoteStore) -> None:
    source = Source(
        title="Gettysburg Address",
        url="https://example.org/gettysburg",
        publisher="Miller Center",
        published_at=dt.date(1863, 11, 20),
    )
    added = store.add_quote(
        new(
            ref="speech:gettysburg#0",
            said_at=dt.date(1863, 11, 19),
            context="Gettysburg Address",
            source=source,
            tags=("speech", "civil war"),
        )
    )
    got = store.get_quote(added.id)
    assert got == added
    assert (got.ref, got.text, got.speaker.name) == (
        "speech:gettysburg#0",
        GETTYSBURG,
        "Abraham Lincoln",
    )
    assert got.said_at == dt.date(1863, 11, 19)
    assert got.context == "Gettysburg Address"
    assert got.source == source
    assert got.tags == ("speech", "civil war")
    assert got.created_at.tzinfo is not None
    assert got.created_at == got.updated_at
    assert store.count_quotes() == 1


def test_a_quote_without_source_has_none(store: QuoteStore) -> None:
    quote = store.add_quote(new(source=Source()))
    assert store.get_quote(quote.id).source is None


def test_get_quotes_returns_only_existing_ids(store: QuoteStore) -> None:
    a = store.add_quote(new())
    b = store.add_quote(new(FEAR, "Franklin D. Roosevelt"))
    found = store.get_quotes([b.id, 999, a.id, a.id])
    assert set(found) == {a.id, b.id}
    assert found[b.id].text == FEAR


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "... -- !!! ???",  # punctuation only: no words to compare
        "\u200b\u00ad",  # zero-width space and soft hyphen only
    ],
)
def test_a_quote_without_words_is_invalid(store: QuoteStore, text: str) -> None:
    with pytest.raises(InvalidQuoteError):
        store.add_quote(new(text))
    assert store.count_quotes() == 0


def test_a_quote_without_speaker_is_invalid(store: QuoteStore) -> None:
    with pytest.raises(InvalidQuoteError):
        store.add_quote(new(speaker="   "))


def test_missing_quote_is_not_found(store: QuoteStore) -> None:
    with pytest.raises(NotFoundError):
        store.get_quote(12345)
    with pytest.raises(NotFoundError):
        store.update_quote(12345, {"context": "x"})
    with pytest.raises(NotFoundError):
        store.delete_quote(12345)


def test_update_quote_changes_only_the_given_fields(store: QuoteStore) -> None:
    quote = store.add_quote(new(ref="g", context="speech", tags=("a",)))
    updated = store.update_quote(quote.id, {"context": "Gettysburg Address", "tags": ("b", "c")})
    assert updated.context == "Gettysburg Address"
    assert updated.tags == ("b", "c")
    assert (updated.text, updated.ref, updated.speaker.id) == (quote.text, "g", quote.speaker.id)
    assert updated.created_at == quote.created_at
    assert updated.updated_at >= quote.updated_at
    assert store.get_quote(quote.id) == updated


def test_update_quote_text_moves_it_in_the_index(store: QuoteStore) -> None:
    quote = store.add_quote(new())
    store.update_quote(quote.id, {"text": FEAR})
    assert store.list_quotes(text="score seven").total == 0
    assert [q.id for q in store.list_quotes(text="fear itself").items] == [quote.id]
    assert store.document_frequencies(["score", "fear"]) == {"score": 0, "fear": 1}


def test_update_quote_speaker_by_name(store: QuoteStore) -> None:
    quote = store.add_quote(new())
    updated = store.update_quote(quote.id, {"speaker": "A. Lincoln"})
    assert updated.speaker.name == "A. Lincoln"
    assert updated.speaker.id != quote.speaker.id


def test_update_quote_rejects_unknown_fields(store: QuoteStore) -> None:
    quote = store.add_quote(new())
    with pytest.raises(InvalidQuoteError):
        store.update_quote(quote.id, {"id": 99})
    with pytest.raises(InvalidQuoteError):
        store.update_quote(quote.id, {"created_at": dt.datetime.now(dt.UTC)})


def test_delete_quote(store: QuoteStore) -> None:
    keep = store.add_quote(new(FEAR, "Franklin D. Roosevelt"))
    gone = store.add_quote(new())
    store.delete_quote(gone.id)
    with pytest.raises(NotFoundError):
        store.get_quote(gone.id)
    assert [q.id for q in store.iter_quotes()] == [keep.id]
    assert store.count_quotes() == store.total_documents() == 1
    assert store.list_quotes(text="score").total == 0


# uniqueness ------------------------------------------------------------------------------


def test_ref_is_unique(store: QuoteStore) -> None:
    store.add_quote(new(ref="r1"))
    with pytest.raises(ConflictError):
        store.add_quote(new(FEAR, "Franklin D. Roosevelt", ref="r1"))
    assert store.count_quotes() == 1


def test_update_to_a_taken_ref_conflicts(store: QuoteStore) -> None:
    store.add_quote(new(ref="r1"))
    other = store.add_quote(new(FEAR, "Franklin D. Roosevelt", ref="r2"))
    with pytest.raises(ConflictError):
        store.update_quote(other.id, {"ref": "r1"})
    assert store.get_quote(other.id).ref == "r2"


@pytest.mark.parametrize(
    "again",
    [
        GETTYSBURG,
        GETTYSBURG.upper(),  # case is not a difference
        GETTYSBURG.replace(",", "").replace(".", "!"),  # nor punctuation
        "  " + GETTYSBURG.replace(" ", "\n") + "  ",  # nor whitespace
    ],
)
def test_same_words_for_same_speaker_without_ref_conflict(store: QuoteStore, again: str) -> None:
    store.add_quote(new())
    with pytest.raises(ConflictError):
        store.add_quote(new(again, "abraham  LINCOLN"))
    assert store.count_quotes() == 1


def test_same_words_for_another_speaker_are_allowed(store: QuoteStore) -> None:
    store.add_quote(new())
    store.add_quote(new(speaker="Someone Quoting Lincoln"))
    assert store.count_quotes() == 2


def test_same_words_with_distinct_refs_are_allowed(store: QuoteStore) -> None:
    # two reports of the same words (say, two speeches) are two records when the caller
    # keys them apart
    store.add_quote(new(ref="a"))
    store.add_quote(new(ref="b"))
    assert store.count_quotes() == 2


# import ----------------------------------------------------------------------------------


def test_import_upserts_by_ref(store: QuoteStore) -> None:
    batch = [new(ref="g"), new(MALICE, ref="m"), new(FEAR, "Franklin D. Roosevelt", ref="f")]
    assert store.import_quotes(batch) == ImportReport(created=3, updated=0, unchanged=0)
    assert store.import_quotes(batch) == ImportReport(created=0, updated=0, unchanged=3)

    changed = [
        new(ref="g", context="Gettysburg Address"),  # a new field
        new(MALICE + " Amen.", ref="m"),  # new text
        new(FEAR, "Franklin D. Roosevelt", ref="f"),  # as before
        new("A house divided against itself cannot stand.", ref="h"),  # new ref
    ]
    assert store.import_quotes(changed) == ImportReport(created=1, updated=2, unchanged=1)
    assert store.count_quotes() == 4
    by_ref = {q.ref: q for q in store.iter_quotes()}
    assert by_ref["g"].context == "Gettysburg Address"
    assert by_ref["m"].text == MALICE + " Amen."
    assert store.document_frequencies(["amen", "malice"]) == {"amen": 1, "malice": 1}


def test_import_without_ref_skips_duplicates(store: QuoteStore) -> None:
    report = store.import_quotes([new(), new(GETTYSBURG.lower()), new(FEAR, "FDR")])
    assert report == ImportReport(created=2, updated=0, unchanged=1)
    assert store.import_quotes([new()]) == ImportReport(created=0, updated=0, unchanged=1)


def test_import_of_nothing(store: QuoteStore) -> None:
    assert store.import_quotes([]) == ImportReport(0, 0, 0)


def _failing_batch() -> Iterator[NewQuote]:
    yield new(ref="g")
    yield new(MALICE, "Abe Lincoln", ref="m")
    raise RuntimeError("the source broke mid-batch")


@pytest.mark.parametrize(
    ("batch", "error"),
    [
        (_failing_batch, RuntimeError),  # the iterable itself raises partway
        (lambda: iter([new(ref="g"), new("   ", ref="x"), new(FEAR, "FDR")]), InvalidQuoteError),
    ],
    ids=["iterable-raises", "invalid-record"],
)
def test_import_is_all_or_nothing(store: QuoteStore, batch, error) -> None:
    store.add_quote(new(FEAR, "Franklin D. Roosevelt", ref="f"))
    df_before = store.document_frequencies(words(GETTYSBURG + " " + MALICE + " " + FEAR))
    with pytest.raises(error):
        store.import_quotes(batch())
    assert [q.ref for q in store.iter_quotes()] == ["f"]
    assert store.count_quotes() == store.total_documents() == 1
    assert store.document_frequencies(df_before) == df_before
    # speakers created during the failed batch are gone with it
    assert store.find_speaker("Abe Lincoln") is None
    assert store.find_speaker("Abraham Lincoln") is None


def test_import_all_or_nothing_keeps_updates_out_too(store: QuoteStore) -> None:
    store.import_quotes([new(ref="g")])

    def batch() -> Iterator[NewQuote]:
        yield new(ref="g", context="changed")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.import_quotes(batch())
    assert next(store.iter_quotes()).context is None


# speakers --------------------------------------------------------------------------------


def test_speakers_are_created_on_the_fly_and_matched_case_insensitively(store: QuoteStore) -> None:
    a = store.add_quote(new(speaker="Abraham Lincoln"))
    b = store.add_quote(new(MALICE, speaker="  abraham   LINCOLN "))
    c = store.add_quote(new(FEAR, speaker="Franklin D. Roosevelt"))
    assert a.speaker.id == b.speaker.id != c.speaker.id
    speaker = store.get_speaker(a.speaker.id)
    assert speaker.name == "Abraham Lincoln"  # the first spelling is kept
    assert speaker.quote_count == 2
    assert store.find_speaker("ABRAHAM lincoln") == speaker
    assert store.find_speaker("Lincoln") is None  # a surname is not a name
    assert store.find_speaker("") is None


def test_speakers_are_matched_by_alias(store: QuoteStore) -> None:
    first = store.add_quote(new(FEAR, "Franklin D. Roosevelt"))
    speaker = store.update_speaker(first.speaker.id, aliases=["FDR", "Franklin Delano Roosevelt"])
    assert speaker.aliases == ("FDR", "Franklin Delano Roosevelt")
    again = store.add_quote(new(GETTYSBURG, "fdr"))  # an alias, in another case
    assert again.speaker.id == speaker.id
    assert again.speaker.name == "Franklin D. Roosevelt"
    assert store.find_speaker("franklin  delano roosevelt") == store.get_speaker(speaker.id)
    assert store.import_quotes([new(MALICE, "Fdr")]).created == 1
    assert store.get_speaker(speaker.id).quote_count == 3


def test_update_speaker_replaces_aliases(store: QuoteStore) -> None:
    sid = store.add_quote(new()).speaker.id
    store.update_speaker(sid, aliases=["Abe Lincoln", "Honest Abe"])
    updated = store.update_speaker(sid, aliases=["Honest Abe", "abraham lincoln", " "])
    # the name itself and blanks are not kept as aliases
    assert updated.aliases == ("Honest Abe",)
    assert store.find_speaker("Abe Lincoln") is None
    assert store.find_speaker("honest abe") == updated


def test_update_speaker_renames(store: QuoteStore) -> None:
    sid = store.add_quote(new()).speaker.id
    renamed = store.update_speaker(sid, name="President Abraham Lincoln")
    assert renamed.name == "President Abraham Lincoln"
    assert store.find_speaker("president abraham lincoln") == renamed
    assert store.get_quote(1).speaker.name == "President Abraham Lincoln"


@pytest.mark.parametrize(
    "taken",
    [
        "FDR",  # the other speaker's alias
        "fdr",  # ...in another case
        "Franklin D. Roosevelt",  # the other speaker's name
    ],
)
def test_an_alias_of_another_speaker_conflicts(store: QuoteStore, taken: str) -> None:
    fdr = store.add_quote(new(FEAR, "Franklin D. Roosevelt")).speaker.id
    store.update_speaker(fdr, aliases=["FDR"])
    lincoln = store.add_quote(new()).speaker.id
    store.update_speaker(lincoln, aliases=["Honest Abe"])
    with pytest.raises(ConflictError):
        store.update_speaker(lincoln, aliases=["Abe", taken])
    # the failed update changed nothing
    assert store.get_speaker(lincoln).aliases == ("Honest Abe",)
    assert store.find_speaker("Abe") is None
    assert store.find_speaker(taken) == store.get_speaker(fdr)


def test_renaming_to_another_speakers_name_conflicts(store: QuoteStore) -> None:
    store.add_quote(new(FEAR, "Franklin D. Roosevelt"))
    lincoln = store.add_quote(new()).speaker.id
    with pytest.raises(ConflictError):
        store.update_speaker(lincoln, name="franklin d. roosevelt")
    assert store.get_speaker(lincoln).name == "Abraham Lincoln"


def test_update_missing_speaker_is_not_found(store: QuoteStore) -> None:
    with pytest.raises(NotFoundError):
        store.update_speaker(42, aliases=["x"])
    with pytest.raises(NotFoundError):
        store.get_speaker(42)


def test_list_speakers_filters_by_name_and_alias(store: QuoteStore) -> None:
    fdr = store.add_quote(new(FEAR, "Franklin D. Roosevelt")).speaker.id
    store.update_speaker(fdr, aliases=["FDR"])
    store.add_quote(new())
    store.add_quote(new(MALICE, "Theodore Roosevelt"))
    assert [s.name for s in store.list_speakers().items] == [
        "Abraham Lincoln",
        "Franklin D. Roosevelt",
        "Theodore Roosevelt",
    ]
    assert [s.name for s in store.list_speakers(name="roosevelt").items] == [
        "Franklin D. Roosevelt",
        "Theodore Roosevelt",
    ]
    assert [s.id for s in store.list_speakers(name="fdr").items] == [fdr]
    assert store.list_speakers(name="%").total == 0  # LIKE wildcards are literals
    page = store.list_speakers(limit=2, offset=2)
    assert (page.total, len(page.items)) == (3, 1)


# listing ---------------------------------------------------------------------------------


@pytest.fixture
def listed(store: QuoteStore) -> QuoteStore:
    store.add_quote(new(GETTYSBURG, "Abraham Lincoln"))
    store.add_quote(new(MALICE, "Abraham Lincoln"))
    store.add_quote(new(FEAR, "Franklin D. Roosevelt"))
    store.add_quote(new("We have nothing to fear but a nation divided.", "Someone Else"))
    store.update_speaker(store.find_speaker("Franklin D. Roosevelt").id, aliases=["FDR"])
    return store


def test_list_quotes_is_newest_first(listed: QuoteStore) -> None:
    page = listed.list_quotes()
    assert [q.id for q in page.items] == [4, 3, 2, 1]
    assert (page.total, page.limit, page.offset) == (4, 20, 0)


@pytest.mark.parametrize(
    ("speaker", "expected"),
    [
        ("Abraham Lincoln", [2, 1]),
        ("abraham  lincoln", [2, 1]),  # any case and spacing
        ("fdr", [3]),  # an alias
        ("Lincoln", []),  # not a name the store knows
        ("", []),
    ],
)
def test_list_quotes_by_speaker(listed: QuoteStore, speaker: str, expected: list[int]) -> None:
    page = listed.list_quotes(speaker=speaker)
    assert [q.id for q in page.items] == expected
    assert page.total == len(expected)


def test_list_quotes_by_speaker_id(listed: QuoteStore) -> None:
    sid = listed.find_speaker("Abraham Lincoln").id
    assert [q.id for q in listed.list_quotes(speaker_id=sid).items] == [2, 1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fear", [4, 3]),
        ("FEAR itself", [3]),  # every word must occur
        ("itself fear", [3]),  # in any order
        ("nation", [4, 1]),
        ("nation.", [4, 1]),  # punctuation is not a word
        ("“Nation”", [4, 1]),
        ("malice lincoln", []),  # the speaker's name is not in the text
        ("   ", [4, 3, 2, 1]),  # no words: no filter
    ],
)
def test_list_quotes_by_text(listed: QuoteStore, text: str, expected: list[int]) -> None:
    page = listed.list_quotes(text=text)
    assert [q.id for q in page.items] == expected
    assert page.total == len(expected)


def test_list_quotes_by_speaker_and_text(listed: QuoteStore) -> None:
    assert [q.id for q in listed.list_quotes(speaker="abraham lincoln", text="nation").items] == [1]


def test_list_quotes_pages_add_up(store: QuoteStore) -> None:
    store.import_quotes(new(f"Quote number {i} about the nation.", ref=str(i)) for i in range(23))
    pages = [store.list_quotes(text="nation", limit=10, offset=o) for o in (0, 10, 20, 30)]
    assert [p.total for p in pages] == [23] * 4
    assert [len(p.items) for p in pages] == [10, 10, 3, 0]
    ids = [q.id for p in pages for q in p.items]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 23


def test_iter_quotes_yields_all_in_id_order(store: QuoteStore) -> None:
    store.import_quotes(new(f"Quote number {i} about the nation.", ref=str(i)) for i in range(1500))
    store.delete_quote(700)
    ids = [q.id for q in store.iter_quotes()]
    assert ids == sorted(ids)
    assert len(ids) == store.count_quotes() == 1499


# the index: term frequencies and candidates ------------------------------------------------


def test_document_frequencies_count_quotes_not_occurrences(store: QuoteStore) -> None:
    store.add_quote(new(FEAR, "Franklin D. Roosevelt"))  # "fear" twice in one quote
    store.add_quote(new("We have nothing to fear.", "Someone Else"))
    assert store.document_frequencies(["fear", "nothing", "unheard"]) == {
        "fear": 2,
        "nothing": 1,
        "unheard": 0,
    }
    assert store.total_documents() == 2


def test_delete_drops_document_frequencies_back(store: QuoteStore) -> None:
    terms = sorted(set(words(GETTYSBURG + " " + FEAR)))
    store.add_quote(new(FEAR, "Franklin D. Roosevelt"))
    before = store.document_frequencies(terms)
    total_before = store.total_documents()
    added = store.add_quote(new())
    assert store.document_frequencies(["score", "fear"]) == {"score": 1, "fear": 1}
    store.delete_quote(added.id)
    assert store.document_frequencies(terms) == before
    assert store.total_documents() == total_before == 1


def test_updates_keep_document_frequencies_right(store: QuoteStore) -> None:
    store.import_quotes([new(ref="g")])
    store.import_quotes([new(FEAR, ref="g")])  # the text of ref "g" changes
    assert store.document_frequencies(["score", "fear"]) == {"score": 0, "fear": 1}
    assert store.total_documents() == 1


@pytest.mark.parametrize(
    ("text", "expected_ref"),
    [
        (GETTYSBURG, "g"),
        ("four score and seven years ago", "g"),
        ("charity for all", "m"),
        ("the only thing we have to fear", "f"),
        ("fear itself, said Lincoln at Gettysburg", "f"),
    ],
)
def test_candidates_finds_the_right_quote(store: QuoteStore, text: str, expected_ref: str) -> None:
    store.import_quotes(
        [new(ref="g"), new(MALICE, ref="m"), new(FEAR, "Franklin D. Roosevelt", ref="f")]
        + [
            new(f"Filler sentence {i} about the nation and all men.", "X", ref=f"x{i}")
            for i in range(60)
        ]
    )
    found = store.candidates(words(text), limit=5)
    assert found, "no candidates"
    best = store.get_quote(found[0].quote_id)
    assert best.ref == expected_ref
    assert found[0].words == tuple(words(best.text))
    assert found[0].speaker_id == best.speaker.id
    assert len(found) <= 5


def test_candidates_of_unknown_words_is_empty(store: QuoteStore) -> None:
    store.add_quote(new())
    assert store.candidates(["zyzzyva", "qwxrt"], limit=10) == []
    assert store.candidates([], limit=10) == []


def test_candidates_read_commoner_words_when_rare_ones_tie(store: QuoteStore) -> None:
    # 100 older quotes hold the text's three rarest words, so those alone tie more quotes
    # than asked for, the oldest first; the quote holding all of the text's words must
    # still come first
    store.import_quotes(
        [new(f"Harbour lantern keeper number {i} waits.", "X", ref=f"a{i}") for i in range(100)]
        + [new(f"Stormy winter tides come, chapter {i}.", "Y", ref=f"b{i}") for i in range(150)]
        + [new("The harbour lantern keeper saw stormy winter tides.", "Z", ref="target")]
    )
    found = store.candidates(words("harbour lantern keeper stormy winter tides"), limit=10)
    assert store.get_quote(found[0].quote_id).ref == "target"


def test_terms_with_prefix(store: QuoteStore) -> None:
    store.add_quote(new())
    fear = store.add_quote(new(FEAR, "Franklin D. Roosevelt"))
    assert store.terms_with_prefix("fa") == {"fathers": 1}
    assert store.terms_with_prefix("f") == {"fathers": 1, "fear": 1, "forth": 1, "four": 1}
    assert store.terms_with_prefix("zz") == {}
    store.delete_quote(fear.id)
    assert store.terms_with_prefix("fe") == {}  # a word no quote holds any more


# schema --------------------------------------------------------------------------------------


def test_migrate_is_idempotent(store: QuoteStore) -> None:
    store.add_quote(new())
    version = store.migrate()
    assert version >= 1
    assert store.migrate() == version
    assert store.count_quotes() == 1
    store.ping()


# SQLite only -------------------------------------------------------------------------------


@pytest.fixture
def sqlite_store(store: QuoteStore) -> SQLiteQuoteStore:
    if not isinstance(store, SQLiteQuoteStore):
        pytest.skip("SQLite-specific")
    return store


def test_sqlite_uses_wal_and_foreign_keys(sqlite_store: SQLiteQuoteStore) -> None:
    conn = sqlite_store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # WAL is a property of the file: another connection sees it too
    other = sqlite3.connect(sqlite_store.path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        other.close()


def test_sqlite_foreign_keys_are_enforced(sqlite_store: SQLiteQuoteStore) -> None:
    quote = sqlite_store.add_quote(new())
    with pytest.raises(sqlite3.IntegrityError):
        sqlite_store._conn.execute("DELETE FROM speakers WHERE id = ?", (quote.speaker.id,))


def test_sqlite_schema_version_is_user_version(sqlite_store: SQLiteQuoteStore) -> None:
    version = sqlite_store.migrate()
    assert sqlite_store.schema_version() == version
    conn = sqlite3.connect(sqlite_store.path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == version
    finally:
        conn.close()


def test_sqlite_unmigrated_store_is_unavailable(tmp_path) -> None:
    from quotes_db.errors import StoreUnavailableError

    fresh = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(StoreUnavailableError):
            fresh.ping()
    finally:
        fresh.close()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://nowhere/db"])
def test_open_store_rejects_unsupported_urls(url: str) -> None:
    with pytest.raises(ValueError):
        open_store(url)


def test_migration_from_version_1_indexes_existing_quotes(tmp_path) -> None:
    # a database written by the first schema (FTS5 index) is brought forward: the quotes
    # it holds get posting lists and are found again
    import sqlite3

    from quotes_db.sqlite_store import MIGRATIONS, SQLiteQuoteStore, _statements

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    first = MIGRATIONS[0]
    assert isinstance(first, str)
    for statement in _statements(first):
        conn.execute(statement)
    when = "2026-01-01T00:00:00+00:00"
    conn.execute("INSERT INTO speakers VALUES (1, 'Donald Trump', ?, ?)", (when, when))
    conn.execute(
        "INSERT INTO quotes(id, text, norm, norm_key, speaker_id, created_at, updated_at)"
        " VALUES (7, 'Pay billions of dollars', 'pay billions of dollars', 'k', 1, ?, ?)",
        (when, when),
    )
    conn.execute("INSERT INTO terms VALUES ('pay', 1), ('billions', 1), ('of', 1), ('dollars', 1)")
    conn.execute("UPDATE counters SET value = 1 WHERE name = 'quotes'")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    store = SQLiteQuoteStore(path)
    assert store.migrate() == len(MIGRATIONS)
    assert [c.quote_id for c in store.candidates(["billions", "dollars"], limit=5)] == [7]
    assert store.list_quotes(text="billions").total == 1
    tables = {r[0] for r in store._conn.execute("SELECT name FROM sqlite_master")}
    assert "quotes_fts" not in tables
    store.close()


def test_a_quote_added_after_deleting_the_newest_is_indexed(store: QuoteStore) -> None:
    # ids are never reused below the index's mark, or the new quote would go unindexed
    first = store.add_quote(NewQuote(text="Pay billions of dollars to the Taliban", speaker="A"))
    store.delete_quote(first.id)
    second = store.add_quote(NewQuote(text="Return the military equipment now", speaker="B"))
    assert second.id != first.id
    found = store.candidates(["military", "equipment"], limit=5)
    assert [c.quote_id for c in found] == [second.id]


def test_an_interrupted_import_is_indexed_by_the_next_start(
    store: QuoteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # quotes committed by a batch whose import then died are caught up by migrate()
    monkeypatch.setattr("quotes_db.sqlite_store.IMPORT_CHUNK", 5)
    quotes = [
        NewQuote(text=f"Quote number {n} about bananas", speaker="S", ref=f"r{n}")
        for n in range(12)
    ]

    def dies() -> Iterator[NewQuote]:
        yield from quotes
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.import_quotes(dies(), commit_every=5)
    assert store.count_quotes() == 10  # two committed batches...
    assert store.candidates(["bananas"], limit=20) == []  # ...not indexed yet
    store.migrate()
    assert len(store.candidates(["bananas"], limit=20)) == 10
    assert store.total_documents() == 10


def test_a_big_import_is_indexed_by_two_processes_the_same_as_by_one(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the forked helper that gathers half the posting lists gives the same index
    import numpy as np

    quotes = [
        NewQuote(text=f"Quote {n} about {'bananas' if n % 2 else 'apples'} and trade", speaker="S")
        for n in range(300)
    ]

    def index(store: SQLiteQuoteStore) -> dict[str, list[int]]:
        lists: dict[str, list[int]] = {}
        for term, ids in store._conn.execute("SELECT term, ids FROM postings ORDER BY term, seg"):
            lists.setdefault(term, []).extend(np.frombuffer(ids, dtype="<u4").tolist())
        return lists

    one = SQLiteQuoteStore(tmp_path / "one.db")
    one.migrate()
    one.import_quotes(quotes)
    monkeypatch.setattr("quotes_db.sqlite_store.PARALLEL_INDEX_MIN", 50)
    two = SQLiteQuoteStore(tmp_path / "two.db")
    two.migrate()
    two.import_quotes(quotes)
    assert index(two) == index(one)
    assert two.document_frequencies(["bananas", "apples"]) == {"bananas": 150, "apples": 150}
    assert [c.quote_id for c in two.candidates(["quote", "7"], limit=1)] == [8]
    one.close()
    two.close()
