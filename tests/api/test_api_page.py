"""The web page at /: the form, a check rendered on the server, its problems and limits."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from conftest import SEED_QUOTE, UNLIMITED

ALTERED = SEED_QUOTE.replace("billions", "millions")


def page(client, **params):
    response = client.get("/?" + urlencode(params) if params else "/")
    assert response.mimetype == "text/html"
    return response, response.get_data(as_text=True)


def verdict_of(html: str) -> str:
    found = re.search(r'data-verdict="([a-z_]+)"', html)
    assert found, "no verdict on the page"
    return found.group(1)


def test_the_form_alone(client):
    response, html = page(client)
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert '<meta name="viewport"' in html
    assert '<label for="text">' in html and '<label for="speaker">' in html
    assert 'class="skip-link" href="#main"' in html and '<main id="main"' in html
    assert 'aria-live="polite"' in html
    assert "data-verdict" not in html  # no check yet
    # only its own assets, and a policy that says so
    assert re.findall(r'(?:src|href)="(https?:)', html) == []
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


# (text, speaker, verdict, words the page must show); every row is a shareable link
CHECKS = [
    (ALTERED, "Donald Trump", "altered", ["<del>billions</del>", "<ins>millions</ins>"]),
    (SEED_QUOTE, None, "verified", ["Recorded speaker", "Donald Trump"]),
    (SEED_QUOTE, "Joe Biden", "misattributed", ["Misattributed", "Joe Biden"]),
    ("tell them we're not going to give them the money", None, "fragment", ["Fragment"]),
    # never "false": we only know what our records hold
    ("Bananas are the currency of the future", None, "no_match", ["Not in our records"]),
]


@pytest.mark.parametrize(("text", "speaker", "verdict", "shown"), CHECKS)
def test_a_check_is_a_link_rendered_on_the_server(client, text, speaker, verdict, shown):
    params = {"text": text, **({"speaker": speaker} if speaker else {})}
    response, html = page(client, **params)
    assert response.status_code == 200
    assert verdict_of(html) == verdict
    for words in shown:
        assert words in html
    assert ">false<" not in html.lower()
    # the same verdict as the API's: one code path
    api = client.post("/v1/verify", json=params).get_json()
    assert api["verdict"] == verdict
    assert f"Confidence: <strong>{api['confidence'] * 100:.0f}%</strong>" in html
    # the share link is the check's own URL
    link = re.search(r'class="share-link" href="([^"]+)"', html)
    assert link, "no share link"
    shared = urlsplit(unescape(link.group(1)))
    assert shared.path == "/" and dict(parse_qsl(shared.query)) == params


def test_the_submitted_text_is_escaped(client):
    _, html = page(client, text='<script>alert("x")</script> billions of dollars')
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


# (params, what the friendly message says); each is a 422 page, never a 500 or JSON
PROBLEMS = [
    ({"text": ""}, "Type or paste the words"),
    ({"text": "   "}, "Type or paste the words"),
    ({"text": "x" * 101}, "The quote: Longer than maximum length 100."),
    ({"text": "a\x00b"}, "The quote:"),  # NUL is refused by the API too
    ({"text": "billions", "speaker": "s" * 501}, "The speaker&#39;s name:"),
]


@pytest.mark.parametrize(("params", "message"), PROBLEMS)
def test_problems_are_said_on_the_page(database_url, app, params, message):
    from api import create_app

    small = create_app({"DATABASE_URL": database_url, **UNLIMITED, "MAX_TEXT_CHARS": 100})
    response, html = page(small.test_client(), **params)
    assert response.status_code == 422
    assert 'role="alert"' in html and message in html
    assert "data-verdict" not in html


def test_page_checks_count_against_the_verify_limit(database_url, app):
    from api import create_app

    client = create_app(
        {"DATABASE_URL": database_url, **UNLIMITED, "RATE_LIMIT_VERIFY": "2/minute"}
    ).test_client()
    for _ in range(3):
        assert page(client)[0].status_code == 200  # the bare form costs nothing
    assert page(client, text=ALTERED)[0].status_code == 200
    assert client.post("/v1/verify", json={"text": ALTERED}).status_code == 200
    response, html = page(client, text=ALTERED)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Too many checks" in html and 'role="alert"' in html
    # and the API hears of the page's checks too
    assert client.post("/v1/verify", json={"text": ALTERED}).status_code == 429


@pytest.mark.parametrize(
    ("path", "mimetype"), [("/static/page.js", "text/javascript"), ("/static/page.css", "text/css")]
)
def test_the_page_assets_are_served(client, path, mimetype):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == mimetype
