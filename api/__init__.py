"""The HTTP layer of quotecheck: a Flask app factory with flask-smorest blueprints.

Configuration is layered: the defaults below, then ``QUOTECHECK_*`` environment variables
(``QUOTECHECK_MAX_PAGE_SIZE=50``; values are read as JSON when they parse), then the
``test_config`` mapping. Serve with ``gunicorn 'api:create_app()'``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from limits import parse_many

from quotes_db.errors import StoreUnavailableError
from quotes_db.matching import prepare as prepare_matching
from quotes_db.store import open_store

from . import metrics
from .auth import BEARER_SCHEME, SECURITY_SCHEME, AccessSpecPlugin, register_access_control
from .errors import PROBLEM_JSON, register_error_handlers
from .limits import (
    RATE_GROUPS,
    configure_cors,
    configure_proxies,
    configure_rate_limits,
    limited_groups,
)
from .metrics import register_metrics
from .request_ids import register_request_ids
from .schemas import ProblemSchema
from .views import articles, health, quotes, scan, speakers, verify

__all__ = ["SETTINGS", "create_app"]

# The service's own settings and their defaults; DATABASE_URL's default depends on the
# instance folder, so it is filled in by create_app.
SETTINGS: dict[str, Any] = {
    "DATABASE_URL": None,  # default: sqlite:///<instance folder>/quotecheck.db
    # a PostgreSQL read replica for verify's word-index reads (None: the primary)
    "READ_DATABASE_URL": None,
    "MAX_BODY_BYTES": 1_048_576,  # larger request bodies are refused with 413
    "MAX_TEXT_CHARS": 20_000,  # longest text POST /v1/verify accepts
    "MAX_SCAN_CHARS": 200_000,  # longest page text POST /v1/scan accepts (or finds in HTML)
    "MAX_BATCH_ITEMS": 100,  # most items in one POST /v1/verify/batch
    "MAX_PAGE_SIZE": 100,  # largest ``limit`` of a listing
    "AUTO_MIGRATE": True,  # bring the database schema up to date at startup
    "ARTICLE_MAX_CHARS": 200_000,  # longest article text POST /v1/articles accepts or fetches
    "FETCH_MAX_BYTES": 5 * 1024 * 1024,  # largest page body POST /v1/articles downloads
    "FETCH_CONNECT_TIMEOUT": 3.05,  # seconds to connect to the article's site
    "FETCH_READ_TIMEOUT": 10.0,  # seconds to wait for each read from it
    "FETCH_TOTAL_TIMEOUT": 20.0,  # seconds for the whole fetch (below gunicorn's timeout)
    # Tests only: fetch from loopback and private addresses (a local test server). Never
    # set it in production: it lets a client make the service request internal URLs.
    "FETCH_ALLOW_PRIVATE": False,
    "MAX_MATCHES": 20,  # largest ``limit`` (matches per text) of a verification
    # access control and limits (api/auth.py, api/limits.py)
    "READS_NEED_KEY": False,  # also require an API key for verify and GET requests
    "RATE_LIMIT_VERIFY": "60/minute",  # per key or client address; "" for no limit
    "RATE_LIMIT_WRITES": "60/minute",
    "RATE_LIMIT_READS": "600/minute",
    "REDIS_URL": None,  # redis://host:6379/0 to share rate-limit counters across workers
    "RATE_LIMIT_KEY_PREFIX": "quotecheck",  # prefix of the counters' keys in Redis
    "TRUSTED_PROXIES": 0,  # how many proxies' X-Forwarded-For to trust; 0: none
    "CORS_ORIGINS": "*",  # origins allowed to call the verify endpoints; "" for none
    # who publishes the schema.org ClaimReview of a verification (api/jsonld.py)
    "ORGANIZATION_NAME": "quotecheck",
    "ORGANIZATION_URL": None,  # None: the service's own root URL
}

_OPENAPI: dict[str, Any] = {
    "API_TITLE": "quotecheck",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
}


class QuotecheckApi(Api):
    """flask-smorest's Api, documenting problem details as the error body."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        # flask-smorest documents its shared error responses (NOT_FOUND, DEFAULT_ERROR...)
        # with the success content type; ours are application/problem+json.
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_JSON
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE  # back to the class default
        response = {
            "description": "Too many requests: over the rate limit of this key or address.",
            "schema": self.ERROR_SCHEMA,
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer"},
                }
            },
        }
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("RATE_LIMITED", response, lazy=True)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Return the configured app, with its store opened (and migrated, if AUTO_MIGRATE)."""
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the schemas' field order
    default_url = f"sqlite:///{app.instance_path}/quotecheck.db"
    app.config.from_mapping({**_OPENAPI, **SETTINGS, "DATABASE_URL": default_url})
    app.config.from_prefixed_env("QUOTECHECK")
    if test_config is not None:
        app.config.from_mapping(test_config)
    _check_settings(app.config)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]

    if app.config["DATABASE_URL"] == default_url:
        os.makedirs(app.instance_path, exist_ok=True)
    store = open_store(app.config["DATABASE_URL"], read_url=app.config["READ_DATABASE_URL"])
    if app.config["AUTO_MIGRATE"]:
        try:
            store.migrate()
        except StoreUnavailableError as exc:
            # Start anyway: /healthz stays up and /readyz reports the database as down.
            app.logger.error("cannot migrate %s: %s", app.config["DATABASE_URL"], exc)
    # gunicorn may fork workers from this process (preload_app): a SQLite connection must
    # not cross a fork, so each worker opens its own on first use
    store.close()
    app.extensions["quotecheck"] = store
    prepare_matching()

    # Hooks run in this order: request id and timer, key check, rate limit, the view. The
    # key comes first so that a client without one hears 401, not "wait and retry".
    register_request_ids(app)
    register_metrics(app)
    configure_proxies(app)
    register_access_control(app)
    configure_rate_limits(app)
    configure_cors(app)

    access = AccessSpecPlugin(
        reads_need_key=app.config["READS_NEED_KEY"], limited=limited_groups(app.config)
    )
    api = QuotecheckApi(app, spec_kwargs={"extra_plugins": [access]})
    api.spec.components.security_scheme(SECURITY_SCHEME, BEARER_SCHEME)
    for module in (verify, scan, quotes, speakers, articles, health, metrics):
        api.register_blueprint(module.blp)
    # After Api.init_app, which registers flask-smorest's own HTTPException handler.
    register_error_handlers(app)
    return app


def _check_settings(config: Mapping[str, Any]) -> None:
    """Fail at startup, not on the first request, when a setting has the wrong type."""
    if not isinstance(config["DATABASE_URL"], str) or not config["DATABASE_URL"]:
        raise ValueError("DATABASE_URL must be a non-empty string")
    read_url = config["READ_DATABASE_URL"]
    if read_url is not None and (
        not isinstance(read_url, str) or not read_url.startswith(("postgresql://", "postgres://"))
    ):
        raise ValueError("READ_DATABASE_URL must be a postgresql:// URL (a read replica)")
    for name in (
        "MAX_BODY_BYTES",
        "MAX_TEXT_CHARS",
        "MAX_SCAN_CHARS",
        "MAX_BATCH_ITEMS",
        "MAX_PAGE_SIZE",
        "ARTICLE_MAX_CHARS",
        "FETCH_MAX_BYTES",
        "MAX_MATCHES",
    ):
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    value = config["TRUSTED_PROXIES"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"TRUSTED_PROXIES must be a whole number, not {value!r}")
    for name in RATE_GROUPS.values():
        _check_rate_limit(name, config[name])
    if config["REDIS_URL"] is not None and not (
        isinstance(config["REDIS_URL"], str)
        and config["REDIS_URL"].startswith(("redis://", "rediss://", "redis+unix://"))
    ):
        raise ValueError(f"REDIS_URL must be a redis:// URL, not {config['REDIS_URL']!r}")
    if not isinstance(config["ORGANIZATION_NAME"], str) or not config["ORGANIZATION_NAME"].strip():
        raise ValueError("ORGANIZATION_NAME must be a non-empty string")
    org_url = config["ORGANIZATION_URL"]
    if org_url is not None and not (
        isinstance(org_url, str) and org_url.startswith(("https://", "http://"))
    ):
        raise ValueError(f"ORGANIZATION_URL must be an http(s):// URL, not {org_url!r}")
    if not isinstance(config["RATE_LIMIT_KEY_PREFIX"], str):
        raise ValueError("RATE_LIMIT_KEY_PREFIX must be a string")
    origins = config["CORS_ORIGINS"]
    if not (
        isinstance(origins, str)
        or (isinstance(origins, list) and all(isinstance(o, str) for o in origins))
    ):
        raise ValueError(
            f"CORS_ORIGINS must be a comma-separated string or a list, not {origins!r}"
        )
    for name in ("FETCH_CONNECT_TIMEOUT", "FETCH_READ_TIMEOUT", "FETCH_TOTAL_TIMEOUT"):
        value = config[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value < math.inf
        ):
            raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    for name in ("AUTO_MIGRATE", "FETCH_ALLOW_PRIVATE", "READS_NEED_KEY"):
        if not isinstance(config[name], bool):
            raise ValueError(f"{name} must be true or false, not {config[name]!r}")


def _check_rate_limit(name: str, value: object) -> None:
    if value in (None, ""):
        return
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a limit such as '60/minute', not {value!r}")
    try:
        parse_many(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
