"""JSON: who am I, and the users an admin manages."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from leadhub.auth import service
from leadhub.auth.models import Role
from leadhub.auth.permissions import ALL_ROLES, acting_user, role_required
from leadhub.auth.schemas import UserRead
from leadhub.extensions import db

bp = APIBlueprint("auth_api", __name__, tag="Accounts")


@bp.get("/me")
@role_required(*ALL_ROLES)
@bp.output(UserRead)
@bp.doc(security="BearerAuth", summary="The user behind this API key or session")
def me() -> Any:
    return acting_user()


@bp.get("/users")
@role_required(Role.SUPERADMIN, Role.ADMIN)
@bp.output(list[UserRead])
@bp.doc(security="BearerAuth", summary="All users (admin and up)")
def users() -> Any:
    return service.list_users(db.session, actor=acting_user())
