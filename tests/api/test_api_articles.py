"""POST /v1/articles (text and URL mode), GET /v1/articles[/<id>], review and provenance.

URL mode fetches from a real HTTP server on 127.0.0.1, which only an app built with the
test-only FETCH_ALLOW_PRIVATE may reach; the default app refuses it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import keyed_client, loopback_site
from test_api_errors import assert_problem

from quotes_db.seeding import SEED_FILE

SEED_ARTICLE = (SEED_FILE.parent / "taliban-equipment-article.txt").read_text(encoding="utf-8")
SEED_REF = "seed:taliban-equipment-rally"

LIBRARIES = "We will open three new public libraries across the city next year"
MAYOR_ARTICLE = (
    "The council met on Tuesday to discuss the budget.\n"
    f"“{LIBRARIES},” Mayor Jane Doe said at the meeting.\n"
    "An unnamed spokeswoman said, “The libraries will open on schedule next spring.”\n"
)
PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Libraries for every district</title>
<meta property="og:site_name" content="The Local Courier"></head>
<body><article><h1>Libraries for every district</h1>
<p>The council met on Tuesday to discuss the budget for the coming year, and the
mayor had news for residents who had waited years for new public services.</p>
<p>“{LIBRARIES},” Mayor Jane Doe said at the meeting, to applause from the gallery.</p>
<p>Residents welcomed the plan, which follows years of cuts to public services and long
waiting lists at the two libraries the city still runs.</p>
</article></body></html>
"""


@pytest.fixture
def client(writer):
    """Ingesting and reviewing are writes: every request here carries a write key."""
    return writer


def ingest(client, **body):
    return client.post("/v1/articles", json=body)


def total_articles(client) -> int:
    return client.get("/v1/articles").get_json()["total"]


def total_quotes(client) -> int:
    return client.get("/readyz").get_json()["quotes"]


# text mode ---------------------------------------------------------------------------------


def test_seed_article_is_an_appearance_of_the_seed_quote(client):
    response = ingest(client, text=SEED_ARTICLE, title="Taliban rejects demand")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    article = body["article"]
    assert response.headers["Location"] == f"/v1/articles/{article['id']}"
    assert article["text_length"] == len(SEED_ARTICLE)
    assert article["title"] == "Taliban rejects demand"
    assert set(article) == {
        "id", "url", "title", "publisher", "published_at", "created_at", "text_length",
    }  # fmt: skip
    assert body["dry_run"] is False

    [found] = body["quotes"]
    assert found["speaker"] == "Donald Trump"
    assert found["speaker_mention"] == "Trump"
    assert found["outcome"] == "appearance"
    assert found["verdict"] == "verified"
    assert SEED_ARTICLE[found["start"] : found["end"]] == found["text"]
    quote = found["quote"]
    assert quote["ref"] == SEED_REF
    assert quote["review"] == "approved"
    # the seed's own source stays first; the article is a later appearance, with its span
    assert quote["first_appearance"]["title"].startswith("Seed article")
    assert quote["appearances"][-1] == {
        "title": "Taliban rejects demand", "url": None, "publisher": None,
        "published_at": None, "article_id": article["id"],
        "start": found["start"], "end": found["end"],
    }  # fmt: skip
    # the stored quote shows it too, everywhere quotes are shown
    assert (
        client.get(f"/v1/quotes/{quote['id']}").get_json()["appearances"] == (quote["appearances"])
    )
    verified = client.post("/v1/verify", json={"text": found["text"]}).get_json()
    assert verified["matches"][0]["quote"]["appearances"] == quote["appearances"]


def test_the_same_article_again_is_known(client):
    first = ingest(client, text=SEED_ARTICLE).get_json()
    again = ingest(client, text=SEED_ARTICLE)
    assert again.status_code == 200
    assert "Location" not in again.headers
    assert again.get_json()["article"]["id"] == first["article"]["id"]
    assert total_articles(client) == 1
    # the appearance is recorded once
    quote = client.get("/v1/quotes/1").get_json()
    assert [a["article_id"] for a in quote["appearances"]].count(first["article"]["id"]) == 1


