"""Meta's webhook end to end: signed deliveries in, leads out, exactly once, nothing lost."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from leadhub.leads.models import Lead
from leadhub.meta import service as meta
from leadhub.meta.graph import GraphUnavailable, InvalidRequest, TokenInvalid
from leadhub.meta.models import ConnectionStatus, InboxStatus, PageConnection, WebhookEvent
from tests.meta.conftest import PAGE_ID, SAMPLES, VERIFY_TOKEN, lead_payload, sign

SAMPLE_BODY = (SAMPLES / "webhook_leadgen.json").read_bytes()
URL = "/api/v1/meta/webhook"


def post(client, body: bytes, signature: str | None = "auto"):
    headers = {"Content-Type": "application/json"}
    if signature == "auto":
        signature = sign(body)
    if signature:
        headers["X-Hub-Signature-256"] = signature
    return client.post(URL, data=body, headers=headers)


def count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def test_the_signature_of_the_sample_matches_metas_test_vector():
    assert sign(SAMPLE_BODY) == (
        "sha256=94ca84563790f364bc067953565319bb653f26427fac30efa5eb2e67fc9d24e3"
    )


def test_handshake_echoes_the_challenge_only_for_the_right_token(client, meta_app):
    ok = client.get(
        f"{URL}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}"
    )
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444"
    bad = client.get(f"{URL}?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong")
    assert bad.status_code == 403


@pytest.mark.parametrize("signature", [None, "sha256=00", "sha1=3d05", sign(b"other body")])
def test_a_bad_or_missing_signature_is_403_and_stores_nothing(
    client, meta_app, db_session, signature
):
    response = post(client, SAMPLE_BODY, signature)
    assert response.status_code == 403
    assert count(db_session, WebhookEvent) == 0


def test_malformed_json_is_400_and_stores_nothing(client, meta_app, db_session):
    assert post(client, b'{"object": "page", "entry": [').status_code == 400
    assert post(client, b'{"object": "user", "entry": []}').status_code == 400
    assert count(db_session, WebhookEvent) == 0


def test_a_body_over_1_mb_is_413(client, meta_app):
    body = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert post(client, body).status_code == 413


def test_without_an_app_secret_meta_is_asked_to_retry(client, app, monkeypatch, db_session):
    monkeypatch.setitem(app.config, "META_APP_SECRET", None)
    assert post(client, SAMPLE_BODY).status_code == 503
    assert count(db_session, WebhookEvent) == 0


def test_deliveries_accepted_or_refused_answer_with_the_apps_headers_and_request_id(
    client, meta_app, page, graph, db_session
):
    trace = {"X-Request-ID": "meta-trace-0001"}
    accepted = client.post(
        URL,
        data=SAMPLE_BODY,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(SAMPLE_BODY),
            **trace,
        },
    )
    refused = client.post(
        URL, data=SAMPLE_BODY, headers={"X-Hub-Signature-256": "sha256=00", **trace}
    )
    for response in (accepted, refused):
        assert response.headers["X-Request-ID"] == "meta-trace-0001"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        assert response.mimetype == "application/json"
    assert accepted.status_code == 200 and accepted.json["received"] == 3
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "forbidden"
    assert refused.json["error"]["request_id"] == "meta-trace-0001"


def test_a_delivery_the_fast_lane_could_not_store_is_stored_by_the_route(
    client, meta_app, page, graph, db_session, monkeypatch, caplog
):
    from leadhub.meta import inbox

    real, calls = inbox.store, []

    def fails_once(changes):
        calls.append(len(changes))
        if len(calls) == 1:
            raise RuntimeError("the database blinked")
        return real(changes)

    monkeypatch.setattr(inbox, "store", fails_once)
    for leadgen_id in ("1290384756102938", "1290384756102939"):
        graph.leads[leadgen_id] = lead_payload(leadgen_id)
    response = post(client, SAMPLE_BODY)
    assert response.status_code == 200 and response.json == {"received": 3, "queued": 2}
    assert calls == [3, 3]  # the lane's try, then the route's
    assert count(db_session, WebhookEvent) == 3 and count(db_session, Lead) == 2
    assert "the route tries again" in caplog.text


def test_a_delivery_becomes_leads_and_unknown_pages_are_kept_as_orphans(
    client, meta_app, page, graph, db_session
):
    graph.leads["1290384756102938"] = lead_payload("1290384756102938")
    graph.leads["1290384756102939"] = lead_payload(
        "1290384756102939",
        field_data=[
            {"name": "full_name", "values": ["Zeynep Kaya"]},
            {"name": "phone_number", "values": ["05321112233"]},
        ],
    )
    response = post(client, SAMPLE_BODY)
    assert response.status_code == 200 and response.json == {"received": 3, "queued": 2}
    events = {e.leadgen_id: e for e in db_session.scalars(select(WebhookEvent))}
    assert events["3847561029384756"].status is InboxStatus.ORPHAN  # Page not connected
    assert events["1290384756102938"].status is InboxStatus.DONE
    leads = {lead.meta_lead_id: lead for lead in db_session.scalars(select(Lead))}
    assert set(leads) == {"1290384756102938", "1290384756102939"}
    zeynep = leads["1290384756102939"]
    assert zeynep.phone == "+905321112233" and zeynep.page_name == "Istanbul Smile Clinic"
    assert zeynep.form_name == "Teeth whitening TR" and zeynep.distributor_id == page.distributor_id


def test_the_same_delivery_three_times_makes_one_lead(client, meta_app, page, graph, db_session):
    for leadgen_id in ("1290384756102938", "1290384756102939"):
        graph.leads[leadgen_id] = lead_payload(leadgen_id)
    for _ in range(3):
        assert post(client, SAMPLE_BODY).status_code == 200
    assert count(db_session, Lead) == 2
    assert count(db_session, WebhookEvent) == 3
    assert sorted(graph.calls) == ["1290384756102938", "1290384756102939"]


def test_ids_written_as_numbers_are_the_same_leads(client, meta_app, page, graph, db_session):
    graph.leads["1290384756102938"] = lead_payload("1290384756102938")
    graph.leads["1290384756102939"] = lead_payload("1290384756102939")
    post(client, SAMPLE_BODY)
    as_numbers = json.loads(SAMPLE_BODY)
    for entry in as_numbers["entry"]:
        entry["id"] = int(entry["id"])
        for change in entry["changes"]:
            for key in ("leadgen_id", "page_id", "form_id"):
                change["value"][key] = int(change["value"][key])
    body = json.dumps(as_numbers).encode()
    assert post(client, body).json["queued"] == 0
    assert count(db_session, Lead) == 2


def test_an_expired_token_waits_and_is_replayed_after_a_new_one(
    client, meta_app, page, graph, db_session
):
    graph.errors.append(TokenInvalid("Error validating access token", code=190, subcode=463))
    graph.leads["1290384756102938"] = lead_payload("1290384756102938")
    graph.leads["1290384756102939"] = lead_payload("1290384756102939")
    post(client, SAMPLE_BODY)
    db_session.expire_all()
    connection = db_session.get(PageConnection, page.id)
    assert connection.status is ConnectionStatus.NEEDS_REAUTH
    pending = db_session.scalars(
        select(WebhookEvent).where(WebhookEvent.status == InboxStatus.PENDING)
    ).all()
    assert len(pending) == 2 and "token" in pending[0].last_error
    assert "page-token" not in (pending[0].last_error or "")
    connection.status = ConnectionStatus.ACTIVE  # an admin gave a new token
    db_session.commit()
    for event in pending:
        meta.process_event(db_session, event_id=event.id, graph=graph)
    db_session.commit()
    assert count(db_session, Lead) == 2


def test_graph_outages_propagate_for_the_job_to_retry(db_session, page, graph):
    graph.errors.append(GraphUnavailable("Meta is down", status=503))
    ids = meta.record_changes(
        db_session, [{"leadgen_id": "42", "page_id": PAGE_ID, "form_id": None, "ad_id": None}]
    )
    with pytest.raises(GraphUnavailable):
        meta.process_event(db_session, event_id=ids[0], graph=graph)


def test_a_lead_meta_refuses_or_we_cannot_read_is_kept_as_failed(db_session, page, graph):
    ids = meta.record_changes(
        db_session,
        [
            {"leadgen_id": "43", "page_id": PAGE_ID, "form_id": None, "ad_id": None},
            {"leadgen_id": "44", "page_id": PAGE_ID, "form_id": None, "ad_id": None},
        ],
    )
    graph.errors.append(InvalidRequest("Unsupported get request", status=400, code=100))
    graph.leads["44"] = {"id": "44", "field_data": "garbage"}
    refused = meta.process_event(db_session, event_id=ids[0], graph=graph)
    unreadable = meta.process_event(db_session, event_id=ids[1], graph=graph)
    assert refused.status is InboxStatus.FAILED and "Unsupported" in refused.last_error
    assert unreadable.status is InboxStatus.FAILED and unreadable.payload["field_data"] == "garbage"
    assert count(db_session, Lead) == 0


def test_the_reconciler_finds_rows_left_pending(db_session, page):
    from datetime import timedelta

    from leadhub.db import utcnow

    ids = meta.record_changes(
        db_session, [{"leadgen_id": "45", "page_id": PAGE_ID, "form_id": None, "ad_id": None}]
    )
    db_session.get(WebhookEvent, ids[0]).received_at = utcnow() - timedelta(minutes=3)
    db_session.flush()
    assert meta.stale_pending(db_session) == ids
