"""The schema of every store, once: SQLAlchemy Core tables for SQLite and PostgreSQL.

The tables are the current layout; the Alembic scripts in ``quotes_db/migrations`` are how a
database gets there (``migrations.upgrade``). The stores themselves read and write with
their raw drivers (sqlite3, psycopg): SQLAlchemy is used for the schema only.

Column types differ where the databases do: SQLite keeps dates and timestamps as ISO text
(as it always has), PostgreSQL as date and timestamptz; words are compared byte by byte
(collation "C") in PostgreSQL, as SQLite does.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = ["SCHEMA_VERSION", "metadata"]

# The schema version a migrated store reports: the number of the newest migration. SQLite
# stores also keep it in PRAGMA user_version (versions 1-3 predate Alembic).
SCHEMA_VERSION = 4

ID = sa.Integer().with_variant(sa.BigInteger(), "postgresql")  # SQLite: the rowid
TIMESTAMP = sa.Text().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
DATE = sa.Text().with_variant(sa.Date(), "postgresql")
WORD = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")

metadata = sa.MetaData()

speakers = sa.Table(
    "speakers",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("updated_at", TIMESTAMP, nullable=False),
)

# every name and alias of a speaker, under its comparison key
speaker_names = sa.Table(
    "speaker_names",
    metadata,
    sa.Column("key", WORD, primary_key=True),
    sa.Column(
        "speaker_id",
        ID,
        sa.ForeignKey("speakers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("is_alias", sa.Integer, nullable=False),
    sa.Index("speaker_names_speaker", "speaker_id"),
)

quotes = sa.Table(
    "quotes",
    metadata,
    # ids are given by the store (never reused below the indexed mark), not by a sequence
    sa.Column("id", ID, primary_key=True, autoincrement=False),
    sa.Column("ref", sa.Text, unique=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("norm", sa.Text, nullable=False),
    sa.Column("norm_key", sa.Text, nullable=False),
    sa.Column(
        "speaker_id",
        ID,
        sa.ForeignKey("speakers.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    sa.Column("said_at", DATE),
    sa.Column("context", sa.Text),
    sa.Column("source_title", sa.Text),
    sa.Column("source_url", sa.Text),
    sa.Column("source_publisher", sa.Text),
    sa.Column("source_published_at", DATE),
    sa.Column("tags", sa.Text, nullable=False, server_default="[]"),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("updated_at", TIMESTAMP, nullable=False),
    sa.Column("review", sa.Text, nullable=False, server_default="approved"),
    sa.Index("quotes_speaker", "speaker_id"),
    sa.Index("quotes_norm_key", "norm_key"),
)

# how many quotes contain each normalised word (rarity for retrieval, and the store's
# vocabulary), and how many posting-list segments it has (to know when to compact them)
terms = sa.Table(
    "terms",
    metadata,
    sa.Column("term", WORD, primary_key=True),
    sa.Column("df", sa.Integer, nullable=False),
    sa.Column("segs", sa.Integer, nullable=False, server_default="0"),
    sqlite_with_rowid=False,
)

# 'quotes' (how many), 'segment' (the last posting-list segment), 'indexed' (the highest
# quote id in the word index)
counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", ID, nullable=False),
    sqlite_with_rowid=False,
)

# the word index: per word, segments of packed little-endian uint32 quote ids
postings = sa.Table(
    "postings",
    metadata,
    sa.Column("term", WORD, primary_key=True),
    sa.Column("seg", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("ids", sa.LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("url", sa.Text, unique=True),
    sa.Column("title", sa.Text),
    sa.Column("publisher", sa.Text),
    sa.Column("published_at", DATE),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("text_key", sa.Text, nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Index("articles_text_key", "text_key"),
)

appearances = sa.Table(
    "appearances",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("quote_id", ID, sa.ForeignKey("quotes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("article_id", ID, sa.ForeignKey("articles.id", ondelete="SET NULL")),
    sa.Column("title", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("publisher", sa.Text),
    sa.Column("published_at", DATE),
    sa.Column("start", sa.Integer),
    sa.Column("end", sa.Integer),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Index("appearances_quote", "quote_id"),
    sa.Index("appearances_article", "article_id"),
)

# API keys: the public key id, and a salted digest of the secret part (never the secret)
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("key_id", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column(
        "scope",
        sa.Text,
        sa.CheckConstraint("scope IN ('write', 'admin')", name="api_keys_scope"),
        nullable=False,
    ),
    sa.Column("salt", sa.LargeBinary, nullable=False),
    sa.Column("digest", sa.LargeBinary, nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("revoked_at", TIMESTAMP),
)
