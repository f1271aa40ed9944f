"""Each fault the tests and the CLI can switch on, as a client of the Graph API sees it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from werkzeug.serving import make_server

from leadhub.simulator import Faults, Page, World, create_app
from tests.simulator.conftest import VERSION, sample

Auth = Callable[..., dict[str, str]]


def get_page(graph: httpx.Client, auth: Auth, fb_page: Page) -> httpx.Response:
    return graph.get(f"/{VERSION}/{fb_page.id}", params=auth(fb_page))


def test_latency(graph: httpx.Client, auth: Auth, faults: Faults, fb_page: Page) -> None:
    faults.latency_ms = 60
    started = time.perf_counter()
    assert get_page(graph, auth, fb_page).status_code == 200
    assert time.perf_counter() - started >= 0.06


@pytest.mark.parametrize(("status", "code"), [(500, 1), (503, 2), (502, 2)])
def test_fail_next(
    graph: httpx.Client, auth: Auth, faults: Faults, fb_page: Page, status: int, code: int
) -> None:
    faults.fail_next(2, status=status)
    for _ in range(2):
        response = get_page(graph, auth, fb_page)
        assert response.status_code == status
        error = response.json()["error"]
        assert error["code"] == code and error["is_transient"] is True and error["fbtrace_id"]
        assert "x-app-usage" in response.headers
    assert get_page(graph, auth, fb_page).status_code == 200


def test_rate_limit_next(graph: httpx.Client, auth: Auth, faults: Faults, fb_page: Page) -> None:
    faults.rate_limit_next(1, regain_minutes=7)
    faults.rate_limit_next(1, status=403)
    response = get_page(graph, auth, fb_page)
    assert response.status_code == 400
    error, expected = response.json()["error"], sample("error_rate_limit.json")["error"]
    assert error.keys() == expected.keys() and error["code"] == 80005
    assert error["message"] == expected["message"]
    usage = json.loads(response.headers["x-business-use-case-usage"])[fb_page.id][0]
    assert usage["call_count"] == 100 and usage["estimated_time_to_regain_access"] == 7
    assert get_page(graph, auth, fb_page).status_code == 403
    calm = get_page(graph, auth, fb_page)
    assert calm.status_code == 200
    usage = json.loads(calm.headers["x-business-use-case-usage"])[fb_page.id][0]
    assert usage["call_count"] < 100 and usage["estimated_time_to_regain_access"] == 0


def test_timeout_next_holds_the_answer(
    graph: httpx.Client, auth: Auth, faults: Faults, fb_page: Page
) -> None:
    faults.timeout_next(1, seconds=0.2)
    started = time.perf_counter()
    assert get_page(graph, auth, fb_page).status_code == 200
    assert time.perf_counter() - started >= 0.2
    assert faults.pending() == 0


@pytest.fixture
def served(world: World, faults: Faults) -> Iterator[str]:
    """The Graph API on a loopback port, for what only a real socket shows: a client timeout."""
    server = make_server("127.0.0.1", 0, create_app(world, faults=faults), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_timeout_next_outlasts_a_client_timeout(
    served: str, auth: Auth, faults: Faults, fb_page: Page
) -> None:
    faults.timeout_next(1, seconds=0.8)
    with httpx.Client(base_url=served, timeout=httpx.Timeout(5.0, read=0.2)) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get(f"/{VERSION}/{fb_page.id}", params=auth(fb_page))
        answered = client.get(f"/{VERSION}/{fb_page.id}", params=auth(fb_page), timeout=5.0)
    assert answered.status_code == 200


def test_fail_rate_and_reset(
    graph: httpx.Client, auth: Auth, faults: Faults, fb_page: Page
) -> None:
    faults.fail_rate = 1.0
    assert get_page(graph, auth, fb_page).status_code in (500, 503)
    faults.reset()
    assert get_page(graph, auth, fb_page).status_code == 200


def test_expire_and_renew_token(
    graph: httpx.Client, auth: Auth, faults: Faults, world: World, fb_page: Page
) -> None:
    old = faults.expire_token(fb_page.id)
    error = graph.get(f"/{VERSION}/{fb_page.id}", params=auth(old)).json()["error"]
    assert (error["code"], error["error_subcode"]) == (190, 463)
    new = faults.renew_token(fb_page.id)
    assert world.page(fb_page.id).access_token == new
    assert graph.get(f"/{VERSION}/{fb_page.id}", params=auth(new)).status_code == 200
    with pytest.raises(RuntimeError):
        Faults().expire_token(fb_page.id)


def test_faults_are_taken_once_across_threads(faults: Faults) -> None:
    faults.fail_next(100)
    taken: list[object] = []

    def take() -> None:
        taken.extend(faults.take() for _ in range(20))

    threads = [threading.Thread(target=take) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(fault is not None for fault in taken) == 100


def test_webhook_mischief_switches(faults: Faults) -> None:
    assert not faults.should_duplicate()
    faults.duplicate_rate = 1.0
    assert faults.should_duplicate()
    assert faults.arrange([1, 2, 3]) == [1, 2, 3]
    faults.out_of_order = True
    shuffled = faults.arrange([1, 2, 3, 4])
    assert sorted(shuffled) == [1, 2, 3, 4] and shuffled != [1, 2, 3, 4]
