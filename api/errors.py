"""One error shape for every failure: RFC 9457 problem details as application/problem+json.

A problem has ``type``, ``title``, ``status``, ``detail`` and ``request_id`` (the response's
``X-Request-ID``, to quote in a bug report); a validation problem (422) also has ``errors``,
a mapping of field path to messages. Plain HTTP errors use the type
``about:blank`` and the status phrase as title; only validation has its own type, because
only it carries an extension member.
"""

from __future__ import annotations

import http
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from quotes_db.errors import (
    ConflictError,
    InvalidQuoteError,
    NotFoundError,
    QuotesDbError,
    StoreUnavailableError,
)
from quotes_db.fetching import FetchFailedError, FetchTimeoutError, UrlRefusedError

from .request_ids import request_id

__all__ = [
    "PROBLEM_JSON",
    "VALIDATION_TYPE",
    "Problem",
    "flatten_messages",
    "problem_response",
    "register_error_handlers",
]

PROBLEM_JSON = "application/problem+json"
VALIDATION_TYPE = "https://quotecheck.dev/problems/validation"
VALIDATION_TITLE = "The request is not valid"

# The status each deliberate quotes_db error stands for.
STATUS_OF_STORE_ERROR: dict[type[QuotesDbError], int] = {
    NotFoundError: 404,
    ConflictError: 409,
    InvalidQuoteError: 422,
    StoreUnavailableError: 503,
    UrlRefusedError: 422,  # we will not fetch that URL (or its body)
    FetchFailedError: 502,  # the article's site failed us
    FetchTimeoutError: 504,  # the article's site was too slow
}

# Response headers of an HTTPException worth keeping (Allow on 405, Retry-After on 503).
_KEPT_HEADERS = frozenset({"allow", "retry-after", "www-authenticate"})


class Problem(Exception):
    """An error the API raises itself, already phrased for the client."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})


def problem_response(
    status: int,
    detail: str,
    *,
    errors: Mapping[str, list[str]] | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """Return the problem+json response for ``status``; 422 always carries ``errors``."""
    body: dict[str, Any]
    if status == 422:
        body = {"type": VALIDATION_TYPE, "title": VALIDATION_TITLE}
    else:
        body = {"type": "about:blank", "title": _phrase(status)}
    body.update(status=status, detail=detail)
    if status == 422:
        body["errors"] = dict(errors) if errors else {"_schema": [detail]}
    body["request_id"] = request_id()
    response = current_app.response_class(
        current_app.json.dumps(body), status=status, mimetype=PROBLEM_JSON
    )
    for name, value in headers:
        response.headers[name] = value
    return response


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def flatten_messages(messages: object, prefix: str = "") -> dict[str, list[str]]:
    """Return marshmallow's nested error messages as ``{"a.0.b": [message, ...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for field, texts in flatten_messages(value, path).items():
                out.setdefault(field, []).extend(texts)
    elif isinstance(messages, list | tuple):
        for item in messages:
            for field, texts in flatten_messages(item, prefix).items():
                out.setdefault(field, []).extend(texts)
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out


def _webargs_errors(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Field messages of a webargs abort: ``{"json": {...}, "query": {...}}`` merged."""
    out: dict[str, list[str]] = {}
    messages = data.get("messages") or {}
    for location_messages in messages.values() if isinstance(messages, Mapping) else [messages]:
        for field, texts in flatten_messages(location_messages).items():
            out.setdefault(field, []).extend(texts)
    return out


def _validation_detail(errors: Mapping[str, list[str]]) -> str:
    fields = sorted(field for field in errors if field != "_schema")
    if fields:
        return f"Invalid value in: {', '.join(fields)}."
    if errors.get("_schema"):
        # e.g. a body that is JSON but not an object
        return "The request body is not valid: " + " ".join(errors["_schema"])
    return "The request is not valid."


def handle_problem(error: Problem) -> Response:
    return problem_response(
        error.status, error.detail, errors=error.errors, headers=error.headers.items()
    )


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None)
    extra: list[tuple[str, str]] = [
        (k, v) for k, v in error.get_headers() if k.lower() in _KEPT_HEADERS
    ]
    if isinstance(data, Mapping):
        extra.extend((data.get("headers") or {}).items())
        if "messages" in data:
            errors = _webargs_errors(data)
            return problem_response(
                status, _validation_detail(errors), errors=errors, headers=extra
            )
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        detail = f"The request body is larger than the limit of {limit} bytes."
    else:
        detail = error.description or _phrase(status)
    if status >= 500:
        current_app.logger.error("%s on %s %s: %s", status, request.method, request.path, detail)
    return problem_response(status, detail, headers=extra)


def handle_store_error(error: QuotesDbError) -> Response:
    status = next(
        (code for kind, code in STATUS_OF_STORE_ERROR.items() if isinstance(error, kind)), 500
    )
    if status == 503:
        current_app.logger.warning(
            "store unavailable on %s %s: %s", request.method, request.path, error
        )
        return problem_response(503, "The quote database is not available; try again later.")
    if status == 500:
        return handle_unexpected(error)
    if status in (502, 504):
        current_app.logger.warning("fetch failed on %s %s: %s", request.method, request.path, error)
        return problem_response(
            status, f"The article could not be fetched: {str(error).rstrip('.')}."
        )
    errors = None
    if isinstance(error, InvalidQuoteError):
        errors = {error.field or "_schema": [str(error)]}
    elif isinstance(error, UrlRefusedError):
        errors = {"url": [str(error)]}
    return problem_response(status, str(error), errors=errors)


def handle_unexpected(error: Exception) -> Response:
    current_app.logger.exception(
        "unhandled error on %s %s", request.method, request.path, exc_info=error
    )
    return problem_response(500, "An unexpected error occurred; it has been logged.")


def register_error_handlers(app: Flask) -> None:
    """Install the problem+json handlers; call after Api.init_app so that they win."""
    app.register_error_handler(Problem, handle_problem)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(QuotesDbError, handle_store_error)
    app.register_error_handler(Exception, handle_unexpected)