def test_a_new_quote_is_pending_until_a_curator_approves_it(client):
    quotes_before = total_quotes(client)
    body = ingest(client, text=MAYOR_ARTICLE, url="https://example.org/libraries").get_json()
    by_outcome = {q["outcome"]: q for q in body["quotes"]}
    assert set(by_outcome) == {"new", "unattributed"}
    new, nobody = by_outcome["new"], by_outcome["unattributed"]
    assert new["speaker"] == "Jane Doe"
    assert new["verdict"] == "no_match"
    assert new["quote"]["review"] == "pending"
    assert new["quote"]["speaker"]["name"] == "Jane Doe"
    assert new["quote"]["first_appearance"]["url"] == "https://example.org/libraries"
    # a quotation credited to no one is reported, never stored under a guess
    assert nobody["speaker"] is None and nobody["quote"] is None
    assert total_quotes(client) == quotes_before + 1

    # pending quotes never verify a text; asked for, they are shown apart
    plain = client.post("/v1/verify", json={"text": LIBRARIES}).get_json()
    assert plain["verdict"] == "no_match"
    assert plain["pending_matches"] == []
    asked = client.post("/v1/verify", json={"text": LIBRARIES, "include_pending": True})
    asked = asked.get_json()
    assert asked["verdict"] == "no_match"
    assert asked["matches"] == []
    [pending] = asked["pending_matches"]
    assert pending["quote"]["id"] == new["quote"]["id"]
    assert pending["quote"]["review"] == "pending"
    batch = client.post(
        "/v1/verify/batch", json={"items": [{"text": LIBRARIES}], "include_pending": True}
    ).get_json()
    assert batch["results"][0]["pending_matches"][0]["quote"]["id"] == new["quote"]["id"]

    # a curator approves it: now it is the record
    quote_id = new["quote"]["id"]
    approved = client.patch(f"/v1/quotes/{quote_id}", json={"review": "approved"})
    assert approved.status_code == 200
    assert approved.get_json()["review"] == "approved"
    result = client.post("/v1/verify", json={"text": LIBRARIES, "speaker": "Mayor Doe"})
    result = result.get_json()
    assert result["verdict"] == "verified"
    assert result["matches"][0]["quote"]["id"] == quote_id


def test_a_rejected_quote_never_matches(client):
    body = ingest(client, text=MAYOR_ARTICLE).get_json()
    quote_id = next(q["quote"]["id"] for q in body["quotes"] if q["outcome"] == "new")
    assert client.patch(f"/v1/quotes/{quote_id}", json={"review": "rejected"}).status_code == 200
    result = client.post("/v1/verify", json={"text": LIBRARIES, "include_pending": True})
    assert result.get_json()["matches"] == result.get_json()["pending_matches"] == []


def test_review_on_create_and_with_other_fields(client):
    created = client.post(
        "/v1/quotes", json={"text": "Some words to review", "speaker": "X", "review": "pending"}
    )
    assert created.status_code == 201
    assert created.get_json()["review"] == "pending"
    default = client.post("/v1/quotes", json={"text": "Other words here", "speaker": "X"})
    assert default.get_json()["review"] == "approved"
    quote_id = created.get_json()["id"]
    both = client.patch(f"/v1/quotes/{quote_id}", json={"review": "approved", "context": "c"})
    assert (both.get_json()["review"], both.get_json()["context"]) == ("approved", "c")


def test_dry_run_stores_nothing(client):
    articles, quotes = total_articles(client), total_quotes(client)
    for text in (SEED_ARTICLE, MAYOR_ARTICLE):
        response = ingest(client, text=text, dry_run=True, url="https://example.org/a")
        assert response.status_code == 200
        body = response.get_json()
        assert body["dry_run"] is True
        assert body["article"] == {
            "url": "https://example.org/a", "title": None, "publisher": None,
            "published_at": None,
        }  # fmt: skip
        assert body["quotes"]
    assert body["quotes"][0]["outcome"] == "new"
    assert body["quotes"][0]["quote"] is None
    assert (total_articles(client), total_quotes(client)) == (articles, quotes)
    assert client.get("/v1/quotes/1").get_json()["appearances"][-1]["article_id"] is None


def test_article_without_quotations(client):
    body = ingest(client, text="Nothing anyone said is quoted in this text.").get_json()
    assert body["quotes"] == []
    assert body["article"]["id"] >= 1


def test_published_at_is_a_date(client):
    body = ingest(client, text=MAYOR_ARTICLE, published_at="2024-03-01").get_json()
    assert body["article"]["published_at"] == "2024-03-01"
    new = next(q for q in body["quotes"] if q["outcome"] == "new")
    assert new["quote"]["first_appearance"]["published_at"] == "2024-03-01"


# reading articles --------------------------------------------------------------------------


def test_list_articles_newest_first_without_text(client):
    first = ingest(client, text=SEED_ARTICLE).get_json()["article"]
    second = ingest(client, text=MAYOR_ARTICLE).get_json()["article"]
    page = client.get("/v1/articles?limit=1").get_json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 1, 0)
    assert page["items"] == [second]
    assert "text" not in page["items"][0]
    assert client.get("/v1/articles?offset=1").get_json()["items"] == [first]


