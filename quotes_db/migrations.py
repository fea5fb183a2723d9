"""Running the Alembic migrations in ``quotes_db/schema_migrations`` from a store.

Each store opens a SQLAlchemy connection to its database, begins a transaction (taking its
backend's lock against a concurrent migration), and calls ``upgrade`` in it; the store's
own work after migrating (indexing what an interrupted import left) runs in the same
transaction.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from .schema import SCHEMA_VERSION

__all__ = ["current_version", "upgrade"]

SCRIPTS = Path(__file__).with_name("schema_migrations")
FIRST_REVISION = 3  # stores at an older version are brought to 3 by their own code first


def _config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


def current_version(connection: sa.Connection) -> int:
    """Return the database's schema version (0 before the first migration)."""
    revision = MigrationContext.configure(connection).get_current_revision()
    return int(revision) if revision else 0


def upgrade(connection: sa.Connection, *, known_version: int = 0) -> int:
    """Bring the database to the newest schema and return its version.

    ``known_version`` is the version a store recorded before Alembic (SQLite's PRAGMA
    user_version): a database that has that layout but no Alembic history is stamped
    with it instead of being migrated again.
    """
    config = _config(connection)
    if known_version >= FIRST_REVISION and not current_version(connection):
        command.stamp(config, f"{min(known_version, SCHEMA_VERSION):04d}")
    command.upgrade(config, "head")
    return current_version(connection)
