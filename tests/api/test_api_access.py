"""API keys on the wire: writes need one, reads are open unless READS_NEED_KEY, scopes hold.

Each row of the tables is one request and what it must get; a walk over the app's URL map
checks that no write route, present or future, answers without a key.
"""

from __future__ import annotations

import re

import pytest
from conftest import UNLIMITED, keyed_client, make_key
from test_api_errors import assert_problem

from api.auth import READ_POSTS
from quotes_db.keys import generate_key

NEW = {"text": "Some brand new words for the test", "speaker": "Test Speaker"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def revoked_key(app) -> str:
    store = app.extensions["quotecheck"]
    token = make_key(store, "write")
    store.revoke_api_key(token.split("_")[1])
    return token


def _auth(kind: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """Headers for a kind of credential (fixtures are looked up by name)."""
    match kind:
        case "none":
            return {}
        case "write" | "admin" | "revoked":
            return {"Authorization": f"Bearer {request.getfixturevalue(kind + '_key')}"}
        case "unknown":  # well formed, never stored
            return {"Authorization": f"Bearer {generate_key().token}"}
        case "wrong secret":
            token = request.getfixturevalue("write_key")
            return {"Authorization": f"Bearer {token[:-1]}{'A' if token[-1] != 'A' else 'B'}"}
        case "lowercase scheme":
            return {"Authorization": f"bearer {request.getfixturevalue('write_key')}"}
        case "basic":
            return {"Authorization": "Basic dXNlcjpwYXNz"}
        case "bare token":  # the key without the Bearer scheme
            return {"Authorization": request.getfixturevalue("write_key")}
        case "garbage":
            return {"Authorization": "Bearer not-a-key"}
    raise AssertionError(kind)


CASES = [
    # (credential, method, path, status, body)
    ("none", "POST", "/v1/quotes", 401, NEW),
    ("none", "PATCH", "/v1/speakers/1", 401, {"aliases": []}),
    ("none", "DELETE", "/v1/quotes/1", 401, None),
    ("none", "POST", "/v1/articles", 401, {"text": "Nothing quoted.", "dry_run": True}),
    ("garbage", "POST", "/v1/quotes", 401, NEW),
    ("basic", "POST", "/v1/quotes", 401, NEW),
    ("bare token", "POST", "/v1/quotes", 401, NEW),
    ("unknown", "POST", "/v1/quotes", 401, NEW),
    ("wrong secret", "POST", "/v1/quotes", 401, NEW),
    ("revoked", "POST", "/v1/quotes", 401, NEW),
    # a write key writes, but deleting is for admin keys
    ("write", "POST", "/v1/quotes", 201, NEW),
    ("lowercase scheme", "POST", "/v1/quotes", 201, NEW),  # schemes are case-insensitive
    ("write", "PATCH", "/v1/speakers/1", 200, {"aliases": ["DJT"]}),
    ("write", "DELETE", "/v1/quotes/1", 403, None),
    ("admin", "DELETE", "/v1/quotes/1", 204, None),
    ("admin", "POST", "/v1/quotes", 201, NEW),
    # reads are open, with or without a key; a bad key on a read is still refused
    ("none", "GET", "/v1/quotes", 200, None),
    ("none", "GET", "/v1/speakers/1", 200, None),
    ("none", "POST", "/v1/verify", 200, {"text": "fear itself"}),
    ("none", "POST", "/v1/verify/batch", 200, {"items": [{"text": "fear itself"}]}),
    ("write", "GET", "/v1/articles", 200, None),
    ("revoked", "GET", "/v1/quotes", 200, None),
    # errors that are not about the key come after it
    ("none", "PUT", "/v1/quotes/1", 405, None),
    ("none", "POST", "/v1/nothing", 404, None),
]


@pytest.mark.parametrize(
    ("credential", "method", "path", "status", "body"),
    CASES,
    ids=[f"{c[0]} {c[1]} {c[2]} {c[3]}" for c in CASES],
)
def test_access(client, request, credential, method, path, status, body):
    response = client.open(path, method=method, json=body, headers=_auth(credential, request))
    assert response.status_code == status, response.get_data(as_text=True)
    if status in (401, 403):
        problem = assert_problem(response, status)
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer ")
        if status == 403:
            assert 'error="insufficient_scope"' in challenge
            assert "scope admin" in problem["detail"]
        elif credential == "none":
            assert "error=" not in challenge  # RFC 6750: no error code when no token came
        else:
            assert 'error="invalid_token"' in challenge
        # what the client sent as a key is never echoed
        sent = _auth(credential, request).get("Authorization", "").split()[-1:]
        assert not any(token in response.get_data(as_text=True) for token in sent)


def test_a_refused_write_changes_nothing(client, seeded_store):
    before = seeded_store.count_quotes()
    assert client.post("/v1/quotes", json=NEW).status_code == 401
    assert client.delete("/v1/quotes/1").status_code == 401
    assert seeded_store.count_quotes() == before


def _route_requests(app):
    """(method, path) for every route of the app, with 1 for each path parameter."""
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, path, rule.endpoint


def test_every_write_route_needs_a_key(app, client):
    writes = [
        (method, path)
        for method, path, endpoint in _route_requests(app)
        if method in WRITE_METHODS and endpoint not in READ_POSTS
    ]
    assert len(writes) >= 5
    for method, path in writes:
        response = client.open(path, method=method, json={})
        assert_problem(response, 401)


def test_reads_need_a_key_when_configured(db_path, app):
    from api import create_app

    locked = create_app(
        {"DATABASE_URL": f"sqlite:///{db_path}", "READS_NEED_KEY": True, **UNLIMITED}
    )
    anonymous = locked.test_client()
    for method, path in [
        ("GET", "/v1/quotes"),
        ("GET", "/v1/speakers/1"),
        ("GET", "/v1/articles"),
        ("POST", "/v1/verify"),
        ("POST", "/v1/verify/batch"),
    ]:
        assert_problem(anonymous.open(path, method=method, json={"text": "x"}), 401)
    # probes, metrics and the spec stay open
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert anonymous.get(path).status_code == 200, path
    keyed = keyed_client(locked, make_key(locked.extensions["quotecheck"], "write"))
    assert keyed.get("/v1/quotes").status_code == 200
    assert keyed.post("/v1/verify", json={"text": "fear itself"}).status_code == 200


# the OpenAPI document says the same ---------------------------------------------------------


def _operations(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_spec_declares_the_bearer_scheme_and_who_needs_it(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    secured = set()
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        if operation["security"]:
            secured.add((method, path))
            assert operation["security"] == [{"bearerAuth": []}]
            assert {"401", "403"} <= set(responses), (method, path)
        else:
            assert "401" not in responses, (method, path)
    assert secured == {
        ("post", "/v1/quotes"),
        ("patch", "/v1/quotes/{quote_id}"),
        ("delete", "/v1/quotes/{quote_id}"),
        ("patch", "/v1/speakers/{speaker_id}"),
        ("post", "/v1/articles"),
    }
    for code in ("401", "403"):
        content = spec["paths"]["/v1/quotes"]["post"]["responses"][code]
        assert content == {"$ref": f"#/components/responses/{_NAMES[code]}"}


_NAMES = {"401": "UNAUTHORIZED", "403": "FORBIDDEN"}


def test_spec_lists_429_where_limits_apply(client, db_path):
    from api import create_app

    # the test app has no limits: no 429 anywhere
    spec = client.get("/openapi.json").get_json()
    assert not any("429" in op["responses"] for _, _, op in _operations(spec))
    limited = create_app({"DATABASE_URL": f"sqlite:///{db_path}"})  # the default limits
    spec = limited.test_client().get("/openapi.json").get_json()
    for path, method, operation in _operations(spec):
        open_route = path in ("/healthz", "/readyz", "/metrics")
        assert ("429" in operation["responses"]) is not open_route, (method, path)
    response = spec["components"]["responses"]["RATE_LIMITED"]
    assert "Retry-After" in response["headers"]
    assert list(response["content"]) == ["application/problem+json"]


def test_spec_with_reads_locked_secures_reads(db_path):
    from api import create_app

    locked = create_app({"DATABASE_URL": f"sqlite:///{db_path}", "READS_NEED_KEY": True})
    spec = locked.test_client().get("/openapi.json").get_json()
    verify = spec["paths"]["/v1/verify"]["post"]
    assert verify["security"] == [{"bearerAuth": []}]
    assert "401" in verify["responses"] and "403" not in verify["responses"]
    assert spec["paths"]["/healthz"]["get"]["security"] == []
