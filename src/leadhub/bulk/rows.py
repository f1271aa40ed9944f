"""A batch's own rows: what became of each lead, its audit records and timeline entries.

An action (actions.py, undo.py) tells a `Batch` what it did, lead by lead (`skip`, `done`,
`audit`, `timeline`) or, for leads changed alike, as columns (`Change`). `write` stores it all:
on PostgreSQL a `Change` becomes one INSERT … SELECT per table, its JSON built by the database
from arrays (no row passes through Python), the rest goes by COPY; elsewhere, by INSERT.
"""

from __future__ import annotations

import enum
import operator
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Enum,
    Integer,
    Row,
    Table,
    Text,
    case,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from leadhub.audit.models import AuditEvent
from leadhub.auth.models import User
from leadhub.bulk.models import BulkOperation, BulkOperationItem, Outcome
from leadhub.bulk.reasons import Reason
from leadhub.db import array
from leadhub.interactions.models import Interaction, Kind
from leadhub.leads import projections
from leadhub.leads.models import Lead, Status

LEAD = Lead.__table__
ITEMS = BulkOperationItem.__table__
AUDIT = AuditEvent.__table__
INTERACTIONS = Interaction.__table__


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class Change:
    """Leads one action changed alike, as columns: one entry per lead in each list.

    `before` holds what the lead's item keeps for undo; `after` the audited fields' new values
    (a list, or one value for every lead). A lead's audit record names the audited fields
    whose value changed, before and after; `bodies` are its timeline entries' texts, if any.
    Values are JSON-ready: enum values, ISO times.
    """

    action: str
    ids: list[int]
    versions: list[int]
    before: dict[str, list[Any]]
    after: dict[str, Any]
    kind: Kind | None = None
    bodies: list[str | None] | None = None

    def each_after(self, field: str) -> list[Any]:
        value = self.after[field]
        return value if isinstance(value, list) else [value] * len(self.ids)


