"""Shared fixtures: a real SQLite file per test, the app on top of it, and its clients."""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.fixture
def app(db_path: Path):
    from api import create_app

    s = SQLiteQuoteStore(db_path)
    s.migrate()
    load_seeds(s)
    s.close()
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db_path}"})
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
