"""The databases the proofs run on: ``make fuzz``, ``make load`` and the concurrency and
crash-safety tests each run once per entry of ``BACKENDS``.

A backend makes a fresh, empty database for one run (a SQLite file in a scratch folder, or
a uniquely named database on the PostgreSQL server named by $QUOTECHECK_TEST_POSTGRES_URL,
dropped afterwards) and checks a database's integrity. PostgreSQL is skipped, with the
reason, only while ``quotes_db.store.open_store`` does not accept ``postgresql://`` URLs;
once it does, a server that cannot be reached is an error, never a skip.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from quotes_db.store import open_store

__all__ = ["BACKENDS", "Backend", "POSTGRES_URL_ENV", "seed", "write_key"]

POSTGRES_URL_ENV = "QUOTECHECK_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Backend:
    """One kind of database: how to make a fresh one and how to check one."""

    name: str  # "sqlite" | "postgresql"

    def unsupported_reason(self) -> str | None:
        """Why this backend cannot run here yet (None: it can).

        Asks ``open_store`` itself, so that the PostgreSQL runs start the day the store
        accepts PostgreSQL URLs, without an edit here."""
        if self.name == "sqlite":
            return None
        url = postgres_server_url()
        try:
            store = open_store(url)
        except ValueError as exc:
            return f"quotes_db.store.open_store does not accept {url.split(':')[0]} URLs: {exc}"
        store.close()
        return None

    @contextmanager
    def fresh_database(self, workdir: Path) -> Iterator[str]:
        """Yield the URL of a new, empty database; drop it afterwards."""
        if self.name == "sqlite":
            path = Path(workdir).resolve() / "proof.db"
            files = [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm")]
            for file in files:
                file.unlink(missing_ok=True)
            try:
                yield f"sqlite:///{path}"
            finally:
                for file in files:
                    file.unlink(missing_ok=True)
            return
        import psycopg  # the PostgreSQL store's driver; only needed once it exists

        server = postgres_server_url()
        name = f"quotecheck_proof_{secrets.token_hex(4)}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
        finally:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def integrity_problems(self, url: str) -> list[str]:
        """What the database's own consistency checks report; empty when it is sound.

        SQLite: ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check``. PostgreSQL has
        no single equivalent; the amcheck extension's ``bt_index_check`` (every B-tree index,
        with every heap tuple looked up in it) and ``verify_heapam`` (every table) are."""
        if self.name == "sqlite":
            with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
                found = [row[0] for row in conn.execute("PRAGMA integrity_check")]
                found = [] if found == ["ok"] else found
                found += [repr(row) for row in conn.execute("PRAGMA foreign_key_check")]
            conn.close()
            return found
        return _postgres_integrity_problems(url)


def _postgres_integrity_problems(url: str) -> list[str]:
    import psycopg

    problems: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = conn.execute(
            "SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE am.amname = 'btree' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg_toast%'"
        ).fetchall()
        for oid, name in indexes:
            try:
                conn.execute("SELECT bt_index_check(%s, true)", (oid,))
            except psycopg.Error as exc:
                problems.append(f"index {name}: {exc}")
        tables = conn.execute(
            "SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE c.relkind = 'r'"
            " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for oid, name in tables:
            rows = conn.execute("SELECT msg FROM verify_heapam(%s)", (oid,)).fetchall()
            problems += [f"table {name}: {row[0]}" for row in rows]
    return problems


def postgres_server_url() -> str:
    """The PostgreSQL server the proofs create their databases on."""
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


# Add a backend here and every proof runs on it.
BACKENDS: tuple[Backend, ...] = (Backend("sqlite"), Backend("postgresql"))


def seed(url: str) -> int:
    """Migrate the database at ``url`` and load the seed quotes; return how many it holds."""
    from quotes_db.seeding import load_seeds

    store = open_store(url)
    try:
        store.migrate()
        load_seeds(store)
        return store.count_quotes()
    finally:
        store.close()


def write_key(url: str, scope: str = "write") -> str | None:
    """A new API key of ``scope`` (write, or admin to delete too) for the database at
    ``url``, from ``quotecheck keys create``; None while the service has no API keys
    (writes need none then)."""
    quotecheck = Path(sys.executable).with_name("quotecheck")
    done = subprocess.run(
        [str(quotecheck), "keys", "create", "--name", "proof", "--scope", scope],
        cwd=ROOT,
        env={**os.environ, "QUOTECHECK_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode == 0:
        return done.stdout.strip().splitlines()[-1]
    if "invalid choice" in done.stderr:
        return None
    raise RuntimeError(f"quotecheck keys create failed: {done.stderr.strip()}")


def auth_headers(key: str | None) -> dict[str, Any]:
    """The headers a write needs with ``key`` (none without one)."""
    return {"Authorization": f"Bearer {key}"} if key else {}
