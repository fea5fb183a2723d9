"""Alembic's environment: always run by quotes_db.migrations on a connection it opened."""

from __future__ import annotations

from alembic import context

from quotes_db.schema import metadata

connection = context.config.attributes["connection"]
# batch mode: SQLite can alter a table only by copying it
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
