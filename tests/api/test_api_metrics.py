"""GET /metrics in one process: requests by route and status, latency, verdicts."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

SEED_TEXT = (
    "If we're going to pay billions of dollars a year, tell them we're not going to give "
    "them the money unless they give back our military equipment"
)


def samples(client) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics by (name, labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def value(found, name, **labels) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


REQUESTS = "quotecheck_http_requests_total"


def test_requests_are_counted_by_route_template_and_status(client):
    before = samples(client)
    for quote_id in (1, 2, 3):
        assert client.get(f"/v1/quotes/{quote_id}").status_code == 200
    assert client.get("/v1/quotes/999999").status_code == 404
    assert client.get("/no/such/path").status_code == 404
    assert client.post("/v1/quotes", json={}).status_code == 401
    after = samples(client)

    def delta(**labels):
        return value(after, REQUESTS, **labels) - value(before, REQUESTS, **labels)

    route = "/v1/quotes/<quote_id>"  # the rule, never the raw path
    assert delta(route=route, method="GET", status="200") == 3
    assert delta(route=route, method="GET", status="404") == 1
    assert delta(route="<unmatched>", method="GET", status="404") == 1
    assert delta(route="/v1/quotes", method="POST", status="401") == 1
    assert not any("/v1/quotes/1" in dict(labels).get("route", "") for _, labels in after)
    count = "quotecheck_http_request_duration_seconds_count"
    latency = value(after, count, route=route, method="GET") - value(
        before, count, route=route, method="GET"
    )
    assert latency == 4


def test_verdicts_are_counted_for_verify_and_batch(client):
    before = samples(client)
    assert client.post("/v1/verify", json={"text": SEED_TEXT}).status_code == 200
    batch = {"items": [{"text": SEED_TEXT}, {"text": "Completely unrelated words about cheese"}]}
    assert client.post("/v1/verify/batch", json=batch).status_code == 200
    after = samples(client)
    name = "quotecheck_verdicts_total"

    def delta(**labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta(verdict="verified", endpoint="verify") == 1
    assert delta(verdict="verified", endpoint="batch") == 1
    assert delta(verdict="no_match", endpoint="batch") == 1


def test_invented_methods_do_not_grow_the_labels(client):
    before = samples(client)
    client.open("/healthz", method="BREW")
    after = samples(client)
    labels = {"route": "<unmatched>", "method": "OTHER", "status": "405"}  # 405: no rule matched
    assert value(after, REQUESTS, **labels) - value(before, REQUESTS, **labels) == 1
    assert not any(dict(labels).get("method") == "BREW" for _, labels in after)
