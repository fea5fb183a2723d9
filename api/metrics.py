"""Prometheus metrics at ``GET /metrics``: requests, latency and verdicts.

Requests are labelled by route (the URL rule without its converters,
``/v1/quotes/<quote_id>``; never the raw path, so that the number of series stays
bounded), method and status. Under gunicorn each worker is a process with its own
counters: when ``PROMETHEUS_MULTIPROC_DIR`` names a directory (empty at server start),
every worker writes its counters there and ``/metrics`` adds up all of them, whichever
worker answers. The variable must be set before prometheus_client is imported (it picks
its storage at import), so gunicorn's config sets it, and marks a dead worker's files in
its ``child_exit`` hook (which matters for live gauges; counters and histograms of a dead
worker are kept, as they should be)::

    import os
    import tempfile

    # Prometheus: every worker writes its metrics to one directory, which /metrics adds up.
    # Set before the app (and so prometheus_client) is imported; a fresh directory each start.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="quotecheck-metrics-")


    def child_exit(server, worker):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

Without the variable, a plain in-process registry is used (one process: tests, ``flask run``).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable

from flask import Flask, Response, g, request
from flask.views import MethodView
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from quotes_db.models import Verification

from .views import Blueprint

__all__ = ["blp", "count_verdicts", "register_metrics"]

REQUESTS = Counter(
    "quotecheck_http_requests_total",
    "HTTP requests answered, by route (URL rule), method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "quotecheck_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (URL rule) and method.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
VERDICTS = Counter(
    "quotecheck_verdicts_total",
    "Verdicts given by POST /v1/verify and /v1/verify/batch, by verdict and endpoint.",
    ["verdict", "endpoint"],
)
UNMATCHED = "<unmatched>"  # no URL rule: a 404 for an unknown path
# /v1/quotes/<int(max=...):quote_id> is labelled /v1/quotes/<quote_id>
_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# any other method a client invents is counted as OTHER: labels must not grow unbounded
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

blp = Blueprint("metrics", __name__, description="Prometheus metrics.")


def count_verdicts(results: Iterable[Verification], *, endpoint: str) -> None:
    """Count the verdicts of a verify or batch answer."""
    for result in results:
        VERDICTS.labels(verdict=result.verdict, endpoint=endpoint).inc()


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.response(
        200,
        content_type=CONTENT_TYPE_LATEST.split(";")[0],
        description="Prometheus text exposition format.",
    )
    def get(self) -> Response:
        """Report request counts, latencies and verdict counts (all workers together)."""
        return Response(
            generate_latest(_registry()), mimetype=None, content_type=CONTENT_TYPE_LATEST
        )


def _start() -> None:
    g.started = time.perf_counter()


def _record(response: Response) -> Response:
    rule = request.url_rule
    route = _CONVERTER.sub(r"<\1>", rule.rule) if rule is not None else UNMATCHED
    method = request.method if request.method in METHODS else "OTHER"
    started = g.get("started")
    REQUESTS.labels(route=route, method=method, status=str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(route=route, method=method).observe(time.perf_counter() - started)
    return response


def register_metrics(app: Flask) -> None:
    """Time every request from its first hook to its response."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_record)
