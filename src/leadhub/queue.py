"""Background jobs with Huey: the queue, the periodic schedule, and the embedded consumer.

Embedded default: a SQLite-backed queue in instance/jobs.db, consumed by threads inside
`leadhub serve`. Production (REDIS_URL set): a Redis queue and `leadhub worker` processes.
Tests run tasks at once, in the caller (immediate mode).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Iterable
from typing import Any

from huey import Huey, crontab
from huey.consumer import Consumer
from huey.storage import RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

# Until configure() runs, tasks run in the caller: importing LeadHub starts nothing.
huey = Huey("leadhub", immediate=True, results=False, store_intermediate_errors=False, utc=True)

# Every periodic job, in one place, so an operator sees the whole schedule.
SCHEDULE: dict[str, crontab] = {
    "meta.reconcile_inbox": crontab(minute="*"),  # inbox rows left pending for 2 minutes
    "meta.poll_forms": crontab(minute="*/5"),  # every active form, for what webhooks missed
    "scoring.refresh_freshness": crontab(minute="*/10"),  # leads past a freshness boundary
    "notifications.send_outbox": crontab(minute="*"),  # email retries and storm digests now due
    "notifications.speed_to_lead": crontab(minute="*"),  # new leads not contacted in time
    "notifications.admin_alerts": crontab(minute="*/5"),  # Pages needing a token, failed deliveries
    "notifications.daily_summaries": crontab(minute="0"),  # whoever's local summary hour it is
    "notifications.weekly_reports": crontab(minute="0", hour="6", day_of_week="1"),  # Mondays
    "notifications.monthly_reports": crontab(minute="0", hour="6", day="1"),
    "privacy.retention": crontab(minute="17", hour="2"),  # idle leads past their retention
}


def periodic(name: str) -> Any:
    """Decorate a periodic task with its entry in SCHEDULE."""
    return huey.periodic_task(SCHEDULE[name], name=name)


def configure(config: dict[str, Any]) -> None:
    """Point the queue at Redis or at instance/jobs.db; tests keep it immediate."""
    if config.get("TESTING") or config.get("JOBS_IMMEDIATE"):
        huey.immediate = True
        return
    if config.get("REDIS_URL"):
        huey.storage_class = RedisStorage
        huey.storage_kwargs = {"url": config["REDIS_URL"]}
    else:
        os.makedirs(config["INSTANCE_PATH"], exist_ok=True)
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": os.path.join(config["INSTANCE_PATH"], "jobs.db")}
    if huey.immediate:
        huey.immediate = False
    else:
        huey.storage = huey.create_storage()


HANDOFF_BATCH = 500  # jobs gathered for one round trip (one caller's jobs are never split)


class _Handoff:
    """Enqueues from a thread of its own, so a caller never waits on the queue's storage.

    For work whose input is already durable (an inbox row) and which a periodic job finds
    again if this process dies before the message is pushed: the webhook acknowledges Meta
    after its commit alone, and a Redis or SQLite round trip per delivery leaves its path.
    """

    def __init__(self) -> None:
        # each item: the jobs of one caller, pushed with whatever else is waiting then
        self._items: queue.Queue[list[tuple[Any, tuple[Any, ...]]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, jobs: list[tuple[Any, tuple[Any, ...]]]) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="queue-handoff", daemon=True
                    )
                    self._thread.start()
        self._items.put(jobs)

    def _run(self) -> None:
        while True:
            items = [self._items.get()]
            size = len(items[0])
            while size < HANDOFF_BATCH and not self._items.empty():
                items.append(self._items.get_nowait())
                size += len(items[-1])
            batch = [job for jobs in items for job in jobs]
            try:
                _push(batch)
            except Exception:  # the rows stay pending; the periodic reconcile enqueues them
                log.exception("could not enqueue %s jobs; a periodic job will", len(batch))
            finally:
                for _ in items:
                    self._items.task_done()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything handed over is pushed; False if `timeout` passed first."""
        done = self._items.all_tasks_done
        with done:
            return done.wait_for(lambda: not self._items.unfinished_tasks, timeout)


def _push(batch: list[tuple[Any, tuple[Any, ...]]]) -> None:
    """Enqueue what waited together; on Redis in one LPUSH (one round trip), which leaves the
    queue as one push per job would: Huey's RedisStorage.enqueue is that LPUSH."""
    storage = huey.storage
    if type(storage) is RedisStorage and len(batch) > 1:  # not a subclass (priority: a sorted set)
        messages = [huey.serialize_task(task.s(*args)) for task, args in batch]
        storage.conn.lpush(storage.queue_key, *messages)
        return
    for task, args in batch:
        task(*args)


_handoff = _Handoff()


def enqueue_soon(task: Any, calls: Iterable[tuple[Any, ...]]) -> None:
    """Enqueue `task(*args)` for each args of `calls`, together and without waiting; in
    immediate mode (tests) they run now, in the caller."""
    calls = list(calls)
    if huey.immediate:
        for args in calls:
            task(*args)
    elif calls:
        _handoff.put([(task, args) for args in calls])


def flush_enqueued(timeout: float = 10.0) -> bool:
    """Wait until every enqueue_soon() so far reached the queue (a process about to stop)."""
    return _handoff.flush(timeout)


class EmbeddedConsumer(Consumer):
    """A consumer that runs in threads of the web process and leaves its signals alone."""

    def _set_signal_handlers(self) -> None:
        pass


_embedded: EmbeddedConsumer | None = None
_lock = threading.Lock()


def start_embedded(workers: int = 2) -> EmbeddedConsumer | None:
    """Start job threads inside this process, once (never in the reloader's watcher process)."""
    global _embedded
    if os.environ.get("WERKZEUG_SERVER_FD") and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None
    with _lock:
        if _embedded is None and not huey.immediate:
            _embedded = EmbeddedConsumer(
                huey,
                workers=workers,
                worker_type="thread",
                periodic=True,
                check_worker_health=False,
            )
            _embedded.start()
            log.info("embedded job consumer started with %s threads", workers)
    return _embedded


def stop_embedded() -> None:
    global _embedded
    with _lock:
        if _embedded is not None:
            _embedded.stop(graceful=True)
            _embedded = None
