"""The server store: PostgreSQL through psycopg 3 and a connection pool per process.

The word index is the same as SQLite's: a ``postings`` table of packed quote-id segments
per word and a ``terms`` table of document frequencies, read and scored by the functions of
``quotes_db.storage``, so the same data gives the same candidates and scores in both stores.
Writes take one advisory lock for their transaction: writers queue as they do on SQLite,
and quote ids (given by the store, never reused below the indexed mark) cannot collide.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import numpy as np
import psycopg
import psycopg_pool
import sqlalchemy as sa

from . import migrations
from .errors import ConflictError, InvalidQuoteError, NotFoundError, StoreUnavailableError
from .models import (
    API_KEY_SCOPES,
    ApiKey,
    Appearance,
    Article,
    Candidate,
    ImportReport,
    NewQuote,
    Page,
    Quote,
    Source,
    Speaker,
)
from .normalization import words
from .schema import SCHEMA_VERSION
from .storage import (
    ARTICLE_COLUMNS,
    COMPARED,
    ID_DTYPE,
    QUOTE_COLUMNS,
    PostingLists,
    appearance_from_row,
    article_from_row,
    article_key,
    batched,
    compared_fields,
    known_norm,
    merge_changes,
    norm_of,
    now,
    pack,
    pair_appearances,
    plan_import,
    quote_from_row,
    rank_candidates,
    row_values,
    score_buffer,
    unpack,
    valid_id,
)
from .storage import (
    KEY_COLUMNS as _KEY_COLUMNS,
)
from .storage import (
    api_key_from_row as _api_key,
)
from .store import UPDATABLE_FIELDS, speaker_key

__all__ = ["PostgresQuoteStore"]

POOL_MAX = 8  # connections per process (a gunicorn worker is one process)
POOL_TIMEOUT = 5.0  # seconds to wait for a connection before the store counts as down
CONNECT_TIMEOUT = 5  # seconds for one connection attempt
IMPORT_CHUNK = 2000  # quotes looked up together and copied in one COPY during an import
INDEX_PAGE = 50_000  # quotes read at a time while indexing
COMPACT_SEGMENTS = 32  # a word's list is merged into one row once it has this many
SMALL_WRITE_TERMS = 1_000  # writes touching more words than this are copied, not inserted
WRITE_LOCK = 0x71756F7465  # pg_advisory_xact_lock key every write transaction takes
_SESSION = "-c timezone=UTC -c datestyle=ISO,YMD"

# the compared columns as SQLite keeps them (dates as ISO text)
_COMPARED_SQL = ", ".join(c + "::text" if c.endswith("_at") else c for c in COMPARED)
_COPY_COLUMNS = ("id", "ref", "norm", "norm_key", *COMPARED, "created_at", "updated_at")
_INSERT_COLUMNS = ("ref", "text", "norm", "norm_key", "speaker_id", *COMPARED[2:])

F = TypeVar("F", bound=Callable[..., Any])


def _guarded(method: F) -> F:
    """Turn a lost or refused connection into StoreUnavailableError, and a value the
    server cannot store (a NUL character) into InvalidQuoteError."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout) as exc:
            raise StoreUnavailableError(f"database error: {exc}") from exc
        except sa.exc.OperationalError as exc:
            raise StoreUnavailableError(f"database error: {exc.orig}") from exc
        except psycopg.DataError as exc:
            raise InvalidQuoteError(f"the database cannot store this value: {exc}") from exc

    return cast(F, wrapper)


