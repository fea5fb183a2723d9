"""Shared fixtures: a real database per test (a SQLite file, and a fresh PostgreSQL
database), the app on top of it, and its clients.

``store``, ``seeded_store``, ``app``, ``client`` and ``runner`` run every test that takes
them on both backends. PostgreSQL is the server at $QUOTECHECK_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test); each test gets a database of its own, created
and dropped here. When the server cannot be reached, those tests fail: they never skip.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from quotes_db.keys import generate_key
from quotes_db.seeding import load_seeds
from quotes_db.store import QuoteStore, open_store

SEED_QUOTE = (
    "If we're going to pay billions of dollars a year, tell them we're not going to give "
    "them the money unless they give back our military equipment"
)
POSTGRES_URL = os.environ.get(
    "QUOTECHECK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")


@contextmanager
def loopback_site(
    pages: Mapping[str, tuple[bytes, str]] = {},  # noqa: B006 - read only
    *,
    delays: Mapping[str, float] = {},  # noqa: B006 - read only
    handler: Callable[..., Any] | None = None,
) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 standing in for the web; yields its base URL.

    It answers ``pages`` (path -> (body, content type)) and 404 for any other path, after
    waiting ``delays[path]`` seconds where given; or it runs ``handler`` instead."""

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 -- http.server's naming
            time.sleep(delays.get(self.path, 0))
            body, kind = pages.get(self.path, (b"not here", "text/plain"))
            try:
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting, as a slow page's test wants

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler or Pages)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a uniquely named database on the test server; yield its URL; drop it."""
    name = f"quotecheck_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        pytest.fail(
            f"PostgreSQL is unreachable at {POSTGRES_URL} ({exc}); start it (see .ci/run) or"
            " set QUOTECHECK_TEST_POSTGRES_URL",
            pytrace=False,
        )
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        params = conninfo_to_dict(POSTGRES_URL)
        params["dbname"] = name
        host, port = params.get("host", "127.0.0.1"), params.get("port", 5432)
        user = params.get("user", "postgres")
        assert make_conninfo(**params)  # a URL psycopg can read back
        yield f"postgresql://{user}@{host}:{port}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "quotes.db"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, db_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{db_path}"
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def store(database_url: str) -> Iterator[QuoteStore]:
    """An empty, migrated store."""
    s = open_store(database_url)
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
def app(database_url: str):
    from api import create_app

    s = open_store(database_url)
    s.migrate()
    load_seeds(s)
    s.close()
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, **UNLIMITED})
    yield app
    app.extensions["quotecheck"].close()


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
