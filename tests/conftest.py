"""Shared fixtures: a real SQLite file per test, the app on top of it, and its clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from quotes_db.keys import generate_key
from quotes_db.seeding import load_seeds
from quotes_db.sqlite_store import SQLiteQuoteStore
from quotes_db.store import QuoteStore, open_store

SEED_QUOTE = (
    "If we're going to pay billions of dollars a year, tell them we're not going to give "
    "them the money unless they give back our military equipment"
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "quotes.db"


@pytest.fixture
def store(db_path: Path) -> QuoteStore:
    """An empty, migrated store in a real SQLite file."""
    s = open_store(f"sqlite:///{db_path}")
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def seeded_store(store: QuoteStore) -> QuoteStore:
    """The store with the shipped seed quotes loaded."""
    load_seeds(store)
    return store


# Tests make many requests a minute from one address; the rate-limit tests set their own.
UNLIMITED = {"RATE_LIMIT_VERIFY": "", "RATE_LIMIT_WRITES": "", "RATE_LIMIT_READS": ""}


def make_key(store: QuoteStore, scope: str, name: str | None = None) -> str:
    """Store a new API key of ``scope``; return the token a client sends."""
    key = generate_key()
    store.add_api_key(name or f"test {scope}", scope, key.key_id, key.salt, key.digest)
    return key.token


def keyed_client(app, token: str):
    """A test client of ``app`` that sends ``token`` as its bearer key with every request."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture
def app(db_path: Path):
    from api import create_app

    s = SQLiteQuoteStore(db_path)
    s.migrate()
    load_seeds(s)
    s.close()
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db_path}", **UNLIMITED})
    yield app


@pytest.fixture
def client(app):
    """A client without an API key: reads only."""
    return app.test_client()


@pytest.fixture
def write_key(app) -> str:
    return make_key(app.extensions["quotecheck"], "write")


@pytest.fixture
def admin_key(app) -> str:
    return make_key(app.extensions["quotecheck"], "admin")


@pytest.fixture
def auth_headers(write_key: str) -> dict[str, str]:
    """Headers that carry a write key."""
    return {"Authorization": f"Bearer {write_key}"}


@pytest.fixture
def writer(app, write_key: str):
    """A client that sends a write key with every request."""
    return keyed_client(app, write_key)


@pytest.fixture
def admin(app, admin_key: str):
    """A client that sends an admin key (which may also delete) with every request."""
    return keyed_client(app, admin_key)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
