"""The one way LeadHub talks to Socket.IO clients: after a commit, from any process.

Domain events (events.py) reach `Publisher.submit` only once their transaction has committed.
A background thread reads the lead with a session of its own (committed data only), works out
the rooms in scope (rooms.py) and emits. `stats_updated` is coalesced: a room is marked dirty
and sent its counts at most once a second; with Redis a shared key keeps that promise across
every process that publishes.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from leadhub import events
from leadhub.audit.service import jsonable
from leadhub.auth.models import Role, User
from leadhub.errors import NotFound
from leadhub.leads.models import Lead
from leadhub.realtime import rooms

if TYPE_CHECKING:
    from leadhub.realtime.handlers import Presence

log = logging.getLogger(__name__)

STATS_INTERVAL = 1.0  # seconds between two stats_updated of one room


def lead_summary(lead: Lead) -> dict[str, Any]:
    """A lead as one row of the desk shows it."""
    return {
        "id": lead.id,
        "version": lead.version,
        "full_name": lead.full_name,
        "phone": lead.phone,
        "email": lead.email,
        "treatment": lead.treatment,
        "status": lead.status.value,
        "score": lead.score,
        "score_level": lead.score_level.value,
        "distributor_id": lead.distributor_id,
        "assignee_id": lead.assignee_id,
        "platform": lead.platform.value if lead.platform else None,
        "duplicate_of_id": lead.duplicate_of_id,
        "tags": [tag.name for tag in lead.tags],
        "created_time": jsonable(lead.created_time),
    }


def _scope_user(session: Session, room: str) -> User | None:
    """Someone whose scope is exactly the room's, for counting its leads."""
    if room == rooms.CLINIC:
        return User(role=Role.ADMIN)
    kind, _, ident = room.partition(":")
    if kind == "distributor":
        return User(role=Role.MANAGER, distributor_id=int(ident))
    if kind == "user":
        return session.get(User, int(ident))
    return None


def room_stats(session: Session, room: str) -> dict[str, Any] | None:
    """The payload of `stats_updated` for one room: live leads per status in its scope."""
    from leadhub.leads import service as leads

    user = _scope_user(session, room)
    if user is None:
        return None
    counts = leads.count_by_status(session, user=user)
    return {"counts": {s.value: n for s, n in counts.items()}, "total": sum(counts.values())}


@dataclass(frozen=True)
class _Stop:
    drain: bool


