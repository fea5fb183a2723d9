"""`kill -9` in the middle of `quotecheck import`: whole batches survive, nothing else.

The import commits every ``IMPORT_BATCH`` quotes (50,000; quotes_db/importing.py) once its
reader process has checked the whole file (the first commit waits for that check, so the
first batch may be larger). This test writes a file of 100,000 quotes,
starts ``quotecheck import`` on it, waits until the first batch is committed (it watches
the store from another connection) and SIGKILLs the import's process group. Then the store
holds the file's first quotes in whole batches, passes its own integrity check, and a
second ``quotecheck import`` of the same file completes it: every quote once, the ones
already there reported unchanged, and the ones the killed import never indexed findable.
Runs on every backend of bench/backends.py.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.backends import BACKENDS, Backend
from quotes_db.importing import IMPORT_BATCH
from quotes_db.matching import prepare, verify
from quotes_db.store import QuoteStore, open_store

ROOT = Path(__file__).resolve().parents[1]
LINES = 100_000
DEADLINE = 240.0  # seconds for either import
WORDS = (
    "people nation freedom government union congress duty honor peace war treaty trade law "
    "future children history liberty labor justice power promise courage world country "
    "economy budget tax farmers workers soldiers schools science energy ocean river mountain"
).split()


@pytest.fixture(params=BACKENDS, ids=lambda backend: backend.name)
def backend(request: pytest.FixtureRequest) -> Backend:
    reason = request.param.unsupported_reason()
    if reason:
        pytest.skip(reason)
    return request.param


@pytest.fixture
def database_url(backend: Backend, tmp_path: Path) -> Iterator[str]:
    with backend.fresh_database(tmp_path) as url:
        store = open_store(url)
        store.migrate()
        store.close()
        yield url


def _quote_file(path: Path) -> list[str]:
    """Write LINES quotes, each with its own ref; return the refs in file order."""
    rng = random.Random(5)
    refs = []
    with open(path, "w", encoding="utf-8") as out:
        for n in range(LINES):
            ref = f"crash-{n:06d}"
            words = " ".join(rng.choices(WORDS, k=rng.randint(8, 16)))
            record = {
                "ref": ref,
                "text": f"Line {n} of the proof: {words}.",
                "speaker": f"S{n % 97}",
            }
            out.write(json.dumps(record) + "\n")
            refs.append(ref)
    return refs


def _import(url: str, path: Path) -> subprocess.Popen[str]:
    quotecheck = Path(sys.executable).with_name("quotecheck")
    return subprocess.Popen(
        [str(quotecheck), "import", str(path)],
        cwd=ROOT,
        env={**os.environ, "QUOTECHECK_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its reader process is in its group: killed with it
    )


def _stored_refs(store: QuoteStore) -> list[str]:
    return [q.ref for q in store.iter_quotes() if q.ref is not None]


def test_a_killed_import_keeps_whole_batches_and_a_rerun_completes_it(
    backend: Backend, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "quotes.jsonl"
    refs = _quote_file(path)
    watcher = open_store(database_url)
    process = _import(database_url, path)
    try:
        end = time.monotonic() + DEADLINE
        while (seen := watcher.count_quotes()) < IMPORT_BATCH:
            assert process.poll() is None, f"the import ended before a batch: {process.stderr}"
            assert time.monotonic() < end, "no batch was committed in time"
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)  # kill -9, the reader process too
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        watcher.close()
    assert process.returncode == -signal.SIGKILL

    store = open_store(database_url)
    try:
        kept = _stored_refs(store)
    finally:
        store.close()
    print(f"\nkilled after {seen} quotes were seen committed; the store kept {len(kept)}")
    # A commit is all or nothing: the store holds exactly what the last commit the watcher
    # saw held, at least one batch, and not the whole file. (The first commit comes at the
    # first chunk past IMPORT_BATCH quotes *after* the reader has checked the whole file,
    # so it may hold more than IMPORT_BATCH.)
    assert len(kept) == seen and IMPORT_BATCH <= len(kept) < LINES, (seen, len(kept))
    assert kept == refs[: len(kept)]  # the file's first quotes, in order, each once
    assert backend.integrity_problems(database_url) == []

    rerun = _import(database_url, path)
    out, err = rerun.communicate(timeout=DEADLINE)
    assert rerun.returncode == 0, err
    created = LINES - len(kept)
    assert f"{created} created, 0 updated, {len(kept)} unchanged" in out, out

    store = open_store(database_url)
    try:
        assert store.count_quotes() == LINES
        assert sorted(_stored_refs(store)) == refs
        # a quote of the killed import's batch was indexed by the rerun: verify finds it
        prepare()
        first = next(store.iter_quotes())
        assert verify(store, first.text).verdict == "verified"
    finally:
        store.close()
    assert backend.integrity_problems(database_url) == []
