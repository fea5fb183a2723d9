"""Probes: /healthz never touches the database, /readyz does."""

from __future__ import annotations

import os


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "worker": os.getpid()}


def test_readyz(client, seeded_store):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "quotes": seeded_store.count_quotes()}
