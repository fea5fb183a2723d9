"""Rate limits (flask-limiter) and cross-origin access (flask-cors) for the API.

Every request counts against the limit of its group (``auth.rate_group``): ``verify``
(``POST /v1/verify`` and ``/v1/verify/batch`` share one budget, and a batch costs one per
item, up to the whole budget), ``writes`` or ``reads``;
probes, ``/metrics`` and the documentation are never limited. A request is counted per API
key when it carries a valid one, else per client address. The client address is the TCP
peer's, unless ``TRUSTED_PROXIES`` says how many proxies in front of the service append to
``X-Forwarded-For`` (werkzeug's ProxyFix): trusting that header by default would let any
client pick its own address, and so its own bucket.

The counters live in Redis when ``REDIS_URL`` is set, so that a limit holds across gunicorn
workers and hosts; otherwise in each worker's memory (a limit then holds per worker). When
Redis cannot be reached, the limiter falls back to memory and logs it rather than failing
requests.

CORS: browsers may call the verify endpoints from the origins in ``CORS_ORIGINS`` (default
``*``). Verification is public, read-only and uses no cookies, so any origin may read its
answers (a script on any site could get them through any server anyway); the CORS rules of
browsers protect a user's ambient credentials, and verify has none to protect. Writes never
get CORS headers, so a web page cannot send a curator's key from a browser by accident.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, current_app, request
from flask_cors import CORS
from flask_limiter import Limit, Limiter, RateLimitExceeded
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from quotes_db.errors import QuotesDbError

from .auth import current_key, rate_group
from .errors import problem_response
from .request_ids import HEADER as REQUEST_ID_HEADER

__all__ = ["RATE_GROUPS", "configure_cors", "configure_proxies", "configure_rate_limits"]

# The setting that holds each group's limit, e.g. "60/minute;1000/hour" ("" for none).
RATE_GROUPS = {
    "verify": "RATE_LIMIT_VERIFY",
    "writes": "RATE_LIMIT_WRITES",
    "reads": "RATE_LIMIT_READS",
}
VERIFY_PATHS = r"^/v1/(verify(/batch)?|scan)$"
BATCH_ENDPOINT = "verify.VerifyBatch"


def rate_key() -> str:
    """Whom a request is counted for: its valid API key, else its client address."""
    try:
        key = current_key()
    except QuotesDbError:
        key = None  # the key check that follows answers 503; count this one by address
    if key is not None:
        return f"key:{key.key_id}"
    return f"addr:{request.remote_addr or 'unknown'}"


def _group_limit(group: str) -> Callable[[], str]:
    setting = RATE_GROUPS[group]

    def provider() -> str:
        if rate_group(request.method, request.endpoint) != group:
            return ""
        return str(current_app.config[setting] or "")

    provider.__name__ = f"{group}_limit"
    return provider


def _cost() -> int:
    """What a request costs: a batch costs one per item, but never more than the smallest
    verify limit (a batch that could never be afforded would be a limit nobody can meet)."""
    if request.endpoint != BATCH_ENDPOINT:
        return 1
    try:
        body = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):  # the view answers 400 for these
        return 1
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        return 1
    ceiling = min(
        (item.amount for item in parse_many(current_app.config[RATE_GROUPS["verify"]] or "")),
        default=1,
    )
    return max(1, min(len(items), ceiling, int(current_app.config["MAX_BATCH_ITEMS"])))


def limited_groups(config: Mapping[str, Any]) -> set[str]:
    """The groups whose limit is set (for the OpenAPI document's 429 responses)."""
    return {group for group, setting in RATE_GROUPS.items() if config[setting]}


def _too_many_requests(error: RateLimitExceeded) -> Response:
    limiter: Limiter = current_app.extensions["quotecheck.limiter"]
    current = limiter.current_limit
    retry_after = 1
    if current is not None:
        try:
            retry_after = max(1, math.ceil(current.reset_at - time.time()))
        except Exception:  # the counter store went away: a guess is better than no answer
            current_app.logger.warning("rate limit storage unreachable", exc_info=True)
    return problem_response(
        429,
        f"Too many requests: the limit is {error.description}; retry in {retry_after} s.",
        headers=[("Retry-After", str(retry_after))],
    )


def _rate_headers(response: Response) -> Response:
    limiter: Limiter = current_app.extensions["quotecheck.limiter"]
    current = limiter.current_limit
    if current is None or response.status_code == 429:
        return response
    try:
        remaining, reset_at = current.remaining, int(current.reset_at)
    except Exception:  # the counter store went away mid-request: headers are a courtesy
        current_app.logger.warning("rate limit storage unreachable", exc_info=True)
        return response
    response.headers["X-RateLimit-Limit"] = str(current.limit.amount)
    response.headers["X-RateLimit-Remaining"] = str(remaining)
    response.headers["X-RateLimit-Reset"] = str(reset_at)
    return response


def configure_rate_limits(app: Flask) -> Limiter:
    """Install the limiter; its check runs after the hooks registered before this call."""
    config = app.config
    limiter = Limiter(
        rate_key,
        default_limits=[
            Limit(_group_limit(group), shared=True, scope=group, cost=_cost)
            for group in RATE_GROUPS
        ],
        storage_uri=config["REDIS_URL"] or "memory://",
        # a Redis outage should not take the API down: count in memory until it is back
        in_memory_fallback_enabled=True,
        key_prefix=config["RATE_LIMIT_KEY_PREFIX"],
        headers_enabled=False,  # ours below: flask-limiter's sets Retry-After on every answer
    )
    limiter.init_app(app)
    app.extensions["quotecheck.limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    app.after_request(_rate_headers)
    return limiter


def configure_cors(app: Flask) -> None:
    """Allow the configured origins to call the verify endpoints (and only those)."""
    origins = app.config["CORS_ORIGINS"]
    if isinstance(origins, str):
        origins = [o.strip() for o in origins.split(",") if o.strip()]
    if not origins:
        return
    CORS(
        app,
        resources={VERIFY_PATHS: {"origins": origins}},
        methods=["POST", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", REQUEST_ID_HEADER],
        expose_headers=[
            REQUEST_ID_HEADER,
            "Retry-After",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ],
        supports_credentials=False,
        send_wildcard=origins == ["*"],  # say "*", not the caller's origin echoed back
        max_age=600,
    )


def configure_proxies(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto from exactly TRUSTED_PROXIES proxies (none by default)."""
    count = app.config["TRUSTED_PROXIES"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
