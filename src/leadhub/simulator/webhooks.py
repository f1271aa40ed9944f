"""Meta's `page`/`leadgen` webhook deliveries: the body, its signature, and a sender."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from statistics import quantiles

import httpx

from leadhub.simulator.faults import Faults
from leadhub.simulator.world import Lead, World

USER_AGENT = "facebookexternalua"


@dataclass(frozen=True)
class LeadgenChange:
    """The `value` of one leadgen change: ids only, no ad ids for organic leads."""

    leadgen_id: str
    page_id: str
    form_id: str
    created_time: int
    ad_id: str | None = None
    adgroup_id: str | None = None

    @classmethod
    def of(cls, item: LeadgenChange | Lead | Mapping) -> LeadgenChange:
        """A change from a Lead, a mapping with the same keys, or a change."""
        if isinstance(item, LeadgenChange):
            return item
        if isinstance(item, Lead):
            ad_id = item.ad.id if item.ad else None
            return cls(item.id, item.page_id, item.form_id, item.created_time, ad_id, ad_id)
        ids = {k: None if v is None else str(v) for k, v in item.items() if k != "created_time"}
        return cls(created_time=int(item["created_time"]), **ids)

    def value(self, *, numeric_ids: bool = False) -> dict:
        """The change's `value` object, keys in Meta's order."""
        ids = {
            "leadgen_id": self.leadgen_id,
            "page_id": self.page_id,
            "form_id": self.form_id,
            "adgroup_id": self.adgroup_id,
            "ad_id": self.ad_id,
        }
        shown = {k: (int(v) if numeric_ids else v) for k, v in ids.items() if v is not None}
        return {**shown, "created_time": self.created_time}


def build_payload(
    changes: Iterable[LeadgenChange | Lead | Mapping],
    *,
    sent_at: int | Mapping[str, int] | None = None,
    numeric_ids: bool = False,
) -> bytes:
    """The exact POST body: one entry per Page, in first-seen order, compact and ASCII-escaped."""
    now = int(time.time())
    entries: dict[str, list[LeadgenChange]] = {}
    for item in changes:
        change = LeadgenChange.of(item)
        entries.setdefault(change.page_id, []).append(change)
    body = {
        "object": "page",
        "entry": [
            {
                "id": int(page_id) if numeric_ids else page_id,
                "time": _entry_time(sent_at, page_id, now),
                "changes": [
                    {"field": "leadgen", "value": c.value(numeric_ids=numeric_ids)}
                    for c in page_changes
                ],
            }
            for page_id, page_changes in entries.items()
        ],
    }
    return json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _entry_time(sent_at: int | Mapping[str, int] | None, page_id: str, now: int) -> int:
    if sent_at is None:
        return now
    if isinstance(sent_at, Mapping):
        return int(sent_at.get(page_id, now))
    return int(sent_at)


def sign(body: bytes, app_secret: str) -> str:
    """`X-Hub-Signature-256`: sha256=<hex HMAC of the raw body keyed by the App Secret>."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def sign_sha1(body: bytes, app_secret: str) -> str:
    """The legacy `X-Hub-Signature` header Meta still sends alongside."""
    return "sha1=" + hmac.new(app_secret.encode(), body, hashlib.sha1).hexdigest()


def handshake(
    url: str,
    verify_token: str,
    *,
    client: httpx.Client | None = None,
    challenge: int | None = None,
) -> bool:
    """Meta's verification GET; True when the endpoint echoes the challenge and nothing else."""
    challenge = challenge if challenge is not None else random.randint(10**8, 10**10)  # noqa: S311
    params = {
        "hub.mode": "subscribe",
        "hub.challenge": str(challenge),
        "hub.verify_token": verify_token,
    }
    owned = client is None
    http = client or httpx.Client(timeout=10.0)
    try:
        response = http.get(url, params=params, headers={"User-Agent": USER_AGENT})
    except httpx.HTTPError:
        return False
    finally:
        if owned:
            http.close()
    return response.status_code == 200 and response.text.strip() == str(challenge)


@dataclass
class SenderStats:
    """What a WebhookSender did; `sent` counts deliveries, `attempts` counts POSTs."""

    leads: int = 0
    sent: int = 0
    acknowledged: int = 0
    failed: int = 0
    duplicates: int = 0
    attempts: int = 0
    skipped: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def retries(self) -> int:
        return self.attempts - self.sent

    def latency(self, percentile: int) -> float:
        """A latency percentile of the POSTs, in seconds (0 before any)."""
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return quantiles(self.latencies, n=100, method="inclusive")[percentile - 1]

    def summary(self) -> dict:
        totals = {k: v for k, v in asdict(self).items() if k != "latencies"}
        return totals | {
            "retries": self.retries,
            "p50_ms": round(self.latency(50) * 1000, 1),
            "p95_ms": round(self.latency(95) * 1000, 1),
        }


