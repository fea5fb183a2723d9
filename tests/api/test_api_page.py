"""The web page at /: the form, a check rendered on the server, its problems and limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from conftest import SEED_QUOTE, UNLIMITED, loopback_site

from api.views.page import percent

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
    assert f"Confidence: <strong>{percent(api['confidence'])}</strong>" in html
    # the share link is the check's own URL
    link = re.search(r'class="share-link" href="([^"]+)"', html)
    assert link, "no share link"
    shared = urlsplit(unescape(link.group(1)))
    assert shared.path == "/" and dict(parse_qsl(shared.query)) == params


@pytest.mark.parametrize(
    ("confidence", "shown"),
    [(0.5, "50%"), (0.984, "98%"), (0.9899, "99%"), (0.99, "99.0%"), (0.9974, "99.7%")]
    + [(0.99999, "99.9%"), (1.0, "100%")],
)
def test_a_confidence_is_never_rounded_up_to_certainty(confidence, shown):
    assert percent(confidence) == shown


def test_the_page_shows_a_high_confidence_below_certainty(client):
    _, html = page(client, text="The Taliban will return all equipment next week.")
    assert verdict_of(html) == "no_match"
    shown = re.search(r"Confidence: <strong>([0-9.]+)%</strong>", html)
    assert shown and float(shown.group(1)) < 100


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


# a page's address: fetched by a real HTTP server on the loopback interface ------------------

NEWS = f"""<!doctype html><html lang="en"><head><title>Trump at the rally</title>
<meta name="author" content="Test Reporter"></head><body><article>
<h1>Trump at the rally</h1>
<p>Donald Trump spoke to supporters for an hour on Saturday evening in a crowded hall,
and returned several times to the equipment left behind in Afghanistan.</p>
<p>\u201c{ALTERED},\u201d Trump said during his rally, to loud applause.</p>
<p>The crowd cheered. \u201cBananas are the currency of the future and we know it,\u201d said
Jane Example, a supporter who travelled from Ohio to hear him speak.</p>
<p>Organisers said more rallies would follow in the coming weeks across the region.</p>
</article></body></html>"""


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with loopback_site({"/news.html": (NEWS.encode(), "text/html; charset=utf-8")}) as base:
        yield base


@pytest.fixture
def fetching(database_url, app):
    """A client of an app that may fetch from 127.0.0.1 (tests only)."""
    from api import create_app

    config = {"DATABASE_URL": database_url, **UNLIMITED, "FETCH_ALLOW_PRIVATE": True}
    return create_app({**config, "FETCH_TOTAL_TIMEOUT": 3.0}).test_client()


# a separate address field, or an address typed as the text
@pytest.mark.parametrize("field", ["url", "text"])
def test_a_page_address_checks_every_quotation_on_it(fetching, site, field):
    response, html = page(fetching, **{field: f"{site}/news.html"})
    assert response.status_code == 200
    assert "Quotations on this page" in html and "Trump at the rally" in html
    verdicts = re.findall(r'data-verdict="([a-z_]+)"', html)
    assert verdicts == ["altered", "no_match"]
    assert "Not in our records" in html
    # each quotation links to its own full check
    assert 'href="/?text=If+we' in html or 'href="/?text=If%20we' in html


# (address, status, words): refused before any request, or the site failed us
FETCH_PROBLEMS = [
    ("ftp://example.org/page", 422, "http:// or https://"),
    ("/news.html", 422, "http:// or https://"),
    ("http://127.0.0.1:9/nothing", 502, "could not be read"),
]


@pytest.mark.parametrize(("address", "status", "words"), FETCH_PROBLEMS)
def test_page_address_problems(fetching, address, status, words):
    response, html = page(fetching, url=address)
    assert response.status_code == status
    assert 'role="alert"' in html and words in html


def test_the_default_app_never_fetches_loopback(client, site):
    # the articles' SSRF rules hold on the page: no request to a private address
    response, html = page(client, url=f"{site}/news.html")
    assert response.status_code == 422
    assert "could not be read" in html


def test_both_words_and_an_address_is_a_problem(fetching, site):
    response, html = page(fetching, text=ALTERED, url=f"{site}/news.html")
    assert response.status_code == 422
    assert "either" in html
