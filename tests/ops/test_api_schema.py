"""schemathesis against /api/v1/openapi.json, in process, with an admin's API key: no server
error anywhere, and every documented response matches its schema.

Few examples per operation (derandomized, so CI runs the same cases every time); the deep
property tests of each domain live with the domain. schemathesis's own pytest plugin does not
run under pytest 9 (it reads a private attribute pytest removed), so the operations are walked
here, each with a Hypothesis test of its own.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES = 12
CHECKS = [not_a_server_error, response_schema_conformance]


def run_operation(operation: Any, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    exercise()


def test_the_api_keeps_its_documented_promises(app, api_as, lead_factory, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per hour")
    monkeypatch.setitem(app.config, "META_APP_SECRET", "schemathesis-app-secret")
    for _ in range(3):
        lead_factory()
    headers = api_as("admin")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            run_operation(operation, headers)
        except Exception as exc:  # noqa: BLE001 - every operation's failure, in one report
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 10
    assert not failures, "\n\n".join(failures)
