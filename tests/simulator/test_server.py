"""The simulated Graph API answers in the shapes of the sample files, with Meta's auth rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from leadhub.simulator import Page, World, create_app
from tests.simulator.conftest import VERSION, sample

LEAD_QUERY = (
    "id,created_time,ad_id,ad_name,adset_id,adset_name,campaign_id,campaign_name,form_id,"
    "is_organic,platform,field_data,custom_disclaimer_responses"
)
PAGE_QUERY = (
    "id,created_time,ad_id,ad_name,adset_id,campaign_id,form_id,is_organic,platform,field_data"
)
Auth = Callable[..., dict[str, str]]


def error_of(response: httpx.Response) -> dict:
    assert response.status_code == 400, response.text
    return response.json()["error"]


def test_lead_matches_sample(graph: httpx.Client, auth: Auth, world: World, fb_page: Page) -> None:
    form = world.forms(fb_page.id)[0]
    lead = world.add_leads(1, form.id, organic=False)[0]
    response = graph.get(f"/{VERSION}/{lead.id}", params=auth(fb_page, fields=LEAD_QUERY))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    body, expected = response.json(), sample("lead.json")
    assert list(body) == list(expected)
    assert body["id"] == lead.id and body["form_id"] == form.id and body["is_organic"] is False
    datetime.strptime(body["created_time"], "%Y-%m-%dT%H:%M:%S%z")
    assert all(item.keys() == {"name", "values"} for item in body["field_data"])
    assert all(isinstance(item["values"], list) for item in body["field_data"])
    for item in body["custom_disclaimer_responses"]:
        assert item.keys() == {"checkbox_key", "is_checked"} and item["is_checked"] in ("1", "")
    assert response.text.isascii(), "non-ASCII is escaped like graph.facebook.com does"


def test_lead_fields_are_honoured(
    graph: httpx.Client, auth: Auth, world: World, fb_page: Page
) -> None:
    lead = world.add_leads(1, world.forms(fb_page.id)[0].id, organic=True)[0]
    url = f"/{VERSION}/{lead.id}"
    assert graph.get(url, params=auth(fb_page, fields="form_id,platform")).json() == {
        "form_id": lead.form_id,
        "platform": "fb",
        "id": lead.id,
    }
    organic = graph.get(url, params=auth(fb_page, fields=LEAD_QUERY)).json()
    assert not {"ad_id", "ad_name", "adset_id", "campaign_id"} & organic.keys()
    assert organic["is_organic"] is True
    assert set(graph.get(url, params=auth(fb_page)).json()) == {"id", "created_time", "field_data"}
    bad = error_of(graph.get(url, params=auth(fb_page, fields="id,nope")))
    assert bad["code"] == 100 and "(nope)" in bad["message"]


def test_paging_three_pages_with_filtering(
    graph: httpx.Client, auth: Auth, world: World, fb_page: Page
) -> None:
    form = world.forms(fb_page.id)[0]
    start = 1767225600
    world.add_leads(1, form.id, start - 100)
    inside = [world.add_leads(1, form.id, start + i)[0] for i in range(8)]
    filtering = json.dumps(
        [{"field": "time_created", "operator": "GREATER_THAN", "value": start - 1}]
    )
    response = graph.get(
        f"/{VERSION}/{form.id}/leads",
        params=auth(fb_page, fields=PAGE_QUERY, filtering=filtering, limit=3),
    )
    pages = [response.json()]
    while "next" in pages[-1]["paging"]:
        pages.append(graph.get(pages[-1]["paging"]["next"]).json())
    assert [len(p["data"]) for p in pages] == [3, 3, 2]
    first_sample, last_sample = sample("form_leads_page1.json"), sample("form_leads_page2.json")
    assert pages[0].keys() == first_sample.keys()
    assert pages[0]["paging"].keys() == first_sample["paging"].keys()
    assert pages[-1]["paging"].keys() == last_sample["paging"].keys()
    assert pages[0]["paging"]["cursors"].keys() == {"before", "after"}
    assert all(p["data"][0].keys() <= first_sample["data"][0].keys() for p in pages)
    got = [lead["id"] for p in pages for lead in p["data"]]
    assert got == [lead.id for lead in reversed(inside)], "newest first, no gaps or repeats"
    query = parse_qs(urlsplit(pages[0]["paging"]["next"]).query)
    assert query["filtering"] == [filtering] and query["limit"] == ["3"]
    back = graph.get(pages[-1]["paging"]["previous"]).json()
    assert [lead["id"] for lead in back["data"]] == got[3:6]


@pytest.mark.parametrize(
    ("operator", "value", "count"),
    [("GREATER_THAN", 4, 3), ("GREATER_THAN_OR_EQUAL", 4, 4), ("LESS_THAN", 4, 4)],
)
def test_filtering_operators(
    graph: httpx.Client,
    auth: Auth,
    world: World,
    fb_page: Page,
    operator: str,
    value: int,
    count: int,
) -> None:
    form = world.forms(fb_page.id)[1]
    for second in range(8):
        world.add_leads(1, form.id, 1767225600 + second)
    rule = [{"field": "time_created", "operator": operator, "value": 1767225600 + value}]
    params = auth(fb_page, filtering=json.dumps(rule))
    body = graph.get(f"/{VERSION}/{form.id}/leads", params=params).json()
    assert len(body["data"]) == count and "next" not in body["paging"]
    broken = graph.get(f"/{VERSION}/{form.id}/leads", params=auth(fb_page, filtering="[{"))
    assert error_of(broken)["code"] == 100


def test_empty_listing(graph: httpx.Client, auth: Auth, world: World, fb_page: Page) -> None:
    form = world.forms(fb_page.id)[0]
    assert graph.get(f"/{VERSION}/{form.id}/leads", params=auth(fb_page)).json() == {"data": []}


def test_leadgen_forms_match_sample(
    graph: httpx.Client, auth: Auth, world: World, fb_page: Page
) -> None:
    fields = "id,name,status,locale,created_time,leads_count,page_id,questions"
    response = graph.get(
        f"/{VERSION}/{fb_page.id}/leadgen_forms", params=auth(fb_page, fields=fields)
    )
    body, expected = response.json(), sample("leadgen_forms.json")
    assert body.keys() == expected.keys() and body["paging"].keys() == expected["paging"].keys()
    assert {form["id"] for form in body["data"]} == {form.id for form in world.forms(fb_page.id)}
    for form in body["data"]:
        assert list(form) == list(expected["data"][0])
        for question in form["questions"]:
            assert question.keys() - {"options"} == {"key", "label", "type", "id"}
    default = graph.get(f"/{VERSION}/{fb_page.id}/leadgen_forms", params=auth(fb_page)).json()
    assert set(default["data"][0]) == {"id", "name", "status", "locale"}


def test_page_node_and_subscribed_apps(graph: httpx.Client, auth: Auth, fb_page: Page) -> None:
    node = graph.get(f"/{VERSION}/{fb_page.id}", params=auth(fb_page, fields="id,name")).json()
    assert node == {"id": fb_page.id, "name": fb_page.name}
    edge = f"/{VERSION}/{fb_page.id}/subscribed_apps"
    assert graph.get(edge, params=auth(fb_page)).json() == {"data": []}
    posted = graph.post(edge, params=auth(fb_page, subscribed_fields="leadgen"))
    assert posted.status_code == 200 and posted.json() == {"success": True}
    apps = graph.get(edge, params=auth(fb_page)).json()["data"]
    assert apps[0]["subscribed_fields"] == ["leadgen"] and apps[0]["id"].isdigit()
    assert error_of(graph.post(edge, params=auth(fb_page)))["code"] == 100
    assert graph.delete(edge, params=auth(fb_page)).json() == {"success": True}
    assert graph.get(edge, params=auth(fb_page)).json() == {"data": []}


def test_debug_token_matches_sample(graph: httpx.Client, world: World, fb_page: Page) -> None:
    params = {"input_token": fb_page.access_token, "access_token": world.app_token}
    body = graph.get(f"/{VERSION}/debug_token", params=params).json()
    expected = sample("debug_token.json")
    assert list(body["data"]) == list(expected["data"])
    data = body["data"]
    assert data["is_valid"] is True and data["expires_at"] == 0 and data["profile_id"] == fb_page.id
    assert {
        "leads_retrieval",
        "pages_manage_metadata",
        "pages_show_list",
        "pages_read_engagement",
        "ads_management",
    } <= set(data["scopes"])
    world.expire_token(fb_page.id)
    dead = graph.get(f"/{VERSION}/debug_token", params=params).json()["data"]
    assert dead["is_valid"] is False and dead["error"]["subcode"] == 463
    unknown = graph.get(f"/{VERSION}/debug_token", params={**params, "input_token": "EAAnope"})
    assert unknown.json()["data"]["is_valid"] is False


def test_appsecret_proof_is_checked(graph: httpx.Client, auth: Auth, fb_page: Page) -> None:
    url = f"/{VERSION}/{fb_page.id}"
    assert graph.get(url, params=auth(fb_page)).status_code == 200
    bad = error_of(graph.get(url, params={**auth(fb_page), "appsecret_proof": "00" * 32}))
    assert bad["code"] == 100 and bad["type"] == "GraphMethodException"
    assert "appsecret_proof" in bad["message"]
    missing = error_of(graph.get(url, params={"access_token": fb_page.access_token}))
    assert missing["code"] == 100 and "require an appsecret_proof" in missing["message"]


def test_no_app_secret_means_no_proof() -> None:
    world = World.seed_default(app_secret=None)
    fb_page = world.pages()[0]
    transport = httpx.WSGITransport(app=create_app(world))
    with httpx.Client(transport=transport, base_url="http://graph.test") as client:
        response = client.get(
            f"/{VERSION}/{fb_page.id}", params={"access_token": fb_page.access_token}
        )
    assert response.status_code == 200


def test_expired_token_and_renewal(
    graph: httpx.Client, auth: Auth, world: World, fb_page: Page
) -> None:
    old = world.expire_token(fb_page.id)
    response = graph.get(f"/{VERSION}/{fb_page.id}/leadgen_forms", params=auth(old))
    error = error_of(response)
    assert error.keys() == sample("error_expired_token.json")["error"].keys()
    assert (error["code"], error["error_subcode"]) == (190, 463)
    assert error["message"].startswith("Error validating access token: Session has expired on")
    assert response.headers["www-authenticate"].startswith('OAuth "Facebook Platform"')
    new = world.renew_token(fb_page.id)
    assert graph.get(f"/{VERSION}/{fb_page.id}/leadgen_forms", params=auth(new)).status_code == 200


@pytest.mark.parametrize(
    ("token", "code", "subcode"),
    [("EAAnot-a-token", 190, 467), (None, 104, None)],
)
def test_bad_tokens(
    graph: httpx.Client, fb_page: Page, token: str | None, code: int, subcode: int | None
) -> None:
    params = {"access_token": token} if token else {}
    error = error_of(graph.get(f"/{VERSION}/{fb_page.id}", params=params))
    assert error["code"] == code and error.get("error_subcode") == subcode


def test_token_of_another_page(graph: httpx.Client, auth: Auth, world: World) -> None:
    mine, other = world.pages()
    lead = world.add_leads(1, world.forms(other.id)[0].id)[0]
    for path in (lead.id, f"{lead.form_id}/leads", f"{other.id}/leadgen_forms"):
        assert error_of(graph.get(f"/{VERSION}/{path}", params=auth(mine)))["code"] == 10
    app_token = {"access_token": world.app_token}
    assert error_of(graph.get(f"/{VERSION}/{lead.id}", params=app_token))["code"] == 210


def test_unknown_object_and_paths(graph: httpx.Client, auth: Auth, fb_page: Page) -> None:
    error = error_of(graph.get(f"/{VERSION}/999999999", params=auth(fb_page)))
    assert (error["code"], error["error_subcode"], error["type"]) == (
        100,
        33,
        "GraphMethodException",
    )
    assert error["message"].startswith(
        "Unsupported get request. Object with ID '999999999' does not exist, cannot be loaded"
    )
    assert error["fbtrace_id"]
    assert error_of(graph.get(f"/{VERSION}/{fb_page.id}/nope", params=auth(fb_page)))["code"] == 100
    assert error_of(graph.get("/v2.0/me", params=auth(fb_page)))["code"] == 2635


def test_usage_headers_on_every_response(graph: httpx.Client, auth: Auth, fb_page: Page) -> None:
    expected = sample("rate_limit_headers.json")
    for response in (
        graph.get(f"/{VERSION}/{fb_page.id}/leadgen_forms", params=auth(fb_page)),
        graph.get(f"/{VERSION}/999", params=auth(fb_page)),
    ):
        app_usage = json.loads(response.headers["x-app-usage"])
        assert app_usage.keys() == expected["x-app-usage"].keys()
        buc = json.loads(response.headers["x-business-use-case-usage"])
        assert isinstance(buc, dict)
    buc = json.loads(
        graph.get(f"/{VERSION}/{fb_page.id}", params=auth(fb_page)).headers[
            "x-business-use-case-usage"
        ]
    )
    sample_entry = next(iter(expected["x-business-use-case-usage"].values()))[0]
    assert buc[fb_page.id][0].keys() == sample_entry.keys()
