"""Several gunicorn workers on one store: a write through one is in every worker's answers.

The word index lives in the SQLite file, so there is no per-worker copy to refresh: the
next request any worker serves reads the new posting lists. This runs the real thing, a
gunicorn master with three workers on 127.0.0.1, and talks to it over HTTP.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from conftest import make_key

from bench.server import served
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
    with served(f"sqlite:///{db}", 3, tmp_path / "gunicorn.log") as running:
        yield running.base


def test_a_write_through_one_worker_reaches_all_of_them(server: str, write_key: str) -> None:
    # every worker has answered once before the write (so each has its connection open)
    workers = set()
    for _ in range(300):
        with requests.Session() as fresh:  # a new connection may land on any worker
            workers.add(fresh.get(f"{server}/healthz", timeout=(5, 10)).json()["worker"])
        if len(workers) == 3:
            break
    assert len(workers) >= 2, "the requests did not spread over the workers"

    created = requests.post(
        f"{server}/v1/quotes",
        json={"text": NEW_QUOTE, "speaker": "A. Banana"},
        headers={"Authorization": f"Bearer {write_key}"},
        timeout=(5, 10),
    )
    assert created.status_code == 201

    # at least 30 answers, and on until two workers have answered (the kernel may hand a
    # busy machine's connections to one worker many times in a row); every answer counts
    answered_by: set[int] = set()
    for attempt in range(300):
        if attempt >= 30 and len(answered_by) >= 2:
            break
        with requests.Session() as fresh:
            answer = fresh.post(f"{server}/v1/verify", json={"text": NEW_QUOTE}, timeout=(5, 10))
            answered_by.add(fresh.get(f"{server}/healthz", timeout=(5, 10)).json()["worker"])
        assert answer.status_code == 200
        body = answer.json()
        assert body["verdict"] == "verified", body
        assert body["attribution"]["recorded"] == "A. Banana"
    assert len(answered_by) >= 2


# the gunicorn config: worker count, JSON access log ------------------------------------

CONFIG = ROOT / "docker" / "gunicorn.conf.py"


def _config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> dict:
    for name in ("QUOTECHECK_WORKERS", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    # given, so that the config does not make one and set it in this process for good
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONFIG))


@pytest.mark.parametrize(
    ("cpus", "workers"),
    [
        (1, 3),
        (2, 5),
        (4, 9),
        (8, 12),  # capped: each worker holds its own word lists
        (64, 12),
    ],
)
def test_default_workers_are_two_per_cpu_plus_one_capped(monkeypatch, tmp_path, cpus, workers):
    assert _config(monkeypatch, tmp_path)["default_workers"](cpus) == workers


@pytest.mark.parametrize(
    ("env", "workers"),
    [
        ({"QUOTECHECK_WORKERS": "7"}, 7),
        ({"WEB_CONCURRENCY": "6"}, 6),  # the Heroku/buildpack convention, second choice
        ({"QUOTECHECK_WORKERS": "2", "WEB_CONCURRENCY": "6"}, 2),
        ({"QUOTECHECK_WORKERS": ""}, None),  # empty (compose's ${VAR:-}) means the default
    ],
)
def test_workers_can_be_set_from_the_environment(monkeypatch, tmp_path, env, workers):
    config = _config(monkeypatch, tmp_path, **env)
    assert config["workers"] == (workers or config["default_workers"]())


def test_the_prometheus_directory_is_emptied_at_start(monkeypatch, tmp_path):
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "keep.txt").write_text("not ours")
    config = _config(monkeypatch, tmp_path)
    config["on_starting"](None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_without_a_metrics_directory_gunicorn_makes_one_and_removes_it(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)  # restored afterwards
    config = runpy.run_path(str(CONFIG))
    made = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert made.is_dir() and not any(made.iterdir())
    config["on_exit"](None)
    assert not made.exists()


@contextmanager
def _gunicorn(tmp_path: Path, app: str) -> Iterator[tuple[str, Path]]:
    """gunicorn with docker/gunicorn.conf.py and one worker serving ``app`` (a stand-in
    module from tests/ or the service on an empty store); yield its URL and its log."""
    db = tmp_path / "log.db"
    store = SQLiteQuoteStore(db)
    store.migrate()
    store.close()
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(gunicorn), "--config", str(CONFIG), "--bind", f"127.0.0.1:{port}"]
            + ["--workers", "1", "--pythonpath", str(ROOT / "tests"), app],
            cwd=ROOT,
            env={**os.environ, "QUOTECHECK_DATABASE_URL": f"sqlite:///{db}"},
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/readyz", timeout=(1, 5))
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"gunicorn did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.1)
        yield url, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _log_lines(log: Path, count: int) -> list[dict]:
    """The JSON lines of the access log, once there are ``count`` (10 s at most)."""
    lines: list[dict] = []
    deadline = time.monotonic() + 10
    while len(lines) < count and time.monotonic() < deadline:
        time.sleep(0.1)
        text = log.read_text(encoding="utf-8")
        lines = [json.loads(line) for line in text.split("\n") if line.startswith("{")]
    return lines


@pytest.mark.parametrize(
    ("app", "sends_id"),
    [
        ("request_id_app:app", True),  # a stand-in that always sends X-Request-ID back
        ("api:create_app()", False),  # the service: whatever it answers is what is logged
    ],
)
def test_access_log_lines_are_json_with_the_request_id(tmp_path, app, sends_id):
    with _gunicorn(tmp_path, app) as (url, log):
        reply = requests.get(
            f"{url}/healthz?probe=%22quoted%22",
            headers={"X-Request-ID": 'proof-"42"', "User-Agent": 'ua "x"\x85\\'},
            timeout=(1, 5),
        )
        lines = [line for line in _log_lines(log, 2) if line["path"] == "/healthz"]
    assert reply.status_code == 200
    assert len(lines) == 1, log.read_text()
    line = lines[0]
    assert line["method"] == "GET" and line["path"] == "/healthz" and line["status"] == "200"
    assert line["query"] == "probe=%22quoted%22"
    # U+0085 is a line break to str.splitlines and some log readers: escaped
    assert line["user_agent"] == 'ua "x"\x85\\'
    assert log.read_text(encoding="utf-8").isascii()
    assert line["request_id"] == reply.headers.get("X-Request-ID", "-")
    if sends_id:
        assert line["request_id"] == 'proof-"42"'
    assert float(line["duration_ms"]) >= 0


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        # a query string longer than gunicorn's request line limit (4094 bytes)
        (b"GET /v1/speakers?q=" + b"x" * 5000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        (b"GET /healthz HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", 400),  # no colon
        (b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", 431),
    ],
)
def test_requests_gunicorn_refuses_get_problem_details(tmp_path, request_bytes, status):
    # gunicorn answers these before any app sees them: the stand-in app will do
    with _gunicorn(tmp_path, "request_id_app:app") as (url, _):
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(request_bytes)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), head
    assert b"Content-Type: application/problem+json" in head
    problem = json.loads(body)
    assert problem["status"] == status and problem["type"] == "about:blank"
    assert set(problem) == {"type", "title", "status", "detail"}
