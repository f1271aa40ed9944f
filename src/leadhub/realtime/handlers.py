"""The `/facebook-leads` namespace: who may connect, which rooms they join, who is viewing."""

from __future__ import annotations

import json
import threading
from typing import Any

from flask import request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import Namespace, emit, join_room, leave_room

from leadhub.auth import service as accounts
from leadhub.auth.models import User
from leadhub.errors import NotFound
from leadhub.extensions import db
from leadhub.realtime import publish, rooms

_USER_KEY = "realtime_user_id"


def _authenticate(auth: Any) -> User | None:
    """An API key in `auth.token` decides, as on the API; otherwise the page's session cookie."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if token:
        user = accounts.user_for_api_key(db.session, str(token).strip())
        db.session.commit()  # keeps last_used_at
        return user
    if current_user.is_authenticated and current_user.active:
        return db.session.get(User, current_user.id)
    return None


def _connected_user() -> User | None:
    """The connection's user as the database has it now (deactivated users get nothing)."""
    user_id = session.get(_USER_KEY)
    user = db.session.get(User, user_id) if user_id else None
    return user if user is not None and user.active else None


def _lead_id(data: Any) -> int | None:
    value = data.get("lead_id") if isinstance(data, dict) else None
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Presence:
    """Who has which lead open, and which connections each user has.

    In this process's memory, or with Redis (one hash per lead, one set per user), so that
    connections to other web processes are known too; the publisher reads them to take a lead
    from viewers who lost it and to end the connections of a user whose access changed. A key
    outlives a crashed process by PRESENCE_TTL at most.
    """

    PRESENCE_TTL = 6 * 3600

    def __init__(self, redis_url: str | None = None, channel: str = "") -> None:
        self._viewers: dict[int, dict[str, str]] = {}  # used without Redis
        self._mine: dict[str, set[int]] = {}  # this process's connections: sid -> lead ids
        self._connections: dict[int, set[str]] = {}  # used without Redis: user id -> sids
        self._lock = threading.Lock()
        self._channel = channel
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    def _key(self, lead_id: int) -> str:
        return f"{self._channel}:presence:{lead_id}"

    def _user_key(self, user_id: int) -> str:
        return f"{self._channel}:connections:{user_id}"

    def connected(self, sid: str, user_id: int) -> None:
        if self._redis is None:
            with self._lock:
                self._connections.setdefault(user_id, set()).add(sid)
            return
        with self._redis.pipeline() as pipe:
            pipe.sadd(self._user_key(user_id), sid)
            pipe.expire(self._user_key(user_id), self.PRESENCE_TTL)
            pipe.execute()

    def disconnected(self, sid: str, user_id: int) -> None:
        if self._redis is None:
            with self._lock:
                sids = self._connections.get(user_id, set())
                sids.discard(sid)
                if not sids:
                    self._connections.pop(user_id, None)
            return
        self._redis.srem(self._user_key(user_id), sid)

    def connections_of(self, user_id: int) -> list[str]:
        """Every connection of one user, in any process."""
        if self._redis is None:
            with self._lock:
                return sorted(self._connections.get(user_id, set()))
        return sorted(sid.decode() for sid in self._redis.smembers(self._user_key(user_id)))

    def viewers_of(self, lead_id: int) -> dict[str, int]:
        """The connections that have one lead open, and their users' ids."""
        if self._redis is not None:
            raw = {sid.decode(): v for sid, v in self._redis.hgetall(self._key(lead_id)).items()}
        else:
            with self._lock:
                raw = dict(self._viewers.get(lead_id, {}))
        return {sid: json.loads(viewer)["id"] for sid, viewer in raw.items()}

    def add(self, lead_id: int, sid: str, user: User) -> list[dict[str, Any]]:
        viewer = json.dumps({"id": user.id, "name": user.name})
        with self._lock:
            self._mine.setdefault(sid, set()).add(lead_id)
            if self._redis is None:
                self._viewers.setdefault(lead_id, {})[sid] = viewer
        if self._redis is not None:
            with self._redis.pipeline() as pipe:
                pipe.hset(self._key(lead_id), sid, viewer)
                pipe.expire(self._key(lead_id), self.PRESENCE_TTL)
                pipe.execute()
        return self._list(lead_id)

    def remove(
        self, lead_id: int, sid: str, *, anywhere: bool = False
    ) -> list[dict[str, Any]] | None:
        """The viewers left, or None if `sid` was not viewing the lead.

        `anywhere`: `sid` may be another process's connection (the publisher removing a viewer
        who lost the lead); it is forgotten wherever it is kept.
        """
        with self._lock:
            leads = self._mine.get(sid, set())
            if lead_id not in leads and not anywhere:
                return None
            leads.discard(lead_id)
            if not leads:
                self._mine.pop(sid, None)
            if self._redis is None:
                viewers = self._viewers.get(lead_id, {})
                viewers.pop(sid, None)
                if not viewers:
                    self._viewers.pop(lead_id, None)
        if self._redis is not None:
            self._redis.hdel(self._key(lead_id), sid)
        return self._list(lead_id)

    def leads_of(self, sid: str) -> list[int]:
        with self._lock:
            return sorted(self._mine.get(sid, set()))

    def _list(self, lead_id: int) -> list[dict[str, Any]]:
        if self._redis is not None:
            raw = self._redis.hvals(self._key(lead_id))
        else:
            with self._lock:
                raw = list(self._viewers.get(lead_id, {}).values())
        unique = {v["id"]: v for v in map(json.loads, raw)}
        return sorted(unique.values(), key=lambda v: v["name"])


