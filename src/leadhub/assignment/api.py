"""JSON API: a distributor's assignment rules and its agents' skills."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from leadhub.assignment import service
from leadhub.assignment.schemas import AssignmentRulesInput, AssignmentRulesRead
from leadhub.auth.models import Role
from leadhub.auth.permissions import acting_user, role_required
from leadhub.distributors import service as distributors
from leadhub.extensions import db

bp = APIBlueprint("assignment_api", __name__, tag="Assignment")

EDITORS = (Role.SUPERADMIN, Role.ADMIN, Role.MANAGER)


def _read(settings: service.Settings) -> dict[str, Any]:
    return AssignmentRulesRead.model_validate(settings.as_dict()).model_dump(mode="json")


@bp.get("/distributors/<int:distributor_id>/assignment-rules")
@role_required(*EDITORS)
@bp.output(AssignmentRulesRead)
@bp.doc(
    security="BearerAuth",
    summary="A distributor's assignment rule and its agents' languages and treatments",
)
def get_rules(distributor_id: int) -> Any:
    actor = acting_user()
    distributor = distributors.get_visible(db.session, distributor_id=distributor_id, user=actor)
    return _read(service.get(db.session, distributor=distributor, actor=actor))


@bp.put("/distributors/<int:distributor_id>/assignment-rules")
@role_required(*EDITORS)
@bp.input(AssignmentRulesInput, arg_name="data")
@bp.output(AssignmentRulesRead)
@bp.doc(
    security="BearerAuth",
    summary="Set a distributor's assignment rule (admins; a manager for their own distributor)",
)
def put_rules(distributor_id: int, data: AssignmentRulesInput) -> Any:
    actor = acting_user()
    distributor = distributors.get_visible(db.session, distributor_id=distributor_id, user=actor)
    settings = service.update(db.session, distributor=distributor, data=data, actor=actor)
    db.session.commit()
    return _read(settings)
