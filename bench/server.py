"""A real gunicorn serving a benchmark store on loopback, and what to measure on it.

The server runs in its own process group and is always stopped (SIGTERM to the group, then
SIGKILL) when the ``served`` block ends, however it ends. Every wait has a deadline.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

__all__ = ["HttpRun", "Server", "ProcessMemory", "served"]

ROOT = Path(__file__).resolve().parent.parent
CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 120.0
START_DEADLINE = 300.0  # seconds for every worker to load the app (a large store, a slow box)
RESTART_DEADLINE = 120.0
# x86-64 system calls an idle sync worker sleeps in: select, pselect6, poll, ppoll, epoll_*
_WAITING_SYSCALLS = {"7", "23", "232", "270", "271", "281", "441"}


class ServerError(RuntimeError):
    """The server did not start, or died, or did not answer in time."""


@dataclass(frozen=True, slots=True)
class ProcessMemory:
    """Memory of one process: peak and current resident set, and proportional set size."""

    pid: int
    role: str  # "master" or "worker"
    hwm_bytes: int  # VmHWM: peak resident set
    rss_bytes: int
    pss_bytes: int | None  # from smaps_rollup; None when the kernel does not provide it


@dataclass(slots=True)
class HttpRun:
    """Latencies and answers of one pass of queries over HTTP."""

    latencies: list[float] = field(default_factory=list)
    verdicts: dict[str, str] = field(default_factory=dict)  # qid -> verdict
    errors: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_status(pid: int) -> dict[str, str]:
    out = {}
    with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def _kib(value: str | None) -> int:
    return int(value.split()[0]) * 1024 if value else 0


def process_memory(pid: int, role: str) -> ProcessMemory:
    """Read the peak and current RSS and the PSS of a live process from /proc."""
    status = _proc_status(pid)
    pss = None
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    pss = _kib(line.partition(":")[2])
                    break
    except OSError:
        pass
    return ProcessMemory(pid, role, _kib(status.get("VmHWM")), _kib(status.get("VmRSS")), pss)


def children(pid: int) -> list[int]:
    """Return the live child processes of ``pid`` (by scanning /proc), sorted."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and fields[1] == str(pid) and fields[0] != "Z":
            out.append(int(entry))
    return sorted(out)


def _is_waiting(pid: int) -> bool:
    """True when the process is blocked in select/poll: a sync worker ready for requests."""
    try:
        with open(f"/proc/{pid}/syscall", encoding="utf-8") as handle:
            return handle.read().split()[0] in _WAITING_SYSCALLS
    except (OSError, IndexError):
        return False


