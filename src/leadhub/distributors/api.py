"""JSON: the distributors a user may see."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from leadhub.auth.permissions import ALL_ROLES, acting_user, role_required
from leadhub.distributors import service
from leadhub.distributors.schemas import DistributorRead
from leadhub.extensions import db

bp = APIBlueprint("distributors_api", __name__, tag="Distributors")


@bp.get("/distributors")
@role_required(*ALL_ROLES)
@bp.output(list[DistributorRead])
@bp.doc(security="BearerAuth", summary="Distributors in the caller's scope")
def distributors() -> Any:
    return service.list_visible(db.session, user=acting_user())
