"""Webhook bodies byte for byte, their signatures, and a sender that behaves like Meta's."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
from flask import Flask, request

from leadhub.simulator import (
    Faults,
    LeadgenChange,
    WebhookSender,
    World,
    build_payload,
    handshake,
    sign,
    sign_sha1,
)
from tests.simulator.conftest import SAMPLES, sample

TEST_SECRET = "test_app_secret_do_not_use"
URL = "http://leadhub.test/api/v1/meta/webhook"


def test_signature_matches_the_readme_vector() -> None:
    body = (SAMPLES / "webhook_leadgen.json").read_bytes()
    assert len(body) == 1173
    assert sign(body, TEST_SECRET) == (
        "sha256=94ca84563790f364bc067953565319bb653f26427fac30efa5eb2e67fc9d24e3"
    )
    assert sign_sha1(body, TEST_SECRET) == "sha1=3d051125f54b7969006c95d434728a2da86e6394"


def test_build_payload_reproduces_the_sample() -> None:
    expected = sample("webhook_leadgen.json")
    changes = [c["value"] for entry in expected["entry"] for c in entry["changes"]]
    times = {entry["id"]: entry["time"] for entry in expected["entry"]}
    body = build_payload(changes, sent_at=times)
    assert json.loads(body) == expected
    assert body == json.dumps(expected, separators=(",", ":")).encode()
    numeric = json.loads(build_payload(changes, sent_at=times, numeric_ids=True))
    value = numeric["entry"][0]["changes"][0]["value"]
    assert value["leadgen_id"] == 1290384756102938 and numeric["entry"][0]["id"] == 104857392011234
    assert isinstance(value["created_time"], int)


def test_build_payload_from_leads(world: World) -> None:
    page_a, page_b = world.pages()
    paid = world.add_leads(1, world.forms(page_a.id)[0].id, organic=False)[0]
    organic = world.add_leads(1, world.forms(page_b.id)[0].id, organic=True)[0]
    body = build_payload([paid, organic], sent_at=1767225612)
    body.decode("ascii")
    payload = json.loads(body)
    assert payload["object"] == "page"
    assert [entry["id"] for entry in payload["entry"]] == [page_a.id, page_b.id]
    assert all(entry["time"] == 1767225612 for entry in payload["entry"])
    paid_value = payload["entry"][0]["changes"][0]["value"]
    assert paid_value["ad_id"] == paid_value["adgroup_id"] == paid.ad.id
    assert paid_value["created_time"] == paid.created_time
    organic_value = payload["entry"][1]["changes"][0]["value"]
    assert organic_value == LeadgenChange.of(organic).value()
    assert not {"ad_id", "adgroup_id"} & organic_value.keys()
    assert payload["entry"][1]["changes"][0]["field"] == "leadgen"


def recorder(statuses: list[int]) -> tuple[httpx.Client, list[httpx.Request]]:
    """A client whose server answers `statuses` in turn (then 200) and keeps every request."""
    seen: list[httpx.Request] = []

    def answer(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(statuses.pop(0) if statuses else 200)

    return httpx.Client(transport=httpx.MockTransport(answer)), seen


def test_sender_signs_and_retries_a_500(world: World) -> None:
    client, seen = recorder([500])
    lead = world.add_leads(1)[0]
    with WebhookSender(world, URL, client=client, backoff=0) as sender:
        (delivery,) = sender.deliver([lead])
    assert delivery.acknowledged and len(seen) == 2
    assert seen[0].content == seen[1].content == delivery.body
    secret = world.app_secret or ""
    expected = hmac.new(secret.encode(), seen[1].content, hashlib.sha256).hexdigest()
    assert seen[1].headers["x-hub-signature-256"] == f"sha256={expected}"
    assert seen[1].headers["content-type"] == "application/json"
    stats = sender.stats
    assert (stats.sent, stats.acknowledged, stats.failed, stats.attempts) == (1, 1, 0, 2)
    assert stats.retries == 1 and len(stats.latencies) == 2


def test_sender_gives_up_after_retries(world: World) -> None:
    client, seen = recorder([500] * 10)
    with WebhookSender(world, URL, client=client, retries=2, backoff=0) as sender:
        (delivery,) = sender.deliver(world.add_leads(1))
    assert not delivery.acknowledged and len(seen) == 3
    assert sender.stats.failed == 1 and sender.stats.summary()["retries"] == 2


def test_sender_sends_duplicates_when_asked(world: World) -> None:
    faults = Faults(world)
    faults.duplicate_rate = 1.0
    client, seen = recorder([])
    with WebhookSender(world, URL, client=client, faults=faults) as sender:
        deliveries = sender.deliver(world.add_leads(2))
    assert [d.duplicate for d in deliveries] == [False, True]
    assert len(seen) == 2 and seen[0].content == seen[1].content
    assert sender.stats.duplicates == 1 and sender.stats.sent == 2


def test_sender_shuffles_out_of_order(world: World) -> None:
    faults = Faults(world)
    faults.out_of_order = True
    leads = world.add_leads(6)
    client, seen = recorder([])
    with WebhookSender(world, URL, client=client, faults=faults, batch_size=6) as sender:
        sender.deliver(leads)
    sent = [
        c["value"]["leadgen_id"] for e in json.loads(seen[0].content)["entry"] for c in e["changes"]
    ]
    assert sorted(sent) == sorted(lead.id for lead in leads)
    assert [i for i in sent if i in {lead.id for lead in leads}] != [lead.id for lead in leads]


def test_run_batches_new_leads_to_a_receiver(world: World) -> None:
    receiver, got = Flask("receiver"), []

    @receiver.post("/api/v1/meta/webhook")
    def webhook() -> tuple[str, int]:
        body = request.get_data()
        assert request.headers["X-Hub-Signature-256"] == sign(body, world.app_secret or "")
        for entry in json.loads(body)["entry"]:
            got.extend(change["value"]["leadgen_id"] for change in entry["changes"])
        return "", 200

    client = httpx.Client(transport=httpx.WSGITransport(app=receiver))
    before = len(world.leads())
    with WebhookSender(world, URL, client=client, batch_size=3) as sender:
        stats = sender.run(rate=None, count=7)
    assert (stats.leads, stats.sent, stats.acknowledged) == (7, 3, 3)
    assert len(got) == 7 and all(world.lead(lead_id) for lead_id in got)
    assert len(world.leads()) == before + 7


def test_run_at_a_rate_for_a_duration(world: World) -> None:
    client, seen = recorder([])
    with WebhookSender(world, URL, client=client, max_batch_wait=0.05, batch_size=100) as sender:
        stats = sender.run(rate=40, duration=0.25)
    assert 3 <= stats.leads <= 12 and seen
    assert stats.sent >= 2, "a slow trickle is not held back until a batch fills"


def test_only_subscribed_pages_are_announced(world: World) -> None:
    page_a, page_b = world.pages()
    world.subscribe(page_a.id, ["leadgen"])
    leads = [world.add_leads(1, world.forms(p.id)[0].id)[0] for p in (page_a, page_b)]
    client, seen = recorder([])
    with WebhookSender(world, URL, client=client, only_subscribed=True, batch_size=5) as sender:
        sender.deliver(leads)
    assert [e["id"] for e in json.loads(seen[0].content)["entry"]] == [page_a.id]
    assert sender.stats.skipped == 1


def test_handshake() -> None:
    receiver = Flask("receiver")

    @receiver.get("/hook")
    def verify() -> tuple[str, int]:
        if (
            request.args.get("hub.mode") == "subscribe"
            and request.args.get("hub.verify_token") == "s3cret"
        ):
            return request.args["hub.challenge"], 200
        return "forbidden", 403

    client = httpx.Client(transport=httpx.WSGITransport(app=receiver), base_url="http://x")
    assert handshake("http://x/hook", "s3cret", client=client, challenge=1158201444)
    assert not handshake("http://x/hook", "wrong", client=client)