@dataclass
class Batch:
    """One batch's leads (locked) and what became of each.

    Values handed to `done` and `audit` are JSON-ready already (enum values, ISO times): they
    are written as they are, many thousand at a time.
    """

    operation: BulkOperation
    actor: User
    now: datetime
    leads: list[Row[Any]]
    turns: dict[str, int] = field(default_factory=dict)  # the round robin's, after this batch
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    audits: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    deltas: Counter[projections.CountKey] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        # The same in every row of the batch: read once, not once a lead (ORM attributes).
        self.by = {"actor_id": self.actor.id, "actor_name": self.actor.name}
        self.stamp = {**self.by, "ip": self.operation.ip, "request_id": self.operation.request_id}
        self.operation_id = self.operation.id

    def skip(self, lead_id: int, reason: Reason) -> None:
        self.results[lead_id] = {"outcome": Outcome.SKIPPED, "reason": reason.value}

    def done(self, lead: Row[Any], before: dict[str, Any], version: int | None = None) -> None:
        self.results[lead.id] = {
            "outcome": Outcome.DONE,
            "before": before,
            "version": lead.version + 1 if version is None else version,
        }

    def audit(
        self, lead_id: int, action: str, before: dict[str, Any] | None, after: dict[str, Any]
    ) -> None:
        self.audits.append(
            {
                **self.stamp,
                "action": action,
                "object_type": "lead",
                "object_id": lead_id,
                "before": before,
                "after": {**after, "bulk_operation_id": self.operation_id},
                "at": self.now,
            }
        )

    def timeline(self, lead_id: int, kind: Kind, body: str | None) -> None:
        self.notes.append(
            {
                **self.by,
                "lead_id": lead_id,
                "kind": kind,
                "body": body,
                "occurred_at": self.now,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )

    def changed(self, change: Change) -> None:
        """Leads changed alike; each is done, audited and on the timeline as `change` says."""
        if change.ids:
            self.changes.append(change)

    def moved(self, lead: Row[Any], *, assignee_id: int | None, status: Status, live: bool) -> None:
        """Keep lead_status_count true for a lead whose count key changes."""
        old = projections._key(lead.distributor_id, lead.assignee_id, lead.status, lead.deleted_at)
        new = projections._key(lead.distributor_id, assignee_id, status, None if live else self.now)
        if old != new:
            if old:
                self.deltas[old] -= 1
            if new:
                self.deltas[new] += 1


# -- writing --------------------------------------------------------------------------------------


def write(session: Session, batch: Batch, ids: list[int]) -> None:
    """The batch's own rows: audit, timeline, each lead's result in place of its pending item."""
    set_based = session.get_bind().dialect.name == "postgresql"
    if not set_based:
        for change in batch.changes:
            _one_by_one(batch, change)
        batch.changes = []
    if batch.audits:
        insert_rows(session, AUDIT, batch.audits)
    if batch.notes:
        insert_rows(session, INTERACTIONS, batch.notes)
    for change in batch.changes:
        _write_change(session, batch, change)
    operation_id = batch.operation.id
    session.connection().execute(
        delete(ITEMS).where(
            ITEMS.c.operation_id == operation_id, ITEMS.c.lead_id.between(ids[0], ids[-1])
        )
    )
    changed = {lead_id for change in batch.changes for lead_id in change.ids}
    rows = []
    for lead_id in ids:
        if lead_id in changed:
            continue
        result = batch.results.get(lead_id) or {"outcome": Outcome.FAILED, "reason": None}
        rows.append(
            {
                "operation_id": operation_id,
                "lead_id": lead_id,
                "outcome": result["outcome"],
                "reason": result.get("reason"),
                "version": result.get("version"),
                "before": result.get("before"),
            }
        )
    if rows:
        insert_rows(session, ITEMS, rows)
    for change in batch.changes:
        _write_items(session, batch, change)
    batch.outcomes = Counter(row["outcome"] for row in rows)
    batch.outcomes[Outcome.DONE] += len(changed)


def _one_by_one(batch: Batch, change: Change) -> None:
    """A change as rows made here, one a lead (SQLite: no arrays to build them from)."""
    audited = {name: change.each_after(name) for name in change.after}
    for i, lead_id in enumerate(change.ids):
        before = {name: values[i] for name, values in change.before.items()}
        batch.results[lead_id] = {
            "outcome": Outcome.DONE,
            "before": before,
            "version": change.versions[i],
        }
        keys = [name for name, values in audited.items() if before[name] != values[i]]
        batch.audit(
            lead_id,
            change.action,
            {k: before[k] for k in keys},
            {k: audited[k][i] for k in keys},
        )
        if change.kind is not None and change.bodies is not None:
            batch.timeline(lead_id, change.kind, change.bodies[i])


def _columns(
    change: Change, extra: dict[str, list[Any]] | None = None, *, after: bool = True
) -> Any:
    """The change's columns as a table (unnest of arrays): lead_id, b_<field>, a_<field>
    (unless not `after`), then `extra`'s."""
    arrays: dict[str, Any] = {}
    for name, values in change.before.items():
        arrays[f"b_{name}"] = array(values, _sql_type(change, name))
    for name, value in change.after.items():
        if after and isinstance(value, list):
            arrays[f"a_{name}"] = array(value, _sql_type(change, name))
    for name, values in (extra or {}).items():
        arrays[name] = array(values, _type_of(values))
    return lead_table(change.ids, arrays)


def lead_table(ids: list[int], arrays: dict[str, Any]) -> Any:
    """Arrays (db.array) side by side as a table, the first column `lead_id` from `ids`: one
    statement joined to it does on PostgreSQL what a statement per lead would."""
    columns = {"lead_id": array(ids, Integer), **arrays}
    return func.unnest(*columns.values()).table_valued(*columns).render_derived(name="change")


def _type_of(values: list[Any]) -> Any:
    return Integer if all(isinstance(v, int) for v in values if v is not None) else Text


def _sql_type(change: Change, name: str) -> Any:
    """One SQL type for a field's values before and after, so that the two compare."""
    after = change.after.get(name)
    return _type_of(
        [*change.before.get(name, []), *(after if isinstance(after, list) else [after])]
    )


def _after(change: Change, table: Any, name: str) -> Any:
    value = change.after[name]
    if isinstance(value, list):
        return table.c[f"a_{name}"]
    return literal(value, _sql_type(change, name))


def _json(**pairs: Any) -> Any:
    return func.jsonb_build_object(*(x for key, value in pairs.items() for x in (key, value)))


def _write_change(session: Session, batch: Batch, change: Change) -> None:
    """The change's audit records and timeline entries, built by the database in one go each."""
    table = _columns(change)
    empty = literal({}, JSONB)
    before, after = empty, empty
    for name in change.after:
        old, new = table.c[f"b_{name}"], _after(change, table, name)
        differs = old.is_distinct_from(new)
        before = before.op("||")(case((differs, _json(**{name: old})), else_=empty))
        after = after.op("||")(case((differs, _json(**{name: new})), else_=empty))
    stamp = batch.stamp
    connection = session.connection()
    connection.execute(
        insert(AUDIT).from_select(
            [*stamp, "action", "object_type", "object_id", "before", "after", "at"],
            select(
                *(literal(value, AUDIT.c[key].type) for key, value in stamp.items()),
                literal(change.action),
                literal("lead"),
                table.c.lead_id,
                before,
                after.op("||")(_json(bulk_operation_id=literal(batch.operation_id))),
                literal(batch.now, AUDIT.c.at.type),
            ),
        )
    )
    if change.kind is None or change.bodies is None:
        return
    notes = lead_table(change.ids, {"body": array(change.bodies, Text)})
    at = literal(batch.now, INTERACTIONS.c.occurred_at.type)
    connection.execute(
        insert(INTERACTIONS).from_select(
            [*batch.by, "lead_id", "kind", "body", "occurred_at", "created_at", "updated_at"],
            select(
                *(literal(value, INTERACTIONS.c[key].type) for key, value in batch.by.items()),
                notes.c.lead_id,
                literal(change.kind, INTERACTIONS.c.kind.type),
                notes.c.body,
                at,
                at,
                at,
            ),
        )
    )


def _write_items(session: Session, batch: Batch, change: Change) -> None:
    """The changed leads' items: done, with the version left and the values replaced."""
    table = _columns(change, {"version": change.versions}, after=False)
    kept = _json(**{name: table.c[f"b_{name}"] for name in change.before})
    session.connection().execute(
        insert(ITEMS).from_select(
            ["operation_id", "lead_id", "outcome", "version", "before"],
            select(
                literal(batch.operation_id),
                table.c.lead_id,
                literal(Outcome.DONE, ITEMS.c.outcome.type),
                table.c.version,
                kept,
            ),
        )
    )


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Add many rows at once: PostgreSQL's COPY (about twice an INSERT's speed), else INSERT.

    Rows are plain values: JSON-ready dicts for JSON columns, enums, aware UTC times.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    values_of = operator.itemgetter(*columns)
    # What each column's values need, decided once per column rather than once per value.
    adapted = [
        (i, adapt)
        for i, adapt in enumerate(_copy_adapter(table.c[c], connection.dialect) for c in columns)
        if adapt is not None
    ]
    names = ", ".join(f'"{c}"' for c in columns)
    driver = connection.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            values = list(values_of(row)) if len(columns) > 1 else [values_of(row)]
            for i, adapt in adapted:
                if values[i] is not None:
                    values[i] = adapt(values[i])
            copy.write_row(values)


def _copy_adapter(column: Any, dialect: Any) -> Any:
    """How COPY takes a column's values: JSON wrapped as such, enums as their values."""
    from psycopg.types.json import Jsonb

    if isinstance(column.type.dialect_impl(dialect), JSONB):
        return Jsonb
    if isinstance(column.type, Enum):
        return _enum_value
    return None


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value
