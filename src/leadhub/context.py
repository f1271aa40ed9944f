"""Who is acting and from where, set at the edge (request, job, CLI) and read by the audit log."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    request_id: str | None = None


NO_REQUEST = RequestContext()
current: ContextVar[RequestContext] = ContextVar("leadhub_request", default=NO_REQUEST)  # noqa: B039 - frozen