def test_get_article_with_its_text_and_quotes(client):
    article = ingest(client, text=SEED_ARTICLE, publisher="Seed").get_json()["article"]
    response = client.get(f"/v1/articles/{article['id']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["text"] == SEED_ARTICLE
    assert {k: body[k] for k in article} == article
    [entry] = body["quotes"]
    assert set(entry) == {"start", "end", "quote"}
    assert entry["quote"]["ref"] == SEED_REF
    assert SEED_ARTICLE[entry["start"] : entry["end"]].startswith("If we’re going to pay")


def test_unknown_article_is_404(client):
    body = assert_problem(client.get("/v1/articles/999999"), 404)
    assert "999999" in body["detail"]


# URL mode: a real HTTP server on the loopback interface -------------------------------------


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    pages = {
        "/libraries.html": (PAGE.encode(), "text/html; charset=utf-8"),
        "/empty.html": (b"<html><body></body></html>", "text/html"),
        "/image.png": (b"\x89PNG", "image/png"),
    }
    with loopback_site(pages, delays={"/slow": 2}) as base:
        yield base


@pytest.fixture
def fetching_client(app, database_url: str, write_key: str):
    """A client of an app on the same database that may fetch from 127.0.0.1 (tests only)."""
    from api import create_app

    fetching = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "FETCH_ALLOW_PRIVATE": True,
            "FETCH_READ_TIMEOUT": 0.3,
            "FETCH_TOTAL_TIMEOUT": 1.5,
        }
    )
    return keyed_client(fetching, write_key)


def test_fetch_an_article_by_url(fetching_client, site):
    url = f"{site}/libraries.html"
    response = ingest(fetching_client, url=url)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    article = body["article"]
    assert article["url"] == url
    assert article["title"] == "Libraries for every district"
    assert article["publisher"] == "The Local Courier"
    [found] = body["quotes"]
    assert (found["speaker"], found["outcome"]) == ("Jane Doe", "new")
    assert found["quote"]["first_appearance"]["url"] == url
    stored = fetching_client.get(f"/v1/articles/{article['id']}").get_json()
    assert LIBRARIES in stored["text"]
    assert stored["text"][found["start"] : found["end"]] == found["text"]
    # the same URL again is the same article
    again = ingest(fetching_client, url=url)
    assert again.status_code == 200
    assert again.get_json()["article"]["id"] == article["id"]


def test_fetch_with_metadata_given_and_dry_run(fetching_client, site):
    body = ingest(
        fetching_client, url=f"{site}/libraries.html", title="Given title", dry_run=True
    ).get_json()
    assert body["article"]["title"] == "Given title"
    assert body["article"]["publisher"] == "The Local Courier"
    assert body["quotes"][0]["outcome"] == "new"
    assert total_articles(fetching_client) == 0


def test_text_mode_never_fetches(client, site):
    # the default app may not reach 127.0.0.1, but a url beside text is only metadata
    response = ingest(client, text=MAYOR_ARTICLE, url=f"{site}/libraries.html")
    assert response.status_code == 201
    assert response.get_json()["article"]["url"] == f"{site}/libraries.html"


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/missing", 502, "404"),
        ("/slow", 504, "timed out"),
        ("/image.png", 422, "image/png"),
        ("/empty.html", 422, "No article text"),
    ],
)
def test_fetch_failures_are_problems(fetching_client, site, path, status, words):
    body = assert_problem(ingest(fetching_client, url=f"{site}{path}"), status)
    assert words in body["detail"]
    if status == 422:
        assert body["errors"]["url"]
    assert total_articles(fetching_client) == 0


def test_fetch_closed_port_is_502(fetching_client):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert_problem(ingest(fetching_client, url=f"http://127.0.0.1:{port}/"), 502)


def test_article_too_long_when_fetched(app, database_url, site, write_key):
    from api import create_app

    small_app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "FETCH_ALLOW_PRIVATE": True,
            "ARTICLE_MAX_CHARS": 100,
        }
    )
    small = keyed_client(small_app, write_key)
    body = assert_problem(ingest(small, url=f"{site}/libraries.html"), 422)
    assert "longer than 100 characters" in body["errors"]["url"][0]


@pytest.mark.parametrize(
    "url",
    [
        None,  # the test server itself: loopback
        "http://2130706433/",  # 127.0.0.1 spelled as one integer
        "http://[::1]/",
        "http://0x7f.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    ],
)
def test_default_app_refuses_private_addresses(client, site, url):
    response = ingest(client, url=url or f"{site}/libraries.html")
    body = assert_problem(response, 422)
    assert "not fetched" in body["errors"]["url"][0]
    assert total_articles(client) == 0
