"""Every error path answers with one shape: an RFC 9457 problem, application/problem+json.

Each row is (request, expected status, field expected in ``errors`` for a 422). Quote 1 and
speaker 1 are the seed's first (the founding article's quote, Donald Trump).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotes_db.keys import generate_key

SEED_REF = "seed:taliban-equipment-rally"
SEED_TEXT = (
    "If we're going to pay billions of dollars a year, tell them we're not going to give "
    "them the money unless they give back our military equipment"
)
TOO_BIG_ID = 2**63  # one past SQLite's largest integer


@pytest.fixture
def broken_client(tmp_path: Path):
    """A client of an app whose database file sits under a regular file, so cannot open."""
    from api import create_app

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{blocker}/quotes.db"})
    return app.test_client()


def assert_problem(response, status: int) -> dict:
    """Assert that ``response`` is an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    if status == 422:
        assert body["type"] == "https://quotecheck.dev/problems/validation"
        assert body["errors"] and all(isinstance(v, list) for v in body["errors"].values())
    else:
        assert body["type"] == "about:blank"
        assert "errors" not in body
    return body


VERIFY, BATCH, QUOTES, SPEAKERS = "/v1/verify", "/v1/verify/batch", "/v1/quotes", "/v1/speakers"
ARTICLES = "/v1/articles"
NEW = {"text": "Some other words", "speaker": "X"}  # a valid new quote
ARTICLE = {"text": "Nobody is quoted here.", "dry_run": True}  # a valid article


def raw(method, path, data, content_type="application/json"):
    return {"method": method, "path": path, "data": data, "content_type": content_type}


def send(method, path, payload):
    return {"method": method, "path": path, "json": payload}


def get(path):
    return {"method": "GET", "path": path}