@dataclass(frozen=True)
class Delivery:
    """One signed POST body and the leads it announces."""

    body: bytes
    lead_ids: tuple[str, ...]
    acknowledged: bool
    duplicate: bool = False


class WebhookSender:
    """Announces new leads to a webhook URL the way Meta does: signed, batched, retried."""

    def __init__(
        self,
        world: World,
        url: str,
        *,
        faults: Faults | None = None,
        client: httpx.Client | None = None,
        batch_size: int = 1,
        retries: int = 3,
        backoff: float = 0.05,
        timeout: float = 10.0,
        numeric_ids: bool = False,
        max_batch_wait: float = 1.0,
        only_subscribed: bool = False,
    ) -> None:
        if not world.app_secret:
            raise ValueError("webhooks are signed with the App Secret; the world has none")
        self.world, self.url = world, url
        self.faults = faults or Faults(world)
        self.batch_size, self.retries, self.backoff = max(1, batch_size), retries, backoff
        self.numeric_ids, self.max_batch_wait = numeric_ids, max_batch_wait
        self.only_subscribed = only_subscribed
        self.stats = SenderStats()
        self._owned = client is None
        self._client = client or httpx.Client(timeout=timeout)

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned:
            self._client.close()

    def deliver(self, leads: Sequence[Lead]) -> list[Delivery]:
        """Send one delivery for `leads` (plus a duplicate when the faults ask for one)."""
        if self.only_subscribed:
            wanted = [lead for lead in leads if self._subscribed(lead.page_id)]
            self.stats.skipped += len(leads) - len(wanted)
            leads = wanted
        if not leads:
            return []
        ordered = self.faults.arrange(list(leads))
        body = build_payload(ordered, sent_at=int(self.world.clock()), numeric_ids=self.numeric_ids)
        ids = tuple(lead.id for lead in ordered)
        deliveries = [Delivery(body, ids, self._post(body))]
        if self.faults.should_duplicate():
            self.stats.duplicates += 1
            deliveries.append(Delivery(body, ids, self._post(body), duplicate=True))
        return deliveries

    def _subscribed(self, page_id: str) -> bool:
        page = self.world.page(page_id)
        return bool(page and "leadgen" in page.subscribed_fields)

    def _post(self, body: bytes) -> bool:
        """POST until a 200 or out of retries: once at once, then with growing pauses."""
        secret = self.world.app_secret or ""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Hub-Signature": sign_sha1(body, secret),
            "X-Hub-Signature-256": sign(body, secret),
        }
        self.stats.sent += 1
        for attempt in range(self.retries + 1):
            if attempt > 1:
                time.sleep(self.backoff * 2 ** (attempt - 2))
            self.stats.attempts += 1
            started = time.perf_counter()
            try:
                status = self._client.post(self.url, content=body, headers=headers).status_code
            except httpx.HTTPError:
                status = 0
            self.stats.latencies.append(time.perf_counter() - started)
            if status == 200:
                self.stats.acknowledged += 1
                return True
        self.stats.failed += 1
        return False

    def run(
        self,
        *,
        rate: float | None = 1.0,
        count: int | None = None,
        duration: float | None = None,
        stop: threading.Event | None = None,
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> SenderStats:
        """Make new leads at `rate` per second (None: flat out) and announce them, in batches."""
        if count is None and duration is None and stop is None:
            raise ValueError("give a count, a duration or a stop event, or this never ends")
        stop = stop or threading.Event()
        started = time.monotonic()
        pending: list[Lead] = []
        oldest = 0.0
        made = 0

        def flush() -> None:
            for delivery in self.deliver(pending):
                if on_delivery:
                    on_delivery(delivery)
            pending.clear()

        while not stop.is_set():
            now = time.monotonic()
            if (count is not None and made >= count) or (
                duration is not None and now - started >= duration
            ):
                break
            if rate:
                due = started + made / rate
                if due > now:
                    if pending and now - oldest >= self.max_batch_wait:
                        flush()
                    stop.wait(min(due - now, self.max_batch_wait))
                    continue
            if not pending:
                oldest = now
            pending.extend(self.world.add_leads(1))
            made += 1
            self.stats.leads += 1
            if len(pending) >= self.batch_size:
                flush()
        if pending:
            flush()
        return self.stats
