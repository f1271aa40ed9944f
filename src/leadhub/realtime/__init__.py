"""Live updates over Socket.IO: the `/facebook-leads` namespace and its one publisher.

Web processes serve the namespace (`init_app`); worker processes only emit (`init_worker`),
which needs REDIS_URL: Redis carries their emits to every web process's clients.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

from leadhub.extensions import db
from leadhub.realtime import publish
from leadhub.realtime.handlers import LeadDesk, Presence

log = logging.getLogger(__name__)


def enabled(app: Flask) -> bool:
    """On unless switched off (REALTIME=False); a TESTING app has it off unless a test asks."""
    return bool(app.config.get("REALTIME", not app.config.get("TESTING")))


def init_app(app: Flask) -> SocketIO | None:
    """Serve `/facebook-leads` from this app and publish this process's lead events."""
    if not enabled(app):
        return None
    redis_url = app.config.get("REDIS_URL")
    channel = app.config["REALTIME_CHANNEL"]
    socketio = SocketIO(
        app,
        async_mode="threading",
        message_queue=redis_url,
        channel=channel,
        logger=False,
        engineio_logger=False,
    )
    presence = Presence(redis_url, channel)
    socketio.on_namespace(LeadDesk(presence))
    app.jinja_env.globals["realtime_enabled"] = True  # pages load the Socket.IO client
    publish.start(socketio, db.engine, redis_url=redis_url, channel=channel, presence=presence)
    return socketio


def init_worker(app: Flask) -> SocketIO | None:
    """Let a job process emit to every client through Redis (write-only: it serves nobody)."""
    redis_url = app.config.get("REDIS_URL")
    if not redis_url:
        log.info("no REDIS_URL: this process's lead events reach no Socket.IO client")
        return None
    channel = app.config["REALTIME_CHANNEL"]
    socketio = SocketIO(message_queue=redis_url, channel=channel, async_mode="threading")
    presence = Presence(redis_url, channel)  # the web processes' connections, read from Redis
    publish.start(socketio, db.engine, redis_url=redis_url, channel=channel, presence=presence)
    return socketio


def shutdown() -> None:
    """Send what is queued, then stop publishing."""
    publish.stop(drain=True)


__all__ = ["enabled", "init_app", "init_worker", "shutdown"]


def server_of(app: Flask) -> Any:
    """This app's SocketIO, or None when real-time is off."""
    return app.extensions.get("socketio")
