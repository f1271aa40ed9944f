"""Re-encrypt every secret at rest with the first key of LEADHUB_ENCRYPTION_KEY.

Every column named `*_encrypted` of every table is rotated, in batches by primary key, one
commit per batch, so a long rotation can be stopped and run again (rotating twice is harmless).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Column, Table, select, update
from sqlalchemy.orm import Session

from leadhub import crypto
from leadhub.db import Base

BATCH = 500
SUFFIX = "_encrypted"


@dataclass
class Rotated:
    table: str
    column: str
    values: int


def encrypted_columns() -> Iterator[tuple[Table, Column, Column]]:
    """(table, its primary key column, an encrypted column) for every encrypted column."""
    for table in Base.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1:
            continue
        for column in table.columns:
            if column.name.endswith(SUFFIX):
                yield table, keys[0], column


def rotate_all(
    session: Session, *, progress: Callable[[Rotated], None] | None = None
) -> list[Rotated]:
    """Rotate every encrypted value; the caller's session commits after each batch."""
    report = []
    for table, key, column in encrypted_columns():
        done = Rotated(table.name, column.name, 0)
        last = None
        while True:
            stmt = select(key, column).where(column.is_not(None)).order_by(key).limit(BATCH)
            if last is not None:
                stmt = stmt.where(key > last)
            rows = session.execute(stmt).all()
            if not rows:
                break
            for row_id, value in rows:
                session.execute(
                    update(table).where(key == row_id).values({column.name: crypto.rotate(value)})
                )
            session.commit()
            done.values += len(rows)
            last = rows[-1][0]
        report.append(done)
        if progress:
            progress(done)
    return report