class LeadDesk(Namespace):
    """Connections of the desk and lead pages; every room joined is one the user may see."""

    def __init__(self, presence: Presence, namespace: str = rooms.NAMESPACE) -> None:
        super().__init__(namespace)
        self.presence = presence

    def on_connect(self, auth: Any = None) -> bool:
        user = _authenticate(auth)
        if user is None:
            return False
        session[_USER_KEY] = user.id
        for room in rooms.for_user(user):
            join_room(room)
        self.presence.connected(request.sid, user.id)  # type: ignore[attr-defined]
        stats_room = rooms.stats_room_for_user(user)
        stats = publish.room_stats(db.session, stats_room) if stats_room else None
        emit("ready", {"user_id": user.id, "stats": stats})
        return True

    def on_disconnect(self, reason: Any = None) -> None:
        sid = request.sid  # type: ignore[attr-defined]
        for lead_id in self.presence.leads_of(sid):
            self._left(lead_id, sid)
        user_id = session.get(_USER_KEY)
        if user_id is not None:
            self.presence.disconnected(sid, user_id)

    def on_join_lead(self, data: Any) -> None:
        from leadhub.leads import service as leads

        user = _connected_user()
        lead_id = _lead_id(data)
        if user is None:  # deactivated since connecting
            emit("error", {"code": "unauthorized", "message": _("Sign in again.")})
            return
        if lead_id is None:
            emit("error", {"code": "bad_request", "message": _("Which lead? lead_id is missing.")})
            return
        try:
            leads.get_visible(db.session, lead_id=lead_id, user=user, include_deleted=True)
        except NotFound:
            emit("error", {"code": "not_found", "message": _("No such lead."), "lead_id": lead_id})
            return
        try:
            join_room(rooms.lead_room(lead_id))
        except (KeyError, ValueError):  # the page went away while this was checked: nothing
            # to join (python-socketio: KeyError when this client is gone, ValueError when no
            # client of the namespace is left; CI saw the second)
            return
        viewers = self.presence.add(lead_id, request.sid, user)  # type: ignore[attr-defined]
        publish.emit_to_lead(self.socketio, lead_id, "presence", _presence(lead_id, viewers))

    def on_leave_lead(self, data: Any) -> None:
        lead_id = _lead_id(data)
        if lead_id is not None:
            self._left(lead_id, request.sid)  # type: ignore[attr-defined]

    def _left(self, lead_id: int, sid: str) -> None:
        leave_room(rooms.lead_room(lead_id), sid=sid)
        viewers = self.presence.remove(lead_id, sid)
        if viewers is not None:
            publish.emit_to_lead(self.socketio, lead_id, "presence", _presence(lead_id, viewers))


def _presence(lead_id: int, viewers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"lead_id": lead_id, "viewers": viewers}
