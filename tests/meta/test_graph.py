"""GraphClient against Meta's response shapes, served by httpx.MockTransport (no network)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadhub.meta.graph import (
    LEAD_FIELDS,
    GraphClient,
    GraphError,
    GraphUnavailable,
    InvalidRequest,
    PermissionDenied,
    RateLimited,
    TokenInvalid,
    from_config,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "meta"
TOKEN = "EAABpageTOKENsecret0123456789"
APP_ID = "1122334455667788"
APP_SECRET = "test_app_secret_do_not_use"
FORM_ID = "834712093847561"
PAGE_ID = "104857392011234"

Outcome = httpx.Response | Callable[[httpx.Request], httpx.Response]


def sample(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def proof(token: str, secret: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def graph_error(status: int, code: int, subcode: int | None = None, **headers: str) -> Any:
    body: dict[str, Any] = {"message": f"(#{code}) Something", "type": "OAuthException"}
    body.update(code=code, fbtrace_id="AbCdEf123")
    if subcode is not None:
        body["error_subcode"] = subcode
    return httpx.Response(status, json={"error": body}, headers=headers)


def usage_header(minutes: float) -> str:
    usage = sample("rate_limit_headers.json")["x-business-use-case-usage"]
    usage[PAGE_ID][0]["estimated_time_to_regain_access"] = minutes
    return json.dumps(usage)


def read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"cannot reach {request.url}", request=request)


class Script:
    """A MockTransport handler answering with the given outcomes in turn (the last repeats)."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        index = min(len(self.requests), len(self.outcomes)) - 1
        outcome = self.outcomes[index]
        return outcome(request) if callable(outcome) else outcome


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[Callable[..., GraphClient]]:
    clients: list[GraphClient] = []

    def make(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> GraphClient:
        settings: dict[str, Any] = {
            "base_url": "https://graph.test",
            "version": "v27.0",
            "app_id": APP_ID,
            "app_secret": APP_SECRET,
            "transport": httpx.MockTransport(handler),
            "sleep": sleeps.append,
        }
        client = GraphClient(**{**settings, **kwargs})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_every_call_is_signed_with_appsecret_proof(make_client: Callable[..., GraphClient]):
    script = Script(httpx.Response(200, json={"id": PAGE_ID}))
    make_client(script).get("me", token=TOKEN)
    params = script.requests[0].url.params
    assert params["access_token"] == TOKEN
    assert params["appsecret_proof"] == proof(TOKEN, APP_SECRET)


def test_no_appsecret_proof_without_an_app_secret(make_client: Callable[..., GraphClient]):
    script = Script(httpx.Response(200, json={"id": PAGE_ID}))
    make_client(script, app_secret=None).get("me", token=TOKEN)
    assert "appsecret_proof" not in script.requests[0].url.params


def test_base_url_and_version_are_used(make_client: Callable[..., GraphClient]):
    script = Script(httpx.Response(200, json={"id": PAGE_ID}))
    client = make_client(script, base_url="https://graph.example.com/", version="v25.0")
    client.get("/me", token=TOKEN)
    url = script.requests[0].url
    assert (url.scheme, url.host, url.path) == ("https", "graph.example.com", "/v25.0/me")


def test_from_config_reads_the_meta_settings():
    script = Script(httpx.Response(200, json={"id": PAGE_ID}))
    config = {
        "META_GRAPH_URL": "https://graph.example.org",
        "META_GRAPH_VERSION": "v26.0",
        "META_APP_ID": APP_ID,
        "META_APP_SECRET": APP_SECRET,
    }
    with from_config(config, transport=httpx.MockTransport(script)) as client:
        client.page(PAGE_ID, token=TOKEN)
    url = script.requests[0].url
    assert str(url).startswith(f"https://graph.example.org/v26.0/{PAGE_ID}?")
    assert url.params["fields"] == "id,name"
    assert url.params["appsecret_proof"] == proof(TOKEN, APP_SECRET)


def test_lead_returns_the_lead(make_client: Callable[..., GraphClient]):
    script = Script(httpx.Response(200, json=sample("lead.json")))
    lead = make_client(script).lead("1290384756102938", token=TOKEN)
    assert lead == sample("lead.json")
    request = script.requests[0]
    assert request.method == "GET"
    assert request.url.path == "/v27.0/1290384756102938"
    assert request.url.params["fields"] == LEAD_FIELDS
    assert "custom_disclaimer_responses" in LEAD_FIELDS.split(",")


def test_paginate_follows_the_after_cursor_until_paging_next_is_gone(
    make_client: Callable[..., GraphClient],
):
    first, last = sample("form_leads_page1.json"), sample("form_leads_page2.json")
    cursor = first["paging"]["cursors"]["after"]

    def pages(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        return httpx.Response(200, json=last if after == cursor else first)

    script = Script(pages)
    leads = make_client(script).paginate(f"{FORM_ID}/leads", token=TOKEN, params={"limit": 3})
    assert next(leads)["id"] == "1290384756102941"
    assert len(script.requests) == 1  # one page at a time
    rest = [lead["id"] for lead in leads]
    assert rest == ["1290384756102940", "1290384756102939", "1290384756102938", "1290384756102937"]
    assert len(script.requests) == 2
    assert "after" not in script.requests[0].url.params
    assert script.requests[1].url.params["after"] == cursor
    assert script.requests[1].url.params["limit"] == "3"


def test_form_leads_sends_the_filtering_json(make_client: Callable[..., GraphClient]):
    script = Script(httpx.Response(200, json=sample("form_leads_page2.json")))
    leads = list(make_client(script).form_leads(FORM_ID, token=TOKEN, since=1767225000))
    assert len(leads) == 2
    params = script.requests[0].url.params
    assert script.requests[0].url.path == f"/v27.0/{FORM_ID}/leads"
    assert json.loads(params["filtering"]) == [
        {"field": "time_created", "operator": "GREATER_THAN", "value": 1767225000}
    ]
    assert params["fields"] == LEAD_FIELDS
    assert params["limit"] == "100"


def test_form_leads_without_since_reads_everything(make_client: Callable[..., GraphClient]):
    script = Script(httpx.Response(200, json=sample("form_leads_page2.json")))
    list(make_client(script).form_leads(FORM_ID, token=TOKEN, limit=25))
    params = script.requests[0].url.params
    assert "filtering" not in params
    assert params["limit"] == "25"


def test_page_forms_lists_the_forms(make_client: Callable[..., GraphClient]):
    script = Script(httpx.Response(200, json=sample("leadgen_forms.json")))
    forms = list(make_client(script).page_forms(PAGE_ID, token=TOKEN))
    assert [form["status"] for form in forms] == ["ACTIVE", "ARCHIVED"]
    assert len(script.requests) == 1  # the sample has cursors but no paging.next
    request = script.requests[0]
    assert request.url.path == f"/v27.0/{PAGE_ID}/leadgen_forms"
    assert set(request.url.params["fields"].split(",")) >= {"questions", "privacy_policy_url"}


def test_subscribe_page_posts_subscribed_fields_leadgen(make_client: Callable[..., GraphClient]):
    script = Script(httpx.Response(200, json={"success": True}))
    assert make_client(script).subscribe_page(PAGE_ID, token=TOKEN) is True
    request = script.requests[0]
    assert request.method == "POST"
    assert request.url.path == f"/v27.0/{PAGE_ID}/subscribed_apps"
    assert request.url.params["subscribed_fields"] == "leadgen"
    assert request.url.params["access_token"] == TOKEN


def test_post_form_encodes_data(make_client: Callable[..., GraphClient]):
    script = Script(httpx.Response(200, json={"id": "1"}))
    make_client(script).post(f"{FORM_ID}/test_leads", token=TOKEN, data={"field_data": [{"a": 1}]})
    assert script.requests[0].content == b"field_data=%5B%7B%22a%22%3A1%7D%5D"


def test_debug_token_uses_the_app_token(make_client: Callable[..., GraphClient]):
    script = Script(httpx.Response(200, json=sample("debug_token.json")))
    data = make_client(script).debug_token(TOKEN)
    assert data == sample("debug_token.json")["data"]
    params = script.requests[0].url.params
    assert script.requests[0].url.path == "/v27.0/debug_token"
    assert params["access_token"] == f"{APP_ID}|{APP_SECRET}"
    assert params["input_token"] == TOKEN
    assert params["appsecret_proof"] == proof(f"{APP_ID}|{APP_SECRET}", APP_SECRET)


def test_debug_token_needs_the_app_credentials(make_client: Callable[..., GraphClient]):
    script = Script(httpx.Response(200, json=sample("debug_token.json")))
    with pytest.raises(InvalidRequest):
        make_client(script, app_secret=None).debug_token(TOKEN)
    assert script.requests == []


def test_server_errors_are_retried(make_client: Callable[..., GraphClient], sleeps: list[float]):
    script = Script(
        httpx.Response(500, text="oops"),
        httpx.Response(500, text="oops"),
        httpx.Response(200, json=sample("lead.json")),
    )
    assert make_client(script).lead("1290384756102938", token=TOKEN)["id"] == "1290384756102938"
    assert len(script.requests) == 3
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.5
    assert 0 <= sleeps[1] <= 1.0


def test_timeouts_and_connection_errors_are_retried(
    make_client: Callable[..., GraphClient], sleeps: list[float]
):
    script = Script(read_timeout, connect_error, httpx.Response(200, json={"id": PAGE_ID}))
    assert make_client(script).page(PAGE_ID, token=TOKEN) == {"id": PAGE_ID}
    assert len(script.requests) == 3
    assert len(sleeps) == 2


def test_transient_error_codes_are_retried(
    make_client: Callable[..., GraphClient], sleeps: list[float]
):
    script = Script(graph_error(500, 2), graph_error(400, 1), httpx.Response(200, json={"id": "1"}))
    make_client(script).get("1", token=TOKEN)
    assert len(sleeps) == 2


def test_backoff_is_capped(make_client: Callable[..., GraphClient], sleeps: list[float]):
    script = Script(httpx.Response(502))
    with pytest.raises(GraphUnavailable):
        make_client(script, max_attempts=8, backoff_base=1.0, backoff_cap=3.0).get("1", token=TOKEN)
    assert len(sleeps) == 7
    assert all(0 <= delay <= 3.0 for delay in sleeps)


def test_exhausted_retries_on_503_raise_graph_unavailable(
    make_client: Callable[..., GraphClient], sleeps: list[float]
):
    script = Script(httpx.Response(503, text="Service Unavailable"))
    with pytest.raises(GraphUnavailable) as caught:
        make_client(script, max_attempts=4).get("me", token=TOKEN)
    assert caught.value.status == 503
    assert len(script.requests) == 4
    assert len(sleeps) == 3


def test_invalid_parameter_is_not_retried(
    make_client: Callable[..., GraphClient], sleeps: list[float]
):
    script = Script(graph_error(400, 100, 33))
    with pytest.raises(InvalidRequest) as caught:
        make_client(script).lead("1290384756102938", token=TOKEN)
    assert (caught.value.status, caught.value.code, caught.value.subcode) == (400, 100, 33)
    assert len(script.requests) == 1
    assert sleeps == []


def test_expired_token_raises_token_invalid_at_once(
    make_client: Callable[..., GraphClient], sleeps: list[float]
):
    script = Script(httpx.Response(400, json=sample("error_expired_token.json")))
    with pytest.raises(TokenInvalid) as caught:
        make_client(script).lead("1290384756102938", token=TOKEN)
    error = caught.value
    assert (error.code, error.subcode, error.type) == (190, 463, "OAuthException")
    assert error.fbtrace_id == "AzQ7x1cPq9LmN2vB8rT0kYe"
    assert error.message.startswith("Error validating access token")
    assert isinstance(error, GraphError)
    assert len(script.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize("code", [10, 200, 299])
def test_permission_errors_are_not_retried(
    make_client: Callable[..., GraphClient], sleeps: list[float], code: int
):
    script = Script(graph_error(403, code))
    with pytest.raises(PermissionDenied):
        list(make_client(script).page_forms(PAGE_ID, token=TOKEN))
    assert len(script.requests) == 1
    assert sleeps == []


def test_long_rate_limit_block_raises_without_sleeping(
    make_client: Callable[..., GraphClient], sleeps: list[float]
):
    headers = {"x-business-use-case-usage": usage_header(7)}
    script = Script(httpx.Response(400, json=sample("error_rate_limit.json"), headers=headers))
    with pytest.raises(RateLimited) as caught:
        make_client(script, backoff_cap=60.0).lead("1290384756102938", token=TOKEN)
    assert caught.value.retry_after == 420
    assert caught.value.code == 80005
    assert len(script.requests) == 1
    assert sleeps == []


def test_rate_limit_without_estimate_backs_off_then_succeeds(
    make_client: Callable[..., GraphClient], sleeps: list[float]
):
    headers = {"x-business-use-case-usage": usage_header(0)}
    script = Script(
        httpx.Response(400, json=sample("error_rate_limit.json"), headers=headers),
        httpx.Response(200, json=sample("lead.json")),
    )
    assert make_client(script).lead("1290384756102938", token=TOKEN) == sample("lead.json")
    assert len(script.requests) == 2
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.5


def test_short_rate_limit_block_waits_the_estimate(
    make_client: Callable[..., GraphClient], sleeps: list[float]
):
    headers = {"x-business-use-case-usage": usage_header(0.5), "x-app-usage": "not json"}
    script = Script(graph_error(400, 80005, **headers), httpx.Response(200, json={"id": "1"}))
    make_client(script, backoff_cap=60.0).get("1", token=TOKEN)
    assert sleeps == [30.0]


def test_app_usage_estimate_counts_too(
    make_client: Callable[..., GraphClient], sleeps: list[float]
):
    usage = json.dumps({"call_count": 100, "estimated_time_to_regain_access": 2})
    script = Script(graph_error(400, 4, **{"x-app-usage": usage}))
    with pytest.raises(RateLimited) as caught:
        make_client(script).get("1", token=TOKEN)
    assert caught.value.retry_after == 120
    assert sleeps == []


def test_rate_limit_exhausting_retries_says_when_to_come_back(
    make_client: Callable[..., GraphClient], sleeps: list[float]
):
    script = Script(graph_error(400, 17))
    with pytest.raises(RateLimited) as caught:
        make_client(script, max_attempts=3, backoff_cap=45.0).get("1", token=TOKEN)
    assert caught.value.retry_after == 45.0
    assert len(script.requests) == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize("bad_id", ["../me/accounts", "1?fields=access_token", "{leadgen_id}", ""])
def test_ids_cannot_leave_their_node(make_client: Callable[..., GraphClient], bad_id: str):
    script = Script(httpx.Response(200, json={}))
    with pytest.raises(InvalidRequest):
        make_client(script).lead(bad_id, token=TOKEN)
    assert script.requests == []


@pytest.mark.parametrize("path", ["https://evil.example/steal", "me/../..", "me?debug=all"])
def test_the_token_only_goes_to_the_graph_api(make_client: Callable[..., GraphClient], path: str):
    script = Script(httpx.Response(200, json={}))
    with pytest.raises(InvalidRequest):
        make_client(script).get(path, token=TOKEN)
    assert script.requests == []


def test_a_protocol_relative_path_stays_under_the_version(
    make_client: Callable[..., GraphClient],
):
    script = Script(httpx.Response(200, json={}))
    make_client(script).get("//evil.example/x", token=TOKEN)
    url = script.requests[0].url
    assert (url.host, url.path) == ("graph.test", "/v27.0/evil.example/x")


def test_missing_token_means_reauthorise(make_client: Callable[..., GraphClient]):
    script = Script(httpx.Response(200, json={}))
    with pytest.raises(TokenInvalid):
        make_client(script).page(PAGE_ID, token="")
    assert script.requests == []


def test_secrets_never_reach_errors_or_logs(
    make_client: Callable[..., GraphClient], caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    echo = httpx.Response(400, json={"error": {"message": f"bad token {TOKEN}", "code": 190}})
    script = Script(
        httpx.Response(200, json=sample("debug_token.json")),
        httpx.Response(200, json={"id": PAGE_ID}),
        connect_error,
        connect_error,
        echo,
    )
    client = make_client(script, max_attempts=2)
    client.debug_token(TOKEN)
    client.page(PAGE_ID, token=TOKEN)
    errors: list[GraphError] = []
    for _ in range(2):
        with pytest.raises(GraphError) as caught:
            client.page(PAGE_ID, token=TOKEN)
        errors.append(caught.value)
    assert isinstance(errors[0], GraphUnavailable)
    assert isinstance(errors[1], TokenInvalid)
    assert "HTTP Request" in caplog.text  # httpx's own line is captured, minus its query string
    assert f"graph GET {PAGE_ID} -> 200" in caplog.text
    assert any(record.levelno == logging.WARNING for record in caplog.records)
    secrets = (TOKEN, APP_SECRET, proof(TOKEN, APP_SECRET), "access_token=")
    texts = [caplog.text, repr(client)]
    texts += [text for error in errors for text in (str(error), repr(error), error.message)]
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_errors_survive_a_round_trip_through_pickle():
    error = RateLimited("slow down", retry_after=420, status=400, code=80005)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (copy.retry_after, copy.code, copy.status) == (420, 80005, 400)
    assert copy.message == "slow down"
    assert str(copy) == str(error)


def test_context_manager_closes_the_client():
    script = Script(httpx.Response(200, json={}))
    with GraphClient(
        base_url="https://graph.test",
        version="v27.0",
        app_id=None,
        app_secret=None,
        transport=httpx.MockTransport(script),
    ) as client:
        assert repr(client) == "GraphClient(base_url='https://graph.test/v27.0/', app_id=None)"
    assert client._http.is_closed
