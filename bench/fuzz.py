"""``make fuzz``: schemathesis against the live service, once per backend.

For each backend of bench/backends.py: a fresh database with the seed quotes, gunicorn on a
free port of 127.0.0.1 with docker/gunicorn.conf.py, and ``schemathesis run`` on its
``/openapi.json`` (all phases: examples, coverage, fuzzing, stateful; valid and invalid
data). Checks: no 5xx (``not_a_server_error``), and every response conforms to the spec:
its status code, content type and body schema. Requests carry an admin key (writes and
deletes) when the service has API keys. The figures come from the server's own JSON access
log: every request it answered, by status class. Exit status 1 on any failure, on any
5xx in the log, or when a backend answered fewer than ``--min-requests`` requests.

    python -m bench.fuzz [--examples 100] [--seed 20261128] [--min-requests 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .backends import BACKENDS, Backend, seed, write_key
from .server import ROOT, served

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
OUT = ROOT / ".cache" / "fuzz"
RUN_DEADLINE = 1200  # seconds for one schemathesis run


@dataclass(slots=True)
class FuzzResult:
    backend: str
    skipped: str | None = None
    statuses: Counter[str] = field(default_factory=Counter)  # "2xx" -> count
    cases: str = ""  # schemathesis's own count of test cases
    passed: bool = False
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def served_requests(log: Path) -> Counter[str]:
    """Count the requests in a gunicorn JSON access log by status class, leaving out the
    spec itself (fetched by schemathesis, not generated)."""
    statuses: Counter[str] = Counter()
    for line in log.read_text(encoding="utf-8", errors="replace").split("\n"):
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry["path"] != "/openapi.json":
            statuses[f"{entry['status'][0]}xx"] += 1
    return statuses


def fuzz(backend: Backend, *, examples: int, seed_value: int) -> FuzzResult:
    result = FuzzResult(backend.name)
    reason = backend.unsupported_reason()
    if reason:
        result.skipped = reason
        return result
    workdir = OUT / backend.name
    workdir.mkdir(parents=True, exist_ok=True)
    log, report = workdir / "gunicorn.log", workdir / "schemathesis.txt"
    log.unlink(missing_ok=True)
    with backend.fresh_database(workdir) as url:
        seed(url)
        key = write_key(url, scope="admin")  # deletes too
        with served(url, 2, log) as server:
            command = [str(Path(sys.executable).with_name("schemathesis")), "--no-color", "run"]
            command += [f"{server.base}/openapi.json", "--checks", ",".join(CHECKS)]
            command += ["--max-examples", str(examples), "--seed", str(seed_value)]
            # One schemathesis thread: with two, Hypothesis's lambda descriptions call ast.parse
            # from both, and CPython 3.11's parser then fails now and then with "SystemError: AST
            # constructor recursion depth mismatch" (a CPython bug, gh-106905), which schemathesis
            # reports as a runtime error. One thread costs a few seconds per backend.
            command += ["--request-timeout", "30", "--workers", "1"]
            if key:
                command += ["--header", f"Authorization: Bearer {key}"]
            env = {**os.environ, "SCHEMATHESIS_HOOKS": "bench.fuzz_hooks", "PYTHONPATH": str(ROOT)}
            start = time.perf_counter()
            with open(report, "w", encoding="utf-8") as out:
                done = subprocess.run(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=RUN_DEADLINE,
                    check=False,
                )
            result.seconds = time.perf_counter() - start
    text = report.read_text(encoding="utf-8", errors="replace")
    cases = re.search(r"Test cases:\s*\n\s*(.+)", text)
    result.cases = cases.group(1).strip() if cases else "?"
    result.statuses = served_requests(log)
    server_log = log.read_text(encoding="utf-8", errors="replace")
    result.passed = done.returncode == 0 and not result.statuses["5xx"]
    if "Traceback" in server_log:
        result.passed = False
    if not result.passed:
        print(f"\n--- {backend.name}: schemathesis said (all of it in {report}) ---")
        print(text[-6000:])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="most cases per operation")
    parser.add_argument("--seed", type=int, default=20261128, help="schemathesis's seed")
    parser.add_argument("--min-requests", type=int, default=1000, help="per backend")
    args = parser.parse_args(argv)

    results = [fuzz(b, examples=args.examples, seed_value=args.seed) for b in BACKENDS]
    print(f"\nfuzz: schemathesis, checks {', '.join(CHECKS)}; seed {args.seed}")
    header = f"{'backend':<11}{'requests':>9}{'2xx':>7}{'4xx':>7}{'5xx':>6}{'seconds':>9}  result"
    print(header)
    failed = False
    for r in results:
        if r.skipped:
            print(f"{r.backend:<11}{'skipped: ' + r.skipped}")
            continue
        enough = r.requests >= args.min_requests
        verdict = "ok" if r.passed and enough else "FAILED"
        if not enough:
            verdict += f" (fewer than {args.min_requests} requests)"
        failed |= verdict != "ok"
        s = r.statuses
        print(
            f"{r.backend:<11}{r.requests:>9}{s['2xx']:>7}{s['4xx']:>7}{s['5xx']:>6}"
            f"{r.seconds:>9.1f}  {verdict}; schemathesis: {r.cases}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
