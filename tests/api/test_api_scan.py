"""POST /v1/scan against the seed quotes: findings, spans, verdicts and errors."""

from __future__ import annotations

import pytest

MILLIONS = (
    "If we're going to pay millions of dollars a year, tell them we're not going to give "
    "them the money unless they give back our military equipment."
)
LINCOLN = (
    "four score and seven years ago our fathers brought forth on this continent, a new "
    "nation, conceived in Liberty, and dedicated to the proposition that all men are created "
    "equal"
)
PAGE = (
    "The weather was mild on Tuesday and the market opened late.\n"
    f'At a rally in Ohio, Joe Biden said: "{MILLIONS}" The crowd cheered.\n'
    f"A columnist later wrote that {LINCOLN}. Nobody objected to that.\n"
)
HTML = (
    "<!doctype html><html><head><title>Rally</title></head><body>"
    "<nav><a href='/'>Home</a> | <a href='/about'>About</a></nav><article><h1>Rally</h1>"
    "<p>The weather was mild on Tuesday and the market opened late.</p>"
    f"<p>At a rally in Ohio, Joe Biden said: &ldquo;{MILLIONS}&rdquo; The crowd cheered.</p>"
    f"<p>A columnist later wrote that {LINCOLN}. Nobody objected to that.</p>"
    "</article><footer>Copyright</footer></body></html>"
)


def _check(body: dict) -> dict:
    text = body["text"]
    starts = [f["start"] for f in body["findings"]]
    assert starts == sorted(starts)
    for f in body["findings"]:
        assert text[f["start"] : f["end"]] == f["quote"]
    return {(f["kind"], f["quote"].strip('“”".,')): f for f in body["findings"]}


@pytest.mark.parametrize(
    "request_body",
    [
        {"text": PAGE},
        {"html": HTML, "url": "https://news.example/rally"},
        {"html": HTML},
    ],
    ids=["text", "html with url", "html"],
)
def test_scan_finds_quotation_and_unmarked_quote(client, request_body):
    response = client.post("/v1/scan", json=request_body)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"text", "findings", "stats"}
    if "text" in request_body:
        assert body["text"] == PAGE
    found = _check(body)
    quoted = found[("quotation", MILLIONS.rstrip("."))]
    assert quoted["speaker"] == "Joe Biden"
    assert quoted["verification"]["verdict"] == "misattributed"
    assert quoted["verification"]["attribution"]["recorded"] == "Donald Trump"
    diff = quoted["verification"]["matches"][0]["diff"]
    assert {"op": "replace", "original": "billions", "submitted": "millions"} in diff
    unmarked = found[("unmarked", LINCOLN)]
    assert unmarked["speaker"] is None
    assert unmarked["verification"]["verdict"] == "verified"
    recorded = unmarked["verification"]["matches"][0]["quote"]["speaker"]["name"]
    assert recorded == "Abraham Lincoln"
    assert body["stats"]["quotations"] == 1
    assert body["stats"]["unmarked"] == 1
    assert body["stats"]["characters"] == len(body["text"])


def test_scan_verification_is_what_verify_says(client):
    body = client.post("/v1/scan", json={"text": PAGE, "limit": 2}).get_json()
    for f in body["findings"]:
        alone = client.post(
            "/v1/verify", json={"text": f["quote"], "speaker": f["speaker"], "limit": 2}
        ).get_json()
        assert f["verification"] == alone


def test_scan_without_quotes_is_empty(client):
    response = client.post("/v1/scan", json={"text": "An ordinary sentence about the weather."})
    assert response.status_code == 200
    assert response.get_json()["findings"] == []


def _long(app) -> str:
    return "word " * (app.config["MAX_SCAN_CHARS"] // 5 + 1)


@pytest.mark.parametrize(
    ("label", "body", "status", "field"),
    [
        ("neither text nor html", {}, 422, "text"),
        ("both text and html", {"text": PAGE, "html": HTML}, 422, "html"),
        ("empty text", {"text": ""}, 422, "text"),
        ("blank text", {"text": "  \n "}, 422, "text"),
        ("text not a string", {"text": 5}, 422, "text"),
        ("empty html", {"html": ""}, 422, "html"),
        # trafilatura finds no main text in it
        ("html without text", {"html": "<html><body></body></html>"}, 422, "html"),
        ("url without html", {"text": PAGE, "url": "https://news.example/"}, 422, "url"),
        ("limit 0", {"text": PAGE, "limit": 0}, 422, "limit"),
        ("limit over MAX_MATCHES", {"text": PAGE, "limit": 21}, 422, "limit"),
        ("include_pending not a boolean", {"text": PAGE, "include_pending": "yes"}, 422, None),
        ("a text over MAX_SCAN_CHARS", "long", 422, "text"),
    ],
)
def test_scan_errors_are_problems(app, client, label, body, status, field):
    if body == "long":
        body = {"text": _long(app)}
    response = client.post("/v1/scan", json=body)
    assert response.status_code == status, label
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status
    if field is not None:
        assert field in problem["errors"]


def test_scan_html_whose_text_is_too_long_is_413(database_url):
    from api import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "MAX_SCAN_CHARS": 100})
    try:
        html = f"<html><body><article><p>{PAGE}</p><p>{PAGE}</p></article></body></html>"
        response = app.test_client().post("/v1/scan", json={"html": html})
        assert response.status_code == 413
        assert response.mimetype == "application/problem+json"
    finally:
        app.extensions["quotecheck"].close()


@pytest.mark.parametrize(
    ("headers", "data", "status"),
    [
        ({"Content-Type": "text/plain"}, PAGE, 415),
        ({"Content-Type": "application/json"}, "{not json", 400),
    ],
)
def test_scan_bad_bodies(client, headers, data, status):
    response = client.post("/v1/scan", headers=headers, data=data)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def test_scan_is_open_to_other_origins(client):
    response = client.options(
        "/v1/scan",
        headers={"Origin": "chrome-extension://abc", "Access-Control-Request-Method": "POST"},
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
