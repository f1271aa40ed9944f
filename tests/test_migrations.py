"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import leadhub.models  # noqa: F401 - every table in the metadata
from leadhub.db import Base
from leadhub.extensions import db


def test_migrated_schema_matches_the_models(app: Any) -> None:
    context = MigrationContext.configure(
        db.session.connection(), opts={"compare_type": True, "compare_server_default": False}
    )
    differences = compare_metadata(context, Base.metadata)
    assert differences == []
