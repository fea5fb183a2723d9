"""The OpenAPI document is served, complete, and says that errors are problem details."""

from __future__ import annotations

import re

import pytest

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def spec(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _api_routes(app):
    """{(openapi path, method)} for every route of the app but the docs and static files."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("api-docs."):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes |= {(path, m.lower()) for m in rule.methods or () if m.lower() in HTTP_METHODS}
    return routes


def test_spec_header(spec):
    assert spec["openapi"] == "3.0.3"
    assert spec["info"] == {"title": "quotecheck", "version": "v1"}


def test_spec_lists_every_route(app, spec):
    documented = {
        (path, method)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }
    assert documented == _api_routes(app)
    assert {path for path, _ in documented} == {
        "/v1/verify", "/v1/verify/batch", "/v1/scan", "/v1/quotes", "/v1/quotes/{quote_id}",
        "/v1/speakers", "/v1/speakers/{speaker_id}", "/v1/articles", "/v1/articles/{article_id}",
        "/healthz", "/readyz", "/metrics",
    }  # fmt: skip


def test_every_operation_has_a_summary(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method in HTTP_METHODS:
                assert operation.get("summary"), f"{method.upper()} {path}"


def test_errors_are_documented_as_problems(spec):
    responses = spec["components"]["responses"]
    for name in ("DEFAULT_ERROR", "UNPROCESSABLE_ENTITY", "NOT_FOUND", "CONFLICT"):
        content = responses[name]["content"]
        assert list(content) == ["application/problem+json"]
        assert content["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
    verify = spec["paths"]["/v1/verify"]["post"]["responses"]
    assert "application/json" in verify["200"]["content"]


def test_swagger_ui(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "swagger-ui" in response.get_data(as_text=True)
