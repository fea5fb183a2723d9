"""``make load``: many concurrent clients against gunicorn serving the development set.

For each backend of bench/backends.py: a fresh database with the development quotes
(``../shared/eval/dev/quotes.jsonl.gz``, read in place), gunicorn with
docker/gunicorn.conf.py and its default worker count on 127.0.0.1, a short warm-up, then
``--users`` closed-loop clients (bench/load_client.py, locust) posting the development
queries to ``/v1/verify`` for ``--seconds``. ``/healthz`` on the first backend's server,
measured the same way in the same run, is the ceiling of the stack: gunicorn, Flask and the
client with no work behind them. Prints one table: requests per second, p50 and p99
latency, errors. The load generator runs on the same two cores as the server, so every
figure is a floor.

    python -m bench.load [--seconds 60] [--users 50] [--warmup 5]
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import subprocess
import sys

from quotes_db.importing import import_file
from quotes_db.store import open_store

from .backends import BACKENDS, Backend
from .eval import SHARED
from .server import ROOT, Server, served

OUT = ROOT / ".cache" / "load"
CONFIG = ROOT / "docker" / "gunicorn.conf.py"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generate(target: str, server: Server, users: int, seconds: float) -> dict:
    """Run the load client against ``server``; return its figures."""
    command = [sys.executable, "-m", "bench.load_client", target, server.base]
    command += ["--users", str(users), "--seconds", str(seconds)]
    command += ["--queries", str(SHARED / "queries.jsonl")]
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the load client failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def load_backend(
    backend: Backend, *, users: int, seconds: float, warmup: float, ceiling: bool
) -> list[dict]:
    workdir = OUT / backend.name
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    with backend.fresh_database(workdir) as url:
        store = open_store(url)
        try:
            store.migrate()
            _log(f"{backend.name}: importing the development quotes")
            import_file(store, SHARED / "quotes.jsonl.gz")
            _log(f"{backend.name}: the store holds {store.count_quotes()} quotes")
        finally:
            store.close()
        # the config makes a metrics directory unless one is given: give it one of ours
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(OUT / "metrics"))
        workers = int(runpy.run_path(str(CONFIG))["workers"])
        log = workdir / "gunicorn.log"
        log.unlink(missing_ok=True)
        with served(url, workers, log) as server:
            targets = ["verify"] + (["healthz"] if ceiling else [])
            for target in targets:
                if warmup:
                    generate(target, server, users, warmup)
                _log(f"{backend.name}: {target}, {users} clients, {seconds:g} s")
                row = generate(target, server, users, seconds)
                rows.append({**row, "backend": backend.name, "workers": workers})
    return rows


def print_table(rows: list[dict], skipped: dict[str, str]) -> None:
    print(
        f"\n{'target':<12}{'backend':<12}{'workers':>8}{'clients':>8}{'seconds':>8}"
        f"{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    )
    for r in rows:
        rate = r["requests"] / r["seconds"] if r["seconds"] else 0.0
        print(
            f"{'/v1/verify' if r['target'] == 'verify' else '/healthz':<12}"
            f"{r['backend']:<12}{r['workers']:>8}{r['users']:>8}{r['seconds']:>8.1f}"
            f"{r['requests']:>10}{rate:>9.1f}{r['p50_ms'] or 0:>9.1f}{r['p99_ms'] or 0:>9.1f}"
            f"{r['errors']:>8}"
        )
        for example, count in r["error_examples"].items():
            print(f"    {count} x {example}")
    for name, reason in skipped.items():
        print(f"{'/v1/verify':<12}{name:<12}skipped: {reason}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="per measurement")
    parser.add_argument("--users", type=int, default=50, help="concurrent clients")
    parser.add_argument("--warmup", type=float, default=5, help="seconds before measuring")
    args = parser.parse_args(argv)
    if not (SHARED / "quotes.jsonl.gz").exists():
        print(f"no development set at {SHARED}", file=sys.stderr)
        return 1

    rows: list[dict] = []
    skipped: dict[str, str] = {}
    for backend in BACKENDS:
        reason = backend.unsupported_reason()
        if reason:
            skipped[backend.name] = reason
            continue
        rows += load_backend(
            backend,
            users=args.users,
            seconds=args.seconds,
            warmup=args.warmup,
            ceiling=not rows,  # /healthz once, on the first backend's server
        )
    print_table(rows, skipped)
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
