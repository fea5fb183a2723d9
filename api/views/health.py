"""Probes for an orchestrator: is the process alive, can it serve requests."""

from __future__ import annotations

import os
from typing import Any

from flask.views import MethodView

from ..schemas import HealthSchema, ReadySchema
from . import Blueprint, current_store

blp = Blueprint("health", __name__, description="Liveness and readiness probes.")


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, Any]:
        """Report that the process is alive (the database is not consulted)."""
        return {"status": "ok", "worker": os.getpid()}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self) -> dict[str, Any]:
        """Report whether the database answers, and how many quotes it holds."""
        store = current_store()
        store.ping()
        return {"status": "ready", "quotes": store.count_quotes()}
