"""Trouble on demand: slow, failing, throttled or timing-out Graph calls, messy webhooks."""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from leadhub.simulator.world import World

T = TypeVar("T")


@dataclass(frozen=True)
class Fault:
    """One queued misbehaviour for one Graph request."""

    kind: str  # "fail", "timeout" or "rate_limit"
    status: int = 500
    seconds: float = 0.0
    regain_minutes: int = 0


class Faults:
    """What the simulated Meta gets wrong next; tests and the CLI set it, the server obeys."""

    def __init__(self, world: World | None = None, *, seed: int | None = 0) -> None:
        self.world = world
        self._lock = threading.Lock()
        self._rng = random.Random(seed)  # noqa: S311 - reproducible mischief, not secrets
        self._queue: deque[Fault] = deque()
        self.latency_ms = 0
        self.fail_rate = 0.0
        self.duplicate_rate = 0.0
        self.out_of_order = False

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next `n` Graph calls with `status` (code 1 for 500, code 2 for other 5xx)."""
        self._push(n, Fault("fail", status=status))

    def timeout_next(self, n: int = 1, seconds: float = 30.0) -> None:
        """Hold the next `n` Graph calls for `seconds` before answering, to outlast a timeout."""
        self._push(n, Fault("timeout", seconds=seconds))

    def rate_limit_next(self, n: int = 1, regain_minutes: int = 0, status: int = 400) -> None:
        """Refuse the next `n` Graph calls with the LeadGen BUC limit error (code 80005)."""
        self._push(n, Fault("rate_limit", status=status, regain_minutes=regain_minutes))

    def _push(self, n: int, fault: Fault) -> None:
        with self._lock:
            self._queue.extend([fault] * n)

    def take(self) -> Fault | None:
        """The fault for the request being served now, if any; queued faults come first."""
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            if self.fail_rate and self._rng.random() < self.fail_rate:
                return Fault("fail", status=self._rng.choice((500, 503)))
            return None

    def pending(self) -> int:
        """How many queued faults have not been served yet."""
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        """Behave again: no queued faults, no latency, no random failures or webhook mess."""
        with self._lock:
            self._queue.clear()
            self.latency_ms, self.fail_rate = 0, 0.0
            self.duplicate_rate, self.out_of_order = 0.0, False

    def expire_token(self, page_id: str) -> str:
        """Expire the Page's token (Graph calls with it get 190/463); returns the dead token."""
        return self._world().expire_token(page_id)

    def renew_token(self, page_id: str) -> str:
        """Give the Page a new valid token; returns it."""
        return self._world().renew_token(page_id)

    def _world(self) -> World:
        if self.world is None:
            raise RuntimeError("Faults is not bound to a World; pass it to create_app first")
        return self.world

    def should_duplicate(self) -> bool:
        """Whether to deliver the current webhook once more, per `duplicate_rate`."""
        with self._lock:
            return bool(self.duplicate_rate) and self._rng.random() < self.duplicate_rate

    def arrange(self, items: list[T]) -> list[T]:
        """The changes of one delivery in the order they go out: shuffled if `out_of_order`."""
        arranged = list(items)
        if self.out_of_order and len(arranged) > 1:
            with self._lock:
                original = list(arranged)
                for _ in range(10):
                    self._rng.shuffle(arranged)
                    if arranged != original:
                        break
        return arranged
