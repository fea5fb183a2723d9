"""A request id on every response: the client's ``X-Request-ID`` when it is sane, else new.

The id is in ``flask.g.request_id`` for the request's log lines, in the ``X-Request-ID``
response header (gunicorn's access log can print it with ``%({x-request-id}o)s``) and in
every problem+json body as ``request_id``. A client's id is echoed only when it is at most
128 characters of letters, digits and ``._:-`` (a UUID, a ULID, a trace id): anything else
would let a client write arbitrary text into our logs and headers, so it is replaced.
"""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, has_request_context, request

__all__ = ["HEADER", "RequestIdFilter", "register_request_ids", "request_id"]

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id() -> str:
    """Return the current request's id (making one if the request has none yet)."""
    if not has_request_context():
        return uuid.uuid4().hex
    current = g.get("request_id")
    if current is None:
        sent = request.headers.get(HEADER, "")
        current = sent if _SANE.fullmatch(sent) else uuid.uuid4().hex
        g.request_id = current
    return str(current)


def _assign() -> None:
    request_id()


def _stamp(response: Response) -> Response:
    response.headers[HEADER] = request_id()
    return response


class RequestIdFilter(logging.Filter):
    """Give log records a ``request_id`` attribute (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def register_request_ids(app: Flask) -> None:
    """Give every request an id first thing, every response its header, and the app's log
    records a ``request_id`` attribute (for a format such as ``%(request_id)s %(message)s``)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _assign)
    app.after_request(_stamp)
    app.logger.addFilter(RequestIdFilter())
