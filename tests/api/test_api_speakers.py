"""/v1/speakers: listing, search, read and change."""

from __future__ import annotations

import pytest


@pytest.fixture
def client(writer):
    """Renaming a speaker is a write: a write key on every request."""
    return writer


def test_list_speakers(client):
    body = client.get("/v1/speakers").get_json()
    assert body["total"] >= 2
    assert (body["limit"], body["offset"]) == (20, 0)
    names = [s["name"] for s in body["items"]]
    assert names == sorted(names, key=str.casefold)
    assert set(body["items"][0]) == {"id", "name", "aliases", "quote_count"}
    page = client.get("/v1/speakers?limit=1&offset=1").get_json()
    assert page["items"] == body["items"][1:2]


def test_list_speakers_by_name_part(client):
    body = client.get("/v1/speakers", query_string={"q": "LINCO"}).get_json()
    assert [s["name"] for s in body["items"]] == ["Abraham Lincoln"]
    assert body["items"][0]["quote_count"] >= 1


def test_get_speaker(client):
    listed = client.get("/v1/speakers", query_string={"q": "trump"}).get_json()["items"][0]
    assert client.get(f"/v1/speakers/{listed['id']}").get_json() == listed


def test_patch_speaker(client):
    speaker = client.get("/v1/speakers", query_string={"q": "trump"}).get_json()["items"][0]
    url = f"/v1/speakers/{speaker['id']}"
    response = client.patch(url, json={"aliases": ["DJT", "The Donald"]})
    assert response.status_code == 200
    assert response.get_json()["aliases"] == ["DJT", "The Donald"]
    renamed = client.patch(url, json={"name": "Donald J. Trump"}).get_json()
    assert renamed["name"] == "Donald J. Trump"
    assert renamed["aliases"] == ["DJT", "The Donald"]
    assert renamed["quote_count"] == speaker["quote_count"]
    # the alias now counts as an agreeing attribution
    text = (
        "If we're going to pay billions of dollars a year, tell them we're not going to "
        "give them the money unless they give back our military equipment"
    )
    result = client.post("/v1/verify", json={"text": text, "speaker": "DJT"}).get_json()
    assert result["verdict"] == "verified"
    assert result["attribution"] == {
        "claimed": "DJT",
        "recorded": "Donald J. Trump",
        "agrees": True,
    }
