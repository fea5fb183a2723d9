"""Several gunicorn workers on one store: a write through one is in every worker's answers.

The word index lives in the SQLite file, so there is no per-worker copy to refresh: the
next request any worker serves reads the new posting lists. This runs the real thing, a
gunicorn master with three workers on 127.0.0.1, and talks to it over HTTP.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import make_key

from quotes_db.seeding import load_seeds
from quotes_db.sqlite_store import SQLiteQuoteStore

ROOT = Path(__file__).resolve().parents[1]
NEW_QUOTE = "Bananas are the currency of the future, and the future starts on Tuesday."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def write_key(tmp_path: Path) -> str:
    """The seeded database the server uses, with a write key; return the key."""
    store = SQLiteQuoteStore(tmp_path / "workers.db")
    store.migrate()
    load_seeds(store)
    key = make_key(store, "write")
    store.close()
    return key


@pytest.fixture
def server(tmp_path: Path, write_key: str) -> Iterator[str]:
    db = tmp_path / "workers.db"
    port = _free_port()
    env = {**os.environ, "QUOTECHECK_DATABASE_URL": f"sqlite:///{db}"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "--config",
            str(ROOT / "docker" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--log-level",
            "warning",
            "api:create_app()",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/readyz", timeout=(1, 2)).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not become ready")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_a_write_through_one_worker_reaches_all_of_them(server: str, write_key: str) -> None:
    # every worker has answered once before the write (so each has its connection open)
    workers = set()
    for _ in range(60):
        with requests.Session() as fresh:  # a new connection may land on any worker
            workers.add(fresh.get(f"{server}/healthz", timeout=(1, 5)).json()["worker"])
        if len(workers) == 3:
            break
    assert len(workers) >= 2, "the requests did not spread over the workers"

    created = requests.post(
        f"{server}/v1/quotes",
        json={"text": NEW_QUOTE, "speaker": "A. Banana"},
        headers={"Authorization": f"Bearer {write_key}"},
        timeout=(1, 5),
    )
    assert created.status_code == 201

    answered_by = set()
    for _ in range(30):
        with requests.Session() as fresh:
            answer = fresh.post(f"{server}/v1/verify", json={"text": NEW_QUOTE}, timeout=(1, 5))
            answered_by.add(fresh.get(f"{server}/healthz", timeout=(1, 5)).json()["worker"])
        assert answer.status_code == 200
        body = answer.json()
        assert body["verdict"] == "verified", body
        assert body["attribution"]["recorded"] == "A. Banana"
    assert len(answered_by) >= 2
