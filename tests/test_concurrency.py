"""Writes and reads at once through gunicorn's workers: no lost write, no 5xx, no lock error.

gunicorn with 4 workers on 127.0.0.1 and a seeded store; 8 client threads each create 250
quotes (POST /v1/quotes) while 8 others verify. Afterwards the store holds exactly 2,000
new quotes, no answer was a 5xx, and neither an answer nor the server's log mentions
"database is locked". Runs on every backend of bench/backends.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from bench.backends import BACKENDS, Backend, auth_headers, seed, write_key
from bench.server import served
from quotes_db.store import open_store

WORKERS = 4
WRITERS, WRITES_EACH = 8, 250
VERIFIERS = 8
VERIFY_CAP = 400  # requests per verifier at most, so that the test ends by itself
DEADLINE = 300.0  # seconds for the whole exchange
TIMEOUT = (3.05, 60)
SEED_TEXT = "tell them we're not going to give them the money"
LOCKED = "database is locked"


@pytest.fixture(params=BACKENDS, ids=lambda backend: backend.name)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    backend: Backend = request.param
    reason = backend.unsupported_reason()
    if reason:
        pytest.skip(reason)
    with backend.fresh_database(tmp_path) as url:
        yield url


def _count(url: str) -> int:
    store = open_store(url)
    try:
        return store.count_quotes()
    finally:
        store.close()


def test_eight_writers_and_eight_verifiers_on_four_workers(
    database_url: str, tmp_path: Path
) -> None:
    seeded = seed(database_url)
    headers = auth_headers(write_key(database_url))
    log = tmp_path / "gunicorn.log"
    statuses: Counter[tuple[str, int]] = Counter()
    bodies_with_lock: list[str] = []
    lock = threading.Lock()
    writers_done = threading.Event()
    end = time.monotonic() + DEADLINE

    def note(kind: str, reply: requests.Response) -> None:
        with lock:
            statuses[kind, reply.status_code] += 1
            if LOCKED in reply.text:
                bodies_with_lock.append(reply.text[:500])

    def writer(base: str, w: int) -> None:
        with requests.Session() as session:
            for n in range(WRITES_EACH):
                body = {
                    "text": f"Writer {w} says proof line {n} holds under load.",
                    "speaker": f"Proof Writer {w}",
                    "ref": f"proof-{w}-{n}",
                }
                reply = session.post(
                    f"{base}/v1/quotes", json=body, headers=headers, timeout=TIMEOUT
                )
                note("write", reply)

    def verifier(base: str) -> None:
        with requests.Session() as session:
            for n in range(VERIFY_CAP):
                if writers_done.is_set() or time.monotonic() > end:
                    return
                text = SEED_TEXT if n % 2 else f"Writer {n % WRITERS} says proof line {n} holds"
                reply = session.post(f"{base}/v1/verify", json={"text": text}, timeout=TIMEOUT)
                note("verify", reply)

    with served(database_url, WORKERS, log) as server:
        with ThreadPoolExecutor(max_workers=WRITERS + VERIFIERS) as pool:
            checks = [pool.submit(verifier, server.base) for _ in range(VERIFIERS)]
            writes = [pool.submit(writer, server.base, w) for w in range(WRITERS)]
            for future in writes:
                future.result(timeout=DEADLINE)
            writers_done.set()
            for future in checks:
                future.result(timeout=DEADLINE)

    server_log = log.read_text(encoding="utf-8", errors="replace")
    print(f"\nanswers by (kind, status): {dict(statuses)}")
    assert statuses["write", 201] == WRITERS * WRITES_EACH, statuses
    assert statuses["verify", 200] >= VERIFIERS, statuses  # the verifiers did run alongside
    assert not [key for key in statuses if key[1] >= 500], statuses
    assert not bodies_with_lock
    assert LOCKED not in server_log
    assert _count(database_url) == seeded + WRITERS * WRITES_EACH