CASES = [
    # 400: the body is not readable JSON
    ("malformed JSON", raw("POST", VERIFY, '{"text": '), 400, None),
    ("malformed article JSON", raw("POST", ARTICLES, '{"url": "http://'), 400, None),
    ("invalid UTF-8", raw("POST", VERIFY, b'{"text": "\xff\xfe"}'), 400, None),
    ("binary body", raw("POST", VERIFY, bytes(range(256))), 400, None),
    ("empty body", raw("POST", VERIFY, b""), 400, None),
    ("whitespace body", raw("PATCH", f"{QUOTES}/1", b" \n "), 400, None),
    # json.loads raises RecursionError, which webargs would not catch
    ("deeply nested JSON", raw("POST", VERIFY, "[" * 100_000 + "]" * 100_000), 400, None),
    # json.loads raises ValueError beyond 4300 digits
    ("huge integer", raw("POST", VERIFY, '{"limit": ' + "9" * 5000 + "}"), 400, None),
    ("UTF-8 BOM", raw("POST", VERIFY, '\ufeff{"text": "hi"}'), 400, None),
    # 415: the body is not declared as JSON
    ("text/plain body", raw("POST", VERIFY, '{"text": "x"}', "text/plain"), 415, None),
    ("form body", raw("POST", QUOTES, "text=x", "application/x-www-form-urlencoded"), 415, None),
    ("article as plain text", raw("POST", ARTICLES, "Some article.", "text/plain"), 415, None),
    ("no content type", raw("PATCH", f"{SPEAKERS}/1", b"{}", None), 415, None),
    ("no body at all", {"method": "POST", "path": BATCH}, 415, None),
    # 422: JSON, but not what the endpoint takes
    ("JSON list", send("POST", VERIFY, [SEED_TEXT]), 422, "_schema"),
    ("JSON string", send("POST", VERIFY, SEED_TEXT), 422, "_schema"),
    ("JSON null", raw("POST", VERIFY, "null"), 422, "_schema"),
    ("JSON number", raw("PATCH", f"{QUOTES}/1", "42"), 422, "_schema"),
    ("missing text", send("POST", VERIFY, {"speaker": "X"}), 422, "text"),
    ("empty text", send("POST", VERIFY, {"text": ""}), 422, "text"),
    ("blank text", send("POST", VERIFY, {"text": " \t\n\u3000"}), 422, "text"),
    ("text not a string", send("POST", VERIFY, {"text": ["a"]}), 422, "text"),
    ("text too long", send("POST", VERIFY, {"text": "a" * 20_001}), 422, "text"),
    # SQLite cannot encode a lone surrogate
    ("lone surrogate", send("POST", VERIFY, {"text": "abc \ud800 def"}), 422, "text"),
    ("NUL character", send("POST", VERIFY, {"text": "abc\x00def"}), 422, "text"),
    ("speaker surrogate", send("POST", VERIFY, {"text": "a", "speaker": "\udfff"}), 422, "speaker"),
    ("speaker too long", send("POST", VERIFY, {"text": "a", "speaker": "x" * 201}), 422, "speaker"),
    ("limit zero", send("POST", VERIFY, {"text": "a", "limit": 0}), 422, "limit"),
    ("limit too big", send("POST", VERIFY, {"text": "a", "limit": 21}), 422, "limit"),
    ("limit as string", send("POST", VERIFY, {"text": "a", "limit": "3"}), 422, "limit"),
    ("limit as float", send("POST", VERIFY, {"text": "a", "limit": 2.5}), 422, "limit"),
    ("limit NaN", raw("POST", VERIFY, '{"text": "a", "limit": NaN}'), 422, "limit"),
    ("unknown field", send("POST", VERIFY, {"text": "a", "lang": "en"}), 422, "lang"),
    ("batch without items", send("POST", BATCH, {}), 422, "items"),
    ("batch empty", send("POST", BATCH, {"items": []}), 422, "items"),
    ("batch too big", send("POST", BATCH, {"items": [{"text": "a"}] * 101}), 422, "items"),
    ("batch item invalid", send("POST", BATCH, {"items": [NEW, {}]}), 422, "items.1.text"),
    ("batch item not object", send("POST", BATCH, {"items": ["a"]}), 422, "items.0._schema"),
    ("include_pending a string", send("POST", VERIFY, {"text": "a", "include_pending": "yes"}),
     422, "include_pending"),
    # 1 == True in Python: a strict boolean must still refuse it
    ("batch include_pending 1", send("POST", BATCH, {"items": [NEW], "include_pending": 1}),
     422, "include_pending"),
    ("page limit zero", get(f"{QUOTES}?limit=0"), 422, "limit"),
    ("page limit too big", get(f"{QUOTES}?limit=101"), 422, "limit"),
    ("negative offset", get(f"{SPEAKERS}?offset=-1"), 422, "offset"),
    ("huge offset", get(f"{QUOTES}?offset=" + "9" * 30), 422, "offset"),
    ("speaker_id not a number", get(f"{QUOTES}?speaker_id=x"), 422, "speaker_id"),
    ("NUL in query", get(f"{QUOTES}?q=a%00b"), 422, "q"),
    ("quote without speaker", send("POST", QUOTES, {"text": "Some words"}), 422, "speaker"),
    ("quote bad date", send("POST", QUOTES, {**NEW, "said_at": "1999-13-01"}), 422, "said_at"),
    ("unknown source field", send("POST", QUOTES, {**NEW, "source": {"x": 1}}), 422, "source.x"),
    ("quote tags not a list", send("POST", QUOTES, {**NEW, "tags": "a"}), 422, "tags"),
    # InvalidQuoteError from quotes_db.importing.parse_quote
    ("quote text without words", send("POST", QUOTES, {**NEW, "text": "!!! ???"}), 422, "text"),
    ("quote blank speaker", send("POST", QUOTES, {**NEW, "speaker": "   "}), 422, "speaker"),
    ("patch text null", send("PATCH", f"{QUOTES}/1", {"text": None}), 422, "text"),
    ("patch unknown field", send("PATCH", f"{QUOTES}/1", {"id": 5}), 422, "id"),
    ("patch unknown review", send("PATCH", f"{QUOTES}/1", {"review": "maybe"}), 422, "review"),
    ("patch review null", send("PATCH", f"{QUOTES}/1", {"review": None}), 422, "review"),
    ("quote unknown review", send("POST", QUOTES, {**NEW, "review": "Approved"}), 422, "review"),
    # articles: text mode or url (fetch) mode, and nothing else
    ("article without text or url", send("POST", ARTICLES, {"dry_run": True}), 422, "text"),
    ("article blank text", send("POST", ARTICLES, {"text": " \n "}), 422, "text"),
    ("article text too long", send("POST", ARTICLES, {"text": "a" * 200_001}), 422, "text"),
    ("article NUL in text", send("POST", ARTICLES, {"text": "a\x00b"}), 422, "text"),
    ("article empty url", send("POST", ARTICLES, {"url": ""}), 422, "url"),
    ("article url not a string", send("POST", ARTICLES, {"url": 5}), 422, "url"),
    ("article bad date", send("POST", ARTICLES, {**ARTICLE, "published_at": "2024-02-30"}),
     422, "published_at"),
    ("article dry_run a string", send("POST", ARTICLES, {**ARTICLE, "dry_run": "true"}),
     422, "dry_run"),
    ("article unknown field", send("POST", ARTICLES, {**ARTICLE, "author": "X"}), 422, "author"),
    ("articles page limit zero", get(f"{ARTICLES}?limit=0"), 422, "limit"),
    # UrlRefusedError from quotes_db.fetching: checked before any connection is tried
    ("fetch a loopback url", send("POST", ARTICLES, {"url": "http://127.0.0.1:9/"}), 422, "url"),
    ("fetch an integer IPv4", send("POST", ARTICLES, {"url": "http://2130706433/"}), 422, "url"),
    ("fetch IPv6 loopback", send("POST", ARTICLES, {"url": "http://[::1]/"}), 422, "url"),
    ("fetch a private address", send("POST", ARTICLES, {"url": "http://192.168.1.1/"}),
     422, "url"),
    ("fetch ftp", send("POST", ARTICLES, {"url": "ftp://example.com/a.txt"}), 422, "url"),
    ("fetch with credentials", send("POST", ARTICLES, {"url": "http://u:p@example.com/"}),
     422, "url"),
    ("fetch without host", send("POST", ARTICLES, {"url": "http:///nowhere"}), 422, "url"),
    # InvalidQuoteError from the store
    ("patch speaker blank name", send("PATCH", f"{SPEAKERS}/1", {"name": "  "}), 422, "name"),
    ("patch aliases not a list", send("PATCH", f"{SPEAKERS}/1", {"aliases": "x"}), 422, "aliases"),
    # 404
    ("unknown route", get("/v2/nothing"), 404, None),
    ("unknown quote", get(f"{QUOTES}/999999"), 404, None),
    ("patch unknown quote", send("PATCH", f"{QUOTES}/999999", {"context": "x"}), 404, None),
    ("delete unknown quote", {"method": "DELETE", "path": f"{QUOTES}/999999"}, 404, None),
    ("unknown speaker", get(f"{SPEAKERS}/999999"), 404, None),
    ("patch unknown speaker", send("PATCH", f"{SPEAKERS}/999999", {"name": "X"}), 404, None),
    ("unknown article", get(f"{ARTICLES}/999999"), 404, None),
    ("article id beyond SQLite", get(f"{ARTICLES}/{TOO_BIG_ID}"), 404, None),
    ("id beyond SQLite", get(f"{QUOTES}/{TOO_BIG_ID}"), 404, None),
    ("id not a number", get(f"{SPEAKERS}/abc"), 404, None),
    # 405
    ("GET on verify", get(VERIFY), 405, None),
    ("PUT on a quote", send("PUT", f"{QUOTES}/1", {"text": "x"}), 405, None),
    ("DELETE on speakers", {"method": "DELETE", "path": SPEAKERS}, 405, None),
    ("DELETE on an article", {"method": "DELETE", "path": f"{ARTICLES}/1"}, 405, None),
    ("PUT on articles", send("PUT", ARTICLES, ARTICLE), 405, None),
    # 409
    ("duplicate ref", send("POST", QUOTES, {**NEW, "ref": SEED_REF}), 409, None),
    # no ref: the same words by the same speaker (any case) are the same quote
    ("same words and speaker", send("POST", QUOTES, {"text": SEED_TEXT, "speaker": "DONALD TRUMP"}),
     409, None),
    ("patch to a taken ref", send("PATCH", f"{QUOTES}/2", {"ref": SEED_REF}), 409, None),
    ("rename to a taken name", send("PATCH", f"{SPEAKERS}/1", {"name": "abraham lincoln"}),
     409, None),
    ("alias taken", send("PATCH", f"{SPEAKERS}/1", {"aliases": ["abraham LINCOLN"]}), 409, None),
    # 413: over MAX_BODY_BYTES (1 MiB by default)
    ("body too large", raw("POST", VERIFY, b" " * (1_048_576 + 1)), 413, None),
    ("article body too large", send("POST", ARTICLES, {"text": "a" * 1_048_576}), 413, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("request_args", "status", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_error_shape(admin, request_args, status, field):
    """With an admin key, so that each request gets as far as its own error."""
    client = admin
    args = dict(request_args)
    response = client.open(args.pop("path"), method=args.pop("method"), **args)
    body = assert_problem(response, status)
    if field is not None:
        assert field in body["errors"], body["errors"]
        assert all(isinstance(m, str) for m in body["errors"][field])


# 401, 403 and 429 come before the request is read: (credential, request, status, header)
ACCESS_CASES = [
    ("no key", None, send("POST", QUOTES, NEW), 401, "WWW-Authenticate"),
    ("not a key", "Bearer 12345", send("PATCH", f"{SPEAKERS}/1", {}), 401, "WWW-Authenticate"),
    ("unknown key", "unknown", send("POST", ARTICLES, ARTICLE), 401, "WWW-Authenticate"),
    # an unauthenticated write is refused before its body is looked at
    ("no key, bad body", None, raw("POST", QUOTES, "{"), 401, "WWW-Authenticate"),
    ("write key deletes", "write", {"method": "DELETE", "path": f"{QUOTES}/1"}, 403,
     "WWW-Authenticate"),
    ("over the verify limit", None, send("POST", VERIFY, {"text": "x"}), 429, "Retry-After"),
    ("over the write limit", "write", send("POST", QUOTES, NEW), 429, "Retry-After"),
]  # fmt: skip


@pytest.fixture
def limited_app(db_path, app):
    """The test app's database behind an app that allows one verify and one write a minute."""
    from api import create_app

    return create_app(
        {
            "DATABASE_URL": f"sqlite:///{db_path}",
            "RATE_LIMIT_VERIFY": "1/minute",
            "RATE_LIMIT_WRITES": "1/minute",
            "RATE_LIMIT_READS": "",
        }
    )


@pytest.mark.parametrize(
    ("credential", "request_args", "status", "header"),
    [c[1:] for c in ACCESS_CASES],
    ids=[c[0] for c in ACCESS_CASES],
)
def test_access_error_shape(limited_app, credential, request_args, status, header):
    from conftest import make_key

    headers = {}
    if credential == "write":
        headers["Authorization"] = (
            f"Bearer {make_key(limited_app.extensions['quotecheck'], 'write')}"
        )
    elif credential == "unknown":
        headers["Authorization"] = f"Bearer {generate_key().token}"
    elif credential is not None:
        headers["Authorization"] = credential
    client = limited_app.test_client()
    args = dict(request_args)
    path, method = args.pop("path"), args.pop("method")
    if status == 429:  # spend the one request the limit allows
        client.open(path, method=method, headers=headers, **args)
    response = client.open(path, method=method, headers=headers, **args)
    body = assert_problem(response, status)
    assert response.headers[header]
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_method_not_allowed_keeps_allow_header(client):
    response = client.delete("/v1/verify")
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"POST", "OPTIONS"}


def test_store_unavailable(broken_client):
    for response in (
        broken_client.get("/readyz"),
        broken_client.post("/v1/verify", json={"text": SEED_TEXT}),
        broken_client.get("/v1/quotes"),
        broken_client.get("/v1/speakers/1"),
        broken_client.get("/v1/articles"),
        # a well-formed key: checking it needs the database
        broken_client.post(
            "/v1/articles",
            json={"text": 'He said: "We will win this fight."'},
            headers={"Authorization": f"Bearer {generate_key().token}"},
        ),
    ):
        body = assert_problem(response, 503)
        assert "not available" in body["detail"]
    # liveness does not depend on the database
    assert broken_client.get("/healthz").get_json()["status"] == "ok"


def test_unexpected_exception_is_a_logged_500(client, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("api.views.verify.verify", explode)
    response = client.post("/v1/verify", json={"text": SEED_TEXT})
    body = assert_problem(response, 500)
    assert "secret" not in body["detail"]
    assert "secret internals" in caplog.text


def test_problem_body_is_json(client):
    response = client.get("/nowhere")
    assert json.loads(response.get_data(as_text=True))["status"] == 404


def _unstorable(text: str) -> bool:
    return "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _invalid(text: str, speaker: str | None) -> bool:
    if not text.strip() or len(text) > 20_000 or _unstorable(text):
        return True
    return speaker is not None and _unstorable(speaker)


SEED_WORDS = SEED_TEXT.split()
texts = st.one_of(
    # any code point of any plane, lone surrogates and NUL included
    st.text(st.characters(exclude_categories=()), max_size=300),
    # the seed quote's words, shuffled and mixed with noise: exercises the matcher
    st.lists(
        st.one_of(st.sampled_from(SEED_WORDS), st.text(st.characters(), max_size=4)),
        max_size=40,
    ).map(" ".join),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=texts, speaker=st.one_of(st.none(), st.text(st.characters(exclude_categories=()))))
def test_verify_never_fails_on_any_text(client, text, speaker):
    response = client.post("/v1/verify", json={"text": text, "speaker": speaker})
    assert response.status_code == (422 if _invalid(text, speaker) else 200), response.get_json()
    if response.status_code == 200:
        assert response.get_json()["verdict"] in {
            "verified", "fragment", "altered", "misattributed", "no_match",
        }  # fmt: skip
