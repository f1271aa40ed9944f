"""A job process in miniature: what `leadhub worker` sets up, then one lead made by a job.

Run as `python -m tests.realtime.worker_process DISTRIBUTOR_ID ACTOR_ID NAME` with
DATABASE_URL, REDIS_URL and LEADHUB_REALTIME_CHANNEL in the environment.
"""

from __future__ import annotations

import sys

from leadhub import realtime
from leadhub.app import create_app
from leadhub.auth.models import User
from leadhub.extensions import db
from leadhub.intake import service as intake
from leadhub.leads.schemas import LeadCreate


def main(distributor_id: int, actor_id: int, name: str) -> None:
    app = create_app({"REALTIME": False, "JOBS_IMMEDIATE": True})
    if realtime.init_worker(app) is None:
        sys.exit("no REDIS_URL: a worker cannot reach Socket.IO clients")
    try:
        with app.app_context(), db.transaction() as session:
            actor = session.get(User, actor_id)
            data = LeadCreate(distributor_id=distributor_id, full_name=name, phone="+905321234567")
            intake.create_manual(session, data=data, actor=actor)
    finally:
        realtime.shutdown()  # sends what is queued before the process ends


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
