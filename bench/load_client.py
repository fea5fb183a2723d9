"""The load generator of ``make load``, run in a process of its own (locust patches the
standard library with gevent when imported, which the rest of the bench must not get).

Locust's ``FastHttpUser``s with no wait between requests (closed loop: each of ``--users``
clients sends its next request when the last was answered) for ``--seconds``, against one
target: ``verify`` posts the development queries (text and credited speaker) in a shuffled
cycle to ``/v1/verify``; ``healthz`` gets ``/healthz``. Prints one JSON object: requests,
errors (non-2xx answers and failed connections, with a few examples), seconds, and every
latency's percentiles in milliseconds, from locust's request events (exact, not locust's
rounded buckets).

    python -m bench.load_client TARGET HOST --users 50 --seconds 60 [--queries FILE]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from itertools import cycle  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, constant, task  # noqa: E402
from locust.env import Environment  # noqa: E402

from .tables import percentile  # noqa: E402

TIMEOUT = 60.0  # seconds a client waits for one answer


def _verify_bodies(path: Path) -> list[dict[str, Any]]:
    bodies = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                query = json.loads(line)
                bodies.append({"text": query["text"], "speaker": query["speaker"]})
    random.Random(11).shuffle(bodies)
    return bodies


def run(target: str, host: str, users: int, seconds: float, queries: Path | None) -> dict:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    bodies = cycle(_verify_bodies(queries)) if target == "verify" and queries else None

    class Client(FastHttpUser):
        wait_time = constant(0)
        network_timeout = TIMEOUT
        connection_timeout = 5.0

        @task
        def one(self) -> None:
            if bodies is not None:
                self.client.post("/v1/verify", json=next(bodies), name="verify")
            else:
                self.client.get("/healthz", name="healthz")

    def on_request(response_time: float, exception: Exception | None, **kwargs: Any) -> None:
        latencies.append(response_time)
        if exception is not None:
            errors[str(exception)[:120]] += 1

    env = Environment(user_classes=[Client], host=host)
    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    start = time.perf_counter()
    runner.start(users, spawn_rate=users)
    gevent.spawn_later(seconds, runner.quit)
    runner.greenlet.join()
    elapsed = time.perf_counter() - start
    return {
        "target": target,
        "users": users,
        "seconds": elapsed,
        "requests": len(latencies),
        "errors": sum(errors.values()),
        "error_examples": dict(errors.most_common(3)),
        "p50_ms": percentile(latencies, 50) if latencies else None,
        "p99_ms": percentile(latencies, 99) if latencies else None,
        "max_ms": max(latencies, default=None),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=["verify", "healthz"])
    parser.add_argument("host", help="base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--queries", type=Path, help="queries.jsonl of the development set")
    args = parser.parse_args(argv)
    logging.getLogger("locust").setLevel(logging.WARNING)
    result = run(args.target, args.host, args.users, args.seconds, args.queries)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