class Server:
    """One gunicorn master with its workers, serving ``database_url`` on a free port."""

    def __init__(
        self,
        database_url: str,
        workers: int,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        config: Path | None = None,
    ) -> None:
        self.database_url = database_url
        self.config = config or ROOT / "docker" / "gunicorn.conf.py"
        self.env = dict(env or {})  # more settings for the server, over the defaults below
        self.workers = workers
        self.log_path = log_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        env = {
            **os.environ,
            "QUOTECHECK_DATABASE_URL": self.database_url,
            "QUOTECHECK_AUTO_MIGRATE": "true",
            "QUOTECHECK_LOG_LEVEL": "info",
            # no rate limits: every client of a benchmark or proof comes from 127.0.0.1,
            # and they measure the service, not the limiter
            "QUOTECHECK_RATE_LIMIT_VERIFY": "",
            "QUOTECHECK_RATE_LIMIT_WRITES": "",
            "QUOTECHECK_RATE_LIMIT_READS": "",
            **self.env,
        }
        command = [
            str(gunicorn),
            "--config",
            str(self.config),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "api:create_app()",
        ]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        start = time.perf_counter()
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.wait_ready()
        self.startup_seconds = time.perf_counter() - start

    def _check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise ServerError(f"gunicorn exited early; log tail:\n{tail}")

    def wait_ready(self, deadline: float = START_DEADLINE) -> None:
        """Wait until /readyz answers 200 and every worker is idle waiting for requests."""
        end = time.monotonic() + deadline
        session = requests.Session()
        try:
            while True:
                self._check_alive()
                if time.monotonic() > end:
                    raise ServerError(f"not ready after {deadline:.0f} s ({self.log_path})")
                workers = children(self.pid)
                if len(workers) == self.workers and all(_is_waiting(w) for w in workers):
                    try:
                        reply = session.get(f"{self.base}/readyz", timeout=(CONNECT_TIMEOUT, 10))
                        if reply.status_code == 200:
                            return
                    except requests.RequestException:
                        pass
                time.sleep(0.05)
        finally:
            session.close()

    def stop(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after a grace period."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        else:
            # the master is gone; make sure no orphaned worker of its group survives
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def memory(self) -> list[ProcessMemory]:
        """Memory of the master and of each worker, master first."""
        out = [process_memory(self.pid, "master")]
        for pid in children(self.pid):
            try:
                out.append(process_memory(pid, "worker"))
            except OSError:
                pass  # a worker that just exited
        return out

    def restart_seconds(self) -> float:
        """SIGTERM one worker; return the seconds until a new worker answers /healthz.

        A new worker is a new child pid of the master. When /healthz names the worker that
        answered (``"worker": pid``), the clock stops at the first reply from the new pid;
        otherwise at the first 200 once the new worker sits in select() waiting for
        connections (with one worker, that reply can only have come from the new one).
        """
        before = set(children(self.pid))
        if not before:
            raise ServerError("no worker to restart")
        victim = min(before)
        session = requests.Session()
        start = time.perf_counter()
        os.kill(victim, signal.SIGTERM)
        end = time.monotonic() + RESTART_DEADLINE
        new: int | None = None
        try:
            while time.monotonic() < end:
                self._check_alive()
                if new is None:
                    fresh = set(children(self.pid)) - before
                    new = min(fresh) if fresh else None
                if new is not None and self._answered_by(session, new):
                    return time.perf_counter() - start
                time.sleep(0.002)
        finally:
            session.close()
        raise ServerError(f"no new worker answered within {RESTART_DEADLINE:.0f} s")

    def _answered_by(self, session: requests.Session, pid: int) -> bool:
        try:
            reply = session.get(f"{self.base}/healthz", timeout=(CONNECT_TIMEOUT, 5))
            body = reply.json() if reply.status_code == 200 else None
        except (requests.RequestException, ValueError):
            return False
        if not isinstance(body, dict):
            return False
        if "worker" in body:
            return body["worker"] == pid
        return _is_waiting(pid)

    def verify_all(
        self,
        items: Sequence[tuple[str, str, str | None]],
        *,
        clients: int,
        limit: int = 10,
    ) -> HttpRun:
        """POST every (qid, text, speaker) to /v1/verify from ``clients`` threads, each with
        its own session; return every request's latency and the verdicts."""
        run = HttpRun()
        local = threading.local()
        lock = threading.Lock()
        sessions: list[requests.Session] = []
        url = f"{self.base}/v1/verify"

        def one(item: tuple[str, str, str | None]) -> None:
            qid, text, speaker = item
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
                with lock:
                    sessions.append(session)
            body = {"text": text, "speaker": speaker, "limit": limit}
            start = time.perf_counter()
            try:
                reply = session.post(url, json=body, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
                seconds = time.perf_counter() - start
                verdict = reply.json().get("verdict") if reply.status_code == 200 else None
                error = None if verdict else f"{qid}: HTTP {reply.status_code}"
            except (requests.RequestException, ValueError) as exc:
                seconds, verdict, error = time.perf_counter() - start, None, f"{qid}: {exc!r}"
            with lock:
                run.latencies.append(seconds)
                if verdict:
                    run.verdicts[qid] = verdict
                if error:
                    run.errors.append(error)

        start = time.perf_counter()
        try:
            with ThreadPoolExecutor(max_workers=clients) as pool:
                list(pool.map(one, items))
        finally:
            for session in sessions:
                session.close()
        run.wall_seconds = time.perf_counter() - start
        return run


@contextmanager
def served(
    database_url: str,
    workers: int,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    config: Path | None = None,
) -> Iterator[Server]:
    """Start gunicorn with ``workers`` workers on ``database_url`` (with ``config``, the
    project's gunicorn configuration by default); always stop it after."""
    server = Server(database_url, workers, log_path, env, config)
    _log(f"starting gunicorn with {workers} worker(s) on port {server.port} (log {log_path.name})")
    try:
        server.start()
        yield server
    finally:
        server.stop()
