"""Rate limits, in memory and in the real Redis at 127.0.0.1:6379; CORS; request ids.

Every Redis test uses its own key prefix and deletes its keys afterwards. Two apps on one
Redis stand in for two gunicorn workers: a limit must hold across them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
import redis
from conftest import UNLIMITED, keyed_client, make_key
from test_api_errors import assert_problem

REDIS_URL = "redis://127.0.0.1:6379/0"
TEXT = {"text": "The only thing we have to fear is fear itself."}
NEW = {"text": "Words never stored before in this store", "speaker": "Test Speaker"}


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the real Redis; its keys are deleted afterwards."""
    prefix = f"quotecheck-test-{uuid.uuid4().hex}"
    connection = redis.Redis.from_url(REDIS_URL)
    connection.ping()  # fail, not skip, when Redis is not there
    yield prefix
    keys = list(connection.scan_iter(match=f"*{prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


@pytest.fixture(params=["memory", "redis"])
def make_app(request, db_path, app):
    """Build apps on the test database with given limits, counting in memory or in Redis."""
    from api import create_app

    storage = {}
    if request.param == "redis":
        prefix = request.getfixturevalue("redis_prefix")
        storage = {"REDIS_URL": REDIS_URL, "RATE_LIMIT_KEY_PREFIX": prefix}

    def build(**settings):
        config = {"DATABASE_URL": f"sqlite:///{db_path}", **UNLIMITED, **storage, **settings}
        return create_app(config)

    build.backend = request.param  # type: ignore[attr-defined]
    return build


def test_verify_over_the_limit_is_a_429_problem_with_retry_after(make_app):
    client = make_app(RATE_LIMIT_VERIFY="3/minute").test_client()
    for remaining in (2, 1, 0):
        response = client.post("/v1/verify", json=TEXT)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    response = client.post("/v1/verify", json=TEXT)
    body = assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert "3 per 1 minute" in body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    # the batch endpoint shares the verify budget
    assert_problem(client.post("/v1/verify/batch", json={"items": [TEXT]}), 429)
    # other groups, and the probes, are not affected
    assert client.get("/v1/quotes").status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("batch", "singles_after"),
    [
        (3, [200, 200, 429]),  # 3 of the 5 spent
        (1, [200, 200, 200, 200, 429]),
        (9, [429]),  # more items than the limit: costs the whole budget, once
    ],
)
def test_a_batch_costs_one_per_item(make_app, batch, singles_after):
    client = make_app(RATE_LIMIT_VERIFY="5/minute").test_client()
    response = client.post("/v1/verify/batch", json={"items": [TEXT] * batch})
    assert response.status_code == 200
    got = [client.post("/v1/verify", json=TEXT).status_code for _ in singles_after]
    assert got == singles_after


def test_a_malformed_batch_costs_one(make_app):
    client = make_app(RATE_LIMIT_VERIFY="2/minute").test_client()
    bad = client.post("/v1/verify/batch", data="[" * 10_000, content_type="application/json")
    assert bad.status_code == 400
    assert client.post("/v1/verify", json=TEXT).status_code == 200
    assert client.post("/v1/verify", json=TEXT).status_code == 429


def test_limits_count_per_key_else_per_address(make_app):
    app = make_app(RATE_LIMIT_VERIFY="2/minute")
    store = app.extensions["quotecheck"]
    first = keyed_client(app, make_key(store, "write"))
    second = keyed_client(app, make_key(store, "write"))
    anonymous = app.test_client()
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    for client in (first, second, anonymous, elsewhere):
        assert [client.post("/v1/verify", json=TEXT).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]


def test_writes_have_their_own_limit(make_app, db_path):
    app = make_app(RATE_LIMIT_WRITES="2/minute", RATE_LIMIT_VERIFY="100/minute")
    writer = keyed_client(app, make_key(app.extensions["quotecheck"], "write"))
    statuses = [
        writer.post("/v1/quotes", json={**NEW, "text": f"{NEW['text']} {i}"}).status_code
        for i in ("one", "two", "three")
    ]
    assert statuses == [201, 201, 429]
    assert writer.post("/v1/verify", json=TEXT).status_code == 200


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(make_app):
    app = make_app(RATE_LIMIT_VERIFY="1/minute")
    client = app.test_client()
    spoofed = [
        client.post("/v1/verify", json=TEXT, headers={"X-Forwarded-For": f"198.51.100.{i}"})
        for i in range(2)
    ]
    assert [r.status_code for r in spoofed] == [200, 429]  # one address: the peer's

    proxied = make_app(RATE_LIMIT_VERIFY="1/minute", TRUSTED_PROXIES=1).test_client()
    for i in range(2):
        headers = {"X-Forwarded-For": f"203.0.113.{i}"}
        assert proxied.post("/v1/verify", json=TEXT, headers=headers).status_code == 200


def test_limits_hold_across_workers_sharing_redis(db_path, app, redis_prefix):
    from api import create_app

    config = {
        "DATABASE_URL": f"sqlite:///{db_path}",
        **UNLIMITED,
        "RATE_LIMIT_VERIFY": "4/minute",
        "REDIS_URL": REDIS_URL,
        "RATE_LIMIT_KEY_PREFIX": redis_prefix,
    }
    workers = [create_app(config).test_client() for _ in range(2)]
    statuses = [workers[i % 2].post("/v1/verify", json=TEXT).status_code for i in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    keys = redis.Redis.from_url(REDIS_URL).keys(f"*{redis_prefix}*")
    assert keys, "the counters are in Redis"


def test_unreachable_redis_does_not_fail_requests(db_path, app):
    from api import create_app

    with socket_closed_port() as port:
        client = create_app(
            {
                "DATABASE_URL": f"sqlite:///{db_path}",
                **UNLIMITED,
                "RATE_LIMIT_VERIFY": "2/minute",
                "REDIS_URL": f"redis://127.0.0.1:{port}/0",
            }
        ).test_client()
        # counted in memory until Redis is back
        statuses = [client.post("/v1/verify", json=TEXT).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


class socket_closed_port:
    """A loopback port that nothing listens on (bound, never listening, while in use)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


# CORS ----------------------------------------------------------------------------------------

EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
PREFLIGHT = {
    "Origin": EXTENSION,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def test_verify_allows_any_origin_by_default(client):
    preflight = client.options("/v1/verify", headers=PREFLIGHT)
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    response = client.post(
        "/v1/verify/batch", json={"items": [TEXT]}, headers={"Origin": EXTENSION}
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("OPTIONS", "/v1/quotes"),
        ("POST", "/v1/quotes"),
        ("OPTIONS", "/v1/quotes/1"),
        ("OPTIONS", "/v1/articles"),
        ("GET", "/v1/quotes"),
        ("OPTIONS", "/v1/speakers/1"),
    ],
)
def test_writes_and_other_routes_get_no_cors_headers(client, method, path):
    response = client.open(path, method=method, headers=PREFLIGHT, json=NEW)
    assert "Access-Control-Allow-Origin" not in response.headers


def test_configured_origins_only(db_path, app):
    from api import create_app

    client = create_app(
        {"DATABASE_URL": f"sqlite:///{db_path}", **UNLIMITED, "CORS_ORIGINS": EXTENSION}
    ).test_client()
    allowed = client.options("/v1/verify", headers=PREFLIGHT)
    assert allowed.headers["Access-Control-Allow-Origin"] == EXTENSION
    other = client.options("/v1/verify", headers={**PREFLIGHT, "Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in other.headers

    closed = create_app(
        {"DATABASE_URL": f"sqlite:///{db_path}", **UNLIMITED, "CORS_ORIGINS": ""}
    ).test_client()
    assert (
        "Access-Control-Allow-Origin" not in closed.options("/v1/verify", headers=PREFLIGHT).headers
    )


def test_a_rate_limited_answer_is_readable_cross_origin(make_app):
    client = make_app(RATE_LIMIT_VERIFY="1/minute").test_client()
    client.post("/v1/verify", json=TEXT, headers={"Origin": EXTENSION})
    response = client.post("/v1/verify", json=TEXT, headers={"Origin": EXTENSION})
    assert response.status_code == 429
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


# request ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/healthz", None, 200),
        ("POST", "/v1/verify", TEXT, 200),
        ("GET", "/nowhere", None, 404),
        ("POST", "/v1/verify", {"text": ""}, 422),
        ("POST", "/v1/quotes", NEW, 401),
        ("DELETE", "/v1/verify", None, 405),
    ],
)
def test_every_response_has_a_request_id(client, method, path, body, status):
    response = client.open(path, method=method, json=body)
    assert response.status_code == status
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    if status >= 400:
        assert response.get_json()["request_id"] == request_id


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        ("3f2c9a1e-4b7d-4c8e-9a1f-0123456789ab", True),  # a UUID
        ("01HZX3J9K8M7N6P5Q4R3S2T1V0", True),  # a ULID
        ("trace:span.1_2-3", True),
        ("x" * 128, True),
        ("x" * 129, False),  # too long
        ("has space", False),
        ("<script>", False),
        ("", False),
        ("caf\u00e9", False),
    ],
)
def test_a_sane_client_request_id_is_echoed(client, sent, echoed):
    response = client.get("/nowhere", headers={"X-Request-ID": sent})
    got = response.headers["X-Request-ID"]
    assert (got == sent) is echoed
    assert response.get_json()["request_id"] == got


def test_request_ids_differ(client):
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(20)}
    assert len(ids) == 20


def test_log_records_carry_the_request_id(client, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("api.views.verify.verify", explode)
    response = client.post("/v1/verify", json=TEXT, headers={"X-Request-ID": "trace-42"})
    assert response.status_code == 500
    assert response.get_json()["request_id"] == "trace-42"
    assert [r.request_id for r in caplog.records if "boom" in r.getMessage() or r.exc_info] == [
        "trace-42"
    ]
