"""Operations tests reuse Meta's fixtures: a connected Page, signed deliveries, a stand-in Graph."""

from __future__ import annotations

from tests.meta.conftest import graph, meta_app, page  # noqa: F401 - fixtures for tests/ops
from tests.realtime.conftest import live, people  # noqa: F401

SAMPLE_WEBHOOK = "webhook_leadgen.json"
