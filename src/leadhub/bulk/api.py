"""JSON API for bulk operations: start one on leads, read a job's progress, undo the last."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import url_for

from leadhub.auth.permissions import LEAD_WRITERS, acting_user, role_required
from leadhub.bulk import batches, jobs, service, undo
from leadhub.bulk.schemas import BulkAccepted, BulkRequest, JobRead
from leadhub.extensions import db

bp = APIBlueprint("bulk_api", __name__, tag="Bulk operations")


def start(data: BulkRequest) -> int:
    """Record the operation, commit, and hand it to the job queue; its id."""
    operation = service.create(db.session, data=data, actor=acting_user())
    db.session.commit()
    operation_id = operation.id
    jobs.run(operation_id)
    return operation_id


def _read(operation_id: int) -> dict[str, Any]:
    user = acting_user()
    operation = service.get_readable(db.session, operation_id=operation_id, user=user)
    return JobRead.model_validate(
        service.report(db.session, operation=operation, user=user)
    ).model_dump(mode="json")


@bp.post("/leads/bulk")
@role_required(*LEAD_WRITERS)
@bp.input(BulkRequest, arg_name="data")
@bp.output(BulkAccepted, status_code=202)
@bp.doc(
    security="BearerAuth",
    summary="Change many leads at once, as a background job",
    description=(
        "Name the leads by `ids` (up to 100,000; optional `versions` skips leads changed "
        "since) or by the desk's `filter`. Actions: `status` (with `lost_reason_id` or "
        "`invalid_reason` where needed), `assign` (`assignee_id`, or `agent_ids` for an even "
        "round robin per distributor), `tag_add` / `tag_remove` (`tag`), `note` (`note`), "
        "`delete`, `restore` (admins). Agents change only their own leads and never assign "
        "or delete; viewers nothing. Follow the job at `GET /api/v1/jobs/{id}`."
    ),
    responses={
        400: "A missing or unknown reason, assignee or tag, or no leads selected",
        403: "Some named leads are outside your scope (`details.lead_ids`); nothing changed",
    },
)
def start_bulk(data: BulkRequest) -> Any:
    operation_id = start(data)
    operation = batches.get(db.session, operation_id=operation_id)
    url = url_for("bulk_api.get_job", operation_id=operation_id)
    return {
        "id": operation_id,
        "status": operation.status,
        "total": operation.total,
        "url": url,
    }, 202


@bp.get("/jobs/<int:operation_id>")
@role_required(*LEAD_WRITERS)
@bp.output(JobRead)
@bp.doc(
    security="BearerAuth",
    summary="A bulk job's status, progress, counts and skipped leads (owner or admin)",
)
def get_job(operation_id: int) -> Any:
    return _read(operation_id)


@bp.post("/jobs/<int:operation_id>/undo")
@role_required(*LEAD_WRITERS)
@bp.output(BulkAccepted, status_code=202)
@bp.doc(
    security="BearerAuth",
    summary="Undo the last bulk operation, within 10 minutes (admins; a manager their own)",
    responses={
        403: "Not an admin, nor the manager who ran it",
        409: "Not the last operation, undone already, or past the 10 minutes",
    },
)
def undo_job(operation_id: int) -> Any:
    undo_id = undo.start_undo(db.session, operation_id=operation_id, actor=acting_user()).id
    db.session.commit()
    jobs.run(undo_id)
    undone = batches.get(db.session, operation_id=undo_id)
    url = url_for("bulk_api.get_job", operation_id=undo_id)
    return {"id": undo_id, "status": undone.status, "total": undone.total, "url": url}, 202
