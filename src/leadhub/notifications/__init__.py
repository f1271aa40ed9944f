"""Notifications: email over SMTP through an outbox, in-app notifications, preferences, digests."""

from __future__ import annotations

from typing import Any

from leadhub import events


def init_app(app: Any) -> None:
    """Listen to lead events, unless NOTIFICATIONS is off (a benchmark's baseline)."""
    import atexit

    from leadhub.notifications import triggers

    global _batcher
    if not app.config.get("NOTIFICATIONS", True):
        return
    if _batcher is None:
        _batcher = triggers.Batcher(app)
        atexit.register(_batcher.drain)
        events.subscribe(events.LeadCreated, _on_event)
        events.subscribe(events.LeadUpdated, _on_event)
    else:
        _batcher.app = app  # the newest app of this process (tests make several)


_batcher: Any = None


def _on_event(domain_event: Any) -> None:
    if _batcher is not None:
        _batcher.submit(domain_event)
