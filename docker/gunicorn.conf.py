"""gunicorn settings for quotecheck; every value can be overridden from the environment.

Used by `make serve`, `quotecheck serve`, the Docker image and the proofs (`make fuzz`,
`make load`, the worker and concurrency tests). Access log lines are JSON objects, one a
line, carrying the response's ``X-Request-ID``; the settings are in the README's table.
"""

import json
import os
import shutil
import tempfile

from gunicorn import util
from gunicorn.glogging import Logger, SafeAtoms

MAX_DEFAULT_WORKERS = 12  # each worker holds the word lists (~100 MB); more rarely helps


def default_workers(cpus: int | None = None) -> int:
    """gunicorn's rule of thumb, 2 x CPUs + 1, capped: a sync worker waits on the database
    and the client between CPU-bound verifications, so more workers than cores keep the
    cores busy."""
    cpus = cpus or os.cpu_count() or 1
    return min(2 * cpus + 1, MAX_DEFAULT_WORKERS)


def _int_setting(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("QUOTECHECK_BIND", "127.0.0.1:8000")
workers = _int_setting("QUOTECHECK_WORKERS", _int_setting("WEB_CONCURRENCY", default_workers()))
worker_class = "sync"
# Load the app (and the English word lists) once in the master: workers are forked from it,
# share those pages copy-on-write, and a restarted worker is serving within milliseconds.
# The word index is in the database file, shared through the page cache, not in memory.
preload_app = True
timeout = _int_setting("QUOTECHECK_TIMEOUT", 30)  # a worker silent this long is restarted
graceful_timeout = _int_setting("QUOTECHECK_GRACEFUL_TIMEOUT", 20)  # to finish on SIGTERM
keepalive = _int_setting("QUOTECHECK_KEEPALIVE", 5)  # seconds; behind a proxy, above its own
max_requests = 10_000  # recycle workers now and then (slow leaks in any library)
max_requests_jitter = 1_000
accesslog = os.environ.get("QUOTECHECK_ACCESS_LOG", "-")  # "-" is stdout; "" turns it off
errorlog = "-"
loglevel = os.environ.get("QUOTECHECK_LOG_LEVEL", "info")
# No control socket (gunicornc): its default path is per user, not per server, and several
# servers run side by side in the tests and benchmarks.
control_socket_disable = True
# Forwarded headers are trusted from these addresses only (a load balancer's, comma-separated)
forwarded_allow_ips = os.environ.get("QUOTECHECK_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# One JSON object per request. Each %(...)s is replaced by a JSON-escaped value (see
# JsonAtoms), so a quote mark in a path or user agent cannot break the line.
access_log_format = json.dumps(
    {
        "time": "%(t)s",
        "remote": "%(h)s",
        "method": "%(m)s",
        "path": "%(U)s",
        "query": "%(q)s",
        "status": "%(s)s",
        "bytes": "%(b)s",
        "duration_ms": "%(M)s",
        "request_id": "%({x-request-id}o)s",
        "user_agent": "%(a)s",
        "worker": "%(p)s",
    }
)


class JsonAtoms(SafeAtoms):
    """gunicorn's log atoms, each escaped for use inside a JSON string (SafeAtoms only
    puts a backslash before double quotes). Escaped to ASCII: a path may hold U+0085 or
    U+2028, which some log readers take for the end of a line."""

    def __init__(self, atoms: dict) -> None:
        dict.__init__(self, atoms)

    def __getitem__(self, key: str) -> str:
        value = super().__getitem__(key)
        return json.dumps(str(value))[1:-1]


class JsonLogger(Logger):
    atoms_wrapper_class = JsonAtoms

    def now(self) -> str:
        # ISO 8601 instead of the Apache "[27/Nov/2026:23:59:00 +0000]"
        import datetime as dt

        return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


logger_class = JsonLogger


def write_problem(sock: object, status_int: int, reason: str, mesg: str) -> None:
    """Answer a request gunicorn itself refuses (a request line over 4094 bytes: 414,
    headers too large: 431, a malformed request: 400) with problem details, like every
    other error of the service, instead of gunicorn's HTML page."""
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status_int, "detail": mesg}
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


# gunicorn's workers send these errors through util.write_error, which has no setting
util.write_error = write_problem


# Prometheus: every worker writes its metrics to one directory, which /metrics adds up. It
# must be set before the app (and so prometheus_client) is imported. Without one given, a
# fresh directory, removed when gunicorn exits.
_own_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _own_metrics_dir = tempfile.mkdtemp(prefix="quotecheck-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_metrics_dir


def on_exit(server: object) -> None:
    if _own_metrics_dir:
        shutil.rmtree(_own_metrics_dir, ignore_errors=True)


def on_starting(server: object) -> None:
    """With PROMETHEUS_MULTIPROC_DIR set, start from an empty directory: the files of a
    previous run's workers would otherwise be counted again."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server: object, worker: object) -> None:
    """With PROMETHEUS_MULTIPROC_DIR set, drop a dead worker's live gauges from /metrics."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    try:
        from prometheus_client import multiprocess
    except ImportError:
        return
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
