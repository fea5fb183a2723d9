"""/v1/quotes: listing, search, create, read, change and delete."""

from __future__ import annotations

import pytest

NEW_QUOTE = {
    "text": "The only thing we have to fear is fear itself.",
    "speaker": "Franklin D. Roosevelt",
    "ref": "test:fdr-fear",
    "said_at": "1933-03-04",
    "context": "First Inaugural Address",
    "source": {"title": "First Inaugural Address", "url": "https://example.org/fdr"},
    "tags": ["test", "speech", "test"],
}


@pytest.fixture
def client(admin):
    """These tests create, change and delete quotes: an admin key on every request."""
    return admin


def _create(client, **overrides):
    response = client.post("/v1/quotes", json={**NEW_QUOTE, **overrides})
    assert response.status_code == 201, response.get_json()
    return response


def test_list_quotes_page(client, seeded_store):
    total = seeded_store.count_quotes()
    body = client.get("/v1/quotes?limit=5&offset=2").get_json()
    assert body["total"] == total
    assert (body["limit"], body["offset"]) == (5, 2)
    assert len(body["items"]) == 5
    ids = [q["id"] for q in body["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    first = client.get("/v1/quotes").get_json()
    assert (first["limit"], first["offset"]) == (20, 0)
    assert len(first["items"]) == min(20, total)


@pytest.mark.parametrize("speaker", ["Donald Trump", "donald trump", "  DONALD   TRUMP "])
def test_list_quotes_by_speaker_name_any_case(client, speaker):
    body = client.get("/v1/quotes", query_string={"speaker": speaker}).get_json()
    assert body["total"] >= 1
    assert {q["speaker"]["name"] for q in body["items"]} == {"Donald Trump"}


def test_list_quotes_by_speaker_alias(client):
    speaker_id = _speaker_id(client, "Donald Trump")
    client.patch(f"/v1/speakers/{speaker_id}", json={"aliases": ["The Donald"]})
    body = client.get("/v1/quotes", query_string={"speaker": "the donald"}).get_json()
    assert body["total"] >= 1
    assert {q["speaker"]["id"] for q in body["items"]} == {speaker_id}


def test_list_quotes_unknown_speaker_is_empty(client):
    body = client.get("/v1/quotes", query_string={"speaker": "Nobody Atall"}).get_json()
    assert body == {"items": [], "total": 0, "limit": 20, "offset": 0}


def test_list_quotes_by_speaker_id_and_words(client):
    speaker_id = _speaker_id(client, "Abraham Lincoln")
    body = client.get(
        "/v1/quotes", query_string={"speaker_id": speaker_id, "q": "Four SCORE"}
    ).get_json()
    assert body["total"] == 1
    assert body["items"][0]["text"].startswith("Four score and seven years ago")
    # every word must occur
    body = client.get("/v1/quotes", query_string={"q": "score taliban"}).get_json()
    assert body["total"] == 0


def test_create_quote(client):
    response = _create(client)
    quote = response.get_json()
    assert response.headers["Location"] == f"/v1/quotes/{quote['id']}"
    assert quote["text"] == NEW_QUOTE["text"]
    assert quote["speaker"]["name"] == "Franklin D. Roosevelt"
    assert quote["said_at"] == "1933-03-04"
    assert quote["source"] == {
        "title": "First Inaugural Address",
        "url": "https://example.org/fdr",
        "publisher": None,
        "published_at": None,
    }
    assert quote["tags"] == ["test", "speech"]  # duplicates dropped, order kept
    assert quote["created_at"] and quote["updated_at"]
    assert client.get(response.headers["Location"]).get_json() == quote
    # and it can be verified at once
    result = client.post("/v1/verify", json={"text": NEW_QUOTE["text"]}).get_json()
    assert result["verdict"] == "verified"
    assert result["matches"][0]["quote"]["id"] == quote["id"]


def test_create_quote_minimal(client):
    response = client.post("/v1/quotes", json={"text": "Ask not, ever.", "speaker": "Someone"})
    assert response.status_code == 201
    quote = response.get_json()
    assert quote["ref"] is None and quote["said_at"] is None and quote["source"] is None
    assert quote["tags"] == [] and quote["context"] is None


def test_get_quote(client):
    quote = client.get("/v1/quotes?limit=1").get_json()["items"][0]
    assert client.get(f"/v1/quotes/{quote['id']}").get_json() == quote


def test_patch_quote(client):
    created = _create(client).get_json()
    url = f"/v1/quotes/{created['id']}"
    response = client.patch(
        url,
        json={
            "text": "The only thing we have to fear is fear itself!",
            "speaker": "FDR",
            "ref": None,
            "said_at": None,
            "source": {"publisher": "Example Press", "published_at": "1933-03-05"},
            "tags": ["edited"],
        },
    )
    assert response.status_code == 200, response.get_json()
    quote = response.get_json()
    assert quote["text"].endswith("itself!")
    assert quote["speaker"]["name"] == "FDR"
    assert quote["ref"] is None and quote["said_at"] is None
    assert quote["context"] == NEW_QUOTE["context"]  # untouched
    assert quote["source"] == {
        "title": None,
        "url": None,
        "publisher": "Example Press",
        "published_at": "1933-03-05",
    }
    assert quote["tags"] == ["edited"]
    assert quote["updated_at"] >= created["updated_at"]
    assert client.get(url).get_json() == quote


def test_patch_quote_clears_source_and_empty_patch_changes_nothing(client):
    created = _create(client).get_json()
    url = f"/v1/quotes/{created['id']}"
    assert client.patch(url, json={}).get_json() == created
    assert client.patch(url, json={"source": None}).get_json()["source"] is None


def test_delete_quote(client):
    url = _create(client).headers["Location"]
    response = client.delete(url)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert client.get(url).status_code == 404


def _speaker_id(client, name):
    body = client.get("/v1/speakers", query_string={"q": name}).get_json()
    return next(s["id"] for s in body["items"] if s["name"] == name)