def sqlalchemy_url(url: str) -> str:
    """The URL with SQLAlchemy's driver name for psycopg 3."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else url


class PostgresQuoteStore:
    """A QuoteStore in a PostgreSQL database; ``read_url`` (a replica) serves verify reads."""

    def __init__(self, url: str, *, read_url: str | None = None) -> None:
        self.url = url
        self.read_url = read_url
        self._pools: dict[str, psycopg_pool.ConnectionPool] = {}
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._local = threading.local()

    # connections and transactions -------------------------------------------------------

    def _pool(self, *, read: bool = False) -> psycopg_pool.ConnectionPool:
        """This process's pool (a forked worker opens its own, never its parent's)."""
        if os.getpid() != self._pid:
            self._pools, self._pid = {}, os.getpid()
        which = "read" if read and self.read_url else "write"
        pool = self._pools.get(which)
        if pool is None:
            with self._lock:
                pool = self._pools.get(which)
                if pool is None:
                    pool = psycopg_pool.ConnectionPool(
                        self.read_url if which == "read" and self.read_url else self.url,
                        min_size=1,
                        max_size=POOL_MAX,
                        timeout=POOL_TIMEOUT,
                        kwargs={
                            "autocommit": True,
                            "connect_timeout": CONNECT_TIMEOUT,
                            "options": _SESSION,
                        },
                        name=f"quotecheck-{which}",
                        open=False,
                    )
                    pool.open(wait=False)
                    self._pools[which] = pool
        return pool

    @contextmanager
    def _conn(self, *, read: bool = False) -> Iterator[psycopg.Connection]:
        with self._pool(read=read).connection() as conn:
            yield conn

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection]:
        """A write transaction, holding the write lock until it ends."""
        with self._conn() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield conn

    def _all(
        self, sql: str, params: Sequence[Any] = (), *, read: bool = False, binary: bool = False
    ) -> list[tuple]:
        with self._conn(read=read) as conn:
            return conn.execute(sql, params, binary=binary).fetchall()

    def close(self) -> None:
        pools, self._pools = self._pools, {}
        if os.getpid() == self._pid:
            for pool in pools.values():
                pool.close()

    @_guarded
    def migrate(self) -> int:
        engine = sa.create_engine(
            sqlalchemy_url(self.url),
            poolclass=sa.pool.NullPool,
            connect_args={"connect_timeout": CONNECT_TIMEOUT, "options": _SESSION},
        )
        try:
            with engine.begin() as connection:
                # one migration at a time when several workers start together
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
                version = migrations.upgrade(connection)
                # an import that was interrupted may have left quotes that are not indexed
                _index_pending(cast(psycopg.Connection, connection.connection.driver_connection))
        finally:
            engine.dispose()
        return version

    def schema_version(self) -> int:
        rows = self._all(
            "SELECT version_num FROM alembic_version"
            " WHERE to_regclass('alembic_version') IS NOT NULL"
        )
        return int(rows[0][0]) if rows else 0

    def ping(self) -> None:
        try:
            version = self.schema_version()
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise StoreUnavailableError(f"database error: {exc}") from exc
        if version < SCHEMA_VERSION:
            raise StoreUnavailableError(
                f"schema version {version}, expected {SCHEMA_VERSION}: run quotecheck init"
            )

    # speakers ---------------------------------------------------------------------------

    def _speaker_id(self, conn: psycopg.Connection, name: str, *, create: bool) -> int | None:
        key = speaker_key(name)
        if not key:
            raise InvalidQuoteError("the speaker name is empty", field="speaker")
        row = conn.execute("SELECT speaker_id FROM speaker_names WHERE key = %s", (key,)).fetchone()
        if row is not None:
            return int(row[0])
        if not create:
            return None
        stamp, clean = now(), " ".join(name.split())
        (speaker_id,) = conn.execute(
            "INSERT INTO speakers(name, created_at, updated_at) VALUES (%s, %s, %s) RETURNING id",
            (clean, stamp, stamp),
        ).fetchone() or (0,)
        conn.execute(
            "INSERT INTO speaker_names(key, speaker_id, name, is_alias) VALUES (%s, %s, %s, 0)",
            (key, speaker_id, clean),
        )
        return int(speaker_id)

    def _speakers(self, ids: Iterable[int], *, counts: bool = True) -> dict[int, Speaker]:
        """Speakers by id; ``counts`` adds how many quotes each has (not for verify)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        count = "(SELECT count(*) FROM quotes q WHERE q.speaker_id = s.id)" if counts else "0"
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT s.id, s.name, {count} FROM speakers s WHERE s.id = ANY(%s)", (wanted,)
            ).fetchall()
            aliases: dict[int, list[str]] = {}
            for sid, alias in conn.execute(
                "SELECT speaker_id, name FROM speaker_names WHERE is_alias = 1"
                ' AND speaker_id = ANY(%s) ORDER BY name COLLATE "C"',
                (wanted,),
            ):
                aliases.setdefault(sid, []).append(alias)
        return {sid: Speaker(sid, name, tuple(aliases.get(sid, ())), n) for sid, name, n in rows}

    @_guarded
    def get_speaker(self, speaker_id: int) -> Speaker:
        valid_id(speaker_id, "speaker")
        found = self._speakers([speaker_id])
        if speaker_id not in found:
            raise NotFoundError(f"no speaker with id {speaker_id}")
        return found[speaker_id]

    @_guarded
    def find_speaker(self, name: str) -> Speaker | None:
        if not name.strip():
            return None
        with self._conn() as conn:
            speaker_id = self._speaker_id(conn, name, create=False)
        return None if speaker_id is None else self.get_speaker(speaker_id)

    @_guarded
    def list_speakers(
        self, *, name: str | None = None, limit: int = 20, offset: int = 0
    ) -> Page[Speaker]:
        where, params = "", list[object]()
        if name and speaker_key(name):
            where = (
                "WHERE s.id IN (SELECT speaker_id FROM speaker_names WHERE key LIKE %s ESCAPE '\\')"
            )
            escaped = speaker_key(name).replace("\\", "\\\\").replace("%", "\\%")
            params.append("%" + escaped.replace("_", "\\_") + "%")
        with self._conn() as conn:
            total = conn.execute(f"SELECT count(*) FROM speakers s {where}", params).fetchone()
            ids = [
                r[0]
                for r in conn.execute(
                    f"SELECT s.id FROM speakers s {where}"
                    ' ORDER BY lower(s.name) COLLATE "C", s.id LIMIT %s OFFSET %s',
                    [*params, limit, offset],
                )
            ]
        found = self._speakers(ids)
        return Page(tuple(found[i] for i in ids), int(total[0] if total else 0), limit, offset)

    @_guarded
    def update_speaker(
        self, speaker_id: int, *, name: str | None = None, aliases: Sequence[str] | None = None
    ) -> Speaker:
        valid_id(speaker_id, "speaker")
        with self._tx() as conn:
            if (
                conn.execute("SELECT 1 FROM speakers WHERE id = %s", (speaker_id,)).fetchone()
                is None
            ):
                raise NotFoundError(f"no speaker with id {speaker_id}")
            if name is not None:
                clean = " ".join(name.split())
                if not clean:
                    raise InvalidQuoteError("the speaker name is empty", field="name")
                conn.execute(
                    "DELETE FROM speaker_names WHERE speaker_id = %s AND is_alias = 0",
                    (speaker_id,),
                )
                self._claim_name(conn, speaker_id, clean, is_alias=False)
                conn.execute(
                    "UPDATE speakers SET name = %s, updated_at = %s WHERE id = %s",
                    (clean, now(), speaker_id),
                )
            if aliases is not None:
                conn.execute(
                    "DELETE FROM speaker_names WHERE speaker_id = %s AND is_alias = 1",
                    (speaker_id,),
                )
                primary = conn.execute(
                    "SELECT key FROM speaker_names WHERE speaker_id = %s AND is_alias = 0",
                    (speaker_id,),
                ).fetchone()
                for alias in aliases:
                    clean = " ".join(alias.split())
                    if not clean or (primary and speaker_key(clean) == primary[0]):
                        continue
                    self._claim_name(conn, speaker_id, clean, is_alias=True)
                conn.execute(
                    "UPDATE speakers SET updated_at = %s WHERE id = %s", (now(), speaker_id)
                )
        return self.get_speaker(speaker_id)

    def _claim_name(
        self, conn: psycopg.Connection, speaker_id: int, name: str, *, is_alias: bool
    ) -> None:
        key = speaker_key(name)
        row = conn.execute("SELECT speaker_id FROM speaker_names WHERE key = %s", (key,)).fetchone()
        if row is not None and row[0] != speaker_id:
            raise ConflictError(f"the name {name!r} already belongs to speaker {row[0]}")
        conn.execute(
            "INSERT INTO speaker_names(key, speaker_id, name, is_alias) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (key) DO UPDATE SET speaker_id = excluded.speaker_id,"
            " name = excluded.name, is_alias = excluded.is_alias",
            (key, speaker_id, name, int(is_alias)),
        )

    # quotes -----------------------------------------------------------------------------

    def _insert(self, conn: psycopg.Connection, values: dict[str, object]) -> int:
        stamp = now()
        quote_id = _next_id(conn)
        columns = ("id", *_INSERT_COLUMNS, "created_at", "updated_at")
        row = {**values, "created_at": stamp, "updated_at": stamp, "id": quote_id}
        try:
            with conn.transaction():  # a savepoint: the conflict must not end the transaction
                conn.execute(
                    f"INSERT INTO quotes({', '.join(columns)})"
                    f" VALUES ({', '.join(f'%({c})s' for c in columns)})",
                    row,
                )
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(f"a quote with ref {values['ref']!r} already exists") from exc
        _index_pending(conn)
        return quote_id

    def _duplicate_of(self, conn: psycopg.Connection, values: dict[str, object]) -> int | None:
        row = conn.execute(
            "SELECT id FROM quotes WHERE norm_key = %s AND speaker_id = %s AND norm = %s",
            (values["norm_key"], values["speaker_id"], values["norm"]),
        ).fetchone()
        return None if row is None else int(row[0])

    @_guarded
    def add_quote(self, quote: NewQuote) -> Quote:
        with self._tx() as conn:
            speaker_id = self._speaker_id(conn, quote.speaker, create=True)
            assert speaker_id is not None
            values = row_values(quote, speaker_id)
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
        with self._conn() as conn:
            conn.execute("BEGIN")
            try:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                for chunk in batched(quotes, IMPORT_CHUNK):
                    rows: list[tuple[NewQuote, tuple[object, ...]]] = []
                    for quote in chunk:
                        key = speaker_key(quote.speaker)
                        if key not in speaker_ids:
                            speaker_id = self._speaker_id(conn, quote.speaker, create=True)
                            assert speaker_id is not None
                            speaker_ids[key] = speaker_id
                        rows.append((quote, compared_fields(quote, speaker_ids[key])))
                    existing = _existing_refs(conn, [q.ref for q, _ in rows if q.ref is not None])
                    norms = {
                        id(q): norm_of(q.text, known_norm(q))
                        for q, _ in rows
                        if q.ref not in existing
                    }
                    duplicates = _existing_words(
                        conn, [norms[id(q)][1] for q, _ in rows if q.ref is None]
                    )
                    plan = plan_import(rows, existing, norms, duplicates)
                    for quote_id, quote, speaker_id in plan.updates:
                        self._update_row(conn, quote_id, row_values(quote, speaker_id))
                    _copy_quotes(conn, [(q, f, *norms[id(q)]) for q, f in plan.inserts])
                    created += len(plan.inserts)
                    updated += plan.updated
                    unchanged += plan.unchanged
                    since_commit += len(chunk)
                    if commit_every and since_commit >= commit_every and may_commit():
                        # the quotes are safe; indexing them waits for the end (or, if this
                        # import is interrupted, for the next write or start-up)
                        conn.execute("COMMIT")
                        conn.execute("BEGIN")
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                        since_commit = 0
                _index_pending(conn)
            except BaseException:
                if not conn.closed:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return ImportReport(created, updated, unchanged)

    def _update_row(
        self, conn: psycopg.Connection, quote_id: int, values: dict[str, object]
    ) -> None:
        old = conn.execute("SELECT norm FROM quotes WHERE id = %s", (quote_id,)).fetchone()
        indexed = quote_id <= _indexed_upto(conn)  # else the next _index_pending reads it
        if old is not None and old[0] != values["norm"] and indexed:
            before, after = set(old[0].split()), set(str(values["norm"]).split())
            _apply_term_counts(conn, {t: -1 for t in before - after}, quotes=0)
            # words the quote gains get its id; ids under words it lost are left to be
            # skipped at read time and dropped when those lists are compacted
            postings = PostingLists()
            postings.add(quote_id, str(values["norm"]), skip=before)
            _write_postings(conn, postings, quotes=0)
        row = {**values, "updated_at": now(), "id": quote_id}
        sets = ", ".join(f"{c} = %({c})s" for c in row if c != "id")
        try:
            with conn.transaction():
                conn.execute(f"UPDATE quotes SET {sets} WHERE id = %(id)s", row)
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(f"a quote with ref {values.get('ref')!r} already exists") from exc

    @_guarded
    def get_quotes(self, quote_ids: Sequence[int]) -> dict[int, Quote]:
        wanted = [i for i in dict.fromkeys(quote_ids) if 0 < i <= 2**63 - 1]
        if not wanted:
            return {}
        # one round trip, not four: the speaker, their aliases and the quote's appearances
        # come with the quote
        rows = self._all(
            f"SELECT {QUOTE_COLUMNS}, coalesce((SELECT array_agg(n.name ORDER BY"
            ' n.name COLLATE "C") FROM speaker_names n WHERE n.speaker_id = s.id'
            " AND n.is_alias = 1), '{}'), (SELECT json_agg(json_build_array(a.id,"
            " a.quote_id, a.article_id, a.title, a.url, a.publisher, a.published_at, a.start,"
            ' a."end") ORDER BY a.id) FROM appearances a WHERE a.quote_id = q.id)'
            " FROM quotes q JOIN speakers s ON s.id = q.speaker_id WHERE q.id = ANY(%s)",
            (wanted,),
        )
        return {
            r[0]: quote_from_row(
                r,
                Speaker(r[12], r[13], tuple(r[15])),
                [appearance_from_row(tuple(a)) for a in r[16] or ()],
            )
            for r in rows
        }

    @_guarded
    def get_quote(self, quote_id: int) -> Quote:
        valid_id(quote_id, "quote")
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
            merged = merge_changes(current, changes)
            speaker_id = self._speaker_id(conn, merged.speaker, create=True)
            assert speaker_id is not None
            values = row_values(merged, speaker_id)
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
        valid_id(quote_id, "quote")
        with self._tx() as conn:
            old = conn.execute("SELECT norm FROM quotes WHERE id = %s", (quote_id,)).fetchone()
            if old is None:
                raise NotFoundError(f"no quote with id {quote_id}")
            conn.execute("DELETE FROM quotes WHERE id = %s", (quote_id,))
            if quote_id <= _indexed_upto(conn):
                _apply_term_counts(conn, {t: -1 for t in set(old[0].split())}, quotes=-1)

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
            wanted = None
            if speaker.strip():
                with self._conn() as conn:
                    wanted = self._speaker_id(conn, speaker, create=False)
            if wanted is None:
                return Page((), 0, limit, offset)
            clauses.append("q.speaker_id = %s")
            params.append(wanted)
        if speaker_id is not None:
            clauses.append("q.speaker_id = %s")
            params.append(speaker_id)
        if text is not None and words(text):
            ids = self._ids_with_all_words(words(text))
            if not ids:
                return Page((), 0, limit, offset)
            clauses.append("q.id = ANY(%s)")
            params.append(ids)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._conn() as conn:
            total = conn.execute(f"SELECT count(*) FROM quotes q {where}", params).fetchone()
            ids = [
                r[0]
                for r in conn.execute(
                    f"SELECT q.id FROM quotes q {where} ORDER BY q.id DESC LIMIT %s OFFSET %s",
                    [*params, limit, offset],
                )
            ]
        found = self.get_quotes(ids)
        return Page(tuple(found[i] for i in ids), int(total[0] if total else 0), limit, offset)

    def _ids_with_all_words(self, terms: list[str]) -> list[int]:
        """Ids of the quotes containing every one of ``terms``, newest first."""
        wanted = list(dict.fromkeys(terms))
        df = self.document_frequencies(wanted)
        if any(df[t] == 0 for t in wanted):
            return []
        wanted.sort(key=lambda t: df[t])
        lists = {t: np.unique(ids) for t, ids in self._postings(wanted[:4]).items()}
        ids = lists.get(wanted[0], np.empty(0, dtype=ID_DTYPE))
        for term in wanted[1:4]:
            ids = np.intersect1d(ids, lists.get(term, np.empty(0, dtype=ID_DTYPE)))
        # confirm against the stored words: later words, and ids left behind by edits
        need = set(wanted)
        rows = self._all(
            "SELECT id, norm FROM quotes WHERE id = ANY(%s) ORDER BY id DESC",
            ([int(i) for i in ids],),
        )
        return [quote_id for quote_id, norm in rows if need <= set(norm.split())]

    def iter_quotes(self) -> Iterator[Quote]:
        last = 0
        while True:
            ids = [
                r[0]
                for r in self._all(
                    "SELECT id FROM quotes WHERE id > %s ORDER BY id LIMIT 1000", (last,)
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
        return int(self._all("SELECT count(*) FROM quotes")[0][0])

    # provenance ---------------------------------------------------------------------------

    @_guarded
    def add_article(
        self,
        text: str,
        *,
        url: str | None = None,
        title: str | None = None,
        publisher: str | None = None,
        published_at: Any = None,
    ) -> tuple[Article, bool]:
        """Store an article (or find the one with the same URL, or the same text); return it
        and whether it was new."""
        key = article_key(text)
        with self._tx() as conn:
            row = conn.execute(
                "SELECT id FROM articles WHERE (url IS NOT NULL AND url = %s) OR text_key = %s"
                " ORDER BY id LIMIT 1",
                (url, key),
            ).fetchone()
            if row is None:
                row = conn.execute(
                    "INSERT INTO articles(url, title, publisher, published_at, text, text_key,"
                    " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id, true",
                    (url, title, publisher, published_at, text, key, now()),
                ).fetchone()
                assert row is not None
        return self.get_article(int(row[0])), len(row) > 1

    @_guarded
    def get_article(self, article_id: int) -> Article:
        valid_id(article_id, "article")
        rows = self._all(f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = %s", (article_id,))
        if not rows:
            raise NotFoundError(f"no article with id {article_id}")
        return article_from_row(rows[0])

    @_guarded
    def list_articles(self, *, limit: int = 20, offset: int = 0) -> Page[Article]:
        with self._conn() as conn:
            total = conn.execute("SELECT count(*) FROM articles").fetchone()
            rows = conn.execute(
                f"SELECT {ARTICLE_COLUMNS} FROM articles ORDER BY id DESC LIMIT %s OFFSET %s",
                (limit, offset),
            ).fetchall()
        articles = tuple(article_from_row(r) for r in rows)
        return Page(articles, int(total[0] if total else 0), limit, offset)

    @_guarded
    def article_quotes(self, article_id: int) -> list[tuple[Quote, Appearance]]:
        """The quotes that appear in an article, each with that appearance, in text order."""
        if not 0 < article_id <= 2**63 - 1:
            return []
        rows = self._all(
            "SELECT quote_id, id FROM appearances WHERE article_id = %s ORDER BY start, id",
            (article_id,),
        )
        quotes = self.get_quotes([r[0] for r in rows])
        return pair_appearances(rows, quotes)

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
        valid_id(quote_id, "quote")
        with self._tx() as conn:
            if conn.execute("SELECT 1 FROM quotes WHERE id = %s", (quote_id,)).fetchone() is None:
                raise NotFoundError(f"no quote with id {quote_id}")
            duplicate = conn.execute(
                "SELECT 1 FROM appearances WHERE quote_id = %s AND ("
                "(article_id IS NOT NULL AND article_id = %s AND coalesce(start, -1) = %s)"
                " OR (article_id IS NULL AND url IS NOT NULL AND url = %s))",
                (quote_id, article_id, -1 if start is None else start, source.url),
            ).fetchone()
            if duplicate is None:
                conn.execute(
                    "INSERT INTO appearances(quote_id, article_id, title, url, publisher,"
                    ' published_at, start, "end", created_at)'
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        quote_id,
                        article_id,
                        source.title,
                        source.url,
                        source.publisher,
                        source.published_at,
                        start,
                        end,
                        now(),
                    ),
                )
        return self.get_quote(quote_id)

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
                conn.execute(
                    "INSERT INTO api_keys(key_id, name, scope, salt, digest, created_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (key_id, name, scope, salt, digest, now()),
                )
        except psycopg.errors.UniqueViolation:
            raise ConflictError(f"an API key with id {key_id!r} exists") from None
        found = self.find_api_key(key_id)
        assert found is not None
        return found[0]

    @_guarded
    def list_api_keys(self) -> list[ApiKey]:
        """Return every key (revoked ones too), oldest first."""
        return [
            _api_key(row) for row in self._all(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY id")
        ]

    @_guarded
    def revoke_api_key(self, key_id: str) -> ApiKey:
        """Mark a key revoked (keeping the first revocation time); return it."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, %s) WHERE key_id = %s",
                (now(), key_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no API key with id {key_id!r}")
        found = self.find_api_key(key_id)
        assert found is not None
        return found[0]

    @_guarded
    def find_api_key(self, key_id: str) -> tuple[ApiKey, bytes, bytes] | None:
        """Return a key's record, salt and digest; None when no key has that id."""
        rows = self._all(
            f"SELECT {_KEY_COLUMNS}, salt, digest FROM api_keys WHERE key_id = %s", (key_id,)
        )
        if not rows:
            return None
        return _api_key(rows[0]), bytes(rows[0][6]), bytes(rows[0][7])

    # retrieval --------------------------------------------------------------------------

    @_guarded
    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(terms))
        # the quote count comes along (one round trip, not two): candidates() given these
        # frequencies uses it, as SQLite's reads it right after
        rows = self._all(
            "SELECT term, df FROM terms WHERE term = ANY(%s)"
            " UNION ALL SELECT NULL, value FROM counters WHERE name = 'quotes'",
            (wanted,),
            read=True,
        )
        found = {t: df for t, df in rows if t is not None}
        result = {t: int(found.get(t, 0)) for t in wanted}
        total = [int(df) for t, df in rows if t is None]
        self._local.total_with = (result, total[0] if total else 0)
        return result

    @_guarded
    def total_documents(self) -> int:
        rows = self._all("SELECT value FROM counters WHERE name = 'quotes'", read=True)
        return int(rows[0][0]) if rows else 0

    def _total_with(self, frequencies: Mapping[str, int]) -> int:
        """The quote count read with ``frequencies``, if this thread just read them."""
        cached = getattr(self._local, "total_with", None)
        if cached is not None and cached[0] is frequencies:
            return int(cached[1])
        return self.total_documents()

    @_guarded
    def terms_with_prefix(self, prefix: str) -> dict[str, int]:
        if not prefix:
            raise ValueError("terms_with_prefix needs a non-empty prefix")
        # words compare byte by byte (collation "C"), as in SQLite: every term with the
        # prefix sorts in [prefix, prefix with its last character bumped)
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self._all(
            "SELECT term, df FROM terms WHERE term >= %s AND term < %s AND df > 0",
            (prefix, upper),
            read=True,
        )
        return {str(t): int(df) for t, df in rows}

    @_guarded
    def candidates(
        self,
        terms: Sequence[str],
        *,
        limit: int,
        frequencies: Mapping[str, int] | None = None,
        budget: int | None = None,
    ) -> list[Candidate]:
        """Score quotes by the summed rarity (IDF) of the rare ``terms`` they contain
        (storage.rank_candidates, the same as SQLite's)."""
        if frequencies is None or any(t not in frequencies for t in terms):
            frequencies = self.document_frequencies(terms)
        df = {t: frequencies[t] for t in dict.fromkeys(terms)}
        total = max(self._total_with(frequencies), 1)
        ranked = rank_candidates(
            df,
            total,
            limit=limit,
            budget=budget,
            postings=functools.partial(self._postings, read=True),
            buffer=self._score_buffer,
        )
        if not ranked:
            return []
        rows = {
            quote_id: (speaker_id, norm, review)
            for quote_id, speaker_id, norm, review in self._all(
                "SELECT id, speaker_id, norm, review FROM quotes WHERE id = ANY(%s)"
                " AND review != 'rejected'",
                (ranked,),
                read=True,
            )
        }
        return [
            Candidate(i, rows[i][0], tuple(rows[i][1].split()), rows[i][2])
            for i in ranked
            if i in rows
        ]

    def _score_buffer(self, size: int, current: np.ndarray | None = None) -> np.ndarray:
        return score_buffer(self._local, size, current)

    def _postings(self, terms: Sequence[str], *, read: bool = False) -> dict[str, np.ndarray]:
        """Return each term's posting list (quote ids, ascending, unique; maybe stale)."""
        parts: dict[str, list[bytes]] = {}
        for term, blob in self._all(
            "SELECT term, ids FROM postings WHERE term = ANY(%s) ORDER BY term, seg",
            (list(terms),),
            read=read,
            binary=True,
        ):
            parts.setdefault(term, []).append(blob)
        return {t: unpack(blobs) for t, blobs in parts.items()}


# the word index, in a transaction -------------------------------------------------------


def _indexed_upto(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT value FROM counters WHERE name = 'indexed'").fetchone()
    return int(row[0]) if row else 0


def _next_id(conn: psycopg.Connection) -> int:
    """The id for a new quote: never one at or below the indexed mark (see SQLite's)."""
    row = conn.execute("SELECT coalesce(max(id), 0) FROM quotes").fetchone()
    return max(int(row[0]) if row else 0, _indexed_upto(conn)) + 1


def _index_pending(conn: psycopg.Connection) -> int:
    """Index the quotes written since the last indexing (ids above the 'indexed' mark), as
    one new segment per word; return how many. Derived data, as in the SQLite store."""
    mark = _indexed_upto(conn)
    row = conn.execute(
        "SELECT coalesce(max(id), 0), count(*) FROM quotes WHERE id > %s", (mark,)
    ).fetchone()
    top, pending = (int(row[0]), int(row[1])) if row else (0, 0)
    if not pending:
        return 0
    postings = PostingLists()
    last = mark
    while True:
        page = conn.execute(
            "SELECT id, norm FROM quotes WHERE id > %s ORDER BY id LIMIT %s", (last, INDEX_PAGE)
        ).fetchall()
        if not page:
            break
        for quote_id, norm in page:
            postings.add_terms(quote_id, set(norm.split()))
        last = page[-1][0]
    _write_postings(conn, postings, quotes=pending)
    conn.execute("UPDATE counters SET value = %s WHERE name = 'indexed'", (top,))
    return pending


def _write_postings(
    conn: psycopg.Connection, postings: PostingLists, *, quotes: int, count: bool = True
) -> None:
    """Store the gathered ids as a new segment of each word's list, add them to the words'
    document frequencies (unless ``count`` is false) and ``quotes`` to the quote count."""
    conn.execute("UPDATE counters SET value = value + %s WHERE name = 'quotes'", (quotes,))
    items = postings.take()
    if not items:
        return
    row = conn.execute(
        "UPDATE counters SET value = value + 1 WHERE name = 'segment' RETURNING value"
    ).fetchone()
    segment = int(row[0]) if row else 1
    if len(items) > SMALL_WRITE_TERMS:
        _copy_postings(conn, segment, items, count=count)
        return  # a bulk write: reading a few more segments costs less than checking
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO postings(term, seg, ids) VALUES (%s, %s, %s)",
            [(t, segment, pack(ids)) for t, ids in items],
        )
        cur.executemany(
            "INSERT INTO terms(term, df, segs) VALUES (%s, %s, 1) ON CONFLICT (term)"
            " DO UPDATE SET df = terms.df + excluded.df, segs = terms.segs + 1",
            [(t, len(ids) if count else 0) for t, ids in items],
        )
    full = conn.execute(
        "SELECT term FROM terms WHERE term = ANY(%s) AND segs >= %s",
        ([t for t, _ in items], COMPACT_SEGMENTS),
    ).fetchall()
    for (term,) in full:
        _compact(conn, term)


def _copy_postings(conn: psycopg.Connection, segment: int, items: list, *, count: bool) -> None:
    with conn.cursor() as cur:
        with cur.copy("COPY postings (term, seg, ids) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["text", "int4", "bytea"])
            for term, ids in items:
                copy.write_row((term, segment, pack(ids)))
        cur.execute(
            'CREATE TEMP TABLE IF NOT EXISTS new_terms (term text COLLATE "C", df int)'
            " ON COMMIT DELETE ROWS"
        )
        cur.execute("TRUNCATE new_terms")
        with cur.copy("COPY new_terms (term, df) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["text", "int4"])
            for term, ids in items:
                copy.write_row((term, len(ids) if count else 0))
        cur.execute(
            "INSERT INTO terms(term, df, segs) SELECT term, df, 1 FROM new_terms"
            " ON CONFLICT (term) DO UPDATE SET df = terms.df + excluded.df,"
            " segs = terms.segs + 1"
        )


def _compact(conn: psycopg.Connection, term: str) -> None:
    """Merge a word's segments into one, dropping ids of quotes that no longer exist."""
    rows = conn.execute("SELECT seg, ids FROM postings WHERE term = %s", (term,)).fetchall()
    ids = np.unique(unpack(r[1] for r in rows))
    live = sorted(
        r[0]
        for r in conn.execute(
            "SELECT id FROM quotes WHERE id = ANY(%s)", ([int(i) for i in ids],)
        ).fetchall()
    )
    conn.execute("DELETE FROM postings WHERE term = %s", (term,))
    conn.execute("UPDATE terms SET segs = %s WHERE term = %s", (1 if live else 0, term))
    if live:
        conn.execute(
            "INSERT INTO postings(term, seg, ids) VALUES (%s, %s, %s)",
            (term, min(r[0] for r in rows), pack(live)),
        )


def _apply_term_counts(conn: psycopg.Connection, counts: dict[str, int], *, quotes: int) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO terms(term, df) VALUES (%s, %s)"
            " ON CONFLICT (term) DO UPDATE SET df = terms.df + excluded.df",
            list(counts.items()),
        )
    if any(v < 0 for v in counts.values()):
        conn.execute("DELETE FROM terms WHERE df <= 0")
    conn.execute("UPDATE counters SET value = value + %s WHERE name = 'quotes'", (quotes,))


# imports --------------------------------------------------------------------------------


def _existing_refs(
    conn: psycopg.Connection, refs: list[str]
) -> dict[str, tuple[int, tuple[object, ...]]]:
    if not refs:
        return {}
    rows = conn.execute(
        f"SELECT ref, id, {_COMPARED_SQL} FROM quotes WHERE ref = ANY(%s)",
        (list(dict.fromkeys(refs)),),
    ).fetchall()
    return {row[0]: (int(row[1]), tuple(row[2:])) for row in rows}


def _existing_words(conn: psycopg.Connection, norm_keys: list[str]) -> set[tuple[object, ...]]:
    if not norm_keys:
        return set()
    rows = conn.execute(
        "SELECT norm_key, speaker_id, norm FROM quotes WHERE norm_key = ANY(%s)",
        (list(dict.fromkeys(norm_keys)),),
    ).fetchall()
    return {tuple(row) for row in rows}


def _copy_quotes(
    conn: psycopg.Connection, inserts: list[tuple[NewQuote, tuple[object, ...], str, str]]
) -> None:
    """Insert new quotes with COPY, under ids after the newest (and the indexed mark)."""
    if not inserts:
        return
    first, stamp = _next_id(conn), now()
    with conn.cursor() as cur:
        with cur.copy(f"COPY quotes ({', '.join(_COPY_COLUMNS)}) FROM STDIN") as copy:
            for n, (quote, fields, norm, norm_key) in enumerate(inserts):
                copy.write_row((first + n, quote.ref, norm, norm_key, *fields, stamp, stamp))
