"""/metrics under a real gunicorn with 2 workers: the counts add up across the workers.

With PROMETHEUS_MULTIPROC_DIR set, each worker writes its counters to files there and
whichever worker answers /metrics reads them all. A worker that dies keeps its counts (the
config's child_exit hook marks its files dead), so a restart loses nothing.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from bench.server import served
from quotes_db.seeding import load_seeds
from quotes_db.sqlite_store import SQLiteQuoteStore

ROOT = Path(__file__).resolve().parents[1]
SEED_TEXT = (
    "If we're going to pay billions of dollars a year, tell them we're not going to give "
    "them the money unless they give back our military equipment"
)
# The repository's gunicorn settings plus the hook multiprocess metrics need.
CONFIG = """
exec(compile(open({repo_config!r}).read(), {repo_config!r}, "exec"))

import os
import tempfile

# Prometheus: every worker writes its metrics to one directory, which /metrics adds up.
# Set before the app (and so prometheus_client) is imported; a fresh directory each start.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="quotecheck-metrics-")


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
"""
TIMEOUT = (1, 10)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    db = tmp_path / "metrics.db"
    store = SQLiteQuoteStore(db)
    store.migrate()
    load_seeds(store)
    store.close()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(
        CONFIG.format(repo_config=str(ROOT / "docker" / "gunicorn.conf.py")), encoding="utf-8"
    )
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "QUOTECHECK_RATE_LIMIT_VERIFY": ""}
    with served(f"sqlite:///{db}", 2, tmp_path / "gunicorn.log", env, config) as running:
        yield running.base


def _health(url: str) -> int:
    """GET /healthz on a new connection (so any worker may answer); return the worker's pid."""
    with requests.Session() as fresh:
        response = fresh.get(f"{url}/healthz", timeout=TIMEOUT)
    assert response.status_code == 200
    return int(response.json()["worker"])


def _counts(url: str) -> dict[tuple[str, frozenset], float]:
    with requests.Session() as fresh:
        response = fresh.get(f"{url}/metrics", timeout=TIMEOUT)
    assert response.status_code == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


HEALTH = ("quotecheck_http_requests_total", frozenset(
    {"route": "/healthz", "method": "GET", "status": "200"}.items()
))  # fmt: skip
VERIFIED = ("quotecheck_verdicts_total", frozenset(
    {"verdict": "verified", "endpoint": "verify"}.items()
))  # fmt: skip


def test_counts_add_up_across_workers_and_restarts(server: str) -> None:
    sent = 0
    workers: dict[int, int] = {}
    while sent < 40 or len(workers) < 2:
        pid = _health(server)
        workers[pid] = workers.get(pid, 0) + 1
        sent += 1
        assert sent < 400, "the requests did not spread over the workers"
    for _ in range(10):
        with requests.Session() as fresh:
            answer = fresh.post(f"{server}/v1/verify", json={"text": SEED_TEXT}, timeout=TIMEOUT)
        assert answer.json()["verdict"] == "verified"

    answers = [_counts(server) for _ in range(6)]  # whichever worker answers, the same sums
    for counts in answers:
        assert counts[HEALTH] == sent, workers
        assert counts[VERIFIED] == 10
    print(f"\n/healthz requests per worker: {sorted(workers.values())}, /metrics says {sent}")

    # a worker that dies keeps its counts; its replacement starts from zero
    victim = max(workers, key=lambda pid: workers[pid])
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while True:
        try:
            pid = _health(server)
        except requests.ConnectionError:
            pid = 0
        else:
            sent += 1
        if pid not in (0, victim) and pid not in workers:
            break  # the replacement answered
        assert time.monotonic() < deadline, "gunicorn did not replace the worker"
        time.sleep(0.05)
    assert _counts(server)[HEALTH] == sent
