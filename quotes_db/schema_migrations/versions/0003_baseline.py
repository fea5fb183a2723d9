"""The layout of schema version 3, the last one SQLite stores reached before Alembic.

A SQLite store at PRAGMA user_version 3 already has it and is stamped with this revision
instead of running it; versions 1 and 2 are brought to 3 by quotes_db.sqlite_store first.

Revision ID: 0003
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from quotes_db.schema import DATE, ID, TIMESTAMP, WORD

revision = "0003"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "speakers",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "speaker_names",
        sa.Column("key", WORD, primary_key=True),
        sa.Column(
            "speaker_id", ID, sa.ForeignKey("speakers.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("is_alias", sa.Integer, nullable=False),
    )
    op.create_index("speaker_names_speaker", "speaker_names", ["speaker_id"])
    op.create_table(
        "quotes",
        sa.Column("id", ID, primary_key=True, autoincrement=False),
        sa.Column("ref", sa.Text, unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("norm", sa.Text, nullable=False),
        sa.Column("norm_key", sa.Text, nullable=False),
        sa.Column(
            "speaker_id", ID, sa.ForeignKey("speakers.id", ondelete="RESTRICT"), nullable=False
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
    )
    op.create_index("quotes_speaker", "quotes", ["speaker_id"])
    op.create_index("quotes_norm_key", "quotes", ["norm_key"])
    op.create_table(
        "terms",
        sa.Column("term", WORD, primary_key=True),
        sa.Column("df", sa.Integer, nullable=False),
        sa.Column("segs", sa.Integer, nullable=False, server_default="0"),
        sqlite_with_rowid=False,
    )
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", ID, nullable=False),
        sqlite_with_rowid=False,
    )
    op.bulk_insert(
        counters,
        [{"name": "quotes", "value": 0}, {"name": "segment", "value": 0}]
        + [{"name": "indexed", "value": 0}],
    )
    op.create_table(
        "postings",
        sa.Column("term", WORD, primary_key=True),
        sa.Column("seg", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("ids", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "articles",
        sa.Column("id", ID, primary_key=True),
        sa.Column("url", sa.Text, unique=True),
        sa.Column("title", sa.Text),
        sa.Column("publisher", sa.Text),
        sa.Column("published_at", DATE),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("text_key", sa.Text, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("articles_text_key", "articles", ["text_key"])
    op.create_table(
        "appearances",
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
    )
    op.create_index("appearances_quote", "appearances", ["quote_id"])
    op.create_index("appearances_article", "appearances", ["article_id"])


def downgrade() -> None:
    for table in (
        "appearances",
        "articles",
        "postings",
        "counters",
        "terms",
        "quotes",
        "speaker_names",
        "speakers",
    ):
        op.drop_table(table)
