"""create_app: defaults, then QUOTECHECK_* environment variables, then test_config."""

from __future__ import annotations

import flask
import pytest
from conftest import keyed_client, make_key

from api import SETTINGS, create_app

DEFAULTS = {
    "MAX_BODY_BYTES": 1_048_576,
    "MAX_TEXT_CHARS": 20_000,
    "MAX_SCAN_CHARS": 200_000,
    "MAX_BATCH_ITEMS": 100,
    "MAX_PAGE_SIZE": 100,
    "AUTO_MIGRATE": True,
    "ARTICLE_MAX_CHARS": 200_000,
    "FETCH_MAX_BYTES": 5 * 1024 * 1024,
    "FETCH_CONNECT_TIMEOUT": 3.05,
    "FETCH_READ_TIMEOUT": 10,
    "FETCH_TOTAL_TIMEOUT": 20,
    "FETCH_ALLOW_PRIVATE": False,
    "MAX_MATCHES": 20,
    "READS_NEED_KEY": False,
    "RATE_LIMIT_VERIFY": "60/minute",
    "RATE_LIMIT_WRITES": "60/minute",
    "RATE_LIMIT_READS": "600/minute",
    "REDIS_URL": None,
    "RATE_LIMIT_KEY_PREFIX": "quotecheck",
    "TRUSTED_PROXIES": 0,
    "CORS_ORIGINS": "*",
    "READ_DATABASE_URL": None,
    "ORGANIZATION_NAME": "quotecheck",
    "ORGANIZATION_URL": None,
}


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path}/config.db"


def test_settings_list():
    assert set(SETTINGS) == {"DATABASE_URL", *DEFAULTS}


def test_defaults(url):
    app = create_app({"DATABASE_URL": url})
    for name, value in DEFAULTS.items():
        assert app.config[name] == value
    assert app.config["MAX_CONTENT_LENGTH"] == 1_048_576
    assert app.extensions["quotecheck"].url == url


def test_default_database_is_in_the_instance_folder(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setattr(flask.Flask, "auto_find_instance_path", lambda self: str(instance))
    app = create_app()
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance}/quotecheck.db"
    assert app.test_client().get("/readyz").get_json() == {"status": "ready", "quotes": 0}
    assert (instance / "quotecheck.db").exists()


def test_environment_then_test_config(url, monkeypatch):
    monkeypatch.setenv("QUOTECHECK_DATABASE_URL", url)
    monkeypatch.setenv("QUOTECHECK_MAX_PAGE_SIZE", "5")
    monkeypatch.setenv("QUOTECHECK_MAX_BODY_BYTES", "2000")
    app = create_app({"MAX_BODY_BYTES": 3000})
    assert app.extensions["quotecheck"].url == url
    assert app.config["MAX_PAGE_SIZE"] == 5
    assert app.config["MAX_BODY_BYTES"] == app.config["MAX_CONTENT_LENGTH"] == 3000
    client = app.test_client()
    assert client.get("/v1/quotes?limit=5").status_code == 200
    assert client.get("/v1/quotes?limit=6").status_code == 422
    assert client.post("/v1/verify", json={"text": "x" * 3001}).status_code == 413


def test_limits_follow_the_config(url):
    client = create_app(
        {"DATABASE_URL": url, "MAX_TEXT_CHARS": 10, "MAX_BATCH_ITEMS": 2}
    ).test_client()
    assert client.post("/v1/verify", json={"text": "x" * 10}).status_code == 200
    response = client.post("/v1/verify", json={"text": "x" * 11})
    assert response.get_json()["errors"] == {"text": ["Longer than maximum length 10."]}
    items = [{"text": "a"}] * 3
    assert client.post("/v1/verify/batch", json={"items": items}).status_code == 422


def test_match_limit_follows_the_config(url):
    client = create_app({"DATABASE_URL": url, "MAX_MATCHES": 5}).test_client()
    assert client.post("/v1/verify", json={"text": "a b", "limit": 5}).status_code == 200
    response = client.post("/v1/verify/batch", json={"items": [{"text": "a"}], "limit": 6})
    assert response.get_json()["errors"] == {"limit": ["Must be between 1 and 5."]}


def test_article_limit_follows_the_config(url):
    app = create_app({"DATABASE_URL": url, "ARTICLE_MAX_CHARS": 30})
    key = make_key(app.extensions["quotecheck"], "write")
    client = keyed_client(app, key)
    text = "Nothing is quoted here at all."  # 30 characters
    body = {"text": text, "dry_run": True}
    assert client.post("/v1/articles", json=body).status_code == 200
    response = client.post("/v1/articles", json={**body, "text": text + "!"})
    assert response.get_json()["errors"] == {"text": ["Longer than maximum length 30."]}


def test_fetch_settings_from_the_environment(url, monkeypatch):
    monkeypatch.setenv("QUOTECHECK_FETCH_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("QUOTECHECK_FETCH_READ_TIMEOUT", "2.5")
    app = create_app({"DATABASE_URL": url})
    assert app.config["FETCH_ALLOW_PRIVATE"] is True
    assert app.config["FETCH_READ_TIMEOUT"] == 2.5


def test_without_auto_migrate_the_store_is_not_ready(url):
    client = create_app({"DATABASE_URL": url, "AUTO_MIGRATE": False}).test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503


@pytest.mark.parametrize(
    "bad",
    [
        {"MAX_PAGE_SIZE": 0},
        {"MAX_TEXT_CHARS": "many"},
        {"MAX_BATCH_ITEMS": True},
        {"AUTO_MIGRATE": "yes"},
        {"DATABASE_URL": ""},
        {"ARTICLE_MAX_CHARS": 0},
        {"FETCH_MAX_BYTES": 1.5},
        {"FETCH_READ_TIMEOUT": 0},
        {"FETCH_CONNECT_TIMEOUT": float("nan")},
        {"FETCH_TOTAL_TIMEOUT": "20"},
        # a string from the environment that is not JSON would pass as truthy
        {"FETCH_ALLOW_PRIVATE": "false"},
        {"MAX_MATCHES": 0},
        {"READS_NEED_KEY": "true"},
        {"RATE_LIMIT_VERIFY": "lots"},
        {"RATE_LIMIT_WRITES": 60},
        {"REDIS_URL": "http://127.0.0.1:6379"},
        {"TRUSTED_PROXIES": -1},
        {"CORS_ORIGINS": 5},
        {"READ_DATABASE_URL": 5},
        # a replica URL only PostgreSQL can use
        {"READ_DATABASE_URL": "sqlite:///replica.db"},
        {"MAX_SCAN_CHARS": 0},
        {"ORGANIZATION_NAME": " "},
        {"ORGANIZATION_URL": "factcheck.example"},
    ],
)
def test_bad_settings_fail_at_startup(url, bad):
    with pytest.raises(ValueError):
        create_app({"DATABASE_URL": url, **bad})