class Publisher:
    """Turns committed domain events into Socket.IO emits, on a thread of its own."""

    def __init__(
        self,
        socketio: Any,
        engine: Engine,
        *,
        redis_url: str | None = None,
        channel: str = "",
        presence: Presence | None = None,
    ) -> None:
        self.socketio = socketio
        self.engine = engine
        self.channel = channel
        self.presence = presence
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._dirty: dict[str, float] = {}  # room -> earliest time it may be sent
        self._last_sent: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, name="realtime-publisher", daemon=True)
        self._thread.start()

    def submit(self, domain_event: Any) -> None:
        self._queue.put(domain_event)

    def stop(self, *, drain: bool = True, timeout: float = 5.0) -> None:
        """Stop the thread; with `drain`, first send what is queued and the counts owed."""
        self._queue.put(_Stop(drain))
        self._thread.join(timeout)
        if self._redis is not None:
            self._redis.close()

    def _run(self) -> None:
        stopping = False
        while True:
            wait = self._next_due() if not stopping else 0.05
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                item = None
            if isinstance(item, _Stop):
                if not item.drain:
                    return
                stopping = True
            elif item is not None:
                self._safely(self._handle, item)
            self._safely(self._flush_stats)
            if stopping and self._queue.empty() and not self._dirty:
                return

    def _safely(self, func: Any, *args: Any) -> None:
        try:
            func(*args)
        except Exception:
            log.exception("realtime publish failed")

    def _next_due(self) -> float | None:
        if not self._dirty:
            return None
        return max(0.0, min(self._dirty.values()) - time.monotonic())

    def _handle(self, domain_event: Any) -> None:
        if isinstance(domain_event, events.UserAccessChanged):
            self._access_changed(domain_event.user_id)
            return
        if isinstance(domain_event, events.LeadsBulkUpdated):
            self._bulk_updated(domain_event)
            return
        with Session(self.engine) as session:
            lead = session.get(Lead, domain_event.lead_id)
            if lead is None:
                return
            targets = rooms.for_lead(session, lead)
            if isinstance(domain_event, events.LeadCreated):
                self.emit("lead_created", lead_summary(lead), targets)
            else:
                actor = session.get(User, domain_event.actor_id) if domain_event.actor_id else None
                payload = {
                    "lead_id": lead.id,
                    "changes": jsonable(domain_event.changes),
                    "version": lead.version,
                    "actor": {"id": actor.id, "name": actor.name} if actor else None,
                }
                self.emit("lead_updated", payload, [*targets, rooms.lead_room(lead.id)])
                if "assignee_id" in domain_event.changes:
                    self._out_of_scope(session, lead, targets)
            self._mark_dirty(rooms.stats_rooms_for_distributor(session, lead.distributor_id))

    def _out_of_scope(self, session: Session, lead: Lead, targets: list[str]) -> None:
        """Tell agents who lost a lead, and take its page's room from viewers who may not see it."""
        from leadhub.leads import service as leads

        removed = {"lead_id": lead.id}
        lost = rooms.lost_by_agents(session, lead, targets)
        if lost:
            self.emit("lead_removed", removed, lost)
        if self.presence is None:
            return
        gone = []
        for sid, user_id in self.presence.viewers_of(lead.id).items():
            user = session.get(User, user_id)
            try:
                if user is not None and user.active:
                    leads.get_visible(session, lead_id=lead.id, user=user, include_deleted=True)
                    continue
            except NotFound:
                pass
            self.socketio.server.leave_room(
                sid, rooms.lead_room(lead.id), namespace=rooms.NAMESPACE
            )
            self.socketio.emit("lead_removed", removed, to=sid, namespace=rooms.NAMESPACE)
            gone.append(sid)
        for sid in gone:
            viewers = self.presence.remove(lead.id, sid, anywhere=True)
            emit_to_lead(
                self.socketio, lead.id, "presence", {"lead_id": lead.id, "viewers": viewers}
            )

    def _access_changed(self, user_id: int) -> None:
        """A user's rooms no longer match their access: their pages are told, then disconnected.

        The pages reload (and connect again with the rooms of the user as they are now, or are
        refused); a client that ignored the message is disconnected anyway, in every process.
        """
        self.emit("access_changed", {}, [rooms.user_room(user_id)])
        if self.presence is None:
            return
        for sid in self.presence.connections_of(user_id):
            self.socketio.server.disconnect(sid, namespace=rooms.NAMESPACE)
            self.presence.disconnected(sid, user_id)

    def _bulk_updated(self, domain_event: events.LeadsBulkUpdated) -> None:
        """One summary when a bulk operation ends, never one event per lead.

        Open desks of the distributors touched refresh their rows once; their counts follow
        as the usual coalesced stats_updated. (Not per batch: on SQLite each stats pass holds
        the write lock the job's next batch waits for.)
        """
        payload = {
            "operation_id": domain_event.operation_id,
            "kind": domain_event.kind,
            "changed": domain_event.changed,
            "actor_id": domain_event.actor_id,
        }
        with Session(self.engine) as session:
            targets: list[str] = []
            for distributor_id in domain_event.distributor_ids:
                stats = rooms.stats_rooms_for_distributor(session, distributor_id)
                self._mark_dirty(stats)
                targets.extend([*stats, rooms.pool_room(distributor_id)])
        if domain_event.actor_id is not None:
            targets.append(rooms.user_room(domain_event.actor_id))
        self.emit("leads_bulk_updated", payload, list(dict.fromkeys(targets)))

    def _mark_dirty(self, names: list[str]) -> None:
        now = time.monotonic()
        for room in names:
            if room not in self._dirty:
                self._dirty[room] = max(now, self._last_sent.get(room, 0.0) + STATS_INTERVAL)

    def _flush_stats(self) -> None:
        now = time.monotonic()
        due = [room for room, at in self._dirty.items() if at <= now]
        if not due:
            return
        with Session(self.engine) as session:
            for room in due:
                wait = self._claim(room)
                if wait > 0:  # another process sent this room's counts within the second
                    self._dirty[room] = now + wait
                    continue
                del self._dirty[room]
                self._last_sent[room] = now
                stats = room_stats(session, room)
                if stats is not None:
                    self.emit("stats_updated", stats, [room])

    def _claim(self, room: str) -> float:
        """0 if this process may send the room's counts now, else the seconds to wait."""
        if self._redis is None:
            return 0.0
        key = f"{self.channel}:stats:{room}"
        if self._redis.set(key, b"1", nx=True, px=int(STATS_INTERVAL * 1000)):
            return 0.0
        remaining = self._redis.pttl(key)
        return max(remaining, 1) / 1000

    def emit(self, event: str, payload: dict[str, Any], to: list[str]) -> None:
        self.socketio.emit(event, payload, to=to, namespace=rooms.NAMESPACE)


_publisher: Publisher | None = None
_lock = threading.Lock()


def _on_event(domain_event: Any) -> None:
    publisher = _publisher
    if publisher is not None:
        publisher.submit(domain_event)


def start(
    socketio: Any,
    engine: Engine,
    *,
    redis_url: str | None = None,
    channel: str = "",
    presence: Presence | None = None,
) -> Publisher:
    """Publish this process's committed lead events through `socketio` from now on."""
    global _publisher
    with _lock:
        if _publisher is not None:
            _publisher.stop(drain=False)
        _publisher = Publisher(
            socketio, engine, redis_url=redis_url, channel=channel, presence=presence
        )
        events.subscribe(events.LeadCreated, _on_event)
        events.subscribe(events.LeadUpdated, _on_event)
        events.subscribe(events.UserAccessChanged, _on_event)
        events.subscribe(events.LeadsBulkUpdated, _on_event)
        return _publisher


def stop(*, drain: bool = True) -> None:
    """Stop publishing (a worker or server shutting down); queued events are sent first."""
    global _publisher
    with _lock:
        if _publisher is not None:
            _publisher.stop(drain=drain)
            _publisher = None


def notification_created(user_id: int, payload: dict[str, Any]) -> None:
    """Tell one user's open pages that they have a new notification (the bell's count)."""
    publisher = _publisher
    if publisher is not None:
        publisher.emit("notification_created", payload, [rooms.user_room(user_id)])


def emit_to_lead(socketio: Any, lead_id: int, event: str, payload: dict[str, Any]) -> None:
    """Emit to one lead's room (presence); handlers use this rather than socketio directly."""
    socketio.emit(event, payload, to=rooms.lead_room(lead_id), namespace=rooms.NAMESPACE)
