"""schemathesis hooks for ``make fuzz`` (loaded through $SCHEMATHESIS_HOOKS).

``POST /v1/articles`` with a ``url`` and no ``text`` fetches that URL. Generated URLs name
hosts on the internet, and even resolving one is traffic off this machine, so every such
URL is replaced by a loopback one before it is sent: the service still parses, checks and
refuses it (loopback is not fetched unless FETCH_ALLOW_PRIVATE), and nothing leaves
127.0.0.1.
"""

from __future__ import annotations

from typing import Any

import schemathesis

LOOPBACK_URL = "http://127.0.0.1:9/fuzzed-article"


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("url"), str):
        body["url"] = LOOPBACK_URL
