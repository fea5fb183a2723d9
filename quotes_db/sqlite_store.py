"""The embedded store: one SQLite file, WAL, foreign keys, and a word index in the file.

Candidate retrieval reads posting lists (the ids of the quotes that contain a word, as packed
arrays) from the ``postings`` table. Keeping the index in the database file means every
gunicorn worker reads the same pages through the operating system's page cache instead of
holding a private copy, and a write through one worker is in every worker's next answer.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import math
import multiprocessing
import pickle
import sqlite3
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np

from .errors import ConflictError, InvalidQuoteError, NotFoundError, StoreUnavailableError
from .models import (
    API_KEY_SCOPES,
    REVIEW_STATES,
    ApiKey,
    Appearance,
    Article,
    Candidate,
    ImportReport,
    NewQuote,
    NormalizedQuote,
    Page,
    Quote,
    Source,
    Speaker,
)
from .normalization import words
from .store import UPDATABLE_FIELDS, speaker_key

__all__ = ["SQLiteQuoteStore"]

# Candidate retrieval: which words are worth reading posting lists for.
RARE_SHARE = 0.02  # a word in more than 2% of quotes says little about which one is meant
RARE_FLOOR = 50  # ...but in a small store every word is "rare"
MIN_TERMS = 3  # fall back to the rarest words when a text has too few rare ones
MAX_TERMS = 32
MAX_POSTINGS = 40_000  # stop reading posting lists after this many ids
WIDE_POSTINGS = 250_000  # ...unless the rare words leave too many quotes tied
CACHE_KIB = 16_384  # SQLite page cache per connection; the OS page cache is shared anyway
IMPORT_CACHE_KIB = 262_144  # ...and during an import, where index pages are hit at random
WAL_LIMIT_BYTES = 64 * 1024 * 1024
IMPORT_CHUNK = 1000  # quotes looked up and inserted together during an import
PARALLEL_INDEX_MIN = 100_000  # quotes to index at once before a second process helps

# Fields whose change makes an import an update rather than "unchanged".
_COMPARED = (
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
_INSERT_COLUMNS = ("ref", "text", "norm", "norm_key", "speaker_id", *_COMPARED[2:])
_INSERT_SQL = (
    f"INSERT INTO quotes(id, {', '.join(_INSERT_COLUMNS)}, created_at, updated_at)"
    f" VALUES (:id, {', '.join(':' + c for c in _INSERT_COLUMNS)}, :created_at, :updated_at)"
)
_BULK_INSERT_SQL = (
    "INSERT INTO quotes(id, ref, norm, norm_key, "
    + ", ".join(_COMPARED)
    + ", created_at, updated_at) VALUES ("
    + ", ".join("?" * (4 + len(_COMPARED) + 2))
    + ")"
)

# Forward migrations; schema version N is reached by running MIGRATIONS[N - 1], an SQL
# script or a function of the connection.
MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (
    """
    CREATE TABLE speakers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    -- every name and alias of a speaker, under its comparison key
    CREATE TABLE speaker_names (
        key TEXT PRIMARY KEY,
        speaker_id INTEGER NOT NULL REFERENCES speakers(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        is_alias INTEGER NOT NULL
    );
    CREATE INDEX speaker_names_speaker ON speaker_names(speaker_id);
    CREATE TABLE quotes (
        id INTEGER PRIMARY KEY,
        ref TEXT UNIQUE,
        text TEXT NOT NULL,
        norm TEXT NOT NULL,
        norm_key TEXT NOT NULL,
        speaker_id INTEGER NOT NULL REFERENCES speakers(id) ON DELETE RESTRICT,
        said_at TEXT,
        context TEXT,
        source_title TEXT,
        source_url TEXT,
        source_publisher TEXT,
        source_published_at TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX quotes_speaker ON quotes(speaker_id);
    CREATE INDEX quotes_norm_key ON quotes(norm_key);
    CREATE VIRTUAL TABLE quotes_fts USING fts5(
        norm, content='quotes', content_rowid='id',
        tokenize="unicode61 remove_diacritics 0 tokenchars '.'"
    );
    -- how many quotes contain each normalised word: rarity for retrieval, and the
    -- store's vocabulary for telling a misspelling from a real word
    CREATE TABLE terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO counters VALUES ('quotes', 0);
    CREATE TRIGGER quotes_ai AFTER INSERT ON quotes BEGIN
        INSERT INTO quotes_fts(rowid, norm) VALUES (new.id, new.norm);
    END;
    CREATE TRIGGER quotes_ad AFTER DELETE ON quotes BEGIN
        INSERT INTO quotes_fts(quotes_fts, rowid, norm) VALUES ('delete', old.id, old.norm);
    END;
    CREATE TRIGGER quotes_au AFTER UPDATE OF norm ON quotes BEGIN
        INSERT INTO quotes_fts(quotes_fts, rowid, norm) VALUES ('delete', old.id, old.norm);
        INSERT INTO quotes_fts(rowid, norm) VALUES (new.id, new.norm);
    END;
    """,
    # 2: posting lists in a table of our own instead of FTS5, whose maintenance was two
    # thirds of import time and whose OR queries were too slow at a million quotes
    lambda conn: _migrate_to_postings(conn),
    # 3: provenance: review state, the articles quotes were found in, and appearances
    """
    ALTER TABLE quotes ADD COLUMN review TEXT NOT NULL DEFAULT 'approved';
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        url TEXT UNIQUE,
        title TEXT,
        publisher TEXT,
        published_at TEXT,
        text TEXT NOT NULL,
        text_key TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX articles_text_key ON articles(text_key);
    CREATE TABLE appearances (
        id INTEGER PRIMARY KEY,
        quote_id INTEGER NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
        article_id INTEGER REFERENCES articles(id) ON DELETE SET NULL,
        title TEXT,
        url TEXT,
        publisher TEXT,
        published_at TEXT,
        start INTEGER,
        "end" INTEGER,
        created_at TEXT NOT NULL
    );
    CREATE INDEX appearances_quote ON appearances(quote_id);
    CREATE INDEX appearances_article ON appearances(article_id);
    """,
    # 4: API keys for writes; only a salted digest of each key's secret is kept
    """
    CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY,
        key_id TEXT UNIQUE NOT NULL,
        name TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('write', 'admin')),
        salt BLOB NOT NULL,
        digest BLOB NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    """,
)

_QUOTE_COLUMNS = (
    "q.id, q.ref, q.text, q.said_at, q.context, q.source_title, q.source_url, "
    "q.source_publisher, q.source_published_at, q.tags, q.created_at, q.updated_at, "
    "s.id, s.name, q.review"
)


MAX_ID = 2**63 - 1

F = TypeVar("F", bound=Callable[..., Any])


def _guarded(method: F) -> F:
    """Turn database failures (locked, corrupt, unreadable file) into StoreUnavailableError."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
            if isinstance(exc, sqlite3.IntegrityError):
                raise
            raise StoreUnavailableError(f"database error: {exc}") from exc

    return cast(F, wrapper)


def _valid_id(value: int, what: str) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFoundError(f"no {what} with id {value}")
    return value


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _norm_of(text: str, known: str = "") -> tuple[str, str]:
    norm = known or " ".join(words(text))
    if not norm:
        raise InvalidQuoteError("the quote text contains no words", field="text")
    return norm, hashlib.blake2b(norm.encode(), digest_size=12).hexdigest()


class SQLiteQuoteStore:
    """A QuoteStore in one SQLite file; one connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self._local = threading.local()

    # connection and transactions -------------------------------------------------------

    @property
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=10000")
                conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
                # a big import grows the write-ahead log; give the space back afterwards
                conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            except (sqlite3.Error, OSError) as exc:
                raise StoreUnavailableError(f"cannot open {self.path}: {exc}") from exc
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @_guarded
    def migrate(self) -> int:
        with self._tx() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version + 1, len(MIGRATIONS) + 1):
                step = MIGRATIONS[number - 1]
                if callable(step):
                    step(conn)
                else:
                    for statement in _statements(step):
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
            # an import that was interrupted may have left quotes that are not indexed yet
            _index_pending(conn)
            return len(MIGRATIONS)

    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def ping(self) -> None:
        try:
            version = self.schema_version()
        except (sqlite3.Error, StoreUnavailableError) as exc:
            raise StoreUnavailableError(str(exc)) from exc
        if version < len(MIGRATIONS):
            raise StoreUnavailableError(
                f"schema version {version}, expected {len(MIGRATIONS)}: run quotecheck init"
            )

    # speakers ---------------------------------------------------------------------------

    def _speaker_id(self, conn: sqlite3.Connection, name: str, *, create: bool) -> int | None:
        key = speaker_key(name)
        if not key:
            raise InvalidQuoteError("the speaker name is empty", field="speaker")
        row = conn.execute("SELECT speaker_id FROM speaker_names WHERE key = ?", (key,)).fetchone()
        if row is not None:
            return int(row[0])
        if not create:
            return None
        now = _now()
        clean = " ".join(name.split())
        cur = conn.execute(
            "INSERT INTO speakers(name, created_at, updated_at) VALUES (?, ?, ?)",
            (clean, now, now),
        )
        speaker_id = int(cur.lastrowid or 0)
        conn.execute(
            "INSERT INTO speaker_names(key, speaker_id, name, is_alias) VALUES (?, ?, ?, 0)",
            (key, speaker_id, clean),
        )
        return speaker_id

    def _speakers(self, ids: Iterable[int], *, counts: bool = True) -> dict[int, Speaker]:
        """Speakers by id; ``counts`` adds how many quotes each has (a count of up to
        every quote of a prolific speaker: not for the verify path)."""
        ids = sorted(set(ids))
        out: dict[int, Speaker] = {}
        count = "(SELECT count(*) FROM quotes q WHERE q.speaker_id = s.id)" if counts else "0"
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT s.id, s.name, {count} FROM speakers s WHERE s.id IN ({marks})",
                chunk,
            ).fetchall()
            aliases: dict[int, list[str]] = {}
            for sid, alias in self._conn.execute(
                f"SELECT speaker_id, name FROM speaker_names WHERE is_alias = 1"
                f" AND speaker_id IN ({marks}) ORDER BY name",
                chunk,
            ):
                aliases.setdefault(sid, []).append(alias)
            for sid, name, count in rows:
                out[sid] = Speaker(sid, name, tuple(aliases.get(sid, ())), count)
        return out

    @_guarded
    def get_speaker(self, speaker_id: int) -> Speaker:
        _valid_id(speaker_id, "speaker")
        found = self._speakers([speaker_id])
        if speaker_id not in found:
            raise NotFoundError(f"no speaker with id {speaker_id}")
        return found[speaker_id]

    @_guarded
    def find_speaker(self, name: str) -> Speaker | None:
        speaker_id = self._speaker_id(self._conn, name, create=False) if name.strip() else None
        return None if speaker_id is None else self.get_speaker(speaker_id)

    @_guarded
    def list_speakers(
        self, *, name: str | None = None, limit: int = 20, offset: int = 0
    ) -> Page[Speaker]:
        where, params = "", []
        if name and speaker_key(name):
            where = (
                "WHERE s.id IN (SELECT speaker_id FROM speaker_names WHERE key LIKE ? ESCAPE '\\')"
            )
            escaped = speaker_key(name).replace("\\", "\\\\").replace("%", "\\%")
            params.append("%" + escaped.replace("_", "\\_") + "%")
        total = self._conn.execute(f"SELECT count(*) FROM speakers s {where}", params).fetchone()[0]
        ids = [
            r[0]
            for r in self._conn.execute(
                f"SELECT s.id FROM speakers s {where} ORDER BY s.name COLLATE NOCASE, s.id"
                " LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        ]
        found = self._speakers(ids)
        return Page(tuple(found[i] for i in ids), total, limit, offset)

    @_guarded
    def update_speaker(
        self, speaker_id: int, *, name: str | None = None, aliases: Sequence[str] | None = None
    ) -> Speaker:
        _valid_id(speaker_id, "speaker")
        with self._tx() as conn:
            if (
                conn.execute("SELECT 1 FROM speakers WHERE id = ?", (speaker_id,)).fetchone()
                is None
            ):
                raise NotFoundError(f"no speaker with id {speaker_id}")
            if name is not None:
                clean = " ".join(name.split())
                if not clean:
                    raise InvalidQuoteError("the speaker name is empty", field="name")
                conn.execute(
                    "DELETE FROM speaker_names WHERE speaker_id = ? AND is_alias = 0", (speaker_id,)
                )
                self._claim_name(conn, speaker_id, clean, is_alias=False)
                conn.execute(
                    "UPDATE speakers SET name = ?, updated_at = ? WHERE id = ?",
                    (clean, _now(), speaker_id),
                )
            if aliases is not None:
                conn.execute(
                    "DELETE FROM speaker_names WHERE speaker_id = ? AND is_alias = 1", (speaker_id,)
                )
                primary = conn.execute(
                    "SELECT key FROM speaker_names WHERE speaker_id = ? AND is_alias = 0",
                    (speaker_id,),
                ).fetchone()
                for alias in aliases:
                    clean = " ".join(alias.split())
                    if not clean or (primary and speaker_key(clean) == primary[0]):
                        continue
                    self._claim_name(conn, speaker_id, clean, is_alias=True)
                conn.execute(
                    "UPDATE speakers SET updated_at = ? WHERE id = ?", (_now(), speaker_id)
                )
        return self.get_speaker(speaker_id)

    def _claim_name(
        self, conn: sqlite3.Connection, speaker_id: int, name: str, *, is_alias: bool
    ) -> None:
        key = speaker_key(name)
        row = conn.execute("SELECT speaker_id FROM speaker_names WHERE key = ?", (key,)).fetchone()
        if row is not None and row[0] != speaker_id:
            raise ConflictError(f"the name {name!r} already belongs to speaker {row[0]}")
        conn.execute(
            "INSERT OR REPLACE INTO speaker_names(key, speaker_id, name, is_alias)"
            " VALUES (?, ?, ?, ?)",
            (key, speaker_id, name, int(is_alias)),
        )

    # quotes -----------------------------------------------------------------------------

    def _row_values(self, quote: NewQuote, speaker_id: int) -> dict[str, object]:
        norm, norm_key = _norm_of(quote.text)
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
            "source_published_at": (
                source.published_at.isoformat() if source.published_at else None
            ),
            "tags": json.dumps(list(quote.tags), ensure_ascii=False),
            "review": _review(quote.review),
        }

    def _insert(self, conn: sqlite3.Connection, values: dict[str, object]) -> int:
        now = _now()
        row = {**values, "created_at": now, "updated_at": now, "id": _next_id(conn)}
        try:
            cur = conn.execute(_INSERT_SQL, row)
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"a quote with ref {values['ref']!r} already exists") from exc
        quote_id = int(cur.lastrowid or 0)
        _index_pending(conn)
        return quote_id

    def _duplicate_of(self, conn: sqlite3.Connection, values: dict[str, object]) -> int | None:
        row = conn.execute(
            "SELECT id FROM quotes WHERE norm_key = ? AND speaker_id = ? AND norm = ?",
            (values["norm_key"], values["speaker_id"], values["norm"]),
        ).fetchone()
        return None if row is None else int(row[0])

    @_guarded
    def add_quote(self, quote: NewQuote) -> Quote:
        with self._tx() as conn:
            speaker_id = self._speaker_id(conn, quote.speaker, create=True)
            assert speaker_id is not None
            values = self._row_values(quote, speaker_id)
            if quote.ref is None:
                existing = self._duplicate_of(conn, values)
                if existing is not None:
                    raise ConflictError(
                        f"quote {existing} already records these words for this speaker"
                    )
            quote_id = self._insert(conn, values)
        return self.get_quote(quote_id)

    @_guarded
    def import_quotes(
        self,
        quotes: Iterable[NewQuote],
        *,
        commit_every: int | None = None,
        may_commit: Callable[[], bool] = lambda: True,
    ) -> ImportReport:
        created = updated = unchanged = 0
        speaker_ids: dict[str, int] = {}
        since_commit = 0  # quotes read since the last commit
        with self._tx() as conn, _bigger_cache(conn):
            for chunk in _batched(quotes, IMPORT_CHUNK):
                rows: list[tuple[NewQuote, tuple[object, ...]]] = []
                for quote in chunk:
                    key = speaker_key(quote.speaker)
                    if key not in speaker_ids:
                        speaker_id = self._speaker_id(conn, quote.speaker, create=True)
                        assert speaker_id is not None
                        speaker_ids[key] = speaker_id
                    rows.append((quote, _compared_fields(quote, speaker_ids[key])))
                existing = self._existing_refs(conn, [q.ref for q, _ in rows if q.ref is not None])
                norms = {
                    id(q): _norm_of(q.text, _known_norm(q))
                    for q, _ in rows
                    if q.ref not in existing
                }
                duplicates = self._existing_words(
                    conn, [norms[id(q)][1] for q, _ in rows if q.ref is None]
                )
                inserts: list[tuple[NewQuote, tuple[object, ...]]] = []
                new_refs: dict[str, int] = {}
                for quote, fields in rows:
                    ref = quote.ref
                    if ref is not None and ref in existing:
                        quote_id, stored = existing[ref]
                        if stored == fields:
                            unchanged += 1
                        else:
                            self._update_row(
                                conn, quote_id, self._row_values(quote, int(str(fields[1])))
                            )
                            existing[ref] = (quote_id, fields)
                            updated += 1
                        continue
                    if ref is not None and ref in new_refs:
                        inserts[new_refs[ref]] = (quote, fields)  # the file's last record wins
                        updated += 1
                        continue
                    if ref is None:
                        words_key = (norms[id(quote)][1], fields[1], norms[id(quote)][0])
                        if words_key in duplicates:
                            unchanged += 1
                            continue
                        duplicates.add(words_key)
                    else:
                        new_refs[ref] = len(inserts)
                    inserts.append((quote, fields))
                now = _now()
                first = _next_id(conn)
                batch = []
                for n, (quote, fields) in enumerate(inserts):
                    norm, norm_key = norms[id(quote)]
                    batch.append((first + n, quote.ref, norm, norm_key, *fields, now, now))
                conn.executemany(_BULK_INSERT_SQL, batch)
                created += len(inserts)
                since_commit += len(chunk)
                if commit_every and since_commit >= commit_every and may_commit():
                    # the quotes are safe; indexing them waits for the end (or, if this
                    # import is interrupted, for the next write or start-up)
                    conn.execute("COMMIT")
                    conn.execute("BEGIN IMMEDIATE")
                    since_commit = 0
            if created >= PARALLEL_INDEX_MIN and may_commit():
                # the file is valid and whole: commit, so that a helper process can read
                # the new quotes while indexing them
                conn.execute("COMMIT")
                conn.execute("BEGIN IMMEDIATE")
                _index_pending(conn, path=self.path)
            else:
                _index_pending(conn)
        if created + updated > IMPORT_CHUNK:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return ImportReport(created, updated, unchanged)

    def _existing_refs(
        self, conn: sqlite3.Connection, refs: list[str]
    ) -> dict[str, tuple[int, tuple[object, ...]]]:
        found: dict[str, tuple[int, tuple[object, ...]]] = {}
        for part in _chunks(list(dict.fromkeys(refs)), 500):
            marks = ",".join("?" * len(part))
            for row in conn.execute(
                f"SELECT ref, id, {', '.join(_COMPARED)} FROM quotes WHERE ref IN ({marks})", part
            ):
                found[row[0]] = (int(row[1]), tuple(row[2:]))
        return found

    def _existing_words(
        self, conn: sqlite3.Connection, norm_keys: list[str]
    ) -> set[tuple[object, ...]]:
        found: set[tuple[object, ...]] = set()
        for part in _chunks(list(dict.fromkeys(norm_keys)), 500):
            marks = ",".join("?" * len(part))
            for row in conn.execute(
                f"SELECT norm_key, speaker_id, norm FROM quotes WHERE norm_key IN ({marks})", part
            ):
                found.add(tuple(row))
        return found

    def _update_row(
        self, conn: sqlite3.Connection, quote_id: int, values: dict[str, object]
    ) -> None:
        old = conn.execute("SELECT norm FROM quotes WHERE id = ?", (quote_id,)).fetchone()
        indexed = quote_id <= _indexed_upto(conn)  # else the next _index_pending reads it
        if old is not None and old[0] != values["norm"] and indexed:
            before, after = set(old[0].split()), set(str(values["norm"]).split())
            _apply_term_counts(conn, {t: -1 for t in before - after}, quotes=0)
            # words the quote gains get its id; ids under words it lost are left to be
            # skipped at read time and dropped when those lists are compacted
            postings = _Postings()
            postings.add(quote_id, str(values["norm"]), skip=before)
            postings.write(conn, quotes=0)
        row = {**values, "updated_at": _now(), "id": quote_id}
        sets = ", ".join(f"{c} = :{c}" for c in row if c != "id")
        try:
            conn.execute(f"UPDATE quotes SET {sets} WHERE id = :id", row)
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"a quote with ref {values.get('ref')!r} already exists") from exc

    @_guarded
    def get_quotes(self, quote_ids: Sequence[int]) -> dict[int, Quote]:
        rows: list[tuple] = []
        for chunk in _chunks(list(dict.fromkeys(quote_ids)), 500):
            marks = ",".join("?" * len(chunk))
            rows.extend(
                self._conn.execute(
                    f"SELECT {_QUOTE_COLUMNS} FROM quotes q JOIN speakers s ON s.id = q.speaker_id"
                    f" WHERE q.id IN ({marks})",
                    chunk,
                ).fetchall()
            )
        speakers = self._speakers((r[12] for r in rows), counts=False)
        appearances = self._appearances([r[0] for r in rows])
        return {r[0]: _quote(r, speakers[r[12]], appearances.get(r[0], [])) for r in rows}

    def _appearances(self, quote_ids: list[int]) -> dict[int, list[Appearance]]:
        found: dict[int, list[Appearance]] = {}
        for chunk in _chunks(quote_ids, 500):
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(
                "SELECT id, quote_id, article_id, title, url, publisher, published_at, start,"
                f' "end" FROM appearances WHERE quote_id IN ({marks}) ORDER BY id',
                chunk,
            ):
                source = Source(row[3], row[4], row[5], _date(row[6]))
                found.setdefault(row[1], []).append(
                    Appearance(row[0], source, article_id=row[2], start=row[7], end=row[8])
                )
        return found

    @_guarded
    def get_quote(self, quote_id: int) -> Quote:
        _valid_id(quote_id, "quote")
        found = self.get_quotes([quote_id])
        if quote_id not in found:
            raise NotFoundError(f"no quote with id {quote_id}")
        return found[quote_id]

    @_guarded
    def update_quote(self, quote_id: int, changes: Mapping[str, object]) -> Quote:
        unknown = set(changes) - UPDATABLE_FIELDS
        if unknown:
            raise InvalidQuoteError(f"cannot change {', '.join(sorted(unknown))}")
        with self._tx() as conn:
            current = self.get_quote(quote_id)
            merged = NewQuote(
                text=str(changes.get("text", current.text)),
                speaker=str(changes.get("speaker", current.speaker.name)),
                ref=changes.get("ref", current.ref),  # type: ignore[arg-type]
                said_at=changes.get("said_at", current.said_at),  # type: ignore[arg-type]
                context=changes.get("context", current.context),  # type: ignore[arg-type]
                source=changes.get("source", current.source),  # type: ignore[arg-type]
                tags=tuple(cast(Iterable[str], changes.get("tags", current.tags))),
                review=str(changes.get("review", current.review)),
            )
            speaker_id = self._speaker_id(conn, merged.speaker, create=True)
            assert speaker_id is not None
            values = self._row_values(merged, speaker_id)
            if merged.ref is None:
                existing = self._duplicate_of(conn, values)
                if existing is not None and existing != quote_id:
                    raise ConflictError(
                        f"quote {existing} already records these words for this speaker"
                    )
            self._update_row(conn, quote_id, values)
        return self.get_quote(quote_id)

    @_guarded
    def delete_quote(self, quote_id: int) -> None:
        _valid_id(quote_id, "quote")
        with self._tx() as conn:
            old = conn.execute("SELECT norm FROM quotes WHERE id = ?", (quote_id,)).fetchone()
            if old is None:
                raise NotFoundError(f"no quote with id {quote_id}")
            conn.execute("DELETE FROM quotes WHERE id = ?", (quote_id,))
            if quote_id <= _indexed_upto(conn):
                _count_terms(conn, old[0], -1)

    @_guarded
    def list_quotes(
        self,
        *,
        speaker_id: int | None = None,
        speaker: str | None = None,
        text: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Page[Quote]:
        clauses: list[str] = []
        params: list[object] = []
        if speaker is not None:
            wanted = (
                self._speaker_id(self._conn, speaker, create=False) if speaker.strip() else None
            )
            if wanted is None:
                return Page((), 0, limit, offset)
            clauses.append("q.speaker_id = ?")
            params.append(wanted)
        if speaker_id is not None:
            clauses.append("q.speaker_id = ?")
            params.append(speaker_id)
        if text is not None and words(text):
            ids = self._ids_with_all_words(words(text))
            if not ids:
                return Page((), 0, limit, offset)
            clauses.append("q.id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(ids))
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        total = self._conn.execute(f"SELECT count(*) FROM quotes q {where}", params).fetchone()[0]
        ids = [
            r[0]
            for r in self._conn.execute(
                f"SELECT q.id FROM quotes q {where} ORDER BY q.id DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        ]
        found = self.get_quotes(ids)
        return Page(tuple(found[i] for i in ids), total, limit, offset)

    # provenance ---------------------------------------------------------------------------

    @_guarded
    def add_article(
        self,
        text: str,
        *,
        url: str | None = None,
        title: str | None = None,
        publisher: str | None = None,
        published_at: dt.date | None = None,
    ) -> tuple[Article, bool]:
        """Store an article (or find the one with the same URL, or the same text); return it
        and whether it was new."""
        key = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        with self._tx() as conn:
            row = conn.execute(
                "SELECT id FROM articles WHERE (url IS NOT NULL AND url = ?) OR text_key = ?"
                " ORDER BY id LIMIT 1",
                (url, key),
            ).fetchone()
            if row is not None:
                return self.get_article(int(row[0])), False
            cur = conn.execute(
                "INSERT INTO articles(url, title, publisher, published_at, text, text_key,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    url,
                    title,
                    publisher,
                    published_at.isoformat() if published_at else None,
                    text,
                    key,
                    _now(),
                ),
            )
            article_id = int(cur.lastrowid or 0)
        return self.get_article(article_id), True

    @_guarded
    def get_article(self, article_id: int) -> Article:
        _valid_id(article_id, "article")
        row = self._conn.execute(
            "SELECT id, url, title, publisher, published_at, text, created_at FROM articles"
            " WHERE id = ?",
            (article_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no article with id {article_id}")
        return _article(row)

    @_guarded
    def list_articles(self, *, limit: int = 20, offset: int = 0) -> Page[Article]:
        total = self._conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        rows = self._conn.execute(
            "SELECT id, url, title, publisher, published_at, text, created_at FROM articles"
            " ORDER BY id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return Page(tuple(_article(r) for r in rows), total, limit, offset)

    @_guarded
    def article_quotes(self, article_id: int) -> list[tuple[Quote, Appearance]]:
        """The quotes that appear in an article, each with that appearance, in text order."""
        rows = self._conn.execute(
            "SELECT quote_id, id FROM appearances WHERE article_id = ? ORDER BY start, id",
            (article_id,),
        ).fetchall()
        quotes = self.get_quotes([r[0] for r in rows])
        out: list[tuple[Quote, Appearance]] = []
        for quote_id, appearance_id in rows:
            quote = quotes.get(quote_id)
            if quote is None:
                continue
            out.extend((quote, a) for a in quote.appearances if a.id == appearance_id)
        return out

    @_guarded
    def add_appearance(
        self,
        quote_id: int,
        source: Source,
        *,
        article_id: int | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> Quote:
        """Record that a quote appeared in a source (an article, if stored); return the quote.

        The same quote at the same place of the same article, or at the same URL, is
        recorded once."""
        _valid_id(quote_id, "quote")
        with self._tx() as conn:
            if conn.execute("SELECT 1 FROM quotes WHERE id = ?", (quote_id,)).fetchone() is None:
                raise NotFoundError(f"no quote with id {quote_id}")
            duplicate = conn.execute(
                "SELECT 1 FROM appearances WHERE quote_id = ? AND ("
                "(article_id IS NOT NULL AND article_id = ? AND coalesce(start, -1) = ?)"
                " OR (article_id IS NULL AND url IS NOT NULL AND url = ?))",
                (quote_id, article_id, -1 if start is None else start, source.url),
            ).fetchone()
            if duplicate is None:
                conn.execute(
                    "INSERT INTO appearances(quote_id, article_id, title, url, publisher,"
                    ' published_at, start, "end", created_at)'
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        quote_id,
                        article_id,
                        source.title,
                        source.url,
                        source.publisher,
                        source.published_at.isoformat() if source.published_at else None,
                        start,
                        end,
                        _now(),
                    ),
                )
        return self.get_quote(quote_id)

    def iter_quotes(self) -> Iterator[Quote]:
        last = 0
        while True:
            ids = [
                r[0]
                for r in self._conn.execute(
                    "SELECT id FROM quotes WHERE id > ? ORDER BY id LIMIT 1000", (last,)
                )
            ]
            if not ids:
                return
            found = self.get_quotes(ids)
            for quote_id in ids:
                yield found[quote_id]
            last = ids[-1]

    @_guarded
    def count_quotes(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM quotes").fetchone()[0])

    # API keys -----------------------------------------------------------------------------

    @_guarded
    def add_api_key(self, name: str, scope: str, key_id: str, salt: bytes, digest: bytes) -> ApiKey:
        """Store a key's id, name, scope and salted digest; return its record."""
        if scope not in API_KEY_SCOPES:
            raise InvalidQuoteError(f"unknown scope {scope!r}", field="scope")
        if not name.strip():
            raise InvalidQuoteError("a key needs a name", field="name")
        try:
            with self._tx() as conn:
                cur = conn.execute(
                    "INSERT INTO api_keys(key_id, name, scope, salt, digest, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (key_id, name, scope, salt, digest, _now()),
                )
                key_pk = int(cur.lastrowid or 0)
        except sqlite3.IntegrityError:
            raise ConflictError(f"an API key with id {key_id!r} exists") from None
        found = self._api_key_row("id", key_pk)
        assert found is not None
        return found[0]

    @_guarded
    def list_api_keys(self) -> list[ApiKey]:
        """Return every key (revoked ones too), oldest first."""
        rows = self._conn.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY id").fetchall()
        return [_api_key(row) for row in rows]

    @_guarded
    def revoke_api_key(self, key_id: str) -> ApiKey:
        """Mark a key revoked (keeping the first revocation time); return it."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE key_id = ?",
                (_now(), key_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no API key with id {key_id!r}")
        found = self._api_key_row("key_id", key_id)
        assert found is not None
        return found[0]

    @_guarded
    def find_api_key(self, key_id: str) -> tuple[ApiKey, bytes, bytes] | None:
        """Return a key's record, salt and digest; None when no key has that id."""
        return self._api_key_row("key_id", key_id)

    def _api_key_row(self, column: str, value: object) -> tuple[ApiKey, bytes, bytes] | None:
        row = self._conn.execute(
            f"SELECT {_KEY_COLUMNS}, salt, digest FROM api_keys WHERE {column} = ?", (value,)
        ).fetchone()
        if row is None:
            return None
        return _api_key(row), bytes(row[6]), bytes(row[7])

    # retrieval --------------------------------------------------------------------------

    @_guarded
    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(terms))
        found: dict[str, int] = {}
        for chunk in _chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            found.update(
                self._conn.execute(
                    f"SELECT term, df FROM terms WHERE term IN ({marks})", chunk
                ).fetchall()
            )
        return {t: int(found.get(t, 0)) for t in wanted}

    @_guarded
    def terms_with_prefix(self, prefix: str) -> dict[str, int]:
        if not prefix:
            raise ValueError("terms_with_prefix needs a non-empty prefix")
        # SQLite compares text as UTF-8 bytes, so every term with the prefix sorts in
        # [prefix, prefix with its last character bumped)
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self._conn.execute(
            "SELECT term, df FROM terms WHERE term >= ? AND term < ? AND df > 0",
            (prefix, upper),
        ).fetchall()
        return {str(t): int(df) for t, df in rows}

    @_guarded
    def total_documents(self) -> int:
        row = self._conn.execute("SELECT value FROM counters WHERE name = 'quotes'").fetchone()
        return int(row[0]) if row else 0

    @_guarded
    def candidates(
        self,
        terms: Sequence[str],
        *,
        limit: int,
        frequencies: Mapping[str, int] | None = None,
        budget: int | None = None,
    ) -> list[Candidate]:
        """Score quotes by the summed rarity (IDF) of the rare ``terms`` they contain.

        Only terms in at most ``RARE_SHARE`` of the quotes are read (with a floor for small
        stores), rarest first, until ``budget`` (default ``MAX_POSTINGS``) ids have been
        read: common words cost the most to read and say the least about which quote is
        meant. When the words read leave more than ``limit`` quotes tied, commoner words
        are read too (up to ``WIDE_POSTINGS`` ids) to tell them apart.
        """
        if frequencies is None or any(t not in frequencies for t in terms):
            frequencies = self.document_frequencies(terms)
        df = {t: frequencies[t] for t in dict.fromkeys(terms)}
        total = max(self.total_documents(), 1)
        usable = sorted((t for t in df if df[t] > 0), key=lambda t: (df[t], t))
        rare_limit = max(RARE_FLOOR, int(total * RARE_SHARE))
        chosen = [t for t in usable if df[t] <= rare_limit][:MAX_TERMS]
        if len(chosen) < MIN_TERMS:
            chosen = usable[:MIN_TERMS]
        picked = _within(chosen, df, MAX_POSTINGS if budget is None else budget)
        if not picked:
            return []
        lists = self._postings(picked)
        if not lists:
            return []
        touched = np.concatenate(list(lists.values()))
        scores = self._score_buffer(int(touched.max()) + 1)
        weights = {t: math.log((total + 1) / df[t]) for t in usable}
        for term, ids in lists.items():
            # ids are unique within a list, so a fancy-indexed add counts each once
            scores[ids] += weights[term]
        touched_scores = scores[touched]
        read = sum(df[t] for t in picked)
        rest = [t for t in usable if t not in lists]
        while rest and read < WIDE_POSTINGS and _tied_at_top(touched, touched_scores) > limit:
            # the rare words cannot tell more than ``limit`` quotes apart (all of them hold
            # every one): read commoner words of the text too, so that the quote holding
            # the most of them comes first, rather than the oldest of the ties
            more = _within(rest, df, WIDE_POSTINGS - read)
            if not more:
                break
            extra = self._postings(more)
            if extra:
                scores = self._score_buffer(max(int(i.max()) for i in extra.values()) + 1, scores)
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
            several = (
                touched_scores > max(weights[t] for t in usable[: len(usable) - len(rest)]) + 1e-9
            )
            if np.unique(touched[several]).size >= limit:
                touched, touched_scores = touched[several], touched_scores[several]
        if len(touched) > wanted:
            keep = np.argpartition(-touched_scores, wanted - 1)[:wanted]
            touched, touched_scores = touched[keep], touched_scores[keep]
        order = np.lexsort((touched, -touched_scores))  # best score first, then older quote
        ordered = touched[order]
        _, first = np.unique(ordered, return_index=True)
        ranked = [int(i) for i in ordered[np.sort(first)][:limit]]
        rows: dict[int, tuple[int, str, str]] = {}
        for chunk in _chunks(ranked, 500):
            marks = ",".join("?" * len(chunk))
            for quote_id, speaker_id, norm, review in self._conn.execute(
                f"SELECT id, speaker_id, norm, review FROM quotes WHERE id IN ({marks})"
                " AND review != 'rejected'",
                chunk,
            ):
                rows[quote_id] = (speaker_id, norm, review)
        return [
            Candidate(i, rows[i][0], tuple(rows[i][1].split()), rows[i][2])
            for i in ranked
            if i in rows
        ]

    def _score_buffer(self, size: int, current: np.ndarray | None = None) -> np.ndarray:
        """A float array of at least ``size`` entries, one per thread, reused: zeroed, or
        holding ``current``'s scores when it had to grow past ``current``."""
        buffer = getattr(self._local, "scores", None)
        if buffer is None or len(buffer) < size:
            grown = np.zeros(max(size, 1024) * 5 // 4, dtype=np.float64)
            if current is not None:
                grown[: len(current)] = current
            self._local.scores = buffer = grown
        return buffer

    def _postings(self, terms: Sequence[str]) -> dict[str, np.ndarray]:
        """Return each term's posting list (quote ids, ascending, unique; maybe stale)."""
        parts: dict[str, list[bytes]] = {}
        for chunk in _chunks(list(terms), 500):
            marks = ",".join("?" * len(chunk))
            for term, blob in self._conn.execute(
                f"SELECT term, ids FROM postings WHERE term IN ({marks}) ORDER BY term, seg", chunk
            ):
                parts.setdefault(term, []).append(blob)
        # ascending and unique within a segment; across segments an id seldom repeats (a
        # quote edited to regain a word), and a repeat only weighs that word twice
        return {t: np.frombuffer(b"".join(blobs), dtype=_ID_DTYPE) for t, blobs in parts.items()}

    def _ids_with_all_words(self, terms: list[str]) -> list[int]:
        """Ids of the quotes containing every one of ``terms``, newest first."""
        wanted = list(dict.fromkeys(terms))
        df = self.document_frequencies(wanted)
        if any(df[t] == 0 for t in wanted):
            return []
        wanted.sort(key=lambda t: df[t])
        lists = {t: np.unique(ids) for t, ids in self._postings(wanted[:4]).items()}
        ids = lists.get(wanted[0], np.empty(0, dtype=_ID_DTYPE))
        for term in wanted[1:4]:
            ids = np.intersect1d(ids, lists.get(term, np.empty(0, dtype=_ID_DTYPE)))
        # confirm against the stored words: later words, and ids left behind by edits
        need = set(wanted)
        found: list[int] = []
        for chunk in _chunks([int(i) for i in ids[::-1]], 500):
            marks = ",".join("?" * len(chunk))
            for quote_id, norm in self._conn.execute(
                f"SELECT id, norm FROM quotes WHERE id IN ({marks}) ORDER BY id DESC", chunk
            ):
                if need <= set(norm.split()):
                    found.append(quote_id)
        return found


_ID_DTYPE = np.dtype("<u4")  # quote ids in posting lists: 32-bit, little-endian
COMPACT_SEGMENTS = 32  # a word's list is merged into one row once it has this many
SMALL_WRITE_TERMS = 1_000  # writes touching more words than this skip the compaction check


class _Postings:
    """New posting-list entries gathered in memory and written as one segment per word."""

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

    def write(self, conn: sqlite3.Connection, *, quotes: int, count: bool = True) -> None:
        """Store the gathered ids as a new segment of each word's list, add them to the words'
        document frequencies (unless ``count`` is false) and ``quotes`` to the quote count."""
        conn.execute("UPDATE counters SET value = value + ? WHERE name = 'quotes'", (quotes,))
        if not self._lists:
            return
        row = conn.execute(
            "UPDATE counters SET value = value + 1 WHERE name = 'segment' RETURNING value"
        ).fetchone()
        segment = int(row[0])
        items = sorted(self._lists.items())  # in key order: B-tree pages are visited once
        self._lists = {}
        conn.executemany(
            "INSERT INTO postings(term, seg, ids) VALUES (?, ?, ?)",
            ((t, segment, _pack(ids)) for t, ids in items),
        )
        conn.executemany(
            "INSERT INTO terms(term, df, segs) VALUES (?, ?, 1) ON CONFLICT(term)"
            " DO UPDATE SET df = df + excluded.df, segs = segs + 1",
            ((t, len(ids) if count else 0) for t, ids in items),
        )
        if len(items) > SMALL_WRITE_TERMS:
            return  # a bulk write: reading a few more segments costs less than checking
        terms = [t for t, _ in items]
        for chunk in _chunks(terms, 500):
            marks = ",".join("?" * len(chunk))
            for (term,) in conn.execute(
                f"SELECT term FROM terms WHERE term IN ({marks}) AND segs >= ?",
                [*chunk, COMPACT_SEGMENTS],
            ).fetchall():
                _compact(conn, term)


def _pack(ids: array[int]) -> bytes:
    packed = np.asarray(ids, dtype=_ID_DTYPE)
    return packed.tobytes()


def _compact(conn: sqlite3.Connection, term: str) -> None:
    """Merge a word's segments into one, dropping ids of quotes that no longer exist."""
    rows = conn.execute("SELECT seg, ids FROM postings WHERE term = ?", (term,)).fetchall()
    ids = np.unique(np.frombuffer(b"".join(r[1] for r in rows), dtype=_ID_DTYPE))
    live = [
        r[0]
        for chunk in _chunks([int(i) for i in ids], 500)
        for r in conn.execute(
            f"SELECT id FROM quotes WHERE id IN ({','.join('?' * len(chunk))})", chunk
        )
    ]
    conn.execute("DELETE FROM postings WHERE term = ?", (term,))
    conn.execute("UPDATE terms SET segs = ? WHERE term = ?", (1 if live else 0, term))
    if live:
        conn.execute(
            "INSERT INTO postings(term, seg, ids) VALUES (?, ?, ?)",
            (term, min(r[0] for r in rows), np.asarray(sorted(live), dtype=_ID_DTYPE).tobytes()),
        )


@contextmanager
def _bigger_cache(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")


def _indexed_upto(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM counters WHERE name = 'indexed'").fetchone()
    return int(row[0]) if row else 0


def _index_pending(conn: sqlite3.Connection, *, path: Path | None = None) -> int:
    """Index the quotes written since the last indexing (ids above the 'indexed' mark).

    The word index is derived data: writes store quotes first and index them here, in the
    same transaction. A bulk import indexes once at its end, as one segment per word; one
    that was interrupted after committing some batches is caught up by the next call. With
    the database ``path`` and many quotes to index (all of them committed), a forked
    process gathers the lower half of the ids while this one gathers the upper half.
    Returns how many quotes were indexed.
    """
    mark = _indexed_upto(conn)
    top, pending = conn.execute(
        "SELECT coalesce(max(id), 0), count(*) FROM quotes WHERE id > ?", (mark,)
    ).fetchone()
    if not pending:
        return 0
    postings = _Postings()
    start, helper = mark, None
    if path is not None and pending >= PARALLEL_INDEX_MIN:
        (middle,) = conn.execute(
            "SELECT id FROM quotes WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?",
            (mark, pending // 2),
        ).fetchone()
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        helper = context.Process(
            target=_gather_postings, args=(str(path), mark, middle - 1, send), daemon=True
        )
        helper.start()
        send.close()
        start = middle - 1
    for quote_id, norm in conn.execute(
        "SELECT id, norm FROM quotes WHERE id > ? ORDER BY id", (start,)
    ):
        postings.add_terms(quote_id, set(norm.split()))
    if helper is not None:
        try:
            lower = pickle.loads(receive.recv_bytes())
        except (EOFError, OSError):
            lower = None  # the helper died: gather its half here
        helper.join()
        if lower is None:
            lower = _gather(conn, mark, start)
        postings.put_before(lower)
    postings.write(conn, quotes=int(pending))
    conn.execute("UPDATE counters SET value = ? WHERE name = 'indexed'", (top,))
    return int(pending)


def _gather(conn: sqlite3.Connection, low: int, high: int) -> dict[str, bytes]:
    """Posting lists (packed ids) of the quotes with low < id <= high."""
    lists: dict[str, array[int]] = {}
    for quote_id, norm in conn.execute(
        "SELECT id, norm FROM quotes WHERE id > ? AND id <= ? ORDER BY id", (low, high)
    ):
        for term in set(norm.split()):
            found = lists.get(term)
            if found is None:
                lists[term] = array("I", (quote_id,))
            else:
                found.append(quote_id)
    return {term: ids.tobytes() for term, ids in lists.items()}


def _gather_postings(path: str, low: int, high: int, send: Any) -> None:
    """In a forked process: gather posting lists from the committed database, send them."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        send.send_bytes(pickle.dumps(_gather(conn, low, high), protocol=5))
    finally:
        conn.close()
        send.close()


def _next_id(conn: sqlite3.Connection) -> int:
    """The id for a new quote: never one at or below the indexed mark, even if the quote
    that had it was deleted, or the new quote would never be indexed."""
    top = int(conn.execute("SELECT coalesce(max(id), 0) FROM quotes").fetchone()[0])
    return max(top, _indexed_upto(conn)) + 1


def _migrate_to_postings(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE postings (term TEXT NOT NULL, seg INTEGER NOT NULL, ids BLOB NOT NULL,"
        " PRIMARY KEY (term, seg)) WITHOUT ROWID"
    )
    conn.execute("INSERT INTO counters(name, value) VALUES ('segment', 0)")
    for name in ("quotes_ai", "quotes_ad", "quotes_au"):
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    conn.execute("DROP TABLE IF EXISTS quotes_fts")
    # how many segments each word's list has, to know when to compact it
    conn.execute("ALTER TABLE terms ADD COLUMN segs INTEGER NOT NULL DEFAULT 0")
    postings = _Postings()
    for quote_id, norm in conn.execute("SELECT id, norm FROM quotes ORDER BY id").fetchall():
        postings.add(quote_id, norm)
    postings.write(conn, quotes=0, count=False)
    last = conn.execute("SELECT coalesce(max(id), 0) FROM quotes").fetchone()[0]
    conn.execute("INSERT INTO counters(name, value) VALUES ('indexed', ?)", (last,))


def _review(state: str) -> str:
    if state not in REVIEW_STATES:
        raise InvalidQuoteError(f"review must be one of {', '.join(REVIEW_STATES)}", field="review")
    return state


def _known_norm(quote: NewQuote) -> str:
    return quote.norm if isinstance(quote, NormalizedQuote) else ""


def _compared_fields(quote: NewQuote, speaker_id: int) -> tuple[object, ...]:
    """The stored columns named in _COMPARED, in that order, for a quote."""
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
        _review(quote.review),
    )


def _count_terms(conn: sqlite3.Connection, norm: str, delta: int) -> None:
    """Add ``delta`` to the document frequency of every distinct word of ``norm``."""
    _apply_term_counts(conn, {t: delta for t in set(norm.split())}, quotes=delta)


def _apply_term_counts(conn: sqlite3.Connection, counts: dict[str, int], *, quotes: int) -> None:
    conn.executemany(
        "INSERT INTO terms(term, df) VALUES (?, ?)"
        " ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
        counts.items(),
    )
    if any(v < 0 for v in counts.values()):
        conn.execute("DELETE FROM terms WHERE df <= 0")
    conn.execute("UPDATE counters SET value = value + ? WHERE name = 'quotes'", (quotes,))


def _quote(row: tuple, speaker: Speaker, appearances: list[Appearance]) -> Quote:
    source = Source(row[5], row[6], row[7], _date(row[8]))
    every = ([Appearance(None, source)] if not source.is_empty() else []) + appearances
    # first appearance first: dated ones by date, then the undated in the order recorded
    every.sort(key=lambda a: (a.source.published_at is None, a.source.published_at or _NO_DATE))
    return Quote(
        id=row[0],
        ref=row[1],
        text=row[2],
        speaker=speaker,
        said_at=_date(row[3]),
        context=row[4],
        source=None if source.is_empty() else source,
        tags=tuple(json.loads(row[9])),
        created_at=dt.datetime.fromisoformat(row[10]),
        updated_at=dt.datetime.fromisoformat(row[11]),
        review=row[14],
        appearances=tuple(every),
    )


_NO_DATE = dt.date.min

_KEY_COLUMNS = "id, key_id, name, scope, created_at, revoked_at"


def _api_key(row: tuple) -> ApiKey:
    return ApiKey(
        id=row[0],
        key_id=row[1],
        name=row[2],
        scope=row[3],
        created_at=dt.datetime.fromisoformat(row[4]),
        revoked_at=dt.datetime.fromisoformat(row[5]) if row[5] else None,
    )


def _article(row: tuple) -> Article:
    return Article(
        id=row[0],
        url=row[1],
        title=row[2],
        publisher=row[3],
        published_at=_date(row[4]),
        text=row[5],
        created_at=dt.datetime.fromisoformat(row[6]),
    )


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (triggers contain inner semicolons)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def _batched(items: Iterable[NewQuote], size: int) -> Iterator[list[NewQuote]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


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


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
