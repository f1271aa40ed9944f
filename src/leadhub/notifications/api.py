"""JSON API for a user's own notifications and preferences."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from leadhub.auth.permissions import ALL_ROLES, acting_user, role_required
from leadhub.extensions import db
from leadhub.notifications import service
from leadhub.notifications.schemas import (
    MarkedRead,
    MarkRead,
    NotificationPage,
    NotificationPrefs,
    NotificationQuery,
    NotificationRead,
)

bp = APIBlueprint("notifications_api", __name__, tag="Notifications")


@bp.get("/notifications")
@role_required(*ALL_ROLES)
@bp.input(NotificationQuery, location="query", arg_name="query")
@bp.output(NotificationPage)
@bp.doc(security="BearerAuth", summary="The caller's notifications, newest first, by cursor")
def list_notifications(query: NotificationQuery) -> Any:
    user = acting_user()
    page = service.list_for(
        db.session, user=user, limit=query.limit, cursor=query.cursor, unread=query.unread
    )
    return {
        "items": [
            NotificationRead.model_validate(service.describe(n)).model_dump(mode="json")
            for n in page.items
        ],
        "next_cursor": page.next_cursor,
        "unread": service.unread_count(db.session, user=user),
    }


@bp.post("/notifications/read")
@role_required(*ALL_ROLES)
@bp.input(MarkRead, arg_name="body")
@bp.output(MarkedRead)
@bp.doc(security="BearerAuth", summary="Mark some of the caller's notifications read, or all")
def mark_read(body: MarkRead) -> Any:
    user = acting_user()
    marked = service.mark_read(db.session, user=user, ids=body.ids, everything=body.all)
    db.session.commit()
    return {"marked": marked, "unread": service.unread_count(db.session, user=user)}


@bp.get("/notifications/preferences")
@role_required(*ALL_ROLES)
@bp.output(NotificationPrefs)
@bp.doc(security="BearerAuth", summary="The caller's notification preferences")
def get_preferences() -> Any:
    return service.get_prefs(db.session, user=acting_user()).model_dump(mode="json")


@bp.put("/notifications/preferences")
@role_required(*ALL_ROLES)
@bp.input(NotificationPrefs, arg_name="body")
@bp.output(NotificationPrefs)
@bp.doc(security="BearerAuth", summary="Change the caller's notification preferences")
def put_preferences(body: NotificationPrefs) -> Any:
    user = acting_user()
    service.update_prefs(db.session, user=user, data=body)
    db.session.commit()
    return service.get_prefs(db.session, user=user).model_dump(mode="json")
