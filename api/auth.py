"""Who may do what: bearer API keys for every write, and (optionally) for reads.

The policy is decided here, for every route at once, rather than by a decorator on each view,
so that a write route added later cannot forget it: a request with a method other than GET,
HEAD or OPTIONS is a write, unless its endpoint is one of ``READ_POSTS`` (verification
takes its text in a POST body but changes nothing). The same policy writes the
``security`` and 401/403 responses of each operation into the OpenAPI document
(``AccessSpecPlugin``), so generated clients know which calls need a key.

A key is ``Authorization: Bearer qc_<key_id>_<secret>`` (see ``quotes_db.keys``). Missing,
malformed, unknown or revoked: 401 with ``WWW-Authenticate: Bearer``. A key whose scope is
too low: 403. Deleting is for admin keys; every other write takes a write or an admin key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apispec import BasePlugin
from flask import Flask, current_app, g, request
from werkzeug.routing import Rule

from quotes_db.keys import parse_key, verify_secret
from quotes_db.models import ApiKey

from .errors import Problem
from .views import current_store

__all__ = [
    "BEARER_SCHEME",
    "SECURITY_SCHEME",
    "AccessSpecPlugin",
    "current_key",
    "register_access_control",
    "required_scope",
]

SECURITY_SCHEME = "bearerAuth"
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key made with `quotecheck keys create` (qc_<key_id>_<secret>).",
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that read: they compute an answer from the body and store nothing.
READ_POSTS = frozenset({"verify.Verify", "verify.VerifyBatch", "scan.Scan"})
# Blueprints that never need a key: probes, metrics and the API's own documentation.
OPEN_BLUEPRINTS = frozenset({"health", "metrics", "api-docs"})
# What each scope may do; "read" is what any valid key may do.
SCOPE_RANK = {"read": 0, "write": 1, "admin": 2}
ADMIN_METHODS = frozenset({"DELETE"})
_DUMMY_SALT, _DUMMY_DIGEST = b"\0" * 16, b"\0" * 32


@dataclass(frozen=True, slots=True)
class _Presented:
    key: ApiKey | None  # the valid key the request carries, if any
    problem: str | None  # why the presented credentials are not a valid key


def required_scope(method: str, endpoint: str | None, *, reads_need_key: bool) -> str | None:
    """Return the scope a request needs ("read", "write", "admin"), or None if it is open."""
    if endpoint is None or endpoint == "static" or method == "OPTIONS":
        return None
    if endpoint.partition(".")[0] in OPEN_BLUEPRINTS:
        return None
    if method in SAFE_METHODS or endpoint in READ_POSTS:
        return "read" if reads_need_key else None
    return "admin" if method in ADMIN_METHODS else "write"


def _presented() -> _Presented:
    """Look at the Authorization header once per request (the rate limiter asks again)."""
    cached = g.get("_quotecheck_key")
    if cached is not None:
        return cached
    result = _check_header(request.headers.get("Authorization"))
    g._quotecheck_key = result
    return result


def _check_header(header: str | None) -> _Presented:
    if header is None:
        return _Presented(None, "missing")
    scheme, _, token = header.partition(" ")
    parsed = parse_key(token.strip()) if scheme.lower() == "bearer" else None
    if parsed is None:
        return _Presented(None, "malformed")
    found = current_store().find_api_key(parsed.key_id)
    # compare even when the key_id is unknown, so that both cases take as long
    salt, digest = (found[1], found[2]) if found else (_DUMMY_SALT, _DUMMY_DIGEST)
    matches = verify_secret(parsed.secret, salt, digest)
    if found is None or not matches:
        return _Presented(None, "unknown")
    if found[0].revoked_at is not None:
        return _Presented(None, "revoked")
    return _Presented(found[0], None)


def current_key() -> ApiKey | None:
    """Return the valid API key the current request carries, if any."""
    return _presented().key


_UNAUTHORIZED_DETAIL = {
    "missing": "This request needs an API key: send Authorization: Bearer <key>.",
    "malformed": "The Authorization header does not hold a quotecheck API key"
    " (Authorization: Bearer qc_...).",
    "unknown": "The API key is not valid.",
    "revoked": "The API key has been revoked.",
}


def _enforce() -> None:
    needed = required_scope(
        request.method,
        request.endpoint if request.routing_exception is None else None,
        reads_need_key=current_app.config["READS_NEED_KEY"],
    )
    if needed is None:
        return
    presented = _presented()
    if presented.key is None:
        problem = presented.problem or "missing"
        challenge = 'Bearer realm="quotecheck"'
        if problem != "missing":  # RFC 6750: say why the token was refused
            challenge += ', error="invalid_token"'
        raise Problem(401, _UNAUTHORIZED_DETAIL[problem], headers={"WWW-Authenticate": challenge})
    if SCOPE_RANK[presented.key.scope] < SCOPE_RANK[needed]:
        raise Problem(
            403,
            f"This request needs a key with scope {needed};"
            f" key {presented.key.key_id} has scope {presented.key.scope}.",
            headers={
                "WWW-Authenticate": f'Bearer realm="quotecheck", error="insufficient_scope",'
                f' scope="{needed}"'
            },
        )


def register_access_control(app: Flask) -> None:
    """Check keys before every request (before the rate limiter, which counts by key)."""
    app.before_request(_enforce)


class AccessSpecPlugin(BasePlugin):
    """Write each operation's key requirement and its 401/403/429 answers into the spec."""

    def __init__(self, *, reads_need_key: bool, limited: set[str]) -> None:
        self.reads_need_key = reads_need_key
        self.limited = limited  # scopes whose requests are rate-limited

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        rule: Rule | None = kwargs.get("rule")
        if rule is None or not operations:
            return
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            needed = required_scope(
                method.upper(), rule.endpoint, reads_need_key=self.reads_need_key
            )
            responses = operation.setdefault("responses", {})
            if needed is None:
                operation["security"] = []
            else:
                operation["security"] = [{SECURITY_SCHEME: []}]
                responses["401"] = "UNAUTHORIZED"
                if needed != "read":
                    responses["403"] = "FORBIDDEN"
                    operation["description"] = (
                        operation.get("description", "") + f"\n\nNeeds an API key of scope"
                        f" {'admin' if needed == 'admin' else 'write or admin'}."
                    ).strip()
            if rate_group(method.upper(), rule.endpoint) in self.limited:
                responses["429"] = "RATE_LIMITED"


def rate_group(method: str, endpoint: str | None) -> str | None:
    """Return which rate limit a request counts against: verify, writes, reads or none."""
    if endpoint is None or method == "OPTIONS":
        return None
    if endpoint in READ_POSTS:
        return "verify"
    if endpoint.partition(".")[0] in OPEN_BLUEPRINTS or endpoint == "static":
        return None
    return "reads" if method in SAFE_METHODS else "writes"
